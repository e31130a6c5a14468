#!/bin/sh
# Docker with hull as a runtime. Runs where KVM works (the L1, or directly),
# under tests/e2e/lib/with-containerd (CONTAINERD_ADDRESS: a private containerd).
# One dockerd for all cases; its data-root, exec-root, pidfile, socket and trust
# key live under a temporary directory, so a host's own Docker is not touched.
# Each case compares what is left (processes, mounts, network links, runtime
# state, containers) with the state before it.
#   with-containerd -- cases.sh core | all | run-rm | detached-exec | tty | bad-entrypoint |
#                      network-none | bridge-gateway | host-network | CASE,CASE,...
set -u
R=${E2E_ROOT:-}
IMG=hull.local/busybox:latest
HULL=$(command -v hull) || { echo "cases.sh: hull is not on PATH"; exit 1; }
[ -n "${CONTAINERD_ADDRESS:-}" ] || { echo "cases.sh: run it under tests/e2e/lib/with-containerd"; exit 2; }
# containerd's state: the runc shim's bundles are under state/io.containerd.runtime.v2.task/moby/.
CSTATE=$(dirname "$CONTAINERD_ADDRESS")/state
# The exec-root is longer than Docker's default /var/run/docker on purpose: the
# runc shim gives hull --root EXEC/runtime-runc/moby and a 64-character id, so
# ROOT/ID/vsock.sock is 116 bytes, past the 107 a unix socket path may have;
# hull must put the VM's sockets in a short directory (/run/hull/v/<hash>).
T=$(mktemp -d /tmp/XXXXXX)
SOCK=$T/docker.sock
EXEC=$T/run/docker
mkdir -p "$EXEC"
# Every docker call is bounded: a hang fails the case (exit status 143, SIGTERM
# from timeout) instead of stalling the run until the e2e runner's limit.
BOUND=${DOCKER_E2E_BOUND:-240}
DOCKER="timeout -k 10 $BOUND docker -H unix://$SOCK"
# The cases use Docker's default network (the bridge, docker0) unless they say otherwise.
HR="--runtime hull"

now_ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }
live() {
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ] || continue
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$d/status" 2>/dev/null)
    [ "$state" = Z ] || [ -z "$state" ] || echo "${d#/proc/}"
  done
}

# What a container may leave behind. The processes are named by comm (15 characters:
# containerd-shim-runc-v2 is "containerd-shim"); a keeper is a forked `hull`.
snapshot() {
  for p in hull-vmm hull containerd-shim; do
    pids=$(live $p | tr '\n' ' ')
    [ -z "$pids" ] || echo "process $p: $pids"
  done
  ls /sys/class/net | sed 's/^/link /'
  # The runtime's and the shim's per-container directories (their parents stay), the
  # network namespaces dockerd binds (but "default", the host's, kept while dockerd runs).
  # /run/hull/v holds the VMs' short socket directories; it stays, its entries must not.
  for d in "$EXEC/runtime-runc/moby" "$CSTATE/io.containerd.runtime.v2.task/moby" /run/hull; do
    [ -d "$d" ] && find "$d" -mindepth 1 | grep -vx /run/hull/v | sed 's/^/state /'
  done
  [ -d "$EXEC/netns" ] && ls "$EXEC/netns" | grep -vx default | sed 's/^/netns /'
  grep -e " $T" -e " $CSTATE" /proc/mounts | grep -v " $EXEC/netns/default " \
    | awk '{print "mount " $2 " (" $3 ")"}' | sort
  $DOCKER ps -aq 2>&1 | sed 's/^/container /'
}
check_clean() {
  i=0
  # The shim and dockerd finish their side of a removal asynchronously: give them a moment.
  while :; do
    snapshot | sort >"$T/after"
    cmp -s "$T/before" "$T/after" && return 0
    i=$((i + 1))
    [ $i -ge 20 ] && break
    sleep 0.5
  done
  echo "left behind after the case (+) or gone (-):"
  diff "$T/before" "$T/after" | grep '^[-+][^-+]'
  return 1
}

