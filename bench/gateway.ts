/**
 * `npm run bench -- gateway`: the gateway's own cost (issue #14). Drives the REAL gateway over HTTP with autocannon
 * through fixed scenarios — read a payment by id, list payments, take a payment, refund, send an email, check
 * permissions, readiness, a read at a fixed 1,000 req/s, and a mix of all — in two setups:
 *
 * - `production-like`: the compiled gateway (`node dist/cli/main.js start`, as deploy/Dockerfile runs it) on
 *   Postgres (a database of its own), each counterpart in its own process (`carebridge sandbox payments|users|
 *   notifications`), RabbitMQ on a vhost of its own, request logs at `info` to a file;
 * - `npm-start`: `npm start` itself (PGlite under a fresh data folder, sandboxes in-process).
 *
 * Beside each: bench/_gateway-baseline.ts, a bare Fastify process doing the same I/O without the gateway (same
 * SQL through the same store classes and pool size; for writes the same signed call to a payments sandbox of its
 * own). Sides alternate in rounds (ours, baseline, baseline, ours) so load from other processes hits both alike;
 * `/proc/loadavg` is recorded with each scenario. Afterwards the ledger is checked against the sandbox (nothing
 * lost or doubled), and resident memory is reported idle and at the peak of the mix.
 *
 * Knobs: BENCH_SECONDS (per scenario and side, default 10), BENCH_CONNECTIONS (16), BENCH_SETUPS
 * (`production-like,npm-start`), BENCH_SCENARIOS (comma list), BENCH_DATABASE_URL (an admin URL of the local
 * Postgres, default postgres://postgres@127.0.0.1:5432/test), BENCH_RABBITMQ (host:port, default 127.0.0.1:5672),
 * BENCH_CPU_PROF=1 (profile the production-like gateway; the summary is printed), BENCH_KEEP=1 (keep the folder).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon, { type RequestSpec, type Result } from 'autocannon';
import { checkLedger, type SandboxObject, summariseProfile } from './_gateway-checks.js';
import { cpuMs, sleep, treeRssMb } from './_gateway-processes.js';
import { type Ledger, npmStart, productionLike, SEED_PAYMENTS, type Side, seed } from './_gateway-setups.js';
import type { BenchResult } from './types.js';

const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 16);
const SETUPS = (env.BENCH_SETUPS ?? 'production-like,npm-start').split(',');

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

let counter = 0;
const json = { 'content-type': 'application/json' };
const PAYMENT = JSON.stringify({
  amount: 1250,
  currency: 'USD',
  customerId: 'cus_bench',
  paymentMethod: 'pm_card_visa',
});

/** What the gateway answered 201 for, counted per response (the ledger check compares it with the ledger). */
interface Tally {
  payments: number;
  refunds: number;
}

function requestsFor(side: Side, tally: Tally): Record<string, RequestSpec> {
  const ids = side.paymentIds;
  const key = (req: { headers?: Record<string, string> }) => ({
    ...req.headers,
    'idempotency-key': randomUUID(),
  });
  const count = (what: keyof Tally) => (status: number) => {
    if (status === 201) tally[what]++;
  };
  return {
    read: {
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: `/v1/payments/${ids[counter++ % ids.length]}` }),
    },
    list: { method: 'GET', path: '/v1/payments?limit=20' },
    payment: {
      method: 'POST',
      path: '/v1/payments',
      headers: json,
      body: PAYMENT,
      setupRequest: (req) => ({ ...req, headers: key(req) }),
      onResponse: count('payments'),
    },
    refund: {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ amount: 1 }),
      setupRequest: (req) => ({
        ...req,
        path: `/v1/payments/${ids[counter++ % ids.length]}/refunds`,
        headers: key(req),
      }),
      onResponse: count('refunds'),
    },
    email: {
      method: 'POST',
      path: '/v1/notifications/email',
      headers: json,
      body: JSON.stringify({ to: 'patient@example.test', subject: 'Your order', text: 'It ships today.' }),
      setupRequest: (req) => ({ ...req, headers: key(req) }),
    },
    permission: {
      method: 'POST',
      path: '/v1/permissions/check',
      headers: json,
      body: JSON.stringify({ permissions: ['payments:read', 'refunds:create'] }),
    },
    readiness: { method: 'GET', path: '/health/ready' },
  };
}

