#!/bin/sh
# hull-jailer e2e cases. Runs as root inside the nested L1 (busybox sh) or on
# a host with hardware KVM, with hull-vmm, hull-jailer, vsock-tool and curl
# on PATH and the guest files in $E2E (default /e2e): kernel, initrd.cpio
# (tests/e2e/virtio_x86/make-initramfs). usage: cases.sh CASE
# Exit: 0 pass, 1 fail, 77 skipped.
set -u
name=${1:?usage: cases.sh CASE}
E2E=${E2E:-/e2e}
K=$E2E/kernel
I=$E2E/initrd.cpio
W=$(mktemp -d /tmp/jail-e2e.XXXXXX)
RUN=$W/run                      # the VMM's socket dir (same path inside the jail)
BASE=$W/jail                    # on the same file system as $W: rw.img is hard-linked in
ID=e2e-$$
VMM_UID=1879048200              # 0x70000008: the shim's per-VM uid range
ROOT=$BASE/hull-vmm/$ID/root    # the VMM's "/"
CG=/sys/fs/cgroup/hull-vmm/$ID
LOG=$W/jailer.log
VMM=$(command -v hull-vmm)
JAILER=$(command -v hull-jailer)
VMM=$(cd "$(dirname "$VMM")" && pwd -P)/$(basename "$VMM")
. "$E2E/vmm-case-lib.sh"

cleanup() {
  kill_started
  "$JAILER" --cleanup --id "$ID" --exec-file "$VMM" --chroot-base "$BASE" 2>/dev/null
}
trap cleanup EXIT
show_logs() {
  echo "--- jailer + hull-vmm log:"; cat "$LOG" 2>/dev/null
  echo "--- guest console (HULL_E2E lines and last 30 lines):"
  grep HULL_E2E "$ROOT$RUN/console.log" 2>/dev/null; tail -n 30 "$ROOT$RUN/console.log" 2>/dev/null
}
status() { grep "^$1:" "/proc/$vmm_pid/status" | cut -f2- | tr '\t' ' '; }
api() {  # METHOD PATH BODY: fails the case unless 2xx
  code=$(curl -s --unix-socket "$ROOT$RUN/api.sock" -X "$1" -H 'Content-Type: application/json' \
    -d "$3" -o "$W/resp" -w '%{http_code}' "http://localhost$2")
  case "$code" in 2*) ;; *) fail "$1 $2 answered $code: $(cat "$W/resp")" ;; esac
}
# start_jailed MODE [DRIVES...]: the VMM under the jailer with its API socket
# in $RUN, configured through the API like the shim does; the rw image is
# linked into the jail (as the shim's ExposeFile does) and given to the uid.
start_jailed() {
  mode=$1
  "$JAILER" --id "$ID" --exec-file "$VMM" --uid $VMM_UID --gid $VMM_UID --chroot-base "$BASE" \
    --socket-dir "$RUN" --file "$K" --file "$I" --file "$W/ro.img" --memory-max 805306368 --pids-max 128 -- \
    --api-sock "$RUN/api.sock" --seccomp --no-console-input --console-output "$RUN/console.log" > "$LOG" 2>&1 &
  vmm_pid=$!
  wait_api_socket "$ROOT$RUN/api.sock" 30
  ln "$W/rw.img" "$ROOT$W/rw.img" && chown $VMM_UID:$VMM_UID "$W/rw.img" || fail "cannot link rw.img into the jail"
  api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 256}'
  api PUT /boot-source "{\"kernel_image_path\": \"$K\", \"initrd_path\": \"$I\",
    \"boot_args\": \"console=ttyS0 reboot=k panic=1 pci=off quiet rdinit=/init hull_e2e=$mode\"}"
  api PUT /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$W/rw.img\", \"is_root_device\": false, \"is_read_only\": false}"
  api PUT /drives/ro "{\"drive_id\": \"ro\", \"path_on_host\": \"$W/ro.img\", \"is_root_device\": false, \"is_read_only\": true}"
  api PUT /vsock "{\"guest_cid\": 3, \"uds_path\": \"$RUN/v.sock\"}"
  api PUT /actions '{"action_type": "InstanceStart"}'
}
# Nothing of the jail may be left: directory, cgroup, mounts in our namespace.
check_clean() {
  "$JAILER" --cleanup --id "$ID" --exec-file "$VMM" --chroot-base "$BASE" || fail "--cleanup failed"
  [ ! -e "$BASE/hull-vmm/$ID" ] || fail "the jail $BASE/hull-vmm/$ID is still there"
  [ ! -e "$CG" ] || fail "the cgroup $CG is still there"
  ! grep -q "$BASE" /proc/self/mountinfo || fail "a jail mount leaked into the host's namespace: $(grep "$BASE" /proc/self/mountinfo)"
  [ -f "$W/ro.img" ] && [ -f "$W/rw.img" ] || fail "cleanup removed the host's drive images"
}

