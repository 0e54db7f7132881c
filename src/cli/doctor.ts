import { maskUrl } from '../kernel/config/index.js';
import { isCareBridgeError } from '../kernel/errors/index.js';
import { createLogger, type ReadinessReport } from '../kernel/telemetry/index.js';
import type { Component } from './components/component.js';
import type { Config } from './config.js';
import { createRuntime } from './runtime.js';

/** How long doctor waits for every dependency's first answer (a connection still being made is not an answer). */
export const DOCTOR_WAIT_MS = 10_000;

export interface DoctorOptions {
  config: Config;
  /** Print the readiness report as JSON instead of one line per dependency. */
  json: boolean;
  out: NodeJS.WritableStream;
  waitMs?: number;
  /** The components to start (main passes COMPONENTS). */
  components: Component[];
}

/**
 * `carebridge doctor`: starts every component once, waits (bounded) until each dependency has answered, prints
 * one line per dependency (name, target with credentials masked, status, latency, the cause when it is not up) and
 * exits 1 when a required one is down. Logs go to stderr at `error` so stdout stays the report.
 */
export async function doctor(opts: DoctorOptions): Promise<number> {
  const logger = createLogger({ level: 'error', destination: process.stderr });
  let report: ReadinessReport;
  let runtime: Awaited<ReturnType<typeof createRuntime>> | undefined;
  try {
    runtime = await createRuntime({ config: opts.config, logger, components: opts.components });
    report = await runtime.health.settledReport({ timeoutMs: opts.waitMs ?? DOCTOR_WAIT_MS });
  } catch (err) {
    // Without its store nothing else starts: report the store, the one answer there is.
    if (!isCareBridgeError(err) || err.code !== 'DEPENDENCY_DOWN' || err.details?.dependency !== 'store')
      throw err;
    report = {
      status: 'down',
      checks: {
        store: {
          status: 'down',
          target: String(maskUrl(err.details.target ?? opts.config.databaseUrl ?? '')),
          detail: `${err.message}; nothing else was checked (the gateway cannot start without its store)`,
          required: true,
        },
      },
    };
  } finally {
    await runtime?.stop();
  }
  opts.out.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.status === 'down' ? 1 : 0;
}

const SUMMARY: Record<ReadinessReport['status'], string> = {
  up: 'every dependency is up',
  degraded: 'ready; an optional dependency is not up, or a breaker is open',
  down: 'not ready: a required dependency is down',
};

/** A header, one aligned line per dependency, then the overall status. */
export function formatReport(report: ReadinessReport): string {
  const header = ['DEPENDENCY', 'TARGET', 'STATUS', 'LATENCY', 'REQUIRED', 'DETAIL'];
  const rows = Object.entries(report.checks).map(([name, c]) => [
    name,
    c.target ?? '',
    c.status,
    c.latencyMs === undefined ? '-' : `${c.latencyMs} ms`,
    c.required ? 'required' : 'optional',
    c.detail ?? '',
  ]);
  rows.unshift(header);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => (i === 3 ? cell.padStart(widths[i]!) : i < 5 ? cell.padEnd(widths[i]!) : cell))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n\n${report.status}: ${SUMMARY[report.status]}\n`;
}
