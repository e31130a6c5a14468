#!/bin/sh
# Hostile-guest e2e cases. Runs inside the nested L1 (busybox sh) or on a host
# with hardware KVM, with hull-vmm, hostile and curl on PATH and the guest
# files in $E2E (default /e2e): kernel, initrd.cpio (make-initramfs).
#   attack          hostile VM (blk, net when tunctl exists, vsock, rng,
#                   balloon) attacked by its own guest, an ordinary VM beside it
#   attack-seccomp  the same with hull-vmm --seccomp (SIGSYS = failure)
# usage: cases.sh CASE      Exit: 0 pass, 1 fail, 77 skipped.
set -u
name=${1:?usage: cases.sh CASE}
E2E=${E2E:-/e2e}
K=$E2E/kernel
I=$E2E/initrd.cpio
W=$(mktemp -d /tmp/hostile-e2e.XXXXXX)
HCON=$W/hostile-console.log HLOG=$W/hostile-vmm.log
NCON=$W/normal-console.log NLOG=$W/normal-vmm.log
SCRATCH_PA=0x8000000 SCRATCH_LEN=0x1000000  # 16 MiB at 128 MiB, reserved with memmap=
TAP=hulltap9
hostile_pid="" normal_pid="" echo_pids="" tap_made=""

if [ "$name" = attack-seccomp ]; then HULL_VMM_FLAGS=--seccomp; fi
. "$E2E/vmm-case-lib.sh"
wrap_hull_vmm

cleanup() {
  for p in $hostile_pid $normal_pid $echo_pids; do kill -9 "$p" 2>/dev/null; done
  [ -n "$tap_made" ] && tunctl -d "$TAP" >/dev/null 2>&1
}
trap cleanup EXIT
show_logs() {
  echo "--- hostile hull-vmm log (last 60 lines):"; tail -n 60 "$HLOG" 2>/dev/null
  echo "--- hostile guest console (HULL_E2E lines, last 20 lines):"; grep HULL_E2E "$HCON" 2>/dev/null; tail -n 20 "$HCON" 2>/dev/null
  echo "--- ordinary hull-vmm log:"; cat "$NLOG" 2>/dev/null
  echo "--- ordinary guest console (last 20 lines):"; tail -n 20 "$NCON" 2>/dev/null
}
api_get() {  # PATH: the HTTP status of a GET on the hostile VM's API
  curl -s --max-time 10 --unix-socket "$W/api.sock" -o "$W/api-body" -w '%{http_code}' "http://localhost$1"
}
t_start=$(date +%s)
dmesg > "$W/dmesg.before" 2>/dev/null

# Disks: the hostile guest reads its first sector back after resetting the
# device mid-request, and keeps attacking until the host writes STOP into its
# sector 2; the ordinary guest reads its own all along.
dd if=/dev/zero of="$W/hostile.img" bs=1M count=4 2>/dev/null
printf 'HOSTILE-DISK-SECTOR0' | dd of="$W/hostile.img" conv=notrunc 2>/dev/null
dd if=/dev/zero of="$W/normal.img" bs=1M count=1 2>/dev/null
printf 'NORMAL-DISK-SECTOR0' | dd of="$W/normal.img" conv=notrunc 2>/dev/null

# A virtio-fs share (where this hull-vmm has virtio-fs) and a file beside it
# that garbage FUSE requests must not reach.
mkdir -p "$W/share"
echo "inside the share" > "$W/share/file"
echo "beside the share" > "$W/beside"
fs=""
hull-vmm --help 2>&1 | grep -q -- "--fs" && fs=", \"fs\": [{\"tag\": \"hostile\", \"path\": \"$W/share\"}]"

net=""
if command -v tunctl >/dev/null && tunctl -t "$TAP" >/dev/null 2>&1; then
  tap_made=1
  ip link set "$TAP" up
  net=", \"network-interfaces\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"$TAP\", \"guest_mac\": \"06:00:ac:1e:00:09\"}]"
