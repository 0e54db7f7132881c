import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireStateDir,
  clearStateDir,
  SandboxStateDirBusyError,
  sandboxStateDir,
  stateDirOwner,
} from './state-dir.js';

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'cb-state-dir-')), 'sandbox');
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

/** A pid that no process has (a child that already exited). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('sandbox state folder', () => {
  it('is <dataDir>/sandbox, and none for memory://', () => {
    expect(sandboxStateDir('/var/lib/carebridge')).toBe('/var/lib/carebridge/sandbox');
    expect(sandboxStateDir('memory://')).toBeUndefined();
  });

  it('is shared by the sandboxes of one process and freed when the last one gives it back', () => {
    const releasePayments = acquireStateDir(dir);
    const releaseNotifications = acquireStateDir(dir);
    expect(readdirSync(dir)).toEqual(['.lock']);
    expect(stateDirOwner(dir)).toBe(process.pid);
    expect(() => acquireStateDir(dir, { exclusive: true })).toThrow(SandboxStateDirBusyError);
    releasePayments();
    expect(existsSync(path.join(dir, '.lock'))).toBe(true);
    releaseNotifications();
    expect(readdirSync(dir)).toEqual([]);
    expect(stateDirOwner(dir)).toBeUndefined();
  });

  it('refuses a folder held by another live process, and takes over one left by a dead process', () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '.lock'), String(process.ppid));
    expect(stateDirOwner(dir)).toBe(process.ppid);
    expect(() => acquireStateDir(dir)).toThrow(SandboxStateDirBusyError);
    expect(() => clearStateDir(dir)).toThrow(/in use by a running CareBridge process/);
    writeFileSync(path.join(dir, '.lock'), String(deadPid()));
    expect(stateDirOwner(dir)).toBeUndefined();
    acquireStateDir(dir)();
  });

  it('clear deletes the state files (and their temp and set-aside copies) and nothing else', () => {
    mkdirSync(dir, { recursive: true });
    for (const n of ['payments.json', 'notifications.json.tmp-1', 'payments.json.unreadable-1', 'notes.txt'])
      writeFileSync(path.join(dir, n), '{}');
    expect(clearStateDir(dir).sort()).toEqual([
      'notifications.json.tmp-1',
      'payments.json',
      'payments.json.unreadable-1',
    ]);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    expect(clearStateDir(path.join(dir, 'absent'))).toEqual([]);
  });
});
