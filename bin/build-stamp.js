// Whether dist/ holds the compiled form of the src/ that is here now. `npm run build` (scripts/build.mjs) writes
// the hash of the sources it compiled into dist/.source-hash; bin/carebridge.js runs dist/ only when that hash is
// the hash of src/ now, so an edit, a checkout or a pull since the build can never run old code. A content hash,
// not mtimes: a checkout or a copy that keeps old mtimes would otherwise pass for built. Plain JavaScript with no
// dependencies: it runs before tsx is loaded (hashing src/ takes ~10 ms).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const STAMP_FILE = path.join('dist', '.source-hash');
export const COMPILED_MAIN = path.join('dist', 'cli', 'main.js');

/** Files under `dir` (relative to `root`), sorted, that the build compiles: tests are left out, as tsconfig.build.json does. */
function sources(root, dir) {
  return readdirSync(path.join(root, dir), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) return sources(root, rel);
      return e.isFile() && !e.name.endsWith('.test.ts') ? [rel] : [];
    });
}

/** The hash of every source file's path and content, and of the compiler settings. */
export function sourceHash(root) {
  const hash = createHash('sha256');
  const files = [...sources(root, 'src'), 'tsconfig.json', 'tsconfig.build.json'];
  for (const rel of files) {
    hash.update(`${rel}\0`);
    hash.update(existsSync(path.join(root, rel)) ? readFileSync(path.join(root, rel)) : '');
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * The file URL of dist/cli/main.js when it was built from the src/ here now, else undefined. Without src/ (an
 * image that ships dist/ alone) dist/ is all there is.
 */
export function compiledEntry(root) {
  const main = path.join(root, COMPILED_MAIN);
  if (!existsSync(main)) return undefined;
  if (!existsSync(path.join(root, 'src'))) return pathToFileURL(main).href;
  let stamp;
  try {
    stamp = readFileSync(path.join(root, STAMP_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
  return stamp === sourceHash(root) ? pathToFileURL(main).href : undefined;
}