else
  echo "note: no tunctl (or no tap) here: the hostile VM gets no virtio-net"
fi

# Host ends of vsock: port 6000 of the hostile VM (the flood's listener and
# the after-flood check) and port 6100 of the ordinary VM (its echo).
hostile host-echo "$W/h.sock_6000" > "$W/echo-hostile.out" 2>&1 &
echo_pids="$!"
hostile host-echo "$W/n.sock_6100" > "$W/echo-normal.out" 2>&1 &
echo_pids="$echo_pids $!"

cat > "$W/hostile.json" <<JSON
{"boot-source": {"kernel_image_path": "$K", "initrd_path": "$I",
   "boot_args": "console=ttyS0 reboot=k panic=1 pci=off quiet rdinit=/init hull_e2e=hostile initcall_blacklist=virtio_mmio_init memmap=16M\$$SCRATCH_PA hostile_scratch=$SCRATCH_PA,$SCRATCH_LEN"},
 "machine-config": {"vcpu_count": 2, "mem_size_mib": 256},
 "drives": [{"drive_id": "data", "path_on_host": "$W/hostile.img", "is_root_device": false, "is_read_only": false}],
 "vsock": {"guest_cid": 3, "uds_path": "$W/h.sock"},
 "entropy": {},
 "balloon": {"amount_mib": 0, "deflate_on_oom": true, "free_page_reporting": true}$net$fs}
JSON
cat > "$W/normal.json" <<JSON
{"boot-source": {"kernel_image_path": "$K", "initrd_path": "$I",
   "boot_args": "console=ttyS0 reboot=k panic=1 pci=off quiet rdinit=/init hull_e2e=normal"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 128},
 "drives": [{"drive_id": "data", "path_on_host": "$W/normal.img", "is_root_device": false, "is_read_only": true}],
 "vsock": {"guest_cid": 3, "uds_path": "$W/n.sock"}}
JSON

hull-vmm --config-file "$W/hostile.json" --api-sock "$W/api.sock" --no-console-input --console-output "$HCON" 2>"$HLOG" &
hostile_pid=$!
wait_for "$HCON" HULL_E2E_HOSTILE_FOUND 200 || fail "the hostile guest did not reach its attack (no HULL_E2E_HOSTILE_FOUND)"
grep -q "HULL_E2E_HOSTILE_ERROR" "$HCON" && fail "the hostile program could not start: $(grep HULL_E2E_HOSTILE_ERROR "$HCON")"
found=$(grep -o 'HULL_E2E_HOSTILE_FOUND devices=[0-9]*' "$HCON" | cut -d= -f2)
[ "${found:-0}" -ge 4 ] || fail "the hostile guest found only ${found:-0} virtio-mmio devices (wanted blk, vsock, rng, balloon)"

# The ordinary VM boots while the attack runs and must finish its work.
hull-vmm --config-file "$W/normal.json" --no-console-input --console-output "$NCON" 2>"$NLOG" &
normal_pid=$!
t_normal=$(date +%s)
wait_pid "$normal_pid" 200 "the ordinary VM"
normal_rc=$rc normal_pid=""
normal_s=$(($(date +%s) - t_normal))
grep -q HULL_E2E_HOSTILE_DONE "$HCON" && fail "the attack ended before the ordinary VM finished (no overlap): $(grep HULL_E2E_HOSTILE_EXTRA_ROUNDS "$HCON")"
kill -0 "$hostile_pid" 2>/dev/null || fail "the hostile VM's hull-vmm is gone during the attack"
[ "$normal_rc" = 0 ] || fail "the ordinary VM's hull-vmm exited $normal_rc"
grep -q "HULL_E2E_NORMAL_BLK reads=20 matched=20" "$NCON" || fail "the ordinary guest's disk reads: $(grep HULL_E2E_NORMAL_BLK "$NCON")"
grep -q "HULL_E2E_NORMAL_VSOCK_ECHO match" "$NCON" || fail "the ordinary guest's vsock echo failed"

