#!/usr/bin/env bash
# The browser suite (jest.browser.config.js, test/browser/): Debian's Chromium, headless, driven by
# playwright-core, runs the real @elastic/apm-rum agent against the built proxy and forwarder over TLS
# (page-load, route change, a source-mapped error, another origin refused). Budget: 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ci_prefix=browser
source .ci/stages/lib.sh

if ! command -v chromium >/dev/null 2>&1 && ! apt_install chromium; then
  echo "browser: skipped, chromium could not be installed"
  exit 0
fi
chromium --version 2>/dev/null | tail -1 || true
jest_suite browser 600 jest.browser.config.js
