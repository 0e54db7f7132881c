#!/usr/bin/env node
// The `carebridge` command (and `npm start`). Runs dist/ when it was compiled from the src/ here now: plain
// JavaScript starts seconds sooner than compiling TypeScript on every call. Otherwise (a clone where the build
// has not run, or src/ changed since it ran) it runs src/ through tsx, so it always runs the code that is here.
import { fileURLToPath } from 'node:url';
import { compiledEntry } from './build-stamp.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = compiledEntry(root);
if (compiled) {
  await import(compiled);
} else {
  if (process.argv[2] === 'start' && process.stderr.isTTY)
    process.stderr.write(
      'carebridge: running src/ through tsx (dist/ is missing or older than src/); `npm run build` starts it faster\n',
    );
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
