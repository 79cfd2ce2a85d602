import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Integration tests against a real Kafka broker and a real ClickHouse server: KAFKA_BROKERS /
// CLICKHOUSE_URL if set, else both started for this run (test/support).
export default defineConfig({
  test: {
    include: ['src/**/*.int.test.ts'],
    globalSetup: [fileURLToPath(new URL('../../test/support/global-setup.ts', import.meta.url))],
    // one broker and one server on 2 shared cores: files run one after another
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
