#!/usr/bin/env bash
# A real containerd 1.6 (its own config, root, state and sockets in a temp dir)
# runs containerd-shim-hull-v2 through `ctr run --runtime io.containerd.hull.v2`
# and the shim's side of the contract is checked on a path every machine can
# take: the shim is copied into a directory with no guest kernel beside it, so
# containerd must start the shim (start), reach it over ttrpc, get Create's
# clear "guest kernel not found ... build it with ..." error, clean up (Delete,
# Shutdown, `delete`), and afterwards no shim process, socket, sandbox state,
# bundle or container may be left. (Running a real container is the e2e test's
# job, in the nested runner.)
# usage: run_containerd_shim.sh DIR_WITH_containerd-shim-hull-v2
# Exits 77 (skipped) without root or containerd.
set -euo pipefail

build_bin=$(cd "$1" && pwd)
if [[ $(id -u) -ne 0 ]]; then echo "SKIP: needs root (containerd)" >&2; exit 77; fi
for tool in containerd ctr; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (tools/setup)" >&2; exit 77; }
done
[[ -x $build_bin/containerd-shim-hull-v2 ]] || { echo "no containerd-shim-hull-v2 in $build_bin" >&2; exit 1; }

tmp=$(mktemp -d /tmp/hull-ctrd-XXXXXX)
# The shim looks for hull-vmm and the guest kernel relative to itself: here
# there are none, which makes Create fail the same way on every machine.
shim_dir=$tmp/bin
mkdir -p "$shim_dir"
cp "$build_bin/containerd-shim-hull-v2" "$shim_dir/"
sock=$tmp/containerd.sock
ns=hulltest
containerd_pid=
cleanup() {
  if [[ -n $containerd_pid ]]; then
    kill "$containerd_pid" 2>/dev/null || true
    wait "$containerd_pid" 2>/dev/null || true
  fi
  umount -R "$tmp/root" 2>/dev/null || true
  if [[ -n ${KEEP_TMP:-} ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- containerd log (tail)" >&2
  tail -40 "$tmp/containerd.log" >&2 || true
  exit 1
}

cat >"$tmp/config.toml" <<TOML
version = 2
root = "$tmp/root"
state = "$tmp/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  level = "debug"
TOML

# containerd finds runtime v2 shims on its PATH.
PATH=$shim_dir:$PATH containerd --config "$tmp/config.toml" >"$tmp/containerd.log" 2>&1 &
containerd_pid=$!
for _ in $(seq 1 100); do
  ctr --address "$sock" version >/dev/null 2>&1 && break
  kill -0 "$containerd_pid" 2>/dev/null || fail "containerd exited at start"
  sleep 0.1
done
ctr --address "$sock" version >/dev/null || fail "containerd did not come up"

mkdir -p "$tmp/rootfs/bin"
cp /bin/busybox "$tmp/rootfs/bin/" 2>/dev/null || true

expected_socket_dir=/run/containerd/s
shim_sockets_before=$(ls "$expected_socket_dir" 2>/dev/null | sort || true)
sandbox_state_before=$(ls /run/hull/shim 2>/dev/null | sort || true)

echo "== ctr run --runtime io.containerd.hull.v2 with no guest kernel: Create must fail clearly"
set +e
start=$(date +%s%N)
output=$(ctr --address "$sock" -n $ns run --rm --runtime io.containerd.hull.v2 --rootfs "$tmp/rootfs" c1 /bin/busybox echo hello 2>&1)
rc=$?
end=$(date +%s%N)
set -e
echo "$output"
echo "ctr exited $rc after $(( (end - start) / 1000000 )) ms"
[[ $rc -ne 0 ]] || fail "ctr run succeeded without a guest kernel"
grep -q "failed to create shim task: .*guest kernel not found at $tmp/guest/" <<<"$output" ||
  fail "ctr did not report the shim's Create error naming the missing kernel"
grep -q "build it with" <<<"$output" || fail "the error does not say how to fix it"

echo "== the shim was started and served over ttrpc"
grep -q 'serving containerd.task.v2.Task' "$tmp/containerd.log" || fail "shim log (the bundle's log fifo) did not reach containerd"
grep -q 'shutting down: Shutdown requested by containerd' "$tmp/containerd.log" ||
  fail "containerd did not shut the shim down through the Task service"

echo "== nothing left behind"
for _ in $(seq 1 50); do
  pgrep -f "containerd-shim-hull-v2 .*-address $sock" >/dev/null || break
  sleep 0.1
done
if pgrep -af "containerd-shim-hull-v2 .*-address $sock"; then fail "a shim process is still running"; fi
shim_sockets_after=$(ls "$expected_socket_dir" 2>/dev/null | sort || true)
[[ "$shim_sockets_before" == "$shim_sockets_after" ]] || fail "shim sockets changed: before [$shim_sockets_before] after [$shim_sockets_after]"
sandbox_state_after=$(ls /run/hull/shim 2>/dev/null | sort || true)
[[ "$sandbox_state_before" == "$sandbox_state_after" ]] ||
  fail "sandbox state under /run/hull/shim changed: before [$sandbox_state_before] after [$sandbox_state_after]"
bundles=$(find "$tmp/state/io.containerd.runtime.v2.task" -mindepth 2 -maxdepth 2 2>/dev/null | wc -l)
[[ $bundles -eq 0 ]] || fail "$bundles bundle directories remain under the state dir"
containers=$(ctr --address "$sock" -n $ns containers ls -q | wc -l)
[[ $containers -eq 0 ]] || fail "$containers containers remain in containerd"

echo "containerd + containerd-shim-hull-v2: start, ttrpc, clear Create error, clean teardown: passed"
