import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SandboxStateFile } from './state-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cb-state-file-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

function fileOf(records: { items: string[] }, opts: { version?: number; saveDelayMs?: number } = {}) {
  return new SandboxStateFile<{ items: string[] }>({
    dir,
    name: 'things',
    version: opts.version ?? 1,
    snapshot: () => ({ items: [...records.items] }),
    ...(opts.saveDelayMs !== undefined ? { saveDelayMs: opts.saveDelayMs } : {}),
  });
}

describe('SandboxStateFile', () => {
  it('loads nothing from an empty folder, and what was saved after close', async () => {
    const records = { items: ['a'] };
    const first = fileOf(records);
    expect(first.load()).toBeUndefined();
    records.items.push('b');
    first.changed();
    await first.close();
    expect(fileOf({ items: [] }).load()).toEqual({ items: ['a', 'b'] });
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
  });

  it('coalesces changes into one write after the delay', async () => {
    vi.useFakeTimers();
    const records = { items: [] as string[] };
    const file = fileOf(records, { saveDelayMs: 1000 });
    for (const x of ['a', 'b', 'c']) {
      records.items.push(x);
      file.changed();
    }
    expect(file.load()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1000);
    vi.useRealTimers();
    await file.flush();
    expect(file.load()).toEqual({ items: ['a', 'b', 'c'] });
    await file.close();
  });

  it('writes nothing when nothing changed, and nothing after close', async () => {
    const file = fileOf({ items: ['a'] });
    await file.flush();
    await file.close();
    file.changed();
    await file.flush();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('sets aside a file it cannot read (corrupt, or another version) and starts empty', () => {
    writeFileSync(path.join(dir, 'things.json'), '{"version":1,"data":');
    expect(fileOf({ items: [] }).load()).toBeUndefined();
    writeFileSync(path.join(dir, 'things.json'), JSON.stringify({ version: 2, data: { items: ['x'] } }));
    expect(fileOf({ items: [] }).load()).toBeUndefined();
    const names = readdirSync(dir);
    expect(names).not.toContain('things.json');
    expect(names.filter((n) => n.startsWith('things.json.unreadable-'))).toHaveLength(2);
  });

  it('clear deletes the saved records, and a change after it saves again', async () => {
    const records = { items: ['a'] };
    const file = fileOf(records);
    file.changed();
    await file.flush();
    await file.clear();
    expect(file.load()).toBeUndefined();
    records.items = ['fresh'];
    file.changed();
    await file.close();
    expect(JSON.parse(readFileSync(file.file, 'utf8')).data).toEqual({ items: ['fresh'] });
  });

  it('reports a failed save and keeps the change for the next flush', async () => {
    const errors: unknown[] = [];
    const records = { items: ['a'] };
    const file = new SandboxStateFile({
      dir: path.join(dir, 'missing'),
      name: 'things',
      version: 1,
      snapshot: () => records,
      onError: (err) => errors.push(err),
    });
    file.changed();
    await file.flush();
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});
