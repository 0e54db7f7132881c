import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVhost } from '../notifications/harness.js';
import { cliEnv, ROOT, runCli, spawnCli, waitForListening } from '../support/cli.js';

// Every gateway here gets its own RabbitMQ vhost: none consumes another process's delivery reports.
const vhost = createVhost();
afterAll(() => vhost.drop());
const base = {
  CAREBRIDGE_PROFILE: 'test',
  CAREBRIDGE_DATA_DIR: 'memory://',
  LOG_LEVEL: 'info',
  RABBITMQ_URL: vhost.url,
};

function collect(child: ChildProcess): { out: () => string; exited: Promise<number | null> } {
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { out: () => out, exited };
}

const messages = (jsonLines: string) =>
  jsonLines
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; component?: string });

describe('carebridge start, as a person runs it', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'cb-startup-'));
    return () => rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports a port already in use in one line, before any start-up work, and exits 1', async () => {
    const taken: Server = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as { port: number };
    try {
      const r = await runCli(['start'], { ...base, PORT: String(port), HOST: '127.0.0.1' });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `PORT ${port} on 127.0.0.1 is already in use (set PORT to another port or stop the other process)\n`,
      );
      // Nothing was started: no store opened, no sandbox, not even the "starting" line.
      expect(r.stdout).toBe('');
    } finally {
      taken.close();
    }
  });

  it('logs each component stopping, the store closing and a final "stopped" line on SIGINT', async () => {
    const child = spawnCli(['start'], { ...base, PORT: '0' });
    const { out, exited } = collect(child);
    await waitForListening(child);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const lines = messages(out());
    const after = lines.slice(lines.findIndex((l) => l.msg.startsWith('shutting down')));
    expect(after.map((l) => (l.component ? `${l.msg}: ${l.component}` : l.msg))).toEqual([
      'shutting down (send the signal again to exit at once)',
      'http server closed',
      'component stopped: background workers',
      'component stopped: notifications',
      'component stopped: payments',
      'component stopped: users',
      'component stopped: rate limits',
      'component stopped: feature flags',
      'store closed',
      'stopped',
    ]);
  });

  it('exits at once with 130 on a second SIGINT while a request holds the graceful stop', async () => {
    const child = spawnCli(['start'], { ...base, PORT: '0', CAREBRIDGE_SHUTDOWN_TIMEOUT_MS: '60000' });
    const { out, exited } = collect(child);
    const url = new URL(await waitForListening(child));
    // A request whose body never arrives: the graceful stop waits for it. "100 Continue" says the server has
    // taken the request in (before that, the connection would count as idle and be closed at once).
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => {});
    socket.write(
      'POST /v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n' +
        'Expect: 100-continue\r\n\r\n',
    );
    const [first] = (await once(socket, 'data')) as [Buffer];
    expect(first.toString()).toMatch(/^HTTP\/1\.1 100 Continue/);
    child.kill('SIGINT');
    await expect.poll(() => out()).toMatch(/"msg":"shutting down/);
    const asked = performance.now();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(performance.now() - asked).toBeLessThan(10_000);
    socket.destroy();
    expect(messages(out()).at(-1)?.msg).toBe('second SIGINT: exiting without waiting for the stop to finish');
  });

  it('refuses a second process on the same data directory at once, naming the first; works after it stops', async () => {
    const env = { ...base, CAREBRIDGE_DATA_DIR: dataDir };
    const gateway = spawnCli(['start'], { ...env, PORT: '0' });
    const { exited } = collect(gateway);
    await waitForListening(gateway);
    try {
      const migrate = await runCli(['migrate'], env);
      expect(migrate.code).toBe(1);
      expect(migrate.stderr).toBe(
        `carebridge: CAREBRIDGE_DATA_DIR ${dataDir} is in use by another CareBridge process (pid ${gateway.pid}); ` +
          `stop it first, or give each process its own CAREBRIDGE_DATA_DIR (if no process ${gateway.pid} runs ` +
          `CareBridge, delete ${path.join(dataDir, 'carebridge.lock')})\n`,
      );
      const second = await runCli(['start'], { ...env, PORT: '0' });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        /^carebridge: CAREBRIDGE_DATA_DIR .* is in use by another CareBridge process/,
      );
      const reset = await runCli(['sandbox', 'reset'], env);
      expect(reset.code).toBe(1);
      expect(reset.stderr).toMatch(/in use by (a running|another) CareBridge process \(pid \d+\)/);
    } finally {
      gateway.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    expect((await runCli(['migrate'], env)).stdout).toBe('nothing to apply\n');
    const reset = await runCli(['sandbox', 'reset'], env);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/^ledger: cleared users, payments, notifications in pglite:/m);
  });

  it('at a terminal in development prints readable logs and a summary of addresses and dependencies', async () => {
    // A pseudo-terminal around the CLI (util-linux `script`): stdout is a TTY as at a person's shell.
    const cmd = `exec ${process.execPath} --import tsx src/cli/main.ts start`;
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      cwd: ROOT,
      env: cliEnv({ ...base, CAREBRIDGE_PROFILE: 'development', PORT: '0', NO_COLOR: '1', TERM: 'xterm' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const { out, exited } = collect(child);
    await expect.poll(() => out(), { timeout: 60_000, interval: 200 }).toMatch(/^Ctrl-C stops it/m);
    const text = out().replace(/\r\n/g, '\n');
    const url = text.match(/^ {2}gateway {4}(http:\/\/127\.0\.0\.1:\d+)$/m)?.[1];
    expect(url).toBeDefined();
    expect(text).toContain(`  API docs   ${url}/docs\n`);
    expect(text).toMatch(/^CareBridge is ready: development profile, started in \d+\.\d s$/m);
    expect(text).toMatch(/^ {4}users +grpc:\/\/127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^ {4}payments +http:\/\/127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^ {4}notifications +http:\/\/127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^ {4}store +up +pglite:memory$/m);
    expect(text).toMatch(/^ {4}rabbitmq +up +amqp:\/\/\*\*\*@127\.0\.0\.1:5672\/cb_test_\w+$/m);
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}starting CareBridge {2}profile=development$/m);
    expect(text).not.toContain('{"level"');
    child.stdin.write('\x03'); // Ctrl-C at the terminal
    expect(await exited).toBe(0);
    expect(out().replace(/\r\n/g, '\n')).toMatch(/INFO {2}stopped {2}ms=\d+\n$/);
  });
});
