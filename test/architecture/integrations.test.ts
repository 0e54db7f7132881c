import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const INTEGRATIONS = readdirSync(path.join(ROOT, 'src/integrations'));

/** The files every integration folder has (docs/architecture.md, "Adding an integration"). */
const REQUIRED = ['index.ts', 'settings.ts', 'errors.ts', 'integration.ts'];
/** The files the checklist names; migrations.ts, schemas.ts and ledger.ts where the integration needs them. */
const CHECKLIST = [...REQUIRED, 'migrations.ts', 'schemas.ts', 'ledger.ts'];

/** `<integration>/<file>` missing on purpose, with the reason. */
const MISSING: Record<string, string> = {
  'users/integration.ts':
    'the class is in user-service-integration.ts, renamed once the concurrent edit of that file has landed',
};

describe('integration folders follow docs/architecture.md', () => {
  it.each(INTEGRATIONS)('%s has the checklist files', (name) => {
    const missing = REQUIRED.filter(
      (f) => !existsSync(path.join(ROOT, 'src/integrations', name, f)) && !(`${name}/${f}` in MISSING),
    );
    expect(missing).toEqual([]);
  });

  it.each(INTEGRATIONS)('%s exports its settings and migrations, and cli composes them', (name) => {
    const door = read(`src/integrations/${name}/index.ts`);
    expect(door).toMatch(new RegExp(`\\b${name}Settings\\b`));
    expect(read('src/cli/config.ts')).toMatch(new RegExp(`\\.\\.\\.${name}Settings\\b`));
    if (existsSync(path.join(ROOT, 'src/integrations', name, 'migrations.ts'))) {
      expect(door).toMatch(new RegExp(`\\b${name}Migrations\\b`));
      expect(read('src/cli/migrations.ts')).toMatch(new RegExp(`\\.\\.\\.${name}Migrations\\b`));
    }
  });

  it.each(INTEGRATIONS)('%s has a component, a route module and a page of docs', (name) => {
    expect(read('src/cli/components/index.ts')).toMatch(new RegExp(`\\b${name}Component\\b`));
    expect(existsSync(path.join(ROOT, 'src/gateway/routes', `${name}.ts`))).toBe(true);
    expect(existsSync(path.join(ROOT, 'docs/integrations', `${name}.md`))).toBe(true);
  });

  it('the checklist names every file a new integration adds and every list it joins', () => {
    const doc = read('docs/architecture.md');
    const named = [
      ...CHECKLIST,
      'src/sandbox/<name>/',
      'src/gateway/routes/<name>.ts',
      'src/cli/components/<name>.ts',
      'cli/components/index.ts',
      'cli/config.ts',
      'cli/migrations.ts',
      'docs/integrations/<name>.md',
      'docs/errors.md',
      'CHANGELOG.md',
    ];
    expect(named.filter((f) => !doc.includes(`\`${f}\``))).toEqual([]);
  });
});
