import { defineConfig } from 'vitest/config';

/**
 * Tests that measure the collector's latency or loss under load while it runs as a real process:
 * each runs alone, after everything else, so that what they measure is flowcast and not the other
 * test files sharing the two cores.
 */
const ALONE = ['test/attacks.test.ts', 'test/analytics-stall.test.ts'];

const shared = {
  // Functional tests start real services (tshark, softflowd, influxd); give them room.
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // Two cores: keep the real-service suites from starving each other.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'flowcast',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', 'dist/**', ...ALONE],
          sequence: { groupOrder: 0 },
        },
      },
      ...ALONE.map((file, i) => ({
        test: {
          ...shared,
          name: file.replace(/^test\/|\.test\.ts$/g, ''),
          include: [file],
          sequence: { groupOrder: i + 1 },
        },
      })),
    ],
  },
});
