#!/usr/bin/env bash
# The fault suite (jest.faults.config.js, test/faults/): real redis-server, spawned proxies and forwarders of the
# built CLI, the Elasticsearch stand-in, real signals, and the per-event oracle; every scenario proves 0 lost and
# 0 doubled. Needs only redis-server (installed when missing) and the build. Budget: 15 minutes, each scenario < 2.
# Prints each scenario's figures and the table docs/operations.md shows (scripts/fault-table.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
ci_prefix=faults
source .ci/stages/lib.sh

oracle_suite faults 900 jest.faults.config.js
