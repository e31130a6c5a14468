#!/bin/sh
# Runs where KVM works (the L1, or directly). $E2E_ROOT prefixes the copied
# files in direct mode and is empty in L1.
set -u
R=${E2E_ROOT:-}
ARCH=$(uname -m)
KERNEL=$(ls "$R/opt/hull/share/hull/$ARCH"/bzImage "$R/opt/hull/share/hull/$ARCH"/Image 2>/dev/null | head -1)
find_bin() { if [ -x "/opt/hull/bin/$1" ]; then echo "/opt/hull/bin/$1"; else command -v "$1"; fi; }
ROOT=$R/run/hull-cli-e2e
HULL="$(find_bin hull) --root $ROOT"
VMFLAGS="--vmm $(find_bin hull-vmm) --kernel $KERNEL --initrd $R/opt/hull/share/hull/$ARCH/initramfs.cpio.lz4 --agent-timeout 120"
BUNDLE=$R/opt/bundle
# A foreground hull call that may wait on the guest is bounded: a hang fails the
# case (exit status 143, SIGTERM from timeout) instead of stalling the run until the runner's limit.
BOUND=240
HULL_BOUNDED="timeout -k 10 $BOUND $HULL"  # busybox timeout: execs hull itself, signals reach it
T=$(mktemp -d "${TMPDIR:-/tmp}/hull-cli.XXXXXX")

fail() {
  echo "FAIL: $*"
  for f in "$ROOT"/*/keeper.log; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
  exit 1
}
# Live processes with this comm (zombies do not count). No pgrep in L1's busybox.
live() {
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ] || continue
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$d/status" 2>/dev/null)
    [ "$state" = Z ] || [ -z "$state" ] || echo "${d#/proc/}"
  done
}
# Nothing may outlive a container: no VMM, no keeper, no socket, no state.
check_clean() {
  [ -z "$(live hull-vmm)" ] || fail "hull-vmm left behind: $(live hull-vmm)"
  [ -z "$(live hull)" ] || fail "a hull keeper process left behind: $(live hull)"
  if [ -d "$ROOT" ] && [ -n "$(ls -A "$ROOT")" ]; then fail "state left behind: $(ls -AR "$ROOT")"; fi
  socks=$(find "$R/run" "$R/tmp" -type s 2>/dev/null | grep -v "$T" || true)
  [ -z "$socks" ] || fail "sockets left behind: $socks"
}
# A bundle whose process runs "$@" (same rootfs as the base bundle).
bundle_running() {
  dir=$(mktemp -d "$T/bundle.XXXXXX")
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
status_of() { $HULL state "$1" | sed -n 's/^ *"status": *"\([a-z]*\)".*/\1/p'; }
expect_status() {
  got=$(status_of "$1")
  [ "$got" = "$2" ] || fail "state of $1: expected $2, got '$got' ($($HULL state "$1" 2>&1))"
}
wait_status() {  # id status seconds
  i=0
  while [ "$(status_of "$1")" != "$2" ]; do
    i=$((i + 1)); [ $i -le $(($3 * 10)) ] || fail "$1 did not become $2 in $3 s"
    sleep 0.1
  done
}
wait_file() {  # file seconds
  i=0
  while [ ! -s "$1" ]; do
    i=$((i + 1)); [ $i -le $(($2 * 10)) ] || fail "$1 did not appear in $2 s"
    sleep 0.1
  done
}
# Creates $1 from bundle $2 under the subreaper (conmon's part), waits until created.
create_reaped() {
  subreaper "$T/$1.pid" "$T/$1.exit" -- $HULL create $VMFLAGS --bundle "$2" --pid-file "$T/$1.pid" "$1" \
    >"$T/$1.out" 2>"$T/$1.err" </dev/null &
  i=0
  while [ ! -s "$T/$1.pid" ]; do
    i=$((i + 1))
    if [ $i -gt 2000 ] || ! kill -0 $! 2>/dev/null && [ ! -s "$T/$1.pid" ]; then
      cat "$T/$1.err"; fail "hull create $1 did not write its pid file"
    fi
    sleep 0.1
  done
}

case "$1" in
lifecycle)
  check_clean
  b=$(bundle_running sh -c 'echo out-line; echo err-line >&2; read line; echo "got $line"; trap "echo term; exit 7" TERM; while true; do sleep 0.2; done')
  create_reaped c1 "$b"
  expect_status c1 created
  pid=$(cat "$T/c1.pid")
  $HULL state c1 | grep -q "\"pid\": $pid," || fail "state's pid is not the --pid-file's $pid: $($HULL state c1)"
  $HULL state c1 | grep -q "\"bundle\": \"$b\"" || fail "state's bundle is not $b"
  $HULL list | grep -Eq "^c1 +$pid +created +$b " || fail "list: $($HULL list)"
  $HULL list --format json | grep -q '"id":"c1"' || fail "list json: $($HULL list -f json)"
  $HULL start c1 || fail "start"
  expect_status c1 running
  $HULL start c1 2>"$T/err" && fail "a second start must fail"
  grep -q "cannot start an already running container" "$T/err" || fail "start twice: $(cat "$T/err")"
  wait_file "$T/c1.out" 60
  sleep 1
  $HULL kill c1 TERM || fail "kill"
  wait_file "$T/c1.exit" 60
  cat "$T/c1.out" "$T/c1.err"
  grep -qx "exit 7" "$T/c1.exit" || fail "the keeper's exit status: $(cat "$T/c1.exit"), expected 7"
  grep -qx "out-line" "$T/c1.out" || fail "stdout did not come through"
  grep -qx "err-line" "$T/c1.err" || fail "stderr did not come through"
  grep -qx "got " "$T/c1.out" || fail "stdin (/dev/null) did not reach EOF in the container"
  grep -qx "term" "$T/c1.out" || fail "SIGTERM did not reach the container's trap"
  expect_status c1 stopped
  $HULL state c1 | grep -q '"pid": 0,' || fail "a stopped container's pid must be 0"
  [ -z "$(live hull-vmm)" ] || fail "the VM still runs after the container stopped"
  $HULL kill c1 KILL 2>"$T/err" && fail "kill of a stopped container must fail"
  grep -q "not running" "$T/err" || fail "kill stopped: $(cat "$T/err")"
  $HULL delete c1 || fail "delete"
  $HULL state c1 2>"$T/err" && fail "state after delete must fail"
  grep -q "does not exist" "$T/err" || fail "state after delete: $(cat "$T/err")"
  check_clean
  # A created container that never started is deleted without --force, VM and all.
  b2=$(bundle_running true)
  $HULL create $VMFLAGS --bundle "$b2" c2 </dev/null >"$T/c2.out" 2>"$T/c2.err" || { cat "$T/c2.err"; fail "create c2"; }
  expect_status c2 created
  [ -n "$(live hull-vmm)" ] || fail "no VM for the created container"
  $HULL delete c2 || fail "delete of a created container"
  check_clean ;;
