#!/bin/sh
# The part of tools/bench/vmm-boot that runs where KVM works (the L1, or this host
# directly; $E2E_ROOT prefixes the copied files there and is empty in L1): N rounds of
#   hull-vmm --api-sock (process start -> socket ready), QEMU -qmp (same),
#   hull-vmm --config-file and qemu -M microvm booting the same kernel and
#   initrd (process start -> the guest init's marker line on the console).
# Prints one JSON line per measurement: {"vmm": ..., "what": ..., ...}.
set -u
N=${N:-3}
B=${E2E_ROOT:-}/bench
T=$(mktemp -d "${TMPDIR:-/tmp}/vmm-boot.XXXXXX")
cat > $T/vm.json <<JSON
{"boot-source": {"kernel_image_path": "$B/kernel", "initrd_path": "$B/initrd.cpio",
   "boot_args": "console=ttyS0 reboot=k panic=1 pci=off quiet rdinit=/init hull_e2e=run"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 256}}
JSON
qemu_base="qemu-system-x86_64 -L ${E2E_ROOT:-}/qemu -M microvm,acpi=off -accel kvm -cpu host -m 256 -smp 1 -nographic -no-reboot -nodefaults"
i=0
while [ $i -lt "$N" ]; do
  i=$((i + 1))
  echo "{\"round\": $i, \"vmm\": \"hull\", \"what\": \"api\", \"result\": $(boot-timer --socket $T/h.sock --kill-after-socket --timeout 30 -- hull-vmm --api-sock $T/h.sock --no-console-input)}"
  rm -f $T/h.sock
  echo "{\"round\": $i, \"vmm\": \"qemu\", \"what\": \"api\", \"result\": $(boot-timer --socket $T/q.sock --kill-after-socket --timeout 30 -- $qemu_base -S -qmp unix:$T/q.sock,server=on,wait=off)}"
  rm -f $T/q.sock
  echo "{\"round\": $i, \"vmm\": \"hull\", \"what\": \"boot\", \"result\": $(boot-timer --marker HULL_E2E_INIT --timeout 300 -- hull-vmm --config-file $T/vm.json --no-console-input --log-level warn)}"
  echo "{\"round\": $i, \"vmm\": \"qemu\", \"what\": \"boot\", \"result\": $(boot-timer --marker HULL_E2E_INIT --timeout 300 -- $qemu_base -serial stdio -kernel $B/kernel -initrd $B/initrd.cpio -append 'console=ttyS0 reboot=t panic=1 pci=off quiet rdinit=/init hull_e2e=run')}"
done
# hull-vmm's own view at exit: RSS, guest RAM resident (mincore), the difference.
hull-vmm --config-file $T/vm.json --no-console-input --log-level debug >/dev/null 2>$T/hull-debug.log
echo "{\"round\": 0, \"vmm\": \"hull\", \"what\": \"memory\", \"result\": $(sed -n 's/.*debug: metrics: //p' $T/hull-debug.log)}"
rm -rf "$T"
