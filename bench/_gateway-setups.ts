/**
 * The two setups of bench/gateway.ts, each with its baseline process beside it (bench/_gateway-baseline.ts):
 * `production-like` (compiled gateway on Postgres, every counterpart its own `carebridge sandbox` process) and
 * `npm-start` (`npm start` itself: PGlite, sandboxes in-process).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { PgliteStore } from '../src/kernel/store/pglite-store.js';
import {
  ADMIN_DB,
  admin,
  freePort,
  launch,
  type Proc,
  processTree,
  ROOT,
  sleep,
  treeRssMb,
  vhost,
  waitForLine,
  waitReady,
} from './_gateway-processes.js';

const env = process.env;
export const SEED_PAYMENTS = 200;

/** `fn` run at most once; later calls get the first call's promise. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= fn();
    return done;
  };
}
const json = { 'content-type': 'application/json' };

/** One side of a comparison: where it answers, how callers authenticate, the payments seeded for reads. */
export interface Side {
  name: 'ours' | 'baseline';
  url: string;
  headers: Record<string, string>;
  paymentIds: string[];
  /** Process whose tree RSS is sampled. */
  pid: number;
}

export interface Running {
  ours: Side;
  baseline: Side;
  /** The payments sandbox the gateway calls (its /_sandbox/state is the processor's truth). */
  sandboxUrl: string;
  /** Reads the gateway's ledger (after `stopOurs` for PGlite). */
  ledger(): Promise<Ledger>;
  stopOurs(): Promise<void>;
  stop(): Promise<void>;
  idleRssMb: { ours: number; baseline: number };
  /** With BENCH_CPU_PROF: where each side's `node --cpu-prof` writes (production-like only). */
  profileDirs?: { ours: string; baseline: string };
  /** Each side's processes by part (gateway, sandboxes, its Postgres backends), for CPU time per request. */
  parts(): Promise<Record<'ours' | 'baseline', Record<string, number[]>>>;
}

export interface Ledger {
  payments: Array<{ id: string; status: string; provider_charge_id: string | null; created_at: Date }>;
  refunds: Array<{ id: string; status: string; provider_refund_id: string | null }>;
}

const LEDGER_SQL = {
  payments: 'SELECT id, status, provider_charge_id, created_at FROM payments',
  refunds: 'SELECT id, status, provider_refund_id FROM payment_refunds',
};

async function token(url: string): Promise<string> {
  const r = await fetch(`${url}/v1/auth/token`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ username: 'admin', password: 'carebridge-dev-admin' }),
  });
  if (!r.ok) throw new Error(`sign-in failed: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { access_token: string }).access_token;
}

export async function seed(side: Side): Promise<void> {
  for (let i = 0; i < SEED_PAYMENTS; i++) {
    const r = await fetch(`${side.url}/v1/payments`, {
      method: 'POST',
      headers: { ...side.headers, ...json, 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        amount: 100_000,
        currency: 'USD',
        customerId: 'cus_seed',
        paymentMethod: 'pm_card_visa',
      }),
    });
    if (r.status !== 201) throw new Error(`${side.name}: seeding answered ${r.status} ${await r.text()}`);
    side.paymentIds.push(((await r.json()) as { id: string }).id);
  }
}

const COMMON_ENV = {
  CAREBRIDGE_PROFILE: 'development',
  // One bench caller is one principal; the per-caller limit (600/min) is not what is measured.
  CAREBRIDGE_PRINCIPAL_RATE_LIMIT_PER_MINUTE: '1000000',
  PAYMENTS_API_KEY: 'pk_test_bench',
  PAYMENTS_API_SECRETS: 'sk_test_carebridge_bench_1',
  PAYMENTS_WEBHOOK_SECRETS: 'whsec_carebridge_bench_1',
};

async function startBaseline(
  dir: string,
  extra: Record<string, string>,
  port?: number,
): Promise<Side & { proc: Proc }> {
  port ??= await freePort();
  const log = path.join(dir, 'baseline.log');
  const proc = launch(
    'baseline',
    process.execPath,
    [
      ...(env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, 'cpu-prof-baseline')}`] : []),
      '--import',
      'tsx',
      'bench/_gateway-baseline.ts',
    ],
    {
      BASELINE_PORT: String(port),
      BASELINE_API_KEY: COMMON_ENV.PAYMENTS_API_KEY,
      BASELINE_API_SECRET: COMMON_ENV.PAYMENTS_API_SECRETS,
      BASELINE_WEBHOOK_SECRET: COMMON_ENV.PAYMENTS_WEBHOOK_SECRETS,
      ...extra,
    },
    log,
  );
  const url = await waitForLine(log, /baseline listening on (\S+)/, proc);
  return { name: 'baseline', url, headers: {}, paymentIds: [], pid: proc.child.pid!, proc };
}

