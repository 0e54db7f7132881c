import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Which top-level folders each layer may import (ARCHITECTURE.md, "Layers"). */
const ALLOWED: Record<string, string[]> = {
  kernel: ['kernel'],
  protocols: ['protocols', 'kernel'],
  integrations: ['integrations', 'protocols', 'kernel'],
  sandbox: ['sandbox', 'protocols', 'kernel'],
  gateway: ['gateway', 'integrations', 'protocols', 'kernel'],
  cli: ['cli', 'gateway', 'sandbox', 'integrations', 'protocols', 'kernel'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const full = path.join(dir, n);
    if (statSync(full).isDirectory()) return files(full);
    return full.endsWith('.ts') && !full.endsWith('.test.ts') ? [full] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s+'([^']+)'/g)].map(
    (m) => m[1]!,
  );
  specs.push(...[...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!));
  return specs.filter((s) => s.startsWith('.'));
}

describe('layering', () => {
  it('imports only downwards: cli → gateway → integrations → protocols → kernel; sandbox → protocols → kernel', () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const layer = path.relative(SRC, file).split(path.sep)[0]!;
      const allowed = ALLOWED[layer];
      if (!allowed) {
        violations.push(`${path.relative(SRC, file)}: unknown top-level folder ${layer}`);
        continue;
      }
      for (const spec of imports(file)) {
        const target = path.relative(SRC, path.resolve(path.dirname(file), spec)).split(path.sep)[0]!;
        if (target.startsWith('..')) continue;
        if (!allowed.includes(target))
          violations.push(`${path.relative(SRC, file)} imports ${spec} (${layer} → ${target})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps provider client libraries out of kernel', () => {
    const offenders = files(path.join(SRC, 'kernel')).filter((f) =>
      /from '(amqplib|kafkajs|@confluentinc\/kafka-javascript|@grpc\/grpc-js|smtp-server|nodemailer)'/.test(readFileSync(f, 'utf8')),
    );
    expect(offenders.map((f) => path.relative(SRC, f))).toEqual([]);
  });
});
