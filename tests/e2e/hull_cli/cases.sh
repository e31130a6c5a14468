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
run-detach)
  # runc's `run -d`: create + start in one call; it returns once the container
  # runs and its keeper (reaped by the subreaper, as by conmon) holds it. With a
  # terminal, the pty master goes to --console-socket as with `create`.
  check_clean
  awk '{print $2}' /proc/mounts | sort > "$T/mounts.before"
  b=$(bundle_running sh -c 'tty; echo started; trap "exit 5" TERM; while true; do sleep 0.2; done')
  sed -i 's/"terminal": false/"terminal": true/' "$b/config.json"
  grep -q '"terminal": true' "$b/config.json" || fail "could not set process.terminal"
  console-recv "$T/console.sock" "$T/console.out" 30 100 "" &
  i=0
  while [ ! -S "$T/console.sock" ]; do i=$((i + 1)); [ $i -le 100 ] || fail "console-recv did not listen"; sleep 0.1; done
  started=$(date +%s)
  subreaper "$T/d1.pid" "$T/d1.exit" -- sh -c "$HULL_BOUNDED run -d $VMFLAGS --bundle $b --console-socket $T/console.sock --pid-file $T/d1.pid d1 && echo ok > $T/d1.ran" \
    >"$T/d1.err" 2>&1 </dev/null &
  i=0
  while [ ! -s "$T/d1.ran" ]; do
    i=$((i + 1)); [ $i -le 2400 ] || fail "hull run -d did not return in 240 s: $(cat "$T/d1.err")"
    kill -0 $! 2>/dev/null || [ -s "$T/d1.ran" ] || fail "hull run -d failed: $(cat "$T/d1.err")"
    sleep 0.1
  done
  echo "hull run -d returned after $(($(date +%s) - started)) s"
  expect_status d1 running  # at once: run -d returns only after the start
  pid=$(cat "$T/d1.pid")
  $HULL state d1 | grep -q "\"pid\": $pid," || fail "state's pid is not the --pid-file's $pid: $($HULL state d1)"
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = hull ] || fail "the --pid-file's $pid is not the keeper"
  [ -n "$(live hull-vmm)" ] || fail "no VM for the detached container"
  i=0
  while ! grep -q started "$T/console.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -le 1200 ] || fail "the container's output did not reach the console socket: $(cat "$T/console.out")"
    sleep 0.1
  done
  grep -q "^pty-name /dev/pts/" "$T/console.out" || fail "no pty name came with the master"
  grep -q "^/dev/pts/" "$T/console.out" || fail "the container's stdin is not a terminal"
  $HULL run -d $VMFLAGS --bundle "$b" d1 </dev/null >/dev/null 2>"$T/err" && fail "run -d of an existing id must fail"
  grep -q "container with id exists: d1" "$T/err" || fail "duplicate run -d: $(cat "$T/err")"
  $HULL kill d1 TERM || fail "kill"
  wait_file "$T/d1.exit" 60
  grep -qx "exit 5" "$T/d1.exit" || fail "the keeper's exit status: $(cat "$T/d1.exit"), expected 5"
  expect_status d1 stopped
  $HULL delete d1 || fail "delete"
  check_clean
  awk '{print $2}' /proc/mounts | sort > "$T/mounts.after"
  diff "$T/mounts.before" "$T/mounts.after" || fail "mounts differ after delete (above)" ;;
