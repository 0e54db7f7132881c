/** A Stripe-shaped error answer: `{ error: { type, code, message, param?, decline_code?, charge? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type:
      | 'invalid_request_error'
      | 'card_error'
      | 'idempotency_error'
      | 'api_error'
      | 'authentication_error'
      | 'rate_limit_error',
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    /** false: execution never began, so the answer is not stored under the idempotency key. */
    readonly storable = true,
  ) {
    super(message);
  }

  toBody() {
    return { error: { type: this.type, code: this.code, message: this.message, ...this.extra } };
  }
}

export const notFound = (kind: string, id: string) =>
  new ApiError(404, 'invalid_request_error', 'resource_missing', `No such ${kind}: '${id}'`, { param: 'id' });
