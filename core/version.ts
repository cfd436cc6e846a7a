import fs from 'node:fs';
import path from 'node:path';

import { isRecord } from './parse';

/**
 * This build's version, from package.json, the one place it is written. Found by walking up: package.json is one
 * level above core/ in the source tree and two above dist/core/ in a build (the image copies it next to dist/).
 */
function readVersion(): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (isRecord(pkg) && pkg.name === 'apm-sidecar' && typeof pkg.version === 'string') return pkg.version;
  }
  return 'unknown';
}

export const sidecarVersion = readVersion();

interface SidecarBuild {
  /** When `npm run build` ran (RFC 3339, UTC). */
  readonly date: string;
  /** The git commit built, or "apm-sidecar-<version>" when it was built outside a checkout (an image). */
  readonly sha: string;
}

/**
 * dist/build-info.json, written by `npm run build` (deploy/scripts/write-build-info.js) next to dist/core/. Run
 * from source (tsx, ts-jest) there is none: the code is compiled as this process loads it, so that moment is its
 * build time.
 */
function readBuild(): SidecarBuild {
  const file = path.join(__dirname, '..', 'build-info.json');
  const info: unknown = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
  const date = isRecord(info) && typeof info.date === 'string' ? info.date : undefined;
  const commit = isRecord(info) && typeof info.commit === 'string' ? info.commit : undefined;
  return {
    date: date ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    sha: commit ?? `apm-sidecar-${sidecarVersion}`,
  };
}

export const sidecarBuild = readBuild();
