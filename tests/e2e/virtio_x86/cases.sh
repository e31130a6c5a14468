#!/bin/sh
# virtio e2e cases for hull-vmm. Runs inside the nested L1 (busybox sh) or on
# a host with hardware KVM, with hull-vmm, vsock-tool and curl on PATH and the
# guest files in $E2E (default /e2e): kernel, initrd.cpio (make-initramfs).
# usage: cases.sh CASE      Exit: 0 pass, 1 fail, 77 skipped.
set -u
name=${1:?usage: cases.sh CASE}
E2E=${E2E:-/e2e}
K=$E2E/kernel
I=$E2E/initrd.cpio
W=$(mktemp -d /tmp/virtio-e2e.XXXXXX)
CONSOLE=$W/console.log
LOG=$W/vmm.log
. "$E2E/vmm-case-lib.sh"
wrap_hull_vmm
trap kill_started EXIT
show_logs() {
  echo "--- hull-vmm log:"; cat "$LOG" 2>/dev/null
  echo "--- guest console (HULL_E2E lines and last 30 lines):"; grep HULL_E2E "$CONSOLE" 2>/dev/null; tail -n 30 "$CONSOLE" 2>/dev/null
}

# write_config MODE EXTRA_SECTIONS (JSON members, each with a leading comma)
write_config() {
  cat > "$W/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$K", "initrd_path": "$I",
   "boot_args": "console=ttyS0 reboot=k panic=1 pci=off quiet rdinit=/init hull_e2e=$1"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 256}$2}
JSON
}
# A hull-vmm that ignores the devices in its config would boot (exit 0)
# despite a missing drive image: then there is nothing to test yet.
probe_virtio() {
  write_config none ", \"drives\": [{\"drive_id\": \"probe\", \"path_on_host\": \"/nonexistent/probe.img\", \"is_root_device\": false}]"
  timeout 300 hull-vmm --config-file "$W/vm.json" --no-console-input --console-output "$CONSOLE" >"$W/probe" 2>&1
  [ $? = 0 ] && skip "this hull-vmm does not attach virtio devices from its config (VirtioDeviceSet is not wired into vmm/main)"
  : > "$CONSOLE"
}
probe_virtio

