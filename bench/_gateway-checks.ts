/**
 * After the load: the ledger against the processor's records (nothing lost or doubled), and a summary of a CPU
 * profile (`node --cpu-prof`) by self time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './_gateway-processes.js';
import type { Ledger } from './_gateway-setups.js';

/** The payments sandbox keeps the newest 10,000 objects of a kind; the check allows for that. */
const SANDBOX_MAX_OBJECTS = 10_000;

export interface SandboxObject {
  id: string;
  status: string;
  created: number;
  metadata?: Record<string, string>;
}

/**
 * Nothing lost or doubled: every charge the processor made belongs to exactly one ledger payment that records
 * it, and every succeeded ledger payment has its charge (likewise refunds); and the ledger holds at least every
 * payment the gateway answered 201 for (at most the requests cut off when a round ended more).
 */
export function checkLedger(
  ledger: Ledger,
  state: { charges: SandboxObject[]; refunds: SandboxObject[] },
  answered: { payments: number; refunds: number },
  /** Requests a round's end may cut off after the gateway committed them (answered, but not counted). */
  slack: number,
) {
  const problems: string[] = [];
  const byPayment = new Map<string, SandboxObject[]>();
  for (const c of state.charges) {
    const id = c.metadata?.carebridge_payment_id;
    if (!id) continue;
    byPayment.set(id, [...(byPayment.get(id) ?? []), c]);
  }
  const doubled = [...byPayment].filter(([, cs]) => cs.length > 1);
  if (doubled.length) problems.push(`${doubled.length} payments charged more than once (${doubled[0]![0]})`);
  const payments = new Map(ledger.payments.map((p) => [p.id, p]));
  const orphanCharges = [...byPayment.keys()].filter((id) => !payments.has(id));
  if (orphanCharges.length) problems.push(`${orphanCharges.length} charges without a ledger payment`);
  const capped = state.charges.length >= SANDBOX_MAX_OBJECTS;
  const oldest = Math.min(...state.charges.map((c) => c.created));
  const missing = ledger.payments.filter(
    (p) =>
      p.status === 'succeeded' &&
      (!capped || new Date(p.created_at).getTime() / 1000 > oldest + 1) &&
      byPayment.get(p.id)?.[0]?.id !== p.provider_charge_id,
  );
  if (missing.length)
    problems.push(`${missing.length} succeeded payments whose charge the processor does not have`);
  const open = ledger.payments.filter((p) => p.status !== 'succeeded');
  if (open.length) problems.push(`${open.length} payments not succeeded (${open[0]!.status})`);
  const refundsByOurs = new Map<string, SandboxObject[]>();
  for (const r of state.refunds) {
    const id = r.metadata?.carebridge_refund_id;
    if (id) refundsByOurs.set(id, [...(refundsByOurs.get(id) ?? []), r]);
  }
  const doubledRefunds = [...refundsByOurs].filter(([, rs]) => rs.length > 1);
  if (doubledRefunds.length) problems.push(`${doubledRefunds.length} refunds made more than once`);
  const refunds = new Map(ledger.refunds.map((r) => [r.id, r]));
  const orphanRefunds = [...refundsByOurs.keys()].filter((id) => !refunds.has(id));
  if (orphanRefunds.length)
    problems.push(`${orphanRefunds.length} processor refunds without a ledger refund`);
  const openRefunds = ledger.refunds.filter((r) => r.status !== 'succeeded');
  if (openRefunds.length)
    problems.push(`${openRefunds.length} refunds not succeeded (${openRefunds[0]!.status})`);
  for (const [what, have, said] of [
    ['payments', ledger.payments.length, answered.payments],
    ['refunds', ledger.refunds.length, answered.refunds],
  ] as const) {
    if (have < said) problems.push(`${what}: ${said} answered 201 but ${have} in the ledger`);
    if (have > said + slack) problems.push(`${what}: ${have} in the ledger for ${said} answered 201`);
  }
  return {
    ok: problems.length === 0,
    problems,
    payments: ledger.payments.length,
    charges: state.charges.length,
    refunds: ledger.refunds.length,
    processorRefunds: state.refunds.length,
    answered201: answered,
  };
}

/** Self time by function and by file/package of the biggest `.cpuprofile` in `dir`: the top `n` of each. */
export function summariseProfile(dir: string, n = 12): { byFile: string[]; byFunction: string[] } {
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
  if (!file) return { byFile: [], byFunction: [] };
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const nodes = new Map(prof.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  for (const [i, id] of prof.samples.entries()) self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, t] of self) {
    const cf = nodes.get(id)!.callFrame;
    const f = cf.url
      .replace(/^file:\/\//, '')
      .replace(/.*node_modules\//, '')
      .replace(`${ROOT}/`, '');
    const owner = cf.url.includes('node_modules/')
      ? f
          .split('/')
          .slice(0, f.startsWith('@') ? 2 : 1)
          .join('/')
      : f || `(${cf.functionName || 'native'})`;
    const fn = `${cf.functionName || '(anonymous)'} ${f}:${cf.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + t);
    byFile.set(owner, (byFile.get(owner) ?? 0) + t);
  }
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, t]) => `${((100 * t) / total).toFixed(1)}% ${k}`);
  return { byFile: top(byFile), byFunction: top(byFn) };
}
