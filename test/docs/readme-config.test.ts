import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeWithTable } from '../../scripts/config-table.js';

describe('README configuration table', () => {
  it('lists every setting and every feature flag with its current default (regenerate: npx tsx scripts/config-table.ts --write)', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readmeWithTable(readme)).toBe(readme);
  });
});
