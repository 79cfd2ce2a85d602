import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // 2 cores shared by parallel suites under turbo: hooks and tests get room; none asserts on time
    hookTimeout: 120_000,
    include: ['src/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.int.test.ts'],
    // property tests run 1,000 streams each; on a shared 2-core machine that takes seconds
    testTimeout: 60_000,
  },
});
