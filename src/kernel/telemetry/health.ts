import { maskCredentials } from './redaction.js';

export type HealthStatus = 'up' | 'down' | 'degraded';

export interface CheckResult {
  status: HealthStatus;
  /** Why, in words (for a down dependency: the cause, e.g. "access refused: login refused for user 'x'"). */
  detail?: string;
  /**
   * The dependency has not answered yet (a connection's first attempt is still running): the status is a
   * placeholder. `carebridge doctor` waits for a real answer instead of reporting it.
   */
  pending?: boolean;
  /** How long the dependency took to answer, when the check knows better than its own duration (a handshake). */
  latencyMs?: number;
}

export interface HealthCheck {
  name: string;
  /** A required dependency that is down makes /health/ready answer 503; an optional one only reports. */
  required: boolean;
  /** The dependency's address; credentials are masked before it is shown. */
  target: string;
  check: () => Promise<CheckResult> | CheckResult;
}

export interface CheckReport {
  status: HealthStatus;
  target?: string;
  detail?: string;
  required: boolean;
  /** The check's round trip (or the latency the check reported), in whole milliseconds. */
  latencyMs?: number;
  /** Present (true) while the dependency has not answered yet. */
  pending?: boolean;
}

export interface ReadinessReport {
  status: HealthStatus;
  /** `target` and `detail` are left out where the caller may not see them (production readiness). */
  checks: Record<string, CheckReport>;
}

const CHECK_TIMEOUT_MS = 2_000;

/** How often the background refresh runs every check again (`startRefreshing`). */
export const DEFAULT_READINESS_REFRESH_MS = 1_000;

/**
 * Where every dependency registers how to tell whether it is usable.
 *
 * Readiness is polled by every load balancer and probe, often many times a second per instance; were each poll
 * to run the checks, the probes' rate would become load on the store, the user service and the processor (a
 * signed request per poll). So the runtime calls `startRefreshing()` and `/health/ready` answers `current()`:
 * the last report, refreshed in the background, at most `intervalMs` plus one round of checks (each bounded by
 * 2 s) old — any rate of readiness calls costs no dependency call.
 */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  /** Bumped by every register/unregister: a report made before that no longer lists the right checks. */
  private generation = 0;
  private latest: { report: ReadinessReport; generation: number } | undefined;
  private inFlight: { promise: Promise<ReadinessReport>; generation: number } | undefined;
  private refreshing = false;
  private timer: NodeJS.Timeout | undefined;

  register(check: HealthCheck): void {
    if (this.checks.has(check.name)) throw new RangeError(`health check "${check.name}" registered twice`);
    this.checks.set(check.name, check);
    this.generation++;
  }

  unregister(name: string): void {
    if (this.checks.delete(name)) this.generation++;
  }

  names(): string[] {
    return [...this.checks.keys()];
  }

  /**
   * Runs every check once now and keeps the answer as the current report. Callers arriving while a round runs
   * share it (one round at a time per set of checks).
   */
  refresh(): Promise<ReadinessReport> {
    const generation = this.generation;
    if (this.inFlight?.generation === generation) return this.inFlight.promise;
    const promise = this.report().then((report) => {
      if (!this.latest || this.latest.generation <= generation) this.latest = { report, generation };
      return report;
    });
    const entry = { promise, generation };
    this.inFlight = entry;
    const clear = () => {
      if (this.inFlight === entry) this.inFlight = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  /**
   * The report `/health/ready` serves. While the background refresh runs: the last report, without running a
   * check (a report older than the last register/unregister waits for the round that includes it). Without
   * it (a gateway built in a test): a round now, shared by concurrent callers.
   */
  current(): Promise<ReadinessReport> {
    const latest = this.latest;
    if (this.refreshing && latest && latest.generation === this.generation)
      return Promise.resolve(latest.report);
    return this.refresh();
  }

  /**
   * Refreshes the current report now and then every `intervalMs` after the previous round ended (rounds never
   * overlap; a hung check is cut at 2 s). The runtime starts it with the background workers and stops it first.
   */
  startRefreshing(opts: { intervalMs?: number } = {}): void {
    const intervalMs = opts.intervalMs ?? DEFAULT_READINESS_REFRESH_MS;
    if (!(intervalMs > 0)) throw new RangeError('intervalMs must be > 0');
    if (this.refreshing) return;
    this.refreshing = true;
    const round = () => {
      this.timer = undefined;
      const next = () => {
        if (!this.refreshing) return;
        this.timer = setTimeout(round, intervalMs);
        this.timer.unref();
      };
      this.refresh().then(next, next);
    };
    round();
  }

  stopRefreshing(): void {
    this.refreshing = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs every check now and returns their answers (`carebridge doctor`, tests); readiness uses `current()`. */
  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks.values()].map(async (c) => {
        const started = performance.now();
        const r = await runCheck(c);
        const entry: CheckReport = {
          status: r.status,
          target: maskCredentials(c.target),
          detail: maskCredentials(r.detail ?? ''),
          required: c.required,
          latencyMs: Math.round(r.latencyMs ?? performance.now() - started),
        };
        if (r.pending) entry.pending = true;
        return [c.name, entry] as const;
      }),
    );
    const checks = Object.fromEntries(entries);
    let status: HealthStatus = 'up';
    for (const c of Object.values(checks)) {
      if (c.status === 'down' && c.required) status = 'down';
      else if (c.status !== 'up' && status === 'up') status = 'degraded';
    }
    return { status, checks };
  }

  /**
   * The report once every dependency has answered at least once (no check `pending`), polling every
   * `intervalMs`; after `timeoutMs` a check still pending is reported down ("no answer within …"). For
   * `carebridge doctor`, which starts everything and would otherwise report connections still being made.
   */
  async settledReport(opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<ReadinessReport> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const report = await this.report();
      const pending = Object.values(report.checks).filter((c) => c.pending);
      if (pending.length === 0) return report;
      if (Date.now() >= deadline) {
        for (const c of pending) {
          c.status = 'down';
          c.detail = `no answer within ${timeoutMs / 1000} s${c.detail ? ` (${c.detail})` : ''}`;
          delete c.pending;
          if (c.required) report.status = 'down';
          else if (report.status === 'up') report.status = 'degraded';
        }
        return report;
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(opts.intervalMs ?? 100, deadline - Date.now())),
      );
    }
  }
}

async function runCheck(c: HealthCheck): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(() => c.check()),
      new Promise<CheckResult>((resolve) => {
        timer = setTimeout(
          () => resolve({ status: 'down', detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }),
          CHECK_TIMEOUT_MS,
        );
        timer.unref();
      }),
    ]);
  } catch (err) {
    return { status: 'down', detail: err instanceof Error ? err.message.slice(0, 200) : 'check failed' };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
