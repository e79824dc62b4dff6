import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Browser end-to-end suite: `npx vitest run --config test/e2e/vitest.config.ts`.
 * Each file starts its own service process and Chromium; files run one after another because
 * hold-expiry timing is checked against the wall clock and a small CI machine has few cores.
 */
export default defineConfig({
  root,
  test: {
    name: 'e2e',
    include: ['test/e2e/**/*.e2e.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
