import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../../../test/users/certs.js';
import { Metrics } from '../telemetry/index.js';
import { createLogger } from '../telemetry/logger.js';
import { HttpClient, type HttpClientOptions } from './http-client.js';

let pki: TestPki;
let server: Server;
let url: string;
const logger = createLogger({ level: 'silent' });

beforeAll(async () => {
  pki = makeTestPki();
  server = createServer(
    { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ client: peer.subject?.CN ?? null }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function call(extra: Partial<HttpClientOptions>) {
  const c = new HttpClient({
    baseUrl: url,
    integration: 'payer',
    metrics: new Metrics({ defaultMetrics: false }),
    logger,
    ...extra,
  });
  try {
    return await c.request<{ client: string | null }>({ method: 'GET', path: '/who', operation: 'who' });
  } finally {
    await c.close();
  }
}

describe('HttpClient TLS', () => {
  it('presents a client certificate for mTLS and trusts a custom CA', async () => {
    const res = await call({ tls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key } });
    expect(res.body).toEqual({ client: 'client' });
  });

  it('refuses a server whose certificate it cannot verify, as a non-retryable TLS error', async () => {
    await expect(call({ tls: { cert: pki.client.cert, key: pki.client.key } })).rejects.toMatchObject({
      code: 'UPSTREAM_TLS_ERROR',
      retryable: false,
      details: { notSent: true },
    });
  });

  it('is refused by a server that requires a client certificate when none is sent', async () => {
    await expect(call({ tls: { ca: pki.ca } })).rejects.toMatchObject({ isCareBridgeError: true });
  });

  it('skips verification only when told to', async () => {
    const res = await call({
      tls: { rejectUnauthorized: false, cert: pki.client.cert, key: pki.client.key },
    });
    expect(res.status).toBe(200);
  });
});

describe('HttpClient debug logging', () => {
  it('logs each attempt at debug with secrets redacted and without the query string', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const c = new HttpClient({
      baseUrl: url,
      integration: 'payer',
      metrics: new Metrics({ defaultMetrics: false }),
      logger: createLogger({ level: 'debug', destination: sink }),
      tls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key },
    });
    try {
      await c.request({
        method: 'GET',
        path: '/who',
        query: { memberId: 'W000000001' },
        headers: { Authorization: 'Bearer sk_test_secret' },
        operation: 'who',
      });
    } finally {
      await c.close();
    }
    const line = lines.find((l) => l.includes('outbound http'));
    expect(line).toBeDefined();
    const entry = JSON.parse(line as string);
    expect(entry).toMatchObject({ level: 'debug', integration: 'payer', operation: 'who', outcome: 200 });
    expect(entry.request.url).toBe(`${url}/who`);
    expect(entry.request.headers.authorization).toBe('[REDACTED]');
    expect(line).not.toContain('sk_test_secret');
    expect(line).not.toContain('W000000001');
  });
});
