#!/bin/sh
# Runs where KVM works (the L1, or directly; $E2E_ROOT prefixes copied files in
# direct mode). Each case starts its own containerd with the CRI plugin
# (with-containerd --cri) and drives it with hull-cri, as kubelet would.
set -u
R=${E2E_ROOT:-}
if [ -x /opt/hull/bin/containerd-shim-hull-v2 ]; then export PATH=/opt/hull/bin:$PATH; fi
export SHOW_CONTAINERD_LOG=1
CNI_PLUGINS=/usr/lib/cni
[ -x "$R/opt/cni/bin/bridge" ] && CNI_PLUGINS=$R/opt/cni/bin

if [ "$1" != inner ]; then
  # The L1 is a bare initramfs: containerd's CRI wants /etc/hosts to copy into
  # each pod (a marker line shows the pod got this one), CNI /var/run/netns.
  [ -e /var/run ] || ln -s /run /var/run
  if [ -z "$R" ]; then
    printf '127.0.0.1 localhost\n10.89.0.254 hull-e2e-marker\n' > /etc/hosts
  fi
  work=$(mktemp -d /tmp/cri.XXXXXX)
  mkdir -p "$work/cni" "$work/cni-bin"
  # containerd takes one CNI bin dir: Debian's plugins and the test's own.
  for p in bridge host-local loopback; do ln -s "$CNI_PLUGINS/$p" "$work/cni-bin/$p"; done
  ln -s "$(command -v hull-vanish-netns)" "$work/cni-bin/hull-vanish-netns"
  # bad-input: a plugin chained after the bridge deletes each pod's netns.
  vanish=""
  [ "$1" = bad-input ] && vanish=', {"type": "hull-vanish-netns"}'
  # A bridge network (no masquerade: pod-to-pod and L1-to-pod stay on the
  # bridge); MTU 1400 so the test sees the pod's MTU reach the guest NIC.
  cat > "$work/cni/10-hull.conflist" <<JSON
{"cniVersion": "0.4.0", "name": "hull-e2e", "plugins": [
  {"type": "bridge", "bridge": "hullbr0", "isGateway": true, "ipMasq": false, "mtu": 1400,
   "ipam": {"type": "host-local", "dataDir": "$work/ipam",
            "ranges": [[{"subnet": "10.89.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}}$vanish]}
JSON
  export CRI_WORK=$work
  # virtiofs: the shim shares rootfs and volumes over virtio-fs (containerd's
  # environment reaches the shim); the test's volumes lie below an allowed root.
  if [ "$1" = virtiofs ]; then
    mkdir -p "$work/volumes"
    export HULL_ROOTFS=virtiofs HULL_POD_BIND_ROOTS=$work/volumes
  fi
  sh "$R/opt/with-containerd" --image "$R/opt/busybox.tar" --image "$R/opt/pause.tar" \
    --cri hull.local/pause:latest --cni-conf-dir "$work/cni" --cni-bin-dir "$work/cni-bin" -- sh "$0" inner "$1"
  rc=$?
  rm -rf "$work"
  exit $rc
fi
shift

# --- inside with-containerd: CRI_ENDPOINT, CONTAINERD_ROOT, CRI_WORK are set ---
fail() { echo "FAIL: $*"; exit 1; }
cri() { hull-cri --endpoint "$CRI_ENDPOINT" --timeout 300 "$@"; }
count() { n=0; for c in /proc/[0-9]*/comm; do [ "$(cat "$c" 2>/dev/null)" = "$1" ] && n=$((n+1)); done; echo $n; }
# iproute2's ip (the shell prefers busybox's applets, which lack netns and -j).
real() { ( IFS=:; for d in $PATH; do [ -x "$d/$1" ] && [ ! -L "$d/$1" ] && { echo "$d/$1"; exit 0; }; done; exit 1 ) \
  || fail "no $1 but busybox's on PATH"; }
IP=$(real ip); NSENTER=$(real nsenter)

# A pod config (PodSandboxConfig) and a container config (ContainerConfig) as JSON files.
pod_config() {  # NAME FILE
  cat > "$2" <<JSON
{"metadata": {"name": "$1", "namespace": "e2e", "uid": "uid-$1", "attempt": 0},
 "hostname": "$1",
 "log_directory": "$CRI_WORK/logs/$1",
 "dns_config": {"servers": ["10.89.0.53"], "searches": ["hull.test"], "options": ["ndots:2"]},
 "labels": {"app": "$1"},
 "linux": {}}
JSON
}
container_config() {  # NAME FILE COMMAND
  cat > "$2" <<JSON
{"metadata": {"name": "$1", "attempt": 0},
 "image": {"image": "hull.local/busybox:latest"},
 "command": ["sh", "-c", "$3"],
 "log_path": "$1.log",
 "linux": {}}
JSON
}
# Runs a pod with one busybox container running COMMAND; sets POD and CTR_ID.
run_pod() {  # NAME COMMAND
  pod_config "$1" "$CRI_WORK/$1.pod.json"
  container_config "$1-c" "$CRI_WORK/$1.ctr.json" "$2"
  POD=$(cri --get /pod_sandbox_id runp --runtime hull "$CRI_WORK/$1.pod.json") || fail "RunPodSandbox $1"
  echo "pod $1: $POD"
  CTR_ID=$(cri --get /container_id create "$POD" "$CRI_WORK/$1.ctr.json" "$CRI_WORK/$1.pod.json") || fail "CreateContainer in $1"
  cri start "$CTR_ID" >/dev/null || fail "StartContainer $CTR_ID"
}
# exec-sync's stdout as it is, failing the case when the command fails.
exec_out() {  # CONTAINER CMD...
  c=$1; shift
  cri exec-sync --raw "$c" -- "$@" || fail "ExecSync '$*' in $c failed (status $?)"
}
remove_pod() {  # POD
  cri stopp "$1" >/dev/null || fail "StopPodSandbox $1"
  cri rmp "$1" >/dev/null || fail "RemovePodSandbox $1"
}
# Nothing of a pod may stay: VMM, shim, pod netns, veth or tap, hull state,
# mounts of hull or of the pod, IPAM lease, CRI's record.
no_leftovers() {
  i=0; while [ "$(count containerd-shim)" -gt 0 ] && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done
  [ "$(count hull-vmm)" -eq 0 ] || fail "hull-vmm left running"
  [ "$(count containerd-shim)" -eq 0 ] || fail "shim left running"
  [ -z "$(ls -A /run/hull/shim 2>/dev/null)" ] || fail "hull sandbox state left: $(ls -A /run/hull/shim)"
  ! grep -q ' /run/hull' /proc/mounts || fail "mounts left: $(grep ' /run/hull' /proc/mounts)"
  for p in "$@"; do
    ! grep -q "$p" /proc/mounts || fail "mounts of pod $p left: $(grep "$p" /proc/mounts)"
  done
  [ -z "$(ls -A /var/run/netns 2>/dev/null)" ] || fail "network namespaces left: $(ls -A /var/run/netns)"
  ! $IP -br link | grep -q -e '^veth' -e hulltap || fail "interfaces left: $($IP -br link)"
  leases=$(ls "$CRI_WORK/ipam/hull-e2e" 2>/dev/null | grep -c '^10\.' || true)
  [ "$leases" -eq 0 ] || fail "$leases IP lease(s) left in host-local's store"
  [ "$(cri --get /pods list)" = "[]" ] || fail "CRI still lists pods: $(cri list)"
  echo "nothing left: no VMM, shim, netns, veth/tap, mounts, state or IP lease"
}

# A volume outside the allowed host roots is refused in the running pod $POD
# (whose container is $CTR_ID), which keeps running.
check_volume_outside_roots() {
  # A volume whose host path lies outside the roots a pod may mount (kubelet's
  # pod dirs, the pod's own CRI files, HULL_POD_BIND_ROOTS): containerd only
  # records the container at CreateContainer; StartContainer (the shim's
  # task Create) fails naming it, and the pod's VM holds nothing of it.
  cat > "$CRI_WORK/hostetc.ctr.json" <<JSON
{"metadata": {"name": "hostetc", "attempt": 0},
 "image": {"image": "hull.local/busybox:latest"},
 "command": ["cat", "/host-etc/shadow"],
 "mounts": [{"container_path": "/host-etc", "host_path": "/etc", "readonly": true}],
 "log_path": "hostetc.log",
 "linux": {}}
JSON
  hc=$(cri --get /container_id create "$POD" "$CRI_WORK/hostetc.ctr.json" "$CRI_WORK/lifecycle.pod.json") \
    || fail "CreateContainer of the container with a hostPath of /etc (containerd only records it)"
  if cri start "$hc" 2> "$CRI_WORK/err"; then fail "a container with a hostPath volume of /etc was started"; fi
  cat "$CRI_WORK/err"
  grep -q "/etc for /host-etc is outside the host paths a pod may mount" "$CRI_WORK/err" \
    || fail "the error does not name the volume and the allowed roots"
  cri rm "$hc" > /dev/null || fail "RemoveContainer of the refused container"
  [ "$(cri --get /containers list | grep -c "$hc")" -eq 0 ] || fail "CRI lists the refused container: $(cri list)"
  # rootfs1.erofs is the running container's drive slot; the refused one took none.
  [ "$(ls /run/hull/shim/*/ | grep -c '^rootfs[0-9]')" -eq 1 ] || fail "drive slots besides the running container's: $(ls /run/hull/shim/*/)"
  [ "$(exec_out "$CTR_ID" echo alive)" = alive ] || fail "the pod's container did not survive the refused one"
}
# UpdateContainerResources with a memory limit sets the container's cgroup in
# the guest and resizes the pod's VM: target = limits + 64 MiB guest overhead,
# the rest of the 128 MiB it booted with inflated into the balloon.
check_memory_resize() {
  set -- /run/hull/shim/*/api.sock
  [ $# -eq 1 ] && [ -S "$1" ] || fail "expected one pod's VMM API socket, found: $*"
  api=$1
  vmm_pid=$(cat "$(dirname "$api")/vmm.pid") || fail "no vmm.pid beside $api"
  vmm_get() { curl -sf --unix-socket "$api" "http://localhost$1" || fail "GET $1 from hull-vmm failed"; }
  amount() { vmm_get /balloon | sed -n 's/.*"amount_mib": *\([0-9]*\).*/\1/p'; }
  counter() { vmm_get /balloon/statistics | sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p"; }
  rss() { awk '/^VmRSS:/ {print $2}' "/proc/$vmm_pid/status"; }
  memfree() { exec_out "$CTR_ID" awk '/^MemFree:/ {print $2}' /proc/meminfo; }
  # Waits until the balloon statistics COUNTER reaches N.
  wait_counter() {  # COUNTER N
    i=0; while [ "$(counter "$1")" -lt "$2" ] && [ $i -lt 120 ]; do i=$((i+1)); sleep 0.5; done
    [ "$(counter "$1")" -ge "$2" ] || fail "balloon $1 $(counter "$1") after 60 s, expected >= $2: $(vmm_get /balloon/statistics)"
  }
  [ "$(amount)" = 0 ] || fail "a pod without limits has a balloon of $(amount) MiB: $(vmm_get /balloon)"
  sleep 5  # free page reporting settles after boot
  rss0=$(rss); free0=$(memfree); discarded0=$(counter discarded_kib)
  echo "before: balloon 0 MiB, hull-vmm VmRSS $rss0 KiB, guest MemFree $free0 KiB, discarded $discarded0 KiB"
  # Shrink: a 32 MiB limit -> target 96 MiB -> balloon 32 MiB (8192 pages).
  echo '{"memory_limit_in_bytes": 33554432}' > "$CRI_WORK/limit32.json"
  cri update "$CTR_ID" "$CRI_WORK/limit32.json" >/dev/null || fail "UpdateContainerResources to 32 MiB"
  [ "$(amount)" = 32 ] || fail "balloon target $(amount) MiB after a 32 MiB limit, expected 32: $(vmm_get /balloon)"
  wait_counter inflated_pages 8192
  sleep 3
  rss1=$(rss); free1=$(memfree); discarded1=$(counter discarded_kib)
  max=$(exec_out "$CTR_ID" cat /sys/fs/cgroup/memory.max)
  echo "after 32 MiB limit: balloon $(amount) MiB, $(vmm_get /balloon/statistics)"
  echo "  hull-vmm VmRSS $rss1 KiB ($(( (rss0 - rss1) / 1024 )) MiB less), guest MemFree $free1 KiB ($(( (free0 - free1) / 1024 )) MiB less), container memory.max $max"
  [ "$max" = 33554432 ] || fail "the container's cgroup memory.max in the guest is '$max', expected 33554432"
  [ $((free0 - free1)) -ge $((24 * 1024)) ] || fail "guest MemFree fell by $(( (free0 - free1) / 1024 )) MiB, expected >= 24 of the 32 ballooned"
  # hull-vmm discarded the 32 MiB the guest handed over. Its RSS drops only by
  # what of them was still resident: free page reporting has usually given
  # most free memory back already (nested L1: 66.8 -> 59.3 MiB in one run,
  # 56.5 -> 55.7 in another); it must not grow.
  [ $((discarded1 - discarded0)) -ge 32768 ] || fail "hull-vmm discarded $((discarded1 - discarded0)) KiB for a 32 MiB balloon"
  [ "$rss1" -le $((rss0 + 2048)) ] || fail "hull-vmm grew from $rss0 to $rss1 KiB while its guest gave 32 MiB back"
  # More than the VM was booted with: a clear error, nothing changed.
  echo '{"memory_limit_in_bytes": 536870912}' > "$CRI_WORK/limit512.json"
  if cri update "$CTR_ID" "$CRI_WORK/limit512.json" 2> "$CRI_WORK/err"; then fail "a 512 MiB limit in a 128 MiB VM was accepted"; fi
  cat "$CRI_WORK/err"
  grep -q "booted with 128 MiB" "$CRI_WORK/err" || fail "the error does not name the VM's boot memory"
  grep -q "io.hull.vm.memory_mib" "$CRI_WORK/err" || fail "the error does not say how to boot a bigger VM"
  [ "$(amount)" = 32 ] || fail "a refused update changed the balloon to $(amount) MiB"
  [ "$(exec_out "$CTR_ID" cat /sys/fs/cgroup/memory.max)" = 33554432 ] || fail "a refused update changed the container's limit"
  # Grow: 48 MiB -> balloon 16 MiB, 4096 pages deflated.
  echo '{"memory_limit_in_bytes": 50331648}' > "$CRI_WORK/limit48.json"
  cri update "$CTR_ID" "$CRI_WORK/limit48.json" >/dev/null || fail "UpdateContainerResources to 48 MiB"
  [ "$(amount)" = 16 ] || fail "balloon target $(amount) MiB after a 48 MiB limit, expected 16"
  wait_counter deflated_pages 4096
  [ "$(exec_out "$CTR_ID" cat /sys/fs/cgroup/memory.max)" = 50331648 ] || fail "the container's limit did not grow to 48 MiB"
  echo "after 48 MiB limit: balloon $(amount) MiB, guest MemFree $(memfree) KiB, hull-vmm VmRSS $(rss) KiB"
}

case "$1" in
pod-lifecycle)
  cri version
  run_pod lifecycle 'echo started > /tmp/started; sleep 100000'
  [ "$(count hull-vmm)" -eq 1 ] || fail "$(count hull-vmm) hull-vmm processes for one pod (pause + container), expected 1"
  [ "$(cri --get /status/state inspectp "$POD")" = SANDBOX_READY ] || fail "pod not ready: $(cri inspectp "$POD")"
  [ "$(cri --get /status/state inspect "$CTR_ID")" = CONTAINER_RUNNING ] || fail "container not running: $(cri inspect "$CTR_ID")"
  # What the CRI wrote for the pod, and what the container sees.
  files=$CONTAINERD_ROOT/io.containerd.grpc.v1.cri/sandboxes/$POD
  h=$(exec_out "$CTR_ID" hostname); echo "hostname: $h"
  [ "$h" = lifecycle ] || fail "hostname is '$h', expected the pod's 'lifecycle'"
  for f in hostname hosts resolv.conf; do
    exec_out "$CTR_ID" cat /etc/$f > "$CRI_WORK/in-pod.$f"
    echo "--- /etc/$f in the pod:"; cat "$CRI_WORK/in-pod.$f"
    cmp -s "$files/$f" "$CRI_WORK/in-pod.$f" || fail "/etc/$f differs from the CRI's $files/$f: $(cat "$files/$f")"
  done
  grep -q hull-e2e-marker "$CRI_WORK/in-pod.hosts" || [ -n "${E2E_ROOT:-}" ] || fail "/etc/hosts lacks the L1's marker line"
  grep -qx 'nameserver 10.89.0.53' "$CRI_WORK/in-pod.resolv.conf" || fail "resolv.conf lacks the pod's DNS server"
  # /dev/shm: a writable tmpfs in the guest (CRI's host shm dir means nothing there).
  exec_out "$CTR_ID" sh -c 'grep " /dev/shm tmpfs " /proc/mounts && touch /dev/shm/x' || fail "no writable /dev/shm tmpfs"
  [ "$(exec_out "$CTR_ID" cat /tmp/started)" = started ] || fail "the container's command did not run"
  # The pod shares one pid namespace (CRI's default pod mode): the container
  # sees the sandbox's pause process.
  exec_out "$CTR_ID" ps -o pid,args > "$CRI_WORK/ps"; cat "$CRI_WORK/ps"
  grep -q "sleep 2147483647" "$CRI_WORK/ps" || fail "the container does not see the pod's pause process"
  # The pod's memory on the host: PSS of its hull-vmm (with the guest RAM the
  # guest touched) and its shim, as tools/bench/container-start sums it.
  pss=0
  for d in /proc/[0-9]*; do
    case "$(cat "$d/comm" 2>/dev/null)" in hull-vmm|containerd-shim)
      kb=$(awk '/^Pss:/ {print $2}' "$d/smaps_rollup" 2>/dev/null); pss=$((pss + ${kb:-0})) ;;
    esac
  done
  echo "pod memory: $((pss / 1024)) MiB PSS (hull-vmm + containerd-shim-hull-v2)"
  # ContainerStats: numbers from the guest's cgroup.
  cri stats "$CTR_ID" | tee "$CRI_WORK/stats.json"
  cpu=$(cri --get /stats/cpu/usage_core_nano_seconds/value stats "$CTR_ID") || fail "no cpu usage in ContainerStats"
  mem=$(cri --get /stats/memory/working_set_bytes/value stats "$CTR_ID") || fail "no memory in ContainerStats"
  echo "stats: cpu $cpu ns, working set $mem bytes"
  [ "$cpu" -gt 0 ] && [ "$mem" -gt 0 ] || fail "ContainerStats cpu=$cpu memory=$mem, expected positive numbers"
  check_volume_outside_roots
  check_memory_resize
  remove_pod "$POD"
  no_leftovers "$POD"
  echo "pod lifecycle through the CRI: OK" ;;
pod-network)
  # Two pods on the CNI bridge; each container serves its hostname on port 8080.
  serve='hostname > /tmp/msg; while true; do nc -l -p 8080 < /tmp/msg; done'
  run_pod net-a "$serve"; POD_A=$POD; C_A=$CTR_ID
  run_pod net-b "$serve"; POD_B=$POD; C_B=$CTR_ID
  [ "$(count hull-vmm)" -eq 2 ] || fail "$(count hull-vmm) hull-vmm processes for two pods, expected 2"
  IP_A=$(cri --get /status/network/ip inspectp "$POD_A"); IP_B=$(cri --get /status/network/ip inspectp "$POD_B")
  echo "pod IPs: net-a $IP_A, net-b $IP_B"
  [ -n "$IP_A" ] && [ -n "$IP_B" ] && [ "$IP_A" != "$IP_B" ] || fail "pods need two distinct IPs, got '$IP_A' and '$IP_B'"
  for pair in "$C_A $IP_A" "$C_B $IP_B"; do
    set -- $pair
    # The pod's veth in its namespace (the one whose eth0 has the pod's IP).
    mac="" mtu=""
    for ns in /var/run/netns/*; do
      if $NSENTER --net="$ns" $IP -4 -br addr show dev eth0 | grep -q " $2/"; then
        mac=$($NSENTER --net="$ns" $IP -br link show dev eth0 | awk '{print $3}')
        mtu=$($NSENTER --net="$ns" $IP -o link show dev eth0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
      fi
    done
    [ -n "$mac" ] && [ -n "$mtu" ] || fail "no pod namespace has $2 on eth0 (or its MAC/MTU unreadable)"
    echo "pod veth eth0 for $2: $mac, mtu $mtu"
    out=$(exec_out "$1" ip addr show eth0); echo "$out"
    echo "$out" | grep -q "inet $2/24" || fail "the guest NIC lacks the pod IP $2/24"
    echo "$out" | grep -qi "link/ether $mac" || fail "the guest NIC lacks the veth's MAC $mac"
    echo "$out" | grep -q "mtu $mtu" || fail "the guest NIC's MTU is not the veth's $mtu"
    routes=$(exec_out "$1" ip route); echo "$routes"
    echo "$routes" | grep -q "default via 10.89.0.1" || fail "the guest lacks the pod's default route via 10.89.0.1"
  done
  # TCP pod A -> pod B, and L1 -> pod A (busybox nc; the server sends its hostname).
  got=""
  i=0; while [ $i -lt 20 ]; do
    got=$(cri exec-sync --raw "$C_A" -- sh -c "nc -w 3 $IP_B 8080 </dev/null" | tr -d '\n')
    [ "$got" = net-b ] && break; i=$((i+1)); sleep 1
  done
  [ "$got" = net-b ] || fail "pod A got '$got' from pod B's $IP_B:8080, expected net-b"
  echo "TCP pod A -> pod B: $got"
  got=""
  i=0; while [ $i -lt 20 ]; do
    got=$(nc -w 3 "$IP_A" 8080 </dev/null | tr -d '\n')
    [ "$got" = net-a ] && break; i=$((i+1)); sleep 1
  done
  [ "$got" = net-a ] || fail "the L1 got '$got' from pod A's $IP_A:8080, expected net-a"
  echo "TCP L1 -> pod A: $got"
  remove_pod "$POD_A"; remove_pod "$POD_B"
  no_leftovers "$POD_A" "$POD_B"
  echo "pod networking through CNI bridge + tc mirror: OK" ;;
bad-input)
  # A container for a pod that does not exist: containerd refuses, nothing starts.
  pod_config ghost "$CRI_WORK/ghost.pod.json"
  container_config ghost-c "$CRI_WORK/ghost.ctr.json" "sleep 1"
  if cri create does-not-exist "$CRI_WORK/ghost.ctr.json" "$CRI_WORK/ghost.pod.json" 2> "$CRI_WORK/err"; then
    fail "CreateContainer in a pod that does not exist succeeded"
  fi
  cat "$CRI_WORK/err"; grep -q "does-not-exist" "$CRI_WORK/err" || fail "the error does not name the missing pod"
  # A pod config that is not a PodSandboxConfig: hull-cri names the field.
  echo '{"metadata": {"name": "x"}, "hostnme": "typo"}' > "$CRI_WORK/typo.json"
  if cri runp "$CRI_WORK/typo.json" 2> "$CRI_WORK/err"; then fail "runp accepted an unknown field"; fi
  cat "$CRI_WORK/err"; grep -q hostnme "$CRI_WORK/err" || fail "the error does not name the unknown field"
  # An unknown runtime handler: containerd refuses before any VM starts.
  pod_config nohandler "$CRI_WORK/nh.pod.json"
  if cri runp --runtime no-such-handler "$CRI_WORK/nh.pod.json" 2> "$CRI_WORK/err"; then fail "an unknown runtime handler was accepted"; fi
  cat "$CRI_WORK/err"
  grep -q no-such-handler "$CRI_WORK/err" || fail "the error does not name the unknown handler"
  no_leftovers
  # A pod whose network namespace vanished between CNI's set-up and the VM's
  # start (the chained hull-vanish-netns plugin deletes it): the shim refuses
  # with the namespace's name, containerd tears the pod down.
  pod_config vanished "$CRI_WORK/vanished.pod.json"
  if cri runp --runtime hull "$CRI_WORK/vanished.pod.json" 2> "$CRI_WORK/err"; then
    fail "a pod whose network namespace is gone was started"
  fi
  cat "$CRI_WORK/err"
  grep -q "network namespace" "$CRI_WORK/err" || fail "the error does not say the network namespace is missing"
  no_leftovers
  echo "bad input: clear errors, nothing left" ;;
virtiofs)
  # Rootfs and a hostPath volume over the sandbox's virtio-fs share (with
  # HULL_ROOTFS=virtiofs, set above): no disk image is built, the container's
  # root is the snapshot itself, the volume is live both ways.
  vol=$CRI_WORK/volumes/data
  mkdir -p "$vol"; echo "from the host" > "$vol/host.txt"
  pod_config share "$CRI_WORK/share.pod.json"
  cat > "$CRI_WORK/share.ctr.json" <<JSON
{"metadata": {"name": "share-c", "attempt": 0},
 "image": {"image": "hull.local/busybox:latest"},
 "command": ["sh", "-c", "echo started > /started-marker; sleep 100000"],
 "mounts": [{"container_path": "/data", "host_path": "$vol"}],
 "log_path": "share-c.log",
 "linux": {}}
JSON
  now_ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }  # busybox date has no %N
  t0=$(now_ms)
  POD=$(cri --get /pod_sandbox_id runp --runtime hull "$CRI_WORK/share.pod.json") || fail "RunPodSandbox share"
  CTR_ID=$(cri --get /container_id create "$POD" "$CRI_WORK/share.ctr.json" "$CRI_WORK/share.pod.json") || fail "CreateContainer"
  cri start "$CTR_ID" >/dev/null || fail "StartContainer $CTR_ID"
  echo "pod + container ready over virtio-fs in $(( $(now_ms) - t0 )) ms"
  state=$(ls -d /run/hull/shim/*/) || fail "no sandbox state directory"
  ls "$state"
  ! ls "$state" | grep -q '\.erofs$' || fail "rootfs images were built in virtio-fs mode: $(ls "$state")"
  grep " ${state}share" /proc/mounts || fail "nothing of the pod is mounted in its share ${state}share"
  grep -q " ${state}share/$CTR_ID/rootfs " /proc/mounts || fail "the container's snapshot is not mounted in the share"
  grep -q " ${state}share/$CTR_ID/volumes/0 " /proc/mounts || fail "the volume is not mounted in the share"
  exec_out "$CTR_ID" cat /proc/mounts > "$CRI_WORK/mounts"; cat "$CRI_WORK/mounts"
  grep -q '^hullshare / virtiofs ' "$CRI_WORK/mounts" || fail "the container's / is not the virtio-fs share"
  grep -q '^hullshare /data virtiofs ' "$CRI_WORK/mounts" || fail "the container's /data is not the virtio-fs share"
  [ "$(exec_out "$CTR_ID" cat /started-marker)" = started ] || fail "the container's command did not run"
  # Its write to / landed in the snapshot's upper directory on the host.
  found=$(find "$CONTAINERD_ROOT" -path '*snapshots*' -name started-marker 2>/dev/null | head -1)
  [ -n "$found" ] && [ "$(cat "$found")" = started ] || fail "the container's write is not in its snapshot on the host"
  echo "container's write to / is on the host at $found"
  # The volume: host -> container, container -> host, and host changes later.
  [ "$(exec_out "$CTR_ID" cat /data/host.txt)" = "from the host" ] || fail "the container does not read the host's file"
  exec_out "$CTR_ID" sh -c 'echo from the guest > /data/guest.txt' >/dev/null
  [ "$(cat "$vol/guest.txt" 2>/dev/null)" = "from the guest" ] || fail "the host does not read the container's file"
  echo "later" > "$vol/later.txt"; echo "changed" > "$vol/host.txt"
  sleep 2  # the guest caches attributes for 1 s
  [ "$(exec_out "$CTR_ID" cat /data/later.txt)" = later ] || fail "a file the host made later is not seen"
  [ "$(exec_out "$CTR_ID" cat /data/host.txt)" = changed ] || fail "the host's change is not seen"
  owner=$(stat -c %u:%g "$vol/guest.txt"); echo "file the container (root) wrote is owned by $owner on the host"
  # The pod's CRI files reach the container through the share too.
  files=$CONTAINERD_ROOT/io.containerd.grpc.v1.cri/sandboxes/$POD
  exec_out "$CTR_ID" cat /etc/hosts > "$CRI_WORK/in-pod.hosts"
  cmp -s "$files/hosts" "$CRI_WORK/in-pod.hosts" || fail "/etc/hosts differs from the CRI's"
  # A jailed VMM keeps only the four file capabilities the share needs.
  vmm_pid=$(cat "${state}vmm.pid")
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$vmm_pid/status"); capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$vmm_pid/status")
  echo "hull-vmm $vmm_pid: uid $uid, CapEff $capeff"
  if [ -x /opt/hull/bin/hull-jailer ]; then
    [ "$uid" != 0 ] || fail "hull-jailer is installed but hull-vmm runs as root"
    [ "$capeff" = 000000000000000f ] || fail "the jailed VMM's capabilities are $capeff, expected 000000000000000f (chown, dac_override, dac_read_search, fowner)"
  fi
  # A volume outside the allowed roots is still refused, and takes no share.
  cat > "$CRI_WORK/hostetc.ctr.json" <<JSON
{"metadata": {"name": "hostetc", "attempt": 0},
 "image": {"image": "hull.local/busybox:latest"},
 "command": ["cat", "/host-etc/shadow"],
 "mounts": [{"container_path": "/host-etc", "host_path": "/etc", "readonly": true}],
 "log_path": "hostetc.log",
 "linux": {}}
JSON
  hc=$(cri --get /container_id create "$POD" "$CRI_WORK/hostetc.ctr.json" "$CRI_WORK/share.pod.json") || fail "CreateContainer hostetc"
  if cri start "$hc" 2> "$CRI_WORK/err"; then fail "a container with a hostPath volume of /etc was started"; fi
  cat "$CRI_WORK/err"
  grep -q "/etc for /host-etc is outside the host paths a pod may mount" "$CRI_WORK/err" || fail "the error does not name the volume"
  [ ! -e "${state}share/$hc" ] || fail "the refused container has a directory in the share"
  cri rm "$hc" > /dev/null || fail "RemoveContainer of the refused container"
  [ "$(exec_out "$CTR_ID" echo alive)" = alive ] || fail "the pod's container did not survive the refused one"
  # Deleting the container unmounts its part of the share; the pod keeps its own.
  cri stop "$CTR_ID" > /dev/null || fail "StopContainer"
  cri rm "$CTR_ID" > /dev/null || fail "RemoveContainer"
  ! grep -q " ${state}share/$CTR_ID/" /proc/mounts || fail "the deleted container's mounts stayed: $(grep "$CTR_ID" /proc/mounts)"
  [ ! -e "${state}share/$CTR_ID" ] || fail "the deleted container's share directory stayed"
  remove_pod "$POD"
  no_leftovers "$POD"
  # Nothing was deleted through a mount: the volume's files are all there.
  [ "$(cat "$vol/host.txt")" = changed ] && [ "$(cat "$vol/guest.txt")" = "from the guest" ] \
    || fail "the volume lost files when the pod went: $(ls -la "$vol")"
  echo "rootfs and hostPath volume over virtio-fs: OK" ;;
*) echo "cases.sh: unknown case $1" >&2; exit 2 ;;
esac
