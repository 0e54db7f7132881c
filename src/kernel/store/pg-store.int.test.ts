import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../../test/support/stores.js';
import { isCareBridgeError } from '../errors/index.js';
import { createLogger } from '../telemetry/index.js';
import { openStore } from './open.js';
import { PgStore } from './pg-store.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

/** TEST_DATABASE_URL with another user, database or port. */
function variant(change: (u: URL) => void): string {
  const u = new URL(TEST_DATABASE_URL);
  change(u);
  return u.toString();
}

describe('Postgres store: why it cannot be used, in words', () => {
  it('refuses to open with an unknown user, saying so and warning once however often it is pinged', async () => {
    const log = capture();
    const url = variant((u) => {
      u.username = 'cb_nobody';
      u.password = 'not-the-password';
    });
    const store = new PgStore({ connectionString: url, logger: log.logger });
    try {
      const failures = await Promise.all([1, 2, 3].map(() => store.ping().catch((e: unknown) => e)));
      for (const err of failures) {
        expect(isCareBridgeError(err) && err.code).toBe('DEPENDENCY_DOWN');
        expect((err as Error).message).toBe(
          'login refused: role "cb_nobody" does not exist (check DATABASE_URL)',
        );
      }
      await store.ping().catch(() => {});
      const warnings = log.lines.filter((l) => l.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        msg: 'Postgres unavailable: login refused: role "cb_nobody" does not exist (check DATABASE_URL)',
        dependency: 'Postgres',
      });
      expect(JSON.stringify(log.lines)).not.toContain('not-the-password');
    } finally {
      await store.close();
    }
  });

  it('names a database that does not exist', async () => {
    const url = variant((u) => {
      u.pathname = '/cb_no_such_db';
    });
    await expect(openStore({ databaseUrl: url, dataDir: 'memory://' })).rejects.toThrow(
      'database "cb_no_such_db" does not exist (check the database name in DATABASE_URL)',
    );
  });

  it('says nothing listens at the address', async () => {
    const url = variant((u) => {
      u.port = '1';
    });
    await expect(openStore({ databaseUrl: url, dataDir: 'memory://' })).rejects.toThrow(
      `connection refused by ${new URL(url).hostname}:1 (nothing listens there) (check DATABASE_URL)`,
    );
  });
});
