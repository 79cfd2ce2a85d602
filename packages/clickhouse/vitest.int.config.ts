import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Integration tests against a real server: CLICKHOUSE_URL if set, else one started for this run.
export default defineConfig({
  test: {
    include: ['src/**/*.int.test.ts'],
    globalSetup: [
      fileURLToPath(new URL('../../test/support/global-setup-clickhouse.ts', import.meta.url)),
    ],
    // One server on 2 shared cores: files run one after another.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
