import { defineConfig } from 'vitest/config';

// `npm test` here runs the quick suites; *.int.test.ts need real services and run via test:int.
export default defineConfig({
  test: {
    // 2 cores shared by parallel suites under turbo: hooks and tests get room; none asserts on time
    hookTimeout: 120_000,
    testTimeout: 120_000,
    exclude: ['**/*.int.test.ts', '**/node_modules/**'],
  },
});
