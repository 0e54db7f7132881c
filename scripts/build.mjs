// `npm run build`: compiles src/ to dist/ (tsconfig.build.json) and stamps dist/ with the hash of the sources it
// was compiled from (bin/build-stamp.js), so bin/carebridge.js runs dist/ only while src/ is unchanged.
//
// `--if-needed` is the `prepare` script npm runs after `npm install` and `npm ci`: it builds only when there is a
// src/ and dist/ is not already current, and a build that cannot run (no TypeScript: `--omit=dev`) or fails
// (a type error) is a warning, not a failed install: carebridge then runs src/ through tsx.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledEntry, STAMP_FILE, sourceHash } from '../bin/build-stamp.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const ifNeeded = process.argv.includes('--if-needed');

function fail(message) {
  if (!ifNeeded) {
    console.error(`build: ${message}`);
    process.exit(1);
  }
  console.warn(
    `build: ${message}; carebridge will run src/ through tsx (slower start) until \`npm run build\``,
  );
  process.exit(0);
}

if (ifNeeded && !existsSync(path.join(root, 'src'))) process.exit(0);
if (ifNeeded && compiledEntry(root)) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  fail('TypeScript is not installed (dev dependencies omitted?)');
}
// Hashed before compiling: a file edited during the build leaves a stamp that no longer matches, never the reverse.
const hash = sourceHash(root);
// Emptied first, so a module whose source was deleted does not linger in dist/.
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const started = Date.now();
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) fail(`tsc failed (exit ${r.status ?? r.signal})`);
writeFileSync(path.join(root, STAMP_FILE), `${hash}\n`);
console.log(`build: dist/ compiled from src/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
