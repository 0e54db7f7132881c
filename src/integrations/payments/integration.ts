import { HttpClient } from '../../kernel/http/index.js';
import { CircuitBreaker } from '../../kernel/resilience/index.js';
import { V1RequestSigner } from '../../protocols/signing/index.js';
import { paymentErrors, toCareBridgeError } from './errors.js';
import { PaymentLedger } from './ledger.js';
import { type PaymentIntegrationOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { PaymentFlow } from './payment-flow.js';
import { ProcessorClient } from './processor.js';
import { isOpen, type WriteOptions } from './reconciled-write.js';
import { RefundFlow } from './refund-flow.js';
import {
  type PaymentRequest,
  paymentIdSchema,
  type RefundRequest,
  type SubscriptionRequest,
} from './schemas.js';
import { SubscriptionFlow } from './subscription-flow.js';
import type { Page, Payment, ProviderCharge, ProviderRefund, Refund, Subscription } from './types.js';

export { providerKey, type WriteOptions } from './reconciled-write.js';

/**
 * Charges, refunds and subscriptions with the payment processor: REST/JSON, API key + "v1" HMAC request
 * signing, Stripe idempotency. Every write is validated, recorded in the local ledger with its provider
 * idempotency key BEFORE the call, retried with the same key (re-signed each attempt), and — when the
 * outcome is unknown (timeout, reset, 5xx) — reconciled by looking the object up before anything is resent.
 */
export class PaymentIntegration {
  private readonly ledger: PaymentLedger;
  private readonly client: ProcessorClient;
  private readonly payments: PaymentFlow;
  private readonly refunds: RefundFlow;
  private readonly subscriptions: SubscriptionFlow;
  private readonly opts: ResolvedOptions;
  private readonly http: HttpClient;
  private readonly ownsHttp: boolean;

  constructor(options: PaymentIntegrationOptions) {
    this.opts = resolveOptions(options);
    const o = this.opts;
    this.ownsHttp = !o.httpClient;
    this.http =
      o.httpClient ??
      new HttpClient({
        baseUrl: o.baseUrl,
        integration: 'payments',
        connections: o.connections,
        signer: new V1RequestSigner({ apiKey: o.apiKey, secrets: o.apiSecrets }),
        metrics: o.metrics,
        logger: o.logger,
        userAgent: 'CareBridge-Payments/1',
      });
    const breaker =
      o.breaker === false
        ? false
        : new CircuitBreaker({
            integration: 'payments',
            operation: 'account',
            breaker: o.breaker,
            metrics: o.metrics,
            logger: o.logger,
            health: o.health,
            target: o.baseUrl,
          });
    this.client = new ProcessorClient({
      http: this.http,
      metrics: o.metrics,
      logger: o.logger,
      health: o.health,
      target: o.baseUrl,
      breaker,
      budget: o.retryBudget,
      rateLimiter: o.rateLimiter,
      maxAttempts: o.maxAttempts,
      attemptTimeoutMs: o.attemptTimeoutMs,
      totalTimeoutMs: o.totalTimeoutMs,
    });
    this.ledger = new PaymentLedger(o.store, o.now);
    this.payments = new PaymentFlow(this.client, this.ledger, o.reconcileRounds);
    this.refunds = new RefundFlow(this.client, this.ledger, this.payments, o.reconcileRounds);
    this.subscriptions = new SubscriptionFlow(this.client, o.store, o.now, o.reconcileRounds);
  }

  get webhookSecrets(): string[] {
    return this.opts.webhookSecrets;
  }
  get webhookToleranceSeconds(): number {
    return this.opts.webhookToleranceSeconds;
  }
  /**
   * Charges a customer. Resolves with the payment (`succeeded`, or `pending` under fraud review); throws
   * PAYMENTS_CARD_DECLINED / PAYMENTS_PROCESSING_ERROR (details.paymentId, declineCode), PAYMENTS_PROVIDER_UNAVAILABLE
   * or PAYMENTS_RATE_LIMITED when the processor turned it away and holds no charge, PAYMENTS_OUTCOME_UNKNOWN when
   * neither the answer nor reconciliation told what happened (retry with the same key to reconcile again).
   */
  processPayment(request: PaymentRequest, opts: WriteOptions): Promise<Payment> {
    return this.payments.create(request, opts);
  }

  async getPayment(id: string, opts: { reconcile?: boolean } = {}): Promise<Payment> {
    const p = await this.ledger.getPayment(id);
    if (!p) throw paymentErrors.notFound(`No payment ${id}.`, { integration: 'payments' });
    if (!isOpen(p.status) || opts.reconcile === false) return p;
    return this.payments.reconcile(p).catch(() => p);
  }

  /** Newest first; `cursor` is the `nextCursor` of the previous page (PAYMENTS_INVALID_CURSOR otherwise). */
  async listPayments(
    q: { limit?: number; cursor?: string; customerId?: string } = {},
  ): Promise<Page<Payment>> {
    if (q.cursor !== undefined && !paymentIdSchema.safeParse(q.cursor).success) {
      throw paymentErrors.invalidCursor(
        'cursor: expected the nextCursor of a previous page (a payment id).',
        {
          integration: 'payments',
          details: { field: 'cursor' },
        },
      );
    }
    return this.ledger.listPayments({
      limit: Math.min(Math.max(q.limit ?? 20, 1), 100),
      cursor: q.cursor,
      customerId: q.customerId,
    });
  }

  /** Looks the payment's charge up at the processor; if there is none, resends with the SAME key. */
  async reconcilePayment(id: string): Promise<Payment> {
    const p = await this.ledger.getPayment(id);
    if (!p) throw paymentErrors.notFound(`No payment ${id}.`, { integration: 'payments' });
    return this.payments.reconcile(p);
  }

  issueRefund(request: RefundRequest, opts: WriteOptions): Promise<Refund> {
    return this.refunds.issue(request, opts);
  }

  listRefunds(paymentId: string): Promise<Refund[]> {
    return this.ledger.listRefunds(paymentId);
  }

  /** One refund of a payment, as the ledger knows it; PAYMENTS_NOT_FOUND when it is not that payment's. */
  async getRefund(paymentId: string, refundId: string): Promise<Refund> {
    const r = await this.ledger.getRefund(refundId);
    if (!r || r.paymentId !== paymentId)
      throw paymentErrors.notFound(`No refund ${refundId} of payment ${paymentId}.`, {
        integration: 'payments',
      });
    return r;
  }

  createSubscription(request: SubscriptionRequest, opts: WriteOptions): Promise<Subscription> {
    return this.subscriptions.create(request, opts);
  }

  getSubscription(id: string, opts: { refresh?: boolean } = {}): Promise<Subscription> {
    return this.subscriptions.get(id, opts);
  }

  cancelSubscription(id: string, opts: { atPeriodEnd?: boolean } = {}): Promise<Subscription> {
    return this.subscriptions.cancel(id, opts);
  }

  /** Re-fetches the charge made for a payment. */
  lookupCharge(paymentId: string): Promise<ProviderCharge | undefined> {
    return this.payments.lookup(paymentId);
  }

  /** A charge the processor reported (webhook); charges that are not one of our payments are ignored. */
  applyReportedCharge(charge: ProviderCharge): Promise<void> {
    return this.payments.applyReported(charge);
  }

  /** A refund the processor reported (webhook); refunds CareBridge did not issue are ignored. */
  applyReportedRefund(refund: ProviderRefund): Promise<void> {
    return this.refunds.applyReported(refund);
  }

  /** A subscription the processor reported changed (webhook): re-read from the processor if it is ours. */
  refreshReportedSubscription(ref: {
    providerSubscriptionId: string;
    subscriptionId?: string | undefined;
  }): Promise<void> {
    return this.subscriptions.refreshReported(ref);
  }

  /**
   * For the readiness refresh: the processor's signed health endpoint answers, so it is reachable and accepts
   * our credentials. Never a business endpoint (an earlier version listed charges on every probe).
   */
  async ping(): Promise<void> {
    const r = await this.client.call('health', { method: 'GET', path: '/api/v1/health' });
    if (!r.ok) throw toCareBridgeError(r.answer);
  }

  /** Reconciles payments left `processing`/`unknown` for a while (a crash, or a lost answer). */
  async reconcileStale(olderThanSeconds = 60): Promise<number> {
    const ids = await this.ledger.unresolvedPayments(olderThanSeconds, 50);
    for (const id of ids) await this.reconcilePayment(id).catch(() => undefined);
    return ids.length;
  }

  async close(): Promise<void> {
    if (this.ownsHttp) await this.http.close();
  }
}
