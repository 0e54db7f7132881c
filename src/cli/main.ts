#!/usr/bin/env node
import { portProblem } from './port.js';

// Each command imports what it needs when it runs: `carebridge --help` loads nothing else, `config` only the
// settings, and only `start` and `doctor` the gateway, the sandboxes and their client libraries.

const USAGE = `Usage: carebridge <command>

Commands:
  start      run the gateway (profile from CAREBRIDGE_PROFILE, default development)
  migrate    apply pending database migrations and exit
  config     print the effective configuration, secrets masked, and every feature flag's value
  doctor     start every component once, wait up to 10 s for each dependency's first answer, print one
             line per dependency (name, target, up/down/degraded, latency, cause) and exit (1 when a
             required dependency is down)
  doctor --json
             the same report as JSON (the /health/ready shape, with latencyMs)
  sandbox <payments|users|notifications> [--port <n>] [--host <address>] [--state-dir <folder>]
             run ONE sandbox as this process, on its own port (production-like setups and tests); prints its
             address and the settings that point the gateway at it
  sandbox reset
             forget every sandbox's saved records and the ledger rows that mirror them (not in
             production; stop the gateway first, or POST /_sandbox/reset to a running sandbox)
  --help     show this text

Configuration comes from environment variables (see README.md, "Configuration").`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === 'sandbox') {
    if (rest[0] !== 'reset') {
      const { runSandboxCommand } = await import('./sandbox-serve.js');
      const { loadConfig } = await import('./config.js');
      return runSandboxCommand(loadConfig(), rest, process.stdout);
    }
    if (rest.length > 1) throw new UsageError('carebridge sandbox reset: unexpected argument');
    const { describeReset, resetSandboxes } = await import('./sandbox-reset.js');
    const { loadConfig } = await import('./config.js');
    process.stdout.write(`${describeReset(await resetSandboxes(loadConfig()))}\n`);
    return 0;
  }
  const json = command === 'doctor' && rest[0] === '--json';
  const extra = json ? rest.slice(1) : rest;
  if (extra.length > 0) throw new UsageError(`carebridge ${command}: unexpected argument "${extra[0]}"`);
  switch (command) {
    case 'start':
      return (await import('./start.js')).start();
    case 'migrate': {
      const { migrate, openStore } = await import('../kernel/store/index.js');
      const { MIGRATIONS } = await import('./migrations.js');
      const config = (await import('./config.js')).loadConfig();
      const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        const { applied } = await migrate(store, MIGRATIONS);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'nothing to apply\n');
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'doctor': {
      const { doctor } = await import('./doctor.js');
      const { COMPONENTS } = await import('./components/index.js');
      const { loadConfig } = await import('./config.js');
      return doctor({ config: loadConfig(), json, out: process.stdout, components: COMPONENTS });
    }
    case 'config': {
      const { describeConfig, loadConfig } = await import('./config.js');
      process.stdout.write(`${JSON.stringify(describeConfig(loadConfig()), null, 2)}\n`);
      return 0;
    }
    default:
      throw new UsageError(`carebridge: unknown command "${command}" (try carebridge --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // ConfigError by name: importing its module here would load the settings for every command.
    if (
      (err instanceof Error && err.name === 'ConfigError') ||
      err instanceof UsageError ||
      err instanceof RangeError
    ) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    const port = portProblem(err);
    if (port) {
      process.stderr.write(`${port}\n`);
      process.exit(1);
    }
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`carebridge: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