printf 'STOP' | dd of="$W/hostile.img" bs=512 seek=2 conv=notrunc 2>/dev/null
# Last, the guest opens 1200 vsock connections to the host's listener (which
# accepts them all) and holds them: hull-vmm must still answer its API.
wait_for "$HCON" HULL_E2E_HOSTILE_EXHAUST_HOLDING 120 || fail "the guest did not open its vsock connections"
vmm_fds=$(ls "/proc/$hostile_pid/fd" 2>/dev/null | wc -l)
code=$(api_get /)
[ "$code" = 200 ] || fail "with the guest holding 1200 vsock connections (hull-vmm has $vmm_fds fds open), GET / answered '$code'"
printf 'STOP' | dd of="$W/hostile.img" bs=512 seek=3 conv=notrunc 2>/dev/null
wait_for "$HCON" "HULL_E2E_HOSTILE_EXHAUST_RELEASED stopped-by-host" 120 || fail "the guest did not release its vsock connections"
wait_for "$HCON" HULL_E2E_HOSTILE_DONE 300 || fail "the attack did not finish"
grep -q "HULL_E2E_HOSTILE_EXTRA_ROUNDS [0-9]* stopped-by-host" "$HCON" || fail "the attack did not see the host's STOP: $(grep HULL_E2E_HOSTILE_EXTRA_ROUNDS "$HCON")"
kill -0 "$hostile_pid" 2>/dev/null || fail "the hostile VM's hull-vmm is gone after the attack"
code=$(api_get /)
[ "$code" = 200 ] || fail "GET / on the hostile VM's API answered '$code' after the attack"
code=$(api_get /vm/config)
[ "$code" = 200 ] || fail "GET /vm/config on the hostile VM's API answered '$code' after the attack"
grep -q '"drive_id"' "$W/api-body" || fail "GET /vm/config lacks the drive: $(cat "$W/api-body")"

wait_pid "$hostile_pid" 120 "the hostile VM"
hostile_rc=$rc hostile_pid=""
[ "$hostile_rc" = 0 ] || fail "the hostile VM's hull-vmm exited $hostile_rc (over 128: killed by signal $((hostile_rc - 128)))"
grep -qE "AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:" "$HLOG" && fail "sanitizer report in the hostile VM's log"
if [ -n "${HULL_VMM_FLAGS:-}" ]; then
  grep -q "seccomp filters installed" "$HLOG" || fail "hull-vmm $HULL_VMM_FLAGS did not log that its filters are installed"
fi

# The attack's own verdicts: every malformed chain on a queue the device pops
# failed the device, and valid requests worked after resets and the flood.
grep -q "HULL_E2E_HOSTILE_DONE devices=$found unexpected=0" "$HCON" ||
  fail "the attack saw unexpected device behaviour: $(grep HULL_E2E_HOSTILE_UNEXPECTED "$HCON" | head -n 20)"
grep -q "HULL_E2E_HOSTILE_VSOCK_AFTER_FLOOD response=1 echo=1" "$HCON" || fail "vsock did not work after the flood"
grep -q "phase=reset slot=[0-9]* dev=blk .*after=blk-read-matches-and-write-reads-back" "$HCON" ||
  fail "virtio-blk did not serve a valid read/write after the resets"
grep -q "phase=race slot=[0-9]* dev=blk .*after=blk-read-matches" "$HCON" ||
  fail "virtio-blk did not serve a valid read after the other vCPU's resets"
