import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Store } from './store.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const FILE = /^(\d{3})-([a-z0-9-]+)\.(ts|js)$/;

/**
 * Versioned migrations: `migrations/NNN-name.ts` exports `sql`. Areas own number ranges
 * (001–009 kernel, 010 payments, 020 users, 030 notifications, 040 insurance, 050 shipping, 060 analytics)
 * so parallel work never collides. Applied in order, each in its own transaction, recorded in
 * `schema_migrations`; an advisory lock keeps two instances from migrating at once.
 */
export async function listMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => FILE.test(f) && !f.endsWith('.d.ts')).sort();
  const out: Migration[] = [];
  for (const f of files) {
    const m = FILE.exec(f)!;
    const mod = (await import(new URL(`./migrations/${f}`, import.meta.url).href)) as { sql: string };
    out.push({ version: Number(m[1]), name: m[2]!, sql: mod.sql });
  }
  const seen = new Set<number>();
  for (const m of out) {
    if (seen.has(m.version)) throw new Error(`two migrations share version ${m.version}`);
    seen.add(m.version);
  }
  return out;
}

export async function migrate(store: Store): Promise<{ applied: string[] }> {
  const migrations = await listMigrations();
  await store.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const applied: string[] = [];
  await store.transaction(async (tx) => {
    // Serialise concurrent migrators (several gateway instances starting together).
    await tx.query('SELECT pg_advisory_xact_lock(727274)');
    const done = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(`${String(m.version).padStart(3, '0')}-${m.name}`);
    }
  });
  return { applied };
}
