import { once } from 'node:events';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../kernel/telemetry/index.js';
import { RabbitConnection } from './connection.js';

const HOST = process.env.TEST_RABBITMQ_HOST ?? '127.0.0.1:5672';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('RabbitMQ connection: why it is down, in words', () => {
  let conn: RabbitConnection | undefined;
  afterEach(async () => {
    await conn?.close();
    conn = undefined;
  });

  /** Connects with fast retries and waits until `attempts` attempts have failed. */
  async function failing(url: string, attempts = 3, username?: string) {
    const log = capture();
    conn = new RabbitConnection({
      url,
      ...(username ? { username } : {}),
      logger: log.logger,
      initialDelayMs: 5,
      maxDelayMs: 20,
    });
    expect(conn.health()).toEqual({ status: 'down', detail: 'connecting', pending: true });
    for (let i = 0; i < attempts; i++) await once(conn, 'connect-failed');
    const warnings = log.lines.filter((l) => l.level === 'warn');
    return { health: conn.health(), warnings };
  }

  it('says the login was refused, for which user, once however often it retries', async () => {
    const { health, warnings } = await failing(`amqp://nobody:wrong@${HOST}/`);
    const reason =
      "access refused: login refused for user 'nobody' (check RABBITMQ_URL / RABBITMQ_USERNAME / RABBITMQ_PASSWORD)";
    expect(health).toMatchObject({ status: 'down', detail: reason });
    expect(health.pending).toBeUndefined();
    expect(health.latencyMs).toBeTypeOf('number');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      msg: `RabbitMQ unavailable: ${reason}`,
      reason,
      target: `amqp://***@${HOST}/`,
    });
    expect(JSON.stringify(warnings)).not.toContain('wrong');
  });

  it('names the user that RABBITMQ_USERNAME overrides the URL with', async () => {
    const { health } = await failing(`amqp://guest:guest@${HOST}/`, 1, 'svc-notify');
    expect(health.detail).toMatch(/^access refused: login refused for user 'svc-notify'/);
  });

  it('says the vhost does not exist (or is not the user’s)', async () => {
    const { health, warnings } = await failing(`amqp://guest:guest@${HOST}/cb-no-such-vhost`);
    expect(health.detail).toBe(
      "access refused: vhost 'cb-no-such-vhost' does not exist or user 'guest' has no permissions on it (check the vhost, the path of RABBITMQ_URL)",
    );
    expect(warnings).toHaveLength(1);
  });

  it('says nothing listens at the address', async () => {
    const { health } = await failing('amqp://guest:guest@127.0.0.1:1/', 2);
    expect(health.detail).toBe(
      'connection refused by 127.0.0.1:1 (nothing listens there) (check RABBITMQ_URL)',
    );
  });

  it('is up with the handshake latency once connected, and pending before its first answer', async () => {
    const log = capture();
    conn = new RabbitConnection({ url: `amqp://guest:guest@${HOST}/`, logger: log.logger });
    expect(conn.health().pending).toBe(true);
    await conn.waitUntilConnected(10_000);
    const health = conn.health();
    expect(health).toMatchObject({ status: 'up', detail: 'connected' });
    expect(health.latencyMs).toBeGreaterThan(0);
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });
});
