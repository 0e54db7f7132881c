import {
  FlagNotFoundError,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
  StandardResolutionReasons,
  TypeMismatchError,
} from '@openfeature/server-sdk';

/** Flag values as the configuration gives them: each flag's value, and which ones a setting switched. */
export interface FlagValues {
  values: Readonly<Record<string, boolean>>;
  /** Flags CAREBRIDGE_FEATURE_FLAGS names (the rest are at their declared default). */
  switched: ReadonlySet<string>;
}

/**
 * The OpenFeature provider of CareBridge's own flags, fed from the configuration (CAREBRIDGE_FEATURE_FLAGS from
 * the environment or the profile file): in-process, so an evaluation is a map lookup. `update` swaps the values
 * on a reload and tells OpenFeature (PROVIDER_CONFIGURATION_CHANGED). A flag service (flagd, a vendor) can
 * replace it later without touching a call site: callers only know the OpenFeature client.
 */
export class ConfigFlagProvider implements Provider {
  readonly metadata = { name: 'carebridge-config' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();

  constructor(private current: FlagValues) {}

  /** Takes new values; returns (and announces) the flags whose value changed. */
  update(next: FlagValues): string[] {
    const changed = Object.keys(next.values).filter((k) => next.values[k] !== this.current.values[k]);
    this.current = next;
    if (changed.length > 0) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: changed });
    return changed;
  }

  async resolveBooleanEvaluation(flagKey: string): Promise<ResolutionDetails<boolean>> {
    const value = this.current.values[flagKey];
    if (value === undefined) throw new FlagNotFoundError(`no feature flag "${flagKey}" is declared`);
    return {
      value,
      variant: value ? 'on' : 'off',
      reason: this.current.switched.has(flagKey)
        ? StandardResolutionReasons.STATIC
        : StandardResolutionReasons.DEFAULT,
    };
  }

  async resolveStringEvaluation(): Promise<ResolutionDetails<string>> {
    throw new TypeMismatchError('CareBridge feature flags are booleans');
  }

  async resolveNumberEvaluation(): Promise<ResolutionDetails<number>> {
    throw new TypeMismatchError('CareBridge feature flags are booleans');
  }

  async resolveObjectEvaluation<T>(): Promise<ResolutionDetails<T>> {
    throw new TypeMismatchError('CareBridge feature flags are booleans');
  }
}
