#!/usr/bin/env bash
# CI stage: the real deploy/ compose files on a real Docker Engine (test/compose/stack.test.ts).
# Installs Debian's Docker Engine (docker.io) and debootstrap, starts dockerd unless one already answers (overlay2,
# data root in the CI cache, so images and build layers are reused), builds Compose v2 from the Go module proxy
# (cached binary; started first, in the background: ~8 minutes cold), builds the stand-in images under the names
# the compose files use (test/compose/support/build-images.sh), then runs the compose suite. Prints each step's time.
set -euo pipefail
cd "$(dirname "$0")/../.."

ci_prefix=compose-stage
source .ci/stages/lib.sh

cache="${APM_SIDECAR_CI_CACHE:-$HOME/.cache/apm-sidecar-ci}"
logs="$cache/logs"
mkdir -p "$logs"
stage_started=$SECONDS

# 1. Compose v2, in the background (its log: $logs/compose-build.log).
test/compose/support/build-compose.sh >"$logs/compose-build.log" 2>&1 &
compose_pid=$!
compose_started=$SECONDS

install_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  # The Elasticsearch stand-in is built from the test distribution: a JDK 17 (javac, for its test plugin) and Maven.
  [[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/javac || -n "${ES_JAVA_HOME:-}" ]] || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v unzip >/dev/null 2>&1 || missing+=(unzip)
  if ((${#missing[@]} > 0)); then apt_install --no-install-recommends "${missing[@]}"; fi
}

started_dockerd=""
start_dockerd() {
  if docker info >/dev/null 2>&1; then
    echo "compose-stage: a Docker Engine already answers ($(docker version -f '{{.Server.Version}}')): using it"
    return
  fi
  # Never a second daemon with --bridge=none: it would delete the host's docker0.
  mkdir -p "$cache/docker"
  dockerd --data-root "$cache/docker" --storage-driver overlay2 --pidfile "$cache/dockerd.pid" >"$logs/dockerd.log" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$started_dockerd" 2>/dev/null || { tail -20 "$logs/dockerd.log"; exit 1; }
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "compose-stage: dockerd did not answer in 60 s"; tail -20 "$logs/dockerd.log"; exit 1; }
  echo "compose-stage: started dockerd $(docker version -f '{{.Server.Version}}') (pid $started_dockerd, data root $cache/docker)"
}

cleanup() {
  if kill -0 "$compose_pid" 2>/dev/null; then kill "$compose_pid" 2>/dev/null || true; fi
  if [[ -n "$started_dockerd" ]] && kill -0 "$started_dockerd" 2>/dev/null; then
    kill "$started_dockerd"
    for _ in $(seq 1 30); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 1; done
  fi
}
trap cleanup EXIT

wait_compose() {
  if ! wait "$compose_pid"; then
    tail -40 "$logs/compose-build.log"
    echo "compose-stage: building Compose v2 failed (log: $logs/compose-build.log)"
    exit 1
  fi
  echo "compose-stage: Compose binary ready (its build, cached or not, ran for the first $((SECONDS - compose_started))s of the stage at most): $(tail -1 "$logs/compose-build.log")"
}

timed install install_packages
timed dockerd start_dockerd
timed images test/compose/support/build-images.sh
timed compose-binary wait_compose
compose_bin="$(tail -1 "$logs/compose-build.log")"
"$compose_bin" version
timed compose-suite env APM_SIDECAR_COMPOSE="$compose_bin" npx jest -c test/compose/jest.config.js

echo "compose-stage: passed in $((SECONDS - stage_started))s"
times_summary
