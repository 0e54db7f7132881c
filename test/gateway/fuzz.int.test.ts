import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/cli/runtime.js';
import { signWebhookPayload } from '../../src/protocols/signing/index.js';
import { startTestRuntime, tokenFor } from '../support/runtime.js';

/**
 * Hostile input to every operation of the OpenAPI document (and to paths and bodies no document mentions):
 * wrong types, NUL and lone surrogates, huge and deeply nested bodies, bad percent-encoding, long paths,
 * wrong content types, signed webhooks with odd event ids. Every answer must be below 500, every error a
 * problem+json with a documented code, every answer must carry `X-Request-Id` (equal to the body's
 * `requestId` on errors), and no body may hold a stack trace.
 *
 * Replay a failure with `FUZZ_SEED=<seed> npx vitest run test/gateway/fuzz.int.test.ts` (fast-check prints
 * the seed and the shrunk case); `FUZZ_RUNS` sets the number of requests.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_202);
const RUNS = Number(process.env.FUZZ_RUNS ?? 4_000);

const DOCUMENTED_CODES = new Set(
  [
    ...readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8').matchAll(
      /^\| `([A-Z0-9_]+)` \|/gm,
    ),
  ].map((m) => m[1]),
);

interface Operation {
  method: string;
  template: string;
  params: string[];
  query: string[];
  bodyKeys: Array<{ name: string; type?: string; enum?: unknown[] }>;
}

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

describe('fuzzing every documented route', () => {
  let rt: Runtime;
  let adminToken: string;
  let ops: Operation[];
  let webhookSecrets: string[];
  const tally = { requests: 0, byStatus: new Map<number, number>() };

  beforeAll(async () => {
    rt = await startTestRuntime({
      CAREBRIDGE_PRINCIPAL_RATE_LIMIT_PER_MINUTE: '100000',
      CAREBRIDGE_LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE: '100000',
      CAREBRIDGE_LOGIN_RATE_LIMIT_PER_USERNAME_PER_MINUTE: '100000',
    });
    webhookSecrets = [...rt.config.paymentsWebhookSecrets];
    adminToken = await tokenFor(rt, 'admin');
    ops = operationsOf((await rt.app.inject({ url: '/openapi.json' })).json());
  });
  afterAll(async () => {
    console.info(
      `fuzz: ${tally.requests} requests (seed ${SEED}); statuses ${JSON.stringify(Object.fromEntries([...tally.byStatus].sort()))}`,
    );
    await rt?.stop();
  });

  it('finds the documented operations, webhooks included', () => {
    expect(ops.map((o) => `${o.method} ${o.template}`)).toEqual(
      expect.arrayContaining(['POST /v1/payments', 'POST /webhooks/payments', 'GET /health/ready']),
    );
  });

  it('never answers 5xx, a non-problem error, or an answer without a request id', async () => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary(), async (req) => {
        const res = await rt.app.inject(req as never);
        tally.requests++;
        tally.byStatus.set(res.statusCode, (tally.byStatus.get(res.statusCode) ?? 0) + 1);
        const where = `${req.method} ${req.url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
        expect(res.statusCode, where).toBeLessThan(500);
        expect(res.headers['x-request-id'], where).toBeTruthy();
        expect(res.body, where).not.toMatch(/\n\s+at .+:\d+:\d+|node_modules|FST_ERR/);
        if (res.statusCode >= 400) {
          expect(res.headers['content-type'], where).toMatch(/^application\/problem\+json/);
          const problem = res.json() as { code: string; requestId: string; status: number };
          expect(DOCUMENTED_CODES.has(problem.code), `${where}: undocumented code`).toBe(true);
          expect(problem.requestId, where).toBe(res.headers['x-request-id']);
          expect(problem.status, where).toBe(res.statusCode);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });

  /** One request: mostly against a documented operation, sometimes a malformed path of its own. */
  function requestArbitrary(): fc.Arbitrary<FuzzRequest> {
    const opIndex = fc.integer({ min: 0, max: ops.length - 1 });
    const documented = fc
      .tuple(
        opIndex,
        fc.array(pathValue(), { minLength: 3, maxLength: 3 }),
        fc.dictionary(fc.string({ maxLength: 8 }), hostileString(), { maxKeys: 2 }),
        fc.array(hostileString(), { minLength: 3, maxLength: 3 }),
        bodyArbitrary(),
        headersArbitrary(),
        fc.boolean(),
      )
      .map(([i, values, extraQuery, queryValues, body, headers, sign]) => {
        const op = ops[i]!;
        let n = 0;
        const path = op.template.replace(/\{[^}]+\}/g, () => values[n++ % values.length]!);
        const query = new URLSearchParams();
        op.query.forEach((q, k) => {
          if (queryValues[k] !== undefined) query.set(q, queryValues[k]!);
        });
        for (const [k, v] of Object.entries(extraQuery)) query.set(k, v);
        const qs = query.toString();
        const url = `${path}${qs ? `?${qs}` : ''}`;
        const payload = op.method === 'GET' || op.method === 'DELETE' ? undefined : body(op);
        if (op.template.startsWith('/webhooks/') && sign && payload !== undefined) {
          headers['webhook-signature'] = signWebhookPayload(
            payload,
            webhookSecrets,
            Math.floor(Date.now() / 1000),
          );
          headers['content-type'] = 'application/json';
        }
        return { method: op.method, url, headers, ...(payload === undefined ? {} : { payload }) };
      });
    const malformed = fc
      .tuple(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        fc.constantFrom(
          '/v1/payments/%zz',
          '/v1/payments/%',
          '/v1/%E0%A4%A',
          `/v1/payments/${'a'.repeat(250)}`,
          `/v1/${'segment/'.repeat(400)}`,
          '/v1/payments/%00',
          '/v1/payments/.%00.',
          '/v1/payments?cursor=pay_%00',
          '/v1/payments?cursor=%ED%A0%80',
          '/v1/payments?limit=-1&limit=99999999999999999999',
          '/v1/notifications/%ED%A0%80',
          '/webhooks/payments/%zz',
          '/health/ready?x=%zz',
          '/docs/%zz',
          '/..%2F..%2Fetc%2Fpasswd',
        ),
        headersArbitrary(),
      )
      .map(([method, url, headers]) => ({ method, url, headers }));
    return fc.oneof({ weight: 9, arbitrary: documented }, { weight: 1, arbitrary: malformed });
  }

  /** Mostly the headers a well-behaved client sends (so bodies reach the handlers), sometimes hostile ones. */
  function headersArbitrary(): fc.Arbitrary<Record<string, string>> {
    const good = fc.uuid().map((key) => ({
      authorization: `Bearer ${adminToken}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    }));
    return fc.oneof({ weight: 2, arbitrary: good }, { weight: 1, arbitrary: hostileHeaders() });
  }

  function hostileHeaders(): fc.Arbitrary<Record<string, string>> {
    return fc
      .record({
        authorization: fc.constantFrom(
          `Bearer ${adminToken}`,
          `Bearer ${adminToken}`,
          `bearer ${adminToken}`,
          'Bearer not.a.token',
          'Basic YWRtaW46YWRtaW4=',
          '',
        ),
        contentType: fc.constantFrom(
          'application/json',
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded',
          '',
        ),
        idempotencyKey: fc.oneof(fc.uuid(), fc.constantFrom('', 'k'.repeat(300), 'ключ', 'a\tb')),
        apiVersion: fc.constantFrom('', '', '2026-11-01', '1999-01-01', 'x'.repeat(100)),
      })
      .map((h) => {
        const headers: Record<string, string> = {};
        if (h.authorization) headers.authorization = h.authorization;
        if (h.contentType) headers['content-type'] = h.contentType;
        headers['idempotency-key'] = h.idempotencyKey;
        if (h.apiVersion) headers['api-version'] = h.apiVersion;
        return headers;
      });
  }

  /** A body maker per operation: its own keys with good, wrong-typed or hostile values, or raw junk. */
  function bodyArbitrary(): fc.Arbitrary<(op: Operation) => string> {
    const keyed = fc
      .array(fc.tuple(fc.nat(4), hostileString(), fc.jsonValue({ maxDepth: 3 }), fc.integer()), {
        minLength: 8,
        maxLength: 8,
      })
      .map((choices) => (op: Operation) => {
        const body: Record<string, unknown> = {};
        op.bodyKeys.forEach((key, i) => {
          const [kind, text, json, int] = choices[i % choices.length]!;
          if (kind === 0) return; // left out
          body[key.name] = kind === 1 ? text : kind === 2 ? json : plausible(op, key, int);
        });
        return JSON.stringify(body);
      });
    // A body that would be accepted but for one field: reaches the handlers, the ledger and the sandboxes.
    const almostValid = fc
      .tuple(fc.nat(), hostileString(), fc.integer(), fc.boolean())
      .map(([which, text, int, batch]) => (op: Operation) => {
        const body: Record<string, unknown> = {};
        for (const key of op.bodyKeys) {
          if (key.name === 'template' || key.name === 'html' || key.name === 'trialPeriodDays') continue;
          body[key.name] = plausible(op, key, int);
        }
        const keys = Object.keys(body);
        if (keys.length > 0 && which % 3 !== 0) body[keys[which % keys.length]!] = text;
        return JSON.stringify(
          batch && op.template.startsWith('/v1/notifications/') ? { items: [body] } : body,
        );
      });
    const junk = fc
      .oneof(
        fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
        fc.constantFrom(
          '',
          '{',
          '{"amount":',
          'null',
          '[]',
          '"\\u0000"',
          '{"a":"\\ud800"}',
          '{"__proto__":{"admin":true}}',
          '{"constructor":{"prototype":{"x":1}}}',
          `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
          `{"a":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`,
          JSON.stringify({ text: 'x'.repeat(1_100_000) }),
          '\u0000\u0001\u0002',
        ),
      )
      .map((raw) => () => raw);
    return fc.oneof(
      { weight: 3, arbitrary: keyed },
      { weight: 3, arbitrary: almostValid },
      { weight: 1, arbitrary: junk },
    );
  }
});

