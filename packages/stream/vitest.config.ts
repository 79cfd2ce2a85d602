import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // 2 cores shared by parallel suites under turbo: hooks and tests get room; none asserts on time
    hookTimeout: 120_000,
    testTimeout: 120_000,
    include: ['src/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'src/**/*.int.test.ts'],
  },
});
