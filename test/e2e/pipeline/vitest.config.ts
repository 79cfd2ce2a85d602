import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The pipeline suites: real Kafka and ClickHouse (KAFKA_BROKERS / CLICKHOUSE_URL if set, else
// started once for the run by test/support), one file at a time on a 2-core machine.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['**/*.int.test.ts'],
    globalSetup: [fileURLToPath(new URL('../../support/global-setup.ts', import.meta.url))],
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 300_000,
  },
});
