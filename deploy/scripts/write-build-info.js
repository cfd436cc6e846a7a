#!/usr/bin/env node
// Run by `npm run build` after tsc: writes dist/build-info.json with this build's time (and its git commit when
// built from a checkout; an image build has none), which core/version.ts reads once and GET / reports as
// build_date and build_sha. A plain script, so the image's build stage needs nothing but Node to run it.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');

function commitOf() {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
    const text = sha.toString('utf8').trim();
    return /^[0-9a-f]{40}$/.test(text) ? text : null;
  } catch {
    return null;
  }
}

function mtimeMs(file) {
  return fs.existsSync(file) ? fs.statSync(file).mtimeMs : undefined;
}

const file = path.join(root, 'dist', 'build-info.json');
const written = mtimeMs(file);
const compiled = mtimeMs(path.join(root, 'dist', '.tsbuildinfo'));
// tsc -b found everything up to date (it leaves .tsbuildinfo alone), as on an `npm start` without changes: the
// code is the one built then, so its stamp stays.
if (written === undefined || compiled === undefined || compiled > written) {
  // RFC 3339 in UTC without fractions, as APM Server writes build_date.
  const date = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify({ date, commit: commitOf() })}\n`);
}
