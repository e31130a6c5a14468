#!/bin/sh
# hull-vmm arm64 e2e cases, inside the aarch64 nested L1 (busybox sh) with
# hull-vmm and vsock-tool (both arm64) on PATH and in $E2E (default /e2e):
# kernel (the arm64 Image), guest-init. The guest initramfs is packed here
# from the L1's own arm64 busybox. usage: cases.sh CASE
# Exit: 0 pass, 1 fail, 77 skipped.
set -u
name=${1:?usage: cases.sh CASE}
E2E=${E2E:-/e2e}
K=$E2E/kernel
W=$(mktemp -d /tmp/vmm-arm64-e2e.XXXXXX)
I=$W/initrd.cpio
CONSOLE=$W/console.log
LOG=$W/vmm.log
. "$E2E/vmm-case-lib.sh"
wrap_hull_vmm
trap kill_started EXIT
show_logs() {
  echo "--- hull-vmm log:"; cat "$LOG" 2>/dev/null
  echo "--- guest console (last 30 lines):"; tail -n 30 "$CONSOLE" 2>/dev/null
}

make_initrd() {
  root=$W/root
  mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  cp "$(command -v vsock-tool)" "$root/bin/vsock-tool"
  for applet in sh mount echo cat sleep reboot devmem nproc grep dd tr cmp sync ip ping nc md5sum cut timeout; do
    ln -s busybox "$root/bin/$applet"
  done
  cp "$E2E/guest-init" "$root/init"
  chmod 755 "$root/init"
  (cd "$root" && busybox find . | busybox cpio -o -H newc 2>/dev/null) > "$I" || fail "packing the initramfs"
}
make_initrd

# write_config VCPUS MODE [MEM_MIB] [EXTRA_SECTIONS]
write_config() {
  cat > "$W/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$K", "initrd_path": "$I",
   "boot_args": "console=ttyAMA0 panic=1 quiet rdinit=/init hull_e2e=$2"},
 "machine-config": {"vcpu_count": $1, "mem_size_mib": ${3:-256}}${4:-}}
JSON
}
boot() {  # VCPUS
  write_config "$1" run
  run_vmm
  [ $rc = 0 ] || fail "hull-vmm exited $rc (wanted 0: the guest rebooted)"
  console_has "HULL_E2E_INIT cpus=$1"
  grep -q "guest init reached at [0-9]* ms after InstanceStart" "$LOG" || fail "no boot marker logged"
  grep -q "guest reset (reboot)" "$LOG" || fail "stop reason not logged"
  pass "$1 vCPU(s): $(grep -o 'guest init reached at [0-9]* ms' "$LOG")"
}

