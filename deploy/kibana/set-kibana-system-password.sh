#!/usr/bin/env bash
# One-shot `kibana-setup` service (profile "kibana") of deploy/docker-compose.yml, run in the Elasticsearch image
# for its curl. Sets the password of the built-in kibana_system user, as Elastic's secured docker-compose example
# does. Passwords come from Docker secrets and reach curl through a config on stdin, never its command line.
set -euo pipefail

es=https://elasticsearch:9200
ca=/certs/ca/ca.crt
elastic_password="$(cat /run/secrets/elastic_password)"
kibana_password="$(cat /run/secrets/kibana_password)"
if [[ -z "$kibana_password" ]]; then
  echo "kibana-setup: set KIBANA_PASSWORD in deploy/.env to use the kibana profile" >&2
  exit 1
fi

echo "kibana-setup: setting the kibana_system password"
for attempt in $(seq 1 60); do
  if printf 'user = "elastic:%s"\n' "$elastic_password" \
    | curl -sS -f -K - --cacert "$ca" -X POST -H 'Content-Type: application/json' \
        --data-binary @<(printf '{"password":"%s"}' "$kibana_password") \
        "$es/_security/user/kibana_system/_password" >/dev/null; then
    echo "kibana-setup: done"
    exit 0
  fi
  echo "kibana-setup: Elasticsearch not ready or refused (attempt $attempt), retrying in 5s"
  sleep 5
done
echo "kibana-setup: gave up; check the elasticsearch service log and ELASTIC_PASSWORD" >&2
exit 1
