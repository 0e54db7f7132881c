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
    });
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.CAREBRIDGE_DEV_ADMIN_PASSWORD).toBe('********');
    expect(r.stdout).not.toContain('a-very-secret-pw');
    expect(r.stdout).not.toContain('pw-in-url');
    expect(printed.CAREBRIDGE_PROFILE).toBe('test');
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
      expect(usage.stderr).toMatch(/carebridge sandbox reset/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('doctor prints the readiness of every dependency and exits 0 when the required ones are up', async () => {
    const r = await runCli(['doctor'], base);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { status: string; checks: Record<string, { status: string }> };
    expect(report.checks.store?.status).toBe('up');
    expect(Object.keys(report.checks)).toEqual(
      expect.arrayContaining(['store', 'users', 'payments', 'outbox']),
    );
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
