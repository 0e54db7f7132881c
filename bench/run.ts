/**
 * `npm run bench -- <name>`: imports `bench/<name>.ts`, calls its `run()`, prints a readable table and ends
 * with ONE JSON line `{"bench": name, "ours": {...}, "baseline": {...}, "ratio": ours/baseline, ...}`.
 * An unknown name lists the available benchmarks and exits 2.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchResult } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const NOT_BENCHES = new Set(['run', 'types']);

function available(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .filter((n) => !NOT_BENCHES.has(n) && !n.startsWith('_'))
    .sort();
}

function printTable(rows: Array<Record<string, string | number>>): void {
  if (rows.length === 0) return;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v ?? '');
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padStart(widths[i] ?? 0)).join('  ');
  console.log(line(cols));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
}

async function main(): Promise<number> {
  const name = process.argv[2];
  const names = available();
  if (!name || !names.includes(name)) {
    console.error(
      `${name ? `unknown benchmark "${name}"` : 'no benchmark named'}; available: ${names.join(', ') || 'none'}`,
    );
    console.error('usage: npm run bench -- <name>');
    return 2;
  }
  const mod = (await import(pathToFileURL(path.join(here, `${name}.ts`)).href)) as {
    run?: () => Promise<BenchResult>;
  };
  if (typeof mod.run !== 'function') {
    console.error(`bench/${name}.ts does not export run()`);
    return 2;
  }
  const result = await mod.run();
  const { table, ours, baseline, ratio, ...extra } = result;
  console.log(`\n${name}`);
  if (table) printTable(table);
  else {
    const keys = [...new Set([...Object.keys(ours), ...Object.keys(baseline)])];
    printTable(keys.map((k) => ({ figure: k, ours: ours[k] ?? '', baseline: baseline[k] ?? '' })));
  }
  console.log('');
  console.log(JSON.stringify({ bench: name, ours, baseline, ratio, ...extra }));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
