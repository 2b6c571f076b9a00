import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Real-server suites share servers and accounts; files run one at a time on 2 cores.
    fileParallelism: false,
  },
});
