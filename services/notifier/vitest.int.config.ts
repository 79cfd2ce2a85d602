import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Production mode against a real broker and a real ClickHouse: KAFKA_BROKERS / CLICKHOUSE_URL
// if set, else both started for this run.
export default defineConfig({
  test: {
    include: ['src/**/*.int.test.ts'],
    globalSetup: [fileURLToPath(new URL('../../test/support/global-setup.ts', import.meta.url))],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
