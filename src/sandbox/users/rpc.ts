import { Metadata, type ServerUnaryCall, type ServiceError, type sendUnaryData, status } from '@grpc/grpc-js';
import type { Logger } from '../../kernel/telemetry/index.js';
import { ERROR_REASON_METADATA, type Scope } from '../../protocols/proto/index.js';
import type { FaultScript } from './faults.js';
import { type CallerIdentity, CallRejected, type ServiceAccountVerifier } from './service-accounts.js';

/** A status the handler answers with on purpose (NOT_FOUND, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, …). */
export class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly trailers?: Record<string, string>,
  ) {
    super(message);
  }
}

export interface RpcDeps {
  verifier: ServiceAccountVerifier;
  faults: FaultScript;
  logger: Logger;
}

function serviceError(
  code: status,
  details: string,
  trailers?: Record<string, string>,
): Partial<ServiceError> {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(trailers ?? {})) metadata.set(k, v);
  return { code, details, message: details, metadata };
}

/**
 * Turns an async handler into a grpc-js unary handler: applies scripted faults, checks the service
 * account and its scope, and answers unexpected errors with INTERNAL (no detail leaks).
 */
export function unary<Req, Res>(
  deps: RpcDeps,
  method: string,
  scope: Scope,
  fn: (req: Req, caller: CallerIdentity) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    void (async () => {
      const fault = deps.faults.take(method);
      if (fault?.action === 'latency') await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault?.action === 'error') throw new RpcError(fault.code, fault.message ?? 'injected fault');
      if (call.cancelled) return undefined;
      const caller = await deps.verifier.verify(call.metadata, scope);
      return fn(call.request, caller);
    })().then(
      (res) => {
        if (res !== undefined) callback(null, res);
      },
      (err: unknown) => {
        if (err instanceof RpcError || err instanceof CallRejected) {
          callback(
            serviceError(
              err.code,
              err.message,
              err instanceof RpcError ? err.trailers : { [ERROR_REASON_METADATA]: err.reason },
            ),
          );
          return;
        }
        deps.logger.error({ err, method }, 'user service handler failed');
        callback(serviceError(status.INTERNAL, 'internal error'));
      },
    );
  };
}
