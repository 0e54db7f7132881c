#!/usr/bin/env node
import { ConfigError } from '../kernel/config/index.js';
import { migrate, openStore } from '../kernel/store/index.js';
import { createLogger } from '../kernel/telemetry/index.js';
import { COMPONENTS } from './components/index.js';
import { describeConfig, loadConfig } from './config.js';
import { doctor } from './doctor.js';
import { MIGRATIONS } from './migrations.js';
import { createRuntime } from './runtime.js';
import { describeReset, resetSandboxes } from './sandbox-reset.js';
import { runSandboxCommand } from './sandbox-serve.js';

const USAGE = `Usage: carebridge <command>

Commands:
  start      run the gateway (profile from CAREBRIDGE_PROFILE, default development)
  migrate    apply pending database migrations and exit
  config     print the effective configuration, secrets masked
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
    if (rest[0] !== 'reset') return runSandboxCommand(loadConfig(), rest, process.stdout);
    if (rest.length > 1) throw new UsageError('carebridge sandbox reset: unexpected argument');
    process.stdout.write(`${describeReset(await resetSandboxes(loadConfig()))}\n`);
    return 0;
  }
  const json = command === 'doctor' && rest[0] === '--json';
  const extra = json ? rest.slice(1) : rest;
  if (extra.length > 0) throw new UsageError(`carebridge ${command}: unexpected argument "${extra[0]}"`);
  switch (command) {
    case 'start':
      return start();
    case 'migrate': {
      const config = loadConfig();
      const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        const { applied } = await migrate(store, MIGRATIONS);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'nothing to apply\n');
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'doctor':
      return doctor({ config: loadConfig(), json, out: process.stdout, components: COMPONENTS });
    case 'config':
      process.stdout.write(`${JSON.stringify(describeConfig(loadConfig()), null, 2)}\n`);
      return 0;
    default:
      throw new UsageError(`carebridge: unknown command "${command}" (try carebridge --help)`);
  }
}

async function start(): Promise<number> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const runtime = await createRuntime({ config, logger, components: COMPONENTS });
  const url = await runtime.listen();
  logger.info({ url, profile: config.profile }, 'CareBridge gateway listening');
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      runtime.stop().then(
        () => resolve(0),
        (err) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof UsageError || err instanceof RangeError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'EADDRINUSE') {
      process.stderr.write(`PORT: address already in use (${e.message})\n`);
      process.exit(1);
    }
    process.stderr.write(`carebridge: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
