import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * PGlite creates a missing database by running initdb in the calling process, and the memory that takes is never
 * given back: ~450 MB more resident for the life of the process (measured with PGlite 0.5.16: ~210 MB external
 * after opening an existing folder, ~660 MB after opening a new one or `memory://`). So a new database is made in
 * a short-lived child process instead, which exits with that memory; this process only ever opens an existing one.
 */
const CHILD = `
const { PGlite } = require(process.argv[1]);
const { writeFileSync } = require('node:fs');
(async () => {
  const db = await PGlite.create(process.argv[2]);
  if (process.argv[3]) writeFileSync(process.argv[3], Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer()));
  await db.close();
})().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
`;

const pgliteModule = createRequire(import.meta.url).resolve('@electric-sql/pglite');
const run = promisify(execFile);

async function initdbInChild(dataDir: string, tarFile?: string): Promise<void> {
  await run(process.execPath, ['-e', CHILD, pgliteModule, dataDir, ...(tarFile ? [tarFile] : [])], {
    maxBuffer: 1024 * 1024,
  });
}

/** Makes the database in `dataDir` (an existing, empty or missing folder) unless there is one already. */
export async function ensureDatabase(dataDir: string): Promise<void> {
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  await initdbInChild(dataDir);
}

let template: Promise<Blob> | undefined;

/**
 * A fresh database as a tarball, for `memory://` stores (`loadDataDir`): made once per process in a child,
 * then each store loads it in ~0.6 s instead of ~5 s of initdb, and without initdb's memory.
 */
export function freshDatabase(): Promise<Blob> {
  template ??= (async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'carebridge-pglite-'));
    try {
      const tar = path.join(dir, 'fresh.tar');
      await initdbInChild(path.join(dir, 'data'), tar);
      return new Blob([readFileSync(tar)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  template.catch(() => {
    template = undefined;
  });
  return template;
}
