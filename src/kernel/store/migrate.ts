import type { Store } from './store.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Applies the versioned migrations it is given, in version order, each once, in one transaction, recorded in
 * `schema_migrations`; an advisory lock keeps two instances from migrating at once. Each area owns its
 * migrations and a number range, so parallel work never collides; the CLI composes the list.
 */
export async function migrate(
  store: Store,
  migrations: readonly Migration[],
): Promise<{ applied: string[] }> {
  const ordered = checkMigrations(migrations);
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
    for (const m of ordered) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(`${String(m.version).padStart(3, '0')}-${m.name}`);
    }
  });
  return { applied };
}

/** The migrations in version order; throws when two share a version or a name is not kebab-case. */
function checkMigrations(migrations: readonly Migration[]): Migration[] {
  const seen = new Set<number>();
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version < 1 || m.version > 999)
      throw new RangeError(`migration ${m.name}: version must be an integer from 1 to 999`);
    if (!/^[a-z0-9-]+$/.test(m.name)) throw new RangeError(`migration ${m.version}: name must be kebab-case`);
    if (seen.has(m.version)) throw new RangeError(`two migrations share version ${m.version}`);
    seen.add(m.version);
  }
  return [...migrations].sort((a, b) => a.version - b.version);
}
