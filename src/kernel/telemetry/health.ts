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

/** Where every dependency registers how to tell whether it is usable. */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  register(check: HealthCheck): void {
    if (this.checks.has(check.name)) throw new RangeError(`health check "${check.name}" registered twice`);
    this.checks.set(check.name, check);
  }

  unregister(name: string): void {
    this.checks.delete(name);
  }

  names(): string[] {
    return [...this.checks.keys()];
  }

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
