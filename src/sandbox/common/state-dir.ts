import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isProcessAlive } from '../../kernel/store/index.js';

/**
 * Where the development sandboxes keep their state: `<dataDir>/sandbox/<name>.json`, beside the embedded store,
 * so a restart on the same data directory finds the charges the ledger remembers. `memory://` keeps nothing.
 *
 * One process owns the folder at a time (a `.lock` file holding its pid): two gateways writing the same files
 * would overwrite each other's charges, and `carebridge sandbox reset` must not delete them under a running one.
 */
export const SANDBOX_STATE_FOLDER = 'sandbox';
const LOCK_FILE = '.lock';

/** `<dataDir>/sandbox`, or undefined for an in-memory data dir (`memory://`: nothing is written). */
export function sandboxStateDir(dataDir: string): string | undefined {
  return dataDir.startsWith('memory://') ? undefined : path.resolve(dataDir, SANDBOX_STATE_FOLDER);
}

export class SandboxStateDirBusyError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `${dir} is in use by a running CareBridge process (pid ${pid}); stop it first, or give each instance its own CAREBRIDGE_DATA_DIR`,
    );
    this.name = 'SandboxStateDirBusyError';
  }
}

/** Folders this process holds, with how many sandboxes use each (payments and notifications share one). */
const held = new Map<string, number>();

/**
 * The pid of the live process holding `dir` (this one included), if any; a lock left by a crashed process
 * does not count.
 */
export function stateDirOwner(dir: string): number | undefined {
  if (held.has(dir)) return process.pid;
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(path.join(dir, LOCK_FILE), 'utf8'), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  return isProcessAlive(pid) ? pid : undefined;
}

/**
 * Takes the folder for this process (created if missing); the returned function gives it back. Throws
 * `SandboxStateDirBusyError` when another live process holds it, or, with `exclusive` (a reset), when anyone
 * does, this process included.
 */
export function acquireStateDir(dir: string, opts: { exclusive?: boolean } = {}): () => void {
  const count = held.get(dir) ?? 0;
  if (count > 0 && opts.exclusive) throw new SandboxStateDirBusyError(dir, process.pid);
  if (count === 0) {
    mkdirSync(dir, { recursive: true });
    const owner = stateDirOwner(dir);
    if (owner !== undefined) throw new SandboxStateDirBusyError(dir, owner);
    writeFileSync(path.join(dir, LOCK_FILE), String(process.pid));
  }
  held.set(dir, count + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (held.get(dir) ?? 1) - 1;
    if (left > 0) {
      held.set(dir, left);
      return;
    }
    held.delete(dir);
    rmSync(path.join(dir, LOCK_FILE), { force: true });
  };
}

/**
 * Deletes every sandbox's state file in `dir` (the lock and foreign files stay). Returns the names removed.
 * Refuses while another process holds the folder; hold it exclusively around the call (`acquireStateDir(dir,
 * {exclusive: true})`) so no sandbox of this process is writing either.
 */
export function clearStateDir(dir: string): string[] {
  const owner = stateDirOwner(dir);
  if (owner !== undefined && owner !== process.pid) throw new SandboxStateDirBusyError(dir, owner);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed = names.filter((n) => n.endsWith('.json') || n.includes('.json.'));
  for (const n of removed) rmSync(path.join(dir, n), { force: true });
  return removed;
}
