/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // test/faults is the fault suite (jest.faults.config.js, .ci/stages/30-faults.sh), minutes long, as is test/cluster
  // (jest.cluster.config.js, .ci/stages/40-cluster.sh: Sentinel and Redis Cluster failovers); test/compose
  // needs a Docker Engine and Compose v2 (test/compose/jest.config.js, .ci/stages/20-compose.sh).
  testPathIgnorePatterns: [
    '/node_modules/',
    '/dist/',
    '/test/support/.cache/',
    '/test/faults/',
    '/test/browser/',
    '/test/compose/',
    '/test/cluster/',
  ],
  testTimeout: 60000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
