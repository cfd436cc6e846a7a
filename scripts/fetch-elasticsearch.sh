#!/usr/bin/env bash
# Prepares the real Elasticsearch the tests run (integ-test-zip from Maven Central, unzipped under
# test/support/.cache/elasticsearch, test analysis plugin built, keystore made) ahead of a jest run, e.g. in a
# CI step whose cache holds ~/.m2 and test/support/.cache. Optional: the tests do the same on first use.
#   scripts/fetch-elasticsearch.sh            # the default version (test/support/elasticsearch/distribution.ts)
#   APM_SIDECAR_TEST_ES_VERSION=8.18.0 scripts/fetch-elasticsearch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx tsx -e "
  const { prepareDistribution } = require('./test/support/elasticsearch/distribution');
  prepareDistribution().then((home) => console.log('Elasticsearch ready in ' + home), (err) => { console.error(err.message); process.exit(1); });
"
