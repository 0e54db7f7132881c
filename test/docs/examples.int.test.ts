import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../src/cli/components/index.js';
import { loadConfig } from '../../src/cli/config.js';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import { createLogger } from '../../src/kernel/telemetry/index.js';
import { createVhost } from '../notifications/harness.js';

/**
 * The docs run: every ```sh block of the README and of docs/integrations/*.md is executed in order, in one
 * bash per document (so variables carry from block to block), against a started gateway. A line
 * `# → 201 {"status":"succeeded",…}` after a command states what it answers: the HTTP status of the last curl
 * since the previous expectation, and key fields that must appear in what those commands printed (values
 * written with `…` are not compared). Blocks fenced as ```sh norun (production settings, paths on another
 * machine) and `npm install` / `npm start` / `npm test` lines (the gateway is already running) are skipped.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const DOCS = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs/integrations'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/integrations/${f}`),
];

interface Step {
  /** Shell text (one or more commands, continuation lines joined as written). */
  script: string;
  /** `# → STATUS {fields}` following the step, if any. */
  expect?: { status?: number; fields: Array<[string, string]> };
  line: number;
}

/** Splits a document's runnable sh blocks into steps, each ending at an expectation line or the block end. */
function stepsOf(markdown: string): Step[] {
  const steps: Step[] = [];
  const lines = markdown.split('\n');
  let inBlock = false;
  let runnable = false;
  let buf: string[] = [];
  let start = 0;
  const flush = (expect?: Step['expect']) => {
    const script = buf.join('\n').trim();
    if (script || expect) steps.push({ script, ...(expect ? { expect } : {}), line: start + 1 });
    buf = [];
  };
  lines.forEach((raw, i) => {
    const fence = /^```(\S*)\s*(.*)$/.exec(raw);
    if (fence) {
      if (!inBlock) {
        inBlock = true;
        runnable = (fence[1] === 'sh' || fence[1] === 'bash') && !/\bnorun\b/.test(fence[2] ?? '');
        start = i;
      } else {
        if (runnable) flush();
        inBlock = false;
      }
      return;
    }
    if (!inBlock || !runnable) return;
    const exp = /^#\s*→\s*(\d{3})?\s*(.*)$/.exec(raw.trim());
    if (exp) {
      flush({ status: exp[1] ? Number(exp[1]) : undefined, fields: fieldsOf(exp[2] ?? '') });
      start = i + 1;
      return;
    }
    if (/^\s*npm (install|ci|start|test)\b/.test(raw)) return;
    if (buf.length === 0) start = i;
    buf.push(raw);
  });
  return steps;
}

/** `"key":value` pairs of a shown answer whose value is written out in full (no `…`). */
function fieldsOf(shown: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of shown.matchAll(
    /"([A-Za-z0-9_]+)":\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)/g,
  )) {
    if (!m[2]!.includes('…')) out.push([m[1]!, m[2]!]);
  }
  return out;
}

/** One bash for a document: runs a step, returns what it printed and the statuses of its curl calls. */
class Shell {
  private readonly proc;
  private out = '';
  private err = '';
  constructor(env: NodeJS.ProcessEnv, cwd: string) {
    this.proc = spawn('bash', ['--noprofile', '--norc'], { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (c) => {
      this.out += c;
    });
    this.proc.stderr.on('data', (c) => {
      this.err += c;
    });
  }

  async run(
    script: string,
    timeoutMs = 30_000,
  ): Promise<{ stdout: string; stderr: string; statuses: number[] }> {
    const mark = `__STEP_DONE_${Math.random().toString(36).slice(2)}__`;
    this.out = '';
    this.err = '';
    this.proc.stdin.write(`${script}\necho; echo ${mark}\n`);
    const started = Date.now();
    while (!this.out.includes(mark)) {
      if (Date.now() - started > timeoutMs)
        throw new Error(`step did not finish in ${timeoutMs} ms:\n${script}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const stdout = this.out.slice(0, this.out.indexOf(mark));
    const statuses = [...this.err.matchAll(/__HTTP_STATUS__ (\d{3})/g)].map((m) => Number(m[1]));
    const stderr = this.err.replace(/__HTTP_STATUS__ \d{3}\n?/g, '');
    return { stdout, stderr, statuses };
  }

  close(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}

describe('the shell examples in the README and the integration guides', () => {
  let rt: Runtime;
  let port: number;
  let bin: string;
  // A vhost of its own: other suites (and `npm start`) run a reference notification service on the default one,
  // and a consumer there would take this gateway's e-mail and its delivery reports.
  let vhost: ReturnType<typeof createVhost> | undefined;

  beforeAll(async () => {
    vhost = createVhost();
    const config = loadConfig({
      env: {
        CAREBRIDGE_PROFILE: 'development',
        CAREBRIDGE_DATA_DIR: 'memory://',
        PORT: '0',
        RABBITMQ_URL: vhost.url,
      },
      cwd: '/nonexistent',
    });
    rt = await createRuntime({ config, logger: createLogger({ level: 'silent' }), components: COMPONENTS });
    const url = await rt.listen();
    port = Number(new URL(url).port);
    // curl as the docs call it, plus each answer's status on stderr (stdout stays what the reader sees).
    bin = mkdtempSync(path.join(tmpdir(), 'cb-docs-'));
    const realCurl = '/usr/bin/curl';
    writeFileSync(
      path.join(bin, 'curl'),
      `#!/bin/sh\nexec ${realCurl} -w '%{stderr}__HTTP_STATUS__ %{http_code}\\n' "$@"\n`,
    );
    chmodSync(path.join(bin, 'curl'), 0o755);
  });
  afterAll(async () => {
    await rt?.stop();
    vhost?.drop();
    if (bin) rmSync(bin, { recursive: true, force: true });
  });

  for (const doc of DOCS) {
    it(`${doc}: every command does what the text says`, async () => {
      const steps = stepsOf(readFileSync(path.join(ROOT, doc), 'utf8'));
      // A scratch folder as the working directory: what an example writes never lands in the repo.
      const cwd = mkdtempSync(path.join(tmpdir(), 'cb-docs-run-'));
      const shell = new Shell(
        { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8' },
        cwd,
      );
      try {
        for (const step of steps) {
          const script = step.script.replaceAll('localhost:8080', `127.0.0.1:${port}`);
          const res = await shell.run(script);
          const where = `${doc}:${step.line}\n${step.script}\n--- printed:\n${res.stdout}${res.stderr}`;
          expect(res.stderr, where).not.toMatch(/command not found|No such file|syntax error|curl: \(\d+\)/);
          // Unannotated calls must succeed; an annotated step's last call answers what the annotation says.
          const expected = step.expect?.status;
          const succeedOnly = expected === undefined ? res.statuses : res.statuses.slice(0, -1);
          for (const status of succeedOnly) expect(status, where).toBeLessThan(400);
          if (!step.expect) continue;
          if (expected !== undefined) expect(res.statuses.at(-1), where).toBe(expected);
          for (const [key, value] of step.expect.fields) {
            expect(res.stdout, `${where}\n--- expected "${key}":${value}`).toMatch(
              new RegExp(`"${key}":\\s*${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
            );
          }
        }
      } finally {
        shell.close();
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  }
});
