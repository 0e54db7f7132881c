import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * One sandbox's records on disk: a JSON snapshot `<dir>/<name>.json`, replaced atomically (write a temp file,
 * fsync, rename) so a crash leaves the old snapshot or the new one, never half of one. Writes are coalesced:
 * the first change schedules a save `saveDelayMs` later, changes meanwhile ride along, and the next save waits
 * at least ten times as long as the last one took, so a large snapshot under load costs at most ~10% of the
 * time. A normal stop (`close`) writes what is left; a crash loses at most the last delay's changes.
 */
export interface SandboxStateFileOptions<T> {
  /** The folder (`sandboxStateDir(dataDir)`). */
  dir: string;
  /** File name without `.json`. */
  name: string;
  /** Format version; a snapshot of another version is set aside, not loaded. */
  version: number;
  /** The records to save, as JSON-serialisable data. */
  snapshot: () => T;
  /** Default 250 ms. */
  saveDelayMs?: number;
  /** A save failed (disk full, folder removed); the next change or `flush` retries. Default: ignored. */
  onError?: (err: unknown) => void;
  /** File mode of the snapshot. Default 0o600 (it may hold signing keys or message bodies). */
  mode?: number;
}

interface Envelope<T> {
  version: number;
  savedAt: string;
  data: T;
}

export const DEFAULT_SAVE_DELAY_MS = 250;

export class SandboxStateFile<T> {
  readonly file: string;
  private readonly delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private lastSaveMs = 0;
  private closed = false;

  constructor(private readonly opts: SandboxStateFileOptions<T>) {
    this.file = path.join(opts.dir, `${opts.name}.json`);
    this.delayMs = opts.saveDelayMs ?? DEFAULT_SAVE_DELAY_MS;
    if (!Number.isFinite(this.delayMs) || this.delayMs < 0)
      throw new RangeError('saveDelayMs must be a non-negative number');
  }

  /**
   * The saved records, or undefined when there are none. A file that cannot be read as this version is
   * renamed `<name>.json.unreadable-<time>` (kept for a look, never loaded again) and undefined returned.
   */
  load(): T | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const env = JSON.parse(text) as Envelope<T>;
      if (env && env.version === this.opts.version && env.data !== undefined) return env.data;
    } catch {
      // fall through: set aside
    }
    this.setAside();
    return undefined;
  }

  /** Renames the file `<name>.json.unreadable-<time>` (its records could not be used); the next save starts anew. */
  setAside(): void {
    try {
      renameSync(this.file, `${this.file}.unreadable-${Date.now()}-${randomBytes(3).toString('hex')}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Records changed: save soon. */
  changed(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.timer || this.writing) return;
    this.schedule();
  }

  /** Writes now if anything changed since the last save. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    this.cancelTimer();
    if (this.dirty) await this.save();
  }

  /** Forgets the saved records (part of a reset); changes after this are saved again. */
  async clear(): Promise<void> {
    while (this.writing) await this.writing;
    this.cancelTimer();
    this.dirty = false;
    await rm(this.file, { force: true });
  }

  /** Saves what is left and stops saving. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const wait = Math.max(this.delayMs, this.lastSaveMs * 10);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, wait);
    this.timer.unref();
  }

  private save(): Promise<void> {
    this.dirty = false;
    const started = performance.now();
    let failed = false;
    const work = this.write()
      .catch((err) => {
        // Kept dirty, but not retried on a timer: a missing folder would fail forever; the next change retries.
        failed = true;
        this.dirty = true;
        this.opts.onError?.(err);
      })
      .finally(() => {
        this.lastSaveMs = performance.now() - started;
        this.writing = undefined;
        if (this.dirty && !failed && !this.closed && !this.timer) this.schedule();
      });
    this.writing = work;
    return work;
  }

  private async write(): Promise<void> {
    const env: Envelope<T> = {
      version: this.opts.version,
      savedAt: new Date().toISOString(),
      data: this.opts.snapshot(),
    };
    const tmp = `${this.file}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w', this.opts.mode ?? 0o600);
    try {
      await fh.writeFile(JSON.stringify(env));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
  }
}
