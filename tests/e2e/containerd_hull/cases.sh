#!/bin/sh
# Runs where KVM works (the L1, or directly; $E2E_ROOT prefixes copied files in
# direct mode). Each case starts its own containerd via with-containerd.
set -u
R=${E2E_ROOT:-}
# containerd finds the shim on PATH; the shim finds hull-vmm and the guest next to itself.
if [ -x /opt/hull/bin/containerd-shim-hull-v2 ]; then export PATH=/opt/hull/bin:$PATH; fi
IMG=hull.local/busybox:latest
RT="--runtime io.containerd.hull.v2"
export SHOW_CONTAINERD_LOG=1

# Is a process with this comm (first 15 bytes of its name) running? (no pgrep in L1's busybox)
running() { for c in /proc/[0-9]*/comm; do [ "$(cat "$c" 2>/dev/null)" = "$1" ] && return 0; done; return 1; }

run_case() { sh "$R/opt/with-containerd" --image "$R/opt/busybox.tar" -- sh -c "$1"; }

# Checked after each case: no VMM, no sandbox state, no mounts of ours.
leftovers() {
  running hull-vmm && echo "FAIL: hull-vmm left running"
  running containerd-shim && echo "FAIL: shim left running"
  [ -d /run/hull/shim ] && [ -n "$(ls -A /run/hull/shim)" ] && echo "FAIL: sandbox state left: $(ls -A /run/hull/shim)"
  grep -q ' /run/hull' /proc/mounts && echo "FAIL: mounts left: $(grep ' /run/hull' /proc/mounts)"
  # hull-jailer's per-VM cgroups (the parent hull-vmm stays on purpose)
  vm_cgroups=$(ls -d /sys/fs/cgroup/hull-vmm/vm-* 2>/dev/null)
  [ -n "$vm_cgroups" ] && echo "FAIL: VMM cgroups left: $vm_cgroups"
  return 0
}

# Pod cases (several containers, one microVM): hull-vmm processes running;
# SIGKILL a task, wait until containerd sees it STOPPED, remove it; after the
# pod's last container: its VM stopped, its shim given a moment to exit.
vmms() { n=0; for c in /proc/[0-9]*/comm; do [ "$(cat "$c" 2>/dev/null)" = hull-vmm ] && n=$((n+1)); done; echo $n; }
stop() {
  $CTR task kill -s SIGKILL $1
  i=0; while ! $CTR task ls | grep $1 | grep -q STOPPED; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: $1 never STOPPED"; exit 1; }; sleep 0.1; done
  $CTR task rm $1; $CTR container rm $1
}
pod_vm_gone() {
  i=0; while [ "$(vmms)" -ne 0 ]; do i=$((i+1)); [ $i -lt 100 ] || { echo "FAIL: hull-vmm still runs after the last container went"; exit 1; }; sleep 0.1; done
  w=0; while running containerd-shim && [ $w -lt 100 ]; do w=$((w+1)); sleep 0.1; done
}

# What a create/delete cycle could leave behind, one line per item: processes
# (by name, without this script's own tools), mounts, network interfaces
# (taps), unix sockets, hull's and containerd's per-task state directories.
# The rootfs image cache (/run/hull/rootfs-cache) is meant to stay; listed apart.
host_state() {
  for d in /proc/[0-9]*; do
    [ -n "$(tr -d '\000' < "$d/cmdline" 2>/dev/null | head -c 1)" ] || continue  # kernel threads come and go
    n=$(cat "$d/comm" 2>/dev/null) || continue
    case "$n" in sh|cat|sort|ls|grep|sed|awk|sleep|uniq|diff|comm|wc|tr|head) ;; *) echo "process $n" ;; esac
  done | sort | uniq -c
  awk '{print "mount " $2 " " $3}' /proc/mounts | sort
  ls /sys/class/net | sed 's/^/netif /'
  awk 'NR > 1 && $8 != "" {print "socket " $8}' /proc/net/unix | sort -u
  ls -A /run/hull/shim 2>/dev/null | sed 's/^/hull-state /'
  ls -d /sys/fs/cgroup/hull-vmm/vm-* 2>/dev/null | sed 's/^/vmm-cgroup /'
  ls -A /run/containerd/s 2>/dev/null | sed 's/^/shim-socket /'
}

