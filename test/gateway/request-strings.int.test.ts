import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../src/cli/components/index.js';
import { loadConfig } from '../../src/cli/config.js';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import { createLogger } from '../../src/kernel/telemetry/index.js';

type Json = Record<string, unknown>;

/** Every string schema under `node`, with a JSON-pointer-ish path for the failure message. */
function strings(node: unknown, path: string, out: Array<{ path: string; schema: Json }> = []) {
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) strings(n, `${path}/${i}`, out);
  } else if (node && typeof node === 'object') {
    const o = node as Json;
    const type = o.type;
    if (type === 'string' || (Array.isArray(type) && type.includes('string'))) out.push({ path, schema: o });
    for (const [k, v] of Object.entries(o))
      if (k !== 'examples' && k !== 'default') strings(v, `${path}/${k}`, out);
  }
  return out;
}

/**
 * The rule of src/kernel/schemas (no NUL, control or unpaired surrogate characters reach a query) holds for
 * every string a /v1 route accepts, in the app `createRuntime` builds with every component: each request
 * string is `safeText` (marked `x-safe-text`), or has a pattern or an enum. A new route or field that uses a
 * bare `z.string()` fails here. Headers are left out: Node's HTTP parser refuses control characters in them,
 * and Idempotency-Key / X-Request-Id are checked by their plugins against printable-ASCII patterns.
 */
describe('request strings of every /v1 route', () => {
  let rt: Runtime;
  beforeAll(async () => {
    const config = loadConfig({
      env: { CAREBRIDGE_PROFILE: 'test', CAREBRIDGE_DATA_DIR: 'memory://' },
      cwd: '/nonexistent',
    });
    rt = await createRuntime({ config, logger: createLogger({ level: 'silent' }), components: COMPONENTS });
  });
  afterAll(() => rt?.stop());

  it('are safe text, a pattern or an enum', async () => {
    const doc = (await rt.app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { parameters?: Array<Json>; requestBody?: Json }>>;
    };
    const checked: string[] = [];
    const bare: string[] = [];
    for (const [url, ops] of Object.entries(doc.paths)) {
      if (!url.startsWith('/v1/')) continue;
      for (const [method, op] of Object.entries(ops)) {
        const inputs = [
          ...(op.parameters ?? [])
            .filter((p) => p.in !== 'header')
            .map((p) => ({ where: `${p.in}.${String(p.name)}`, schema: p.schema })),
          { where: 'body', schema: op.requestBody },
        ];
        for (const { where, schema } of inputs) {
          for (const s of strings(schema, `${method.toUpperCase()} ${url} ${where}`)) {
            checked.push(s.path);
            const safe =
              s.schema['x-safe-text'] !== undefined ||
              typeof s.schema.pattern === 'string' ||
              Array.isArray(s.schema.enum) ||
              s.schema.const !== undefined;
            if (!safe) bare.push(s.path);
          }
        }
      }
    }
    expect(bare).toEqual([]);
    // The walk found the fields the incident named, so an empty `bare` means something.
    expect(checked).toEqual(
      expect.arrayContaining([
        'GET /v1/payments/{id} path.id',
        'GET /v1/payments query.cursor',
        expect.stringMatching(/^POST \/v1\/payments body.*\/customerId$/),
        expect.stringMatching(/^POST \/v1\/notifications\/sms body.*\/text$/),
        expect.stringMatching(/^POST \/v1\/permissions\/check body.*\/subject$/),
      ]),
    );
  });
});
