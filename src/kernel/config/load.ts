import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { firstIssue } from '../errors/index.js';
import { maskCredentials } from '../telemetry/index.js';
import { type ConfigOf, PROFILES, type Profile, type Setting, type SettingTable } from './setting.js';

/** Thrown for any invalid or unknown setting; the CLI prints `message` alone and exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Per-profile JSON file; default `config/<profile>.json` when it exists, or `CAREBRIDGE_CONFIG_FILE`. */
  file?: string;
  cwd?: string;
}

const META_VARS = new Set(['CAREBRIDGE_PROFILE', 'CAREBRIDGE_CONFIG_FILE']);
const SANDBOX_HOST = /^(sandbox)$/;
const PLAINTEXT = /^(http|amqp|ws|redis|kafka):\/\//i;

/**
 * Reads a file a setting names (a secret, a PEM certificate or key); unset stays undefined, and a file that
 * cannot be read is a ConfigError naming the setting, so start-up stops with one line saying which.
 */
export function readSettingFile(name: string, file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function readSecretFile(envName: string, file: string): string {
  return (readSettingFile(`${envName}_FILE`, file) as Buffer).toString('utf8').replace(/\r?\n$/, '');
}

function loadFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file}: expected a JSON object of SETTING_NAME: value`);
  }
  return parsed as Record<string, unknown>;
}

function describeValue(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/**
 * The per-profile file a load with `opts` reads, resolved: `opts.file`, else CAREBRIDGE_CONFIG_FILE, else
 * `config/<profile>.json` (read only when it exists). `explicit`: named by the caller, so it must exist.
 */
export function configFilePath(opts: LoadOptions = {}): { path: string; name: string; explicit: boolean } {
  const env = opts.env ?? process.env;
  const profile = env.CAREBRIDGE_PROFILE ?? 'development';
  const name = opts.file ?? env.CAREBRIDGE_CONFIG_FILE ?? path.join('config', `${profile}.json`);
  return {
    path: path.resolve(opts.cwd ?? process.cwd(), name),
    name,
    explicit: opts.file !== undefined || env.CAREBRIDGE_CONFIG_FILE !== undefined,
  };
}

/**
 * Loads and validates a whole table of settings once (`cli/config.ts` passes every setting CareBridge knows).
 * Precedence: environment > per-profile file > default. Unknown `CAREBRIDGE_*` variables and unknown file
 * keys are refused, so a typo cannot go unnoticed.
 */
export function loadSettings<S extends SettingTable>(settings: S, opts: LoadOptions = {}): ConfigOf<S> {
  const env = opts.env ?? process.env;
  const rawProfile = env.CAREBRIDGE_PROFILE ?? 'development';
  if (!PROFILES.includes(rawProfile as Profile)) {
    throw new ConfigError(
      `CAREBRIDGE_PROFILE: expected one of ${PROFILES.join(', ')}, got ${describeValue(rawProfile)}`,
    );
  }
  const profile = rawProfile as Profile;
  const byEnv = new Map<string, [string, Setting]>();
  for (const [key, s] of Object.entries(settings) as [string, Setting][]) byEnv.set(s.env, [key, s]);

  for (const name of Object.keys(env)) {
    if (!name.startsWith('CAREBRIDGE_') || META_VARS.has(name)) continue;
    const base = name.endsWith('_FILE') ? name.slice(0, -5) : name;
    const known = byEnv.get(base);
    if (!known || (name !== base && !known[1].secret)) {
      throw new ConfigError(`${name}: unknown setting (see the configuration table in README.md)`);
    }
  }

  const { path: filePath, name: fileName, explicit: explicitFile } = configFilePath(opts);
  if (explicitFile && !existsSync(filePath))
    throw new ConfigError(`CAREBRIDGE_CONFIG_FILE: ${fileName} does not exist`);
  const fileValues = existsSync(filePath) ? loadFile(filePath) : {};
  for (const k of Object.keys(fileValues)) {
    if (!byEnv.has(k)) throw new ConfigError(`${k} (in ${fileName}): unknown setting`);
  }

  const out: Record<string, unknown> = { profile };
  const problems: string[] = [];
  for (const [envName, [key, s]] of byEnv) {
    let raw: unknown;
    let fromDefault = false;
    if (env[envName] !== undefined && env[envName] !== '') raw = env[envName];
    else if (s.secret && env[`${envName}_FILE`])
      raw = readSecretFile(envName, env[`${envName}_FILE`] as string);
    else if (envName in fileValues) raw = fileValues[envName];
    else {
      fromDefault = true;
      raw = defaultFor(s, profile);
    }
    if (raw === undefined && fromDefault && profile === 'production' && s.requiredInProduction) {
      problems.push(`${envName}: required in production`);
      continue;
    }
    const parsed = s.schema.safeParse(raw);
    if (!parsed.success) {
      const { message } = firstIssue(parsed.error, envName);
      problems.push(`${envName}: ${message}${s.secret ? '' : `, got ${describeValue(raw)}`}`);
      continue;
    }
    if (profile === 'production') {
      if (s.secret && fromDefault && raw !== undefined)
        problems.push(`${envName}: production refuses the default secret; set ${envName} or ${envName}_FILE`);
      if (s.requiredInProduction && fromDefault)
        problems.push(`${envName}: must be set explicitly in production`);
    }
    out[key] = parsed.data;
  }

  if (profile === 'production') {
    for (const [envName, [key, s]] of byEnv) {
      const v = out[key];
      if (typeof v !== 'string' || !s.transport) continue;
      if (SANDBOX_HOST.test(v) && !out.allowSandbox) {
        problems.push(
          `${envName}: production refuses sandbox targets (set CAREBRIDGE_ALLOW_SANDBOX=true to allow)`,
        );
      }
      if (PLAINTEXT.test(v) && !out.allowInsecureTransport) {
        problems.push(
          `${envName}: production refuses plain-text transports (use TLS, or set CAREBRIDGE_ALLOW_INSECURE_TRANSPORT=true)`,
        );
      }
    }
    if (out.tlsRejectUnauthorized === false)
      problems.push('CAREBRIDGE_TLS_VERIFY: production refuses to turn TLS verification off');
    if (out.devAdminPassword !== undefined && env.CAREBRIDGE_DEV_ADMIN_PASSWORD === undefined)
      delete out.devAdminPassword;
  }

  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return Object.freeze(out) as ConfigOf<S>;
}

function defaultFor(s: Setting, profile: Profile): unknown {
  const d = s.default;
  if (
    d !== null &&
    typeof d === 'object' &&
    !Array.isArray(d) &&
    Object.keys(d).every((k) => (PROFILES as readonly string[]).includes(k))
  ) {
    return (d as Record<string, unknown>)[profile];
  }
  return d;
}

/** The effective configuration with every secret masked (for `carebridge config` and start-up logs). */
export function describeSettings(
  settings: SettingTable,
  config: { readonly profile: Profile },
): Record<string, unknown> {
  const out: Record<string, unknown> = { CAREBRIDGE_PROFILE: config.profile };
  for (const [key, s] of Object.entries(settings)) {
    const v = (config as unknown as Record<string, unknown>)[key];
    // A secret URL (DATABASE_URL, REDIS_URL) shows its address; only the credentials in it are masked.
    out[s.env] = s.secret && v !== undefined && !isUrl(v) ? '********' : maskUrl(v);
  }
  return out;
}

const isUrl = (v: unknown) => typeof v === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(v);

/**
 * Removes credentials from a URL-like value and keeps the address: `amqp://guest:guest@host` → `amqp://***@host`,
 * `postgres://db/x?password=pw` → `postgres://db/x?password=***`.
 */
export function maskUrl(v: unknown): unknown {
  return typeof v === 'string' ? maskCredentials(v) : v;
}
