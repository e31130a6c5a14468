#!/bin/sh
# The hull CLI starts hull-vmm through hull-jailer by default (as root), and
# HULL_JAILER=off turns it off. Runs as root where KVM works (the L1, or
# directly: $E2E_ROOT prefixes the copied files then).
set -u
name=${1:?usage: cli-cases.sh CASE}
R=${E2E_ROOT:-}
ARCH=$(uname -m)
KERNEL=$(ls "$R/opt/hull/share/hull/$ARCH"/bzImage 2>/dev/null | head -1)
find_bin() { if [ -x "/opt/hull/bin/$1" ]; then echo "/opt/hull/bin/$1"; else command -v "$1"; fi; }
STATE=$R/run/hull-jail-e2e
HULL="$(find_bin hull) --root $STATE"
RUNFLAGS="--vmm $(find_bin hull-vmm) --kernel $KERNEL --initrd $R/opt/hull/share/hull/$ARCH/initramfs.cpio.lz4 --agent-timeout 120"
BUNDLE=$R/opt/bundle
CGROUPS=/sys/fs/cgroup/hull-vmm
T=$(mktemp -d /tmp/jail-cli.XXXXXX)
run_pid=""
cleanup() { [ -n "$run_pid" ] && kill -9 "$run_pid" 2>/dev/null; }
trap cleanup EXIT
fail() { echo "FAIL [$name]: $*"; for f in "$STATE"/*/vmm.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; exit 1; }
pass() { echo "PASS [$name]: $*"; exit 0; }
# The one live hull-vmm (no pgrep in L1's busybox).
vmm_pid() {
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = hull-vmm ] || continue
    grep -q '^State:[[:space:]]*Z' "$d/status" 2>/dev/null || echo "${d#/proc/}"
  done
}
field() { grep "^$2:" "/proc/$1/status" | cut -f2 | tr -d ' '; }
bundle_running() {
  dir=$(mktemp -d "$T/bundle.XXXXXX")
  ln -s "$BUNDLE/rootfs" "$dir/rootfs"
  awk -v args="$1" '/^ *"sh"$/ { print args; next } { print }' "$BUNDLE/config.json" > "$dir/config.json"
  echo "$dir"
}
# run_and_inspect ID: starts `hull run` of a container that prints a marker
# and sleeps 20 s; once the marker is out, inspects the VMM: sets $pid, $uid, $capeff, $nnp, $seccomp, $root_etc.
run_and_inspect() {
  b=$(bundle_running '"sh", "-c", "echo HULL_JAIL_UP; sleep 20"')
  $HULL run $RUNFLAGS --bundle "$b" "$1" > "$T/$1.out" 2>&1 &
  run_pid=$!
  i=0
  until grep -q HULL_JAIL_UP "$T/$1.out" 2>/dev/null; do
    kill -0 $run_pid 2>/dev/null || fail "hull run exited early: $(cat "$T/$1.out")"
    i=$((i + 1)); [ $i -lt 2400 ] || fail "the container did not start in 240 s: $(cat "$T/$1.out")"
    sleep 0.1
  done
  pid=$(vmm_pid)
  [ -n "$pid" ] || fail "no hull-vmm running"
  uid=$(grep '^Uid:' "/proc/$pid/status" | cut -f2)
  capeff=$(field "$pid" CapEff); nnp=$(field "$pid" NoNewPrivs); seccomp=$(field "$pid" Seccomp)
  root_etc=no; [ -e "/proc/$pid/root/etc" ] && root_etc=yes
}
stop_run() {  # the container exits by itself (sleep 20); `hull run` then stops its VM
  i=0; while kill -0 $run_pid 2>/dev/null; do i=$((i + 1)); [ $i -lt 1800 ] || fail "hull run did not end"; sleep 0.1; done
  wait $run_pid || fail "hull run exited $?: $(cat "$T/$1.out")"
  run_pid=""
  i=0; while [ -n "$(vmm_pid)" ]; do i=$((i + 1)); [ $i -lt 300 ] || fail "hull-vmm still running"; sleep 0.1; done
}

case "$name" in
  hull-run-default)
    [ "$(id -u)" = 0 ] || { echo "SKIP [$name]: needs root"; exit 77; }
    run_and_inspect jailed
    [ "$uid" -ge 1879048192 ] && [ "$uid" -lt 1895825408 ] || fail "hull-vmm runs as uid $uid, not a jail uid"
    [ "$capeff" = 0000000000000000 ] || fail "CapEff $capeff"
    [ "$nnp" = 1 ] || fail "NoNewPrivs $nnp"
    [ "$seccomp" = 2 ] || fail "Seccomp $seccomp"
    [ "$root_etc" = no ] || fail "the VMM's root has an /etc: not the jail"
    [ -L "$STATE/jailed/api.sock" ] || fail "the state dir's api.sock is not a link into the jail: $(ls -l "$STATE/jailed")"
    target=$(readlink "$STATE/jailed/api.sock")
    case "$target" in $STATE/jailed/jail/hull-vmm/vm-*/root/*) ;; *) fail "api.sock points at $target" ;; esac
    jail_uid=$uid
    stop_run jailed
    [ ! -e "$STATE/jailed" ] || fail "state (and jail) left: $(ls -AR "$STATE/jailed")"
    [ -z "$(ls -A $CGROUPS 2>/dev/null | grep vm-)" ] || fail "cgroups left: $(ls -A $CGROUPS | grep vm-)"
    ! grep -q "$STATE" /proc/self/mountinfo || fail "jail mounts leaked into the host namespace"

    export HULL_JAILER=off
    run_and_inspect unjailed
    [ "$uid" = 0 ] || fail "with HULL_JAILER=off hull-vmm runs as uid $uid, not root"
    [ "$root_etc" = yes ] || fail "with HULL_JAILER=off the VMM's root is not the host's"
    [ "$seccomp" = 2 ] || fail "with HULL_JAILER=off seccomp is off too ($seccomp)"
    [ ! -e "$STATE/unjailed/jail" ] || fail "HULL_JAILER=off made a jail: $(ls -A "$STATE/unjailed/jail")"
    stop_run unjailed
    pass "hull run: hull-vmm jailed by default (uid $jail_uid, CapEff 0, NoNewPrivs 1, Seccomp 2, root = jail, api.sock -> $target), nothing left after delete; HULL_JAILER=off: uid 0, host root, seccomp still on" ;;
  *) echo "unknown case $name"; exit 2 ;;
esac
