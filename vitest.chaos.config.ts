import { defineConfig } from 'vitest/config';

// The reliability suite (test/chaos): processes killed, servers restarted. Files run one at a time.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    sequence: { concurrent: false },
  },
});