# The new cases run their body here, inside with-containerd (CTR is set).
if [ "$1" = inner ]; then
  shift
  case "$1" in
  metrics)
    set -e
    # Some work first, so the cpu counter has something to count.
    $CTR run -d $RT $IMG cm sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 1000'
    sleep 2
    $CTR task metrics cm | tee /tmp/metrics
    $CTR task metrics --format json cm > /tmp/metrics.json
    value() { awk -v k="$1" '$1 == k {print $2}' /tmp/metrics; }
    for k in pids.current memory.usage cpu.usage_usec; do
      v=$(value $k)
      [ -n "$v" ] && [ "$v" -gt 0 ] || { echo "FAIL: $k is '$v', expected a positive count"; exit 1; }
    done
    grep -q -e '"usage_usec"' -e '"UsageUsec"' /tmp/metrics.json || { echo "FAIL: json metrics lack cpu usage"; cat /tmp/metrics.json; exit 1; }
    $CTR task kill -s SIGKILL cm
    i=0; while ! $CTR task ls | grep cm | grep -q STOPPED; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: never STOPPED"; exit 1; }; sleep 0.1; done
    $CTR task rm cm
    $CTR container rm cm ;;
  run-tty)
    # ctr needs a terminal on its stdin: pty-drive gives it one, types into it
    # and resizes it; the loops wait for the asynchronous ResizePty to land.
    grep -q " /dev/pts devpts" /proc/mounts || { mkdir -p /dev/pts; mount -t devpts -o ptmxmode=666 devpts /dev/pts; }
    [ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
    set +e
    pty-drive -r 30 -c 100 -t 300 \
      'expect=# ' \
      'send=tty\r' 'expect=/dev/pts/' \
      'send=until [ "$(stty size)" = "30 100" ]; do sleep 0.2; done; echo SIZE-""A-OK\r' 'expect=SIZE-A-OK' \
      'resize=40x120' \
      'send=until [ "$(stty size)" = "40 120" ]; do sleep 0.2; done; echo SIZE-""B-OK\r' 'expect=SIZE-B-OK' \
      'send=exit 7\r' \
      -- $CTR run -t --rm $RT $IMG ctty sh > /tmp/tty.out
    rc=$?
    cat /tmp/tty.out; echo
    [ $rc -eq 7 ] || { echo "FAIL: ctr run -t exited $rc, expected the shell's 7"; exit 1; }
    grep -q "^/dev/pts/[0-9]" /tmp/tty.out || { echo "FAIL: tty did not print /dev/pts/N"; exit 1; }
    echo "ctr run -t: tty and resize OK"
    # The same through an exec's terminal (ResizePty with an exec id).
    $CTR run -d $RT $IMG cttx sleep 1000 || { echo "FAIL: ctr run -d"; exit 1; }
    pty-drive -r 25 -c 90 -t 300 \
      'send=tty; until [ "$(stty size)" = "25 90" ]; do sleep 0.2; done; echo SIZE-""C-OK\r' 'expect=SIZE-C-OK' \
      'resize=50x140' \
      'send=until [ "$(stty size)" = "50 140" ]; do sleep 0.2; done; echo SIZE-""D-OK\r' 'expect=SIZE-D-OK' \
      'send=exit 5\r' \
      -- $CTR task exec -t --exec-id tx1 cttx sh > /tmp/exec-tty.out
    rc=$?
    cat /tmp/exec-tty.out; echo
    $CTR task kill -s SIGKILL cttx
    i=0; while ! $CTR task ls | grep cttx | grep -q STOPPED; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: never STOPPED"; exit 1; }; sleep 0.1; done
    $CTR task rm cttx && $CTR container rm cttx
    [ $rc -eq 5 ] || { echo "FAIL: ctr task exec -t exited $rc, expected the shell's 5"; exit 1; }
    grep -q "^/dev/pts/[0-9]" /tmp/exec-tty.out || { echo "FAIL: tty in the exec did not print /dev/pts/N"; exit 1; }
    echo "ctr task exec -t: tty and resize OK" ;;
  image-cache)
    set -e
    cache=/run/hull/rootfs-cache
    entries() { ls -A $cache 2>/dev/null | grep -c '\.erofs$' || true; }
    before=$(entries)
    $CTR run -d $RT $IMG ic1 sleep 1000
    [ "$(entries)" -eq $((before + 1)) ] || { echo "FAIL: the first container did not cache its image"; ls -l $cache; exit 1; }
    img=$(ls -t $cache/*.erofs | head -1)
    echo "cached image: $img, links $(stat -c %h "$img")"
    # Each sandbox links the image into its state directory, and (with
    # hull-jailer, the default as root) once more into its VMM's jail.
    per=1; { [ -x /opt/hull/bin/hull-jailer ] || command -v hull-jailer >/dev/null; } && per=2
    [ "$(stat -c %h "$img")" -eq $((1 + per)) ] || { echo "FAIL: expected the cache entry and one sandbox link"; exit 1; }
    $CTR run -d $RT $IMG ic2 sleep 1000
    [ "$(entries)" -eq $((before + 1)) ] || { echo "FAIL: the second container built another image"; ls -l $cache; exit 1; }
    [ "$(stat -c %h "$img")" -eq $((1 + 2 * per)) ] || { echo "FAIL: the second container does not share the image (links $(stat -c %h "$img"))"; exit 1; }
    grep "rootfs image" "$CONTAINERD_LOG" | sed 's/.*msg="//; s/".*//'
    [ "$(grep -c "reused from the cache" "$CONTAINERD_LOG")" -eq 1 ] || { echo "FAIL: no shim log line says the image was reused"; exit 1; }
    $CTR task kill -s SIGKILL ic1
    i=0; while ! $CTR task ls | grep ic1 | grep -q STOPPED; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: never STOPPED"; exit 1; }; sleep 0.1; done
    $CTR task rm ic1
    $CTR container rm ic1
    [ -f "$img" ] && [ "$(stat -c %h "$img")" -eq $((1 + per)) ] || { echo "FAIL: deleting ic1 took the image ic2 uses"; exit 1; }
    out=$($CTR task exec --exec-id e1 ic2 cat /etc/hostname)
    [ "$out" = hull ] || { echo "FAIL: ic2 cannot read its rootfs after ic1 went: $out"; exit 1; }
    $CTR task kill -s SIGKILL ic2
    i=0; while ! $CTR task ls | grep ic2 | grep -q STOPPED; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: never STOPPED"; exit 1; }; sleep 0.1; done
    $CTR task rm ic2
    $CTR container rm ic2
    [ "$(stat -c %h "$img")" -eq 1 ] || { echo "FAIL: a sandbox link outlived its container"; exit 1; }
    echo "image built once, shared by two containers, kept for the next" ;;
  two-containers)
    # Two containers of one pod (containerd groups them by the sandbox-id
    # annotation, as the CRI sets it): one shim, one microVM; the later
    # containers' rootfs images are swapped into the VM's spare drive slots.
    set -e
    pod="--annotation io.kubernetes.cri.sandbox-id=pod1"
    $CTR run -d $RT $pod $IMG tc1 sh -c 'echo written by tc1 > /tc1-file; sleep 1000'
    $CTR run -d $RT $pod $IMG tc2 sleep 1000
    [ "$(vmms)" -eq 1 ] || { echo "FAIL: $(vmms) hull-vmm processes for one pod, expected 1"; exit 1; }
    out=$($CTR task exec --exec-id e1 tc1 sh -c 'echo tc1 says hi; cat /tc1-file')
    echo "$out"; echo "$out" | grep -qx "written by tc1" || { echo "FAIL: tc1 exec output"; exit 1; }
    out=$($CTR task exec --exec-id e1 tc2 sh -c 'echo tc2 says hi; cat /etc/hostname; ls /tc1-file 2>&1 || true')
    echo "$out"; echo "$out" | grep -qx "tc2 says hi" || { echo "FAIL: tc2 exec output"; exit 1; }
    echo "$out" | grep -qx hull || { echo "FAIL: tc2 does not see its image's /etc/hostname"; exit 1; }
    echo "$out" | grep -q "No such file" || { echo "FAIL: tc2 sees tc1's writable layer"; exit 1; }
    stop tc1
    [ "$(vmms)" -eq 1 ] || { echo "FAIL: deleting tc1 stopped the VM tc2 runs in"; exit 1; }
    out=$($CTR task exec --exec-id e2 tc2 cat /etc/hostname)
    [ "$out" = hull ] || { echo "FAIL: tc2 cannot read its rootfs after tc1 went: $out"; exit 1; }
    # tc1's freed slot (/dev/vda) takes the next container's image.
    out=$($CTR run --rm $RT $pod $IMG tc3 sh -c 'echo third; ls /tc1-file 2>&1 || true')
    echo "$out"; echo "$out" | grep -qx third || { echo "FAIL: tc3 output"; exit 1; }
    echo "$out" | grep -q "No such file" || { echo "FAIL: tc3 sees tc1's files"; exit 1; }
    # 1 + 3 spare slots: a fifth container at once gets a clear error.
    $CTR run -d $RT $pod $IMG tc4 sleep 1000
    $CTR run -d $RT $pod $IMG tc5 sleep 1000
    $CTR run -d $RT $pod $IMG tc6 sleep 1000
    if $CTR run -d $RT $pod $IMG tc7 sleep 1000 2> /tmp/tc7.err; then echo "FAIL: a fifth container got a drive slot"; exit 1; fi
    cat /tmp/tc7.err
    grep -q "all 4 rootfs drive slots" /tmp/tc7.err || { echo "FAIL: the error does not name the limit"; exit 1; }
    $CTR container rm tc7 2>/dev/null || true
    stop tc4; stop tc5; stop tc6
    [ "$(vmms)" -eq 1 ] || { echo "FAIL: the VM went with tc2 still running"; exit 1; }
    stop tc2
    pod_vm_gone
    echo "two containers in one microVM: both ran, the VM outlived the first and stopped with the last" ;;
  two-images)
    # Two containers of DIFFERENT images in one pod VM (mark-image gave each its
    # own marker file): every container must see its own image in its drive
    # slot, also after a slot was freed and refilled, never the other's stale erofs.
    set -e
    pod="--annotation io.kubernetes.cri.sandbox-id=pod2"
    A=hull.local/image-a:latest; B=hull.local/image-b:latest
    # own MINE OTHER OUTPUT: OUTPUT shows marker MINE and no file /OTHER.
    own() {
      echo "$3"
      echo "$3" | grep -qx "$1" || { echo "FAIL: the container of image ${1#IMAGE_} does not see its /$1"; exit 1; }
      echo "$3" | grep -q "/$2.*No such file" || { echo "FAIL: the container of image ${1#IMAGE_} sees /$2 of the other image"; exit 1; }
    }
    look() { echo "cat /$1; ls /$2 2>&1 || true"; }
    $CTR run -d $RT $pod $A ia sleep 1000
    $CTR run -d $RT $pod $B ib sleep 1000
    [ "$(vmms)" -eq 1 ] || { echo "FAIL: $(vmms) hull-vmm processes for one pod, expected 1"; exit 1; }
    own IMAGE_A IMAGE_B "$($CTR task exec --exec-id e1 ia sh -c "$(look IMAGE_A IMAGE_B)")"
    own IMAGE_B IMAGE_A "$($CTR task exec --exec-id e1 ib sh -c "$(look IMAGE_B IMAGE_A)")"
    # ia's slot (/dev/vda, image A) is freed and refilled: first with B, then A again.
    stop ia
    own IMAGE_B IMAGE_A "$($CTR run --rm $RT $pod $B ib2 sh -c "$(look IMAGE_B IMAGE_A)")"
    own IMAGE_A IMAGE_B "$($CTR run --rm $RT $pod $A ia2 sh -c "$(look IMAGE_A IMAGE_B)")"
    own IMAGE_B IMAGE_A "$($CTR task exec --exec-id e2 ib sh -c "$(look IMAGE_B IMAGE_A)")"
    [ "$(vmms)" -eq 1 ] || { echo "FAIL: $(vmms) hull-vmm processes for one pod, expected 1"; exit 1; }
    stop ib
    pod_vm_gone
    echo "two images in one microVM: each container saw its own rootfs, before and after a slot was reused" ;;
  pod-network)
    # A CNI-style pod namespace: a veth pair, eth0 (10.88.0.2/24) in the
    # namespace, hveth0 (10.88.0.1/24) here. The container joins it with
    # --with-ns; the shim mirrors eth0 to a tap (tc) that backs the microVM's NIC.
    set -e
    [ -e /var/run ] || ln -s /run /var/run
    # The shell prefers busybox's applets to PATH: name iproute2's programs
    # (the first on PATH that is not a busybox link).
    real() { ( IFS=:; for d in $PATH; do [ -x "$d/$1" ] && [ ! -L "$d/$1" ] && { echo "$d/$1"; exit 0; }; done; exit 1 ) \
      || { echo "FAIL: no $1 but busybox's on PATH" >&2; exit 1; }; }
    ip=$(real ip); tc=$(real tc); nsenter=$(real nsenter)
    ns=hullpod; nsp=/var/run/netns/$ns
    in_ns() { $nsenter --net=$nsp "$@"; }
    $ip netns add $ns
    $ip link add hveth0 type veth peer name eth0 netns $ns
    $ip addr add 10.88.0.1/24 dev hveth0 && $ip link set hveth0 up
    in_ns $ip addr add 10.88.0.2/24 dev eth0 && in_ns $ip link set eth0 up && in_ns $ip link set lo up
    mac=$(in_ns $ip -br link show dev eth0 | awk '{print $3}')
    echo "pod veth eth0: $mac"
    $CTR run -d --with-ns network:$nsp $RT $IMG pn1 sleep 1000
    out=$($CTR task exec --exec-id e1 pn1 ip addr show eth0)
    echo "$out"
    echo "$out" | grep -q "inet 10.88.0.2/24" || { echo "FAIL: the guest NIC lacks the veth's address"; exit 1; }
    echo "$out" | grep -qi "link/ether $mac" || { echo "FAIL: the guest NIC lacks the veth's MAC $mac"; exit 1; }
    in_ns $ip link show hulltap0 >/dev/null || { echo "FAIL: no tap in the pod namespace"; exit 1; }
    in_ns $tc filter show dev eth0 ingress | tee /tmp/filters
    grep -q "mirred.*hulltap0" /tmp/filters || { echo "FAIL: no mirred redirect from eth0 to the tap"; exit 1; }
    $CTR task exec --exec-id e2 pn1 ping -c 3 -W 10 10.88.0.1 || { echo "FAIL: the pod cannot ping 10.88.0.1"; exit 1; }
    # TCP both ways: the pod connects out, then the L1 side connects in.
    nc -l -p 7777 > /tmp/from-pod & srv=$!
    sleep 1
    $CTR task exec --exec-id e3 pn1 sh -c 'echo hello-from-pod | nc -w 5 10.88.0.1 7777' || true
    i=0; while [ ! -s /tmp/from-pod ] && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done
    kill $srv 2>/dev/null || true
    [ "$(cat /tmp/from-pod)" = hello-from-pod ] || { echo "FAIL: the L1 side got '$(cat /tmp/from-pod)' from the pod"; exit 1; }
    $CTR task exec --exec-id e4 pn1 sh -c 'nc -l -p 7778 > /tmp/got' & ex=$!
    i=0; until echo hello-to-pod | nc -w 5 10.88.0.2 7778; do i=$((i+1)); [ $i -lt 30 ] || { echo "FAIL: cannot connect to the pod's 10.88.0.2:7778"; exit 1; }; sleep 0.5; done
    wait $ex || true
    got=$($CTR task exec --exec-id e5 pn1 cat /tmp/got)
    [ "$got" = hello-to-pod ] || { echo "FAIL: the pod got '$got' from the L1 side"; exit 1; }
    echo "ping and TCP both ways through the tc mirror: OK"
    $CTR task kill -s SIGKILL pn1
    i=0; while ! $CTR task ls | grep pn1 | grep -q STOPPED; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: never STOPPED"; exit 1; }; sleep 0.1; done
    $CTR task rm pn1
    $CTR container rm pn1
    in_ns $ip link show | tee /tmp/links
    in_ns $tc qdisc show | tee /tmp/qdiscs
    ! grep -q hulltap /tmp/links || { echo "FAIL: a tap is left in the pod namespace"; exit 1; }
    ! grep -q ingress /tmp/qdiscs || { echo "FAIL: an ingress qdisc (tc filters) is left in the pod namespace"; exit 1; }
    in_ns $ip -br addr show dev eth0 | grep -q 10.88.0.2/24 || { echo "FAIL: the veth lost its address"; exit 1; }
    $ip netns del $ns
    echo "no tap or tc filter left after delete" ;;
  cycles)
    n=$2
    host_state > /tmp/state.before
    i=0
    while [ $i -lt $n ]; do
      i=$((i+1))
      out=$($CTR run --rm $RT $IMG cyc$i echo cycle $i) || { echo "FAIL: cycle $i exited $?"; exit 1; }
      [ "$out" = "cycle $i" ] || { echo "FAIL: cycle $i printed: $out"; exit 1; }
      if running hull-vmm; then echo "FAIL: hull-vmm still running after cycle $i"; exit 1; fi
    done
    # containerd reaps a shim shortly after `ctr run --rm` returns.
    w=0; while running containerd-shim && [ $w -lt 100 ]; do w=$((w+1)); sleep 0.1; done
    host_state > /tmp/state.after
    echo "--- before the cycles:"; cat /tmp/state.before
    echo "--- after $i cycles: $(wc -l < /tmp/state.after) lines (before: $(wc -l < /tmp/state.before))"
    echo "rootfs image cache: $(ls -A /run/hull/rootfs-cache 2>/dev/null | wc -l) image(s) kept"
    if ! diff /tmp/state.before /tmp/state.after; then echo "FAIL: the cycles left the differences above"; exit 1; fi ;;
  *) echo "cases.sh: unknown inner case $1" >&2; exit 2 ;;
  esac
  exit $?
