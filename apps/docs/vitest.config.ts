import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // The JSON report feeds scripts/sum-tests.mjs (CI's 'N passed, N failed' line).
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
