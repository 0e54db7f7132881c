import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const full = path.join(dir, n);
    if (statSync(full).isDirectory()) return testFiles(full);
    return full.endsWith('.test.ts') ? [path.relative(ROOT, full)] : [];
  });
}

/** Imports that mean a test talks to a real Postgres, RabbitMQ or Redis on the machine. */
const REAL_SERVICES =
  /from '(pg|amqplib|ioredis|[./]+(test\/)?support\/stores\.js|[./]+notifications\/harness\.js)'/;

describe('test files', () => {
  it('are named *.int.test.ts when they touch Postgres, RabbitMQ or Redis', () => {
    const misnamed = [...testFiles(path.join(ROOT, 'src')), ...testFiles(path.join(ROOT, 'test'))].filter(
      (f) => !f.endsWith('.int.test.ts') && REAL_SERVICES.test(readFileSync(path.join(ROOT, f), 'utf8')),
    );
    expect(misnamed).toEqual([]);
  });
});