interface Scenario {
  name: string;
  what: string;
  sequence: string[];
  rate?: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'read', what: 'GET /v1/payments/{id}', sequence: ['read'] },
  { name: 'read@1000', what: 'GET /v1/payments/{id} at 1,000 req/s', sequence: ['read'], rate: 1_000 },
  { name: 'list', what: 'GET /v1/payments?limit=20', sequence: ['list'] },
  { name: 'payment', what: 'POST /v1/payments', sequence: ['payment'] },
  { name: 'refund', what: 'POST /v1/payments/{id}/refunds', sequence: ['refund'] },
  { name: 'email', what: 'POST /v1/notifications/email', sequence: ['email'] },
  { name: 'permission', what: 'POST /v1/permissions/check (2 permissions)', sequence: ['permission'] },
  { name: 'readiness', what: 'GET /health/ready', sequence: ['readiness'] },
  {
    name: 'mix',
    what: '4 reads, list, payment, refund, email, permission check, readiness',
    sequence: [
      'read',
      'read',
      'read',
      'read',
      'list',
      'payment',
      'refund',
      'email',
      'permission',
      'readiness',
    ],
  },
].filter((s) => !env.BENCH_SCENARIOS || env.BENCH_SCENARIOS.split(',').includes(s.name));

interface Figures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  failed: number;
}

async function load(side: Side, scenario: Scenario, seconds: number, tally: Tally): Promise<Result> {
  const specs = requestsFor(side, tally);
  return autocannon({
    url: side.url,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 30,
    headers: side.headers,
    requests: scenario.sequence.map((n) => specs[n]!),
    ...(scenario.rate ? { overallRate: scenario.rate } : {}),
  });
}

function combine(results: Result[]): Figures {
  const ok = results.reduce((n, r) => n + r['2xx'], 0);
  const seconds = results.reduce((n, r) => n + r.duration, 0);
  return {
    rps: Math.round(ok / seconds),
    p50Ms: Math.max(...results.map((r) => r.latency.p50)),
    p99Ms: Math.max(...results.map((r) => r.latency.p99)),
    ok,
    failed: results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
  };
}

/** Samples the resident memory of both sides' trees while a scenario runs. */
function sampler(sides: Side[]) {
  const peak = new Map<string, number>(sides.map((s) => [s.name, 0]));
  const timer = setInterval(() => {
    for (const s of sides) peak.set(s.name, Math.max(peak.get(s.name)!, treeRssMb(s.pid)));
  }, 500);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

interface Row {
  setup: string;
  scenario: string;
  ours: Figures;
  baseline: Figures;
  ratio: number;
  load: string;
  /** CPU time per answered request, by part: what each request costs the whole machine, and where. */
  cpuUsPerRequest: { ours: Record<string, number>; baseline: Record<string, number> };
}

function perRequest(spentMs: Record<string, number>, requests: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const [k, ms] of Object.entries(spentMs)) {
    out[k] = Math.round((ms * 1000) / Math.max(1, requests));
    total += out[k];
  }
  out.total = total;
  return out;
}

