import { createSandboxServer, type SandboxServer } from '../common/index.js';
import type { ReferenceNotificationService } from './service.js';

/**
 * The reference service's HTTP control surface (the shared simulator server, on 127.0.0.1, port 0 unless
 * given): `GET /_sandbox/state` (mailbox, bounced mail, SMS log, push log, counts) and `POST /_sandbox/reset`
 * (which forgets them on disk too, and, through `onReset`, the gateway's notifications ledger).
 * The service consumes queues, so HTTP faults do not apply to it; its failure modes are the magic values.
 */
export async function startControlServer(
  service: ReferenceNotificationService,
  opts: {
    port?: number;
    host?: string;
    /** Runs after `POST /_sandbox/reset` cleared the service (the component clears the gateway's ledger here). */
    onReset?: () => void | Promise<void>;
  } = {},
): Promise<SandboxServer> {
  const server = await createSandboxServer({
    name: 'notifications',
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    routes: () => {},
    reset: async () => {
      await service.reset();
      await opts.onReset?.();
    },
    state: () => service.state(),
  });
  await server.listen();
  return server;
}
