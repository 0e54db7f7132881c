import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeTime, isValid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { prefixedUlid } from '../schemas/index.js';
import { newId, newUlid, pooledRandom } from './ulid.js';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

describe('ids', () => {
  it('makes prefixed ULIDs our schemas accept, unique and in creation order', () => {
    const ids = Array.from({ length: 5_000 }, () => newId('pay'));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    const schema = prefixedUlid('pay', 'payment');
    for (const id of ids.slice(0, 100)) expect(schema.safeParse(id).success).toBe(true);
    const bare = newUlid();
    expect(isValid(bare)).toBe(true);
    expect(Math.abs(decodeTime(bare) - Date.now())).toBeLessThan(60_000);
  });

  it('draws each of the 32 symbols about equally often from the pooled random bytes', () => {
    const counts = new Array<number>(32).fill(0);
    const draws = 320_000;
    for (let i = 0; i < draws; i++) {
      const x = pooledRandom();
      expect(x >= 0 && x < 1).toBe(true);
      counts[Math.floor(x * 32)]!++;
    }
    // 10,000 expected per symbol, standard deviation ~98: ±10 % is over ten deviations.
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(1_000);
  });

  it('is the only maker of ULIDs: nothing else in src/ imports the ulid package', () => {
    const importers = sourceFiles(SRC)
      .filter((f) => !f.endsWith('.test.ts'))
      .filter((f) => /from 'ulid'/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f));
    expect(importers).toEqual(['kernel/ids/ulid.ts']);
  });
});
