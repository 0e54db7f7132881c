import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** Packages used other than by an import: type packages, peers, command-line tools named in scripts. */
const USED_OTHERWISE: Record<string, string> = {
  '@openfeature/core': 'peer dependency of @openfeature/server-sdk',
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    if (n === 'node_modules' || n === 'generated' || n.startsWith('.')) return [];
    const full = path.join(dir, n);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.(ts|js|sh|mjs)$/.test(n) ? [full] : [];
  });
}

describe('package.json', () => {
  const text = ['src', 'test', 'bench', 'scripts', 'bin']
    .flatMap((d) => sources(path.join(ROOT, d)))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const scripts = Object.values(pkg.scripts).join('\n');

  it('pins every dependency to an exact version', () => {
    const loose = Object.entries({ ...pkg.dependencies, ...pkg.devDependencies }).filter(
      ([, v]) => !/^\d+\.\d+\.\d+$/.test(v),
    );
    expect(loose).toEqual([]);
  });

  it('lists only dependencies the code uses', () => {
    const unused = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((name) => {
      if (USED_OTHERWISE[name]) return false;
      if (name.startsWith('@types/')) {
        const typed = name.slice('@types/'.length).replace(/^(.+)__(.+)$/, '@$1/$2');
        return !new RegExp(`from '${typed}(/[^']*)?'`).test(text) && typed !== 'node';
      }
      const imported = new RegExp(`(from |import\\(|require\\()'${name}(/[^']*)?'`).test(text);
      const bin = name === '@biomejs/biome' ? 'biome' : name === '@bufbuild/buf' ? 'buf' : name;
      const asCommand = new RegExp(`(^|[\\s/])${bin.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(\\s|$)`, 'm');
      return !imported && !asCommand.test(scripts) && !asCommand.test(text);
    });
    expect(unused).toEqual([]);
  });
});
