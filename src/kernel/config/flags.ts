import { type Client, NOOP_PROVIDER, OpenFeature } from '@openfeature/server-sdk';
import { ConfigFlagProvider, type FlagValues } from './flag-provider.js';
import { ConfigError } from './load.js';

/** One feature flag: its value when no setting switches it, and what it turns on or off (the README says it). */
export interface FlagDefinition {
  default: boolean;
  description: string;
}

/** The flags of one area by name (`'payments.enabled': flag({ … })`); `cli/config.ts` composes them. */
export type FlagTable = Record<string, FlagDefinition>;

export function flag(d: FlagDefinition): FlagDefinition {
  return d;
}

const NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

/**
 * The flag values CAREBRIDGE_FEATURE_FLAGS asks for (`name` turns on, `-name` turns off) over the declared
 * defaults. An unknown name is a ConfigError, so a typo cannot leave a feature silently in the wrong state.
 */
export function resolveFlags(table: FlagTable, overrides: readonly string[] = []): FlagValues {
  const values: Record<string, boolean> = {};
  for (const [name, d] of Object.entries(table)) values[name] = d.default;
  const switched = new Set<string>();
  for (const raw of overrides) {
    const off = raw.startsWith('-');
    const name = off ? raw.slice(1) : raw;
    if (!(name in table)) {
      throw new ConfigError(
        `CAREBRIDGE_FEATURE_FLAGS: unknown flag "${name}" (known: ${Object.keys(table).join(', ') || 'none'})`,
      );
    }
    values[name] = !off;
    switched.add(name);
  }
  return { values, switched };
}

let instances = 0;

/**
 * The feature flags of one running gateway, evaluated through OpenFeature (`@openfeature/server-sdk`) with the
 * provider fed from the configuration (ConfigFlagProvider). Each instance binds its provider to an OpenFeature
 * domain of its own, so several runtimes in one process (tests) do not share flags. `set` applies a reloaded
 * CAREBRIDGE_FEATURE_FLAGS at once, without a restart.
 */
export class FeatureFlags {
  private readonly domain = `carebridge-${++instances}`;
  private readonly provider: ConfigFlagProvider;
  private readonly client: Client;
  private current: FlagValues;

  constructor(
    readonly table: FlagTable,
    overrides: readonly string[] = [],
  ) {
    for (const name of Object.keys(table)) {
      if (!NAME.test(name))
        throw new RangeError(`feature flag "${name}" is not area.name (lower case, dots)`);
    }
    this.current = resolveFlags(table, overrides);
    this.provider = new ConfigFlagProvider(this.current);
    OpenFeature.setProvider(this.domain, this.provider);
    this.client = OpenFeature.getClient(this.domain);
  }

  /** Throws a RangeError for a name no area declares (routes are checked when they are registered). */
  assertKnown(name: string): void {
    if (!(name in this.table)) {
      throw new RangeError(
        `unknown feature flag "${name}" (known: ${Object.keys(this.table).join(', ') || 'none'})`,
      );
    }
  }

  /** The flag's value now; should the provider fail, the declared default. */
  async isEnabled(name: string): Promise<boolean> {
    this.assertKnown(name);
    return this.client.getBooleanValue(name, (this.table[name] as FlagDefinition).default);
  }

  /**
   * Applies a new CAREBRIDGE_FEATURE_FLAGS list (a reload) and returns the flags that changed with their new
   * values. An invalid list throws ConfigError and changes nothing.
   */
  set(overrides: readonly string[]): Record<string, boolean> {
    const next = resolveFlags(this.table, overrides);
    const changed = this.provider.update(next);
    this.current = next;
    return Object.fromEntries(changed.map((name) => [name, next.values[name] as boolean]));
  }

  /** Every flag's current value (for `carebridge config` and logs). */
  snapshot(): Record<string, boolean> {
    return { ...this.current.values };
  }

  /** Unbinds the provider from its OpenFeature domain (the runtime's stop). */
  async close(): Promise<void> {
    await OpenFeature.setProviderAndWait(this.domain, NOOP_PROVIDER);
  }
}
