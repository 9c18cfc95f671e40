#!/usr/bin/env bash
# Build (once) the embedded FerretDB v1 server that the MongoDB tests and the
# benchmark run against (test/ferretdb/main.go), and print its path.
# The binary is cached in $HOME/.cache/tagpress/ferretdb-<hash of go.sum and
# main.go>/ferretdb (TAGPRESS_CACHE overrides the cache folder), so a fresh
# clone reuses it and a changed program or dependency builds a new one.
# Needs Go >= 1.24 and the Go module proxy (go.sum pins every module).
# Idempotent and safe to run concurrently; progress on stderr, the path on stdout.
# Exit status 3: no suitable Go (the tests skip on that, except under CI=true).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/test/ferretdb"
hash="$(cat "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
cache="${TAGPRESS_CACHE:-$HOME/.cache/tagpress}"
dir="$cache/ferretdb-$hash"
bin="$dir/ferretdb"
if [ ! -x "$bin" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "ferretdb.sh: Go is not installed (Go >= 1.24 is needed to build the FerretDB test server)" >&2
    exit 3
  fi
  version="$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || true)"
  minor="$(printf '%s' "$version" | sed -n 's/^go1\.\([0-9][0-9]*\).*/\1/p')"
  if [ -z "$minor" ] || [ "$minor" -lt 24 ]; then
    echo "ferretdb.sh: Go ${version:-?} is too old (Go >= 1.24 is needed to build the FerretDB test server)" >&2
    exit 3
  fi
  mkdir -p "$dir"
  # One builder at a time; the others wait, then find the binary.
  exec 9>"$dir/.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if [ ! -x "$bin" ]; then
    echo "ferretdb.sh: building the FerretDB test server into $dir (one time; cached)" >&2
    started=$(date +%s)
    (
      cd "$src"
      GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
        go build -trimpath -tags ferretdb_no_postgresql -ldflags '-s -w' -o "$bin.tmp.$$" .
    )
    mv -f "$bin.tmp.$$" "$bin"
    echo "ferretdb.sh: built in $(( $(date +%s) - started )) s" >&2
  fi
fi
echo "$bin"
