#!/bin/bash
# Test-only entrypoint of the Elasticsearch stand-in image, written for the behaviours deploy/docker-compose.yml
# relies on in the official image: any command other than eswrapper/elasticsearch runs as given; otherwise
# ELASTIC_PASSWORD or ELASTIC_PASSWORD_FILE (read by the distribution's own bin/elasticsearch-env-from-file, which
# refuses a file whose permissions are not 400 or 600) becomes the keystore's bootstrap.password, then
# Elasticsearch starts (settings from dotted environment variables: ES_DISTRIBUTION_TYPE=docker).
set -e
umask 0002
if [[ "$1" != eswrapper && "$(basename -- "${1:-}")" != elasticsearch ]]; then
  exec "$@"
fi
shift

source /usr/share/elasticsearch/bin/elasticsearch-env-from-file

if [[ -n "${ELASTIC_PASSWORD:-}" ]]; then
  [[ -f config/elasticsearch.keystore ]] || elasticsearch-keystore create
  if ! elasticsearch-keystore list | grep -qx 'bootstrap.password'; then
    printf '%s' "$ELASTIC_PASSWORD" | elasticsearch-keystore add -x 'bootstrap.password'
  fi
fi
unset ELASTIC_PASSWORD

exec /usr/share/elasticsearch/bin/elasticsearch "$@"
