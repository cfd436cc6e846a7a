/**
 * The browser suite (`.ci/stages/50-browser.sh`): Debian's Chromium driven by playwright-core against the built
 * CLI. Not part of `npm test` (jest.config.js ignores test/browser): it needs the chromium package.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/support/.cache/'],
  testTimeout: 180000,
  maxWorkers: 1,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
