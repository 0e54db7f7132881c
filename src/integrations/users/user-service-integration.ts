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
import {
  type CheckResult,
  FailureReporter,
  type HealthRegistry,
  type Logger,
  type Metrics,
} from '../../kernel/telemetry/index.js';
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
  USERS_SERVICES,
  UserServiceClient,
} from '../../protocols/proto/index.js';
import { createChannel, type UsersTlsOptions } from './channel.js';
import { toCareBridgeError, toSignInError, usersErrors } from './errors.js';
import { describeUsersFailure, type Refusal, refusalOf, type UsersEndpoint } from './failure-reason.js';
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
   * One circuit breaker for the target's operations other than sign-in: opens after consecutive
   * UNAVAILABLE/timeouts so calls fail fast (CIRCUIT_OPEN, still a deny). Default consecutive 5, half-open
   * after 5 s; false: none.
   */
  breaker?: BreakerOptions | false;
  /** Sign-in's own deadline, bulkhead and breaker, apart from permission checks and the other calls. */
  signIn?: SignInOptions;
  /** Shows the breakers in /health/ready (degraded while open). */
  health?: HealthRegistry;
  metrics: Metrics;
  logger: Logger;
}

/**
 * AuthenticateUser runs in a lane of its own: password hashing is slow on purpose and a flood of sign-ins
 * must not spend the deadline, the concurrency or the breaker that permission checks rely on (the sign-in
 * flood incident: one shared breaker opened and every authenticated request got 503 for 5 s). An overloaded
 * sign-in answers 503 USERS_SIGN_IN_BUSY; nothing else notices.
 */
