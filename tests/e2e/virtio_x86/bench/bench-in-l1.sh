#!/bin/sh
# The part of bench/virtio-bench that runs inside the L1: N rounds of the same
# guest workload (O_DIRECT sequential 1 MiB reads, random 4 KiB reads, then
# BYTES host -> guest and BYTES guest -> host over vsock) under hull-vmm and
# under QEMU microvm with its virtio-mmio devices (virtio-blk-device,
# vhost-vsock-device), same kernel, initrd and disk image; the order of the
# two VMMs alternates between rounds. vsock rates are the receiver's (first
# byte to end of stream). Prints "RESULT <vmm> <metric> <value>".
set -u
N=${N:-3}
B=/bench
W=/tmp/vb
mkdir -p $W
dd if=/dev/zero of=$W/disk.img bs=1M count=64 2>/dev/null
BYTES=${BYTES:-16777216}
ARGS="console=ttyS0 panic=1 pci=off quiet rdinit=/init hull_e2e=bench hull_bench_bytes=$BYTES"
modprobe vhost_vsock 2>/dev/null
rate() { grep -o 'received in [0-9.]* s ([0-9.]* MiB/s)' "$1" | head -n 1 | sed 's/.*(\([0-9.]*\) MiB\/s)/\1/'; }
report() {  # VMM CONSOLE
  for m in blk_seq_read_mibs blk_rand4k_read_iops blk_seq_requests; do
    v=$(grep -o "BENCH $m=[0-9.]*" "$2" | cut -d= -f2)
    echo "RESULT $1 $m ${v:-nan}"
  done
  v=$(grep HULL_E2E_H2G "$2" | grep -o 'received in [0-9.]* s ([0-9.]* MiB/s)' | sed 's/.*(\([0-9.]*\) MiB\/s)/\1/')
  echo "RESULT $1 vsock_h2g_mibs ${v:-nan}"
  v=$(rate $W/$1.g2h)
  echo "RESULT $1 vsock_g2h_mibs ${v:-nan}"
  grep -q "VSOCK-MATCH" $W/$1.h2g || echo "$1: host -> guest transfer did not match: $(cat $W/$1.h2g)" >&2
  grep -q "HULL_E2E_G2H rc=0 VSOCK-MATCH" "$2" || echo "$1: guest -> host transfer did not match: $(grep HULL_E2E_G2H "$2")" >&2
}
run_hull() {
  rm -f $W/v.sock $W/v.sock_6000
  cat > $W/vm.json <<JSON
{"boot-source": {"kernel_image_path": "$B/kernel", "initrd_path": "$B/initrd.cpio", "boot_args": "$ARGS reboot=k"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 256},
 "drives": [{"drive_id": "d0", "path_on_host": "$W/disk.img", "is_root_device": false}],
 "vsock": {"guest_cid": 3, "uds_path": "$W/v.sock"}}
JSON
  echo "round $i: hull-vmm" >&2
  : > $W/hull.console
  timeout 600 vsock-tool listen-unix $W/v.sock_6000 recv > $W/hull.g2h 2>&1 &
  sink=$!
  timeout 600 hull-vmm --config-file $W/vm.json --no-console-input --console-output $W/hull.console 2>$W/hull.log &
  pid=$!
  timeout 600 vsock-tool connect-hybrid $W/v.sock 5000 send $BYTES > $W/hull.h2g 2>&1
  wait $pid
  kill $sink 2>/dev/null; wait $sink 2>/dev/null
  report hull $W/hull.console
  grep -q BENCH $W/hull.console || { echo "hull run produced no results:" >&2; tail -5 $W/hull.log $W/hull.console >&2; }
}
run_qemu() {
  [ -e /dev/vhost-vsock ] || { echo "no /dev/vhost-vsock in L1: no vsock for QEMU" >&2; return; }
  echo "round $i: qemu microvm" >&2
  : > $W/qemu.console
  timeout 600 vsock-tool listen-vsock 6000 recv > $W/qemu.g2h 2>&1 &
  sink=$!
  timeout 600 qemu-system-x86_64 -L /qemu -M microvm,acpi=off -accel kvm -cpu host -m 256 -smp 1 -nographic -no-reboot -nodefaults \
    -serial file:$W/qemu.console -kernel $B/kernel -initrd $B/initrd.cpio -append "$ARGS reboot=t" \
    -drive id=d0,file=$W/disk.img,format=raw,if=none -device virtio-blk-device,drive=d0 \
    -device vhost-vsock-device,guest-cid=3 2>$W/qemu.log &
  pid=$!
  timeout 600 vsock-tool connect-vsock 3 5000 send $BYTES > $W/qemu.h2g 2>&1
  wait $pid
  kill $sink 2>/dev/null; wait $sink 2>/dev/null
  report qemu $W/qemu.console
  grep -q BENCH $W/qemu.console || { echo "qemu run produced no results:" >&2; tail -5 $W/qemu.log $W/qemu.console >&2; }
}
i=0
while [ $i -lt "$N" ]; do
  i=$((i + 1))
  if [ $((i % 2)) = 1 ]; then run_hull; run_qemu; else run_qemu; run_hull; fi
done
