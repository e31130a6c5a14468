#!/bin/busybox sh
# PID 1 of a tools/nested-run L1: set the machine up, run the command, report its status
# on the console, copy /out to the --out disk, and end the VM.
# The kernel unpacked the initramfs into rootfs, the namespace's first mount, which pivot_root(2)
# cannot leave (EINVAL): runc and crun in L1 would fail. First thing, make the root a mount that
# has a parent: bind-mount rootfs onto a directory of itself, move that mount onto / and chroot
# into it (what busybox switch_root does with a tmpfs, minus the copy: nothing is duplicated in
# memory and it costs milliseconds), then run this script again from there.
if [ "$$" = 1 ] && [ -z "$NESTED_ROOT_MOVED" ]; then
  bb=/bin/busybox
  $bb mount -t proc proc /proc && read -r t0 _ </proc/uptime && $bb umount /proc
  $bb mkdir -p /.root
  if $bb mount -o bind / /.root && cd /.root && $bb mount -o move . / ; then
    export NESTED_ROOT_MOVED="$t0"
    exec $bb chroot . /init
  fi
  echo "nested-run(L1): warning: cannot move the root off rootfs (pivot_root will fail in L1)" >&2
  cd /
fi
/bin/busybox --install -s /bin
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
. /etc/nested/config

say() { [ "$NESTED_VERBOSE" = 1 ] && echo "nested-run(L1): $*" >&2; }

mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
mount -t proc -o nosuid,nodev,noexec proc /proc
if [ -n "$NESTED_ROOT_MOVED" ]; then
  say "root moved off rootfs: /init ran again in the new root $(awk -v t0="$NESTED_ROOT_MOVED" '{printf "%.3f", $1 - t0}' /proc/uptime) s after its first start (L1 uptime $NESTED_ROOT_MOVED s)"
fi
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
# No carriage returns added, no echo: the host gets the command's bytes as written.
stty -F /dev/console raw -echo 2>/dev/null

for m in $(cat /etc/nested/modules); do
  insmod "/lib/modules/$m" || echo "nested-run(L1): warning: insmod $m failed" >&2
done
ip link set lo up
hostname l1
say "ready after $(cut -d' ' -f1 /proc/uptime) s of L1 uptime; running the command"

. /etc/nested/command
cd / && "$@" </dev/null
status=$?
say "command exited with $status"

out_status=0
if [ -n "$NESTED_OUT_DEVICE" ]; then
  i=0
  while [ ! -b "$NESTED_OUT_DEVICE" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  if [ -b "$NESTED_OUT_DEVICE" ]; then
    tar -c -f "$NESTED_OUT_DEVICE" -C /out . || out_status=$?
  else
    echo "nested-run(L1): no $NESTED_OUT_DEVICE for /out (virtio-blk driver missing?)" >&2
    out_status=1
  fi
fi
sync
printf '\n%s %d %d\n' "$NESTED_MARKER" "$status" "$out_status"
reboot -f
