import { z } from 'zod';
import { firstIssue } from '../../kernel/errors/index.js';
import { prefixedUlid, safeText } from '../../kernel/schemas/index.js';
import { paymentErrors } from './errors.js';

/** ISO 4217 codes this runtime knows (Intl), e.g. USD, EUR, JPY. */
const CURRENCIES = new Set<string>(Intl.supportedValuesOf('currency'));

/** Money is integer minor units (cents) with an ISO 4217 currency; never floats. */
export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, { error: 'expected an upper-case ISO 4217 code such as USD' })
  .refine((c) => CURRENCIES.has(c), { error: 'unknown ISO 4217 currency' });

export const amountSchema = z
  .number({ error: 'expected an integer amount in minor units (e.g. 1250 for 12.50)' })
  .int({ error: 'expected an integer amount in minor units (e.g. 1250 for 12.50)' })
  .min(50, { error: 'expected at least 50 minor units' })
  .max(99_999_999, { error: 'expected at most 99999999 minor units' });

/** Opaque, PHI-free metadata (no diagnoses or drug names: processors and their dashboards see it). */
export const metadataSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, { error: 'metadata keys: 1–40 letters, digits, _ . -' }),
    safeText({ max: 500, multiline: true }),
  )
  .refine((m) => Object.keys(m).length <= 20, { error: 'at most 20 metadata keys' })
  .refine((m) => !Object.keys(m).some((k) => k.startsWith('carebridge_')), {
    error: 'metadata keys starting with carebridge_ are reserved',
  });

export const paymentMethodSchema = z
  .string()
  .regex(/^pm_[A-Za-z0-9_]{1,100}$/, { error: 'expected a processor payment-method token (pm_…)' });

/** Our ids, exactly `<prefix>_<ULID>` (ledger.ts makes them): checked before any lookup. */
export const paymentIdSchema = prefixedUlid('pay', 'a payment');
export const refundIdSchema = prefixedUlid('re', 'a refund');
export const subscriptionIdSchema = prefixedUlid('sub', 'a subscription');
/** The caller's own customer reference: opaque, one line, bounded. */
export const customerIdSchema = safeText({ min: 1, max: 255 });

export const paymentRequestSchema = z.strictObject({
  amount: amountSchema,
  currency: currencySchema,
  customerId: customerIdSchema,
  paymentMethod: paymentMethodSchema,
  description: safeText({ max: 1000, multiline: true }).optional(),
  metadata: metadataSchema.optional(),
  receiptEmail: z.email().max(254).optional(),
});
export type PaymentRequest = z.infer<typeof paymentRequestSchema>;

export const refundRequestSchema = z.strictObject({
  paymentId: paymentIdSchema,
  /** Omitted: refund what remains. */
  amount: z.number().int().min(1).max(99_999_999).optional(),
  reason: z.enum(['duplicate', 'fraudulent', 'requested_by_customer']).optional(),
});
export type RefundRequest = z.infer<typeof refundRequestSchema>;

export const subscriptionRequestSchema = z.strictObject({
  customerId: customerIdSchema,
  priceId: z
    .string()
    .regex(/^price_[A-Za-z0-9_]{1,100}$/, { error: 'expected a processor price id (price_…)' }),
  paymentMethod: paymentMethodSchema,
  trialPeriodDays: z.number().int().min(0).max(730).optional(),
  metadata: metadataSchema.optional(),
});
export type SubscriptionRequest = z.infer<typeof subscriptionRequestSchema>;

/** The business-operation key every write carries (e.g. `order-1234`); the provider key derives from it. */
export const operationKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, { error: 'expected 1–255 printable ASCII characters' });

/** Parses or throws PAYMENTS_INVALID_REQUEST naming the first offending field (before any network call). */
export function validate<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const { field, summary } = firstIssue(r.error, 'body');
  throw paymentErrors.invalidRequest(summary, { details: { field } });
}
