#!/usr/bin/env bash
# Sourced by .ci/run and by each stage script; not a stage itself (.ci/run runs only the numbered files). Set
# ci_prefix before sourcing to name the lines it prints.
#   apt_install [apt-get flags] PKG...   install Debian packages quietly, waiting for the dpkg lock; its log on failure
#   need_redis                           redis-server and redis-cli from Debian, when either is missing
#   timed NAME CMD...                    run CMD, print its time, keep it for times_summary
#   times_summary                        every timed step with its time
#   jest_suite NAME SECONDS CONFIG       build the CLI, then run that jest config within SECONDS, printing its time
#   oracle_suite NAME SECONDS CONFIG     a per-event oracle suite (fault, cluster): redis-server if missing, its
#                                        results in a fresh file, jest_suite, then the fault table of what it found
ci_prefix=${ci_prefix:-ci}
declare -a ci_times=()

apt_install() {
  local log
  log="$(mktemp)"
  echo "$ci_prefix: apt-get install $*"
  if ! {
    apt-get -o DPkg::Lock::Timeout=600 update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@"
  } >"$log" 2>&1; then
    tail -30 "$log"
    echo "$ci_prefix: apt-get install failed (log: $log)"
    return 1
  fi
}

need_redis() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && return 0
  # The Debian package starts a redis-server on 6379; the tests never use it (each starts its own on a free port).
  apt_install redis-server redis-tools
}

timed() {
  local name=$1 started=$SECONDS
  shift
  echo "$ci_prefix: --> $name"
  "$@"
  ci_times+=("$name: $((SECONDS - started))s")
  echo "$ci_prefix: <-- $name in $((SECONDS - started))s"
}

times_summary() {
  local t
  for t in "${ci_times[@]}"; do echo "$ci_prefix:   $t"; done
}

jest_suite() {
  local name=$1 budget=$2 config=$3
  npm run build --silent
  local started=$SECONDS
  timeout "$budget" npx jest -c "$config" --ci
  echo "$name: suite took $((SECONDS - started))s"
}

oracle_suite() {
  local name=$1
  need_redis
  APM_SIDECAR_FAULTS_RESULTS="$(mktemp -d)/$name-results.json"
  export APM_SIDECAR_FAULTS_RESULTS
  jest_suite "$@"
  npx tsx scripts/fault-table.ts --print
}
