#!/bin/sh
# hull-vmm e2e cases. Runs inside the nested L1 (busybox sh) or on a host with
# hardware KVM, with hull-vmm and curl on PATH and the guest files in $E2E
# (default /e2e): kernel, initrd.cpio (from make-initramfs), kernel.config
# (the kernel's .config, optional), vmlinux (the same kernel as an ELF, for
# boot-vmlinux). usage: cases.sh CASE
# Exit: 0 pass, 1 fail, 77 skipped (the kernel lacks what the case needs).
set -u
name=${1:?usage: cases.sh CASE}
E2E=${E2E:-/e2e}
K=$E2E/kernel
I=$E2E/initrd.cpio
W=$(mktemp -d /tmp/vmm-e2e.XXXXXX)
CONSOLE=$W/console.log
LOG=$W/vmm.log
SOCK=$W/api.sock
. "$E2E/vmm-case-lib.sh"
wrap_hull_vmm
trap kill_started EXIT
show_logs() {
  echo "--- hull-vmm log:"; cat "$LOG" 2>/dev/null
  echo "--- guest console (last 25 lines):"; tail -n 25 "$CONSOLE" 2>/dev/null
}

# write_config FILE VCPUS MODE [MEM_MIB] [BOOT_ARGS_EXTRA]
write_config() {
  cat > "$1" <<JSON
{"boot-source": {"kernel_image_path": "$K", "initrd_path": "$I",
   "boot_args": "console=ttyS0 reboot=k panic=1 pci=off quiet rdinit=/init hull_e2e=$3 ${5:-}"},
 "machine-config": {"vcpu_count": $2, "mem_size_mib": ${4:-256}}}
JSON
}