[ "$(id -u)" = 0 ] || skip "the jailer needs root"
[ -c /dev/kvm ] || skip "no /dev/kvm"
mkdir -p "$RUN"
dd if=/dev/zero of="$W/rw.img" bs=1M count=8 2>/dev/null
dd if=/dev/zero of="$W/ro.img" bs=1M count=1 2>/dev/null
printf 'HULL-HOST-DATA-RW' | dd of="$W/rw.img" conv=notrunc 2>/dev/null
printf 'HULL-HOST-DATA-RO' | dd of="$W/ro.img" conv=notrunc 2>/dev/null

case "$name" in
  confined-boot)
    # Bad input first: nothing may be created.
    "$JAILER" --id ../escape --exec-file "$VMM" --uid $VMM_UID --gid $VMM_UID --chroot-base "$BASE" -- --help > "$W/bad" 2>&1 \
      && fail "the jailer accepted --id ../escape"
    grep -q "must not start with" "$W/bad" || fail "no clear error for --id ../escape: $(cat "$W/bad")"
    "$JAILER" --id "$ID" --exec-file "$VMM" --uid 0 --gid 0 --chroot-base "$BASE" -- --help > "$W/bad" 2>&1 \
      && fail "the jailer accepted uid 0"
    [ ! -e "$BASE/hull-vmm/$ID" ] || fail "a refused start left $BASE/hull-vmm/$ID"

    # 1. vsock both ways (8 MiB in, 64 MiB out: the guest half is fixed) with blk attached; while it runs, inspect the VMM.
    vsock_listener_dir=$ROOT$RUN
    start_jailed vsock
    vsock-tool listen-unix "$vsock_listener_dir/v.sock_6000" recv > "$W/g2h" 2>&1 &
    bg_pid=$!
    i=0; until [ -S "$vsock_listener_dir/v.sock_6000" ] || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
    chmod 666 "$vsock_listener_dir/v.sock_6000"   # the unprivileged VMM connects to it
    wait_for "$ROOT$RUN/console.log" HULL_E2E_VSOCK_LISTENING 300 || fail "guest vsock listener did not start"
    [ "$(readlink /proc/$vmm_pid/exe)" = "$VMM" ] || fail "pid $vmm_pid is not hull-vmm: $(readlink /proc/$vmm_pid/exe)"
    uid=$(status Uid); gid=$(status Gid); capeff=$(status CapEff); capbnd=$(status CapBnd)
    nnp=$(status NoNewPrivs); sec=$(status Seccomp)
    [ "$uid" = "$VMM_UID $VMM_UID $VMM_UID $VMM_UID" ] || fail "Uid: $uid"
    [ "$gid" = "$VMM_UID $VMM_UID $VMM_UID $VMM_UID" ] || fail "Gid: $gid"
    [ "$capeff" = 0000000000000000 ] || fail "CapEff: $capeff"
    [ "$capbnd" = 0000000000000000 ] || fail "CapBnd: $capbnd"
    [ "$nnp" = 1 ] || fail "NoNewPrivs: $nnp"
    [ "$sec" = 2 ] || fail "Seccomp: $sec (filter mode expected)"
    # Every thread, the disk workers included, runs under its own filter.
    threads_filtered=0 unfiltered=""
    for t in /proc/$vmm_pid/task/*; do
      if grep -q '^Seccomp:[[:space:]]*2' "$t/status"; then threads_filtered=$((threads_filtered + 1))
      else unfiltered="$unfiltered $(cat "$t/comm")[${t##*/}]"; fi
    done
    [ -z "$unfiltered" ] || fail "hull-vmm threads without a seccomp filter:$unfiltered"
    seen=$(ls /proc/$vmm_pid/root | tr '\n' ' ')
    [ -c "/proc/$vmm_pid/root/dev/kvm" ] || fail "no /dev/kvm in the jail (root holds: $seen)"
    [ ! -e "/proc/$vmm_pid/root/etc" ] && [ ! -e "/proc/$vmm_pid/root/proc/self" ] || fail "the VMM's root is not the jail: $seen"
    [ -f "/proc/$vmm_pid/root$K" ] || fail "the kernel is not in the jail"
    grep -qx "$vmm_pid" "$CG/cgroup.procs" || fail "hull-vmm is not in its cgroup $CG"
    [ "$(cat "$CG/memory.max")" = 805306368 ] && [ "$(cat "$CG/pids.max")" = 128 ] || fail "cgroup limits not set"
    vsock-tool connect-hybrid "$ROOT$RUN/v.sock" 5000 send 8388608 > "$W/h2g" 2>&1 || { cat "$W/h2g"; fail "host -> guest transfer"; }
    wait_exit 300
    [ $rc = 0 ] || fail "hull-vmm exited $rc"
    grep -q VSOCK-MATCH "$W/h2g" || fail "host -> guest: $(cat "$W/h2g")"
    grep -q "HULL_E2E_G2H rc=0 VSOCK-MATCH" "$ROOT$RUN/console.log" || fail "guest -> host transfer"
    grep -q "seccomp filters installed" "$ROOT$RUN/console.log" "$LOG" || fail "hull-vmm did not log its seccomp filters"
    vsock_rate="h2g $(grep -o '([0-9.]* MiB/s)' "$W/h2g")"
    check_clean

    # 2. virtio-blk: read host data, write that the host reads back, ro refused.
    ro_before=$(md5sum < "$W/ro.img")
    start_jailed blk
    wait_exit 300
    [ $rc = 0 ] || fail "hull-vmm exited $rc"
    C=$ROOT$RUN/console.log
    for l in "HULL_E2E_VDA_SECTOR0 HULL-HOST-DATA-RW" "HULL_E2E_VDB_SECTOR0 HULL-HOST-DATA-RO" \
             HULL_E2E_VDB_WRITE_REFUSED HULL_E2E_BIG_READBACK_OK; do
      grep -q "$l" "$C" || fail "guest console lacks '$l'"
    done
    wrote=$(grep -o 'HULL_E2E_VDA_WROTE [^ ]*' "$C" | head -n 1 | cut -d' ' -f2 | tr -d '\r')
    on_disk=$(dd if="$W/rw.img" bs=512 skip=8 count=1 2>/dev/null | tr -d '\000\n')
    [ -n "$wrote" ] && [ "$on_disk" = "$wrote" ] || fail "host reads '$on_disk' at sector 8, guest wrote '$wrote'"
    [ "$(md5sum < "$W/ro.img")" = "$ro_before" ] || fail "the read-only image changed"
    check_clean
    pass "jailed hull-vmm (uid $VMM_UID, CapEff 0, CapBnd 0, NoNewPrivs 1, Seccomp 2 on $threads_filtered threads, root = jail: $seen, cgroup memory/pids limits): vsock 8 MiB host->guest ($vsock_rate), 64 MiB guest->host, blk read/write/ro-refused; bad id and uid 0 refused; after exit + --cleanup no jail, cgroup or mount left" ;;
  *) echo "unknown case $name"; exit 2 ;;
esac
