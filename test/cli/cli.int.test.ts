import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitForListening } from '../support/cli.js';

const base = { CAREBRIDGE_PROFILE: 'test', CAREBRIDGE_DATA_DIR: 'memory://', LOG_LEVEL: 'info' };

describe('carebridge CLI', () => {
  it('exits non-zero with one line naming PORT when PORT is invalid', async () => {
    const r = await runCli(['start'], { ...base, PORT: 'abc' });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/PORT: expected an integer/);
    expect(r.stderr).not.toMatch(/\bat \S+:\d+/);
  });

  it('prints usage for --help and refuses an unknown command', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: carebridge <command>/);
    const bad = await runCli(['launch']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('carebridge: unknown command "launch" (try carebridge --help)');
  });

  it('prints the effective configuration with secrets masked', async () => {
    const r = await runCli(['config'], {
      ...base,
      CAREBRIDGE_DEV_ADMIN_PASSWORD: 'a-very-secret-pw',
      DATABASE_URL: 'postgres://u:pw-in-url@127.0.0.1/x',
      CAREBRIDGE_FEATURE_FLAGS: '-notifications.push.enabled',
    });
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.CAREBRIDGE_DEV_ADMIN_PASSWORD).toBe('********');
    expect(r.stdout).not.toContain('a-very-secret-pw');
    expect(r.stdout).not.toContain('pw-in-url');
    expect(printed.CAREBRIDGE_PROFILE).toBe('test');
    expect(printed.featureFlags).toMatchObject({
      'payments.enabled': true,
      'notifications.enabled': true,
      'notifications.push.enabled': false,
    });
    const typo = await runCli(['config'], { ...base, CAREBRIDGE_FEATURE_FLAGS: '-payments.enable' });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(
      /^CAREBRIDGE_FEATURE_FLAGS: unknown flag "payments\.enable" \(known: payments\.enabled, /,
    );
  });

  it('migrates and reports nothing left to do on the second run', async () => {
    const dir = `${process.env.TMPDIR ?? '/tmp'}/cb-migrate-${process.pid}-${Date.now()}`;
    const first = await runCli(['migrate'], { ...base, CAREBRIDGE_DATA_DIR: dir });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied: 001-kernel/);
    const second = await runCli(['migrate'], { ...base, CAREBRIDGE_DATA_DIR: dir });
    expect(second.stdout.trim()).toBe('nothing to apply');
  });

  it('sandbox reset clears the saved sandbox records and the ledger', async () => {
    const dir = `${process.env.TMPDIR ?? '/tmp'}/cb-sandbox-reset-${process.pid}-${Date.now()}`;
    try {
      const env = { ...base, CAREBRIDGE_DATA_DIR: dir };
      expect((await runCli(['migrate'], env)).code).toBe(0);
      mkdirSync(`${dir}/sandbox`);
      writeFileSync(`${dir}/sandbox/payments.json`, '{}');
      const r = await runCli(['sandbox', 'reset'], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^sandbox state: deleted payments\.json in .*cb-sandbox-reset/m);
      expect(r.stdout).toMatch(/^ledger: cleared users, payments, notifications in pglite:/m);
      expect(existsSync(`${dir}/sandbox/payments.json`)).toBe(false);
      const usage = await runCli(['sandbox'], base);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/carebridge sandbox <payments\|users\|notifications>.*sandbox reset/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('doctor waits for every dependency to answer and prints one line each, RabbitMQ up included', async () => {
    const r = await runCli(['doctor'], base);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^DEPENDENCY\s+TARGET\s+STATUS\s+LATENCY\s+REQUIRED\s+DETAIL$/);
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `));
    expect(row('store')).toMatch(/^store\s+pglite:memory\s+up\s+\d+ ms\s+required\s+pglite$/);
    expect(row('users')).toMatch(/^users\s+grpc:\/\/127\.0\.0\.1:\d+\s+up\s+\d+ ms\s+required\s+SERVING$/);
    // It reported "connecting" before the connection attempt had finished.
    expect(row('rabbitmq')).toMatch(
      /^rabbitmq\s+amqp:\/\/\*\*\*@127\.0\.0\.1:5672\s+up\s+\d+ ms\s+optional\s+connected$/,
    );
    expect(row('notifications-sandbox')).toMatch(/\sup\s/);
    expect(row('payments')).toMatch(/^payments\s+http:\/\/127\.0\.0\.1:\d+\s+up\s/);
    expect(lines.at(-1)).toBe('up: every dependency is up');
  });

  it('doctor --json names the broker’s refusal in plain words and stays 0 for an optional dependency', async () => {
    const r = await runCli(['doctor', '--json'], {
      ...base,
      RABBITMQ_URL: 'amqp://cb_nobody:not-the-password@127.0.0.1:5672/',
    });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      status: string;
      checks: Record<string, { status: string; target: string; detail: string; latencyMs: number }>;
    };
    expect(report.status).toBe('degraded');
    expect(report.checks.rabbitmq).toMatchObject({
      status: 'down',
      target: 'amqp://***@127.0.0.1:5672/',
      detail:
        "access refused: login refused for user 'cb_nobody' (check RABBITMQ_URL / RABBITMQ_USERNAME / RABBITMQ_PASSWORD)",
    });
    expect(report.checks.rabbitmq?.latencyMs).toBeTypeOf('number');
    expect(report.checks.store?.status).toBe('up');
    expect(r.stdout + r.stderr).not.toContain('not-the-password');
  });

  it('doctor reports a store it cannot open and exits 1', async () => {
    const r = await runCli(['doctor'], {
      ...base,
      DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:5432/cb_no_such_db',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^store\s+postgres:\/\/\*\*\*@127\.0\.0\.1:5432\/cb_no_such_db\s+down\s+-\s+required\s+database "cb_no_such_db" does not exist \(check the database name in DATABASE_URL\)/m,
    );
    expect(r.stdout.trim().split('\n').at(-1)).toBe('down: not ready: a required dependency is down');
  });

  it('serves health and exits 0 on SIGTERM', async () => {
    const child = spawnCli(['start'], { ...base, PORT: '0' });
    const url = await waitForListening(child);
    const live = await fetch(`${url}/health/live`);
    expect(live.status).toBe(200);
    const ready = (await (await fetch(`${url}/health/ready`)).json()) as {
      checks: Record<string, { status: string }>;
    };
    expect(ready.checks.store?.status).toBe('up');
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
