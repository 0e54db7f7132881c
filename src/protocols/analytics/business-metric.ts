import { enqueue, type Queryable } from '../../kernel/store/index.js';

/**
 * The contract of the analytics service's `business_metrics` topic, owned by analytics: any integration that
 * reports a business event (a payment taken, a refund issued) writes one of these in its own transaction,
 * and the analytics transport (`kafka:`) publishes it from the outbox. Until that transport is registered
 * the metric is not written at all (counted and logged once): a row no transport takes would wait for good
 * and leave /health/ready degraded (issue #13 §2).
 */
export const BUSINESS_METRICS_DESTINATION = 'kafka:business_metrics';

/** The `x-message-type` header of a business metric; a new payload shape gets a new version. */
export const BUSINESS_METRIC_MESSAGE_TYPE = 'business_metric.v1';

export interface BusinessMetric {
  name: string;
  value: number;
  unit: string;
  currency: string;
  occurredAt: string;
  /** Bounded, PHI-free labels (ids of our own objects, the reporting integration). */
  attributes: Record<string, string>;
}

/**
 * Adds a business metric to the outbox inside the caller's transaction; `key` orders one object's metrics.
 * Optional: left out while no transport delivers BUSINESS_METRICS_DESTINATION in this instance.
 */
export async function enqueueBusinessMetric(
  tx: Queryable,
  key: string,
  metric: BusinessMetric,
): Promise<void> {
  await enqueue(
    tx,
    {
      destination: BUSINESS_METRICS_DESTINATION,
      key,
      payload: metric,
      headers: { 'x-message-type': BUSINESS_METRIC_MESSAGE_TYPE },
    },
    { optional: true },
  );
}