exec-repeat)
  # Ten detached execs in a row, each bounded: a quick exec once raced the agent's
  # launcher (its "ready" overtook the pid report: ExecProcess hung or said pid 0
  # and the exit never came). Under nesting that showed in about one exec in ten.
  b=$(bundle_running sh -c 'echo started; while true; do sleep 0.2; done')
  create_reaped c6 "$b"
  $HULL start c6 || fail "start"
  n=0
  while [ $n -lt 10 ]; do
    n=$((n + 1))
    rm -f "$T/r.pid" "$T/r.exit"
    subreaper "$T/r.pid" "$T/r.exit" -- $HULL exec --detach --pid-file "$T/r.pid" c6 sh -c "exit $n" \
      </dev/null >"$T/r.out" 2>&1 &
    i=0
    while [ ! -s "$T/r.exit" ]; do
      i=$((i + 1))
      [ $i -le 600 ] || fail "detached exec $n: no exit status in 60 s (pid file: '$(cat "$T/r.pid" 2>/dev/null)'; output: $(cat "$T/r.out"); ps: $(timeout 30 $HULL ps c6 2>&1))"
      sleep 0.1
    done
    grep -qx "exit $n" "$T/r.exit" || fail "detached exec $n: keeper status $(cat "$T/r.exit"), expected exit $n"
    grep -q "guest pid 0$" "$ROOT/c6/keeper.log" && fail "an exec was reported as guest pid 0"
  done
  echo "10 detached execs exited with their status"
  $HULL delete --force c6 || fail "delete --force"
  wait_file "$T/c6.exit" 30
  check_clean ;;