fi

case "$1" in
metrics|run-tty|image-cache|two-containers|pod-network)
  run_case "sh $0 inner $1" ;;
two-images)
  sh "$R/opt/with-containerd" --image "$R/opt/image-a.tar" --image "$R/opt/image-b.tar" -- sh -c "sh $0 inner two-images" ;;
cycles|cycles-[0-9]*)
  # The issue asks for 20 cycles; under nested TCG each takes tens of seconds,
  # so CI runs 3; the opt-in case cycles-20 (ctest label e2e-long) runs 20.
  n=3; [ "$1" != cycles ] && n=${1#cycles-}
  run_case "sh $0 inner cycles $n" ;;
run-echo)
  run_case '
    out=$($CTR run --rm '"$RT"' '"$IMG"' c1 echo hello from hull via containerd) || { echo "FAIL: ctr run exited $?"; exit 1; }
    echo "$out"
    [ "$out" = "hello from hull via containerd" ] || { echo "FAIL: unexpected output"; exit 1; }' ;;
exit-status)
  run_case '
    $CTR run --rm '"$RT"' '"$IMG"' c2 sh -c "exit 3"; rc=$?
    [ $rc -eq 3 ] || { echo "FAIL: expected exit status 3 from ctr run, got $rc"; exit 1; }' ;;
