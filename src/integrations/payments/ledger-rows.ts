import type { Queryable } from '../../kernel/store/index.js';

/** The payments ledger's tables (migrations.ts). Constants of this folder, never input: they are put into SQL. */
type Table = 'payments' | 'payment_refunds' | 'payment_subscriptions';

/** The columns a ledger row is found by: our id, the provider idempotency key, or the provider's object id. */
type Column =
  | 'id'
  | 'provider_idempotency_key'
  | 'provider_charge_id'
  | 'provider_refund_id'
  | 'provider_subscription_id';

/** The one row of `table` whose unique `column` holds `value`, or undefined. */
export async function rowWhere<R>(
  q: Queryable,
  table: Table,
  column: Column,
  value: string,
): Promise<R | undefined> {
  const { rows } = await q.query<R>(`SELECT * FROM ${table} WHERE ${column} = $1`, [value]);
  return rows[0];
}
