#!/usr/bin/env bash
# The browser suite (jest.browser.config.js, test/browser/): Debian's Chromium, headless, driven by
# playwright-core, runs the real @elastic/apm-rum agent against the built proxy and forwarder over TLS
# (page-load, route change, a source-mapped error, another origin refused). Budget: 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null 2>&1; then
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/tmp/apm-sidecar-chromium-install.log 2>&1; then
    echo "browser: skipped, chromium could not be installed (see /tmp/apm-sidecar-chromium-install.log)"
    exit 0
  fi
fi
chromium --version 2>/dev/null | tail -1 || true
npm run build --silent
started=$SECONDS
timeout 600 npx jest -c jest.browser.config.js --ci
echo "browser: suite took $((SECONDS - started))s"
