#!/usr/bin/env bash
# The Sentinel and Redis Cluster suite (jest.cluster.config.js, test/cluster/): each scenario starts its own set of
# real redis-servers on free loopback ports (a master with two replicas and three sentinels; three masters with a
# replica each), spawned proxies and forwarders of the built CLI, the Elasticsearch stand-in, and SIGKILLs a master
# under load; the per-event oracle checks every acknowledged event. Needs only redis-server (installed here when
# missing) and the build. Budget: 10 minutes, each scenario < 2.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "cluster: installing redis-server from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
fi
results="$(mktemp -d)/cluster-results.json"
export APM_SIDECAR_FAULTS_RESULTS="$results"
npm run build --silent
started=$SECONDS
timeout 600 npx jest -c jest.cluster.config.js --ci
echo "cluster: suite took $((SECONDS - started))s"
npx tsx scripts/fault-table.ts --print