exec-ps-pause-kill)
  run_case '
    set -e
    $CTR run -d '"$RT"' '"$IMG"' c3 sleep 1000
    out=$($CTR task exec --exec-id e1 c3 sh -c "echo inside; hostname")
    echo "$out"
    echo "$out" | grep -qx inside || { echo "FAIL: exec output"; exit 1; }
    $CTR task ps c3 | tee /tmp/ps
    [ "$(wc -l < /tmp/ps)" -ge 2 ] || { echo "FAIL: task ps lists no process"; exit 1; }
    $CTR task pause c3
    $CTR task ls | grep c3 | grep -q PAUSED || { echo "FAIL: not PAUSED"; $CTR task ls; exit 1; }
    $CTR task resume c3
    $CTR task ls | grep c3 | grep -q RUNNING || { echo "FAIL: not RUNNING after resume"; exit 1; }
    $CTR task kill -s SIGKILL c3
    i=0; while ! $CTR task ls | grep c3 | grep -q STOPPED; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: never STOPPED"; exit 1; }; sleep 0.1; done
    $CTR task rm c3
    $CTR container rm c3' ;;
shim-killed|shim-terminated)
  # kill -9 of the shim mid-run: containerd sees the task exit and runs the
  # shim's delete, which must stop the orphaned VMM and remove its state.
  # SIGTERM: the shim shuts its sandbox down itself, a container still running.
  sig=KILL; [ "$1" = shim-terminated ] && sig=TERM
  run_case '
    set -e
    $CTR run -d '"$RT"' '"$IMG"' c5 sleep 1000
    shim=""
    for c in /proc/[0-9]*/comm; do
      [ "$(cat "$c" 2>/dev/null)" = containerd-shim ] && shim=$(basename "$(dirname "$c")")
    done
    [ -n "$shim" ] || { echo "FAIL: no shim process found"; exit 1; }
    kill -'"$sig"' "$shim"
    i=0; while $CTR task ls | grep c5 | grep -q RUNNING; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: task still RUNNING after the shim died"; exit 1; }; sleep 0.1; done
    $CTR task ls
    echo "task rm:"; timeout 60 $CTR task rm c5 || true
    echo "container rm:"; timeout 60 $CTR container rm c5
    echo removed
    i=0; while [ -n "$(ls -A /run/hull/shim 2>/dev/null)" ]; do i=$((i+1)); [ $i -lt 100 ] || break; sleep 0.1; done' ;;
