import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * One process per PGlite data directory. PGlite is Postgres inside this process with no postmaster to keep a
 * second one out, so two processes writing the same files corrupt the store; the second one must stop before
 * PGlite opens a file. `<dataDir>/carebridge.lock` holds the owner's pid: a lock whose process is gone (a crash,
 * a kill -9) is taken over, and `close()` removes it.
 */
export const DATA_DIR_LOCK_FILE = 'carebridge.lock';

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      pid === process.pid
        ? `CAREBRIDGE_DATA_DIR ${dir} is already open in this process; close the store first`
        : `CAREBRIDGE_DATA_DIR ${dir} is in use by another CareBridge process (pid ${pid}); stop it first, or give ` +
            `each process its own CAREBRIDGE_DATA_DIR (if no process ${pid} runs CareBridge, delete ` +
            `${path.join(dir, DATA_DIR_LOCK_FILE)})`,
    );
  }
}

/** Folders this process holds (a pid in a lock equal to ours but not held here is a previous life's: pid 1 in a container). */
const held = new Set<string>();

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The live process holding `dir` (this one included), or undefined when it is free or its lock is stale. */
export function dataDirOwner(dir: string): number | undefined {
  const resolved = path.resolve(dir);
  if (held.has(resolved)) return process.pid;
  const pid = lockPid(path.join(resolved, DATA_DIR_LOCK_FILE));
  if (pid === undefined || pid === process.pid) return undefined;
  return isProcessAlive(pid) ? pid : undefined;
}

/**
 * Takes `dir` (created if missing) for this process; the returned function gives it back. Throws
 * `DataDirLockedError` while a live process holds it, this one included.
 */
export function lockDataDir(dir: string): () => void {
  const resolved = path.resolve(dir);
  mkdirSync(resolved, { recursive: true });
  const file = path.join(resolved, DATA_DIR_LOCK_FILE);
  const tmp = `${file}.${process.pid}`;
  writeFileSync(tmp, `${process.pid}\n`);
  try {
    for (let attempt = 1; ; attempt++) {
      const owner = dataDirOwner(resolved);
      if (owner !== undefined) throw new DataDirLockedError(resolved, owner);
      try {
        // A hard link makes the lock appear with the pid already in it: no reader ever sees an empty lock.
        linkSync(tmp, file);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
          writeFileSync(file, `${process.pid}\n`, { flag: 'wx' }); // no hard links on this file system
          break;
        }
        if (code !== 'EEXIST' || attempt >= 3) throw err;
        // Left by a process that is gone (dataDirOwner said so above): take it over, unless another
        // process starting just now wins the race, which the next round finds.
        if (dataDirOwner(resolved) === undefined) rmSync(file, { force: true });
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  held.add(resolved);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    held.delete(resolved);
    // Only our own: a process that took the folder over after us keeps its lock.
    if (lockPid(file) === process.pid) rmSync(file, { force: true });
  };
}
