import { describe, expect, it } from 'vitest';
import type { Authenticator, RouteModule } from '../../src/gateway/types.js';
import { FeatureFlags, flag } from '../../src/kernel/config/index.js';
import { errors } from '../../src/kernel/errors/index.js';
import { buildTestGateway } from '../support/app.js';

const TABLE = {
  'probe.enabled': flag({ default: true, description: 'The probe module.' }),
  'probe.write.enabled': flag({ default: true, description: 'Writing probes.' }),
};
/** Lets in only requests that carry a token. */
const tokenOnly: Authenticator = {
  async authenticate(request) {
    if (!request.headers.authorization) throw errors.unauthenticated('No token.');
    return { subject: 'usr_probe', kind: 'user', roles: [] };
  },
  async authorize() {
    return true;
  },
};
const probe: RouteModule = {
  name: 'probe',
  flag: 'probe.enabled',
  register(app) {
    app.get(
      '/probe',
      { config: { permission: 'probe:read' }, schema: { summary: 'Read' } },
      async () => ({}),
    );
    app.post(
      '/probe',
      { config: { permission: 'probe:write', flag: 'probe.write.enabled' }, schema: { summary: 'Write' } },
      async () => ({ written: true }),
    );
  },
};
const auth = { authorization: 'Bearer t' };

describe('feature gate', () => {
  it('answers 503 FEATURE_DISABLED naming the flag while it is off, and serves again once it is on', async () => {
    const flags = new FeatureFlags(TABLE);
    const gw = await buildTestGateway({ routes: [probe], authenticator: tokenOnly, flags });
    try {
      expect((await gw.app.inject({ method: 'POST', url: '/v1/probe', headers: auth })).statusCode).toBe(200);
      flags.set(['-probe.write.enabled']);
      const off = await gw.app.inject({ method: 'POST', url: '/v1/probe', headers: auth });
      expect(off.statusCode).toBe(503);
      expect(off.json()).toMatchObject({ code: 'FEATURE_DISABLED', flag: 'probe.write.enabled' });
      expect(off.json().detail).toContain('probe.write.enabled');
      // The module's other route has only the module's switch, which is on.
      expect((await gw.app.inject({ url: '/v1/probe', headers: auth })).statusCode).toBe(200);
      flags.set(['-probe.enabled']);
      expect((await gw.app.inject({ url: '/v1/probe', headers: auth })).json()).toMatchObject({
        code: 'FEATURE_DISABLED',
        flag: 'probe.enabled',
      });
      flags.set([]);
      expect((await gw.app.inject({ method: 'POST', url: '/v1/probe', headers: auth })).statusCode).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('decides access first: without a token a switched-off route is still 401', async () => {
    const flags = new FeatureFlags(TABLE, ['-probe.enabled']);
    const gw = await buildTestGateway({ routes: [probe], authenticator: tokenOnly, flags });
    try {
      expect((await gw.app.inject({ url: '/v1/probe' })).statusCode).toBe(401);
    } finally {
      await gw.close();
    }
  });

  it('documents the 503 and its flags in the OpenAPI document', async () => {
    const gw = await buildTestGateway({
      routes: [probe],
      authenticator: tokenOnly,
      flags: new FeatureFlags(TABLE),
    });
    try {
      const doc = (await gw.app.inject({ url: '/openapi.json' })).json();
      const post = doc.paths['/v1/probe'].post;
      expect(post.description).toContain(
        '503 `FEATURE_DISABLED` while the feature flag `probe.enabled` and `probe.write.enabled` is off.',
      );
      expect(post.responses['503'].description).toContain('FEATURE_DISABLED');
    } finally {
      await gw.close();
    }
  });

  it('refuses to start when a route names a flag no area declares', async () => {
    const typo: RouteModule = { ...probe, flag: 'probe.enable' };
    await expect(
      buildTestGateway({ routes: [typo], authenticator: tokenOnly, flags: new FeatureFlags(TABLE) }),
    ).rejects.toThrow('unknown feature flag "probe.enable"');
  });
});