async function runSetup(setup: string, dir: string) {
  const started = setup === 'production-like' ? await productionLike(dir) : await npmStart(dir);
  const rows: Row[] = [];
  let mixPeak: { ours: number; baseline: number } | undefined;
  const answered: Tally = { payments: SEED_PAYMENTS, refunds: 0 };
  const ignored: Tally = { payments: 0, refunds: 0 };
  try {
    await seed(started.ours);
    await seed(started.baseline);
    const sides = [started.ours, started.baseline];
    for (const scenario of SCENARIOS) {
      const results = { ours: [] as Result[], baseline: [] as Result[] };
      const load0 = loadavg();
      const rss = sampler(sides);
      // ours, baseline, baseline, ours: each side sees the same share of early and late minutes.
      // CPU time of every part of each side (gateway, sandboxes, its Postgres backends, the load generator).
      // Pids are taken before and after each round: a pool may open new Postgres backends meanwhile (they
      // count from zero); one that closes during a round takes its time with it.
      const cpu = { ours: {} as Record<string, number>, baseline: {} as Record<string, number> };
      for (const side of [started.ours, started.baseline, started.baseline, started.ours]) {
        const before = (await started.parts())[side.name];
        const startMs = new Map(
          Object.values(before).flatMap((pids) => pids.map((p) => [p, cpuMs([p])] as const)),
        );
        const generator = process.cpuUsage();
        results[side.name].push(
          await load(side, scenario, SECONDS / 2, side.name === 'ours' ? answered : ignored),
        );
        const g = process.cpuUsage(generator);
        const after = (await started.parts())[side.name];
        const spent = cpu[side.name];
        for (const [k, pids] of Object.entries(after)) {
          const all = new Set([...pids, ...(before[k] ?? [])]);
          for (const p of all) {
            const now = cpuMs([p]);
            const start = startMs.get(p) ?? 0;
            spent[k] = (spent[k] ?? 0) + (now >= start ? now - start : 0); // gone: its time is lost
          }
        }
        spent['load generator'] = (spent['load generator'] ?? 0) + (g.user + g.system) / 1000;
      }
      const peak = rss.stop();
      if (scenario.name === 'mix') mixPeak = { ours: peak.get('ours')!, baseline: peak.get('baseline')! };
      const ours = combine(results.ours);
      const baseline = combine(results.baseline);
      rows.push({
        setup,
        scenario: scenario.name,
        ours,
        baseline,
        ratio: Number((ours.rps / baseline.rps).toFixed(2)),
        load: `${load0} → ${loadavg()}`,
        cpuUsPerRequest: {
          ours: perRequest(cpu.ours, ours.ok + ours.failed),
          baseline: perRequest(cpu.baseline, baseline.ok + baseline.failed),
        },
      });
      console.error(
        `${setup} ${scenario.name}: ours ${ours.rps}/s (p50 ${ours.p50Ms} / p99 ${ours.p99Ms} ms), baseline ${baseline.rps}/s (p99 ${baseline.p99Ms} ms), load ${load0}`,
      );
      const r = rows.at(-1)!;
      console.error(`  cpu µs/request ours ${JSON.stringify(r.cpuUsPerRequest.ours)}`);
      console.error(`  cpu µs/request baseline ${JSON.stringify(r.cpuUsPerRequest.baseline)}`);
    }
    // Let webhooks, the relay and the sweep settle, then compare the ledger with the processor's records.
    let ledger: Ledger;
    let state: { charges: SandboxObject[]; refunds: SandboxObject[] };
    if (setup === 'production-like') {
      const deadline = Date.now() + 60_000;
      do {
        await sleep(2_000);
        ledger = await started.ledger();
      } while (
        ledger.payments.some((p) => p.status === 'processing' || p.status === 'unknown') &&
        Date.now() < deadline
      );
      state = (await (await fetch(`${started.sandboxUrl}/_sandbox/state`)).json()) as typeof state;
      await started.stopOurs();
    } else {
      await sleep(5_000);
      state = (await (await fetch(`${started.sandboxUrl}/_sandbox/state`)).json()) as typeof state;
      await started.stopOurs(); // PGlite is one process's: the folder is read once the gateway has stopped
      ledger = await started.ledger();
    }
    const check = checkLedger(ledger, state, answered, CONNECTIONS * 2 * SCENARIOS.length);
    await started.stop(); // profiles are written when the processes exit
    const profile = started.profileDirs
      ? {
          ours: summariseProfile(started.profileDirs.ours),
          baseline: summariseProfile(started.profileDirs.baseline),
        }
      : undefined;
    return { rows, idleRssMb: started.idleRssMb, mixPeakRssMb: mixPeak, ledger: check, profile };
  } finally {
    await started.stop();
  }
}

