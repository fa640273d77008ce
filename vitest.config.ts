import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: keep parallelism modest so timing-sensitive tests (rate ceilings, locks) are not starved.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
