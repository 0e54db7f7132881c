export { TEST_PAYMENT_METHODS, type TestPaymentMethod } from './cards.js';
export type { Charge, Invoice, Price, Refund, SandboxEvent, Subscription } from './model.js';
export {
  createPaymentsSandbox,
  DEFAULT_SANDBOX_API_KEY,
  type PaymentsSandbox,
  type PaymentsSandboxOptions,
  SEED_PRICES,
} from './server.js';
export type { WebhookKnobs } from './webhooks.js';
