'use strict';
// Run by deploy/Dockerfile right after `npm ci`: npm can end an install early and still exit 0 ("npm ERR! Exit
// handler never called!"), leaving node_modules incomplete. This fails the build step instead, naming what is
// missing. Checks every direct dependency of package.json (with --dev, the devDependencies too) and the lockfile's
// own record of the install (node_modules/.package-lock.json), which npm writes last.
const fs = require('node:fs');
const path = require('node:path');

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const names = Object.keys(pkg.dependencies || {});
if (process.argv.includes('--dev')) names.push(...Object.keys(pkg.devDependencies || {}));
const missing = names.filter((name) => !fs.existsSync(path.join('node_modules', name, 'package.json')));
if (!fs.existsSync(path.join('node_modules', '.package-lock.json'))) missing.push('node_modules/.package-lock.json');
if (missing.length > 0) {
  console.error(
    `npm ci did not finish although it exited 0; missing: ${missing.join(', ')}. Re-run the build; check the npm log above and the registry/proxy access.`,
  );
  process.exit(1);
}
console.log(`verify-node-modules: ${names.length} direct dependencies installed`);