run-network)
  # The spec joins a network namespace (as Podman/CNI give one): hull mirrors
  # its veth to a tap with tc, hull-vmm runs in it, the guest takes the veth's
  # address. Ping and TCP both ways, then nothing of hull stays in the namespace.
  [ -e /var/run ] || ln -s /run /var/run
  # The shell prefers busybox's applets to PATH: name iproute2's programs.
  real() { ( IFS=:; for d in $PATH; do [ -x "$d/$1" ] && [ ! -L "$d/$1" ] && { echo "$d/$1"; exit 0; }; done; exit 1 ) \
    || fail "no $1 but busybox's on PATH"; }
  ip=$(real ip); tc=$(real tc); nsenter=$(real nsenter)
  ns=hullcli; nsp=/var/run/netns/$ns
  in_ns() { $nsenter --net=$nsp "$@"; }
  $ip netns add $ns || fail "ip netns add"
  $ip link add hveth1 type veth peer name eth0 netns $ns || fail "veth pair"
  $ip addr add 10.89.0.1/24 dev hveth1 && $ip link set hveth1 up || fail "host end"
  in_ns $ip addr add 10.89.0.2/24 dev eth0 && in_ns $ip link set eth0 up && in_ns $ip link set lo up || fail "pod end"
  mac=$(in_ns $ip -br link show dev eth0 | awk '{print $3}')
  b=$(bundle_running sh -c 'ip addr show eth0; ping -c 2 -W 10 10.89.0.1 && echo PING-OK; echo hello-from-vm | nc -w 10 10.89.0.1 7777; echo sent; nc -l -p 7778; echo received')
  sed -i "s|\"type\": \"network\"|\"type\": \"network\", \"path\": \"$nsp\"|; s|\"CAP_KILL\",|\"CAP_KILL\", \"CAP_NET_RAW\",|" "$b/config.json"
  grep -q "\"path\": \"$nsp\"" "$b/config.json" || fail "could not put the namespace path into the spec"
  nc -l -p 7777 > "$T/from-vm" &
  srv=$!
  $HULL_BOUNDED run $VMFLAGS --bundle "$b" n1 >"$T/n1.out" 2>"$T/n1.err" </dev/null &
  run=$!
  i=0
  while ! grep -q sent "$T/n1.out"; do
    i=$((i + 1)); [ $i -le 2400 ] || fail "the container did not get to its TCP server: $(cat "$T/n1.out" "$T/n1.err")"
    kill -0 $run 2>/dev/null || fail "hull run ended early: $(cat "$T/n1.out" "$T/n1.err")"
    sleep 0.1
  done
  in_ns $ip link show hulltap0 >/dev/null || fail "no tap in the namespace while the container runs"
  in_ns $tc filter show dev eth0 ingress > "$T/filters"
  grep -q "mirred.*hulltap0" "$T/filters" || fail "no mirred redirect from eth0 to the tap: $(cat "$T/filters")"
  i=0
  until echo hello-to-vm | nc -w 5 10.89.0.2 7778; do
    i=$((i + 1)); [ $i -lt 60 ] || fail "cannot connect to the container's 10.89.0.2:7778"; sleep 0.5
  done
  wait $run; rc=$?
  kill $srv 2>/dev/null
  cat "$T/n1.out" "$T/n1.err"
  [ $rc -eq 0 ] || fail "hull run exited $rc"
  grep -q "inet 10.89.0.2/24" "$T/n1.out" || fail "the guest NIC lacks the veth's address"
  grep -qi "link/ether $mac" "$T/n1.out" || fail "the guest NIC lacks the veth's MAC $mac"
  grep -qx PING-OK "$T/n1.out" || fail "the container could not ping 10.89.0.1"
  [ "$(cat "$T/from-vm")" = hello-from-vm ] || fail "the host end got '$(cat "$T/from-vm")' from the container"
  grep -qx hello-to-vm "$T/n1.out" || fail "the container did not get the host's TCP message"
  in_ns $ip link show > "$T/links"; in_ns $tc qdisc show > "$T/qdiscs"
  ! grep -q hulltap "$T/links" || fail "a tap is left in the namespace: $(cat "$T/links")"
  ! grep -q ingress "$T/qdiscs" || fail "an ingress qdisc (tc filters) is left: $(cat "$T/qdiscs")"
  in_ns $ip -br addr show dev eth0 | grep -q 10.89.0.2/24 || fail "the veth lost its address"
  echo "step: run -d in the namespace, killed, deleted"
  b2=$(bundle_running sleep 1000)
  sed -i "s|\"type\": \"network\"|\"type\": \"network\", \"path\": \"$nsp\"|" "$b2/config.json"
  $HULL_BOUNDED run -d $VMFLAGS --bundle "$b2" n2 </dev/null >/dev/null 2>"$T/n2.err" || fail "run -d: $(cat "$T/n2.err")"
  in_ns $ip link show hulltap0 >/dev/null || fail "no tap for the detached container"
  grep -q '"netns"' "$ROOT/n2/state.json" || fail "state.json does not record the mirrors"
  $HULL delete --force n2 || fail "delete --force"
  in_ns $ip link show > "$T/links"; in_ns $tc qdisc show > "$T/qdiscs"
  ! grep -q hulltap "$T/links" || fail "a tap is left after delete: $(cat "$T/links")"
  ! grep -q ingress "$T/qdiscs" || fail "an ingress qdisc is left after delete: $(cat "$T/qdiscs")"
  $ip netns del $ns
  check_clean
  echo "ping and TCP both ways through the tc mirror; no tap or tc filter left" ;;
*) echo "cases.sh: unknown case $1" >&2; exit 2 ;;
esac
rm -rf "$T"
echo "PASS: $1"
