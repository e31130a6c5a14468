#!/bin/sh
# The L1 half of boot-bench: packs the e2e guest initramfs from the L1's
# busybox, then N rounds of hull-vmm --config-file and QEMU -M virt (KVM)
# booting the same Image and initrd, each timed by boot-timer from process
# start to the guest init's marker line. One line per boot: "VMM ROUND JSON".
set -u
N=${N:-3}
W=/tmp/bench; mkdir -p $W/root/bin $W/root/dev $W/root/proc $W/root/sys $W/root/tmp
cp /bin/busybox $W/root/bin/
for a in sh mount echo cat sleep reboot devmem nproc grep dd tr cmp sync; do ln -s busybox $W/root/bin/$a; done
cp /e2e/guest-init $W/root/init; chmod 755 $W/root/init
(cd $W/root && busybox find . | busybox cpio -o -H newc 2>/dev/null) > $W/initrd.cpio
ARGS="console=ttyAMA0 panic=1 quiet rdinit=/init hull_e2e=run"
cat > $W/vm.json <<JSON
{"boot-source": {"kernel_image_path": "/e2e/kernel", "initrd_path": "$W/initrd.cpio", "boot_args": "$ARGS"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 256}}
JSON
Q="/qa/lib/ld-linux-aarch64.so.1 --library-path /qa/lib /qa/qemu-system-aarch64 -M virt,gic-version=3 -accel kvm -cpu host -m 256 -smp 1 -nographic -no-reboot -nodefaults -serial stdio -kernel /e2e/kernel -initrd $W/initrd.cpio"
i=0
while [ $i -lt "$N" ]; do
  i=$((i + 1))
  echo "hull $i $(boot-timer --marker HULL_E2E_INIT --timeout 300 -- hull-vmm --config-file $W/vm.json --no-console-input --log-level warn)"
  echo "qemu $i $(boot-timer --marker HULL_E2E_INIT --timeout 300 -- $Q -append "$ARGS")"
done
