/**
 * `npm run bench -- permissions`: permission checks per second and p99 through UserServiceIntegration,
 * uncached (cache TTL 0: every check is a gRPC call) and cached (the usual case: a working set of
 * decisions reused within the TTL), against a bare grpc-js call to the same in-process server.
 */
import { performance } from 'node:perf_hooks';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { MIGRATIONS } from '../src/cli/migrations.js';
import { UserServiceIntegration } from '../src/integrations/users/index.js';
import { migrate } from '../src/kernel/store/migrate.js';
import { PgliteStore } from '../src/kernel/store/pglite-store.js';
import { createLogger, Metrics } from '../src/kernel/telemetry/index.js';
import {
  GATEWAY_SCOPES,
  PermissionServiceClient,
  SERVICE_ACCOUNT_AUDIENCE,
} from '../src/protocols/proto/index.js';
import { DEVELOPMENT_USERS, startUserService } from '../src/sandbox/users/index.js';
import type { BenchResult } from './types.js';

const CONCURRENCY = 32;
const UNCACHED_CHECKS = 3_000;
const CACHED_CHECKS = 50_000;
const PERMISSIONS = [
  'payments:create',
  'payments:read',
  'refunds:create',
  'claims:submit',
  'notifications:send',
  'users:read',
];
const CHECKS = DEVELOPMENT_USERS.flatMap((u) =>
  PERMISSIONS.map((p) => {
    const [resource, action] = p.split(':') as [string, string];
    return { subject: u.id, resource, action };
  }),
);

interface Figures extends Record<string, number> {
  checksPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

async function measure(total: number, one: (i: number) => Promise<unknown>): Promise<Figures> {
  const latencies = new Float64Array(total);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t = performance.now();
        await one(i);
        latencies[i] = performance.now() - t;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const at = (q: number) =>
    Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(3));
  return { checksPerSecond: Math.round(total / seconds), p50Ms: at(0.5), p99Ms: at(0.99) };
}

export async function run(): Promise<BenchResult> {
  const logger = createLogger({ level: 'silent' });
  const store = await PgliteStore.open('memory://');
  await migrate(store, MIGRATIONS);
  const sandbox = await startUserService({
    store,
    logger,
    issuer: 'bench',
    audience: 'bench',
    tokenTtlSeconds: 900,
    lockout: { threshold: 5, lockSeconds: 60 },
    devPassword: 'bench-password',
    scryptCost: { N: 1024, r: 8, p: 1 },
  });
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  await sandbox.registerServiceAccount(
    'svc_bench',
    { ...(await exportJWK(publicKey)), alg: 'ES256' },
    GATEWAY_SCOPES,
  );
  const metrics = new Metrics({ defaultMetrics: false });
  const make = (ttlMs: number) =>
    new UserServiceIntegration({
      target: sandbox.address,
      tls: false,
      serviceAccount: { id: 'svc_bench', privateKey },
      deadlineMs: 5_000,
      permissionCache: { ttlMs },
      metrics,
      logger,
    });
  const uncached = make(0);
  const cached = make(60_000);

  // Baseline: the generated client on a bare grpc-js channel, a pre-signed JWT in the metadata, nothing else.
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'svc_bench' })
    .setIssuer('svc_bench')
    .setSubject('svc_bench')
    .setAudience(SERVICE_ACCOUNT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(privateKey);
  const bare = new PermissionServiceClient(sandbox.address, credentials.createInsecure());
  const md = new Metadata();
  md.set('authorization', `Bearer ${jwt}`);
  const bareCheck = (i: number) =>
    new Promise<boolean>((resolve, reject) => {
      const c = CHECKS[i % CHECKS.length]!;
      bare.checkPermission(
        { ...c, atLeastAsFresh: '' },
        md,
        { deadline: Date.now() + 5_000 },
        (err: ServiceError | null, res) => (err ? reject(err) : resolve(res!.allowed)),
      );
    });

  try {
    // Warm up every path (connections, JIT, the server's statements).
    await measure(300, bareCheck);
    await measure(300, (i) => uncached.checkPermission(CHECKS[i % CHECKS.length]!));
    await measure(300, (i) => cached.checkPermission(CHECKS[i % CHECKS.length]!));

    const baseline = await measure(UNCACHED_CHECKS, bareCheck);
    const oursUncached = await measure(UNCACHED_CHECKS, (i) =>
      uncached.checkPermission(CHECKS[i % CHECKS.length]!),
    );
    const oursCached = await measure(CACHED_CHECKS, (i) =>
      cached.checkPermission(CHECKS[i % CHECKS.length]!),
    );
    return {
      ours: {
        cachedChecksPerSecond: oursCached.checksPerSecond,
        cachedP50Ms: oursCached.p50Ms,
        cachedP99Ms: oursCached.p99Ms,
        uncachedChecksPerSecond: oursUncached.checksPerSecond,
        uncachedP50Ms: oursUncached.p50Ms,
        uncachedP99Ms: oursUncached.p99Ms,
      },
      baseline: { checksPerSecond: baseline.checksPerSecond, p50Ms: baseline.p50Ms, p99Ms: baseline.p99Ms },
      ratio: Number((oursCached.checksPerSecond / baseline.checksPerSecond).toFixed(2)),
      uncachedRatio: Number((oursUncached.checksPerSecond / baseline.checksPerSecond).toFixed(2)),
      table: [
        { path: 'bare grpc-js call (baseline)', ...baseline },
        { path: 'UserServiceIntegration, uncached', ...oursUncached },
        { path: 'UserServiceIntegration, cached (60 s TTL, 36 decisions)', ...oursCached },
      ],
      concurrency: CONCURRENCY,
      workingSet: CHECKS.length,
      note: 'ratio = cached checks/s over the bare call; uncachedRatio shows the client overhead (deadline, metadata, metrics, single flight).',
    };
  } finally {
    bare.close();
    uncached.close();
    cached.close();
    await sandbox.stop();
    await store.close();
  }
}
