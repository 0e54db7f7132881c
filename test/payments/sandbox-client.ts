import { signV1 } from '../../src/protocols/signing/index.js';

/** A minimal signed client for talking to the payments sandbox directly in tests. */
export function sandboxClient(
  baseUrl: string,
  apiKey = 'pk_test_carebridge',
  secrets = ['sk_test_carebridge'],
) {
  return async function call(
    method: string,
    path: string,
    body?: unknown,
    opts: { idempotencyKey?: string; headers?: Record<string, string>; sign?: boolean } = {},
  ): Promise<{ status: number; headers: Headers; body: any }> {
    const url = new URL(path, baseUrl);
    const raw = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {
      ...(raw ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    };
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    if (opts.sign !== false)
      Object.assign(headers, signV1({ method, url, headers, body: raw }, { apiKey, secrets }));
    const res = await fetch(url, { method, headers, body: raw });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
}

export async function control(baseUrl: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(new URL(path, baseUrl), {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}
