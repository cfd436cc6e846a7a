import path from 'node:path';

/** The shared fixtures folder: ../shared/fixtures beside the repository (CI lays a copy there too). */
export const sharedFixtures = path.resolve(__dirname, '..', '..', '..', 'shared', 'fixtures');

export function sharedFixture(...parts: string[]): string {
  return path.join(sharedFixtures, ...parts);
}
