import fs from 'node:fs';
import path from 'node:path';

import { announceOncePerRun } from './elasticsearch/run-files';

/**
 * The shared fixtures folder: ../shared/fixtures beside the repository (CI lays a copy there too). It holds
 * APM Server's own test data (intake-v2 samples, approved documents), which the project may not copy; data
 * the project makes itself lives in test/fixtures/ (see scripts/capture-agent.ts).
 */
export const sharedFixtures = path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures');

export function sharedFixture(...parts: string[]): string {
  return path.join(sharedFixtures, ...parts);
}

/** Data the project made itself, kept in the repository: test/fixtures/<parts>. */
export function ownFixture(...parts: string[]): string {
  return path.resolve(__dirname, '..', 'fixtures', ...parts);
}

const howToGet = `suites that need APM Server's fixtures skipped: put apm-server/intake-v2 and apm-server/approvals under ${sharedFixtures} (../shared/fixtures beside the repository)`;

/**
 * True when ../shared/fixtures/apm-server is there. When it is not, one line per jest run says where to put it,
 * and the suite should skip (`(sharedFixturesPresent() ? describe : describe.skip)(...)`).
 * APM_SIDECAR_TEST_REQUIRE_FIXTURES=1 (CI) turns the absence into a failure instead of a skip.
 */
export function sharedFixturesPresent(): boolean {
  const present = fs.existsSync(sharedFixture('apm-server', 'intake-v2'));
  if (!present && process.env.APM_SIDECAR_TEST_REQUIRE_FIXTURES === '1')
    throw new Error(`APM_SIDECAR_TEST_REQUIRE_FIXTURES=1 but ${sharedFixtures}/apm-server is missing`);
  if (!present) announceOncePerRun(howToGet, 'fixtures-notice');
  return present;
}

/** `describe` when the shared fixtures are present, `describe.skip` (with the one-line notice) when not. */
export function describeWithSharedFixtures(): jest.Describe {
  return sharedFixturesPresent() ? describe : describe.skip;
}
