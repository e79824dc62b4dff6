import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Fault tests that time an outage (`npm run test:alone`, part of `npm test`): the Redis Cluster failover
 * asserts that requests in the window between a master's death and its replica's promotion are answered
 * 503. With fifty other files sharing two cores, that window of about two seconds can pass while the
 * probe's requests are still queued behind other work, so the file runs after the main suite, alone.
 */
export default defineConfig({
  root,
  test: {
    name: 'faults-alone',
    include: ['test/faults/cluster-failover.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
