import type { status } from '@grpc/grpc-js';

/** One scripted fault for the next `count` calls of `method` (e.g. 'CheckPermission', or '*'). */
export type UsersFault =
  | { method: string; action: 'error'; code: status; count?: number; message?: string }
  | { method: string; action: 'latency'; delayMs: number; count?: number };

/** The sandbox's fault script and call counters (tests drive it in-process; gRPC has no _sandbox HTTP). */
export class FaultScript {
  private faults: Array<UsersFault & { left: number }> = [];
  readonly calls = new Map<string, number>();

  add(fault: UsersFault): void {
    this.faults.push({ ...fault, left: fault.count ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.faults = [];
    this.calls.clear();
  }

  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  /** Counts the call and returns the fault to apply to it, if any. */
  take(method: string): UsersFault | undefined {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    const f = this.faults.find((x) => x.left > 0 && (x.method === method || x.method === '*'));
    if (!f) return undefined;
    f.left -= 1;
    return f;
  }
}
