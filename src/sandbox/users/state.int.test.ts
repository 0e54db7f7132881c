import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeFactories } from '../../../test/support/stores.js';
import type { Store } from '../../kernel/store/index.js';
import { createLogger } from '../../kernel/telemetry/index.js';
import { startUserService, type UserServiceOptions } from './server.js';

let store: Store;
let dataDir: string;
beforeAll(async () => {
  store = await storeFactories[0]!.open(); // PGlite, migrated
  dataDir = mkdtempSync(path.join(tmpdir(), 'cb-users-state-'));
});
afterAll(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const options = (stateDir: string | undefined): UserServiceOptions => ({
  store,
  logger: createLogger({ level: 'silent' }),
  issuer: 'carebridge-users',
  audience: 'carebridge-gateway',
  tokenTtlSeconds: 900,
  lockout: { threshold: 3, lockSeconds: 600 },
  ...(stateDir ? { stateDir } : {}),
});

describe('reference user service: signing keys kept under the data directory', () => {
  it('publishes the same keys after a restart on the same folder', async () => {
    const stateDir = path.join(dataDir, 'sandbox');
    const first = await startUserService(options(stateDir));
    const kids = first.tokens.jwks().keys.map((k) => k.kid);
    await first.stop();
    expect(existsSync(path.join(stateDir, 'users.json'))).toBe(true);
    const second = await startUserService(options(stateDir));
    expect(second.tokens.jwks().keys.map((k) => k.kid)).toEqual(kids);
    await second.stop();
  });

  it('without a folder makes new keys at every start', async () => {
    const a = await startUserService(options(undefined));
    const b = await startUserService(options(undefined));
    expect(b.tokens.jwks().keys[0]!.kid).not.toBe(a.tokens.jwks().keys[0]!.kid);
    await a.stop();
    await b.stop();
  });
});
