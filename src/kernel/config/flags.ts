/**
 * Feature flags: a fixed set of known flags with defaults per profile, switched by
 * CAREBRIDGE_FEATURE_FLAGS (`name` turns on, `-name` turns off). Unknown names are refused so a typo
 * does not silently leave a feature in the wrong state.
 */
export class FeatureFlags {
  private readonly state = new Map<string, boolean>();

  constructor(known: Record<string, boolean>, overrides: readonly string[] = []) {
    for (const [name, on] of Object.entries(known)) this.state.set(name, on);
    for (const raw of overrides) {
      const off = raw.startsWith('-');
      const name = off ? raw.slice(1) : raw;
      if (!this.state.has(name)) {
        throw new RangeError(
          `CAREBRIDGE_FEATURE_FLAGS: unknown flag "${name}" (known: ${[...this.state.keys()].join(', ') || 'none'})`,
        );
      }
      this.state.set(name, !off);
    }
  }

  isEnabled(name: string): boolean {
    const v = this.state.get(name);
    if (v === undefined) throw new RangeError(`unknown feature flag "${name}"`);
    return v;
  }

  toJSON(): Record<string, boolean> {
    return Object.fromEntries(this.state);
  }
}
