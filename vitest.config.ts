import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file gets its own process; integration files use random Redis prefixes.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
