/**
 * The Redis Sentinel and Redis Cluster suite (`.ci/stages/40-cluster.sh`): real redis-server sets on loopback
 * ports, spawned proxies and forwarders, a master SIGKILLed under load, the per-event oracle. Not part of
 * `npm test` (jest.config.js ignores test/cluster): each scenario takes up to two minutes.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/support/.cache/'],
  testTimeout: 120000,
  // One scenario at a time: each kills masters and waits for failovers on a 2-core machine.
  maxWorkers: 1,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
