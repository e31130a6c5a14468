#!/bin/sh
# The part of tools/bench/oci-run that runs where KVM works (the nested L1, or this host
# directly; $E2E_ROOT prefixes the copied files in direct mode and is empty in L1).
#   1. N rounds of `hull run` vs `crun run` on the same bundle, in an order alternating per
#      round: boot-timer measures exec -> the container's first output line and -> exit.
#   2. The scaling curve: for each count in $COUNTS, that many `hull run` (then `crun run`)
#      started at once, each running `echo READY; sleep`; per sandbox exec -> READY, the
#      time until the last is READY, then the summed PSS/RSS of everything they run (hull,
#      hull-vmm with the guest's memory / crun and the container), then all are killed.
# Prints one JSON object per line ({"what": ...}); progress goes to stderr.
set -u
R=${E2E_ROOT:-}
N=${N:-5}
COUNTS=${COUNTS-1 2 5}  # empty: no scaling curve
ARCH=$(uname -m)
find_bin() { if [ -x "/opt/hull/bin/$1" ]; then echo "/opt/hull/bin/$1"; else command -v "$1"; fi; }
HULL_BIN=$(find_bin hull)
VMM_BIN=$(find_bin hull-vmm)
KERNEL=$(ls "$R/opt/hull/share/hull/$ARCH"/bzImage "$R/opt/hull/share/hull/$ARCH"/Image 2>/dev/null | head -1)
INITRD=$R/opt/hull/share/hull/$ARCH/initramfs.cpio.lz4
STATE=$R/run/hull-bench
CRUN_STATE=$R/run/crun-bench
W=$(mktemp -d "${TMPDIR:-/tmp}/oci-run.XXXXXX")
MARK=HULL_BENCH_READY
say() { echo "oci-run: $*" >&2; }
ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }  # 10 ms resolution

# A bundle whose process runs "$@" (same rootfs as $R/opt/bundle): the base config's
# "sh" line of process.args is replaced by the JSON-escaped arguments.
bundle() {  # DIR ARGS...
  dir=$1; shift
  mkdir -p "$dir"
  ln -s "$R/opt/bundle/rootfs" "$dir/rootfs"
  ARGS_JSON=""
  for a in "$@"; do ARGS_JSON="$ARGS_JSON${ARGS_JSON:+, }\"$a\""; done
  export ARGS_JSON
  awk '/^ *"sh"$/ { print ENVIRON["ARGS_JSON"]; next } { print }' "$R/opt/bundle/config.json" > "$dir/config.json"
}
bundle "$W/echo" echo "$MARK"
bundle "$W/sleep" sh -c "echo $MARK; exec sleep 100000"

run_cmd() {  # RUNTIME BUNDLE ID: the foreground run command
  case "$1" in
    hull) echo "$HULL_BIN --root $STATE run --vmm $VMM_BIN --kernel $KERNEL --initrd $INITRD --agent-timeout 900 --bundle $2 $3" ;;
    crun) echo "crun --root $CRUN_STATE run --bundle $2 $3" ;;
  esac
}
kill_cmd() {  # crun ID
  crun --root "$CRUN_STATE" kill "$2" KILL
}
q() { "$@" 2>&1 | head -1 | sed 's/"/\\"/g'; }
echo "{\"what\": \"env\", \"mode\": \"${E2E_MODE:-nested}\", \"l1_kernel\": \"$(uname -r)\", \"l1_cpus\": $(grep -c ^processor /proc/cpuinfo), \"l1_mem_kib\": $(awk '/MemTotal/ {print $2}' /proc/meminfo), \"crun\": \"$(q crun --version)\", \"thp\": \"$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)\"}"

# --- 1. hull run vs crun run, one at a time -------------------------------------------------
one() {  # RUNTIME ROUND
  say "$1 run, round $2"
  res=$(boot-timer --marker "$MARK" --timeout 900 -- $(run_cmd "$1" "$W/echo" "r-$1-$2"))
  echo "{\"what\": \"run\", \"runtime\": \"$1\", \"round\": $2, \"result\": $res}"
}
one hull 0; one crun 0  # warm-up (page cache, erofs image cache), not counted
i=1
while [ $i -le "$N" ]; do
  if [ $((i % 2)) = 1 ]; then one hull $i; one crun $i; else one crun $i; one hull $i; fi
  i=$((i + 1))
done

