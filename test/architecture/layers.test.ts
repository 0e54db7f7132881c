import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Which top-level folders each layer may import (docs/architecture.md, "Layers"). */
const ALLOWED: Record<string, string[]> = {
  kernel: ['kernel'],
  protocols: ['protocols', 'kernel'],
  integrations: ['integrations', 'protocols', 'kernel'],
  sandbox: ['sandbox', 'protocols', 'kernel'],
  gateway: ['gateway', 'integrations', 'protocols', 'kernel'],
  cli: ['cli', 'gateway', 'sandbox', 'integrations', 'protocols', 'kernel'],
};

/** Every non-test source file under src/, as a path relative to src/ (`kernel/store/outbox.ts`). */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir).flatMap((n) => {
    const full = path.join(dir, n);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') && !full.endsWith('.test.ts') ? [path.relative(SRC, full)] : [];
  });
}

/**
 * The relative imports of one file (static, `import type`, re-exports and dynamic `import()`), resolved to
 * paths relative to src/ with the `.ts` ending.
 */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(path.join(SRC, file), 'utf8'), true, true);
  return info.importedFiles
    .map((i) => i.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.relative(SRC, path.resolve(SRC, path.dirname(file), spec)).replace(/\.js$/, '.ts'));
}

const FILES = sourceFiles();
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

/**
 * The folders with one door (`index.ts`): each `integrations/<name>`, `kernel/<area>`, `protocols/<area>` and
 * `sandbox/<name>`, and `gateway` as a whole. A file outside such a folder imports only its `index.ts`; files
 * inside it import each other freely. `cli/` has no door: nothing but tests imports it.
 */
function doorOf(file: string): string | undefined {
  const [top, area, ...rest] = file.split('/');
  if (top === 'gateway') return 'gateway';
  if (['integrations', 'kernel', 'protocols', 'sandbox'].includes(top!) && rest.length > 0)
    return `${top}/${area}`;
  return undefined;
}

/** `importer → imported` edges that pass a door rule on purpose, each with its one-line reason. */
const DOOR_EXCEPTIONS: Record<string, string> = {};

/**
 * `importer → imported` edges from one integration into another, each with its one-line reason. Effects on
 * another integration otherwise go through a contract the receiver owns in `protocols/` (e.g. analytics'
 * business metrics) or through ports the cli wires.
 */
const CROSS_INTEGRATION_EXCEPTIONS: Record<string, string> = {
  'integrations/payments/side-effects.ts → integrations/notifications/index.ts':
    "the receipt must commit in the payment's own transaction, through notifications' public enqueueNotification; injecting it as a port needs integration.ts (issue #12 part 3)",
};

describe('layering', () => {
  it('imports only downwards: cli → gateway → integrations → protocols → kernel; sandbox → protocols → kernel', () => {
    const violations: string[] = [];
    for (const [file, deps] of GRAPH) {
      const layer = file.split('/')[0]!;
      const allowed = ALLOWED[layer];
      if (!allowed) {
        violations.push(`${file}: unknown top-level folder ${layer}`);
        continue;
      }
      for (const dep of deps) {
        const target = dep.split('/')[0]!;
        if (target === '..') continue;
        if (!allowed.includes(target)) violations.push(`${file} imports ${dep} (${layer} → ${target})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps provider client libraries out of kernel', () => {
    const offenders = FILES.filter(
      (f) =>
        f.startsWith('kernel/') &&
        /from '(amqplib|kafkajs|@confluentinc\/kafka-javascript|@grpc\/grpc-js|smtp-server|nodemailer)'/.test(
          readFileSync(path.join(SRC, f), 'utf8'),
        ),
    );
    expect(offenders).toEqual([]);
  });

  it('enters another folder only through its index.ts', () => {
    const violations: string[] = [];
    for (const [file, deps] of GRAPH) {
      for (const dep of deps) {
        const door = doorOf(dep);
        if (!door || doorOf(file) === door || dep === `${door}/index.ts`) continue;
        if (!(`${file} → ${dep}` in DOOR_EXCEPTIONS)) violations.push(`${file} → ${dep}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps integrations apart: none imports another except the listed, explained edges', () => {
    const edges: string[] = [];
    for (const [file, deps] of GRAPH) {
      const [top, name] = file.split('/');
      if (top !== 'integrations') continue;
      for (const dep of deps) {
        const [depTop, depName] = dep.split('/');
        if (depTop === 'integrations' && depName !== name) edges.push(`${file} → ${dep}`);
      }
    }
    expect(edges.filter((e) => !(e in CROSS_INTEGRATION_EXCEPTIONS))).toEqual([]);
    // An exception that no longer happens is removed from the list rather than left to excuse a new one.
    expect(Object.keys(CROSS_INTEGRATION_EXCEPTIONS).filter((e) => !edges.includes(e))).toEqual([]);
  });

  it('has no import cycle in src/ (type-only imports included)', () => {
    // Tarjan's strongly connected components: every component of more than one file is a cycle.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[] = [];
    let next = 0;
    const visit = (v: string): void => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      onStack.add(v);
      for (const w of GRAPH.get(v) ?? []) {
        if (!GRAPH.has(w)) continue;
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) !== index.get(v)) return;
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || GRAPH.get(v)?.includes(v)) cycles.push(component.sort().join(' ↔ '));
    };
    for (const v of GRAPH.keys()) if (!index.has(v)) visit(v);
    expect(cycles).toEqual([]);
  });
});
