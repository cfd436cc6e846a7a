#!/usr/bin/env bash
# The fault suite (jest.faults.config.js, test/faults/): real redis-server, spawned proxies and forwarders of the
# built CLI, the Elasticsearch stand-in, real signals, and the per-event oracle; every scenario proves 0 lost and
# 0 doubled. Needs only redis-server (.ci/run installs it) and the build. Budget: 15 minutes, each scenario < 2.
# Prints each scenario's figures and the table docs/operations.md shows (scripts/fault-table.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."

results="$(mktemp -d)/fault-results.json"
export APM_SIDECAR_FAULTS_RESULTS="$results"
npm run build --silent
started=$SECONDS
timeout 900 npx jest -c jest.faults.config.js --ci
echo "faults: suite took $((SECONDS - started))s"
npx tsx scripts/fault-table.ts --print
