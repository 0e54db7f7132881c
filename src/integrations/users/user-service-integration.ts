import {
  type CallOptions,
  type Channel,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { JSONWebKeySet } from 'jose';
import { type CareBridgeError, isCareBridgeError } from '../../kernel/errors/index.js';
import {
  type BreakerOptions,
  CircuitBreaker,
  createPipeline,
  type Pipeline,
} from '../../kernel/resilience/index.js';
import type { CheckResult, HealthRegistry, Logger, Metrics } from '../../kernel/telemetry/index.js';
import {
  type AuthenticateUserResponse,
  type CheckPermissionRequest,
  type CheckPermissionResponse,
  type CheckPermissionsResponse,
  ERROR_REASON_METADATA,
  ERROR_REASONS,
  type GetJwksResponse,
  type GetUserRolesResponse,
  PermissionServiceClient,
  RoleServiceClient,
  UserServiceClient,
} from '../../protocols/proto/index.js';
import { createChannel, type UsersTlsOptions } from './channel.js';
import { toCareBridgeError, usersErrors } from './errors.js';
import { PermissionCache, type PermissionCacheOptions } from './permission-cache.js';
import { type ServiceAccountCredentials, ServiceAccountSigner } from './service-account-signer.js';

export interface UserServiceIntegrationOptions {
  /** `host:port` or `dns:///name:port` (round-robin over every address). */
  target: string;
  /** TLS (with `cert`/`key` for mTLS), or false for plain text in development and tests. */
  tls: UsersTlsOptions | false;
  serviceAccount: ServiceAccountCredentials;
  /** Deadline of every call. Default 1000 ms. */
  deadlineMs?: number;
  /** Attempts for UNAVAILABLE (gRPC service-config retry). Default 3. */
  maxAttempts?: number;
  /** Keepalive ping interval. Default 30 000 ms. */
  keepaliveMs?: number;
  permissionCache?: PermissionCacheOptions;
  /**
   * One circuit breaker for the target (all operations): opens after consecutive UNAVAILABLE/timeouts so
   * calls fail fast (CIRCUIT_OPEN, still a deny). Default consecutive 5, half-open after 5 s; false: none.
   */
  breaker?: BreakerOptions | false;
  /** Shows the breaker in /health/ready (degraded while open). */
  health?: HealthRegistry;
  metrics: Metrics;
  logger: Logger;
}

export interface PermissionCheck {
  subject: string;
  resource: string;
  action: string;
  /** Ask for a decision at least as fresh as this token (returned by role writes); bypasses older cache entries. */
  consistencyToken?: string;
}

export type BatchResult = { allowed: boolean } | { error: CareBridgeError };

export interface AuthenticatedUser {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  userId: string;
  roles: string[];
}

const TRANSPORT_FAILURES = new Set([
  'USERS_SERVICE_UNAVAILABLE',
  'USERS_SERVICE_TIMEOUT',
  'USERS_UPSTREAM_ERROR',
]);
type Callback<Res> = (err: ServiceError | null, res?: Res) => void;
const KNOWN_OPTIONS = new Set([
  'breaker',
  'health',
  'target',
  'tls',
  'serviceAccount',
  'deadlineMs',
  'maxAttempts',
  'keepaliveMs',
  'permissionCache',
  'metrics',
  'logger',
]);
const HealthClient = makeGenericClientConstructor(healthService, 'Health');

/** The client of the user-management service (UserService, RoleService, PermissionService over gRPC). */
export class UserServiceIntegration {
  readonly target: string;
  private readonly channel: Channel;
  private readonly users: UserServiceClient;
  private readonly roles: RoleServiceClient;
  private readonly permissions: PermissionServiceClient;
  private readonly health: InstanceType<typeof HealthClient>;
  private readonly signer: ServiceAccountSigner;
  private readonly cache: PermissionCache;
  private readonly pipeline: Pipeline | undefined;
  private readonly deadlineMs: number;
  private readonly calls;
  private readonly duration;
  private readonly checks;
  private lastFailure: { at: Date; code: string } | undefined;

  constructor(opts: UserServiceIntegrationOptions) {
    for (const k of Object.keys(opts))
      if (!KNOWN_OPTIONS.has(k)) throw new RangeError(`UserServiceIntegration: unknown option ${k}`);
    this.target = opts.target;
    this.deadlineMs = opts.deadlineMs ?? 1_000;
    this.channel = createChannel({
      target: opts.target,
      tls: opts.tls,
      deadlineMs: this.deadlineMs,
      maxAttempts: opts.maxAttempts ?? 3,
      keepaliveMs: opts.keepaliveMs ?? 30_000,
    });
    const shared = { channelOverride: this.channel };
    // The channel carries the credentials; the client constructors' own are ignored with channelOverride.
    const creds = undefined as never;
    this.users = new UserServiceClient(opts.target, creds, shared);
    this.roles = new RoleServiceClient(opts.target, creds, shared);
    this.permissions = new PermissionServiceClient(opts.target, creds, shared);
    this.health = new HealthClient(opts.target, creds, shared);
    this.signer = new ServiceAccountSigner(opts.serviceAccount);
    const maxAttempts = opts.maxAttempts ?? 3;
    this.pipeline =
      opts.breaker === false
        ? undefined
        : createPipeline({
            integration: 'users',
            operation: 'grpc',
            retry: false, // retries of UNAVAILABLE happen in the gRPC service config
            breaker: new CircuitBreaker({
              integration: 'users',
              operation: 'grpc',
              breaker: opts.breaker ?? { kind: 'consecutive', threshold: 5, halfOpenAfterMs: 5_000 },
              isFailure: (err) => isCareBridgeError(err) && TRANSPORT_FAILURES.has(err.code),
              metrics: opts.metrics,
              logger: opts.logger,
              ...(opts.health ? { health: opts.health } : {}),
              target: opts.target,
            }),
            // The gRPC deadline bounds each call; these only back it up.
            attemptTimeoutMs: this.deadlineMs * maxAttempts + 1_000,
            totalTimeoutMs: this.deadlineMs * maxAttempts + 2_000,
            metrics: opts.metrics,
            logger: opts.logger,
          });
    this.cache = new PermissionCache({ ...opts.permissionCache, metrics: opts.metrics });
    this.calls = opts.metrics.counter(
      'carebridge_users_calls_total',
      'User service gRPC calls by outcome (status).',
      ['operation', 'outcome'],
    );
    this.duration = opts.metrics.histogram(
      'carebridge_users_call_duration_seconds',
      'User service gRPC call latency.',
      ['operation'],
    );
    this.checks = opts.metrics.counter(
      'carebridge_users_permission_checks_total',
      'Permission decisions by outcome (allowed, denied, error).',
      ['outcome'],
    );
  }

  async authenticateUser(username: string, password: string): Promise<AuthenticatedUser> {
    const res = await this.call<AuthenticateUserResponse>('AuthenticateUser', (md, o, cb) =>
      this.users.authenticateUser({ username, password }, md, o, cb),
    );
    return {
      accessToken: res.accessToken,
      tokenType: 'Bearer',
      expiresIn: res.expiresIn,
      userId: res.userId,
      roles: res.roles,
    };
  }

  async getUserRoles(
    userId: string,
  ): Promise<Array<{ name: string; description: string; permissions: string[] }>> {
    const res = await this.call<GetUserRolesResponse>('GetUserRoles', (md, o, cb) =>
      this.roles.getUserRoles({ userId }, md, o, cb),
    );
    return res.roles;
  }

  /** The public keys that verify user access tokens. */
  async getJwks(): Promise<JSONWebKeySet> {
    const res = await this.call<GetJwksResponse>('GetJwks', (md, o, cb) => this.users.getJwks({}, md, o, cb));
    return JSON.parse(res.jwksJson) as JSONWebKeySet;
  }

  /**
   * Whether `subject` holds `resource:action`. Served from the short-lived cache when possible; a failed
   * call throws a retryable CareBridgeError (callers deny) and is never cached.
   */
  async checkPermission(check: PermissionCheck): Promise<boolean> {
    try {
      const allowed = await this.cache.decide(check, async () => {
        const res = await this.call<CheckPermissionResponse>('CheckPermission', (md, o, cb) =>
          this.permissions.checkPermission(toRequest(check), md, o, cb),
        );
        return res.allowed;
      });
      this.checks.inc({ outcome: allowed ? 'allowed' : 'denied' });
      return allowed;
    } catch (err) {
      this.checks.inc({ outcome: 'error' });
      throw err;
    }
  }

  /** Many decisions in one call (cached ones are not asked again); each item has its own result or error. */
  async checkPermissions(checks: PermissionCheck[]): Promise<BatchResult[]> {
    if (checks.length > 100)
      throw usersErrors.invalidArgument('At most 100 checks per batch.', { integration: 'users' });
    const results = await this.cache.decideMany(checks, async (missing) => {
      const res = await this.call<CheckPermissionsResponse>('CheckPermissions', (md, o, cb) =>
        this.permissions.checkPermissions({ items: missing.map(toRequest) }, md, o, cb),
      );
      return missing.map((_, n) => {
        const r = res.pairs[n]?.response;
        if (r?.$case === 'item') return r.value.allowed;
        const e = Object.assign(new Error(r?.value.message ?? 'missing result'), {
          code: r?.value.code ?? status.INTERNAL,
          details: '',
        });
        return toCareBridgeError(e, 'CheckPermissions');
      });
    });
    for (const r of results)
      this.checks.inc({ outcome: 'error' in r ? 'error' : r.allowed ? 'allowed' : 'denied' });
    return results;
  }

  /** Forget every cached decision (e.g. after a role change made through another client). */
  invalidate(): void {
    this.cache.invalidate();
  }

  /** Readiness: grpc.health.v1 Check over the same channel, with the call deadline. */
  async checkHealth(): Promise<CheckResult> {
    try {
      const client = this.health as unknown as {
        check(
          req: { service: string },
          md: Metadata,
          o: CallOptions,
          cb: Callback<{ status: number | string }>,
        ): void;
      };
      const res = await new Promise<{ status: number | string }>((resolve, reject) =>
        client.check(
          { service: '' },
          new Metadata(),
          { deadline: new Date(Date.now() + this.deadlineMs) },
          (err, value) => (err ? reject(err) : resolve(value!)),
        ),
      );
      if (res.status !== 1 && res.status !== 'SERVING')
        return { status: 'down', detail: 'user service reports NOT_SERVING' };
      const recent =
        this.lastFailure && Date.now() - this.lastFailure.at.getTime() < 30_000
          ? this.lastFailure
          : undefined;
      return recent
        ? { status: 'degraded', detail: `recent call failed: ${recent.code}` }
        : { status: 'up', detail: 'SERVING' };
    } catch (err) {
      const code = (err as ServiceError).code;
      return {
        status: 'down',
        detail: `unreachable (${status[code] ?? 'error'}); permission checks fail closed`,
      };
    }
  }

  close(): void {
    this.users.close();
    this.roles.close();
    this.permissions.close();
    this.health.close();
    this.channel.close();
  }

  /** Every RPC goes through the target's circuit breaker (when configured), then `attempt`. */
  private call<Res>(
    operation: string,
    invoke: (md: Metadata, opts: CallOptions, cb: Callback<Res>) => unknown,
  ): Promise<Res> {
    return this.pipeline
      ? this.pipeline.execute(() => this.attempt(operation, invoke), { idempotent: false })
      : this.attempt(operation, invoke);
  }

  private async attempt<Res>(
    operation: string,
    invoke: (md: Metadata, opts: CallOptions, cb: Callback<Res>) => unknown,
  ): Promise<Res> {
    const end = this.duration.startTimer({ operation });
    for (let attempt = 1; ; attempt++) {
      const md = new Metadata();
      md.set('authorization', `Bearer ${await this.signer.token()}`);
      try {
        const res = await new Promise<Res>((resolve, reject) =>
          invoke(md, { deadline: new Date(Date.now() + this.deadlineMs) }, (err, value) =>
            err ? reject(err) : resolve(value as Res),
          ),
        );
        this.calls.inc({ operation, outcome: 'OK' });
        end();
        return res;
      } catch (err) {
        const se = err as ServiceError;
        const code = status[se.code] ?? 'UNKNOWN';
        this.calls.inc({ operation, outcome: code });
        // A stale or rotated service-account key: sign a fresh JWT once, then give up.
        if (
          attempt === 1 &&
          se.code === status.UNAUTHENTICATED &&
          se.metadata?.get(ERROR_REASON_METADATA)[0] === ERROR_REASONS.serviceAccountInvalid
        ) {
          this.signer.invalidate();
          continue;
        }
        end();
        const mapped = isCareBridgeError(err) ? err : toCareBridgeError(err, operation);
        if (se.code === status.UNAVAILABLE || se.code === status.DEADLINE_EXCEEDED)
          this.lastFailure = { at: new Date(), code };
        throw mapped;
      }
    }
  }
}

function toRequest(c: PermissionCheck): CheckPermissionRequest {
  return {
    subject: c.subject,
    resource: c.resource,
    action: c.action,
    atLeastAsFresh: c.consistencyToken ?? '',
  };
}
