/** What the integration returns: our ledger's view, with the provider's ids. Amounts in minor units. */
export const PAYMENT_STATUSES = ['processing', 'pending', 'succeeded', 'failed', 'unknown'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export type RefundStatus = PaymentStatus;
export const SUBSCRIPTION_STATUSES = [
  'processing',
  'unknown',
  'incomplete',
  'incomplete_expired',
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'canceled',
] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export interface Payment {
  id: string;
  status: PaymentStatus;
  amount: number;
  currency: string;
  customerId: string;
  paymentMethod: string;
  description: string | null;
  metadata: Record<string, string>;
  receiptEmail: string | null;
  amountRefunded: number;
  providerChargeId: string | null;
  failure: { code: string | null; declineCode: string | null; message: string | null } | null;
  createdAt: string;
  updatedAt: string;
}

export interface Refund {
  id: string;
  paymentId: string;
  status: RefundStatus;
  amount: number | null;
  currency: string;
  reason: string | null;
  providerRefundId: string | null;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Subscription {
  id: string;
  status: SubscriptionStatus;
  customerId: string;
  priceId: string;
  paymentMethod: string;
  trialPeriodDays: number | null;
  metadata: Record<string, string>;
  providerSubscriptionId: string | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  trialEnd: string | null;
  cancelAtPeriodEnd: boolean;
  canceledAt: string | null;
  latestInvoiceId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Page<T> {
  data: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** Provider (processor) objects as the integration reads them. */
export interface ProviderCharge {
  id: string;
  amount: number;
  currency: string;
  status: 'pending' | 'succeeded' | 'failed';
  amount_refunded: number;
  failure_code: string | null;
  failure_message: string | null;
  outcome?: { decline_code: string | null } | null;
  metadata: Record<string, string>;
}

export interface ProviderRefund {
  id: string;
  charge: string;
  amount: number;
  currency: string;
  status: 'pending' | 'succeeded' | 'failed';
  failure_reason: string | null;
  metadata: Record<string, string>;
}

export interface ProviderSubscription {
  id: string;
  status: string;
  current_period_start: number;
  current_period_end: number;
  trial_end: number | null;
  cancel_at_period_end: boolean;
  canceled_at: number | null;
  latest_invoice: string | null;
  metadata: Record<string, string>;
}

export interface ProviderList<T> {
  data: T[];
  has_more: boolean;
}
