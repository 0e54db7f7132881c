import { Channel, type ChannelCredentials, type ChannelOptions, credentials } from '@grpc/grpc-js';
import { USERS_SERVICES } from '../../protocols/proto/index.js';

export interface UsersTlsOptions {
  /** PEM CA bundle that signs the service's certificate (default: the system roots). */
  ca?: string | Buffer;
  /** PEM client certificate and key for mTLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Expected name in the server certificate when it differs from the target host. */
  serverName?: string;
}

export interface UsersChannelOptions {
  /** `host:port`, or `dns:///host:port` for DNS discovery with round-robin over every address. */
  target: string;
  /** TLS options, or false for plain text (development and tests only). */
  tls: UsersTlsOptions | false;
  /** Deadline of every call (also the service-config timeout). */
  deadlineMs: number;
  /** Attempts for UNAVAILABLE (service-config retry policy), 1–5. */
  maxAttempts: number;
  /** HTTP/2 keepalive ping interval. */
  keepaliveMs: number;
  /** Methods with a deadline of their own (e.g. AuthenticateUser, whose password hashing is slow on purpose). */
  methodDeadlines?: MethodDeadline[];
}

export interface MethodDeadline {
  /** Fully qualified service name (`carebridge.users.v1.UserService`). */
  service: string;
  method: string;
  deadlineMs: number;
}

const buf = (v: string | Buffer | undefined) => (v === undefined ? null : Buffer.from(v));

/** A protobuf JSON Duration; grpc-js reads the fraction as nanoseconds, so it is padded to 9 digits. */
function duration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms % 1000) * 1_000_000;
  return nanos === 0 ? `${seconds}s` : `${seconds}.${String(nanos).padStart(9, '0')}s`;
}

/**
 * The gRPC service config (grpc/proposal A6): round-robin over every resolved address, a timeout per
 * method, and retries of UNAVAILABLE only (the call never reached a server, or the server is draining).
 * A method named in `methodDeadlines` gets its own entry (a service+method name wins over a service name),
 * since the timeout here caps any longer deadline the call itself carries.
 */
export function serviceConfig(
  deadlineMs: number,
  maxAttempts: number,
  methodDeadlines: MethodDeadline[] = [],
): string {
  const retryPolicy =
    maxAttempts > 1
      ? {
          retryPolicy: {
            maxAttempts,
            initialBackoff: '0.05s',
            maxBackoff: '0.5s',
            backoffMultiplier: 2,
            retryableStatusCodes: ['UNAVAILABLE'],
          },
        }
      : {};
  return JSON.stringify({
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [
      ...methodDeadlines.map((m) => ({
        name: [{ service: m.service, method: m.method }],
        timeout: duration(m.deadlineMs),
        ...retryPolicy,
      })),
      {
        name: Object.values(USERS_SERVICES).map((service) => ({ service })),
        timeout: duration(deadlineMs),
        ...retryPolicy,
      },
    ],
  });
}

export function channelCredentials(tls: UsersTlsOptions | false): ChannelCredentials {
  if (tls === false) return credentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new RangeError('tls.cert and tls.key go together (mTLS)');
  return credentials.createSsl(buf(tls.ca), buf(tls.key), buf(tls.cert));
}

/** One channel for every client of the integration (HTTP/2 multiplexes all calls over it). */
export function createChannel(opts: UsersChannelOptions): Channel {
  if (!Number.isInteger(opts.maxAttempts) || opts.maxAttempts < 1 || opts.maxAttempts > 5) {
    throw new RangeError('maxAttempts must be an integer from 1 to 5');
  }
  for (const ms of [opts.deadlineMs, ...(opts.methodDeadlines ?? []).map((m) => m.deadlineMs)])
    if (!(ms >= 10 && ms <= 60_000)) throw new RangeError('deadlineMs must be from 10 to 60000');
  const options: ChannelOptions = {
    'grpc.service_config': serviceConfig(opts.deadlineMs, opts.maxAttempts, opts.methodDeadlines),
    'grpc.enable_retries': 1,
    'grpc.keepalive_time_ms': opts.keepaliveMs,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 5_000,
    ...(opts.tls !== false && opts.tls.serverName
      ? { 'grpc.ssl_target_name_override': opts.tls.serverName }
      : {}),
  };
  return new Channel(opts.target, channelCredentials(opts.tls), options);
}