export async function productionLike(dir: string): Promise<Running> {
  if (!env.BENCH_NO_BUILD) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const db = `cb_bench_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${db}`));
  await admin((c) => c.query(`CREATE DATABASE ${db}_base`));
  const dbUrl = (name: string) => ADMIN_DB.replace(/\/[^/]*$/, `/${name}`);
  const mq = vhost();
  const procs: Proc[] = [];
  const cli = (name: string, args: string[], extra: Record<string, string> = {}) => {
    const log = path.join(dir, `${name}.log`);
    const p = launch(name, process.execPath, ['dist/cli/main.js', ...args], { ...COMMON_ENV, ...extra }, log);
    procs.push(p);
    return { p, log };
  };
  try {
    const gatewayPort = await freePort();
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const pay = cli('sandbox-payments', ['sandbox', 'payments'], {
      PAYMENTS_WEBHOOK_URL: `${gatewayUrl}/webhooks/payments`,
    });
    const baselinePort = await freePort();
    const payBase = cli('sandbox-payments-baseline', ['sandbox', 'payments'], {
      PAYMENTS_WEBHOOK_URL: `http://127.0.0.1:${baselinePort}/webhooks/payments`,
    });
    const users = cli('sandbox-users', ['sandbox', 'users']);
    const notes = cli('sandbox-notifications', ['sandbox', 'notifications'], { RABBITMQ_URL: mq.url });
    const sandboxUrl = await waitForLine(pay.log, /listening on (\S+)/, pay.p);
    const baseSandboxUrl = await waitForLine(payBase.log, /listening on (\S+)/, payBase.p);
    const usersTarget = await waitForLine(users.log, /USERS_TARGET=(\S+)/, users.p);
    const keyFile = await waitForLine(users.log, /USERS_SERVICE_ACCOUNT_KEY_FILE=(\S+)/, users.p);
    await waitForLine(notes.log, /listening on (\S+)/, notes.p);
    const profileDir = env.BENCH_CPU_PROF ? path.join(dir, 'cpu-prof') : undefined;
    const gateway = launch(
      'gateway',
      process.execPath,
      [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), 'dist/cli/main.js', 'start'],
      {
        ...COMMON_ENV,
        PORT: String(gatewayPort),
        DATABASE_URL: dbUrl(db),
        CAREBRIDGE_DATA_DIR: path.join(dir, 'gateway-data'),
        PAYMENTS_BASE_URL: sandboxUrl,
        USERS_TARGET: usersTarget,
        USERS_SERVICE_ACCOUNT_KEY_FILE: keyFile,
        RABBITMQ_URL: mq.url,
        CAREBRIDGE_NOTIFICATIONS_SANDBOX: 'false',
      },
      path.join(dir, 'gateway.log'),
    );
    procs.push(gateway);
    await waitReady(gatewayUrl, gateway);
    const base = await startBaseline(
      dir,
      { BASELINE_DATABASE_URL: dbUrl(`${db}_base`), BASELINE_SANDBOX_URL: baseSandboxUrl },
      baselinePort,
    );
    procs.push(base.proc);
    const ours: Side = {
      name: 'ours',
      url: gatewayUrl,
      headers: { authorization: `Bearer ${await token(gatewayUrl)}` },
      paymentIds: [],
      pid: gateway.child.pid!,
    };
    await sleep(3_000);
    const idleRssMb = { ours: treeRssMb(ours.pid), baseline: treeRssMb(base.pid) };
    return {
      ours,
      baseline: base,
      sandboxUrl,
      idleRssMb,
      ...(profileDir
        ? { profileDirs: { ours: profileDir, baseline: path.join(dir, 'cpu-prof-baseline') } }
        : {}),
      ledger: async () => {
        const c = new pg.Client({ connectionString: dbUrl(db) });
        await c.connect();
        try {
          return {
            payments: (await c.query(LEDGER_SQL.payments)).rows,
            refunds: (await c.query(LEDGER_SQL.refunds)).rows,
          };
        } finally {
          await c.end();
        }
      },
      parts: async () => {
        const backends = await admin((c) =>
          c.query<{ pid: number; datname: string }>(
            'SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY($1)',
            [[db, `${db}_base`]],
          ),
        );
        const postgres = (name: string) => backends.rows.filter((r) => r.datname === name).map((r) => r.pid);
        return {
          ours: {
            gateway: [gateway.child.pid!],
            'payments sandbox': [pay.p.child.pid!],
            'users sandbox': [users.p.child.pid!],
            'notifications sandbox': [notes.p.child.pid!],
            postgres: postgres(db),
          },
          baseline: {
            baseline: [base.pid],
            'payments sandbox': [payBase.p.child.pid!],
            postgres: postgres(`${db}_base`),
          },
        };
      },
      stopOurs: () => gateway.stop(),
      stop: once(async () => {
        for (const p of procs.reverse()) await p.stop();
        mq.drop();
        await admin((c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
        await admin((c) => c.query(`DROP DATABASE IF EXISTS ${db}_base WITH (FORCE)`));
      }),
    };
  } catch (err) {
    for (const p of procs.reverse()) await p.stop();
    mq.drop();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)).catch(() => {});
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${db}_base WITH (FORCE)`)).catch(() => {});
    throw err;
  }
}

export async function npmStart(dir: string): Promise<Running> {
  const mq = vhost();
  const procs: Proc[] = [];
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const dataDir = path.join(dir, 'npm-start-data');
    const gateway = launch(
      'npm start',
      'npm',
      ['start'],
      { ...COMMON_ENV, PORT: String(port), CAREBRIDGE_DATA_DIR: dataDir, RABBITMQ_URL: mq.url },
      path.join(dir, 'npm-start.log'),
    );
    procs.push(gateway);
    await waitReady(url, gateway);
    const base = await startBaseline(dir, { BASELINE_DATA_DIR: path.join(dir, 'baseline-data') });
    procs.push(base.proc);
    const ready = (await (await fetch(`${url}/health/ready`)).json()) as {
      checks: Record<string, { target?: string }>;
    };
    const ours: Side = {
      name: 'ours',
      url,
      headers: { authorization: `Bearer ${await token(url)}` },
      paymentIds: [],
      pid: gateway.child.pid!,
    };
    await sleep(3_000);
    const idleRssMb = { ours: treeRssMb(ours.pid), baseline: treeRssMb(base.pid) };
    return {
      ours,
      baseline: base,
      sandboxUrl: ready.checks.payments!.target!,
      idleRssMb,
      ledger: async () => {
        // PGlite is one process's: read the folder once the gateway has stopped.
        const store = await PgliteStore.open(dataDir);
        try {
          return {
            payments: (await store.query<Ledger['payments'][number]>(LEDGER_SQL.payments)).rows,
            refunds: (await store.query<Ledger['refunds'][number]>(LEDGER_SQL.refunds)).rows,
          };
        } finally {
          await store.close();
        }
      },
      // Everything, sandboxes and PGlite included, runs in the gateway's process (and the baseline's).
      parts: async () => ({
        ours: { 'npm start tree': processTree(gateway.child.pid!) },
        baseline: { baseline: [base.pid] },
      }),
      stopOurs: () => gateway.stop(),
      stop: once(async () => {
        for (const p of procs.reverse()) await p.stop();
        mq.drop();
      }),
    };
  } catch (err) {
    for (const p of procs.reverse()) await p.stop();
    mq.drop();
    throw err;
  }
}
