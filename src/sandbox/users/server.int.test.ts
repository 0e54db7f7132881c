import path from 'node:path';
import {
  type ChannelCredentials,
  type ClientDuplexStream,
  credentials,
  loadPackageDefinition,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { type CryptoKey, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUsersHarness, type UsersHarness } from '../../../test/users/harness.js';
import { RoleServiceClient, SCOPES, SERVICE_ACCOUNT_AUDIENCE } from '../../protocols/proto/index.js';

interface ReflectionClient {
  ServerReflectionInfo(): ClientDuplexStream<object, object>;
  close(): void;
}

describe('reference user service: service-account authentication on every call', () => {
  let h: UsersHarness;
  let client: RoleServiceClient;
  beforeAll(async () => {
    h = await startUsersHarness();
    client = new RoleServiceClient(h.sandbox.address, credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await h.stop();
  });

  const listRoles = (md: Metadata) =>
    new Promise<{ code?: number; roles?: number }>((resolve) =>
      client.listRoles({}, md, (err: ServiceError | null, res) =>
        resolve(err ? { code: err.code } : { roles: res!.roles.length }),
      ),
    );
  const bearer = (token: string) => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    return md;
  };
  const sign = async (id: string, key: CryptoKey, o: { aud?: string; exp?: number; iat?: number } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: id })
      .setIssuer(id)
      .setSubject(id)
      .setAudience(o.aud ?? SERVICE_ACCOUNT_AUDIENCE)
      .setIssuedAt(o.iat ?? now)
      .setExpirationTime(o.exp ?? now + 300)
      .sign(key);
  };

  it('answers UNAUTHENTICATED (16) without credentials', async () => {
    expect(await listRoles(new Metadata())).toEqual({ code: 16 });
  });

  it('accepts a valid service-account JWT with the scope', async () => {
    const key = await h.addAccount('svc_roles_reader', [SCOPES.rolesRead]);
    expect(await listRoles(bearer(await sign('svc_roles_reader', key)))).toEqual({ roles: 5 });
  });

  it('answers UNAUTHENTICATED for an expired JWT, another audience or an unknown account', async () => {
    const key = await h.addAccount('svc_roles_reader2', [SCOPES.rolesRead]);
    const now = Math.floor(Date.now() / 1000);
    expect(
      await listRoles(bearer(await sign('svc_roles_reader2', key, { iat: now - 900, exp: now - 600 }))),
    ).toEqual({ code: 16 });
    expect(await listRoles(bearer(await sign('svc_roles_reader2', key, { aud: 'elsewhere' })))).toEqual({
      code: 16,
    });
    expect(await listRoles(bearer(await sign('svc_nobody', key)))).toEqual({ code: 16 });
  });

  it('accepts the bearer scheme in any case (RFC 7235: the auth scheme is case-insensitive)', async () => {
    const key = await h.addAccount('svc_roles_case', [SCOPES.rolesRead]);
    const token = await sign('svc_roles_case', key);
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      const md = new Metadata();
      md.set('authorization', `${scheme} ${token}`);
      expect(await listRoles(md), scheme).toEqual({ roles: 5 });
    }
    const basic = new Metadata();
    basic.set('authorization', `Basic ${token}`);
    expect(await listRoles(basic)).toEqual({ code: 16 });
  });

  it('answers PERMISSION_DENIED (7) to an account lacking the scope', async () => {
    const key = await h.addAccount('svc_checker', [SCOPES.permissionsCheck]);
    expect(await listRoles(bearer(await sign('svc_checker', key)))).toEqual({ code: 7 });
  });

  it('lists its services through server reflection', async () => {
    const def = loadSync('grpc/reflection/v1/reflection.proto', {
      includeDirs: [path.resolve('node_modules/@grpc/reflection/build/proto')],
      keepCase: true,
    });
    const pkg = loadPackageDefinition(def) as unknown as {
      grpc: {
        reflection: { v1: { ServerReflection: new (t: string, c: ChannelCredentials) => ReflectionClient } };
      };
    };
    const refl = new pkg.grpc.reflection.v1.ServerReflection(h.sandbox.address, credentials.createInsecure());
    const names = await new Promise<string[]>((resolve, reject) => {
      const call = refl.ServerReflectionInfo();
      call.on('data', (msg: { list_services_response?: { service: Array<{ name: string }> } }) => {
        resolve((msg.list_services_response?.service ?? []).map((s) => s.name));
        call.end();
      });
      call.on('error', reject);
      call.write({ list_services: '*' });
    });
    refl.close();
    expect(names).toEqual(
      expect.arrayContaining([
        'carebridge.users.v1.UserService',
        'carebridge.users.v1.RoleService',
        'carebridge.users.v1.PermissionService',
      ]),
    );
  });

  it('serves grpc.health.v1 without credentials', async () => {
    const Health = makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(h.sandbox.address, credentials.createInsecure()) as unknown as {
      check(req: object, cb: (err: Error | null, res: { status: unknown }) => void): void;
      close(): void;
    };
    const res = await new Promise<{ status: unknown }>((resolve, reject) =>
      health.check({ service: 'carebridge.users.v1.PermissionService' }, (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
    health.close();
    expect(res.status).toBe('SERVING');
  });
});
