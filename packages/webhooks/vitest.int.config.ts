import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// vitest wants globalSetup as a file path: resolve @tillwatch/testkit's subpath export to one.
const resolve = createRequire(import.meta.url).resolve;

// Against a real ClickHouse: CLICKHOUSE_URL if set, else one started for this run.
export default defineConfig({
  test: {
    include: ['src/**/*.int.test.ts'],
    globalSetup: [resolve('@tillwatch/testkit/global-setup-clickhouse')],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
