#!/bin/sh
# Fault and load cases through containerd (issue 11). Runs where KVM works
# (the nested L1, or directly; $E2E_ROOT prefixes copied files in direct mode).
# Each case runs in its own private containerd (tests/e2e/lib/with-containerd).
# Every case lists what a sandbox can leave behind (host_state) before and
# after, and fails on any difference; docs/reliability.md says what each
# case models and what it measured.
set -u
R=${E2E_ROOT:-}
if [ -x /opt/hull/bin/containerd-shim-hull-v2 ]; then export PATH=/opt/hull/bin:$PATH; fi
IMG=hull.local/busybox:latest
RT="--runtime io.containerd.hull.v2"
export SHOW_CONTAINERD_LOG=1

fail() { echo "FAIL: $*"; exit 1; }
# pids of processes with this comm (the first 15 bytes of the name; no pgrep in the L1's busybox)
pids_of() { for c in /proc/[0-9]*/comm; do [ "$(cat "$c" 2>/dev/null)" = "$1" ] && basename "${c%/comm}"; done; return 0; }
count_of() { pids_of "$1" | wc -l; }
# Waits up to $2 tenths of a second until no process named $1 runs.
wait_gone() { w=0; while [ "$(count_of "$1")" -gt 0 ]; do w=$((w+1)); [ "$w" -lt "$2" ] || return 1; sleep 0.1; done; }
task_status() { $CTR task ls 2>/dev/null | awk -v id="$1" '$1 == id {print $3}'; }
wait_status_not() { w=0; while [ "$(task_status "$1")" = "$2" ]; do w=$((w+1)); [ "$w" -lt "$3" ] || return 1; sleep 0.1; done; }
containerd_pid() { pids_of containerd | head -1; }

# Everything a sandbox could leave behind, one line per item: processes by
# name (without this script's tools), mounts, network interfaces (taps), unix
# sockets, hull's files under /run/hull (the rootfs image cache's finished
# images are meant to stay and are left out; its temporary files are not),
# /run/containerd, containerd's own state directory (task bundles) and every
# cgroup (hull-jailer's /sys/fs/cgroup/hull-vmm/vm-*, a container's).
host_state() {
  for d in /proc/[0-9]*; do
    [ -n "$(tr -d '\000' < "$d/cmdline" 2>/dev/null | head -c 1)" ] || continue  # kernel threads
    n=$(cat "$d/comm" 2>/dev/null) || continue
    case "$n" in sh|cat|sort|ls|grep|sed|awk|sleep|uniq|diff|comm|wc|tr|head|find|ctr|date|dd|basename) ;; *) echo "process $n" ;; esac
  done | sort | uniq -c
  awk '{print "mount " $2 " " $3}' /proc/mounts | sort
  ls /sys/class/net | sed 's/^/netif /'
  awk 'NR > 1 && $8 != "" {print "socket " $8}' /proc/net/unix | sort -u
  find /run/hull 2>/dev/null | grep -v '^/run/hull/rootfs-cache/[^/]*\.erofs$' | sort | sed 's/^/file /'
  find /run/containerd 2>/dev/null | sort | sed 's/^/file /'
  [ -n "${CONTAINERD_ROOT:-}" ] && find "${CONTAINERD_ROOT%/root}/state" 2>/dev/null | sort | sed 's/^/file /'
  find /sys/fs/cgroup -type d 2>/dev/null | sort | sed 's/^/cgroup /'
}

# containerd's and the host's counters that a leak would grow.
metrics() {
  c=$(containerd_pid)
  echo "containerd_fds $(ls /proc/$c/fd | wc -l)"
  echo "containerd_threads $(awk '$1 == "Threads:" {print $2}' /proc/$c/status)"
  echo "containerd_rss_kib $(awk '$1 == "VmRSS:" {print $2}' /proc/$c/status)"
  echo "mounts $(wc -l < /proc/mounts)"
  echo "run_containerd_entries $(find /run/containerd 2>/dev/null | wc -l)"
  echo "cgroups $(find /sys/fs/cgroup -type d | wc -l)"
  echo "hull_vmm_processes $(count_of hull-vmm)"
  echo "shim_processes $(count_of containerd-shim)"
  echo "mem_available_kib $(awk '$1 == "MemAvailable:" {print $2}' /proc/meminfo)"
}
metric() { awk -v k="$2" '$1 == k {print $2}' "$1"; }

