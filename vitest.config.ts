import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration and e2e tests start processes and brokers on free ports; two workers suit a 2-core machine.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
