import path from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
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

  describe('server reflection (what grpcurl asks)', () => {
    type Answer = {
      list_services_response?: { service: Array<{ name: string }> };
      file_descriptor_response?: { file_descriptor_proto: Buffer[] };
      error_response?: { error_code: number; error_message: string };
    };
    let refl: ReflectionClient;
    beforeAll(() => {
      const def = loadSync('grpc/reflection/v1/reflection.proto', {
        includeDirs: [path.resolve('node_modules/@grpc/reflection/build/proto')],
        keepCase: true,
      });
      const pkg = loadPackageDefinition(def) as unknown as {
        grpc: {
          reflection: {
            v1: { ServerReflection: new (t: string, c: ChannelCredentials) => ReflectionClient };
          };
        };
      };
      refl = new pkg.grpc.reflection.v1.ServerReflection(h.sandbox.address, credentials.createInsecure());
    });
    afterAll(() => refl.close());

    const ask = (request: object) =>
      new Promise<Answer>((resolve, reject) => {
        const call = refl.ServerReflectionInfo();
        call.on('data', (msg: Answer) => {
          resolve(msg);
          call.end();
        });
        call.on('error', reject);
        call.write(request);
      });
    /** The file names of the descriptors answered, the first being the file asked for. */
    const files = async (request: object) => {
      const res = await ask(request);
      expect(res.error_response).toBeUndefined();
      return (res.file_descriptor_response?.file_descriptor_proto ?? []).map((b) =>
        fromBinary(FileDescriptorProtoSchema, b),
      );
    };

    it('lists every service it offers, health and reflection included', async () => {
      const res = await ask({ list_services: '*' });
      expect((res.list_services_response?.service ?? []).map((s) => s.name).sort()).toEqual([
        'carebridge.users.v1.PermissionService',
        'carebridge.users.v1.RoleService',
        'carebridge.users.v1.UserService',
        'grpc.health.v1.Health',
        'grpc.reflection.v1.ServerReflection',
        'grpc.reflection.v1alpha.ServerReflection',
      ]);
    });

    it('serves each file under its .proto source name, by file name and by symbol', async () => {
      const [users] = await files({ file_by_filename: 'carebridge/users/v1/users.proto' });
      expect(users?.name).toBe('carebridge/users/v1/users.proto');
      expect(users?.package).toBe('carebridge.users.v1');
      expect(users?.service.map((s) => s.name)).toEqual(['UserService']);
      expect(users?.messageType.map((m) => m.name)).toContain('AuthenticateUserRequest');

      const [perms] = await files({ file_containing_symbol: 'carebridge.users.v1.PermissionService' });
      expect(perms?.name).toBe('carebridge/users/v1/permissions.proto');
      const [roles] = await files({ file_containing_symbol: 'carebridge.users.v1.ListRolesRequest' });
      expect(roles?.name).toBe('carebridge/users/v1/roles.proto');
      const [health] = await files({ file_containing_symbol: 'grpc.health.v1.Health' });
      expect(health?.name).toBe('grpc/health/v1/health.proto');
      const [self] = await files({ file_containing_symbol: 'grpc.reflection.v1.ServerReflection' });
      expect(self?.name).toBe('grpc/reflection/v1/reflection.proto');
    });

    it('answers NOT_FOUND for a file it does not have', async () => {
      const res = await ask({ file_by_filename: 'carebridge_users_v1.proto' });
      expect(res.error_response?.error_code).toBe(5);
    });
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