# check_counters BEFORE MID AFTER [CONCURRENT]: prints the three metrics
# listings side by side and fails on growth. Host-side counts (mounts,
# /run/containerd, cgroups, processes) and containerd's fds must be back to
# their start. containerd is a Go program: its runtime keeps the OS threads it
# once needed (one per blocking call in flight: up to about one per concurrent
# task), lets its heap reach twice the live heap before a collection
# (GOGC=100) and returns freed pages to the kernel lazily, so threads and RSS
# are held to bounds: for sequential cycles no growth in the second half of
# the run beyond 2 threads and 16 MiB (measured: 46.5 -> 55.9 MiB between
# cycles 2 and 5 of 5; a leak keeps growing past it over 100 cycles);
# for CONCURRENT sandboxes at most CONCURRENT + 8 threads and
# 16 MiB + 1 MiB per sandbox above the start.
check_counters() {
  echo "counter                  start      mid/peak   end"
  for k in containerd_fds containerd_threads containerd_rss_kib mounts run_containerd_entries cgroups hull_vmm_processes shim_processes mem_available_kib; do
    printf '%-24s %-10s %-10s %s\n' $k "$(metric "$1" $k)" "$(metric "$2" $k)" "$(metric "$3" $k)"
  done
  for k in containerd_fds mounts run_containerd_entries cgroups hull_vmm_processes shim_processes; do
    [ "$(metric "$3" $k)" -le "$(metric "$1" $k)" ] || fail "$k grew from $(metric "$1" $k) to $(metric "$3" $k)"
  done
  if [ -z "${4:-}" ]; then
    [ "$(metric "$3" containerd_threads)" -le $(($(metric "$2" containerd_threads) + 2)) ] ||
      fail "containerd's threads grew in the second half: $(metric "$2" containerd_threads) -> $(metric "$3" containerd_threads)"
    [ "$(metric "$3" containerd_rss_kib)" -le $(($(metric "$2" containerd_rss_kib) + 16384)) ] ||
      fail "containerd's RSS grew by more than 16 MiB in the second half: $(metric "$2" containerd_rss_kib) -> $(metric "$3" containerd_rss_kib) KiB"
  else
    [ "$(metric "$3" containerd_threads)" -le $(($(metric "$1" containerd_threads) + $4 + 8)) ] ||
      fail "containerd's threads grew from $(metric "$1" containerd_threads) to $(metric "$3" containerd_threads)"
    [ "$(metric "$3" containerd_rss_kib)" -le $(($(metric "$1" containerd_rss_kib) + 16384 + $4 * 1024)) ] ||
      fail "containerd's RSS grew from $(metric "$1" containerd_rss_kib) to $(metric "$3" containerd_rss_kib) KiB"
  fi
}

# After the last container of a case: its VMM and shim gone (containerd reaps
# a shim shortly after its last task went).
# One container run and removed first, so that what containerd and hull
# create once and keep (/run/hull/shim, /run/containerd/s, the namespace's
# state directory, the hull-vmm cgroup parent) is there before the listing.
warm_up() {
  $CTR run --rm $RT $IMG warm true || fail "the warm-up run failed"
  settle
}
# A leftover process fails the case later, in compare_state. $1: tenths of a second (default 200).
settle() {
  wait_gone hull-vmm "${1:-200}" || echo "hull-vmm still runs $((${1:-200} / 10)) s after the last container went"
  wait_gone containerd-shim "${1:-200}" || echo "a shim still runs $((${1:-200} / 10)) s after the last container went"
}
# Fails the case on any difference between two host_state listings.
compare_state() {
  if ! diff "$1" "$2" > /tmp/state.diff; then
    echo "--- leftovers ('>' appeared, '<' went away):"; cat /tmp/state.diff
    fail "$3 left the differences above"
  fi
  echo "nothing left behind: $(wc -l < "$2") items listed before and after (processes, mounts, netifs, sockets, files, cgroups)"
}
# The shim's log lines (they land in containerd's log).
shim_log() { grep -a "$1" "$CONTAINERD_LOG" | sed 's/.*msg="//; s/" .*//' | head -5; }

