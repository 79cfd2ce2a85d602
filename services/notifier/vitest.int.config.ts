import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// vitest wants globalSetup as a file path: resolve @tillwatch/testkit's subpath export to one.
const resolve = createRequire(import.meta.url).resolve;

// Production mode against a real broker and a real ClickHouse: KAFKA_BROKERS / CLICKHOUSE_URL
// if set, else both started for this run.
export default defineConfig({
  test: {
    include: ['src/**/*.int.test.ts'],
    globalSetup: [resolve('@tillwatch/testkit/global-setup')],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
