import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['**/*.int.test.ts', '**/node_modules/**'],
    // generous: turbo runs several suites at once on 2 cores; nothing here asserts on time
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
