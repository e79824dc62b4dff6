import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/{unit,contract,api,race,faults}/**/*.test.ts'],
    // Measured on a machine of its own afterwards (test/faults/alone.vitest.config.ts).
    exclude: ['test/faults/cluster-failover.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more workers only make the race tests fight each other for CPU.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