case "$name" in
  boot-1cpu) boot 1 ;;
  boot-2cpu) boot 2 ;;

  seccomp)
    # boot (2 vCPUs), blk and vsock again with the per-thread seccomp filters.
    for c in boot-2cpu blk vsock; do
      HULL_VMM_FLAGS=--seccomp sh "$0" "$c" > "$W/$c.out" 2>&1
      r=$?
      [ $r = 0 ] || { cat "$W/$c.out"; fail "case $c with --seccomp exited $r"; }
      grep -q "seccomp filters installed" "$W/$c.out" || { cat "$W/$c.out"; fail "case $c: hull-vmm did not log that its filters are installed"; }
    done
    pass "boot-2cpu, blk, vsock with --seccomp" ;;

  blk)
    dd if=/dev/zero of="$W/rw.img" bs=1M count=8 2>/dev/null
    dd if=/dev/zero of="$W/ro.img" bs=1M count=1 2>/dev/null
    printf 'HULL-HOST-DATA-RW' | dd of="$W/rw.img" conv=notrunc 2>/dev/null
    printf 'HULL-HOST-DATA-RO' | dd of="$W/ro.img" conv=notrunc 2>/dev/null
    ro_before=$(md5sum < "$W/ro.img")
    write_config 1 blk 256 ", \"drives\": [
      {\"drive_id\": \"data\", \"path_on_host\": \"$W/rw.img\", \"is_root_device\": false, \"is_read_only\": false},
      {\"drive_id\": \"ro\", \"path_on_host\": \"$W/ro.img\", \"is_root_device\": false, \"is_read_only\": true}]"
    run_vmm
    [ $rc = 0 ] || fail "hull-vmm exited $rc"
    console_has "HULL_E2E_VDA_SECTOR0 HULL-HOST-DATA-RW"
    console_has "HULL_E2E_VDB_SECTOR0 HULL-HOST-DATA-RO"
    console_has "HULL_E2E_VDB_WRITE_REFUSED"
    console_has "HULL_E2E_BIG_READBACK_OK"
    wrote=$(grep -o 'HULL_E2E_VDA_WROTE [^ ]*' "$CONSOLE" | head -n 1 | cut -d' ' -f2 | tr -d '\r')
    [ -n "$wrote" ] || fail "guest did not report its write"
    on_disk=$(dd if="$W/rw.img" bs=512 skip=8 count=1 2>/dev/null | tr -d '\000\n')
    [ "$on_disk" = "$wrote" ] || fail "host reads '$on_disk' at sector 8, guest wrote '$wrote'"
    [ "$(md5sum < "$W/ro.img")" = "$ro_before" ] || fail "the read-only image changed"
    pass "guest read host data on vda/vdb, wrote '$wrote' that the host reads back, 4 MiB round trip, ro refused" ;;

  vsock)
    write_config 1 vsock 256 ", \"vsock\": {\"guest_cid\": 3, \"uds_path\": \"$W/v.sock\"}"
    vsock-tool listen-unix "$W/v.sock_6000" recv > "$W/g2h" 2>&1 &
    bg_pid=$!
    hull-vmm --config-file "$W/vm.json" --no-console-input --console-output "$CONSOLE" 2>"$LOG" &
    vmm_pid=$!
    wait_for "$CONSOLE" HULL_E2E_VSOCK_LISTENING 300 || fail "guest vsock listener did not start"
    vsock-tool connect-hybrid "$W/v.sock" 5000 send 4194304 > "$W/h2g" 2>&1 || { cat "$W/h2g"; fail "host -> guest transfer"; }
    wait_exit 300
    [ $rc = 0 ] || fail "hull-vmm exited $rc"
    grep -q VSOCK-MATCH "$W/h2g" || fail "host -> guest: $(cat "$W/h2g")"
    console_has "HULL_E2E_G2H rc=0 VSOCK-MATCH"
    grep -q "VSOCK-RECEIVED fnv=.* bytes=4194304" "$W/g2h" || fail "guest -> host listener: $(cat "$W/g2h")"
    pass "4 MiB each way, checksums match" ;;

  net)
    # virtio-net on a tap, as tests/e2e/virtio_x86's net case: ping both
    # ways, offloads negotiated, 64 MiB each way over TCP with md5 checked.
    command -v tunctl >/dev/null || fail "no tunctl (busybox applet) in the L1"
    tunctl -t hulltap0 >/dev/null || fail "tunctl -t hulltap0"
    ip addr add 172.30.0.1/24 dev hulltap0 && ip link set hulltap0 up || fail "configuring hulltap0"
    write_config 1 net 256 ", \"network-interfaces\": [
      {\"iface_id\": \"eth0\", \"host_dev_name\": \"hulltap0\", \"guest_mac\": \"06:00:ac:1e:00:02\"}]"
    timeout 400 nc -l -p 7002 -e md5sum > /dev/null 2>&1 &
    bg_pid=$!
    hull-vmm --config-file "$W/vm.json" --no-console-input --console-output "$CONSOLE" 2>"$LOG" &
    vmm_pid=$!
    wait_for "$CONSOLE" HULL_E2E_NET_UP 300 || fail "guest network did not come up"
    console_has "HULL_E2E_MAC 06:00:ac:1e:00:02"
    console_has "HULL_E2E_PING_OK"
    # CSUM(0) GUEST_CSUM(1) GUEST_TSO4(7) HOST_TSO4(11) MRG_RXBUF(15)
    features=$(grep -o 'HULL_E2E_NET_FEATURES [01]*' "$CONSOLE" | cut -d' ' -f2)
    for bit in 0 1 7 11 15; do
      [ "$(echo "$features" | cut -c$((bit + 1)))" = 1 ] || fail "virtio-net feature bit $bit not negotiated (features $features)"
    done
    dd if=/dev/urandom of="$W/big" bs=1048576 count=64 2>/dev/null
    mine=$(md5sum < "$W/big" | cut -d' ' -f1)
    t0=$(date +%s)
    theirs=$(timeout 300 nc 172.30.0.2 7001 < "$W/big" | cut -d' ' -f1)
    h2g_s=$(($(date +%s) - t0))
    [ "$theirs" = "$mine" ] || fail "host -> guest 64 MiB over TCP: sent md5 $mine, guest got '$theirs'"
    wait_for "$CONSOLE" "HULL_E2E_NET_G2H_" 300 || fail "guest -> host transfer did not finish"
    console_has "HULL_E2E_NET_G2H_MATCH"
    ping -c 3 -W 5 172.30.0.2 > "$W/ping" 2>&1 || { cat "$W/ping"; fail "host cannot ping the guest"; }
    wait_exit 120
    [ $rc = 0 ] || fail "hull-vmm exited $rc"
    pass "pings both ways through the tap; 64 MiB each way over TCP with offloads (features $features), md5 equal on both ends (host->guest ${h2g_s} s)" ;;

  panic)
    write_config 1 "run rdinit=/nonexistent"
    run_vmm
    [ $rc = 3 ] || fail "exit status $rc after a guest panic (wanted 3)"
    grep -q "kernel panic" "$LOG" || fail "panic not named in the log"
    pass "guest panic -> exit 3" ;;

  bad-input)
    expect_fail() {  # WORDS CONFIG-FILE-TEXT
      echo "$2" > "$W/bad.json"
      hull-vmm --config-file "$W/bad.json" --no-console-input --console-output "$CONSOLE" >"$W/out" 2>&1
      r=$?
      [ $r -ne 0 ] || fail "accepted: $2"
      grep -q "$1" "$W/out" || { cat "$W/out"; fail "message for [$2] does not say '$1'"; }
    }
    expect_fail "not an arm64 Image" "{\"boot-source\": {\"kernel_image_path\": \"$I\"}, \"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 128}}"
    expect_fail "2 MiB blocks" "{\"boot-source\": {\"kernel_image_path\": \"$K\", \"initrd_path\": \"$I\"}, \"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 129}}"
    dd if=/dev/zero of="$W/huge.cpio" bs=1M count=100 2>/dev/null
    expect_fail "does not fit" "{\"boot-source\": {\"kernel_image_path\": \"$K\", \"initrd_path\": \"$W/huge.cpio\"}, \"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 64}}"
    pass "bad Image magic, odd memory size, oversized initrd: clear errors, non-zero exit" ;;

  *) echo "cases.sh: unknown case $name" >&2; exit 2 ;;
esac
