import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';
import { createRuntime } from '../../src/cli/runtime.js';
import type { App } from '../../src/gateway/types.js';
import { allowAll } from '../support/app.js';

describe('graceful shutdown', () => {
  it('finishes in-flight requests, refuses new ones, then closes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const config = loadConfig({
      env: { CAREBRIDGE_PROFILE: 'test', PORT: '0', CAREBRIDGE_DATA_DIR: 'memory://' },
      cwd: '/nonexistent',
    });
    const runtime = await createRuntime({
      config,
      components: [
        {
          name: 'slow',
          async start() {
            return {
              authenticator: allowAll,
              routes: [
                {
                  name: 'slow',
                  register(app: App) {
                    app.get('/slow', { config: { permission: 'slow:read' } }, async () => {
                      started++;
                      await gate;
                      return { done: true };
                    });
                  },
                },
              ],
              async stop() {},
            };
          },
        },
      ],
    });
    const url = await runtime.listen();
    const inFlight = Array.from({ length: 5 }, () =>
      fetch(`${url}/v1/slow`).then(async (r) => ({ status: r.status, body: await r.json() })),
    );
    await expect.poll(() => started).toBe(5);
    const stopping = runtime.stop();
    // New connections are refused once the server stops listening.
    await expect
      .poll(async () =>
        fetch(`${url}/health/live`).then(
          () => 'open',
          () => 'refused',
        ),
      )
      .toBe('refused');
    release();
    const results = await Promise.all(inFlight);
    expect(results).toEqual(Array.from({ length: 5 }, () => ({ status: 200, body: { done: true } })));
    await stopping;
  });
});
