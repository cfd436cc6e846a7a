/**
 * The fault suite (`.ci/stages/30-faults.sh`): real processes, real signals, the per-event oracle. Not part of
 * `npm test` (jest.config.js ignores test/faults): each scenario takes up to two minutes.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/support/.cache/'],
  testTimeout: 120000,
  // One scenario at a time: each measures rates and times on a 2-core machine.
  maxWorkers: 1,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
