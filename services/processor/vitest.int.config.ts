import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Real Kafka and ClickHouse: KAFKA_BROKERS / CLICKHOUSE_URL if set, else started for this run.
export default defineConfig({
  test: {
    include: ['src/**/*.int.test.ts'],
    globalSetup: [fileURLToPath(new URL('../../test/support/global-setup.ts', import.meta.url))],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
