import { z } from 'zod';

export const PROFILES = ['development', 'test', 'production'] as const;
export type Profile = (typeof PROFILES)[number];

/**
 * One configuration setting: where it comes from (an environment variable, or the same name in the
 * per-profile file), how it is validated, its default per profile, and how it is treated in production.
 */
export interface Setting<S extends z.ZodType = z.ZodType> {
  env: string;
  schema: S;
  /** Default value, either one for all profiles or per profile. `undefined` means "unset" (optional). */
  default?: z.input<S> | Partial<Record<Profile, z.input<S>>>;
  description: string;
  /** Secrets are read from `ENV` or from the file named by `ENV_FILE`, and always masked when printed. */
  secret?: boolean;
  /** A setting that must be given explicitly in production (a default is refused there). */
  requiredInProduction?: boolean;
  /** Marks URL-like settings so production can refuse sandbox targets and plain-text transports. */
  transport?: 'url' | 'grpc-target';
}

export function setting<S extends z.ZodType>(s: Setting<S>): Setting<S> {
  return s;
}

/** A table of settings by config key (`paymentsBaseUrl: setting({ env: 'PAYMENTS_BASE_URL', … })`). */
export type SettingTable = Record<string, Setting>;

/** The validated configuration a table of settings loads into: one typed, read-only value per key. */
export type ConfigOf<S> = { readonly profile: Profile } & {
  readonly [K in keyof S]: S[K] extends Setting<infer Z> ? z.output<Z> : never;
};

/** Booleans from the environment: true/false/1/0/yes/no, case-insensitive. */
export const envBoolean = z.preprocess(
  (v) => {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const t = v.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return true;
      if (['false', '0', 'no', 'off'].includes(t)) return false;
    }
    return v;
  },
  z.boolean({ error: 'expected true or false' }),
);

export const envInt = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v),
    z
      .number({ error: `expected an integer from ${min} to ${max}` })
      .int({ error: `expected an integer from ${min} to ${max}` })
      .min(min, { error: `expected an integer from ${min} to ${max}` })
      .max(max, { error: `expected an integer from ${min} to ${max}` }),
  );

/** A URL, or the word `sandbox`: start the in-process simulator and use its address. */
export const urlOrSandbox = z.union([z.literal('sandbox'), z.url({ error: 'expected a URL or "sandbox"' })], {
  error: 'expected a URL or "sandbox"',
});

/** `a, b,,c` → `['a', 'b', 'c']`; other values pass through to the schema. */
export function splitCommaList(v: unknown): unknown {
  return typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : v;
}

export const commaList = z.preprocess(splitCommaList, z.array(z.string()));
