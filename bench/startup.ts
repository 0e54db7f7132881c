/**
 * Start-up time of the `carebridge` command as a person runs it, against `node -e ''` (the floor: starting Node
 * itself). Ours = `node bin/carebridge.js --help`, `… config`, and `npm start` until `GET /health/live` answers
 * 200 (development profile, sandboxes in-process, a data directory already initialised: the warm case; the first
 * start on an empty one, and `carebridge start` without npm in front, are reported apart). The same three through
 * tsx on src/ (what the npm scripts ran before dist/ was used; tsx's transform cache warm) are measured for
 * comparison. Each figure is the median of several runs, the commands
 * interleaved round by round so load from other processes hits all alike. The gateway gets its own RabbitMQ
 * vhost, so it never consumes another process's delivery reports. Goals: `--help` and `config` under 1.5 s,
 * `npm start` to live under 5 s.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { compiledEntry } from '../bin/build-stamp.js';
import { createVhost } from '../test/notifications/harness.js';
import type { BenchResult } from './types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const START_RUNS = Number(process.env.BENCH_START_RUNS ?? 5);
/** Runs of the tsx comparison (0 leaves it out). */
const TSX_RUNS = Number(process.env.BENCH_TSX_RUNS ?? 3);
const GOALS = { helpMs: 1_500, configMs: 1_500, liveMs: 5_000 };

const TSX = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const BIN = path.join(ROOT, 'bin/carebridge.js');
const NPM = process.env.npm_execpath;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.floor(s.length / 2)]!) : Number.NaN;
};

async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t = performance.now();
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}`);
  return performance.now() - t;
}

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  return port;
}

/** Spawns a gateway and resolves with the ms from spawn to the first 200 from /health/live, then stops it. */
async function timeToLive(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const port = await freePort();
  const t = performance.now();
  // Its own process group: npm, the shell and node get one signal together, as at a terminal.
  const child: ChildProcess = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit');
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`gateway exited early: ${stderr.slice(0, 500)}`);
      const ok = await fetch(`http://127.0.0.1:${port}/health/live`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return performance.now() - t;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGINT');
    await exited;
  }
}

export async function run(): Promise<BenchResult> {
  // Ours is what bin/carebridge.js runs: dist/ when current, so compile it first if src/ changed.
  if (!compiledEntry(ROOT)) {
    console.error('startup bench: dist/ is not current; building it first');
    const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('build failed');
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cb-bench-startup-'));
  const vhost = createVhost();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CAREBRIDGE_PROFILE: 'development',
    CAREBRIDGE_DATA_DIR: dataDir,
    RABBITMQ_URL: vhost.url,
  };
  const npmStart = NPM ? [process.execPath, [NPM, 'start', '--silent']] : ['npm', ['start', '--silent']];
  const samples: Record<string, number[]> = {};
  const add = (k: string, ms: number) => {
    samples[k] ??= [];
    samples[k].push(ms);
  };
  try {
    const first = await timeToLive(npmStart[0] as string, npmStart[1] as string[], env);
    for (let i = 0; i < Math.max(RUNS, START_RUNS, TSX_RUNS); i++) {
      if (i < RUNS) {
        add('node', await timed(process.execPath, ['-e', ''], env));
        add('help', await timed(process.execPath, [BIN, '--help'], env));
        add('config', await timed(process.execPath, [BIN, 'config'], env));
      }
      if (i < START_RUNS) {
        add('live', await timeToLive(npmStart[0] as string, npmStart[1] as string[], env));
        add('binLive', await timeToLive(process.execPath, [BIN, 'start'], env));
      }
      if (i < TSX_RUNS) {
        add('tsxHelp', await timed(process.execPath, [TSX, 'src/cli/main.ts', '--help'], env));
        add('tsxConfig', await timed(process.execPath, [TSX, 'src/cli/main.ts', 'config'], env));
        add('tsxLive', await timeToLive(process.execPath, [TSX, 'src/cli/main.ts', 'start'], env));
      }
    }
    const m = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]));
    const ours = { helpMs: m.help!, configMs: m.config!, liveMs: m.live! };
    const baseline = { nodeMs: m.node! };
    const row = (what: string, ms: number | undefined, goal?: number) => ({
      command: what,
      'median ms': ms ?? '',
      'over node -e': ms === undefined ? '' : ms - m.node!,
      goal: goal ? `< ${goal}` : '',
    });
    return {
      ours,
      baseline,
      // Headline, higher is better as bench/types.ts asks: the floor's share of `carebridge config`'s time.
      ratio: Math.round((m.node! / m.config!) * 1000) / 1000,
      goalsMet: ours.helpMs < GOALS.helpMs && ours.configMs < GOALS.configMs && ours.liveMs < GOALS.liveMs,
      firstStartLiveMs: Math.round(first),
      binLiveMs: m.binLive,
      tsx: TSX_RUNS ? { helpMs: m.tsxHelp, configMs: m.tsxConfig, liveMs: m.tsxLive } : undefined,
      runs: { cli: RUNS, start: START_RUNS, tsx: TSX_RUNS },
      loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
      node: process.version,
      cpus: availableParallelism(),
      table: [
        row("node -e ''", m.node),
        row('carebridge --help', m.help, GOALS.helpMs),
        row('carebridge config', m.config, GOALS.configMs),
        row('npm start → /health/live', m.live, GOALS.liveMs),
        row('  without npm: carebridge start', m.binLive),
        row('  first start, empty data dir', Math.round(first)),
        ...(TSX_RUNS
          ? [
              row('tsx src/cli/main.ts --help', m.tsxHelp),
              row('tsx src/cli/main.ts config', m.tsxConfig),
              row('tsx src/cli/main.ts start → live', m.tsxLive),
            ]
          : []),
      ],
    };
  } finally {
    vhost.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