exec-pause)
  b=$(bundle_running sh -c 'echo started; while true; do sleep 0.2; done')
  create_reaped c3 "$b"
  $HULL start c3 || fail "start"
  out=$($HULL_BOUNDED exec c3 sh -c 'echo exec-out; echo exec-err >&2' 2>&1 </dev/null); rc=$?
  echo "$out"
  [ $rc -eq 0 ] || fail "exec exited $rc (143: stopped by timeout after $BOUND s)"
  echo "$out" | grep -qx exec-out || fail "exec's stdout missing"
  echo "$out" | grep -qx exec-err || fail "exec's stderr missing"
  echo "step: exec exit status"
  $HULL_BOUNDED exec c3 sh -c 'exit 5' </dev/null; rc=$?
  [ $rc -eq 5 ] || fail "exec's exit status: $rc, expected 5"
  echo "step: exec --env --cwd"
  $HULL_BOUNDED exec --env E2E_VAR=yes --cwd /tmp c3 sh -c 'echo "$E2E_VAR $(pwd)"' </dev/null >"$T/env" 2>&1
  grep -qx "yes /tmp" "$T/env" || fail "exec --env/--cwd: $(cat "$T/env")"
  echo "step: signal forwarding"
  # A signal to a foreground `hull exec` reaches the process in the guest (as runc forwards it).
  $HULL_BOUNDED exec c3 sh -c 'trap "exit 9" TERM; echo ready; while true; do sleep 0.2; done' >"$T/fx.out" 2>&1 </dev/null &
  xpid=$!
  wait_file "$T/fx.out" 120
  kill -TERM $xpid
  wait $xpid; rc=$?
  [ $rc -eq 9 ] || fail "SIGTERM to a foreground hull exec: exit $rc, expected the trap's 9 ($(cat "$T/fx.out"))"
  echo "step: detached exec"
  # Detached, with a pid file, as conmon runs `podman exec`.
  subreaper "$T/e.pid" "$T/e.exit" -- $HULL exec --detach --pid-file "$T/e.pid" c3 sh -c 'sleep 1; exit 3' \
    </dev/null >"$T/e.out" 2>&1 &
  wait_file "$T/e.pid" 120
  i=0
  while [ ! -s "$T/e.exit" ]; do
    i=$((i + 1)); [ $i -le 1200 ] || fail "detached exec: no exit status in 120 s; its output: $(cat "$T/e.out")"
    sleep 0.1
  done
  grep -qx "exit 3" "$T/e.exit" || fail "detached exec's keeper status: $(cat "$T/e.exit")"
  echo "step: ps, pause, resume, events, delete"
  $HULL ps c3 >"$T/ps" || fail "ps"
  cat "$T/ps"
  head -1 "$T/ps" | grep -q "PID" || fail "ps header"
  grep -q "sleep\|sh -c" "$T/ps" || fail "ps lists no container process"
  $HULL ps --format json c3 | grep -Eq '^\[[0-9]+(,[0-9]+)*\]$' || fail "ps json: $($HULL ps -f json c3)"
  $HULL pause c3 || fail "pause"
  expect_status c3 paused
  $HULL exec c3 true 2>"$T/err" </dev/null && fail "exec into a paused container must fail"
  grep -q "paused" "$T/err" || fail "exec paused: $(cat "$T/err")"
  $HULL resume c3 || fail "resume"
  expect_status c3 running
  $HULL resume c3 2>"$T/err" && fail "resume of a running container must fail"
  $HULL events --stats c3 >"$T/ev" || fail "events --stats"
  cat "$T/ev"
  grep -q '"type":"stats"' "$T/ev" || fail "events: no stats event"
  grep -q '"pids":{"current":' "$T/ev" || fail "events: no pids"
  $HULL delete c3 2>"$T/err" && fail "delete of a running container without --force must fail"
  grep -q "cannot delete container c3 that is not stopped: running" "$T/err" || fail "delete running: $(cat "$T/err")"
  $HULL delete --force c3 || fail "delete --force"
  wait_file "$T/c3.exit" 30
  check_clean ;;
