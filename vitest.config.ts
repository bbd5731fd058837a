import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    // Functional tests start real services (tshark, softflowd, influxd); give them room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: keep the real-service suites from starving each other.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
