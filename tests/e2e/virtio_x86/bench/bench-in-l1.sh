#!/bin/sh
# The part of bench/virtio-bench that runs inside the L1: N rounds of the same
# guest workload (O_DIRECT sequential 1 MiB reads, random 4 KiB reads, then
# 16 MiB host -> guest over vsock) under hull-vmm and under QEMU microvm with
# its virtio-mmio devices (virtio-blk-device, vhost-vsock-device), same
# kernel, initrd and disk image. Prints "RESULT <vmm> <metric> <value>".
set -u
N=${N:-2}
B=/bench
W=/tmp/vb
mkdir -p $W
dd if=/dev/zero of=$W/disk.img bs=1M count=64 2>/dev/null
ARGS="console=ttyS0 panic=1 pci=off quiet rdinit=/init hull_e2e=bench"
BYTES=${BYTES:-16777216}
modprobe vhost_vsock 2>/dev/null
report() {  # VMM CONSOLE HOSTSIDE
  for m in blk_seq_read_mibs blk_rand4k_read_iops; do
    v=$(grep -o "BENCH $m=[0-9.]*" "$2" | cut -d= -f2)
    echo "RESULT $1 $m ${v:-nan}"
  done
  v=$(grep -o '([0-9.]* MiB/s)' "$3" | tr -d '()' | cut -d' ' -f1)
  echo "RESULT $1 vsock_h2g_mibs ${v:-nan}"
}
i=0
while [ $i -lt "$N" ]; do
  i=$((i + 1))
  rm -f $W/v.sock
  cat > $W/vm.json <<JSON
{"boot-source": {"kernel_image_path": "$B/kernel", "initrd_path": "$B/initrd.cpio", "boot_args": "$ARGS reboot=k"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 256},
 "drives": [{"drive_id": "d0", "path_on_host": "$W/disk.img", "is_root_device": false}],
 "vsock": {"guest_cid": 3, "uds_path": "$W/v.sock"}}
JSON
  echo "round $i: hull-vmm" >&2
  : > $W/hull.console
  timeout 600 hull-vmm --config-file $W/vm.json --no-console-input --console-output $W/hull.console 2>$W/hull.log &
  pid=$!
  timeout 600 vsock-tool connect-hybrid $W/v.sock 5000 send $BYTES > $W/hull.h2g 2>&1
  wait $pid
  report hull $W/hull.console $W/hull.h2g
  if [ -e /dev/vhost-vsock ]; then vs="-device vhost-vsock-device,guest-cid=3"; else vs=""; echo "no /dev/vhost-vsock in L1: QEMU runs without vsock" >&2; fi
  echo "round $i: qemu microvm" >&2
  : > $W/qemu.console
  timeout 600 qemu-system-x86_64 -L /qemu -M microvm,acpi=off -accel kvm -cpu host -m 256 -smp 1 -nographic -no-reboot -nodefaults \
    -serial file:$W/qemu.console -kernel $B/kernel -initrd $B/initrd.cpio -append "$ARGS reboot=t" \
    -drive id=d0,file=$W/disk.img,format=raw,if=none -device virtio-blk-device,drive=d0 $vs 2>$W/qemu.log &
  pid=$!
  if [ -n "$vs" ]; then timeout 600 vsock-tool connect-vsock 3 5000 send $BYTES > $W/qemu.h2g 2>&1; else : > $W/qemu.h2g; fi
  wait $pid
  report qemu $W/qemu.console $W/qemu.h2g
  grep -q BENCH $W/qemu.console || { echo "qemu run produced no results:" >&2; tail -5 $W/qemu.log $W/qemu.console >&2; }
  grep -q BENCH $W/hull.console || { echo "hull run produced no results:" >&2; tail -5 $W/hull.log $W/hull.console >&2; }
done
