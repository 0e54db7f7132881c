import { describe, expect, it } from 'vitest';
import { startupSummary, terminalOutput } from './terminal.js';

describe('what carebridge start writes for a person', () => {
  it('is readable logs and a summary only in development with stdout on a terminal', () => {
    const cases = [
      { profile: 'development', stdoutIsTTY: true, forPeople: true },
      { profile: 'development', stdoutIsTTY: false, forPeople: false },
      { profile: 'production', stdoutIsTTY: true, forPeople: false },
      { profile: 'test', stdoutIsTTY: true, forPeople: false },
    ] as const;
    for (const c of cases)
      expect(
        terminalOutput({ profile: c.profile, stdoutIsTTY: c.stdoutIsTTY, env: {} }).forPeople,
        c.profile,
      ).toBe(c.forPeople);
  });

  it('colours them unless NO_COLOR is set or the terminal is dumb', () => {
    const at = (env: NodeJS.ProcessEnv) =>
      terminalOutput({ profile: 'development', stdoutIsTTY: true, env }).color;
    expect(at({})).toBe(true);
    expect(at({ NO_COLOR: '1' })).toBe(false);
    expect(at({ TERM: 'dumb' })).toBe(false);
    expect(terminalOutput({ profile: 'development', stdoutIsTTY: false, env: {} }).color).toBe(false);
  });

  it('sums up where the gateway, its docs and each sandbox answer, and each dependency’s status', () => {
    const text = startupSummary({
      url: 'http://127.0.0.1:8080',
      profile: 'development',
      startedInMs: 3_240,
      sandboxes: [
        { name: 'users', url: 'grpc://127.0.0.1:40001' },
        { name: 'payments', url: 'http://127.0.0.1:40002' },
        { name: 'notifications', url: 'http://127.0.0.1:40003' },
      ],
      report: {
        status: 'degraded',
        checks: {
          store: { status: 'up', target: 'pglite:./.carebridge', required: true },
          'breaker:users.grpc': { status: 'up', target: '127.0.0.1:40001', required: false },
          'breaker:payments.account': {
            status: 'degraded',
            target: 'http://127.0.0.1:40002',
            required: false,
          },
          users: { status: 'up', target: 'grpc://127.0.0.1:40001', required: true },
          rabbitmq: {
            status: 'down',
            target: 'amqp://***@127.0.0.1:5672',
            detail: 'connection refused by 127.0.0.1:5672 (nothing listens there) (check RABBITMQ_URL)',
            required: false,
          },
        },
      },
    });
    expect(text).toBe(
      [
        'CareBridge is ready, degraded: development profile, started in 3.2 s',
        '  gateway    http://127.0.0.1:8080',
        '  API docs   http://127.0.0.1:8080/docs',
        '  sandboxes',
        '    users          grpc://127.0.0.1:40001',
        '    payments       http://127.0.0.1:40002',
        '    notifications  http://127.0.0.1:40003',
        '  dependencies',
        '    store                     up        pglite:./.carebridge',
        '    breaker:payments.account  degraded  http://127.0.0.1:40002',
        '    users                     up        grpc://127.0.0.1:40001',
        '    rabbitmq                  down      amqp://***@127.0.0.1:5672  (connection refused by 127.0.0.1:5672 (nothing listens there) (check RABBITMQ_URL))',
        'Ctrl-C stops it (a second Ctrl-C exits at once). Logs follow.',
        '',
      ].join('\n'),
    );
  });

  it('says when a required dependency is down, and when no sandbox runs', () => {
    const text = startupSummary({
      url: 'http://0.0.0.0:8080',
      profile: 'development',
      startedInMs: 900,
      sandboxes: [],
      report: {
        status: 'down',
        checks: {
          store: {
            status: 'down',
            target: 'postgres://***@db:5432/app',
            detail: 'no answer',
            required: true,
          },
        },
      },
    });
    expect(text.split('\n')[0]).toBe(
      'CareBridge is listening, but a required dependency is down (not ready): development profile, started in 0.9 s',
    );
    expect(text).toContain('  sandboxes  none (every target is a real service)\n');
  });
});
