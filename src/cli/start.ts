import { createLogger } from '../kernel/telemetry/index.js';
import { COMPONENTS } from './components/index.js';
import { loadConfig } from './config.js';
import { holdPort } from './port.js';
import { createRuntime } from './runtime.js';
import { stopOnSignal } from './shutdown.js';
import { SUMMARY_WAIT_MS, startupSummary, terminalOutput } from './terminal.js';

/**
 * `carebridge start`: configuration, then the port (so a port in use is one line at once, before seconds of
 * start-up work), then the runtime; at a terminal in development, readable logs and a summary once every
 * dependency has answered. Resolves with the exit code after a signal and a graceful stop.
 */
export async function start(): Promise<number> {
  const config = loadConfig();
  const out = terminalOutput({
    profile: config.profile,
    stdoutIsTTY: process.stdout.isTTY === true,
    env: process.env,
  });
  const port = await holdPort(config.port, config.host);
  const logger = createLogger({
    level: config.logLevel,
    ...(out.forPeople ? { pretty: { color: out.color } } : {}),
  });
  logger.info({ profile: config.profile, pid: process.pid }, 'starting CareBridge');
  let runtime: Awaited<ReturnType<typeof createRuntime>>;
  try {
    runtime = await createRuntime({ config, logger, components: COMPONENTS, configSource: {} });
  } finally {
    await port.release();
  }
  const url = await runtime.listen().catch(async (err: unknown) => {
    // Taken in the moment between the hold and the listen: stop cleanly, then the one-line message.
    await runtime.stop().catch(() => {});
    throw err;
  });
  // performance.now() counts from the process start: what the person waited, module loading included.
  const startedInMs = Math.round(performance.now());
  logger.info({ url, profile: config.profile, startedInMs }, 'CareBridge gateway listening');
  let stopping = false;
  // SIGHUP re-reads the feature flags (the profile file is also watched); nothing else changes without a restart.
  const onHangup = () => runtime.reloadFlags();
  process.on('SIGHUP', onHangup);
  const exitCode = stopOnSignal({
    logger,
    stop: () => {
      stopping = true;
      process.off('SIGHUP', onHangup);
      return runtime.stop();
    },
  });
  if (out.forPeople) {
    void runtime.health.settledReport({ timeoutMs: SUMMARY_WAIT_MS }).then(
      (report) => {
        if (stopping) return;
        const summary = startupSummary({
          url,
          profile: config.profile,
          startedInMs,
          sandboxes: runtime.sandboxes,
          report,
        });
        process.stdout.write(`\n${summary}\n`);
      },
      (err: unknown) => logger.warn({ err }, 'start-up summary not printed'),
    );
  }
  return exitCode;
}
