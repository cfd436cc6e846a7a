#!/usr/bin/env bash
# The Sentinel and Redis Cluster suite (jest.cluster.config.js, test/cluster/): each scenario starts its own set of
# real redis-servers on free loopback ports (a master with two replicas and three sentinels; three masters with a
# replica each), spawned proxies and forwarders of the built CLI, the Elasticsearch stand-in, and SIGKILLs a master
# under load; the per-event oracle checks every acknowledged event. Needs only redis-server (installed here when
# missing) and the build. Budget: 10 minutes, each scenario < 2.
set -euo pipefail
cd "$(dirname "$0")/../.."
ci_prefix=cluster
source .ci/stages/lib.sh

oracle_suite cluster 600 jest.cluster.config.js
