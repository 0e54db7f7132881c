import { errors } from '../errors/index.js';
import { newUlid } from '../ids/index.js';
import type { Queryable } from './store.js';

/**
 * The transactional outbox: a message is written in the same transaction as the business change it
 * announces, and `OutboxRelay` (outbox-relay.ts) publishes it afterwards. Delivery is at-least-once: a
 * crash between publish and mark re-publishes, so `id` doubles as the broker message id consumers dedupe by.
 */
export interface OutboxMessage {
  /** Default: a new ULID; also used as the broker message id for consumer dedupe. */
  id?: string;
  /** `<transport prefix>:<queue or topic>`, e.g. 'rabbitmq:email_notifications', 'kafka:business_metrics'. */
  destination: string;
  /** Ordering key: rows with the same (destination, key) are published in the order they were enqueued. */
  key?: string | null;
  /** JSON payload. */
  payload: unknown;
  headers?: Record<string, string>;
}

export interface OutboxRecord {
  id: string;
  destination: string;
  key: string | null;
  payload: unknown;
  headers: Record<string, string>;
  /** Publish attempts so far, this one included. */
  attempts: number;
  createdAt: Date;
}

export type PublishResult = { id: string; ok: true } | { id: string; ok: false; error: Error };

export interface OutboxTransport {
  /** Publish a batch; resolve once the broker confirmed. Per-record result: ok, or an error (retried later). */
  publish(records: OutboxRecord[]): Promise<PublishResult[]>;
  /**
   * False while the transport knows it cannot publish (its broker connection is down). The relay then leaves
   * that transport's rows alone instead of spending their attempts, so an outage never dead-letters them.
   */
  ready?(): boolean;
}

export interface EnqueueOptions {
  /**
   * The messages may be left out: when no transport of this instance delivers their destination they are not
   * written (counted and logged once, see OutboxDestinations.drop) instead of refused. For reports nobody
   * waits for, such as business metrics before the analytics transport exists.
   */
  optional?: boolean;
}

/**
 * Adds messages to the outbox. Pass the transaction of the business write so both commit or neither does.
 * A destination no registered transport delivers is refused with OUTBOX_DESTINATION_UNKNOWN (the row would
 * never leave), unless `optional`. Returns the ids of the messages written, in the order given.
 */
export async function enqueue(
  tx: Queryable,
  msgs: OutboxMessage | OutboxMessage[],
  opts: EnqueueOptions = {},
): Promise<string[]> {
  let list = Array.isArray(msgs) ? msgs : [msgs];
  for (const m of list) {
    if (!m.destination?.includes(':')) {
      throw new RangeError(`outbox destination "${m.destination}" must be "<transport>:<name>"`);
    }
  }
  const known = tx.outbox;
  const undeliverable = known ? list.filter((m) => !known.accepts(m.destination)) : [];
  if (known && undeliverable.length > 0) {
    const destination = undeliverable[0]?.destination;
    if (!opts.optional) {
      throw errors.outboxDestinationUnknown(
        `No outbox transport delivers "${destination}" in this instance (transports: ${known.list().join(', ') || 'none'}); the message was refused rather than left waiting for good.`,
        { details: { destination } },
      );
    }
    for (const m of undeliverable) known.drop(m.destination);
    list = list.filter((m) => !undeliverable.includes(m));
  }
  if (list.length === 0) return [];
  const ids: string[] = [];
  const values: string[] = [];
  const params: unknown[] = [];
  for (const m of list) {
    if (!m.destination?.includes(':')) {
      throw new RangeError(`outbox destination "${m.destination}" must be "<transport>:<name>"`);
    }
    const id = m.id ?? newUlid();
    ids.push(id);
    const n = params.length;
    values.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}::jsonb, $${n + 5}::jsonb)`);
    params.push(
      id,
      m.destination,
      m.key ?? null,
      JSON.stringify(m.payload ?? null),
      JSON.stringify(m.headers ?? {}),
    );
  }
  // One statement keeps `seq` (the ordering column) in the order given.
  await tx.query(
    `INSERT INTO outbox (id, destination, key, payload, headers) VALUES ${values.join(', ')}`,
    params,
  );
  return ids;
}

/** Counts for metrics and /health/ready. */
export interface OutboxBacklog {
  pending: number;
  dead: number;
  oldestPendingAgeSeconds: number;
}

export async function outboxBacklog(q: Queryable): Promise<OutboxBacklog> {
  const { rows } = await q.query<{
    pending: number | string;
    dead: number | string;
    age: number | string | null;
  }>(
    `SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
            count(*) FILTER (WHERE status = 'dead') AS dead,
            EXTRACT(EPOCH FROM (now() - min(created_at) FILTER (WHERE status = 'pending'))) AS age
       FROM outbox WHERE status IN ('pending', 'dead')`,
  );
  const r = rows[0];
  return {
    pending: Number(r?.pending ?? 0),
    dead: Number(r?.dead ?? 0),
    oldestPendingAgeSeconds: r?.age == null ? 0 : Math.max(0, Number(r.age)),
  };
}

/** Puts dead-lettered rows back in line (after the cause was fixed). Returns how many. */
export async function requeueDead(q: Queryable, ids?: string[]): Promise<number> {
  const r = ids
    ? await q.query(
        `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = now() WHERE status = 'dead' AND id = ANY($1::text[])`,
        [ids],
      )
    : await q.query(
        `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = now() WHERE status = 'dead'`,
      );
  return r.rowCount;
}
