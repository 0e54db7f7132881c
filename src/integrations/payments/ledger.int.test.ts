import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, storeFactories } from '../../../test/support/stores.js';
import type { Store } from '../../kernel/store/store.js';
import { PaymentLedger } from './ledger.js';
import type { ProviderCharge, ProviderRefund } from './types.js';

afterAll(() => dropTestSchemas());
let refundSeq = 0;

const charge = (status: ProviderCharge['status'], id = 'ch_1'): ProviderCharge => ({
  id,
  amount: 3000,
  currency: 'usd',
  status,
  amount_refunded: 0,
  failure_code: null,
  failure_message: null,
  metadata: {},
});
const refund = (status: ProviderRefund['status'], amount = 1000): ProviderRefund => ({
  id: `pre_${amount}_${refundSeq}`,
  charge: 'ch_1',
  amount,
  currency: 'usd',
  status,
  failure_reason: status === 'failed' ? 'expired_or_canceled_card' : null,
  metadata: {},
});

describe.each(storeFactories)('payments ledger on $name', (factory) => {
  let store: Store;
  beforeAll(async () => {
    store = await factory.open();
  });
  afterAll(() => store.close());

  async function setup() {
    const ledger = new PaymentLedger(store);
    const { payment } = await ledger.beginPayment({
      providerIdempotencyKey: `k_${Math.random()}`,
      requestHash: 'h',
      customerId: 'cus_1',
      amount: 3000,
      currency: 'USD',
      paymentMethod: 'pm_card_visa',
      receiptEmail: 'ledger@example.com',
    });
    const count = async (destination: string) =>
      Number(
        (
          await store.query<{ n: string }>(
            "SELECT count(*) AS n FROM outbox WHERE destination = $1 AND (key = $2 OR payload->>'correlationId' = $2)",
            [destination, payment.id],
          )
        ).rows[0]!.n,
      );
    const ch = (status: ProviderCharge['status']) => charge(status, `ch_${payment.id}`);
    return { ledger, payment, count, ch };
  }

  it('moves forward only: processing → pending → succeeded, never back', async () => {
    const { ledger, payment, ch } = await setup();
    expect((await ledger.applyCharge(payment.id, ch('pending'))).status).toBe('pending');
    expect((await ledger.applyCharge(payment.id, ch('succeeded'))).status).toBe('succeeded');
    expect((await ledger.applyCharge(payment.id, ch('pending'))).status).toBe('succeeded');
    expect((await ledger.applyCharge(payment.id, ch('failed'))).status).toBe('succeeded');
  });

  it('announces a success once, even when the answer and a webhook apply it concurrently', async () => {
    const { ledger, payment, count, ch } = await setup();
    await Promise.all([
      ledger.applyCharge(payment.id, ch('succeeded')),
      ledger.applyCharge(payment.id, ch('succeeded')),
    ]);
    expect(await count('kafka:business_metrics')).toBe(1);
    expect(await count('rabbitmq:email_notifications')).toBe(1);
  });

  it('the same provider key returns the existing payment', async () => {
    const { ledger } = await setup();
    const a = await ledger.beginPayment({
      providerIdempotencyKey: `same_${factory.name}`,
      requestHash: 'h1',
      customerId: 'c',
      amount: 100,
      currency: 'USD',
      paymentMethod: 'pm_card_visa',
    });
    const b = await ledger.beginPayment({
      providerIdempotencyKey: `same_${factory.name}`,
      requestHash: 'h2',
      customerId: 'c',
      amount: 200,
      currency: 'USD',
      paymentMethod: 'pm_card_visa',
    });
    expect(b).toMatchObject({
      created: false,
      requestHash: 'h1',
      payment: { id: a.payment.id, amount: 100 },
    });
  });

  it('refund amounts follow their refunds, including an asynchronous failure', async () => {
    const { ledger, payment, count, ch } = await setup();
    await ledger.applyCharge(payment.id, ch('succeeded'));
    refundSeq++;
    const { refund: r } = await ledger.beginRefund({
      paymentId: payment.id,
      providerIdempotencyKey: `rk_${payment.id}`,
      requestHash: 'h',
      amount: 1000,
      currency: 'USD',
      reason: undefined,
    });
    await ledger.applyRefund(r.id, refund('succeeded'));
    expect((await ledger.getPayment(payment.id))!.amountRefunded).toBe(1000);
    await ledger.applyRefund(r.id, refund('succeeded'));
    expect(await count('kafka:business_metrics')).toBe(2);
    expect((await ledger.applyRefund(r.id, refund('failed'))).status).toBe('failed');
    expect((await ledger.getPayment(payment.id))!.amountRefunded).toBe(0);
  });
});
