import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// vitest wants globalSetup as a file path: resolve @tillwatch/testkit's subpath export to one.
const resolve = createRequire(import.meta.url).resolve;

// Integration tests against a real Kafka broker and a real ClickHouse server: KAFKA_BROKERS /
// CLICKHOUSE_URL if set, else both started for this run (@tillwatch/testkit).
export default defineConfig({
  test: {
    include: ['src/**/*.int.test.ts'],
    globalSetup: [resolve('@tillwatch/testkit/global-setup')],
    // one broker and one server on 2 shared cores: files run one after another
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
