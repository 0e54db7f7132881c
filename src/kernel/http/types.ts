/** The request as a signer sees it, on every attempt (so a retry carries a fresh timestamp/nonce/token). */
export interface SignableRequest {
  method: string;
  url: URL;
  /** Lower-case header names; a signer adds or replaces entries. */
  headers: Record<string, string>;
  body: Buffer | undefined;
  idempotencyKey?: string;
}

export interface RequestSigner {
  /** Mutates `req.headers`; called on EVERY attempt. */
  sign(req: SignableRequest): Promise<void> | void;
  /**
   * Called once when the upstream answered 401 to a request this signer signed: drop the cached credential
   * and answer true if signing again may succeed (HttpClient then re-signs and resends exactly once).
   */
  refreshOnUnauthorized?(req: SignableRequest): Promise<boolean>;
}

export interface HttpResponse<T = unknown> {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON when the answer is JSON, otherwise the text. */
  body: T;
  text: string;
}

/**
 * The request as signers and logs see it. A class rather than an object literal with a getter (slow to
 * create): the URL object is built only if a signer or a debug log reads `url`, since parsing one per
 * request was a measurable share of the client's cost in bench/http.ts.
 */
export class Signable implements SignableRequest {
  private parsed: URL | undefined;
  readonly idempotencyKey: string | undefined;

  constructor(
    readonly method: string,
    readonly origin: string,
    readonly path: string,
    readonly headers: Record<string, string>,
    readonly body: Buffer | undefined,
    idempotencyKey: string | undefined,
  ) {
    this.idempotencyKey = idempotencyKey;
  }

  get url(): URL {
    this.parsed ??= new URL(this.origin + this.path);
    return this.parsed;
  }
}
