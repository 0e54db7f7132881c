import type { Profile } from '../kernel/config/index.js';
import type { ReadinessReport } from '../kernel/telemetry/index.js';
import type { SandboxAddress } from './components/component.js';

/** How long the summary waits for every dependency's first answer before it prints what it has. */
export const SUMMARY_WAIT_MS = 5_000;

export interface TerminalOutput {
  /** Readable log lines instead of JSON, and the start-up summary. */
  forPeople: boolean;
  /** ANSI colours in those lines. */
  color: boolean;
}

/**
 * What `carebridge start` writes for a person: readable logs and a summary only in the development profile with
 * stdout on a terminal. Production, and any stdout that is a pipe or a file (a container, a log collector,
 * `npm start > log`), keep one JSON object per line. Colours follow NO_COLOR (https://no-color.org) and TERM=dumb.
 */
export function terminalOutput(opts: {
  profile: Profile;
  stdoutIsTTY: boolean;
  env: NodeJS.ProcessEnv;
}): TerminalOutput {
  const forPeople = opts.profile === 'development' && opts.stdoutIsTTY;
  const color = forPeople && !opts.env.NO_COLOR && opts.env.TERM !== 'dumb';
  return { forPeople, color };
}

export interface SummaryInput {
  url: string;
  profile: Profile;
  /** From the process start to listening. */
  startedInMs: number;
  sandboxes: SandboxAddress[];
  report: ReadinessReport;
}

function table(rows: string[][]): string[] {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The block `carebridge start` prints at a terminal once the gateway listens and every dependency has answered
 * (or SUMMARY_WAIT_MS passed): where the gateway and its API docs are, where each sandbox answers, and each
 * dependency's status with the reason when it is not up.
 */
export function startupSummary(s: SummaryInput): string {
  const ready = s.report.status === 'up';
  const title =
    s.report.status === 'down'
      ? 'CareBridge is listening, but a required dependency is down (not ready)'
      : `CareBridge is ready${ready ? '' : ', degraded'}`;
  // Breakers are listed only when open: they say something about a dependency only then.
  const deps = Object.entries(s.report.checks)
    .filter(([name, c]) => !name.startsWith('breaker:') || c.status !== 'up')
    .map(([name, c]) => [
      name,
      c.status,
      `${c.target ?? ''}${c.status !== 'up' && c.detail ? `  (${c.detail})` : ''}`,
    ]);
  const indent = (lines: string[]) => lines.map((l) => `    ${l}`);
  return [
    `${title}: ${s.profile} profile, started in ${(s.startedInMs / 1000).toFixed(1)} s`,
    `  gateway    ${s.url}`,
    `  API docs   ${s.url}/docs`,
    ...(s.sandboxes.length
      ? ['  sandboxes', ...indent(table(s.sandboxes.map((b) => [b.name, b.url])))]
      : ['  sandboxes  none (every target is a real service)']),
    '  dependencies',
    ...indent(table(deps)),
    'Ctrl-C stops it (a second Ctrl-C exits at once). Logs follow.',
    '',
  ].join('\n');
}
