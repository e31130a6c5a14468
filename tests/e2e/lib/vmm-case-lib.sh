# Helpers shared by the hull-vmm case scripts of the e2e suites vmm_x86,
# virtio_x86, vmm_aarch64, jailer_x86 and hostile_guest (POSIX sh: it runs
# in the nested L1's busybox). Each suite's run-case ships this file beside
# its cases.sh as $E2E/vmm-case-lib.sh (/e2e in the L1); cases.sh sets
#   name     the case (for PASS/FAIL/SKIP lines)
#   W        its work directory
#   LOG, CONSOLE  hull-vmm's log and the guest console, where it has them
# and sources it. fail() prints what the suite's show_logs() shows (each
# suite defines its own: which logs matter differs), then exits 1.
# vmm_pid and bg_pid are the processes the case started (empty: none).

vmm_pid=""
bg_pid=""

fail() {
  echo "FAIL [$name]: $*"
  show_logs
  exit 1
}
# The suffix says the seccomp filters were really installed when the case
# ran with HULL_VMM_FLAGS=--seccomp (hull-vmm logs it).
pass() { echo "PASS [$name]: $*${HULL_VMM_FLAGS:+ (hull-vmm $HULL_VMM_FLAGS: $(grep -o 'seccomp filters installed' "${LOG:-/dev/null}" 2>/dev/null | head -n 1))}"; exit 0; }
skip() { echo "SKIP [$name]: $*"; exit 77; }

# HULL_VMM_FLAGS (e.g. --seccomp): extra flags for every hull-vmm the case
# starts, through a wrapper first on PATH (same pid: it execs).
wrap_hull_vmm() {
  [ -n "${HULL_VMM_FLAGS:-}" ] || return 0
  mkdir -p "$W/bin"
  printf '#!/bin/sh\nexec %s %s "$@"\n' "$(command -v hull-vmm)" "$HULL_VMM_FLAGS" > "$W/bin/hull-vmm"
  chmod +x "$W/bin/hull-vmm"
  PATH=$W/bin:$PATH
}

# Kills what the case started; the suites' EXIT traps call it.
kill_started() {
  for p in $vmm_pid $bg_pid; do kill -9 "$p" 2>/dev/null; done
  return 0
}

wait_for() {  # FILE PATTERN SECONDS: 0 once FILE has a line matching PATTERN
  i=0
  while [ $i -lt $(($3 * 10)) ]; do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}
console_has() { grep -q "$1" "$CONSOLE" || fail "guest console lacks '$1'"; }

wait_pid() {  # PID SECONDS WHAT: waits for the process (fails after SECONDS), sets $rc
  i=0
  while kill -0 "$1" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt $(($2 * 10)) ] || fail "$3 still running after $2 s"
    sleep 0.1
  done
  wait "$1"; rc=$?
}
wait_exit() {  # SECONDS: waits for $vmm_pid, sets $rc
  wait_pid "$vmm_pid" "$1" hull-vmm
  vmm_pid=""
}

# hull-vmm from the config file $W/vm.json, to completion (sets $rc) or in
# the background ($vmm_pid).
run_vmm() {
  timeout 400 hull-vmm --config-file "$W/vm.json" --no-console-input --console-output "$CONSOLE" 2>"$LOG"
  rc=$?
}
start_vmm() {
  hull-vmm --config-file "$W/vm.json" --no-console-input --console-output "$CONSOLE" 2>"$LOG" &
  vmm_pid=$!
}

# wait_api_socket SOCKET SECONDS: until $vmm_pid (hull-vmm, or the jailer
# that becomes it) serves its API there; fails if it exits first.
wait_api_socket() {
  i=0
  until [ -S "$1" ]; do
    kill -0 "$vmm_pid" 2>/dev/null || { wait "$vmm_pid"; fail "hull-vmm exited ($?) before its API socket $1 appeared"; }
    i=$((i + 1)); [ $i -lt $(($2 * 10)) ] || fail "no API socket at $1 after $2 s"
    sleep 0.1
  done
}
