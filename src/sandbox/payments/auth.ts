import type { FastifyInstance } from 'fastify';
import { MemoryNonceStore, queryPairs, verifyV1Request } from '../../protocols/signing/index.js';

/**
 * API key + "v1" HMAC request signing on every `/api/v1/*` route. Timestamps are checked against WALL
 * time (the client signs with its real clock), not the sandbox clock that `/_sandbox/clock` advances.
 */
export class ApiKeyRegistry {
  private readonly keys = new Map<string, string[]>();

  constructor(initial: Array<{ apiKey: string; secrets: string[] }>) {
    for (const k of initial) this.set(k.apiKey, k.secrets);
  }

  /** Sets the active secrets of a key (rotation: list the new and the old one); [] revokes it. */
  set(apiKey: string, secrets: string[]): void {
    if (secrets.length === 0) this.keys.delete(apiKey);
    else this.keys.set(apiKey, [...secrets]);
  }

  secretsFor(apiKey: string): string[] | undefined {
    return this.keys.get(apiKey);
  }

  list(): string[] {
    return [...this.keys.keys()];
  }
}

export function installSigningAuth(
  app: FastifyInstance,
  keys: ApiKeyRegistry,
  opts: { wallSeconds: () => number; toleranceSeconds: number },
): MemoryNonceStore {
  const nonces = new MemoryNonceStore(opts.wallSeconds);
  app.addHook('preHandler', async (req, reply) => {
    if (!req.url.startsWith('/api/')) return;
    const [path, search = ''] = req.url.split('?') as [string, string?];
    const result = await verifyV1Request(
      { method: req.method, path, query: queryPairs(search), headers: req.headers, rawBody: req.rawBody },
      {
        secretsFor: (k) => keys.secretsFor(k),
        nonces,
        nowSeconds: opts.wallSeconds(),
        toleranceSeconds: opts.toleranceSeconds,
      },
    );
    if (!result.ok) {
      return reply
        .code(401)
        .header('Date', new Date(opts.wallSeconds() * 1000).toUTCString())
        .send({ error: { type: 'authentication_error', code: result.code, message: result.message } });
    }
    (req as { apiKey?: string }).apiKey = result.apiKey;
  });
  return nonces;
}
