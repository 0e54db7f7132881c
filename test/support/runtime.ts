import { COMPONENTS } from '../../src/cli/components/index.js';
import { loadConfig } from '../../src/cli/config.js';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import { createLogger } from '../../src/kernel/telemetry/index.js';

/**
 * The whole gateway as `carebridge start` builds it (every component, sandboxes in-process) for the test profile
 * over an in-memory store, for tests that exercise every route. Stop it with `rt.stop()`.
 */
export async function startTestRuntime(env: Record<string, string> = {}): Promise<Runtime> {
  const config = loadConfig({
    env: { CAREBRIDGE_PROFILE: 'test', CAREBRIDGE_DATA_DIR: 'memory://', ...env },
    cwd: '/nonexistent',
  });
  return createRuntime({ config, logger: createLogger({ level: 'silent' }), components: COMPONENTS });
}

/** A bearer token of a seeded development user (`admin`, `billing`, `noroles`, …). */
export async function tokenFor(rt: Runtime, username: string): Promise<string> {
  const res = await rt.app.inject({
    method: 'POST',
    url: '/v1/auth/token',
    payload: { username, password: rt.config.devAdminPassword },
  });
  if (res.statusCode !== 200) throw new Error(`sign-in as ${username}: ${res.statusCode} ${res.body}`);
  return res.json().access_token;
}
