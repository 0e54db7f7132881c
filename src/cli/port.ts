import { createServer, type Server } from 'node:net';

export interface PortHold {
  /** Frees the port for the gateway to listen on (right before it does). */
  release(): Promise<void>;
}

/**
 * Listens on the gateway's host and port before the slow part of start-up (store, migrations, sandboxes) and
 * keeps them until the gateway listens, so a port already in use is reported at once, not seconds later, and
 * a second instance starting meanwhile cannot take it. Port 0 (any free port) holds nothing. Rejects with
 * Node's own EADDRINUSE / EACCES error, which carries `port` and `address` for the one-line message.
 */
export async function holdPort(port: number, host: string): Promise<PortHold> {
  if (port === 0) return { release: async () => {} };
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Nobody is served here: a connection made before the gateway listens waits for its own retry.
  server.on('connection', (socket) => socket.destroy());
  return {
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The one line `carebridge start` prints for a port it cannot listen on, or undefined for other errors. */
export function portProblem(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.code === 'EADDRINUSE')
    return `PORT ${e.port} on ${e.address} is already in use (set PORT to another port or stop the other process)`;
  if (e?.code === 'EACCES' && e.syscall === 'listen')
    return `PORT ${e.port} on ${e.address} needs privileges this process does not have (set PORT to 1024 or above)`;
  return undefined;
}
