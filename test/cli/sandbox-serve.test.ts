import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserServiceIntegration } from '../../src/integrations/users/index.js';
import { createLogger, Metrics } from '../../src/kernel/telemetry/index.js';
import { runCli, spawnCli } from '../support/cli.js';

const base = { CAREBRIDGE_PROFILE: 'test', CAREBRIDGE_DATA_DIR: 'memory://', LOG_LEVEL: 'warn' };

/** The lines a `carebridge sandbox <name>` prints once it listens (written in one go). */
function started(child: ChildProcess): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d) => (err += d));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on ') && out.endsWith('\n')) resolve(out.trim().split('\n'));
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${err.slice(0, 500)}`)));
  });
}

function stopped(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

describe('carebridge sandbox <name>', () => {
  it('runs the payments sandbox as its own process: signed API, control routes, clean stop', async () => {
    const child = spawnCli(['sandbox', 'payments', '--port', '0'], base);
    try {
      const lines = await started(child);
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(lines[0] ?? '')?.[1];
      expect(url, lines.join('\n')).toBeDefined();
      expect(lines).toContain(`  gateway: PAYMENTS_BASE_URL=${url}`);
      const state = await fetch(`${url}/_sandbox/state`);
      expect(state.status).toBe(200);
      expect(((await state.json()) as { counts: { charges: number } }).counts.charges).toBe(0);
      expect((await fetch(`${url}/api/v1/health`)).status).toBe(401); // unsigned
    } finally {
      expect(await stopped(child)).toBe(0);
    }
  });

  it('runs the user service with the gateway’s service account registered, from the key file it prints', async () => {
    const child = spawnCli(['sandbox', 'users', '--port', '0'], base);
    try {
      const lines = await started(child);
      const target = lines.find((l) => l.includes('USERS_TARGET='))?.split('=')[1];
      const keyFile = lines.find((l) => l.includes('USERS_SERVICE_ACCOUNT_KEY_FILE='))?.split('=')[1];
      expect(target, lines.join('\n')).toMatch(/^127\.0\.0\.1:\d+$/);
      const users = new UserServiceIntegration({
        target: target!,
        tls: false,
        serviceAccount: { id: 'svc_gateway', privateKey: readFileSync(keyFile!, 'utf8') },
        metrics: new Metrics({ defaultMetrics: false }),
        logger: createLogger({ level: 'silent' }),
      });
      try {
        expect(await users.checkHealth()).toMatchObject({ status: 'up' });
        expect((await users.getJwks()).keys.length).toBeGreaterThan(0);
      } finally {
        users.close();
      }
    } finally {
      expect(await stopped(child)).toBe(0);
    }
  });

  it('refuses an unknown sandbox or option with exit 2 and the usage', async () => {
    const unknown = await runCli(['sandbox', 'shipping'], base);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /unknown sandbox "shipping" \(usage: carebridge sandbox <payments\|users\|notifications>/,
    );
    const badPort = await runCli(['sandbox', 'payments', '--port', '70000'], base);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr.trim()).toBe('carebridge sandbox: --port must be 0–65535, got "70000"');
  });
});
