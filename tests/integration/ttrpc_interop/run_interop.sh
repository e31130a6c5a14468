#!/usr/bin/env bash
# hull's C++ ttrpc against containerd's Go ttrpc, both directions:
#   C++ server <- Go client, Go server <- C++ client.
# usage: run_interop.sh PATH/TO/ttrpc_interop_peer WORKDIR
# Exits 77 (skipped) when the Go toolchain or the Go ttrpc sources are missing.
set -euo pipefail

peer=$(realpath "$1")
mkdir -p "$2"
work=$(cd "$2" && pwd)  # GOCACHE must be absolute
here=$(cd "$(dirname "$0")" && pwd)
gopath=/usr/share/gocode
if ! command -v go >/dev/null || [[ ! -d $gopath/src/github.com/containerd/ttrpc ]]; then
  echo "SKIP: needs golang-go and golang-github-containerd-ttrpc-dev (run tools/setup)" >&2
  exit 77
fi

tmp=$(mktemp -d /tmp/hull-interop-XXXXXX)
server_pid=
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "building the Go peer offline (GO111MODULE=off GOPATH=$gopath)"
GO111MODULE=off GOPATH=$gopath GOCACHE=$work/gocache GOFLAGS= \
  go build -o "$work/go-interop" "$here/go/interop.go"

# start_server CMD... : runs a peer in server mode with stdin on fd 3 and waits for READY.
start_server() {
  mkfifo "$tmp/ctl"
  "$@" <"$tmp/ctl" >"$tmp/server.out" 2>&1 &
  server_pid=$!
  exec 3>"$tmp/ctl"
  for _ in $(seq 1 100); do
    grep -q READY "$tmp/server.out" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "server did not get ready:" >&2
  cat "$tmp/server.out" >&2
  return 1
}

stop_server() {
  exec 3>&-
  local rc=0
  wait "$server_pid" || rc=$?
  server_pid=
  rm -f "$tmp/ctl"
  if [[ $rc -ne 0 ]]; then
    echo "server exited with $rc:" >&2
    cat "$tmp/server.out" >&2
    return 1
  fi
}

echo "== hull C++ server, Go client"
start_server "$peer" server "$tmp/cxx.sock"
"$work/go-interop" client "$tmp/cxx.sock"
stop_server
[[ ! -e $tmp/cxx.sock ]] || { echo "C++ server left its socket behind" >&2; exit 1; }

echo "== Go server, hull C++ client"
start_server "$work/go-interop" server "$tmp/go.sock"
"$peer" client "$tmp/go.sock"
stop_server
echo "interop: both directions passed"