# api METHOD PATH [BODY]: prints the body, then the HTTP status on its own line.
api() {
  if [ $# -ge 3 ]; then
    curl -sS --unix-socket "$SOCK" -X "$1" "http://localhost$2" -H 'Content-Type: application/json' -d "$3" -w '\n%{http_code}\n'
  else
    curl -sS --unix-socket "$SOCK" -X "$1" "http://localhost$2" -w '\n%{http_code}\n'
  fi
}
# expect_api STATUS METHOD PATH [BODY]: fails unless the status matches; leaves the body in $reply.
expect_api() {
  want=$1; shift
  out=$(api "$@") || fail "curl $* failed"
  status=$(echo "$out" | tail -n 1)
  reply=$(echo "$out" | sed '$d')
  [ "$status" = "$want" ] || fail "$* -> HTTP $status (wanted $want): $reply"
}

start_api_vmm() {
  hull-vmm --api-sock "$SOCK" --no-console-input --console-output "$CONSOLE" "$@" 2>"$LOG" &
  vmm_pid=$!
  wait_api_socket "$SOCK" 10
}

kernel_has() { [ -f "$E2E/kernel.config" ] && grep -q "^$1=y" "$E2E/kernel.config"; }

boot_config_file() {
  write_config "$W/vm.json" "$1" run
  run_vmm
  [ $rc = 0 ] || fail "hull-vmm exited $rc (wanted 0: the guest rebooted)"
  grep -q "HULL_E2E_INIT cpus=$1" "$CONSOLE" || fail "guest init did not report $1 CPU(s)"
  grep -q "guest init reached at [0-9]* ms after InstanceStart" "$LOG" || fail "no boot marker logged"
  grep -q "guest reset (reboot)" "$LOG" || fail "stop reason not logged"
  pass "$1 vCPU(s): $(grep -o 'guest init reached at [0-9]* ms' "$LOG")"
}

case "$name" in
  seccomp)
    # The per-thread seccomp filters allow boots (1 and 2 vCPUs), the API
    # after InstanceStart (pause/resume, SendCtrlAltDel) and a guest panic:
    # each case again with --seccomp. That a forbidden call kills hull-vmm
    # with SIGSYS: tests/unit/vmm/seccomp_thread_filter_test.cc (real filters).
    for c in boot-1cpu boot-2cpu pause-resume ctrl-alt-del panic; do
      HULL_VMM_FLAGS=--seccomp sh "$0" "$c" > "$W/$c.out" 2>&1
      r=$?
      [ $r = 0 ] || { cat "$W/$c.out"; fail "case $c with --seccomp exited $r"; }
      grep -q "seccomp filters installed" "$W/$c.out" || { cat "$W/$c.out"; fail "case $c: hull-vmm did not log that its filters are installed"; }
    done
    pass "boot-1cpu, boot-2cpu, pause-resume, ctrl-alt-del, panic with --seccomp" ;;

  boot-1cpu) boot_config_file 1 ;;
  boot-2cpu)
    kernel_has CONFIG_X86_MPPARSE || [ ! -f "$E2E/kernel.config" ] || skip "kernel without CONFIG_X86_MPPARSE sees one CPU"
    boot_config_file 2 ;;

  boot-vmlinux)
    [ -f "$E2E/vmlinux" ] || skip "no vmlinux given"
    K=$E2E/vmlinux
    boot_config_file 1 ;;

  pause-resume)
    start_api_vmm
    expect_api 200 GET /
    echo "$reply" | grep -q '"Not started"' || fail "GET / before start: $reply"
    expect_api 204 PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 256}'
    expect_api 204 PUT /boot-source "{\"kernel_image_path\": \"$K\", \"initrd_path\": \"$I\", \"boot_args\": \"console=ttyS0 reboot=k panic=1 pci=off quiet rdinit=/init hull_e2e=wait\"}"
    expect_api 204 PUT /actions '{"action_type": "InstanceStart"}'
    expect_api 400 PUT /actions '{"action_type": "InstanceStart"}'
    echo "$reply" | grep -q "already running" || fail "second InstanceStart: $reply"
    wait_for "$CONSOLE" "HULL_E2E_TICK 2" 240 || fail "guest did not start ticking"
    expect_api 204 PATCH /vm '{"state": "Paused"}'
    expect_api 200 GET /
    echo "$reply" | grep -q '"Paused"' || fail "GET / while paused: $reply"
    sleep 0.5
    before=$(grep -c HULL_E2E_TICK "$CONSOLE")
    sleep 3
    after=$(grep -c HULL_E2E_TICK "$CONSOLE")
    [ "$before" = "$after" ] || fail "guest ran while paused ($before -> $after ticks)"
    expect_api 204 PATCH /vm '{"state": "Resumed"}'
    i=0
    while [ "$(grep -c HULL_E2E_TICK "$CONSOLE")" -le "$after" ]; do
      i=$((i + 1)); [ $i -lt 600 ] || fail "guest did not run again after Resumed"
      sleep 0.1
    done
    expect_api 200 GET /vm/config
    echo "$reply" | grep -q '"vcpu_count":1' || fail "GET /vm/config: $reply"
    kill -TERM "$vmm_pid"
    wait_exit 30
    [ $rc = 143 ] || fail "SIGTERM exit status $rc"
    [ ! -e "$SOCK" ] || fail "API socket left behind"
    pass "paused for 3 s with $after ticks, resumed; SIGTERM removed the socket" ;;

  ctrl-alt-del)
    [ ! -f "$E2E/kernel.config" ] || kernel_has CONFIG_SERIO_I8042 || skip "kernel has no i8042 driver (CONFIG_SERIO_I8042)"
    [ ! -f "$E2E/kernel.config" ] || kernel_has CONFIG_KEYBOARD_ATKBD || skip "kernel has no AT keyboard driver"
    write_config "$W/vm.json" 1 wait
    start_api_vmm --config-file "$W/vm.json"
    wait_for "$CONSOLE" "HULL_E2E_TICK 1" 240 || fail "guest did not start ticking"
    expect_api 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
    wait_exit 120
    [ $rc = 0 ] || fail "exit status $rc after Ctrl-Alt-Del (wanted 0)"
    grep -q "guest reset" "$LOG" || fail "no reset logged"
    [ ! -e "$SOCK" ] || fail "API socket left behind"
    pass "guest rebooted on Ctrl-Alt-Del, exit 0" ;;

  panic)
    write_config "$W/vm.json" 1 run 256 "rdinit=/nonexistent"
    run_vmm
    [ $rc = 3 ] || fail "exit status $rc after a guest panic (wanted 3)"
    grep -q "kernel panic" "$LOG" || fail "panic not named in the log"
    pass "guest panic -> exit 3" ;;

  bad-input)
    # Each bad input: a clear message, non-zero exit, and no API socket left.
    expect_fail() {  # WORDS CONFIG-FILE-TEXT
      echo "$2" > "$W/bad.json"
      hull-vmm --config-file "$W/bad.json" --no-console-input --console-output "$CONSOLE" >"$W/out" 2>&1
      r=$?
      [ $r -ne 0 ] || fail "accepted: $2"
      grep -q "$1" "$W/out" || { cat "$W/out"; fail "message for [$2] does not say '$1'"; }
    }
    B="\"initrd_path\": \"$I\""
    expect_fail "No such file" '{"boot-source": {"kernel_image_path": "/nonexistent/vmlinuz"}}'
    expect_fail "not a Linux kernel" "{\"boot-source\": {\"kernel_image_path\": \"$I\"}}"
    dd if=/dev/zero of="$W/huge.cpio" bs=1M count=100 2>/dev/null
    expect_fail "does not fit" "{\"boot-source\": {\"kernel_image_path\": \"$K\", \"initrd_path\": \"$W/huge.cpio\"}, \"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 64}}"
    expect_fail "mem_size_mib" "{\"boot-source\": {\"kernel_image_path\": \"$K\", $B}, \"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 0}}"
    expect_fail "more than this host has" "{\"boot-source\": {\"kernel_image_path\": \"$K\", $B}, \"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 100000000}}"
    expect_fail "vcpu_count" "{\"boot-source\": {\"kernel_image_path\": \"$K\", $B}, \"machine-config\": {\"vcpu_count\": 0, \"mem_size_mib\": 128}}"
    expect_fail "vcpu_count" "{\"boot-source\": {\"kernel_image_path\": \"$K\", $B}, \"machine-config\": {\"vcpu_count\": 300, \"mem_size_mib\": 128}}"
    expect_fail "'vcpus'" "{\"boot-source\": {\"kernel_image_path\": \"$K\", $B}, \"machine-config\": {\"vcpus\": 1, \"mem_size_mib\": 128}}"
    expect_fail "not valid JSON" '{"boot-source": '
    touch "$W/taken.sock"
    hull-vmm --api-sock "$W/taken.sock" >"$W/out" 2>&1 && fail "accepted an existing socket path"
    grep -q "already exists" "$W/out" || fail "existing socket message: $(cat "$W/out")"
    [ -f "$W/taken.sock" ] || fail "removed someone else's file"
    # Over the API: errors are fault messages, and a failed start leaks nothing.
    start_api_vmm
    expect_api 400 PUT /machine-config '{"vcpu_count": 1,'
    echo "$reply" | grep -q '"fault_message"' || fail "no fault_message: $reply"
    expect_api 400 PUT /boot-source '{"kernel_image_path": "/k", "colour": "red"}'
    echo "$reply" | grep -q "colour" || fail "unknown field not named: $reply"
    expect_api 204 PUT /boot-source '{"kernel_image_path": "/nonexistent/vmlinuz"}'
    # The first attempt opens /dev/kvm (kept for later); from then on a failed
    # start must leave exactly what it found.
    expect_api 400 PUT /actions '{"action_type": "InstanceStart"}'
    echo "$reply" | grep -q "No such file" || fail "InstanceStart with a missing kernel: $reply"
    fds_before=$(ls /proc/$vmm_pid/fd | wc -l); threads_before=$(ls /proc/$vmm_pid/task | wc -l)
    expect_api 400 PUT /actions '{"action_type": "InstanceStart"}'
    fds_after=$(ls /proc/$vmm_pid/fd | wc -l); threads_after=$(ls /proc/$vmm_pid/task | wc -l)
    [ "$fds_before" = "$fds_after" ] || fail "fds leaked by a failed InstanceStart: $fds_before -> $fds_after"
    [ "$threads_before" = "$threads_after" ] || fail "threads leaked: $threads_before -> $threads_after"
    expect_api 200 GET /
    echo "$reply" | grep -q '"Not started"' || fail "state after a failed start: $reply"
    kill -TERM "$vmm_pid"; wait_exit 10
    [ ! -e "$SOCK" ] || fail "API socket left behind"
    pass "every bad input refused with a clear message; nothing leaked" ;;

  *) echo "cases.sh: unknown case $name" >&2; exit 2 ;;
esac
