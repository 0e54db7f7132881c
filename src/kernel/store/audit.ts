import type { Queryable } from './store.js';

/** One sensitive action: who did what to which resource, and how it ended. */
export interface AuditEntry {
  /** `request.principal.subject` (a user or service-account id), or `anonymous`. Never a name or email. */
  actor: string;
  /** Dotted verb, e.g. `refunds.create`, `claims.submit`, `roles.assign`, `auth.token`. */
  action: string;
  /** What it was done to, e.g. `payment:pay_01H…`, `user:usr_…`. */
  resource: string;
  outcome: 'success' | 'failure' | 'denied';
  requestId?: string | undefined;
  /** Safe extras: ids, amounts, reasons. No PHI, no secrets, no upstream bodies. */
  details?: Record<string, unknown>;
}

const MAX_FIELD = 200;

/**
 * Appends a row to `audit_log` (migration 001). Pass the business write's transaction as `q` so the
 * audit row commits, or rolls back, with the action it records.
 */
export async function audit(q: Queryable, entry: AuditEntry): Promise<void> {
  for (const f of ['actor', 'action', 'resource'] as const) {
    if (!entry[f] || entry[f].length > MAX_FIELD)
      throw new RangeError(`audit: ${f} must be 1-${MAX_FIELD} characters`);
  }
  await q.query(
    'INSERT INTO audit_log (actor, action, resource, outcome, request_id, details) VALUES ($1, $2, $3, $4, $5, $6::jsonb)',
    [
      entry.actor,
      entry.action,
      entry.resource,
      entry.outcome,
      entry.requestId ?? null,
      JSON.stringify(entry.details ?? {}),
    ],
  );
}

export interface AuditRow extends Required<Omit<AuditEntry, 'requestId'>> {
  id: number;
  at: Date;
  requestId: string | null;
}

/** The newest audit rows, optionally for one actor or action (operators and tests). */
export async function readAudit(
  q: Queryable,
  filter: { actor?: string; action?: string; limit?: number } = {},
): Promise<AuditRow[]> {
  const { rows } = await q.query<{
    id: string | number;
    at: Date | string;
    actor: string;
    action: string;
    resource: string;
    outcome: AuditEntry['outcome'];
    request_id: string | null;
    details: unknown;
  }>(
    `SELECT * FROM audit_log WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR action = $2)
     ORDER BY id DESC LIMIT $3`,
    [filter.actor ?? null, filter.action ?? null, filter.limit ?? 100],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(r.at),
    actor: r.actor,
    action: r.action,
    resource: r.resource,
    outcome: r.outcome,
    requestId: r.request_id,
    details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
  }));
}