bad-input)
  $HULL state nope 2>"$T/err" && fail "state of an unknown id must fail"
  grep -q "container does not exist" "$T/err" || fail "unknown id: $(cat "$T/err")"
  for verb in start kill delete pause resume ps events "exec nope true"; do
    [ "$verb" = "${verb#exec}" ] && verb="$verb nope"
    $HULL $verb 2>"$T/err" </dev/null; rc=$?
    [ $rc -eq 1 ] || fail "$verb of an unknown id exited $rc, expected 1"
    grep -q "does not exist" "$T/err" || fail "$verb nope: $(cat "$T/err")"
  done
  $HULL delete --force nope || fail "delete --force of an unknown id must succeed (as runc)"
  $HULL create $VMFLAGS --bundle /no/such/bundle c5 2>"$T/err" </dev/null; rc=$?
  [ $rc -eq 1 ] || fail "missing bundle exited $rc"
  grep -q "does not exist" "$T/err" || fail "missing bundle: $(cat "$T/err")"
  mkdir "$T/empty"
  $HULL create $VMFLAGS --bundle "$T/empty" c5 2>"$T/err" </dev/null && fail "bundle without config.json"
  grep -q "no config.json" "$T/err" || fail "no config.json: $(cat "$T/err")"
  $HULL create $VMFLAGS --bundle "$BUNDLE" "../evil" 2>"$T/err" </dev/null && fail "bad id accepted"
  grep -q "invalid container id" "$T/err" || fail "bad id: $(cat "$T/err")"
  check_clean
  b=$(bundle_running /no/such/program)
  $HULL create $VMFLAGS --bundle "$b" c6 </dev/null >"$T/c6.out" 2>"$T/err"; rc=$?
  if [ $rc -eq 0 ]; then
    # The agent may report a missing program at start instead of create.
    $HULL start c6 2>>"$T/err" && sleep 2
    $HULL delete --force c6
  fi
  cat "$T/err"
  grep -q "/no/such/program" "$T/err" || [ $rc -eq 0 ] || fail "missing entrypoint: $(cat "$T/err")"
  check_clean
  b=$(bundle_running sh -c 'while true; do sleep 1; done')
  $HULL create $VMFLAGS --bundle "$b" c7 </dev/null >"$T/c7.out" 2>"$T/c7.err" || { cat "$T/c7.err"; fail "create c7"; }
  $HULL create $VMFLAGS --bundle "$b" c7 </dev/null >/dev/null 2>"$T/err" && fail "a duplicate id must fail"
  grep -q "container with id exists: c7" "$T/err" || fail "duplicate: $(cat "$T/err")"
  expect_status c7 created  # the failed duplicate did not touch the first
  $HULL create $VMFLAGS --bundle "$b" --console-socket "$T/none.sock" c8 </dev/null 2>"$T/err" && fail "console socket without terminal"
  grep -q "console-socket" "$T/err" || fail "console socket: $(cat "$T/err")"
  $HULL delete --force c7 || fail "delete --force c7"
  check_clean ;;
terminal)
  # process.terminal with --console-socket, as `podman run -t` drives it.
  b=$(bundle_running sh -c 'tty; stty size; read x; echo "got $x"; exit 4')
  sed -i 's/"terminal": false/"terminal": true/' "$b/config.json"
  grep -q '"terminal": true' "$b/config.json" || fail "could not set process.terminal"
  console-recv "$T/console.sock" "$T/console.out" 30 100 "typed-line
" &
  i=0
  while [ ! -S "$T/console.sock" ]; do i=$((i + 1)); [ $i -le 100 ] || fail "console-recv did not listen"; sleep 0.1; done
  subreaper "$T/c9.pid" "$T/c9.exit" -- $HULL create $VMFLAGS --bundle "$b" --console-socket "$T/console.sock" \
    --pid-file "$T/c9.pid" c9 >"$T/c9.err" 2>&1 </dev/null &
  wait_file "$T/c9.pid" 200
  $HULL start c9 || fail "start"
  i=0
  while [ ! -s "$T/c9.exit" ]; do
    i=$((i + 1)); [ $i -le 1200 ] || fail "no exit status in 120 s; console: $(cat "$T/console.out")"
    sleep 0.1
  done
  cat "$T/console.out"
  grep -qx "exit 4" "$T/c9.exit" || fail "keeper status $(cat "$T/c9.exit"), expected 4"
  grep -q "^pty-name /dev/pts/" "$T/console.out" || fail "no pty name came with the master"
  grep -q "^/dev/pts/" "$T/console.out" || fail "the container's stdin is not a terminal"
  grep -q "^30 100" "$T/console.out" || fail "the window size did not reach the guest's terminal"
  grep -q "got typed-line" "$T/console.out" || fail "input typed on the master did not reach the container"
  $HULL delete c9 || fail "delete"
  check_clean ;;
*) echo "cases.sh: unknown case $1" >&2; exit 2 ;;
esac
rm -rf "$T"
echo "PASS: $1"