function goals(rows: Row[], mem: Record<string, { idle: number; mix: number }>) {
  const at = (setup: string, scenario: string) =>
    rows.find((r) => r.setup === setup && r.scenario === scenario);
  const out: Array<{ goal: string; value: string; met: boolean }> = [];
  const add = (goal: string, value: number | undefined, met: (v: number) => boolean, unit = '') => {
    if (value === undefined || Number.isNaN(value)) return;
    out.push({ goal, value: `${value}${unit}`, met: met(value) });
  };
  const p = 'production-like';
  add('production-like read ratio ≥ 0.6', at(p, 'read')?.ratio, (v) => v >= 0.6);
  add('production-like read ≥ 5,000 req/s', at(p, 'read')?.ours.rps, (v) => v >= 5_000, ' req/s');
  const r1k = at(p, 'read@1000');
  add(
    'production-like read p99 overhead at 1,000 req/s < 5 ms',
    r1k && r1k.ours.p99Ms - r1k.baseline.p99Ms,
    (v) => v < 5,
    ' ms',
  );
  add('production-like payment ratio ≥ 0.6', at(p, 'payment')?.ratio, (v) => v >= 0.6);
  add('production-like payments ≥ 500/s', at(p, 'payment')?.ours.rps, (v) => v >= 500, '/s');
  add(
    'production-like payment p99 < 50 ms at 16 connections',
    at(p, 'payment')?.ours.p99Ms,
    (v) => v < 50,
    ' ms',
  );
  add(
    'readiness ≥ 10,000 req/s (production-like)',
    at(p, 'readiness')?.ours.rps,
    (v) => v >= 10_000,
    ' req/s',
  );
  add('production-like gateway RSS idle ≤ 150 MB', mem[p]?.idle, (v) => v <= 150, ' MB');
  add('production-like gateway RSS under the mix ≤ 250 MB', mem[p]?.mix, (v) => v <= 250, ' MB');
  const d = 'npm-start';
  add('npm start reads ≥ 3,000 req/s', at(d, 'read')?.ours.rps, (v) => v >= 3_000, ' req/s');
  add('npm start payments ≥ 300/s', at(d, 'payment')?.ours.rps, (v) => v >= 300, '/s');
  add('npm start whole tree RSS ≤ 350 MB (idle)', mem[d]?.idle, (v) => v <= 350, ' MB');
  add('npm start whole tree RSS ≤ 350 MB (under the mix)', mem[d]?.mix, (v) => v <= 350, ' MB');
  return out;
}

export async function run(): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'carebridge-bench-gateway-'));
  const rows: Row[] = [];
  const mem: Record<string, { idle: number; mix: number }> = {};
  const ledgers: Record<string, unknown> = {};
  const profiles: Record<string, unknown> = {};
  try {
    for (const setup of SETUPS) {
      const setupDir = path.join(dir, setup);
      execFileSync('mkdir', ['-p', setupDir]);
      const r = await runSetup(setup, setupDir);
      rows.push(...r.rows);
      mem[setup] = { idle: r.idleRssMb.ours, mix: r.mixPeakRssMb?.ours ?? Number.NaN };
      mem[`${setup} baseline`] = { idle: r.idleRssMb.baseline, mix: r.mixPeakRssMb?.baseline ?? Number.NaN };
      ledgers[setup] = r.ledger;
      if (r.profile) profiles[setup] = r.profile;
    }
  } finally {
    if (!env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    else console.error(`kept ${dir}`);
  }
  const table = rows.map((r) => ({
    setup: r.setup,
    scenario: r.scenario,
    'ours req/s': r.ours.rps,
    'ours p50/p99 ms': `${r.ours.p50Ms}/${r.ours.p99Ms}`,
    'baseline req/s': r.baseline.rps,
    'baseline p50/p99 ms': `${r.baseline.p50Ms}/${r.baseline.p99Ms}`,
    ratio: r.ratio,
    failed: r.ours.failed + r.baseline.failed,
    loadavg: r.load,
  }));
  const met = goals(rows, mem);
  for (const g of met) console.error(`${g.met ? 'MET ' : 'MISS'} ${g.goal}: ${g.value}`);
  for (const [setup, m] of Object.entries(mem))
    console.error(`RSS ${setup}: idle ${m.idle} MB, mix peak ${m.mix} MB`);
  for (const [setup, l] of Object.entries(ledgers)) console.error(`ledger ${setup}: ${JSON.stringify(l)}`);
  for (const [setup, p] of Object.entries(profiles))
    for (const [side, summary] of Object.entries(p as Record<string, ReturnType<typeof summariseProfile>>))
      console.error(
        `cpu profile ${setup} ${side}:\n  ${[...summary.byFile, '--', ...summary.byFunction].join('\n  ')}`,
      );
  const headline = rows.find((r) => r.setup === 'production-like' && r.scenario === 'read') ?? rows[0];
  return {
    ours: headline ? { scenario: `${headline.setup} ${headline.scenario}`, ...headline.ours } : {},
    baseline: headline ? { scenario: `${headline.setup} ${headline.scenario}`, ...headline.baseline } : {},
    ratio: headline?.ratio ?? 0,
    table,
    rows,
    memoryMb: mem,
    ledger: ledgers,
    goals: met,
    profiles,
    seconds: SECONDS,
    connections: CONNECTIONS,
  };
}