export interface SignInOptions {
  /** Deadline of AuthenticateUser (ms), 10–60 000. Default 3000. */
  deadlineMs?: number;
  /** Sign-ins in flight at once from this client. Default 8. */
  maxConcurrent?: number;
  /** Sign-ins waiting for a slot; beyond it USERS_SIGN_IN_BUSY at once. Default 16. */
  maxQueued?: number;
  /** Sign-in's breaker (`breaker:users.sign-in`). Default consecutive 5, half-open after 5 s; false: none. */
  breaker?: BreakerOptions | false;
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
/** Plus the service saying it has no room for another password hash: shedding sign-ins is the point. */
const SIGN_IN_FAILURES = new Set([...TRANSPORT_FAILURES, 'USERS_SIGN_IN_BUSY']);
type Callback<Res> = (err: ServiceError | null, res?: Res) => void;
type UnaryInvoke<Req, Res> = (req: Req, md: Metadata, o: CallOptions, cb: Callback<Res>) => void;
/** How long a failed or refused call keeps the `users` readiness check degraded. */
const RECENT_MS = 30_000;
/** A resilience lane: the pipeline (breaker, bulkhead, backup timeouts) and the gRPC deadline of its calls. */
interface Lane {
  pipeline: Pipeline | undefined;
  deadlineMs: number;
  /** Its transport failures make the `users` readiness check degraded (sign-in has its own breaker entry). */
  reportsHealth: boolean;
}
const DEFAULT_BREAKER: BreakerOptions = { kind: 'consecutive', threshold: 5, halfOpenAfterMs: 5_000 };
const SIGN_IN_OPTIONS = new Set(['deadlineMs', 'maxConcurrent', 'maxQueued', 'breaker']);
const KNOWN_OPTIONS = new Set([
  'breaker',
  'signIn',
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
  private readonly lane: Lane;
  private readonly signInLane: Lane;
  private readonly deadlineMs: number;
  private readonly calls;
  private readonly duration;
  private readonly checks;
  private lastFailure: { at: Date; code: string } | undefined;
  /** The service refused the gateway's own credentials (every call will be): readiness re-checks and shows it. */
  private refusal: { kind: Refusal; reason: string; at: number } | undefined;
  /** One warning per distinct reason the service cannot be used (unreachable, credentials refused). */
  private readonly failures: FailureReporter;
  private readonly endpoint: UsersEndpoint;

  constructor(opts: UserServiceIntegrationOptions) {
    for (const k of Object.keys(opts))
      if (!KNOWN_OPTIONS.has(k)) throw new RangeError(`UserServiceIntegration: unknown option ${k}`);
    for (const k of Object.keys(opts.signIn ?? {}))
      if (!SIGN_IN_OPTIONS.has(k)) throw new RangeError(`UserServiceIntegration: unknown option signIn.${k}`);
    this.target = opts.target;
    this.deadlineMs = opts.deadlineMs ?? 1_000;
    const signIn = opts.signIn ?? {};
    const signInDeadlineMs = signIn.deadlineMs ?? 3_000;
    this.channel = createChannel({
      target: opts.target,
      tls: opts.tls,
      deadlineMs: this.deadlineMs,
      maxAttempts: opts.maxAttempts ?? 3,
      keepaliveMs: opts.keepaliveMs ?? 30_000,
      methodDeadlines: [
        { service: USERS_SERVICES.user, method: 'AuthenticateUser', deadlineMs: signInDeadlineMs },
      ],
    });
    const shared = { channelOverride: this.channel };
    // The channel carries the credentials; the client constructors' own are ignored with channelOverride.
    const creds = undefined as never;
    this.users = new UserServiceClient(opts.target, creds, shared);
    this.roles = new RoleServiceClient(opts.target, creds, shared);
    this.permissions = new PermissionServiceClient(opts.target, creds, shared);
    this.health = new HealthClient(opts.target, creds, shared);
    this.signer = new ServiceAccountSigner(opts.serviceAccount);
    this.endpoint = { target: opts.target, accountId: opts.serviceAccount.id, deadlineMs: this.deadlineMs };
    this.failures = new FailureReporter({
      dependency: 'the user service',
      target: opts.target,
      logger: opts.logger,
    });
    const maxAttempts = opts.maxAttempts ?? 3;
    const breaker = (operation: string, config: BreakerOptions, failures: Set<string>) =>
      new CircuitBreaker({
        integration: 'users',
        operation,
        breaker: config,
        isFailure: (err) => isCareBridgeError(err) && failures.has(err.code),
        metrics: opts.metrics,
        logger: opts.logger,
        ...(opts.health ? { health: opts.health } : {}),
        target: opts.target,
      });
    this.lane = {
      deadlineMs: this.deadlineMs,
      reportsHealth: true,
      pipeline:
        opts.breaker === false
          ? undefined
          : createPipeline({
              integration: 'users',
              operation: 'grpc',
              retry: false, // retries of UNAVAILABLE happen in the gRPC service config
              breaker: breaker('grpc', opts.breaker ?? DEFAULT_BREAKER, TRANSPORT_FAILURES),
              // The gRPC deadline bounds each call; these only back it up.
              attemptTimeoutMs: this.deadlineMs * maxAttempts + 1_000,
              totalTimeoutMs: this.deadlineMs * maxAttempts + 2_000,
              metrics: opts.metrics,
              logger: opts.logger,
            }),
    };
    this.signInLane = {
      deadlineMs: signInDeadlineMs,
      reportsHealth: false,
      pipeline: createPipeline({
        integration: 'users',
        operation: 'sign-in',
        retry: false,
        breaker:
          signIn.breaker === false
            ? false
            : breaker('sign-in', signIn.breaker ?? DEFAULT_BREAKER, SIGN_IN_FAILURES),
        bulkhead: { limit: signIn.maxConcurrent ?? 8, queue: signIn.maxQueued ?? 16 },
        // The gRPC deadline bounds each call (two with a re-signed service-account token); a queued sign-in
        // waits for a slot at most about one more deadline, then answers USERS_SIGN_IN_BUSY.
        attemptTimeoutMs: signInDeadlineMs * 2 + 1_000,
        totalTimeoutMs: signInDeadlineMs * 3 + 1_000,
        metrics: opts.metrics,
        logger: opts.logger,
      }),
    };
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

  /**
   * Exchanges a username and password for an access token, in sign-in's own lane (`signIn`): an overloaded
   * sign-in throws USERS_SIGN_IN_BUSY (503, Retry-After) and never trips the breaker of the other calls.
   */
  async authenticateUser(username: string, password: string): Promise<AuthenticatedUser> {
    let res: AuthenticateUserResponse;
    try {
      res = await this.call<AuthenticateUserResponse>(
        'AuthenticateUser',
        (md, o, cb) => this.users.authenticateUser({ username, password }, md, o, cb),
        this.signInLane,
      );
    } catch (err) {
      throw toSignInError(err);
    }
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

  /**
   * Readiness: grpc.health.v1 Check over the same channel, with the call deadline; down with the reason in words
   * when it fails. After the service refused the gateway's service account, also a signed GetJwks, so the check
   * shows the refusal (every call would be refused) until the account works again.
   */
  async checkHealth(): Promise<CheckResult> {
    try {
      const res = await this.unary<{ status: number | string }>((md, o, cb) =>
        (
          this.health as unknown as { check: UnaryInvoke<{ service: string }, { status: number | string }> }
        ).check({ service: '' }, md, o, cb),
      );
      if (res.status !== 1 && res.status !== 'SERVING')
        return this.down('the user service reports NOT_SERVING');
    } catch (err) {
      return this.down(describeUsersFailure(err, this.endpoint), err);
    }
    if (this.refusal?.kind === 'authentication') {
      try {
        this.signer.invalidate();
        const md = new Metadata();
        md.set('authorization', `Bearer ${await this.signer.token()}`);
        await this.unary((_, o, cb) => this.users.getJwks({}, md, o, cb));
        this.refusal = undefined;
      } catch (err) {
        if (refusalOf(err)) return this.down(describeUsersFailure(err, this.endpoint), err);
      }
    }
    const now = Date.now();
    if (this.refusal && now - this.refusal.at < RECENT_MS)
      return { status: 'degraded', detail: `recent call refused: ${this.refusal.reason}` };
    const recent =
      this.lastFailure && now - this.lastFailure.at.getTime() < RECENT_MS ? this.lastFailure : undefined;
    if (recent) return { status: 'degraded', detail: `recent call failed: ${recent.code}` };
    this.failures.succeeded();
    return { status: 'up', detail: 'SERVING' };
  }

  private down(reason: string, err?: unknown): CheckResult {
    this.failures.failed(reason, err);
    return { status: 'down', detail: `${reason}; permission checks fail closed` };
  }

  /** One call outside the pipelines and metrics (readiness), with the call deadline. */
  private unary<Res>(invoke: (md: Metadata, o: CallOptions, cb: Callback<Res>) => unknown): Promise<Res> {
    return new Promise<Res>((resolve, reject) =>
      invoke(new Metadata(), { deadline: new Date(Date.now() + this.deadlineMs) }, (err, value) =>
        err ? reject(err) : resolve(value as Res),
      ),
    );
  }

  close(): void {
    this.users.close();
    this.roles.close();
    this.permissions.close();
    this.health.close();
    this.channel.close();
  }

  /** Every RPC goes through its lane's pipeline (when configured), then `attempt`. */
  private call<Res>(
    operation: string,
    invoke: (md: Metadata, opts: CallOptions, cb: Callback<Res>) => unknown,
    lane: Lane = this.lane,
  ): Promise<Res> {
    return lane.pipeline
      ? lane.pipeline.execute(() => this.attempt(operation, invoke, lane), { idempotent: false })
      : this.attempt(operation, invoke, lane);
  }

  private async attempt<Res>(
    operation: string,
    invoke: (md: Metadata, opts: CallOptions, cb: Callback<Res>) => unknown,
    lane: Lane,
  ): Promise<Res> {
    const end = this.duration.startTimer({ operation });
    for (let attempt = 1; ; attempt++) {
      const md = new Metadata();
      md.set('authorization', `Bearer ${await this.signer.token()}`);
      try {
        const res = await new Promise<Res>((resolve, reject) =>
          invoke(md, { deadline: new Date(Date.now() + lane.deadlineMs) }, (err, value) =>
            err ? reject(err) : resolve(value as Res),
          ),
        );
        this.calls.inc({ operation, outcome: 'OK' });
        end();
        if (this.refusal?.kind === 'authentication') this.refusal = undefined;
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
        if (lane.reportsHealth && (se.code === status.UNAVAILABLE || se.code === status.DEADLINE_EXCEEDED))
          this.lastFailure = { at: new Date(), code };
        // Unreachable, or the gateway's own credentials refused: say why once (not per call); a slow answer is
        // not a reason to warn (the breaker and the readiness check cover it).
        const refusal = refusalOf(err);
        if (refusal || se.code === status.UNAVAILABLE) {
          const reason = describeUsersFailure(err, this.endpoint);
          if (refusal) this.refusal = { kind: refusal, reason, at: Date.now() };
          this.failures.failed(reason, err);
        }
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
