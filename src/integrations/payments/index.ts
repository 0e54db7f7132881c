export { paymentErrors, toCareBridgeError } from './errors.js';
export { PaymentIntegration, providerKey, type WriteOptions } from './integration.js';
export { paymentsMigrations } from './migrations.js';
export type { PaymentIntegrationOptions } from './options.js';
export {
  amountSchema,
  currencySchema,
  customerIdSchema,
  metadataSchema,
  type PaymentRequest,
  paymentIdSchema,
  paymentRequestSchema,
  type RefundRequest,
  refundIdSchema,
  refundRequestSchema,
  type SubscriptionRequest,
  subscriptionIdSchema,
  subscriptionRequestSchema,
} from './schemas.js';
export { paymentsFlags, paymentsSettings } from './settings.js';
export type {
  Page,
  Payment,
  PaymentStatus,
  Refund,
  RefundStatus,
  Subscription,
  SubscriptionStatus,
} from './types.js';
export { PAYMENT_STATUSES, SUBSCRIPTION_STATUSES } from './types.js';
export {
  type PaymentEventTarget,
  PaymentWebhookInbox,
  PaymentWebhookProcessor,
  verifyPaymentWebhook,
  WEBHOOK_PROVIDER,
} from './webhooks.js';