virtiofs-shim-killed)
  # The annotation io.hull.rootfs=virtiofs (VMM not jailed here): a bind
  # volume is live in the container; then kill -9 of the shim: its delete
  # must take the share's mounts down before removing the state directory,
  # so the volume and the snapshot keep every file.
  mkdir -p /tmp/vol && echo "from the host" > /tmp/vol/host.txt
  run_case '
    set -e
    $CTR run -d '"$RT"' --annotation io.hull.rootfs=virtiofs --mount type=bind,src=/tmp/vol,dst=/data,options=rbind:rw \
      '"$IMG"' c6 sh -c "cat /data/host.txt > /data/copied.txt; echo from the guest > /data/guest.txt; sleep 1000"
    i=0; while [ ! -s /tmp/vol/guest.txt ]; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: the container never wrote into the volume"; exit 1; }; sleep 0.1; done
    [ "$(cat /tmp/vol/copied.txt)" = "from the host" ] || { echo "FAIL: the container read \"$(cat /tmp/vol/copied.txt)\" from the volume"; exit 1; }
    grep " /run/hull/shim/.*/share" /proc/mounts || { echo "FAIL: no virtio-fs share mounted"; exit 1; }
    ! ls /run/hull/shim/*/ | grep -q "\.erofs$" || { echo "FAIL: an erofs image was built in virtio-fs mode"; exit 1; }
    [ "$($CTR task exec --exec-id e1 c6 sh -c "grep -c \"^hullshare / virtiofs\" /proc/mounts")" = 1 ] || { echo "FAIL: / is not the virtio-fs share"; exit 1; }
    shim=""
    for c in /proc/[0-9]*/comm; do
      [ "$(cat "$c" 2>/dev/null)" = containerd-shim ] && shim=$(basename "$(dirname "$c")")
    done
    [ -n "$shim" ] || { echo "FAIL: no shim process found"; exit 1; }
    kill -KILL "$shim"
    i=0; while $CTR task ls | grep c6 | grep -q RUNNING; do i=$((i+1)); [ $i -lt 300 ] || { echo "FAIL: task still RUNNING after the shim died"; exit 1; }; sleep 0.1; done
    timeout 60 $CTR task rm c6 || true
    timeout 60 $CTR container rm c6
    i=0; while [ -n "$(ls -A /run/hull/shim 2>/dev/null)" ]; do i=$((i+1)); [ $i -lt 100 ] || break; sleep 0.1; done'
  rc=$?
  if [ $rc -eq 0 ]; then
    for f in host.txt copied.txt guest.txt; do
      [ -s /tmp/vol/$f ] || { echo "FAIL: the volume lost $f when the shim was killed: $(ls -la /tmp/vol)"; rc=1; }
    done
  fi
  (exit $rc) ;;
*) echo "cases.sh: unknown case $1" >&2; exit 2 ;;
esac
rc=$?
bad=$(leftovers)
[ -z "$bad" ] || { echo "$bad"; exit 1; }
[ $rc -eq 0 ] && echo "PASS: $1"
exit $rc
