import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, describeSettings, loadSettings, maskUrl } from './load.js';
import { setting, urlOrSandbox } from './setting.js';
import { coreSettings } from './settings/core.js';
import { KERNEL_SETTINGS } from './settings/index.js';

const nowhere = '/nonexistent-carebridge';
const load = (env: Record<string, string>, cwd = nowhere) => loadSettings(KERNEL_SETTINGS, { env, cwd });
const describeConfig = (c: Parameters<typeof describeSettings>[1]) => describeSettings(KERNEL_SETTINGS, c);

describe('loadSettings', () => {
  it('uses the development profile and its defaults when nothing is set', () => {
    const c = load({});
    expect(c.profile).toBe('development');
    expect(c.port).toBe(8080);
    expect(c.dataDir).toBe('./.carebridge');
    expect(c.migrateOnStart).toBe(true);
  });

  it('names PORT and what is allowed when PORT is not a number', () => {
    expect(() => load({ PORT: 'abc' })).toThrow(ConfigError);
    expect(() => load({ PORT: 'abc' })).toThrow(
      /^Invalid configuration: PORT: expected an integer from 0 to 65535, got "abc"$/,
    );
  });

  it('refuses an unknown profile and an unknown CAREBRIDGE_ variable', () => {
    expect(() => load({ CAREBRIDGE_PROFILE: 'staging' })).toThrow(
      /CAREBRIDGE_PROFILE: expected one of development, test, production/,
    );
    expect(() => load({ CAREBRIDGE_BODY_LIMT_BYTES: '5' })).toThrow(
      /CAREBRIDGE_BODY_LIMT_BYTES: unknown setting/,
    );
  });

  it('reads a secret from NAME_FILE and never prints it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-config-'));
    const file = path.join(dir, 'pw');
    writeFileSync(file, 'from-a-file-123\n');
    const c = load({ CAREBRIDGE_DEV_ADMIN_PASSWORD_FILE: file });
    expect(c.devAdminPassword).toBe('from-a-file-123');
    expect(JSON.stringify(describeConfig(c))).not.toContain('from-a-file-123');
    expect(describeConfig(c).CAREBRIDGE_DEV_ADMIN_PASSWORD).toBe('********');
  });

  it('masks credentials inside URLs when describing the configuration', () => {
    const c = load({ DATABASE_URL: 'postgres://app:hunter2@db.internal:5432/carebridge' });
    expect(JSON.stringify(describeConfig(c))).not.toContain('hunter2');
  });

  it('shows the address of a secret URL setting and masks only its credentials', () => {
    const c = load({
      DATABASE_URL: 'postgres://app:hunter2@db.internal:5432/carebridge?sslmode=require&password=pw2',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    const d = describeConfig(c);
    expect(d.DATABASE_URL).toBe('postgres://***@db.internal:5432/carebridge?sslmode=require&password=***');
    expect(d.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(describeConfig(load({ REDIS_URL: 'redis://:pw3@cache:6379/2' })).REDIS_URL).toBe(
      'redis://***@cache:6379/2',
    );
    expect(maskUrl('http://127.0.0.1:43210')).toBe('http://127.0.0.1:43210');
  });

  it('takes values from the per-profile file, with the environment winning', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-config-'));
    const file = path.join(dir, 'test.json');
    writeFileSync(file, JSON.stringify({ PORT: 9090, LOG_LEVEL: 'warn' }));
    const c = loadSettings(KERNEL_SETTINGS, {
      env: { CAREBRIDGE_PROFILE: 'test', CAREBRIDGE_CONFIG_FILE: file, LOG_LEVEL: 'error' },
    });
    expect(c.port).toBe(9090);
    expect(c.logLevel).toBe('error');
  });

  it('refuses an unknown key in the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cb-config-'));
    const file = path.join(dir, 'development.json');
    writeFileSync(file, JSON.stringify({ PROT: 1 }));
    expect(() => load({ CAREBRIDGE_CONFIG_FILE: file })).toThrow(/PROT \(in .*\): unknown setting/);
  });

  it('refuses to turn TLS verification off in production', () => {
    expect(() => load({ CAREBRIDGE_PROFILE: 'production', CAREBRIDGE_TLS_VERIFY: 'false' })).toThrow(
      /CAREBRIDGE_TLS_VERIFY/,
    );
  });

  describe('in production', () => {
    const settings = {
      ...coreSettings,
      brokerUrl: setting({
        env: 'BROKER_URL',
        schema: urlOrSandbox,
        default: { development: 'sandbox' },
        requiredInProduction: true,
        transport: 'url' as const,
        description: 'test',
      }),
      apiSecret: setting({
        env: 'API_SECRET',
        schema: z.string(),
        default: 'dev-secret',
        secret: true,
        description: 'test',
      }),
    };
    const prod = (env: Record<string, string>) => <Record<string, unknown>>loadSettings(settings, {
        env: { CAREBRIDGE_PROFILE: 'production', API_SECRET: 's3cret-value', ...env },
        cwd: nowhere,
      });

    it('accepts TLS targets and explicit secrets', () => {
      expect(prod({ BROKER_URL: 'https://broker.internal' }).brokerUrl).toBe('https://broker.internal');
    });

    it('requires targets to be set explicitly', () => {
      expect(() => prod({})).toThrow(/BROKER_URL: required in production/);
    });

    it('refuses plain-text transports unless explicitly allowed', () => {
      expect(() => prod({ BROKER_URL: 'http://broker.internal' })).toThrow(
        /BROKER_URL: production refuses plain-text/,
      );
      expect(
        prod({ BROKER_URL: 'http://broker.internal', CAREBRIDGE_ALLOW_INSECURE_TRANSPORT: 'true' }).brokerUrl,
      ).toBe('http://broker.internal');
    });

    it('refuses sandbox targets unless explicitly allowed', () => {
      expect(() => prod({ BROKER_URL: 'sandbox' })).toThrow(/BROKER_URL: production refuses sandbox targets/);
    });

    it('refuses default secrets', () => {
      const env = { CAREBRIDGE_PROFILE: 'production', BROKER_URL: 'https://b' };
      expect(() => loadSettings(settings, { env, cwd: nowhere })).toThrow(
        /API_SECRET: production refuses the default secret/,
      );
    });

    it('does not carry the development admin password', () => {
      expect(prod({ BROKER_URL: 'https://b' }).devAdminPassword).toBeUndefined();
    });
  });
});