/** Strings meant to break things: NUL, lone surrogates, control and bidi characters, long and odd text. */
function hostileString(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom(
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udfffy',
      '\u202e\u0007',
      '%00',
      '../../etc/passwd',
      "' OR 1=1 --",
      '<script>alert(1)</script>',
      '${jndi:ldap://x}',
      'a'.repeat(10_000),
      '',
      ' ',
      'pay_',
      'pay_01ARZ3NDEKTSV4RRFFQ69G5FAV',
      '+15005550006',
      'nobody@example.com',
    ),
  );
}

/** A path value: ids that look right, and hostile text, percent-encoded as a client would (lone surrogates too). */
function pathValue(): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.constantFrom(
        'pay_01ARZ3NDEKTSV4RRFFQ69G5FAV',
        'sub_01ARZ3NDEKTSV4RRFFQ69G5FAV',
        'ntf_01ARZ3NDEKTSV4RRFFQ69G5FAV',
        'usr_dev_admin',
        'x',
      ),
      hostileString().map((s) => s.slice(0, 150)),
    )
    .map(encodeWtf8);
}

/** Percent-encodes every UTF-16 code unit, lone surrogates included (encodeURIComponent throws on those). */
function encodeWtf8(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    if (pair) {
      out += encodeURIComponent(s.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out +=
        `%${(0xe0 | (c >> 12)).toString(16)}%${(0x80 | ((c >> 6) & 0x3f)).toString(16)}%${(0x80 | (c & 0x3f)).toString(16)}`.toUpperCase();
    } else {
      out += encodeURIComponent(s[i]!);
    }
  }
  return out || '%20';
}

