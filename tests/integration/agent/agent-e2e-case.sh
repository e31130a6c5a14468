#!/bin/sh
# Runs in the nested L1 (busybox sh) or on a host with hardware KVM: hull-vmm
# boots the guest kernel with hull-agent as /init, a virtio-blk rootfs (erofs)
# and vsock; agent-vsock-smoke reaches the agent through the hybrid vsock
# socket, runs a container and powers the VM off; hull-vmm must then exit 0.
# Needs hull-vmm and agent-vsock-smoke on PATH, $E2E/{kernel,initrd.cpio,rootfs.erofs}.
set -u
E2E=${E2E:-/e2e}
W=$(mktemp -d /tmp/agent-e2e.XXXXXX)
cat > "$W/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$E2E/kernel", "initrd_path": "$E2E/initrd.cpio",
   "boot_args": "console=ttyS0 reboot=k panic=1 pci=off quiet"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 256},
 "drives": [{"drive_id": "rootfs", "path_on_host": "$E2E/rootfs.erofs", "is_root_device": false, "is_read_only": true}],
 "vsock": {"guest_cid": 3, "uds_path": "$W/v.sock"}}
JSON
hull-vmm --config-file "$W/vm.json" --no-console-input --console-output "$W/console.log" 2>"$W/vmm.log" &
vmm=$!
# Connect once the agent says it listens (a guest boot takes tens of seconds nested).
i=0
while ! grep -q 'hull-agent: serving' "$W/console.log" 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
agent-vsock-smoke "$W/v.sock" /dev/vda erofs
client=$?
i=0
while kill -0 $vmm 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $vmm 2>/dev/null; then
  kill -9 $vmm; vmm_rc=timeout
else
  wait $vmm; vmm_rc=$?
fi
echo "--- guest console (last 15 lines):"; tail -n 15 "$W/console.log"
echo "--- hull-vmm log (last 10 lines):"; tail -n 10 "$W/vmm.log"
[ $client = 0 ] || { echo "FAIL: the client failed ($client)"; exit 1; }
[ "$vmm_rc" = 0 ] || { echo "FAIL: hull-vmm did not exit 0 after the agent powered off ($vmm_rc)"; exit 1; }
echo "PASS: container ran in the guest through the agent over vsock; clean power-off"
