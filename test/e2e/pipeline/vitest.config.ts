import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// vitest wants globalSetup as a file path: resolve @tillwatch/testkit's subpath export to one.
const resolve = createRequire(import.meta.url).resolve;

// The pipeline suites: real Kafka and ClickHouse (KAFKA_BROKERS / CLICKHOUSE_URL if set, else
// started once for the run by @tillwatch/testkit), one file at a time on a 2-core machine.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['**/*.int.test.ts'],
    // chaos.ts prints the chaos suites' table (fault, events, missing, doubled) at the end.
    globalSetup: [
      resolve('@tillwatch/testkit/global-setup'),
      fileURLToPath(new URL('./chaos.ts', import.meta.url)),
    ],
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 300_000,
  },
});
