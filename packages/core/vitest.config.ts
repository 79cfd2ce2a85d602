import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.int.test.ts'],
    // property tests run 1,000 streams each; on a shared 2-core machine that takes seconds
    testTimeout: 60_000,
  },
});
