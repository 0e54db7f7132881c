import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import type { RuntimeContext } from '../../src/cli/components/component.js';
import { type NotificationsHandle, notificationsComponent } from '../../src/cli/components/notifications.js';
import { OutboxRelay, type Store } from '../../src/kernel/store/index.js';
import { testRuntimeContext } from '../support/runtime-context.js';

/**
 * RabbitMQ isolation for tests: every suite gets its own vhost (created with rabbitmqctl, deleted after), so
 * queue contents never mix with other suites or with `npm start` on the default vhost.
 */
const RABBIT_HOST = process.env.TEST_RABBITMQ_HOST ?? '127.0.0.1:5672';

export function rabbitmqctl(...args: string[]): string {
  return execFileSync('rabbitmqctl', ['-q', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The same, without blocking the event loop (the broker restart must happen while our process keeps working). */
export function rabbitmqctlAsync(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('rabbitmqctl', ['-q', ...args], { encoding: 'utf8' }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
}

export function createVhost(): { name: string; url: string; drop(): void } {
  const name = `cb_test_${randomBytes(5).toString('hex')}`;
  rabbitmqctl('add_vhost', name);
  rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  return {
    name,
    url: `amqp://guest:guest@${RABBIT_HOST}/${name}`,
    drop: () => {
      try {
        rabbitmqctl('delete_vhost', name);
      } catch {
        /* already gone */
      }
    },
  };
}

export interface Stack {
  handle: NotificationsHandle;
  relay: OutboxRelay;
  ctx: RuntimeContext;
  stop(): Promise<void>;
}

/** The notifications component (gateway side + reference service) and an outbox relay, as `carebridge start` runs them. */
export async function startStack(
  store: Store,
  url: string,
  env: Record<string, string> = {},
): Promise<Stack> {
  let relay: OutboxRelay | undefined;
  const ctx = testRuntimeContext({
    env: { RABBITMQ_URL: url, CAREBRIDGE_NOTIFICATIONS_RETRY_DELAYS_MS: '50,100', ...env },
    store,
    wakeOutbox: () => relay?.wake(),
  });
  const { logger, metrics } = ctx;
  const handle = (await notificationsComponent.start(ctx)) as NotificationsHandle;
  relay = new OutboxRelay({
    store,
    transports: handle.outboxTransports ?? [],
    logger,
    metrics,
    batchSize: 200,
    pollIntervalMs: 50,
    backoffBaseMs: 50,
    backoffMaxMs: 500,
    // With a 50 ms backoff the default 25 attempts would be spent within a short broker outage.
    maxAttempts: 10_000,
  });
  relay.start();
  const r = relay;
  return {
    handle,
    relay: r,
    ctx,
    async stop() {
      await r.stop();
      await handle.stop();
    },
  };
}

/**
 * Records every applied delivery report from the moment it is created, so a test can wait for statuses that
 * may already have arrived (event-driven, no polling).
 */
export class StatusRecorder extends EventEmitter {
  readonly seen = new Map<string, Set<string>>();
  private readonly onReport = (r: { notificationId: string; status: string }) => {
    const s = this.seen.get(r.notificationId) ?? new Set<string>();
    s.add(r.status);
    this.seen.set(r.notificationId, s);
    this.emit('change');
  };

  constructor(private readonly source: EventEmitter) {
    super();
    source.on('report', this.onReport);
  }

  has(id: string, statuses: readonly string[]): boolean {
    const s = this.seen.get(id);
    return !!s && statuses.some((x) => s.has(x));
  }

  /** Resolves once every id has reached one of `statuses`. */
  wait(ids: Iterable<string>, statuses: readonly string[], timeoutMs = 30_000): Promise<void> {
    const waiting = new Set([...ids].filter((id) => !this.has(id, statuses)));
    if (waiting.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('change', check);
        reject(
          new Error(`timed out waiting for ${waiting.size} notifications to reach ${statuses.join('/')}`),
        );
      }, timeoutMs);
      const check = () => {
        for (const id of waiting) if (this.has(id, statuses)) waiting.delete(id);
        if (waiting.size > 0) return;
        clearTimeout(timer);
        this.off('change', check);
        resolve();
      };
      this.on('change', check);
    });
  }

  close(): void {
    this.source.off('report', this.onReport);
  }
}

export { EventEmitter, once };