fail() {
  echo "FAIL: $*"
  hull --root "$EXEC/runtime-runc/moby" list 2>&1
  for f in "$EXEC"/runtime-*/moby/*/keeper.log "$EXEC"/runtime-*/moby/*/vmm.log; do
    [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
  done
  exit 1
}

case_run_rm() {
  out=$($DOCKER run --rm $HR $IMG echo hello 2>"$T/err"); rc=$?
  echo "$out"; cat "$T/err"
  [ $rc -eq 0 ] || fail "docker run exited $rc"
  [ "$out" = hello ] || fail "expected 'hello', got '$out'"
  $DOCKER run --rm $HR $IMG sh -c 'exit 3' 2>"$T/err"; rc=$?
  [ $rc -eq 3 ] || { cat "$T/err"; fail "docker run's exit status: $rc, expected 3"; }
}

case_detached_exec() {
  # docker run -d / exec / stop / rm: the runc shim's `hull exec --detach --pid-file`, `hull kill`, `hull delete`.
  cid=$($DOCKER run -d $HR $IMG sh -c 'trap "exit 0" TERM; while true; do sleep 0.2; done' 2>"$T/err"); rc=$?
  [ $rc -eq 0 ] || { cat "$T/err"; fail "docker run -d: exit status $rc"; }
  echo "container $cid"
  [ "$($DOCKER inspect --format '{{.State.Status}}' "$cid")" = running ] || fail "not running: $($DOCKER ps -a)"
  out=$($DOCKER exec "$cid" echo inside 2>"$T/err"); rc=$?
  [ $rc -eq 0 ] && [ "$out" = inside ] || { cat "$T/err"; fail "docker exec: rc $rc, output '$out'"; }
  $DOCKER exec "$cid" sh -c 'exit 6' 2>"$T/err"; rc=$?
  [ $rc -eq 6 ] || { cat "$T/err"; fail "docker exec's exit status: $rc, expected 6"; }
  $DOCKER stop -t 30 "$cid" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "docker stop"; }
  code=$($DOCKER inspect --format '{{.State.ExitCode}}' "$cid")
  [ "$code" = 0 ] || fail "exit code after stop (SIGTERM, trapped): $code, expected 0"
  $DOCKER rm "$cid" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "docker rm"; }
}

case_tty() {
  # docker run -t: the runc shim passes --console-socket and copies the pty to docker.
  out=$($DOCKER run --rm -t $HR $IMG sh -c 'tty; echo tty-hello' 2>"$T/err"); rc=$?
  echo "$out"; cat "$T/err"
  [ $rc -eq 0 ] || fail "docker run -t exited $rc"
  echo "$out" | grep -q "^/dev/pts/" || fail "the container's stdin is not a terminal"
  echo "$out" | grep -q "tty-hello" || fail "output missing"
}

case_network_none() {
  # --network none: Docker's prestart hook (libnetwork-setkey) runs on the host with the
  # keeper's pid; its namespace gets only lo, so the guest has no NIC.
  out=$($DOCKER run --rm --runtime hull --network none $IMG sh -c 'ls /sys/class/net | tr "\n" " "' 2>"$T/err"); rc=$?
  echo "$out"; cat "$T/err"
  [ $rc -eq 0 ] || fail "docker run --network none exited $rc"
  [ "$out" = "lo " ] || fail "expected only lo in the container, got '$out'"
}

case_bridge_gateway() {
  # The default bridge: the hook gives the keeper's namespace the veth dockerd made, hull
  # mirrors it into the VM, and the container reaches a listener on docker0's address.
  gw=$(ip -4 -o addr show dev docker0 | awk '{print $4}' | cut -d/ -f1)
  [ -n "$gw" ] || fail "docker0 has no IPv4 address: $(ip addr show dev docker0 2>&1)"
  echo "docker0: $gw"
  (echo hull-bridge-ok | timeout 200 busybox nc -l -p 7777 >/dev/null 2>&1) &
  listener=$!
  out=$($DOCKER run --rm $HR $IMG sh -c "ip -4 -o addr show dev eth0; ip route; nc $gw 7777" 2>"$T/err"); rc=$?
  echo "$out"; cat "$T/err"
  kill $listener 2>/dev/null; wait $listener 2>/dev/null
  [ $rc -eq 0 ] || fail "docker run on the bridge exited $rc"
  echo "$out" | grep -q "inet 172\." || fail "the container's eth0 has no address from docker0's subnet"
  echo "$out" | grep -qx hull-bridge-ok || fail "the container did not reach $gw:7777 on docker0"
}

case_host_network() {
  # --network host: refused with an error that names it and the alternative.
  $DOCKER run --rm --runtime hull --network host $IMG echo hello >"$T/out" 2>"$T/err"; rc=$?
  cat "$T/out" "$T/err"
  [ $rc -ne 0 ] || fail "docker run --network host succeeded; hull does not support host networking"
  grep -q "hull does not support host networking" "$T/err" || fail "the error does not say why"
  grep -q "network none" "$T/err" || fail "the error does not name the alternative"
}

case_bad_entrypoint() {
  # As with runc: docker exits 127 and names the missing file.
  $DOCKER run --rm $HR $IMG /no/such/program >"$T/out" 2>"$T/err"; rc=$?
  cat "$T/out" "$T/err"
  [ $rc -eq 127 ] || fail "docker run of a missing entrypoint exited $rc, expected 127"
  grep -q "/no/such/program" "$T/err" || fail "the error does not name the missing entrypoint"
}

start_dockerd() {
  # overlay2 where the kernel has overlayfs (the L1 loads it), else vfs (copies, needs nothing).
  driver=vfs
  modprobe overlay 2>/dev/null || true
  grep -qw overlay /proc/filesystems && driver=overlay2
  # iptables/ip-masq off: the L1 has no iptables (docker0 works without; only NAT to the
  # outside and port publishing need them). The trust key would otherwise
  # go to /etc/docker/key.json. "containerd": the one with-containerd started (dockerd's
  # own managed containerd booted in 4.6 s in the L1, past dockerd's wait for it).
  cat >"$T/daemon.json" <<JSON
{
  "runtimes": {"hull": {"path": "$HULL"}},
  "data-root": "$T/data",
  "exec-root": "$EXEC",
  "pidfile": "$T/docker.pid",
  "hosts": ["unix://$SOCK"],
  "containerd": "$CONTAINERD_ADDRESS",
  "storage-driver": "$driver",
  "iptables": false,
  "ip-masq": false,
  "deprecated-key-path": "$T/key.json"
}
JSON
  t0=$(now_ms)
  dockerd --config-file "$T/daemon.json" >"$T/dockerd.log" 2>&1 &
  DOCKERD=$!
  i=0
  until docker -H "unix://$SOCK" version >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 240 ] || ! kill -0 $DOCKERD 2>/dev/null; then
      echo "FAIL: dockerd did not start; its log:"; tail -n 40 "$T/dockerd.log"; return 1
    fi
    sleep 0.5
  done
  echo "dockerd ($driver) ready in $(($(now_ms) - t0)) ms"
}

stop_dockerd() {
  ids=$(docker -H "unix://$SOCK" ps -aq 2>/dev/null)
  [ -z "$ids" ] || docker -H "unix://$SOCK" rm -f $ids >/dev/null 2>&1
  kill $DOCKERD 2>/dev/null
  i=0
  while kill -0 $DOCKERD 2>/dev/null && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
  kill -0 $DOCKERD 2>/dev/null && { echo "dockerd did not stop in 30 s: killing it"; kill -9 $DOCKERD; }
  wait $DOCKERD 2>/dev/null
  grep " $T" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$T"
}

ALL="run-rm detached-exec tty bad-entrypoint network-none bridge-gateway host-network"
# The set ctest runs: every case (kept apart from "all" so a slow or
# experimental case can be added without lengthening CI's opt-in run).
CORE="$ALL"
# One case, "core", "all", or a comma-separated list (one L1 and one dockerd for all of them).
case "$1" in
all) cases=$ALL ;;
core) cases=$CORE ;;
*) cases=$(echo "$1" | tr , ' ') ;;
esac
for c in $cases; do
  case " $ALL " in
  *" $c "*) ;;
  *) echo "cases.sh: unknown case $c (core, all, or some of: $ALL, comma-separated)" >&2; exit 2 ;;
  esac
done

start_dockerd || { stop_dockerd; exit 1; }
t0=$(now_ms)
$DOCKER load -q -i "$R/opt/busybox.tar" || { stop_dockerd; echo "FAIL: docker load of the image archive"; exit 1; }
echo "docker load: $(($(now_ms) - t0)) ms"
snapshot | sort >"$T/before"
failed=""
for c in $cases; do
  echo "=== $c"
  t0=$(now_ms)
  ( case_$(echo "$c" | tr - _) ); ok=$?
  # Leftovers are checked after a failed case too: a failed create must leave nothing either.
  if ! check_clean; then
    ok=1
    # Docker keeps a container whose start failed (without --rm): remove it so the next
    # case is checked against a clean daemon.
    ids=$($DOCKER ps -aq)
    [ -z "$ids" ] || $DOCKER rm -f $ids >/dev/null 2>&1
    snapshot | sort >"$T/before"
  fi
  if [ $ok -eq 0 ]; then
    echo "PASS: $c ($(($(now_ms) - t0)) ms)"
  else
    echo "FAIL: $c ($(($(now_ms) - t0)) ms)"
    failed="$failed $c"
  fi
done
[ -z "$failed" ] || { echo "--- dockerd log (tail)"; tail -n 40 "$T/dockerd.log"; }
stop_dockerd
[ -z "$failed" ] || { echo "FAILED:$failed"; exit 1; }
echo "PASS: $1"
