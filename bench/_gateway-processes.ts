/**
 * Processes for bench/gateway.ts: started in a process group of their own (so `npm start`'s npm → sh → tsx → node
 * stops as a whole), logs to a file, waited for by a line in that file or by readiness; resident memory of a
 * whole process tree; a RabbitMQ vhost and Postgres databases of the run's own.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
export const ADMIN_DB = env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RABBIT = env.BENCH_RABBITMQ ?? '127.0.0.1:5672';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Proc {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function launch(
  name: string,
  command: string,
  args: string[],
  extraEnv: Record<string, string>,
  logFile: string,
): Proc {
  const log = openSync(logFile, 'a');
  // Its own process group: `npm start` is npm → sh → tsx → node, and stopping it means stopping all of them.
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: env.PATH, HOME: env.HOME, ...extraEnv },
    stdio: ['ignore', log, log],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      const killed = sleep(20_000).then(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {}
      });
      await Promise.race([exited, killed]);
    },
  };
}

export async function waitForLine(
  file: string,
  pattern: RegExp,
  proc: Proc,
  timeoutMs = 180_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = readFileSync(file, 'utf8');
    const m = pattern.exec(text);
    if (m) return m[1] ?? m[0];
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited: ${text.slice(-800)}`);
    if (Date.now() > deadline) throw new Error(`${proc.name}: no ${pattern} within ${timeoutMs} ms`);
    await sleep(200);
  }
}

export async function waitReady(url: string, proc: Proc, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(`${url}/health/ready`).catch(() => undefined);
    if (r?.status === 200) return;
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${proc.name} not ready within ${timeoutMs} ms`);
    await sleep(500);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Every descendant of `pid` (itself included), from `ps`. */
function tree(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const pids = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, pp] of rows)
      if (pids.has(pp) && !pids.has(p)) {
        pids.add(p);
        grew = true;
      }
  }
  return [...pids];
}

const TICKS_PER_SECOND = 100;

/** CPU time (user + system, all threads) the processes have used so far, in ms; gone ones count 0. */
export function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 12th, stime 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** A process and its descendants (npm start: npm → sh → tsx → node). */
export function processTree(pid: number): number[] {
  return tree(pid);
}

/** Resident memory of a process and all its descendants, in MB. */
export function treeRssMb(pid: number): number {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
  const pids = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, pp] of rows)
      if (pids.has(pp) && !pids.has(p)) {
        pids.add(p);
        grew = true;
      }
  }
  return Math.round(rows.filter(([p]) => pids.has(p)).reduce((kb, [, , rss]) => kb + rss, 0) / 1024);
}

export function vhost(): { url: string; drop(): void } {
  const name = `cb_bench_${randomBytes(4).toString('hex')}`;
  execFileSync('rabbitmqctl', ['-q', 'add_vhost', name]);
  execFileSync('rabbitmqctl', ['-q', 'set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
  return {
    url: `amqp://guest:guest@${RABBIT}/${name}`,
    drop: () => {
      try {
        execFileSync('rabbitmqctl', ['-q', 'delete_vhost', name]);
      } catch {}
    },
  };
}

export async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_DB });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