# --- 2. the scaling curve -------------------------------------------------------------------
descendants() {  # PID...: them and all their descendants
  for s in /proc/[0-9]*/stat; do
    p=${s#/proc/}; echo "${p%/stat} $(sed 's/.*) [A-Za-z] \([0-9]*\).*/\1/' "$s" 2>/dev/null)"
  done | awk -v roots="$*" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    NF == 2 { parent[$1] = $2 }
    END {
      for (changed = 1; changed; ) {
        changed = 0
        for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
      }
      for (p in keep) print p
    }'
}
memory_of() {  # TIMER_PID...: "PSS_KIB RSS_KIB PROCS" of what the timers run (not the timers),
  # plus every hull-vmm (hull may start it outside its own process tree)
  timer_pids=" $* "
  roots="$*"
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$VMM_BIN" ] && roots="$roots ${p#/proc/}"
  done
  pss=0 rss=0 n=0
  for pid in $(descendants $roots | sort -u); do
    case "$timer_pids" in *" $pid "*) continue ;; esac
    [ -r "/proc/$pid/smaps_rollup" ] || continue
    pr=$(awk '/^Pss:/ {p = $2} /^Rss:/ {r = $2} END {print p + 0, r + 0}' "/proc/$pid/smaps_rollup")
    pss=$((pss + ${pr% *})); rss=$((rss + ${pr#* })); n=$((n + 1))
  done
  echo "$pss $rss $n"
}
children_of() {  # PID...: their direct children
  for s in /proc/[0-9]*/stat; do
    p=${s#/proc/}; echo "${p%/stat} $(sed 's/.*) [A-Za-z] \([0-9]*\).*/\1/' "$s" 2>/dev/null)"
  done | awk -v roots="$*" 'BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    NF == 2 && ($2 in keep) { print $1 }'
}
alive() { for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
scale() {  # RUNTIME COUNT
  rt=$1 count=$2
  say "scaling: $count x $rt run at once"
  rm -rf "$W/s"; mkdir -p "$W/s"
  t0=$(ms)
  timers=""
  k=1
  while [ $k -le "$count" ]; do
    boot-timer --marker "$MARK" --ready-file "$W/s/$k.ready" --timeout 1500 -- \
      $(run_cmd "$rt" "$W/sleep" "s-$rt-$count-$k") > "$W/s/$k.json" 2>"$W/s/$k.err" &
    timers="$timers $!"
    k=$((k + 1))
  done
  # until every sandbox printed READY or its timer ended (a failed start)
  while :; do
    pending=0
    for k in $(seq 1 "$count"); do
      [ -e "$W/s/$k.ready" ] || [ -s "$W/s/$k.json" ] || pending=$((pending + 1))
    done
    [ $pending -eq 0 ] && break
    [ $(( $(ms) - t0 )) -lt 1500000 ] || break
    sleep 0.2
  done
  all_ms=$(( $(ms) - t0 ))
  sleep 2  # let the guests settle (agent idle)
  set -- $(memory_of $timers)
  pss=$1 rss=$2 procs=$3
  # End them: crun's containers with `crun kill`; a foreground `hull run` is ended by a signal
  # (the state it leaves, a VMM it leaves, are cleaned up below)
  if [ "$rt" = crun ]; then
    for k in $(seq 1 "$count"); do kill_cmd crun "s-$rt-$count-$k" >/dev/null 2>&1; done
  else
    kill -TERM $(children_of $timers) 2>/dev/null
  fi
  i=0
  while alive $timers && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
  if alive $timers; then
    say "$rt: runs still alive 30 s after the signal; killing them"
    kill -KILL $(children_of $timers) 2>/dev/null
  fi
  for p in /proc/[0-9]*; do  # no VMM may outlive its count
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$VMM_BIN" ] && kill -KILL "${p#/proc/}" 2>/dev/null
  done
  for t in $timers; do wait "$t"; done
  if [ "$rt" = crun ]; then
    for k in $(seq 1 "$count"); do crun --root "$CRUN_STATE" delete -f "s-$rt-$count-$k" >/dev/null 2>&1; done
  else
    for k in $(seq 1 "$count"); do $HULL_BIN --root "$STATE" delete --force "s-$rt-$count-$k" >/dev/null 2>&1; done
    rm -rf "$STATE"/s-* 2>/dev/null
  fi
  each=""
  failed=0
  for k in $(seq 1 "$count"); do
    m=$(sed -n 's/.*"marker_ms": \([-0-9.]*\).*/\1/p' "$W/s/$k.json")
    case "$m" in ''|-*) failed=$((failed + 1)); say "$rt $k of $count did not start: $(cat "$W/s/$k.json" "$W/s/$k.err" | tail -3)"; continue ;; esac
    each="$each${each:+, }$m"
  done
  echo "{\"what\": \"scale\", \"runtime\": \"$rt\", \"count\": $count, \"all_ready_ms\": $all_ms, \"each_ms\": [$each], \"failed\": $failed, \"pss_kib\": $pss, \"rss_kib\": $rss, \"processes\": $procs}"
}
for c in $COUNTS; do
  scale hull "$c"
  scale crun "$c"
done
rm -rf "$W"
