import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compiledEntry, sourceHash } from '../../bin/build-stamp.js';
import { ROOT } from '../support/cli.js';

/**
 * A small project with this repository's bin/ and build script: `npm run build` compiles src/ and stamps dist/;
 * bin/carebridge.js runs dist/ only while the stamp matches src/, and src/ through tsx otherwise.
 */
let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'cb-build-'));
  cpSync(path.join(ROOT, 'bin'), path.join(root, 'bin'), { recursive: true });
  mkdirSync(path.join(root, 'scripts'));
  cpSync(path.join(ROOT, 'scripts/build.mjs'), path.join(root, 'scripts/build.mjs'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  writeFileSync(path.join(root, 'package.json'), '{"type":"module"}');
  writeFileSync(
    path.join(root, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', strict: true, types: ['node'] },
    }),
  );
  writeFileSync(
    path.join(root, 'tsconfig.build.json'),
    JSON.stringify({
      extends: './tsconfig.json',
      compilerOptions: { rootDir: 'src', outDir: 'dist' },
      include: ['src'],
      exclude: ['src/**/*.test.ts'],
    }),
  );
  write('src/cli/main.ts', 'const from: string = import.meta.url;\nconsole.log(from);\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
}

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Which main.ts or main.js `carebridge` ran. */
const ranFrom = () => path.relative(root, new URL(run(['bin/carebridge.js']).stdout.trim()).pathname);

describe('compiled JavaScript when it is current, src/ through tsx otherwise', () => {
  it('runs src/ until the build, dist/ after it, and src/ again once a source changes', () => {
    expect(compiledEntry(root)).toBeUndefined();
    expect(ranFrom()).toBe('src/cli/main.ts');

    const build = run(['scripts/build.mjs']);
    expect(build.code).toBe(0);
    expect(build.stdout).toMatch(/^build: dist\/ compiled from src\/ in \d+\.\d s$/m);
    expect(ranFrom()).toBe('dist/cli/main.js');

    // A test file is not compiled, so it does not make dist/ stale; any other change does.
    write('src/cli/main.test.ts', 'export {};\n');
    expect(ranFrom()).toBe('dist/cli/main.js');
    write('src/cli/main.ts', 'const from: string = import.meta.url;\nconsole.log(from); // edited\n');
    expect(ranFrom()).toBe('src/cli/main.ts');
    write('src/cli/main.ts', 'const from: string = import.meta.url;\nconsole.log(from);\n');
    expect(ranFrom()).toBe('dist/cli/main.js');
    write('src/cli/extra.ts', 'export const x = 1;\n');
    expect(ranFrom()).toBe('src/cli/main.ts');
    rmSync(path.join(root, 'src/cli/extra.ts'));
    write(
      'tsconfig.build.json',
      '{"extends":"./tsconfig.json","compilerOptions":{"rootDir":"src","outDir":"dist"}}',
    );
    expect(ranFrom()).toBe('src/cli/main.ts');
  });

  it('runs dist/ when there is no src/ (an image that ships dist/ alone)', () => {
    expect(run(['scripts/build.mjs']).code).toBe(0);
    rmSync(path.join(root, 'src'), { recursive: true });
    expect(ranFrom()).toBe('dist/cli/main.js');
  });

  it('as the prepare script, builds only what is stale and never fails the install', () => {
    const first = run(['scripts/build.mjs', '--if-needed']);
    expect(first.code).toBe(0);
    expect(compiledEntry(root)).toBeDefined();
    const again = run(['scripts/build.mjs', '--if-needed']);
    expect(again.stdout + again.stderr).toBe('');

    write('src/cli/main.ts', 'const n: number = "not a number";\nconsole.log(n);\n');
    const broken = run(['scripts/build.mjs', '--if-needed']);
    expect(broken.code).toBe(0);
    expect(broken.stderr).toMatch(/build: tsc failed \(exit 2\); carebridge will run src\/ through tsx/);
    expect(compiledEntry(root)).toBeUndefined();
    // `npm run build` itself does fail.
    expect(run(['scripts/build.mjs']).code).toBe(1);
  });

  it('hashes paths and contents, so a renamed file is a change too', () => {
    const before = sourceHash(root);
    write('src/cli/other.ts', 'export {};\n');
    const added = sourceHash(root);
    rmSync(path.join(root, 'src/cli/other.ts'));
    write('src/cli/renamed.ts', 'export {};\n');
    expect(new Set([before, added, sourceHash(root)]).size).toBe(3);
  });
});
