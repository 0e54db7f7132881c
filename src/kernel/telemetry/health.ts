import { maskUrl } from '../config/index.js';

export type HealthStatus = 'up' | 'down' | 'degraded';

export interface CheckResult {
  status: HealthStatus;
  detail?: string;
}

export interface HealthCheck {
  name: string;
  /** A required dependency that is down makes /health/ready answer 503; an optional one only reports. */
  required: boolean;
  /** The dependency's address; credentials are masked before it is shown. */
  target: string;
  check: () => Promise<CheckResult> | CheckResult;
}

export interface ReadinessReport {
  status: HealthStatus;
  /** `target` and `detail` are left out where the caller may not see them (production readiness). */
  checks: Record<string, { status: HealthStatus; target?: string; detail?: string; required: boolean }>;
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
        const r = await runCheck(c);
        return [
          c.name,
          {
            status: r.status,
            target: String(maskUrl(c.target)),
            detail: r.detail ?? '',
            required: c.required,
          },
        ] as const;
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
