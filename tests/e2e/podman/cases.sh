#!/bin/sh
# Podman with hull as its OCI runtime. Runs where KVM works (the L1, or
# directly); Podman's configuration, storage (vfs) and state live under a
# temporary directory so the host's are not touched.
set -u
R=${E2E_ROOT:-}
HULL=$(command -v hull)
T=$(mktemp -d "${TMPDIR:-/tmp}/podman-e2e.XXXXXX")
fail() {
  echo "FAIL: $*"
  for f in /run/hull/containers/*/keeper.log; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
  exit 1
}
live() {
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ] || continue
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$d/status" 2>/dev/null)
    [ "$state" = Z ] || [ -z "$state" ] || echo "${d#/proc/}"
  done
}
check_clean() {
  for p in hull-vmm hull conmon; do [ -z "$(live $p)" ] || fail "$p left behind: $(live $p)"; done
  S=/run/hull/containers  # hull's default --root
  if [ -d $S ] && [ -n "$(ls -A $S)" ]; then fail "hull state left behind: $(ls -AR $S)"; fi
}

mkdir -p "$T/etc" "$T/storage" "$T/run" "$T/tmp"
cat >"$T/etc/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$T/storage"
runroot = "$T/run"
CONF
cat >"$T/etc/containers.conf" <<CONF
[containers]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/events.log"
conmon_path = ["$(command -v conmon)"]
tmp_dir = "$T/tmp"
runtime = "hull"
[engine.runtimes]
hull = ["$HULL"]
CONF
mkdir -p /etc/containers
[ -f /etc/containers/policy.json ] || echo '{"default":[{"type":"insecureAcceptAnything"}]}' >/etc/containers/policy.json
[ -f /etc/containers/registries.conf ] || echo 'unqualified-search-registries = []' >/etc/containers/registries.conf
export CONTAINERS_STORAGE_CONF="$T/etc/storage.conf" CONTAINERS_CONF="$T/etc/containers.conf"
# Every podman call through hull is bounded: a hang fails the case (exit status
# 143, SIGTERM from timeout) instead of stalling the run until the e2e runner's limit.
BOUND=240
PODMAN="timeout -k 10 $BOUND podman --runtime $HULL"  # busybox timeout: execs podman itself

img=$(podman pull -q oci-archive:/opt/busybox.tar 2>"$T/pull.err") || { cat "$T/pull.err"; fail "podman pull of the OCI archive"; }
echo "image: $img"

case "$1" in
run-rm)
  out=$($PODMAN run --rm --network none "$img" echo hello 2>"$T/err"); rc=$?
  echo "$out"; cat "$T/err"
  [ $rc -eq 0 ] || fail "podman run exited $rc"
  [ "$out" = hello ] || fail "expected 'hello', got '$out'"
  $PODMAN run --rm --network none "$img" sh -c 'exit 3' 2>"$T/err"; rc=$?
  [ $rc -eq 3 ] || { cat "$T/err"; fail "podman run's exit status: $rc, expected 3"; }
  [ -z "$(podman ps -aq)" ] || fail "podman still lists containers: $(podman ps -a)"
  check_clean ;;
detached-exec)
  # podman run -d / exec / stop / rm: conmon's `hull exec --detach --pid-file`, `hull kill`, `hull state`.
  cid=$($PODMAN run -d --network none "$img" sh -c 'trap "exit 0" TERM; while true; do sleep 0.2; done' 2>"$T/err"); rc=$?
  [ $rc -eq 0 ] || { cat "$T/err"; fail "podman run -d: exit status $rc (143: stopped by timeout after $BOUND s)"; }
  echo "container $cid"
  [ "$(podman inspect --format '{{.State.Status}}' "$cid")" = running ] || fail "not running: $(podman ps -a)"
  out=$($PODMAN exec "$cid" echo inside 2>"$T/err"); rc=$?
  [ $rc -eq 0 ] && [ "$out" = inside ] || { cat "$T/err"; fail "podman exec: rc $rc (143: stopped by timeout after $BOUND s), output '$out'"; }
  $PODMAN exec "$cid" sh -c 'exit 6' 2>"$T/err"; rc=$?
  [ $rc -eq 6 ] || { cat "$T/err"; fail "podman exec's exit status: $rc, expected 6"; }
  $PODMAN stop -t 30 "$cid" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "podman stop"; }
  code=$(podman inspect --format '{{.State.ExitCode}}' "$cid")
  [ "$code" = 0 ] || fail "exit code after stop (SIGTERM, trapped): $code, expected 0"
  $PODMAN rm "$cid" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "podman rm"; }
  [ -z "$(podman ps -aq)" ] || fail "podman still lists containers: $(podman ps -a)"
  check_clean ;;
tty)
  # podman run -t: conmon passes --console-socket; the guest's tty output comes back through it.
  out=$($PODMAN run --rm -t --network none "$img" sh -c 'tty; echo tty-hello' 2>"$T/err"); rc=$?
  echo "$out"; cat "$T/err"
  [ $rc -eq 0 ] || fail "podman run -t exited $rc"
  echo "$out" | grep -q "^/dev/pts/" || fail "the container's stdin is not a terminal"
  echo "$out" | grep -q "tty-hello" || fail "output missing"
  check_clean ;;
network-ns)
  # podman run --network ns:PATH: the spec joins that namespace; hull mirrors
  # its veth to a tap the microVM's NIC uses (tests/e2e/hull_cli run-network
  # checks the same through hull alone).
  [ -e /var/run ] || ln -s /run /var/run
  real() { ( IFS=:; for d in $PATH; do [ -x "$d/$1" ] && [ ! -L "$d/$1" ] && { echo "$d/$1"; exit 0; }; done; exit 1 ) \
    || fail "no $1 but busybox's on PATH"; }
  ip=$(real ip); tc=$(real tc); nsenter=$(real nsenter)
  ns=hullpodman; nsp=/run/netns/$ns
  in_ns() { $nsenter --net=$nsp "$@"; }
  $ip netns add $ns || fail "ip netns add"
  $ip link add hveth2 type veth peer name eth0 netns $ns || fail "veth pair"
  $ip addr add 10.90.0.1/24 dev hveth2 && $ip link set hveth2 up || fail "host end"
  in_ns $ip addr add 10.90.0.2/24 dev eth0 && in_ns $ip link set eth0 up && in_ns $ip link set lo up || fail "pod end"
  nc -l -p 7777 > "$T/from-podman" &
  srv=$!
  out=$($PODMAN run --rm --network ns:$nsp --cap-add NET_RAW "$img" \
    sh -c 'ip addr show eth0; ping -c 2 -W 10 10.90.0.1 && echo PING-OK; echo hello-from-podman | nc -w 10 10.90.0.1 7777' 2>"$T/err"); rc=$?
  kill $srv 2>/dev/null
  echo "$out"; cat "$T/err"
  [ $rc -eq 0 ] || fail "podman run --network ns: exited $rc (143: stopped by timeout after $BOUND s)"
  echo "$out" | grep -q "inet 10.90.0.2/24" || fail "the guest NIC lacks the namespace veth's address"
  echo "$out" | grep -qx PING-OK || fail "the container could not ping 10.90.0.1"
  [ "$(cat "$T/from-podman")" = hello-from-podman ] || fail "the host end got '$(cat "$T/from-podman")' over TCP"
  in_ns $ip link show > "$T/links"; in_ns $tc qdisc show > "$T/qdiscs"
  ! grep -q hulltap "$T/links" || fail "a tap is left in the namespace: $(cat "$T/links")"
  ! grep -q ingress "$T/qdiscs" || fail "an ingress qdisc (tc filters) is left: $(cat "$T/qdiscs")"
  $ip netns del $ns
  [ -z "$(podman ps -aq)" ] || fail "podman still lists containers: $(podman ps -a)"
  check_clean ;;
network-bridge)
  # --network bridge: Podman's default network "podman" through its CNI backend
  # (Debian's containernetworking-plugins). Podman makes the namespace, CNI's
  # bridge plugin puts a veth in it on the L1's bridge cni-podman0 (10.88.0.1),
  # hull mirrors that veth into the microVM. The network is defined here without
  # the ipMasq/portmap/firewall parts of Podman's built-in default (they need
  # iptables and netfilter NAT in the L1; masquerading to the outside is not
  # what this checks), so only the bridge module is needed.
  [ -d /sys/module/bridge ] || fail "the L1 kernel has no bridge module loaded (tools/nested/arches.py modules)"
  [ -e /var/run ] || ln -s /run /var/run
  mkdir -p "$T/cni"
  cat >"$T/cni/87-podman.conflist" <<CONF
{ "cniVersion": "0.4.0", "name": "podman",
  "plugins": [ { "type": "bridge", "bridge": "cni-podman0", "isGateway": true, "ipMasq": false,
                 "hairpinMode": true,
                 "ipam": { "type": "host-local", "routes": [ { "dst": "0.0.0.0/0" } ],
                           "ranges": [ [ { "subnet": "10.88.0.0/16", "gateway": "10.88.0.1" } ] ] } } ] }
CONF
  cat >>"$T/etc/containers.conf" <<CONF
[network]
network_backend = "cni"
cni_plugin_dirs = ["/usr/lib/cni"]
network_config_dir = "$T/cni"
CONF
  podman network ls
  nc -l -p 7777 > "$T/from-podman" &
  srv=$!
  out=$($PODMAN run --rm --network bridge --cap-add NET_RAW "$img" \
    sh -c 'ip addr show eth0; ip route; ping -c 2 -W 10 10.88.0.1 && echo PING-OK; echo hello-over-bridge | nc -w 10 10.88.0.1 7777' 2>"$T/err"); rc=$?
  kill $srv 2>/dev/null
  echo "$out"; cat "$T/err"
  [ $rc -eq 0 ] || fail "podman run --network bridge exited $rc (143: stopped by timeout after $BOUND s)"
  echo "$out" | grep -q "inet 10.88.0.[0-9]*/16" || fail "the guest NIC lacks the address CNI gave the container"
  echo "$out" | grep -q "default via 10.88.0.1" || fail "the guest lacks the default route through the bridge"
  echo "$out" | grep -qx PING-OK || fail "the container could not ping the bridge 10.88.0.1"
  [ "$(cat "$T/from-podman")" = hello-over-bridge ] || fail "the L1 got '$(cat "$T/from-podman")' over TCP through the bridge"
  [ -z "$(ls /run/netns 2>/dev/null)" ] || fail "network namespaces left behind: $(ls /run/netns)"
  [ -z "$(podman ps -aq)" ] || fail "podman still lists containers: $(podman ps -a)"
  check_clean ;;
*) echo "cases.sh: unknown case $1" >&2; exit 2 ;;
esac
rm -rf "$T"
echo "PASS: $1"
