/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // test/faults is the fault suite (jest.faults.config.js, .ci/stages/30-faults.sh), minutes long.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/support/.cache/', '/test/faults/', '/test/browser/'],
  testTimeout: 60000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