grep -q "PHASE_DONE race .* cpus=2" "$HCON" || fail "the hostile guest did not run on 2 vCPUs"
# Device failures must be reported in hull-vmm's log, one line per kind of
# device the guest broke, not swallowed.
for dev in $(grep -o 'HULL_E2E_HOSTILE_DEVICE slot=[0-9]* pa=0x[0-9a-f]* dev=[a-z]*' "$HCON" | sed 's/.*dev=//' | sort -u); do
  grep -q "virtio-$dev device failed" "$HLOG" || fail "hull-vmm's log reports no failure of virtio-$dev"
done
reported=$(grep -c "device failed" "$HLOG")

# The host: no kernel warnings, nothing left behind.
for p in $echo_pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
echo_pids=""
dmesg > "$W/dmesg.after" 2>/dev/null
tail -n +"$(($(wc -l < "$W/dmesg.before") + 1))" "$W/dmesg.after" > "$W/dmesg.new"
# (the kernel's own formats: "debug" or a device named "warning" must not match)
if grep -E "WARNING:|BUG:|Oops|Call Trace|general protection|segfault|traps:|type=1326|blocked for more than|kvm.*(error|failed)" "$W/dmesg.new"; then
  fail "the host kernel logged the lines above during the test"
fi
[ "$(cat "$W/beside")" = "beside the share" ] || fail "the file beside the virtio-fs share changed"
ps > "$W/ps" 2>/dev/null
grep -v grep "$W/ps" | grep -q "hull-vmm" && fail "a hull-vmm process is left: $(grep hull-vmm "$W/ps")"
for s in api.sock h.sock n.sock h.sock_6000 n.sock_6100; do
  [ -e "$W/$s" ] && fail "socket $W/$s left behind"
done
if [ -n "$tap_made" ]; then
  tunctl -d "$TAP" >/dev/null 2>&1 || fail "could not delete tap $TAP after the VM (still held?)"
  tap_made=""
  [ -e "/sys/class/net/$TAP" ] && fail "tap $TAP still exists"
fi
phases=$(grep -o 'HULL_E2E_HOSTILE_PHASE_DONE [a-z]* [0-9.]* s' "$HCON" | sed 's/HULL_E2E_HOSTILE_PHASE_DONE //' | tr '\n' ';')
devices=$(grep -o 'HULL_E2E_HOSTILE_DEVICE slot=[0-9]* pa=0x[0-9a-f]* dev=[a-z]*' "$HCON" | sed 's/.*dev=//' | tr '\n' ' ')
chains=$(grep -o 'PHASE_DONE chains .*' "$HCON" | grep -o 'rejected=.*')
flood=$(grep -o 'phase=vsock-flood .*' "$HCON" | head -n 1 | tr -d '\r')
extra=$(grep -o 'HULL_E2E_HOSTILE_EXTRA_ROUNDS [0-9]*' "$HCON" | cut -d' ' -f2)
races=$(grep -o 'phase=race slot=[0-9]* dev=[a-z]* rounds=[0-9]* handshakes=[0-9]* resets_from_other_vcpu=[0-9]*' "$HCON" |
  sed 's/phase=race slot=[0-9]* dev=\([a-z]*\) rounds=\([0-9]*\) handshakes=[0-9]* resets_from_other_vcpu=\([0-9]*\)/\1:\2 set-ups\/\3 resets/' | tr '\n' ' ')
echo "PASS [$name]: hostile guest attacked $found devices ($devices) [phases at $phases], chains $chains; $flood;" \
  "hull-vmm stayed up (GET / and /vm/config 200), logged $reported device failures, exited 0;" \
  "resets from the other vCPU mid-use ($races);" \
  "1200 vsock connections held: hull-vmm at $vmm_fds fds, API answered;" \
  "ordinary VM ran to completion inside the attack (${normal_s} s: 20/20 disk reads, vsock echo), $extra more attack rounds meanwhile;" \
  "no host kernel warnings, no process/socket/tap left; total $(($(date +%s) - t_start)) s${HULL_VMM_FLAGS:+ (hull-vmm $HULL_VMM_FLAGS)}"
exit 0
