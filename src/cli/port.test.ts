import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { holdPort, portProblem } from './port.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function occupied(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  servers.push(s);
  await once(s, 'listening');
  return (s.address() as { port: number }).port;
}

describe('holding the gateway port before start-up', () => {
  it('fails at once on a port in use, with the one line the CLI prints', async () => {
    const port = await occupied();
    const err = await holdPort(port, '127.0.0.1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(portProblem(err)).toBe(
      `PORT ${port} on 127.0.0.1 is already in use (set PORT to another port or stop the other process)`,
    );
  });

  it('keeps the port from others until released, then the gateway can listen on it', async () => {
    const port = await occupied();
    await new Promise((r) => servers.pop()!.close(r));
    const hold = await holdPort(port, '127.0.0.1');
    await expect(holdPort(port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await hold.release();
    const gateway = createServer().listen(port, '127.0.0.1');
    servers.push(gateway);
    await once(gateway, 'listening');
  });

  it('holds nothing for port 0 (any free port), and names no other error', async () => {
    await (await holdPort(0, '127.0.0.1')).release();
    expect(portProblem(new Error('boom'))).toBeUndefined();
  });
});
