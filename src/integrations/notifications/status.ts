import type { Queryable, Store } from '../../kernel/store/index.js';
import type { NotificationStatusWord, StatusReport } from './schemas.js';

/**
 * The lifecycle as one transition function:
 *   accepted → queued (broker confirmed) → sent (handed to the provider) → delivered
 *                                                   ↘ failed | bounced | dead_lettered
 * Reports can arrive out of order or twice; a status never moves backwards, terminal statuses stay, except
 * that a delivered email may still bounce (bounces arrive after the SMTP 250). `retrying` changes no status
 * (it records the attempt and the provider's reason).
 */
const RANK: Record<NotificationStatusWord, number> = {
  accepted: 0,
  queued: 1,
  sent: 2,
  delivered: 3,
  failed: 3,
  dead_lettered: 3,
  bounced: 4,
};
const TERMINAL = new Set<NotificationStatusWord>(['delivered', 'failed', 'dead_lettered', 'bounced']);

export function nextStatus(
  current: NotificationStatusWord,
  reported: StatusReport['status'],
): NotificationStatusWord {
  if (reported === 'retrying') return current === 'accepted' ? 'queued' : current;
  if (TERMINAL.has(current)) return current === 'delivered' && reported === 'bounced' ? 'bounced' : current;
  return RANK[reported] > RANK[current] ? reported : current;
}

export type ApplyOutcome = 'applied' | 'duplicate' | 'unknown_notification';

/**
 * Applies one delivery report in one transaction: records the event (deduplicated by `eventId`, the AMQP
 * messageId of the report) and moves the ledger row per `nextStatus`.
 */
export async function applyStatusReport(
  store: Store,
  report: StatusReport,
  eventId: string,
): Promise<ApplyOutcome> {
  return store.transaction(async (tx) => applyInTx(tx, report, eventId));
}

async function applyInTx(tx: Queryable, report: StatusReport, eventId: string): Promise<ApplyOutcome> {
  const { rows } = await tx.query<{ status: NotificationStatusWord }>(
    'SELECT status FROM notifications WHERE id = $1 FOR UPDATE',
    [report.notificationId],
  );
  const row = rows[0];
  if (!row) return 'unknown_notification';
  const ins = await tx.query(
    `INSERT INTO notification_events (event_id, notification_id, status, at, attempt, provider, reason)
     VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING`,
    [
      eventId,
      report.notificationId,
      report.status,
      report.at,
      report.attempt,
      report.provider ?? null,
      report.reason ?? null,
    ],
  );
  if (ins.rowCount === 0) return 'duplicate';
  const next = nextStatus(row.status, report.status);
  // Stamp the reported step even when it arrives after a later one (reports of one notification may be
  // applied out of order); existing stamps win. Leaving `accepted` also stamps `queued` if the confirm-side
  // update lost the race with the first report.
  const stamps: Record<string, string> = {};
  if (report.status !== 'retrying' && (next === report.status || RANK[report.status] < RANK[row.status]))
    stamps[report.status] = report.at;
  if (row.status === 'accepted' && next !== 'accepted') stamps.queued = report.at;
  await tx.query(
    `UPDATE notifications SET
        status = $2,
        attempts = GREATEST(attempts, $3),
        provider = COALESCE($4, provider),
        provider_message_id = COALESCE($5, provider_message_id),
        reason = COALESCE($6, reason),
        timestamps = $7::jsonb || timestamps,
        updated_at = now()
      WHERE id = $1`,
    [
      report.notificationId,
      next,
      report.attempt,
      report.provider ?? null,
      report.providerMessageId ?? null,
      report.reason ?? null,
      JSON.stringify(stamps),
    ],
  );
  return 'applied';
}
