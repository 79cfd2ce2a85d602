import { defineConfig } from 'vitest/config';

// `npm test` here runs the quick suites; *.int.test.ts need real services and run via test:int.
// The detection-quality gate (three held-out calendar weeks, ~7 min of CPU) runs in its own
// `npm run test:quality` (TW_QUALITY=1): it fails today (README "Detection quality") and is
// not part of the CI gate until it passes.
const quality = process.env.TW_QUALITY === '1';
export default defineConfig({
  test: {
    // 2 cores shared by parallel suites under turbo: hooks and tests get room; none asserts on time
    hookTimeout: 120_000,
    testTimeout: 120_000,
    exclude: [
      '**/*.int.test.ts',
      '**/node_modules/**',
      ...(quality ? [] : ['quality/quality.test.ts']),
    ],
  },
});
