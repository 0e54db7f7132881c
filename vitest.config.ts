import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: integration suites share Postgres, RabbitMQ and Redis, so keep the fan-out small.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
