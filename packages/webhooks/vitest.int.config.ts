import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Against a real ClickHouse: CLICKHOUSE_URL if set, else one started for this run.
export default defineConfig({
  test: {
    include: ['src/**/*.int.test.ts'],
    globalSetup: [
      fileURLToPath(new URL('../../test/support/global-setup-clickhouse.ts', import.meta.url)),
    ],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
