import { createSandboxServer, type SandboxServer } from '../common/index.js';
import type { ReferenceNotificationService } from './service.js';

/**
 * The reference service's HTTP control surface (the shared simulator server, on 127.0.0.1, port 0 unless
 * given): `GET /_sandbox/state` (mailbox, bounced mail, SMS log, push log, counts) and `POST /_sandbox/reset`.
 * The service consumes queues, so HTTP faults do not apply to it; its failure modes are the magic values.
 */
export async function startControlServer(
  service: ReferenceNotificationService,
  opts: { port?: number; host?: string } = {},
): Promise<SandboxServer> {
  const server = await createSandboxServer({
    name: 'notifications',
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    routes: () => {},
    reset: () => service.reset(),
    state: () => service.state(),
  });
  await server.listen();
  return server;
}
