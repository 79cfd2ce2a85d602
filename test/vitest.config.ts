import { defineConfig } from 'vitest/config';

// `npm test` here runs the quick suites; *.int.test.ts need real services and run via test:int.
export default defineConfig({
  test: {
    exclude: ['**/*.int.test.ts', '**/node_modules/**'],
  },
});
