#!/bin/sh
# One-shot `setup` service of deploy/docker-compose.yml (runs in the apm-sidecar image as its non-root user).
#
# 1. `apm-sidecar setup` with the admin credential (APM_SIDECAR_SETUP_ES_*): installs or verifies the index
#    templates, lifecycle policy and the writer/reader roles. Idempotent, so it runs on every `docker compose up`.
# 2. Once, when WRITER_API_KEY_FILE is missing or empty: creates an API key limited to the writer role and writes
#    it there (mode 0600, atomically), for the forwarders to read through APM_SIDECAR_ES_API_KEY_FILE. The key
#    never reaches the log: the command's output is printed with the key replaced by the file's path.
# To rotate the writer key: delete the file (docs/operations.md) and run `docker compose up setup` again.
set -eu

key_file="${WRITER_API_KEY_FILE:-/run/apm-sidecar/credentials/writer-api-key}"
# The image's CLI; SIDECAR_CLI only lets the tests substitute a stand-in.
cli="${SIDECAR_CLI:-/app/dist/cli/apm-sidecar.js}"

if [ -s "$key_file" ]; then
  echo "setup: the writer API key exists in $key_file (delete it to create a new one)"
  exec node "$cli" setup
fi

umask 077
output="$(mktemp)"
trap 'rm -f "$output" "$key_file.tmp"' EXIT
node "$cli" setup --create-writer-api-key >"$output"

# The key is the last token that looks like one: "id:key" (base64url parts) or Elasticsearch's base64 `encoded`
# form. An Elasticsearch API-key id alone (20 characters) or key alone (22) matches neither.
key="$(tr -cs 'A-Za-z0-9_:+/=-' '\n' <"$output" \
  | grep -E '^([A-Za-z0-9_-]{16,}:[A-Za-z0-9_-]{16,}|[A-Za-z0-9+/]{40,}={0,2})$' | tail -n 1 || true)"
if [ -z "$key" ]; then
  echo "setup: no API key found in the output of \`apm-sidecar setup --create-writer-api-key\`; nothing written" >&2
  exit 1
fi
printf '%s\n' "$key" >"$key_file.tmp"
mv "$key_file.tmp" "$key_file"
sed "s|$key|<written to $key_file>|g" "$output"
echo "setup: writer API key written to $key_file"
