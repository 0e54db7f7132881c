import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'generated' ? [] : sourceFiles(full);
    return full.endsWith('.ts') && !full.endsWith('.test.ts') ? [full] : [];
  });
}

/** Every code declared with errorFactory('CODE', …) or `code: 'CODE'` in src/. */
function declaredCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  const patterns = [/errorFactory\(\s*'([A-Z][A-Z0-9_]+)'/g, /\bcode:\s*'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g];
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const re of patterns) for (const m of text.matchAll(re)) codes.set(m[1]!, path.relative(ROOT, file));
  }
  return codes;
}

describe('docs/errors.md', () => {
  const doc = readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));

  it('documents every error code declared in the source', () => {
    const codes = declaredCodes();
    expect(codes.size).toBeGreaterThan(20);
    const missing = [...codes]
      .filter(([code]) => !documented.has(code))
      .map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
  });

  it('gives every documented code a status, a retryable answer, a meaning and an action', () => {
    for (const line of doc.split('\n').filter((l) => /^\| `[A-Z]/.test(l))) {
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      expect(cells, line).toHaveLength(5);
      expect(cells[1], line).toMatch(/^\d{3}( or \d{3})?$|^—$/);
      expect(cells[2], line).toMatch(/^(yes|no|sometimes)\b/);
      expect(cells[3]!.length, line).toBeGreaterThan(10);
      expect(cells[4]!.length, line).toBeGreaterThan(5);
    }
  });
});
