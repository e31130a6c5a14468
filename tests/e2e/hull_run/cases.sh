#!/bin/sh
# Runs where KVM works (the L1, or directly). $E2E_ROOT prefixes the copied
# files in direct mode and is empty in L1.
set -u
R=${E2E_ROOT:-}
ARCH=$(uname -m)
KERNEL=$(ls "$R/opt/hull/share/hull/$ARCH"/bzImage "$R/opt/hull/share/hull/$ARCH"/Image 2>/dev/null | head -1)
# In L1 the programs sit at /opt/hull/bin; in direct mode e2e-exec puts them on PATH.
find_bin() { if [ -x "/opt/hull/bin/$1" ]; then echo "/opt/hull/bin/$1"; else command -v "$1"; fi; }
HULL="$(find_bin hull) --root $R/run/hull-e2e"
RUNFLAGS="--vmm $(find_bin hull-vmm) --kernel $KERNEL --initrd $R/opt/hull/share/hull/$ARCH/initramfs.cpio.lz4 --agent-timeout 120"
BUNDLE=$R/opt/bundle

fail() { echo "FAIL: $*"; exit 1; }
# Is a process with this comm (first 15 bytes of its name) running? (no pgrep in L1's busybox)
running() { for c in /proc/[0-9]*/comm; do [ "$(cat "$c" 2>/dev/null)" = "$1" ] && return 0; done; return 1; }

# Writes a bundle whose config.json runs "$@" (same rootfs): the "sh" line of
# the base config's process.args is replaced by the JSON-escaped arguments.
bundle_running() {
  dir=$(mktemp -d "${TMPDIR:-/tmp}/bundle.XXXXXX")
  ln -s "$BUNDLE/rootfs" "$dir/rootfs"
  ARGS_JSON=""
  for a in "$@"; do
    esc=$(printf '%s' "$a" | sed 's/\\/\\\\/g; s/"/\\"/g')
    ARGS_JSON="$ARGS_JSON${ARGS_JSON:+, }\"$esc\""
  done
  export ARGS_JSON
  awk '/^ *"sh"$/ { print ENVIRON["ARGS_JSON"]; next } { print }' "$BUNDLE/config.json" > "$dir/config.json"
  echo "$dir"
}

# Nothing may outlive a run: no VMM, no state directory.
check_clean() {
  if running hull-vmm; then fail "a hull-vmm process was left behind"; fi
  if [ -d "$R/run/hull-e2e" ] && [ -n "$(ls -A "$R/run/hull-e2e")" ]; then
    fail "state left behind: $(ls -A "$R/run/hull-e2e")"
  fi
}

case "$1" in
echo)
  b=$(bundle_running echo "hello from a microVM")
  out=$($HULL run $RUNFLAGS --bundle "$b" c1 2>&1); rc=$?
  echo "$out"
  [ $rc -eq 0 ] || fail "hull run exited $rc"
  echo "$out" | grep -qx "hello from a microVM" || fail "container output missing"
  check_clean ;;
exit-status)
  b=$(bundle_running sh -c "echo bye; exit 7")
  $HULL run $RUNFLAGS --bundle "$b" c2; rc=$?
  [ $rc -eq 7 ] || fail "expected exit status 7, got $rc"
  check_clean ;;
identity)
  b=$(bundle_running sh -c 'echo host=$(hostname) uid=$(id -u) pid=$$; grep -E "^(NoNewPrivs|Seccomp|CapEff)" /proc/self/status')
  out=$($HULL run $RUNFLAGS --bundle "$b" c3 2>&1); rc=$?
  echo "$out"
  [ $rc -eq 0 ] || fail "hull run exited $rc"
  echo "$out" | grep -q "host=hull uid=0 pid=1" || fail "hostname/uid/pid namespace not as config.json says"
  echo "$out" | grep -Eq "^NoNewPrivs:[[:space:]]+1" || fail "noNewPrivileges not in effect"
  # CAP_AUDIT_WRITE(29) CAP_KILL(5) CAP_NET_BIND_SERVICE(10) = 0x20000420
  echo "$out" | grep -Eq "^CapEff:[[:space:]]+0000000020000420" || fail "capabilities differ from config.json"
  check_clean ;;
missing-entrypoint)
  b=$(bundle_running /no/such/program)
  out=$($HULL run $RUNFLAGS --bundle "$b" c4 2>&1); rc=$?
  echo "$out"
  [ $rc -ne 0 ] || fail "a missing entrypoint must fail"
  echo "$out" | grep -q "/no/such/program" || fail "the error must name the missing program"
  check_clean ;;
bad-bundle)
  out=$($HULL run $RUNFLAGS --bundle /no/such/bundle c5 2>&1); rc=$?
  echo "$out"
  [ $rc -ne 0 ] || fail "a missing bundle must fail"
  echo "$out" | grep -q "no config.json" || fail "the error must say config.json is missing"
  check_clean ;;
*) echo "cases.sh: unknown case $1" >&2; exit 2 ;;
esac
echo "PASS: $1"
