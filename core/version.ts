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
