import { type KeyCertPair, Server, ServerCredentials } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Store } from '../../kernel/store/index.js';
import type { Logger } from '../../kernel/telemetry/index.js';
import {
  loadReflectionPackageDefinition,
  PermissionServiceService,
  RoleServiceService,
  type Scope,
  USERS_SERVICES,
  UserServiceService,
} from '../../protocols/proto/index.js';
import { acquireStateDir, SandboxStateFile } from '../common/index.js';
import { type LockoutPolicy, UserDirectory } from './directory.js';
import { FaultScript } from './faults.js';
import { permissionServiceHandlers, roleServiceHandlers, userServiceHandlers } from './handlers.js';
import { PasswordHasher } from './password-hasher.js';
import type { ScryptCost } from './passwords.js';
import { UsersRepository } from './repository.js';
import { seed } from './seed.js';
import { ServiceAccountVerifier } from './service-accounts.js';
import { type SavedSigningKey, type TokenAlgorithm, TokenIssuer } from './tokens.js';

export interface UserServiceTls {
  /** PEM server certificate and key. */
  cert: string | Buffer;
  key: string | Buffer;
  /** PEM CA that signs client certificates; with `requireClientCert` the server demands mTLS. */
  ca?: string | Buffer;
  requireClientCert?: boolean;
}

export interface UserServiceOptions {
  store: Store;
  logger: Logger;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  tls?: UserServiceTls;
  /** `iss` and `aud` of the user access tokens it issues. */
  issuer: string;
  audience: string;
  tokenTtlSeconds: number;
  algorithm?: TokenAlgorithm;
  lockout: LockoutPolicy;
  /** Seeds the documented development users with this password (development/test only). */
  devPassword?: string;
  now?: () => Date;
  scryptCost?: ScryptCost;
  /**
   * Bounds on concurrent password hashing (scrypt runs on the process's shared thread pool). Default 2
   * running, 32 waiting; sign-ins beyond that are answered RESOURCE_EXHAUSTED with `retry-after-seconds: 1`.
   */
  hashing?: { maxConcurrent?: number; maxQueued?: number };
  /**
   * Folder to keep the token signing keys in (`sandboxStateDir(dataDir)`), so access tokens issued before a
   * restart still verify after it. Users, roles and lockouts live in the store already. Unset: new keys
   * at every start.
   */
  stateDir?: string;
}

/** What `<stateDir>/users.json` holds (version 1). */
interface SavedUsers {
  signingKeys: SavedSigningKey[];
}

export interface UserServiceSandbox {
  /** `host:port` to dial. */
  address: string;
  port: number;
  tokens: TokenIssuer;
  faults: FaultScript;
  directory: UserDirectory;
  /** Registers (or replaces) a service account: its public JWK and the scopes it holds. */
  registerServiceAccount(id: string, publicJwk: object, scopes: Scope[]): Promise<void>;
  /** Flips grpc.health.v1 for every service (for readiness tests). */
  setServing(serving: boolean): void;
  stop(): Promise<void>;
}

/** Starts the reference user-management service: a real gRPC server over the Store. */
export async function startUserService(opts: UserServiceOptions): Promise<UserServiceSandbox> {
  const now = opts.now ?? (() => new Date());
  const repo = new UsersRepository(opts.store);
  const release = opts.stateDir ? acquireStateDir(opts.stateDir) : undefined;
  let file: SandboxStateFile<SavedUsers> | undefined;
  let tokens: TokenIssuer;
  try {
    file = opts.stateDir
      ? new SandboxStateFile<SavedUsers>({
          dir: opts.stateDir,
          name: 'users',
          version: 1,
          snapshot: () => ({ signingKeys: tokens.savedKeys() }),
          onError: (err) => opts.logger.warn({ err }, 'users sandbox: could not save its signing keys'),
        })
      : undefined;
    const saved = file?.load();
    const create = (savedKeys: SavedSigningKey[] = []) =>
      TokenIssuer.create({
        issuer: opts.issuer,
        audience: opts.audience,
        ttlSeconds: opts.tokenTtlSeconds,
        ...(opts.algorithm ? { algorithm: opts.algorithm } : {}),
        now,
        savedKeys,
        onKeysChanged: () => file?.changed(),
      });
    try {
      tokens = await create(saved?.signingKeys);
    } catch (err) {
      if (!saved) throw err;
      // Saved keys that do not import (edited by hand): new keys, the file kept for a look.
      opts.logger.warn(
        { err, file: file?.file },
        'users sandbox: saved signing keys unusable; new ones made',
      );
      file?.setAside();
      tokens = await create();
    }
    file?.changed();
    await file?.flush();
  } catch (err) {
    release?.();
    throw err;
  }
  const hasher = new PasswordHasher({
    ...(opts.scryptCost ? { cost: opts.scryptCost } : {}),
    ...opts.hashing,
  });
  const directory = new UserDirectory(repo, tokens, opts.lockout, now, hasher);
  const giveBack = (err: unknown): never => {
    release?.();
    throw err;
  };
  await seed(repo, directory, opts.devPassword).catch(giveBack);
  const faults = new FaultScript();
  const deps = { verifier: new ServiceAccountVerifier(repo, now), faults, logger: opts.logger };

  // Allow client keepalive pings every 10 s (clients default to 30 s); stricter servers answer GOAWAY too_many_pings.
  const server = new Server({
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });
  server.addService(UserServiceService, userServiceHandlers(deps, directory, tokens));
  server.addService(RoleServiceService, roleServiceHandlers(deps, directory));
  server.addService(PermissionServiceService, permissionServiceHandlers(deps, directory));
  const health = new HealthImplementation({
    '': 'SERVING',
    ...Object.fromEntries(Object.values(USERS_SERVICES).map((s) => [s, 'SERVING'])),
  });
  health.addToServer(server);
  // Reflection describes every service this server offers, health and reflection included (grpcurl lists them).
  new ReflectionService(loadReflectionPackageDefinition()).addToServer(server);

  const credentials = opts.tls
    ? ServerCredentials.createSsl(
        opts.tls.ca ? Buffer.from(opts.tls.ca) : null,
        [
          {
            cert_chain: Buffer.from(opts.tls.cert),
            private_key: Buffer.from(opts.tls.key),
          } satisfies KeyCertPair,
        ],
        opts.tls.requireClientCert ?? false,
      )
    : ServerCredentials.createInsecure();
  const host = opts.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${opts.port ?? 0}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
  ).catch(giveBack);
  opts.logger.info({ address: `${host}:${port}`, tls: Boolean(opts.tls) }, 'user service sandbox listening');

  let stopped: Promise<void> | undefined;
  return {
    address: `${host}:${port}`,
    port,
    tokens,
    faults,
    directory,
    registerServiceAccount: (id, jwk, scopes) => repo.upsertServiceAccount(id, jwk, scopes),
    setServing(serving) {
      const s = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', s);
      for (const name of Object.values(USERS_SERVICES)) health.setStatus(name, s);
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), 2_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      })
        .then(() => file?.close())
        .finally(() => release?.());
      return stopped;
    },
  };
}
