import { configDefaults, defineConfig } from 'vitest/config';

// The three-node NATS cluster fault run (issue 20) is its own script, `npm run test:nats`: it
// takes 93-130 s and its failover bound is not met every time under load (docs/nats.md, Known
// problems). Its short parts — failover between broker URLs, the NATS authorization — run in
// `npm test`.
const NATS_CLUSTER = 'test/e2e/nats-cluster.test.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(process.env.SMEW_NATS_CLUSTER === '1' ? [] : [NATS_CLUSTER])],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration and e2e tests start processes and brokers on free ports; two workers suit a 2-core machine.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
