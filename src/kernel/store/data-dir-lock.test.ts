import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATA_DIR_LOCK_FILE, DataDirLockedError, dataDirOwner, lockDataDir } from './data-dir-lock.js';

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'cb-data-dir-')), 'data');
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

/** A pid that no process has (a child that already exited). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

const lockFile = () => path.join(dir, DATA_DIR_LOCK_FILE);

describe('data directory lock', () => {
  it('creates the folder, writes this pid and removes the lock when released', () => {
    const release = lockDataDir(dir);
    expect(readdirSync(dir)).toEqual([DATA_DIR_LOCK_FILE]);
    expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(process.pid));
    expect(dataDirOwner(dir)).toBe(process.pid);
    release();
    release();
    expect(readdirSync(dir)).toEqual([]);
    expect(dataDirOwner(dir)).toBeUndefined();
  });

  it('refuses a second open in this process', () => {
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(/already open in this process/);
    release();
    lockDataDir(dir)();
  });

  it('refuses a folder a live process holds, naming its pid and what to do', async () => {
    // A real second process holds it (the test's own pid would be "this process").
    mkdirSync(dir);
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(lockFile())}, String(process.pid)); setInterval(() => {}, 1000)`,
      ],
      { stdio: 'ignore' },
    );
    try {
      await expect.poll(() => existsSync(lockFile())).toBe(true);
      await expect.poll(() => readFileSync(lockFile(), 'utf8')).toBe(String(child.pid));
      let err: unknown;
      try {
        lockDataDir(dir);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataDirLockedError);
      expect((err as Error).message).toBe(
        `CAREBRIDGE_DATA_DIR ${dir} is in use by another CareBridge process (pid ${child.pid}); stop it first, or ` +
          `give each process its own CAREBRIDGE_DATA_DIR (if no process ${child.pid} runs CareBridge, delete ${lockFile()})`,
      );
      // The refused attempt leaves the holder's lock alone.
      expect(readFileSync(lockFile(), 'utf8')).toBe(String(child.pid));
    } finally {
      child.kill();
    }
  });

  it('takes over a lock left by a process that is gone, or one with no pid in it', () => {
    lockDataDir(dir)();
    writeFileSync(lockFile(), String(deadPid()));
    const release = lockDataDir(dir);
    expect(readFileSync(lockFile(), 'utf8').trim()).toBe(String(process.pid));
    release();
    writeFileSync(lockFile(), '');
    lockDataDir(dir)();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('takes over a lock with its own pid that this process does not hold (a restart as pid 1 in a container)', () => {
    lockDataDir(dir)();
    writeFileSync(lockFile(), String(process.pid));
    expect(dataDirOwner(dir)).toBeUndefined();
    lockDataDir(dir)();
  });

  it('leaves a lock another process took over after it alone when released', () => {
    const release = lockDataDir(dir);
    writeFileSync(lockFile(), String(process.ppid));
    release();
    expect(readFileSync(lockFile(), 'utf8')).toBe(String(process.ppid));
  });
});
