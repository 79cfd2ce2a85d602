import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Integration tests against a real broker: KAFKA_BROKERS if set, else one started for this run.
export default defineConfig({
  test: {
    include: ['src/**/*.int.test.ts'],
    globalSetup: [
      fileURLToPath(new URL('../../test/support/global-setup-kafka.ts', import.meta.url)),
    ],
    // One broker on 2 shared cores: files run one after another, with room for group rebalances.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
