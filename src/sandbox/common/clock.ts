/**
 * The simulator's own clock: wall time plus an offset that `POST /_sandbox/clock {advanceSeconds}` grows.
 * Jobs scheduled on it (renewals, dunning retries, trial ends, async refund failures) run in timestamp
 * order while the clock advances, each seeing "now" equal to its due time, so an advance of 40 days
 * replays every cycle deterministically.
 */
export interface ScheduledJob {
  id: number;
  atMs: number;
  name: string;
  run: () => void | Promise<void>;
}

export class SandboxClock {
  private offsetMs = 0;
  private frozenAtMs: number | undefined;
  private jobs: ScheduledJob[] = [];
  private seq = 0;
  private advancing: Promise<void> = Promise.resolve();

  constructor(private readonly wall: () => number = Date.now) {}

  nowMs(): number {
    return this.frozenAtMs ?? this.wall() + this.offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /** Unix seconds on the sandbox clock. */
  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** Runs `run` when the clock reaches `atMs` (only through `advance`; jobs never fire on wall time). */
  schedule(atMs: number, name: string, run: ScheduledJob['run']): number {
    const job = { id: ++this.seq, atMs, name, run };
    this.jobs.push(job);
    return job.id;
  }

  cancel(id: number): void {
    this.jobs = this.jobs.filter((j) => j.id !== id);
  }

  pending(): Array<{ atMs: number; name: string }> {
    return this.jobs.map(({ atMs, name }) => ({ atMs, name })).sort((a, b) => a.atMs - b.atMs);
  }

  /** Moves the clock forward, running due jobs in (time, schedule) order. Serialised: advances never overlap. */
  advance(seconds: number): Promise<{ ran: number; now: Date }> {
    if (!Number.isFinite(seconds) || seconds < 0)
      throw new RangeError('advanceSeconds must be a non-negative number');
    const result = this.advancing.then(async () => {
      const target = this.nowMs() + seconds * 1000;
      let ran = 0;
      for (;;) {
        const due = this.jobs
          .filter((j) => j.atMs <= target)
          .sort((a, b) => a.atMs - b.atMs || a.id - b.id)[0];
        if (!due) break;
        this.jobs = this.jobs.filter((j) => j !== due);
        this.frozenAtMs = Math.max(due.atMs, this.nowMs());
        try {
          await due.run();
        } finally {
          this.offsetMs = (this.frozenAtMs ?? 0) - this.wall();
          this.frozenAtMs = undefined;
        }
        ran++;
      }
      this.offsetMs = target - this.wall();
      return { ran, now: this.now() };
    });
    this.advancing = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** How far the clock is ahead of wall time (ms); saved with a sandbox's records so a restart keeps its time. */
  offset(): number {
    return this.nowMs() - this.wall();
  }

  /** Sets the clock `ms` ahead of wall time (restoring saved state; jobs are re-armed by their owners). */
  restoreOffset(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('a clock offset must be a non-negative number');
    this.offsetMs = ms;
  }

  /** Back to wall time with no jobs (part of `POST /_sandbox/reset`). */
  reset(): void {
    this.offsetMs = 0;
    this.frozenAtMs = undefined;
    this.jobs = [];
  }
}
