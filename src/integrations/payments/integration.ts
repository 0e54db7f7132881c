import { createHash } from 'node:crypto';
import type { CareBridgeError } from '../../kernel/errors/index.js';
import { HttpClient } from '../../kernel/http/index.js';
import { CircuitBreaker } from '../../kernel/resilience/index.js';
import { hashRequest } from '../../kernel/store/index.js';
import { V1RequestSigner } from '../../protocols/signing/index.js';
import { paymentErrors, toCareBridgeError } from './errors.js';
import { PaymentLedger } from './ledger.js';
import { type PaymentIntegrationOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { finalize, PaymentFlow } from './payment-flow.js';
import { Processor } from './processor.js';
import { RefundFlow } from './refund-flow.js';
import {
  operationKeySchema,
  type PaymentRequest,
  paymentRequestSchema,
  type RefundRequest,
  type SubscriptionRequest,
  validate,
} from './schemas.js';
import { SubscriptionFlow } from './subscription-flow.js';
import type { Page, Payment, ProviderCharge, Refund, Subscription } from './types.js';

export interface WriteOptions {
  /** The business operation this write is (e.g. `order-1234`); the same key never charges twice. */
  idempotencyKey: string;
  /** Who asked (principal subject), kept in the ledger. */
  actor?: string;
}

/** Provider idempotency key derived from the business operation (stable across retries and restarts). */
export function providerKey(kind: string, operationKey: string): string {
  return `cb_${kind}_${createHash('sha256').update(operationKey).digest('hex').slice(0, 40)}`;
}

/**
 * Charges, refunds and subscriptions with the payment processor: REST/JSON, API key + "v1" HMAC request
 * signing, Stripe idempotency. Every write is validated, recorded in the local ledger with its provider
 * idempotency key BEFORE the call, retried with the same key (re-signed each attempt), and — when the
 * outcome is unknown (timeout, reset, 5xx) — reconciled by looking the object up before anything is resent.
 */
export class PaymentIntegration {
  readonly ledger: PaymentLedger;
  readonly processor: Processor;
  readonly subscriptions: SubscriptionFlow;
  private readonly refunds: RefundFlow;
  private readonly payments: PaymentFlow;
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
    this.processor = new Processor({
      http: this.http,
      metrics: o.metrics,
      logger: o.logger,
      health: o.health,
      target: o.baseUrl,
      breaker,
      budget: o.retryBudget,
      maxAttempts: o.maxAttempts,
      attemptTimeoutMs: o.attemptTimeoutMs,
      totalTimeoutMs: o.totalTimeoutMs,
    });
    this.ledger = new PaymentLedger(o.store, o.now);
    this.payments = new PaymentFlow(this.processor, this.ledger, o.reconcileRounds);
    this.refunds = new RefundFlow(this.processor, this.ledger, o.reconcileRounds, (id) =>
      this.reconcilePayment(id),
    );
    this.subscriptions = new SubscriptionFlow(this.processor, o.store, o.now, o.reconcileRounds);
  }

  get webhookSecrets(): string[] {
    return this.opts.webhookSecrets;
  }
  get webhookToleranceSeconds(): number {
    return this.opts.webhookToleranceSeconds;
  }
  /**
   * Charges a customer. Resolves with the payment (`succeeded`, or `pending` under fraud review); throws
   * PAYMENTS_CARD_DECLINED / PAYMENTS_PROCESSING_ERROR (details.paymentId, declineCode), PAYMENTS_OUTCOME_UNKNOWN
   * when neither the answer nor reconciliation told what happened (retry with the same key to reconcile again).
   */
  async processPayment(request: PaymentRequest, opts: WriteOptions): Promise<Payment> {
    const req = validate(paymentRequestSchema, request);
    const operationKey = validate(operationKeySchema, opts.idempotencyKey);
    const requestHash = hashRequest(req);
    const begun = await this.ledger.beginPayment({
      providerIdempotencyKey: providerKey('pay', operationKey),
      requestHash,
      customerId: req.customerId,
      amount: req.amount,
      currency: req.currency,
      paymentMethod: req.paymentMethod,
      description: req.description,
      metadata: req.metadata,
      receiptEmail: req.receiptEmail,
      createdBy: opts.actor,
    });
    if (begun.requestHash !== requestHash) {
      throw paymentErrors.idempotencyConflict(
        'This idempotency key was already used for a different payment.',
        {
          integration: 'payments',
          details: { paymentId: begun.payment.id },
        },
      );
    }
    const p = begun.payment;
    if (p.status === 'processing' || p.status === 'unknown')
      return this.payments.drive(p.id, providerKey('pay', operationKey), !begun.created);
    return finalize(p);
  }

  async getPayment(id: string, opts: { reconcile?: boolean } = {}): Promise<Payment> {
    const p = await this.ledger.getPayment(id);
    if (!p) throw paymentErrors.notFound(`No payment ${id}.`, { integration: 'payments' });
    if ((p.status === 'processing' || p.status === 'unknown') && opts.reconcile !== false) {
      return this.reconcilePayment(id).catch(() => p);
    }
    return p;
  }

  listPayments(q: { limit?: number; cursor?: string; customerId?: string } = {}): Promise<Page<Payment>> {
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
    if (p.status !== 'processing' && p.status !== 'unknown') return p;
    const key = (await this.ledger.paymentKey(id))!;
    return this.payments.drive(id, key, true).catch((err: CareBridgeError) => {
      if (err.code === 'PAYMENTS_CARD_DECLINED' || err.code === 'PAYMENTS_PROCESSING_ERROR')
        return this.ledger.getPayment(id) as Promise<Payment>;
      throw err;
    });
  }

  issueRefund(request: RefundRequest, opts: WriteOptions): Promise<Refund> {
    return this.refunds.issue(request, opts);
  }

  listRefunds(paymentId: string): Promise<Refund[]> {
    return this.ledger.listRefunds(paymentId);
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

  /** Re-fetches a charge (used by webhook processing and reconciliation). */
  lookupCharge(paymentId: string): Promise<ProviderCharge | undefined> {
    return this.payments.lookup(paymentId);
  }

  /**
   * For the readiness refresh: the processor's signed health endpoint answers, so it is reachable and accepts
   * our credentials. Never a business endpoint (an earlier version listed charges on every probe).
   */
  async ping(): Promise<void> {
    const r = await this.processor.call('health', { method: 'GET', path: '/api/v1/health' });
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
