/**
 * Test payment methods and magic amounts: the one table (also in docs/integrations/payments.md).
 * Tokens use Stripe's familiar names; amounts follow Braintree's "magic amount" idea so no card is needed.
 */
export type ChargeOutcome =
  | { kind: 'succeed' }
  | { kind: 'decline'; code: string; declineCode: string; message: string; networkDeclineCode?: string }
  | { kind: 'review' }
  | { kind: 'slow' }
  | { kind: 'unavailable' };

export interface TestPaymentMethod {
  token: string;
  brand: string;
  last4: string;
  outcome: ChargeOutcome;
  /** Refunds of charges made with it are accepted, then fail asynchronously. */
  refundFails?: boolean;
  description: string;
}

const decline = (code: string, declineCode: string, message: string): ChargeOutcome => ({
  kind: 'decline',
  code,
  declineCode,
  message,
});

export const TEST_PAYMENT_METHODS: TestPaymentMethod[] = [
  {
    token: 'pm_card_visa',
    brand: 'visa',
    last4: '4242',
    outcome: { kind: 'succeed' },
    description: 'Succeeds.',
  },
  {
    token: 'pm_card_mastercard',
    brand: 'mastercard',
    last4: '4444',
    outcome: { kind: 'succeed' },
    description: 'Succeeds.',
  },
  {
    token: 'pm_card_chargeDeclined',
    brand: 'visa',
    last4: '0002',
    outcome: decline('card_declined', 'generic_decline', 'Your card was declined.'),
    description: '402 card_declined / generic_decline.',
  },
  {
    token: 'pm_card_insufficientFunds',
    brand: 'visa',
    last4: '9995',
    outcome: decline('card_declined', 'insufficient_funds', 'Your card has insufficient funds.'),
    description: '402 card_declined / insufficient_funds.',
  },
  {
    token: 'pm_card_chargeDeclinedFraudulent',
    brand: 'visa',
    last4: '0019',
    outcome: decline('card_declined', 'fraudulent', 'Your card was declined.'),
    description: '402 card_declined / fraudulent.',
  },
  {
    token: 'pm_card_expired',
    brand: 'visa',
    last4: '0069',
    outcome: decline('expired_card', 'expired_card', 'Your card has expired.'),
    description: '402 expired_card.',
  },
  {
    token: 'pm_card_incorrectCvc',
    brand: 'visa',
    last4: '0127',
    outcome: decline('incorrect_cvc', 'incorrect_cvc', "Your card's security code is incorrect."),
    description: '402 incorrect_cvc.',
  },
  {
    token: 'pm_card_processingError',
    brand: 'visa',
    last4: '0119',
    outcome: decline(
      'processing_error',
      'processing_error',
      'An error occurred while processing your card. Try again.',
    ),
    description: '402 processing_error: the charge failed, a new attempt (new key) may succeed.',
  },
  {
    token: 'pm_card_riskLevelElevated',
    brand: 'visa',
    last4: '9235',
    outcome: { kind: 'review' },
    description:
      'Fraud review: the charge is `pending` (outcome manual_review) and succeeds after 1 h on the sandbox clock.',
  },
  {
    token: 'pm_card_slow',
    brand: 'visa',
    last4: '1629',
    outcome: { kind: 'slow' },
    description: 'Succeeds after `slowResponseMs` (default 2 s) of wall time: client-timeout tests.',
  },
  {
    token: 'pm_card_refundFail',
    brand: 'visa',
    last4: '5126',
    outcome: { kind: 'succeed' },
    refundFails: true,
    description:
      'Succeeds; its refunds are `pending` and fail 60 s later on the sandbox clock (refund.failed).',
  },
  {
    token: 'pm_card_chargeCustomerFail',
    brand: 'visa',
    last4: '0341',
    outcome: decline('card_declined', 'generic_decline', 'Your card was declined.'),
    description:
      'Accepted when a subscription is created with a trial; every charge declines (dunning tests).',
  },
];

const BY_TOKEN = new Map(TEST_PAYMENT_METHODS.map((m) => [m.token, m]));

export function findPaymentMethod(token: string): TestPaymentMethod | undefined {
  return BY_TOKEN.get(token);
}

/** Magic amounts override the card: [200000, 299999] declines, [300000, 300099] is processor unavailable. */
export function outcomeFor(pm: TestPaymentMethod, amount: number): ChargeOutcome {
  if (amount >= 200_000 && amount <= 299_999) {
    const networkDeclineCode = String(Math.floor(amount / 100));
    return {
      kind: 'decline',
      code: 'card_declined',
      declineCode: 'do_not_honor',
      message: 'Your card was declined.',
      networkDeclineCode,
    };
  }
  if (amount >= 300_000 && amount <= 300_099) return { kind: 'unavailable' };
  return pm.outcome;
}
