#!/bin/sh
# One-shot `secrets` service of deploy/docker-compose.yml: runs as root in the apm-sidecar image, with no network
# and only the CHOWN capability, on every `docker compose up`.
#
# Compose copies `environment:`-sourced secrets (deploy/.env) into a container's filesystem, which it cannot do
# for the read-only proxy, forwarders and setup. So this service receives them and copies each one into a volume
# mounted only by the service that needs it, readable only by that service's user (mode 0400):
#   /out/proxy      apm_secret_token, redis_url      uid 10001 (the apm-sidecar image's user)
#   /out/forwarder  redis_url                         uid 10001
#   /out/setup      elastic_password                  uid 10001
#   /out/redis      redis.conf (requirepass, masterauth), password   uid 999 (the redis image's user)
#   /out/elasticsearch  elastic_password              uid 1000, gid 0 (the Elasticsearch image's user; its
#                   ELASTIC_PASSWORD_FILE must be mode 400 or 600, and Compose writes such secrets 0444)
# The Redis URL is built here with the password percent-encoded, so any character works in REDIS_PASSWORD; the
# password reaches redis-server in a config file, never on its command line (`docker inspect`, `ps`).
# After changing a secret in deploy/.env: `docker compose up -d --force-recreate` (see docs/operations.md).
set -eu
umask 077
in=/run/secrets
sidecar_uid="${SIDECAR_UID:-10001}"
redis_uid="${REDIS_UID:-999}"
elasticsearch_uid="${ELASTICSEARCH_UID:-1000}"

for name in apm_secret_token redis_password elastic_password; do
  if [ ! -s "$in/$name" ]; then
    echo "secrets: $in/$name is missing or empty (set its variable in deploy/.env)" >&2
    exit 1
  fi
done

# put DIR NAME UID [GID]: stdin to DIR/NAME, mode 0400, owned by UID (group GID, else UID), replaced atomically.
put() {
  tmp="$1/.$2.tmp"
  cat >"$tmp"
  chmod 0400 "$tmp"
  chown "$3:${4:-$3}" "$tmp"
  mv -f "$tmp" "$1/$2"
}

redis_url="redis://default:$(node -e 'process.stdout.write(encodeURIComponent(require("node:fs").readFileSync(0, "utf8")))' <"$in/redis_password")@redis:6379"

put /out/proxy apm_secret_token "$sidecar_uid" <"$in/apm_secret_token"
printf '%s' "$redis_url" | put /out/proxy redis_url "$sidecar_uid"
printf '%s' "$redis_url" | put /out/forwarder redis_url "$sidecar_uid"
put /out/setup elastic_password "$sidecar_uid" <"$in/elastic_password"
# Redis config strings are double-quoted with \ and " escaped. masterauth: the same password, for a Redis that
# replicates (deploy/docker-compose.sentinel.yml's replicas, or a master the sentinels demoted).
quoted="$(sed 's/[\\"]/\\&/g' "$in/redis_password")"
printf 'requirepass "%s"\nmasterauth "%s"\n' "$quoted" "$quoted" | put /out/redis redis.conf "$redis_uid"
put /out/redis password "$redis_uid" <"$in/redis_password"
put /out/elasticsearch elastic_password "$elasticsearch_uid" 0 <"$in/elastic_password"
echo "secrets: written for proxy, forwarder, setup, redis and elasticsearch"