/** A value the route accepts for a body key (amounts stay clear of the sandbox's magic fault amounts). */
function plausible(op: Operation, key: Operation['bodyKeys'][number], n: number): unknown {
  if (key.enum?.length) return key.enum[Math.abs(n) % key.enum.length];
  const byName: Record<string, unknown> = {
    currency: 'USD',
    paymentMethod: 'pm_card_visa',
    priceId: 'price_basic_monthly',
    customerId: `cus_fuzz_${Math.abs(n) % 10}`,
    receiptEmail: 'nobody@example.com',
    to: op.template.endsWith('/sms') ? '+15005550006' : 'nobody@example.com',
    deviceToken: `fuzz-device-${Math.abs(n)}`,
    subject: op.template.startsWith('/v1/permissions') ? 'usr_dev_admin' : 'Hello',
    permissions: ['payments:read'],
    username: 'admin',
    password: 'not-the-password',
    metadata: { order: `o${n}` },
    data: { k: 'v' },
  };
  if (key.name in byName) return byName[key.name];
  switch (key.type) {
    case 'integer':
    case 'number':
      return (Math.abs(n) % 150_000) + 1;
    case 'boolean':
      return n % 2 === 0;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return `v${n}`;
  }
}

type OpenApi = {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Array<{ in: string; name: string }>;
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
      }
    >
  >;
};
type JsonSchema = {
  properties?: Record<string, { type?: string | string[]; enum?: unknown[] }>;
  anyOf?: JsonSchema[];
};

function operationsOf(doc: OpenApi): Operation[] {
  const out: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const schema = Object.values(op.requestBody?.content ?? {})[0]?.schema;
      out.push({
        method: method.toUpperCase(),
        template,
        params: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        bodyKeys: Object.entries(schema?.properties ?? schema?.anyOf?.[0]?.properties ?? {}).map(
          ([name, p]) => ({
            name,
            type: Array.isArray(p.type) ? p.type[0] : p.type,
            enum: p.enum,
          }),
        ),
      });
    }
  }
  return out;
}
