import { type StatsListener, unwatchFile, watchFile } from 'node:fs';
import { configFilePath, type FeatureFlags, type LoadOptions } from '../kernel/config/index.js';
import type { Logger } from '../kernel/telemetry/index.js';
import { loadConfig } from './config.js';

/** How often the profile file is looked at (a stat): a switched flag takes effect within about this long. */
export const FLAG_FILE_POLL_MS = 1_000;

export interface FlagReloader {
  /** Reads CAREBRIDGE_FEATURE_FLAGS again and applies it; false (and the previous values kept) when invalid. */
  reload(): boolean;
  stop(): void;
}

/**
 * Keeps the running gateway's feature flags in step with the configuration, without a restart: reloads when the
 * profile file (`config/<profile>.json` or CAREBRIDGE_CONFIG_FILE) changes, and on `reload()` (main wires SIGHUP
 * to it). The whole configuration is loaded and validated again, as at start-up, but only the flags are applied:
 * every other setting still needs a restart. An invalid file changes nothing and says why. The file is polled
 * with a stat (`fs.watchFile`) rather than watched: that survives editors that replace the file, and a file
 * created after start-up.
 */
export function watchFeatureFlags(opts: {
  flags: FeatureFlags;
  source: LoadOptions;
  logger: Logger;
  pollIntervalMs?: number;
}): FlagReloader {
  const { flags, source } = opts;
  const logger = opts.logger.child({ component: 'feature-flags' });
  const file = configFilePath(source).path;
  const reload = (): boolean => {
    let changed: Record<string, boolean>;
    try {
      changed = flags.set(loadConfig(source).featureFlags);
    } catch (err) {
      logger.error(
        { file, reason: err instanceof Error ? err.message : String(err) },
        'feature flags not reloaded: the configuration is invalid; the previous values stay',
      );
      return false;
    }
    if (Object.keys(changed).length > 0) logger.info({ changed, file }, 'feature flags reloaded');
    else logger.debug({ file }, 'feature flags reloaded: nothing changed');
    return true;
  };
  const onChange: StatsListener = (curr, prev) => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size) reload();
  };
  watchFile(file, { interval: opts.pollIntervalMs ?? FLAG_FILE_POLL_MS, persistent: false }, onChange);
  return {
    reload,
    stop: () => unwatchFile(file, onChange),
  };
}