# A container whose exit containerd must see with a reason: STOPPED in
# `ctr task ls`, a /tasks/exit event with the status, and the status again in
# `ctr task rm`'s warning (ctr 1.6 has no `task wait`).
expect_exit() {
  id=$1 want=$2
  wait_status_not "$id" RUNNING 600 || fail "$id still RUNNING 60 s after the fault"
  $CTR task ls
  [ "$(task_status "$id")" = STOPPED ] || fail "$id is '$(task_status "$id")', expected STOPPED"
  w=0; until grep -q "/tasks/exit.*\"$id\".*\"exit_status\":$want" /tmp/events; do
    w=$((w+1)); [ $w -lt 100 ] || { cat /tmp/events; fail "no /tasks/exit event with exit_status $want for $id"; }; sleep 0.1
  done
  echo "event: $(grep "/tasks/exit.*\"$id\"" /tmp/events)"
  timeout 60 $CTR task rm "$id" > /tmp/rm.out 2>&1 || { cat /tmp/rm.out; fail "ctr task rm $id"; }
  cat /tmp/rm.out
  grep -q "exit code $want" /tmp/rm.out || fail "ctr task rm $id does not report exit code $want"
  $CTR container rm "$id" || fail "ctr container rm $id"
}

if [ "$1" = inner ]; then
  shift
  $CTR events > /tmp/events 2>&1 &
  events_pid=$!
  trap 'kill $events_pid 2>/dev/null' EXIT
  case "$1" in
  vmm-killed)
    # kill -9 of hull-vmm under a running container: its task exits 137, the
    # shim says why, and deleting the task cleans up.
    warm_up
    host_state > /tmp/state.before
    $CTR run -d $RT $IMG vk1 sleep 1000 || fail "ctr run -d"
    vmm=$(pids_of hull-vmm)
    [ -n "$vmm" ] || fail "no hull-vmm process"
    kill -9 $vmm
    expect_exit vk1 137
    echo "shim log:"; shim_log "microVM went away"
    [ -n "$(shim_log "microVM went away.*killed by signal 9")" ] || fail "the shim's log does not name the VMM's death by signal 9"
    settle
    host_state > /tmp/state.after
    compare_state /tmp/state.before /tmp/state.after "kill -9 of hull-vmm" ;;
  guest-panic)
    # A real guest kernel panic: a privileged exec sets vm.panic_on_oom=2
    # (panic on any OOM, a memory cgroup's too) and overruns the container's
    # 32 MiB memory limit; the kernel calls panic(), panic=-1 reboots the
    # guest, hull-vmm ends the VM. The same path a crashed agent takes (the
    # kernel panics when PID 1 dies), which no process in the guest can
    # trigger by a signal (PID 1 ignores kill -9 from its own namespace).
    warm_up
    host_state > /tmp/state.before
    $CTR run -d --privileged --memory-limit 33554432 $RT $IMG gp1 sleep 1000 || fail "ctr run -d"
    $CTR task exec --exec-id panic gp1 sh -c \
      'echo 2 > /proc/sys/vm/panic_on_oom && echo panic_on_oom=$(cat /proc/sys/vm/panic_on_oom) && dd if=/dev/zero of=/dev/null bs=64M count=1'
    echo "the exec exited $?"
    expect_exit gp1 137
    echo "shim log:"; shim_log "microVM went away"
    # hull-vmm tells a panic's reboot from a clean one (exit 3, "guest kernel panic"); the shim quotes it
    [ -n "$(shim_log "microVM went away.*[Kk]ernel panic")" ] || fail "the shim's log does not name the guest's kernel panic"
    settle
    host_state > /tmp/state.after
    compare_state /tmp/state.before /tmp/state.after "a guest kernel panic" ;;
  disk-full)
    # A full file system under the rootfs image cache: a small tmpfs over
    # /run/hull (the cache and the sandboxes' state directories must share a
    # file system: sandboxes hard-link their images from the cache), filled.
    # A container of a not yet cached image then fails with a clear error and
    # leaves nothing half-written; once space is freed the same image runs.
    mkdir -p /run/hull
    warm_up
    mount -t tmpfs -o size=16m,mode=0711 hull-full /run/hull || fail "cannot mount a tmpfs at /run/hull"
    mkdir -p /run/hull/shim /run/hull/rootfs-cache  # as a warm host has them, the cache empty
    dd if=/dev/zero of=/run/hull/filler bs=64k 2>/dev/null
    echo "filled: $(df -k /run/hull | tail -1)"
    host_state > /tmp/state.before
    if $CTR run --rm $RT $IMG df1 echo should-not-run > /tmp/df1.out 2>&1; then cat /tmp/df1.out; fail "a container started on a full disk"; fi
    echo "ctr run said:"; cat /tmp/df1.out
    grep -qi "no space left on device" /tmp/df1.out || fail "the error does not say the disk is full"
    grep -q "rootfs image" /tmp/df1.out || fail "the error does not say what was being written (the rootfs image)"
    [ -z "$($CTR container ls -q)" ] || { $CTR container ls; $CTR container rm df1; echo "note: ctr run --rm left its container record; removed"; }
    settle
    host_state > /tmp/state.after
    compare_state /tmp/state.before /tmp/state.after "a failed start on a full disk"
    rm -f /run/hull/filler
    out=$($CTR run --rm $RT $IMG df2 echo runs-again) || fail "with space freed, ctr run still fails: $out"
    [ "$out" = runs-again ] || fail "with space freed the container printed '$out'"
    echo "with space freed the same image runs: $out"
    settle
    ls -A /run/hull/rootfs-cache | grep -v '\.erofs$' && fail "temporary files left in the image cache"
    umount /run/hull ;;
  state-lost)
    # A host crash in miniature: the shim and hull-vmm are killed (the shim
    # first stopped, so it cannot react) and the shim's state directory is
    # deleted before containerd runs the shim's `delete`, which must still
    # find and remove everything (jail, VMM cgroup, socket).
    warm_up
    host_state > /tmp/state.before
    $CTR run -d $RT $IMG sl1 sleep 1000 || fail "ctr run -d"
    shim=$(pids_of containerd-shim); vmm=$(pids_of hull-vmm)
    [ -n "$shim" ] && [ -n "$vmm" ] || fail "no shim ($shim) or hull-vmm ($vmm) process"
    kill -STOP $shim
    kill -9 $vmm
    echo "state before the loss: $(find /run/hull/shim | wc -l) entries under /run/hull/shim"
    rm -rf /run/hull/shim/* || fail "cannot delete the shim's state (something is still mounted in it?)"
    kill -9 $shim
    wait_status_not sl1 RUNNING 300 || fail "sl1 still RUNNING after its shim died"
    $CTR task ls
    # containerd already deleted the dead shim's task (it ran the shim's
    # `delete` when the shim died): `ctr task rm` finds none.
    timeout 60 $CTR task rm sl1; echo "ctr task rm: $?"
    timeout 60 $CTR container rm sl1 || fail "ctr container rm sl1"
    # ctr's own stdio fifos (client side, /run/containerd/fifo/<n>/sl1-*): the
    # client removes them in its task delete, which had no task left to
    # delete; runc leaves the same. Only those are removed here.
    for f in /run/containerd/fifo/*/sl1-*; do [ -p "$f" ] && rm -f "$f" && rmdir "${f%/*}" 2>/dev/null; done
    settle
    host_state > /tmp/state.after
    compare_state /tmp/state.before /tmp/state.after "a lost state directory" ;;
  load-cycles)
    # N sequential `ctr run --rm`, after one warm-up run (containerd loads
    # its plugins' state and the image cache gets its entry): counters at
    # the start, half way and the end.
    n=$2
    warm_up
    host_state > /tmp/state.before
    metrics > /tmp/m.before
    start=$(date +%s)
    i=0
    while [ $i -lt "$n" ]; do
      i=$((i+1))
      out=$($CTR run --rm $RT $IMG cyc$i echo cycle $i) || fail "cycle $i exited $?"
      [ "$out" = "cycle $i" ] || fail "cycle $i printed: $out"
      if [ $i -eq $((n / 2)) ]; then settle; metrics > /tmp/m.half; fi
      # progress, so a run cut short still tells how far it got
      [ $((i % 10)) -eq 0 ] && echo "after $i cycles ($(($(date +%s) - start)) s): $(metrics | tr '\n' ' ')"
    done
    end=$(date +%s)
    settle
    metrics > /tmp/m.after
    host_state > /tmp/state.after
    echo "$n cycles in $((end - start)) s ($(( (end - start) * 10 / n )) ds a cycle)"
    check_counters /tmp/m.before /tmp/m.half /tmp/m.after
    compare_state /tmp/state.before /tmp/state.after "$n cycles" ;;
  load-concurrent)
    # N sandboxes created at once, all running together, then deleted at once.
    n=$2
    warm_up
    host_state > /tmp/state.before
    metrics > /tmp/m.before
    start=$(date +%s)
    i=0; jobs=""
    while [ $i -lt "$n" ]; do
      i=$((i+1))
      $CTR run -d $RT $IMG lc$i sleep 100000 > /tmp/lc$i.out 2>&1 &
      jobs="$jobs $!"
    done
    i=0; bad=0
    for j in $jobs; do i=$((i+1)); wait "$j" || { bad=$((bad+1)); echo "lc$i: ctr run -d failed: $(cat /tmp/lc$i.out)"; }; done
    up=$(date +%s)
    metrics > /tmp/m.peak
    running=$($CTR task ls | grep -c RUNNING)
    echo "$n sandboxes started at once in $((up - start)) s: $running RUNNING, $(count_of hull-vmm) hull-vmm, $(count_of containerd-shim) shims, MemAvailable $(metric /tmp/m.peak mem_available_kib) KiB (before: $(metric /tmp/m.before mem_available_kib))"
    [ $bad -eq 0 ] && [ "$running" -eq "$n" ] && [ "$(count_of hull-vmm)" -eq "$n" ] || fail "not all $n sandboxes came up"
    # Deleted at once: all killed, then (once containerd saw them stop) all removed.
    i=0; jobs=""
    while [ $i -lt "$n" ]; do i=$((i+1)); $CTR task kill -s SIGKILL lc$i & jobs="$jobs $!"; done
    for j in $jobs; do wait "$j"; done
    w=0; while $CTR task ls | grep -q RUNNING; do w=$((w+1)); [ $w -lt 600 ] || fail "tasks still RUNNING 5 min after SIGKILL"; sleep 0.5; done
    i=0; jobs=""
    while [ $i -lt "$n" ]; do
      i=$((i+1))
      ( $CTR task rm lc$i >/dev/null; $CTR container rm lc$i ) > /tmp/lcd$i.out 2>&1 &
      jobs="$jobs $!"
    done
    i=0
    for j in $jobs; do i=$((i+1)); wait "$j" || { bad=$((bad+1)); echo "lc$i: delete failed: $(cat /tmp/lcd$i.out)"; }; done
    end=$(date +%s)
    [ $bad -eq 0 ] || fail "$bad deletes failed"
    settle $((200 + n * 20))
    metrics > /tmp/m.after
    host_state > /tmp/state.after
    echo "$n sandboxes deleted at once in $((end - up)) s"
    check_counters /tmp/m.before /tmp/m.peak /tmp/m.after "$n"
    compare_state /tmp/state.before /tmp/state.after "$n concurrent sandboxes" ;;
  *) echo "cases.sh: unknown inner case $1" >&2; exit 2 ;;
  esac
  exit $?
fi

case "$1" in
vmm-killed|guest-panic|disk-full|state-lost) inner="$1" ;;
load-cycles-[0-9]*) inner="load-cycles ${1#load-cycles-}" ;;
load-concurrent-[0-9]*) inner="load-concurrent ${1#load-concurrent-}" ;;
*) echo "cases.sh: unknown case $1" >&2; exit 2 ;;
esac
sh "$R/opt/with-containerd" --image "$R/opt/busybox.tar" -- sh "$0" inner $inner
rc=$?
[ $rc -eq 0 ] && echo "PASS: $1"
exit $rc
