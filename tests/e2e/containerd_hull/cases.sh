#!/bin/sh
# Runs where KVM works (the L1, or directly; $E2E_ROOT prefixes copied files in
# direct mode). Each case starts its own containerd via with-containerd.
set -u
R=${E2E_ROOT:-}
# containerd finds the shim on PATH; the shim finds hull-vmm and the guest next to itself.
if [ -x /opt/hull/bin/containerd-shim-hull-v2 ]; then export PATH=/opt/hull/bin:$PATH; fi
IMG=hull.local/busybox:latest
RT="--runtime io.containerd.hull.v2"
export SHOW_CONTAINERD_LOG=1

# Is a process with this comm (first 15 bytes of its name) running? (no pgrep in L1's busybox)
running() { for c in /proc/[0-9]*/comm; do [ "$(cat "$c" 2>/dev/null)" = "$1" ] && return 0; done; return 1; }

run_case() { sh "$R/opt/with-containerd" --image "$R/opt/busybox.tar" -- sh -c "$1"; }

# Checked after each case: no VMM, no sandbox state, no mounts of ours.
leftovers() {
  running hull-vmm && echo "FAIL: hull-vmm left running"
  running containerd-shim && echo "FAIL: shim left running"
  [ -d /run/hull/shim ] && [ -n "$(ls -A /run/hull/shim)" ] && echo "FAIL: sandbox state left: $(ls -A /run/hull/shim)"
  grep -q ' /run/hull' /proc/mounts && echo "FAIL: mounts left: $(grep ' /run/hull' /proc/mounts)"
  return 0
}

case "$1" in
run-echo)
  run_case '
    out=$($CTR run --rm '"$RT"' '"$IMG"' c1 echo hello from hull via containerd) || { echo "FAIL: ctr run exited $?"; exit 1; }
    echo "$out"
    [ "$out" = "hello from hull via containerd" ] || { echo "FAIL: unexpected output"; exit 1; }' ;;
exit-status)
  run_case '
    $CTR run --rm '"$RT"' '"$IMG"' c2 sh -c "exit 3"; rc=$?
    [ $rc -eq 3 ] || { echo "FAIL: expected exit status 3 from ctr run, got $rc"; exit 1; }' ;;
exec-ps-pause-kill)
  run_case '
    set -e
    $CTR run -d '"$RT"' '"$IMG"' c3 sleep 1000
    out=$($CTR task exec --exec-id e1 c3 sh -c "echo inside; hostname")
    echo "$out"
    echo "$out" | grep -qx inside || { echo "FAIL: exec output"; exit 1; }
    $CTR task ps c3 | tee /tmp/ps
    [ "$(wc -l < /tmp/ps)" -ge 2 ] || { echo "FAIL: task ps lists no process"; exit 1; }
    $CTR task pause c3
    $CTR task ls | grep c3 | grep -q PAUSED || { echo "FAIL: not PAUSED"; $CTR task ls; exit 1; }
    $CTR task resume c3
    $CTR task ls | grep c3 | grep -q RUNNING || { echo "FAIL: not RUNNING after resume"; exit 1; }
    $CTR task kill -s SIGKILL c3
    i=0; while ! $CTR task ls | grep c3 | grep -q STOPPED; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: never STOPPED"; exit 1; }; sleep 0.1; done
    $CTR task rm c3
    $CTR container rm c3' ;;
cycles)
  # The issue asks for 20 cycles; under nested TCG each takes tens of seconds,
  # so CI runs 3 (HULL_E2E_CYCLES raises it).
  n=${HULL_E2E_CYCLES:-3}
  run_case '
    i=0
    while [ $i -lt '"$n"' ]; do
      i=$((i+1))
      out=$($CTR run --rm '"$RT"' '"$IMG"' cyc$i echo cycle $i) || { echo "FAIL: cycle $i exited $?"; exit 1; }
      [ "$out" = "cycle $i" ] || { echo "FAIL: cycle $i printed: $out"; exit 1; }
      if running hull-vmm; then echo "FAIL: hull-vmm still running after cycle $i"; exit 1; fi
    done
    echo "$i cycles"' ;;
shim-killed|shim-terminated)
  # kill -9 of the shim mid-run: containerd sees the task exit and runs the
  # shim's delete, which must stop the orphaned VMM and remove its state.
  # SIGTERM: the shim shuts its sandbox down itself, a container still running.
  sig=KILL; [ "$1" = shim-terminated ] && sig=TERM
  run_case '
    set -e
    $CTR run -d '"$RT"' '"$IMG"' c5 sleep 1000
    shim=""
    for c in /proc/[0-9]*/comm; do
      [ "$(cat "$c" 2>/dev/null)" = containerd-shim ] && shim=$(basename "$(dirname "$c")")
    done
    [ -n "$shim" ] || { echo "FAIL: no shim process found"; exit 1; }
    kill -'"$sig"' "$shim"
    i=0; while $CTR task ls | grep c5 | grep -q RUNNING; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: task still RUNNING after the shim died"; exit 1; }; sleep 0.1; done
    $CTR task ls
    echo "task rm:"; timeout 60 $CTR task rm c5 || true
    echo "container rm:"; timeout 60 $CTR container rm c5
    echo removed
    i=0; while [ -n "$(ls -A /run/hull/shim 2>/dev/null)" ]; do i=$((i+1)); [ $i -lt 100 ] || break; sleep 0.1; done' ;;
*) echo "cases.sh: unknown case $1" >&2; exit 2 ;;
esac
rc=$?
bad=$(leftovers)
[ -z "$bad" ] || { echo "$bad"; exit 1; }
[ $rc -eq 0 ] && echo "PASS: $1"
exit $rc