case "$name" in
  blk)
    dd if=/dev/zero of="$W/rw.img" bs=1M count=8 2>/dev/null
    dd if=/dev/zero of="$W/ro.img" bs=1M count=1 2>/dev/null
    printf 'HULL-HOST-DATA-RW' | dd of="$W/rw.img" conv=notrunc 2>/dev/null
    printf 'HULL-HOST-DATA-RO' | dd of="$W/ro.img" conv=notrunc 2>/dev/null
    ro_before=$(md5sum < "$W/ro.img")
    write_config blk ", \"drives\": [
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

  net)
    command -v tunctl >/dev/null || skip "no tunctl here"
    tunctl -t hulltap0 >/dev/null || fail "tunctl -t hulltap0"
    ip addr add 172.30.0.1/24 dev hulltap0 && ip link set hulltap0 up || fail "configuring hulltap0"
    write_config net ", \"network-interfaces\": [
      {\"iface_id\": \"eth0\", \"host_dev_name\": \"hulltap0\", \"guest_mac\": \"06:00:ac:1e:00:02\"}]"
    command -v md5sum >/dev/null || skip "no md5sum here"
    # guest -> host receiver: md5sum of what arrives goes back to the sender
    timeout 400 nc -l -p 7002 -e md5sum > /dev/null 2>&1 &
    bg_pid=$!
    start_vmm
    wait_for "$CONSOLE" HULL_E2E_NET_UP 300 || fail "guest network did not come up"
    console_has "HULL_E2E_MAC 06:00:ac:1e:00:02"
    console_has "HULL_E2E_PING_OK"
    # Offloads the guest driver accepted: CSUM(0) GUEST_CSUM(1) GUEST_TSO4(7)
    # HOST_TSO4(11) MRG_RXBUF(15), so the bulk transfer below uses them.
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
    pass "guest pinged 172.30.0.1 through the tap, host pinged the guest ($(grep -o '[0-9]* packets received' "$W/ping")); 64 MiB each way over TCP with offloads (features $features), md5 equal on both ends (host->guest ${h2g_s} s)" ;;

  drive-swap)
    # PATCH /drives/{id} on the running VM: a missing image is refused and
    # the guest keeps reading A; a good PATCH makes it read B (larger).
    dd if=/dev/zero of="$W/a.img" bs=1M count=1 2>/dev/null
    dd if=/dev/zero of="$W/b.img" bs=1M count=2 2>/dev/null
    printf 'DISK-A-ORIGINAL' | dd of="$W/a.img" conv=notrunc 2>/dev/null
    printf 'DISK-B-SWAPPED' | dd of="$W/b.img" conv=notrunc 2>/dev/null
    printf 'DISK-B-TAIL' | dd of="$W/b.img" bs=512 seek=4095 conv=notrunc 2>/dev/null
    write_config swap ", \"drives\": [{\"drive_id\": \"data\", \"path_on_host\": \"$W/a.img\", \"is_root_device\": false, \"is_read_only\": false}]"
    hull-vmm --config-file "$W/vm.json" --api-sock "$W/api.sock" --no-console-input --console-output "$CONSOLE" 2>"$LOG" &
    vmm_pid=$!
    patch_drive() {  # PATH; sets $code, body in $W/resp
      code=$(curl -s --unix-socket "$W/api.sock" -X PATCH -H 'Content-Type: application/json' \
        -d "{\"drive_id\": \"data\", \"path_on_host\": \"$1\"}" -o "$W/resp" -w '%{http_code}' http://localhost/drives/data)
    }
    drive_path() { curl -s --unix-socket "$W/api.sock" http://localhost/vm/config | tr -d ' \n' | grep -o '"path_on_host":"[^"]*"' | cut -d'"' -f4; }
    wait_for "$CONSOLE" "HULL_E2E_SWAP_SEEN size=2048 DISK-A-ORIGINAL" 300 || fail "guest did not read disk A"
    patch_drive /nonexistent/b.img
    [ "$code" = 400 ] || fail "PATCH to a missing image answered $code: $(cat "$W/resp")"
    refused=$(cat "$W/resp")
    echo "$refused" | grep -q "nonexistent/b.img" || fail "the 400 does not name the missing image: $refused"
    [ "$(drive_path)" = "$W/a.img" ] || fail "after the failed PATCH the drive's path is '$(drive_path)'"
    printf 'DISK-A-REWRITTEN' | dd of="$W/a.img" conv=notrunc 2>/dev/null
    wait_for "$CONSOLE" "HULL_E2E_SWAP_SEEN size=2048 DISK-A-REWRITTEN" 120 || fail "after the failed PATCH the guest no longer reads A"
    patch_drive "$W/b.img"
    [ "$code" = 204 ] || fail "PATCH to b.img answered $code: $(cat "$W/resp")"
    [ "$(drive_path)" = "$W/b.img" ] || fail "after the PATCH the drive's path is '$(drive_path)'"
    # The guest waits for this mark before it reboots (after its own checks).
    wait_for "$CONSOLE" "HULL_E2E_SWAP_CACHED" 120 || fail "guest did not finish reading B"
    printf 'DISK-B-CHECKED' | dd of="$W/b.img" conv=notrunc 2>/dev/null
    wait_exit 200
    [ $rc = 0 ] || fail "hull-vmm exited $rc"
    console_has "HULL_E2E_SWAP_SEEN size=4096 DISK-B-SWAPPED"
    console_has "HULL_E2E_SWAP_TAIL DISK-B-TAIL"
    console_has "HULL_E2E_SWAP_CACHED DISK-B-SWAPPED"
    console_has "HULL_E2E_SWAP_RELEASED"
    pass "bad PATCH: 400 $refused, guest kept reading A; PATCH to B: guest saw the new size (config change) and B's data: $(grep HULL_E2E_SWAP_SEEN "$CONSOLE" | tr -d '\r' | tr '\n' ';')" ;;

  vsock)
    write_config vsock ", \"vsock\": {\"guest_cid\": 3, \"uds_path\": \"$W/v.sock\"}"
    vsock-tool listen-unix "$W/v.sock_6000" recv > "$W/g2h" 2>&1 &
    bg_pid=$!
    start_vmm
    wait_for "$CONSOLE" HULL_E2E_VSOCK_LISTENING 300 || fail "guest vsock listener did not start"
    vsock-tool connect-hybrid "$W/v.sock" 5000 send 67108864 > "$W/h2g" 2>&1 || { cat "$W/h2g"; fail "host -> guest transfer"; }
    wait_exit 300
    [ $rc = 0 ] || fail "hull-vmm exited $rc"
    grep -q VSOCK-MATCH "$W/h2g" || fail "host -> guest: $(cat "$W/h2g")"
    console_has "HULL_E2E_G2H rc=0 VSOCK-MATCH"
    grep -q "VSOCK-RECEIVED fnv=.* bytes=67108864" "$W/g2h" || fail "guest -> host listener: $(cat "$W/g2h")"
    [ ! -e "$W/v.sock" ] || fail "vsock socket left behind"
    pass "64 MiB each way, checksums match: host->guest $(grep -o 'in [0-9.]* s ([0-9.]* MiB/s)' "$W/h2g"); guest->host $(grep HULL_E2E_G2H "$CONSOLE" | grep -o 'in [0-9.]* s ([0-9.]* MiB/s)')" ;;

  seccomp)
    # The per-thread seccomp filters allow a full boot with block I/O, a
    # drive swap, vsock both ways, the tap and rng: each case again with
    # --seccomp must pass and say the filters were installed. (That a
    # forbidden call kills hull-vmm with SIGSYS is proven with the real
    # filters by tests/unit/vmm/seccomp_thread_filter_test.cc.)
    done_cases=""
    for c in blk drive-swap vsock rng net virtiofs; do
      HULL_VMM_FLAGS=--seccomp sh "$0" "$c" > "$W/$c.out" 2>&1
      r=$?
      [ $r = 77 ] && { done_cases="$done_cases $c(skipped)"; continue; }
      [ $r = 0 ] || { cat "$W/$c.out"; fail "case $c with --seccomp exited $r"; }
      grep -q "seccomp filters installed" "$W/$c.out" || { cat "$W/$c.out"; fail "case $c: hull-vmm did not log that its filters are installed"; }
      done_cases="$done_cases $c"
    done
    pass "with --seccomp:$done_cases" ;;

  rng)
    write_config rng ', "entropy": {}'
    run_vmm
    [ $rc = 0 ] || fail "hull-vmm exited $rc"
    console_has "HULL_E2E_RNG_CURRENT virtio_rng"
    bytes=$(grep -o 'HULL_E2E_RNG_BYTES [0-9a-f]*' "$CONSOLE" | cut -d' ' -f2)
    [ ${#bytes} = 32 ] || fail "guest read '$bytes' from /dev/hwrng"
    pass "guest reads /dev/hwrng from virtio-rng: $bytes" ;;

  balloon)
    # Free page reporting: the guest touches 64 MiB and frees it; hull-vmm's
    # resident guest RAM (GET /balloon/statistics, from mincore) must fall
    # by at least 32 MiB while the guest idles, and the device must count
    # the reported blocks. A PATCH of the target must reach the guest too.
    write_config balloon ', "balloon": {"amount_mib": 0, "deflate_on_oom": true, "free_page_reporting": true}'
    hull-vmm --config-file "$W/vm.json" --api-sock "$W/api.sock" --no-console-input --console-output "$CONSOLE" 2>"$LOG" &
    vmm_pid=$!
    stat_kib() {  # FIELD: a number from GET /balloon/statistics
      curl -s --unix-socket "$W/api.sock" http://localhost/balloon/statistics | tr -d ' \n' |
        grep -o "\"$1\":[0-9]*" | cut -d: -f2
    }
    wait_for "$CONSOLE" HULL_E2E_BALLOON_FILLED 300 || fail "guest did not fill 64 MiB"
    grep -q "HULL_E2E_BALLOON_DRIVER.*virtio_balloon" "$CONSOLE" || fail "the guest kernel bound no virtio_balloon driver (CONFIG_VIRTIO_BALLOON in kernel-config/fragments/virtio.config?)"
    filled=$(stat_kib guest_resident_kib)
    [ -n "$filled" ] || fail "GET /balloon/statistics gave no guest_resident_kib"
    wait_for "$CONSOLE" HULL_E2E_BALLOON_FREED 60 || fail "guest did not free its 64 MiB"
    i=0 now=$filled
    while [ $i -lt 240 ]; do  # reporting runs ~2 s after a free; TCG is slow
      now=$(stat_kib guest_resident_kib)
      [ -n "$now" ] && [ $((filled - now)) -ge 32768 ] && break
      sleep 0.5; i=$((i + 1))
    done
    reported=$(stat_kib reported_kib)
    [ -n "$now" ] && [ $((filled - now)) -ge 32768 ] ||
      fail "guest RAM resident in hull-vmm went from $filled KiB to only $now KiB after the guest freed 64 MiB (reported $reported KiB)"
    [ "${reported:-0}" -ge 32768 ] || fail "the device counted only ${reported:-0} KiB of reported free memory"
    code=$(curl -s --unix-socket "$W/api.sock" -X PATCH -H 'Content-Type: application/json' \
      -d '{"amount_mib": 16}' -o "$W/resp" -w '%{http_code}' http://localhost/balloon)
    [ "$code" = 204 ] || fail "PATCH /balloon answered $code: $(cat "$W/resp")"
    i=0 inflated=0
    while [ $i -lt 120 ]; do
      inflated=$(stat_kib inflated_pages)
      [ "${inflated:-0}" -ge 4096 ] && break
      sleep 0.5; i=$((i + 1))
    done
    [ "${inflated:-0}" -ge 4096 ] || fail "after PATCH /balloon 16 MiB the guest gave only ${inflated:-0} pages"
    kill "$vmm_pid"; wait "$vmm_pid" 2>/dev/null; vmm_pid=""
    pass "guest RAM resident: $filled KiB after the guest touched 64 MiB, $now KiB after it freed them (reported $reported KiB); balloon target 16 MiB: guest gave $inflated pages" ;;

  bad-input)
    expect_fail() {  # WORDS SECTIONS
      write_config none "$2"
      hull-vmm --config-file "$W/vm.json" --no-console-input --console-output "$CONSOLE" >"$W/out" 2>&1
      r=$?
      [ $r -ne 0 ] || fail "accepted: $2"
      grep -q "$1" "$W/out" || { cat "$W/out"; fail "message for [$2] does not say '$1'"; }
    }
    expect_fail "drive 'scratch'" ", \"drives\": [{\"drive_id\": \"scratch\", \"path_on_host\": \"/nonexistent/disk.img\", \"is_root_device\": false}]"
    vsock-tool listen-unix "$W/busy.sock" recv > /dev/null 2>&1 &
    bg_pid=$!
    sleep 0.5
    expect_fail "in use" ", \"vsock\": {\"guest_cid\": 3, \"uds_path\": \"$W/busy.sock\"}"
    expect_fail "longer than" ", \"network-interfaces\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"a-tap-name-far-too-long\"}]"
    pass "missing image, busy vsock path, bad tap name: clear errors, non-zero exit" ;;

  virtiofs)
    # In-VMM virtio-fs: --fs on the command line (share) and the config
    # file's "fs" section (ro, read-only). $W/secret sits beside the share:
    # nothing the guest does may read or change it.
    S=$W/share
    mkdir -p "$S" "$W/ro"
    printf 'HOST-SECRET' > "$W/secret"
    printf 'hello from the host' > "$S/hello.txt"
    printf 'read-only share' > "$W/ro/hello.txt"
    dd if=/dev/urandom of="$S/host.bin" bs=65536 count=16 2>/dev/null
    dd if=/dev/zero of="$S/big.bin" bs=1048576 count=64 2>/dev/null
    : > "$S/delete-me"
    ln -s ../secret "$S/link-out"
    ln -s "$W/secret" "$S/abs-link"
    host_md5=$(md5sum < "$S/host.bin" | cut -d' ' -f1)
    write_config virtiofs ", \"drives\": [{\"drive_id\": \"big\", \"path_on_host\": \"$S/big.bin\", \"is_root_device\": false, \"is_read_only\": true}],
      \"fs\": [{\"tag\": \"ro\", \"path\": \"$W/ro\", \"read_only\": true}]"
    # Bad input first: a missing directory and a duplicate tag are refused.
    hull-vmm --config-file "$W/vm.json" --fs tag=share,path=/nonexistent/share --no-console-input >"$W/bad1" 2>&1 && fail "a missing share directory was accepted"
    grep -q "/nonexistent/share" "$W/bad1" || fail "missing share: the error does not name it: $(cat "$W/bad1")"
    hull-vmm --config-file "$W/vm.json" --fs tag=ro,path="$S" --no-console-input >"$W/bad2" 2>&1 && fail "a duplicate tag was accepted"
    grep -q "appears twice" "$W/bad2" || fail "duplicate tag: $(cat "$W/bad2")"
    timeout 400 hull-vmm --config-file "$W/vm.json" --fs "tag=share,path=$S" --no-console-input --console-output "$CONSOLE" 2>"$LOG"
    rc=$?
    [ $rc = 0 ] || fail "hull-vmm exited $rc"
    console_has "HULL_E2E_FS_MOUNTED"
    console_has "HULL_E2E_FS_HOST_MD5 $host_md5"
    console_has "HULL_E2E_FS_HELLO hello from the host"
    wrote=$(grep -o 'HULL_E2E_FS_WROTE [^ ]*' "$CONSOLE" | head -n 1 | cut -d' ' -f2 | tr -d '\r')
    [ -n "$wrote" ] || fail "guest did not report its write"
    [ "$(cat "$S/newdir/renamed.txt" 2>/dev/null)" = "$wrote" ] || fail "host reads '$(cat "$S/newdir/renamed.txt" 2>&1)' in newdir/renamed.txt, guest wrote '$wrote'"
    console_has "HULL_E2E_FS_RENAMED"
    console_has "HULL_E2E_FS_UNLINKED"
    [ ! -e "$S/delete-me" ] || fail "delete-me is still on the host"
    console_has "HULL_E2E_FS_RMDIR"
    console_has "HULL_E2E_FS_LS .*renamed.txt"
    console_has "HULL_E2E_FS_LINK ../secret"
    console_has "HULL_E2E_FS_CONTAINED"
    console_has "HULL_E2E_FS_RO_REFUSED read-only share"
    [ ! -e "$W/ro/try" ] || fail "the guest wrote into the read-only share"
    [ "$(cat "$W/secret")" = HOST-SECRET ] || fail "the file beside the share changed"
    console_has "HULL_E2E_FS_UNMOUNTED"
    cs=$(grep -o 'HULL_E2E_FS_READ64_CS fs=[0-9]* blk=[0-9]*' "$CONSOLE" | head -n 1)
    fs_cs=$(echo "$cs" | cut -d' ' -f2 | cut -d= -f2); blk_cs=$(echo "$cs" | cut -d' ' -f3 | cut -d= -f2)
    [ -n "$fs_cs" ] && [ -n "$blk_cs" ] || fail "guest did not time the 64 MiB reads"
    pass "guest mounted virtiofs (rw + ro), read the host's file (md5 $host_md5), wrote '$wrote' that the host reads after mkdir+rename, unlink/rmdir seen by the host, links stay links, no escape to the file beside the share, ro write refused; 64 MiB read: virtio-fs $((fs_cs * 10)) ms, virtio-blk $((blk_cs * 10)) ms" ;;

  *) echo "cases.sh: unknown case '$name'" >&2; exit 2 ;;
esac
