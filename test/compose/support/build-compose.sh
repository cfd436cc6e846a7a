#!/usr/bin/env bash
# Builds Docker Compose v2 from the Go module proxy (no release download is reachable here) into the CI cache and
# prints its path. Reuses the cached binary when present. Needs Go >= 1.21 on PATH or none at all: the module's
# toolchain (go 1.24.9 or newer, from go.mod) is itself fetched from the Go module proxy as golang.org/toolchain.
set -euo pipefail

version="${COMPOSE_VERSION:-v2.40.3}"
cache="${APM_SIDECAR_CI_CACHE:-$HOME/.cache/apm-sidecar-ci}"
out="$cache/compose/$version/docker-compose"
if [[ -x "$out" ]] && "$out" version >/dev/null 2>&1; then
  echo "$out"
  exit 0
fi
mkdir -p "$(dirname "$out")"
# Module and build caches in the CI cache too, so "cached" means one folder to keep.
export GOPATH="$cache/go" GOCACHE="$cache/go-build" GOFLAGS="-buildvcs=false -modcacherw" CGO_ENABLED=0
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"

go_bin="$(command -v go || true)"
toolchain=go1.24.9
if [[ -z "$go_bin" ]] || ! "$go_bin" env GOTOOLCHAIN >/dev/null 2>&1; then
  # No Go, or one older than 1.21 (no GOTOOLCHAIN): fetch the toolchain module's zip and use its go directly.
  tc_dir="$cache/go-toolchain/$toolchain"
  if [[ ! -x "$tc_dir/bin/go" ]]; then
    tmp="$(mktemp -d)"
    curl -fsSL -o "$tmp/tc.zip" "$GOPROXY/golang.org/toolchain/@v/v0.0.1-$toolchain.linux-amd64.zip"
    (cd "$tmp" && unzip -q tc.zip)
    rm -rf "$tc_dir" && mkdir -p "$(dirname "$tc_dir")"
    mv "$tmp/golang.org/toolchain@v0.0.1-$toolchain.linux-amd64" "$tc_dir"
    chmod +x "$tc_dir"/bin/* "$tc_dir"/pkg/tool/*/* 2>/dev/null || true
    rm -rf "$tmp"
  fi
  go_bin="$tc_dir/bin/go"
  export GOTOOLCHAIN=local
else
  # go.mod asks for go 1.24.9: an older local go fetches that toolchain from the proxy by itself.
  export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
fi

started=$SECONDS
echo "compose: building github.com/docker/compose/v2/cmd@$version with $("$go_bin" version) (several minutes)" >&2
# `go install pkg@version` refuses a go.mod with exclude directives (compose has some): build inside the module.
src="$("$go_bin" mod download -json "github.com/docker/compose/v2@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -f "$src/go.mod" ]] || { echo "compose: module source not found ($src)" >&2; exit 1; }
(cd "$src" && nice -n 10 "$go_bin" build -trimpath \
  -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$version" -o "$out.tmp" ./cmd >&2)
mv "$out.tmp" "$out"
echo "compose: built in $((SECONDS - started))s" >&2
"$out" version >&2
echo "$out"
