import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteStatements } from './pglite-statements.js';

let db: PGlite;
beforeAll(async () => {
  db = await PGlite.create();
  await db.exec('CREATE TABLE t (id int PRIMARY KEY, body jsonb, at timestamptz)');
});
afterAll(() => db.close());

describe('prepared statements on PGlite', () => {
  it('keeps at most `max` statements, closing the oldest, and still runs one it closed', async () => {
    const statements = new PgliteStatements(db, 3);
    for (let i = 0; i < 10; i++) {
      const { rows } = await statements.run<{ n: number }>(`SELECT $1::int + ${i} AS n`, [1]);
      expect(rows).toEqual([{ n: 1 + i }]);
    }
    expect(statements.size).toBe(3);
    expect((await statements.run<{ n: number }>('SELECT $1::int + 0 AS n', [5])).rows).toEqual([{ n: 5 }]);
    const { rows } = await statements.run<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'cb\\_%'",
      [],
    );
    expect(rows[0]?.n).toBeLessThanOrEqual(3);
  });

  it('serializes parameters by their column types, as PGlite.query does', async () => {
    const statements = new PgliteStatements(db);
    const at = new Date('2026-11-27T10:00:00.123Z');
    const insert = await statements.run('INSERT INTO t (id, body, at) VALUES ($1, $2, $3)', [
      1,
      { a: [1, 'x'] },
      at,
    ]);
    expect(insert.rowCount).toBe(1);
    const { rows } = await statements.run('SELECT * FROM t WHERE id = $1', [1]);
    expect(rows).toEqual([{ id: 1, body: { a: [1, 'x'] }, at }]);
    expect(rows).toEqual((await db.query('SELECT * FROM t WHERE id = $1', [1])).rows);
  });

  it('answers a failing statement with the database error and goes on', async () => {
    const statements = new PgliteStatements(db);
    await expect(statements.run('SELECT * FROM missing_table', [])).rejects.toMatchObject({ code: '42P01' });
    await expect(statements.run('SELECT 1 / $1::int AS x', [0])).rejects.toMatchObject({ code: '22012' });
    expect((await statements.run('SELECT 1 / $1::int AS x', [1])).rows).toEqual([{ x: 1 }]);
  });
});
