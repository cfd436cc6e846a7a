// The compose suite (test/compose/*.test.ts): the real deploy/ compose files on a real Docker Engine, run by
// .ci/stages/20-compose.sh after it has built the stand-in images and Compose v2. Never part of `npm test`
// (the root jest.config.js ignores test/compose/).
const base = require('../../jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: '../..',
  testMatch: ['<rootDir>/test/compose/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 900_000,
  maxWorkers: 1,
};
