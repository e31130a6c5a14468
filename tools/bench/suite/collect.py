"""Parsers: each benchmark's own output -> figures in the suite's common shape (stats.figure).

Every parser takes the benchmark's result files and returns
  {"figures": [figure...], "env": {...}, ...extras}
and never trusts that a line is well formed: malformed lines are skipped and counted.
usage (summary of one result file): python3 -m suite.collect BENCH FILE [STDERR_LOG]
"""
import json
import re
import sys

from .stats import figure, summarize


def _json_lines(path):
    rows, bad = [], 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                bad += 1
    return rows, bad


def vmm_boot(jsonl):
    """tools/bench/vmm-boot --json: {"round", "vmm": hull|qemu, "what": api|boot|memory, "result"}."""
    rows, bad = _json_lines(jsonl)

    def samples(vmm, what, key):
        return [r["result"].get(key) for r in rows
                if r.get("vmm") == vmm and r.get("what") == what and r.get("round", 0) > 0
                and isinstance(r.get("result"), dict)]

    figs = []
    for fid, what, key, label in (
            ("vmm_api_ready", "api", "api_ready_ms", "VMM process start → API socket ready"),
            ("vmm_init_marker", "boot", "marker_ms", "VMM process start → guest init marker"),
            ("vmm_exit", "boot", "exit_ms", "VMM process start → exit after the guest's reboot")):
        f = figure(label, "ms", "lower", {"hull": summarize(samples("hull", what, key)),
                                          "qemu": summarize(samples("qemu", what, key))},
                   note="hull-vmm vs qemu-system-x86_64 -M microvm, same kernel and initrd")
        f["id"] = fid
        figs.append(f)
    api_rss = [(r.get("rss_anon_kib", -1)) for r in
               (x["result"] for x in rows if x.get("vmm") == "hull" and x.get("what") == "api"
                and isinstance(x.get("result"), dict))]
    qemu_rss = [(r.get("rss_anon_kib", -1)) for r in
                (x["result"] for x in rows if x.get("vmm") == "qemu" and x.get("what") == "api"
                 and isinstance(x.get("result"), dict))]
    f = figure("VMM anonymous RSS at API ready", "KiB", "lower",
               {"hull": summarize(api_rss), "qemu": summarize(qemu_rss)})
    f["id"] = "vmm_rss_api"
    figs.append(f)
    mem = next((r["result"] for r in rows if r.get("what") == "memory" and isinstance(r.get("result"), dict)), None)
    if mem and "vmm_overhead_kib" in mem:
        f = figure("hull-vmm memory overhead at exit (RSS − guest RAM resident)", "KiB", "lower",
                   {"hull": summarize([mem.get("vmm_overhead_kib")])},
                   note=f"RSS {mem.get('rss_kib')} KiB, guest RAM resident {mem.get('guest_resident_kib')} KiB")
        f["id"] = "vmm_overhead"
        figs.append(f)
    return {"figures": figs, "malformed_lines": bad}


def agent_start(raw):
    """tools/bench/agent-start --raw: "RUN <runtime> <ms>", "RSS|RSS_AFTER idle|busy <kib>", "ENV k=v..."."""
    runs, rss, env, bad = {}, {}, {}, 0
    with open(raw) as f:
        for line in f:
            w = line.split()
            try:
                if len(w) == 3 and w[0] == "RUN":
                    runs.setdefault(w[1], []).append(float(w[2]))
                elif len(w) == 3 and w[0] in ("RSS", "RSS_AFTER"):
                    rss[f"{w[0].lower()}_{w[1]}_kib"] = int(w[2])
                elif w and w[0] == "ENV":
                    env.update(kv.split("=", 1) for kv in w[1:] if "=" in kv)
            except ValueError:
                bad += 1
    f = figure("container create+start+wait+delete of /bin/true", "ms", "lower",
               {"hull": summarize(runs.get("agent", [])), "crun": summarize(runs.get("crun", [])),
                "runc": summarize(runs.get("runc", []))},
               note="hull = hull-agent over gRPC (as in the guest, here as a process in the L1); "
                    "crun/runc = `crun run` / `runc run` on the same bundle")
    f["id"] = "agent_container_run"
    figs = [f]
    for key, label in (("rss_idle_kib", "hull-agent VmRSS idle"),
                       ("rss_busy_kib", "hull-agent VmRSS with 10 containers running")):
        if key in rss:
            g = figure(label, "KiB", "lower", {"hull": summarize([rss[key]])})
            g["id"] = "agent_" + key
            figs.append(g)
    return {"figures": figs, "env": env, "agent_rss_kib": rss, "malformed_lines": bad}


PHASES = (
    ("vmm", "microVM configured and started"),
    ("agent", "guest agent reachable"),
    ("create", "container created in the guest"),
    ("stop", "microVM stopped"),
)
_MS = re.compile(r"\((\d+) ms\)")


def shim_phases(log_lines):
    """The shim's phase durations (ms) from its log lines, one list per phase, in order."""
    phases = {key: [] for key, _ in PHASES}
    for line in log_lines:
        for key, text in PHASES:
            if text in line:
                found = _MS.findall(line)
                if found:
                    phases[key].append(float(found[-1]))
    return phases


def container_start(result_json, stderr_log=None):
    """tools/bench/container-start --out (JSON) and its stderr (hull's shim log lines)."""
    with open(result_json) as f:
        doc = json.load(f)
    start = doc.get("start", {})
    values = {}
    for rt in ("hull", "runc", "crun"):
        rounds = (start.get(rt) or {}).get("rounds_ms") or []
        values[rt] = summarize(rounds)
    f = figure("`ctr run --rm` of /bin/true through containerd", "ms", "lower", values,
               note="one new container (and for hull one new microVM) per run")
    f["id"] = "ctr_run"
    mem = doc.get("memory", {})
    pss = figure("one pod with a sleeping container: PSS of shim + everything under it", "KiB", "lower",
                 {rt: summarize([(mem.get(rt) or {}).get("pss_kib")]) for rt in ("hull", "runc", "crun")},
                 note="hull: containerd-shim-hull-v2 + hull-vmm (with the guest's touched RAM)")
    pss["id"] = "pod_pss"
    extras = {"figures": [f, pss], "env": doc.get("l1", {}),
              "pod_processes": {rt: (mem.get(rt) or {}).get("procs", []) for rt in mem}}
    if stderr_log:
        with open(stderr_log, errors="replace") as fh:
            phases = shim_phases(line for line in fh if "shim log" in line)
        # in the log's order: the warm-up start, one per round, then the memory step's pod
        runs = len((start.get("hull") or {}).get("rounds_ms") or [])
        extras["hull_phases_ms"] = {k: summarize(v[1:1 + runs] if len(v) > runs else v) for k, v in phases.items()}
    return extras


def cri(result_json):
    """tools/bench/cri --out (JSON): pods ready through containerd's CRI, hull vs runc."""
    with open(result_json) as f:
        doc = json.load(f)
    handlers = ("hull", "runc")
    one = doc.get("one_pod", {})
    par = doc.get("parallel", {})
    mem = doc.get("memory", {})
    pods = next((par[h].get("pods") for h in handlers if (par.get(h) or {}).get("pods")), None)
    figs = []
    for fid, label, values in (
            ("cri_pod_ready", "pod + one container ready via CRI (RunPodSandbox → first log line)",
             {h: summarize((one.get(h) or {}).get("values_ms") or []) for h in handlers}),
            ("cri_pods_all_ready", f"{pods} pods at once via CRI: until all are ready",
             {h: summarize(((par.get(h) or {}).get("all_ready") or {}).get("values_ms") or []) for h in handlers}),
            ("cri_pods_each_ready", f"{pods} pods at once via CRI: each pod ready",
             {h: summarize(((par.get(h) or {}).get("each") or {}).get("values_ms") or []) for h in handlers})):
        f = figure(label, "ms", "lower", values, note="same containerd, same L1; hull boots a microVM per pod")
        f["id"] = fid
        figs.append(f)
    pss = figure("one CRI pod with a sleeping container: PSS of shim + everything under it", "KiB", "lower",
                 {h: summarize([(mem.get(h) or {}).get("pss_kib")]) for h in handlers},
                 note="hull: containerd-shim-hull-v2 + hull-vmm (with the guest's touched RAM)")
    pss["id"] = "cri_pod_pss"
    figs.append(pss)
    per_pod = figure(f"{pods} CRI pods at once: PSS per pod", "KiB", "lower",
                     {h: summarize((par.get(h) or {}).get("pss_kib_per_pod") or []) for h in handlers})
    per_pod["id"] = "cri_pods_pss_per_pod"
    figs.append(per_pod)
    return {"figures": figs, "env": doc.get("l1", {})}


def virtiofs(result_json):
    """tools/bench/virtiofs --out (JSON): the image over virtio-fs vs as an erofs disk. The subjects are
    the two file systems (both hull), so the ratio is virtiofs/erofs."""
    with open(result_json) as f:
        doc = json.load(f)
    vm = doc.get("vm") or {}
    tree = doc.get("tree") or {}
    figs = []
    for fid, key, label, unit, better in (
            ("virtiofs_first_output", "first_output_ms",
             "first start of a {mib} MiB image, cold → first output (erofs: mkfs.erofs + boot)", "ms", "lower"),
            ("virtiofs_large_read", "large_read_mibs", "sequential read of a {large} MiB file in the guest", "MiB/s", "higher"),
            ("virtiofs_small_files", "small_files_mibs", "tar of {files} small files in the guest", "MiB/s", "higher"),
            ("virtiofs_walk", "walk_ms", "metadata walk (find) of {files} files in the guest", "ms", "lower")):
        values = {fs: summarize(((vm.get(key) or {}).get(fs) or {}).get("samples") or []) for fs in ("virtiofs", "erofs")}
        f = figure(label.format(mib=round((tree.get("bytes") or 0) / 1048576), large=round((tree.get("large_bytes") or 0) / 1048576),
                                files=tree.get("small_files", "?")),
                   unit, better, values, peer_of="virtiofs",
                   note="hull-vmm's virtio-fs share vs an erofs image on virtio-blk, same tree, same L1; ratio virtiofs/erofs")
        f["id"] = fid
        figs.append(f)
    ctr = ((doc.get("ctr") or {}).get("first_output_ms")) or {}
    if ctr:
        f = figure("`ctr run --rm` of the image through containerd, cold → first output", "ms", "lower",
                   {fs: summarize((ctr.get(fs) or {}).get("samples") or []) for fs in ("virtiofs", "erofs")},
                   peer_of="virtiofs", note="the shim's default erofs rootfs vs io.hull.rootfs=virtiofs; ratio virtiofs/erofs")
        f["id"] = "virtiofs_ctr_first_output"
        figs.append(f)
    return {"figures": figs, "env": doc.get("l1", {}), "tree": tree}


def virtio(raw):
    """virtio-bench --raw: "RESULT <vmm> <metric> <value>"."""
    rows, bad = {}, 0
    with open(raw) as f:
        for line in f:
            w = line.split()
            if len(w) != 4 or w[0] != "RESULT":
                continue
            try:
                value = float(w[3])
            except ValueError:
                bad += 1
                continue
            if value == value:  # nan: the run produced no number
                rows.setdefault((w[2], w[1]), []).append(value)
    figs = []
    for metric, label, unit in (("blk_seq_read_mibs", "virtio-blk sequential read (O_DIRECT, 1 MiB)", "MiB/s"),
                                ("blk_rand4k_read_iops", "virtio-blk random 4 KiB reads", "IOPS"),
                                ("vsock_h2g_mibs", "vsock host → guest", "MiB/s"),
                                ("vsock_g2h_mibs", "vsock guest → host", "MiB/s")):
        f = figure(label, unit, "higher", {"hull": summarize(rows.get((metric, "hull"), [])),
                                            "qemu": summarize(rows.get((metric, "qemu"), []))},
                   note="hull-vmm vs QEMU microvm (virtio-blk-device, vhost-vsock-device)")
        f["id"] = metric
        figs.append(f)
    return {"figures": figs, "malformed_lines": bad}


def oci_run(jsonl):
    """tools/bench/oci-run --out: {"what": env|run|scale, ...}."""
    rows, bad = _json_lines(jsonl)
    env = next((r for r in rows if r.get("what") == "env"), {})
    runs = [r for r in rows if r.get("what") == "run" and r.get("round", 0) > 0 and isinstance(r.get("result"), dict)]
    figs = []
    for fid, key, label in () if not runs else (("oci_run_first_output", "marker_ms", "`hull run` vs `crun run`: exec → first output"),
                            ("oci_run_exit", "exit_ms", "`hull run` vs `crun run`: exec → exit")):
        f = figure(label, "ms", "lower",
                   {rt: summarize([r["result"].get(key) for r in runs if r.get("runtime") == rt])
                    for rt in ("hull", "crun")},
                   note="the same bundle (busybox echo); hull boots a new microVM each run")
        f["id"] = fid
        figs.append(f)
    scaling = []
    for r in rows:
        if r.get("what") != "scale":
            continue
        try:
            scaling.append({"runtime": str(r["runtime"]), "count": int(r["count"]),
                            "all_ready_ms": float(r["all_ready_ms"]), "each_ms": summarize(r.get("each_ms", [])),
                            "failed": int(r.get("failed", 0)), "pss_kib": int(r["pss_kib"]),
                            "rss_kib": int(r["rss_kib"]), "processes": int(r.get("processes", 0))})
        except (KeyError, TypeError, ValueError):
            bad += 1
    scaling.sort(key=lambda s: (s["runtime"], s["count"]))
    return {"figures": figs, "env": env, "scaling": scaling, "malformed_lines": bad}


PARSERS = {"vmm-boot": vmm_boot, "agent-start": agent_start, "container-start": container_start, "cri": cri,
           "virtio": virtio, "virtiofs": virtiofs, "oci-run": oci_run}


def _cell(s):
    return "-" if s.get("median") is None else f"{s['median']:.1f} ({s['min']:.1f}-{s['max']:.1f}, n={s['n']})"


def print_summary(result, out=sys.stdout):
    for f in result["figures"]:
        cells = ", ".join(f"{k} {_cell(v)}" for k, v in f["values"].items())
        ratios = ", ".join(f"{k} {v}" for k, v in f["ratios"].items() if v is not None)
        print(f"{f['name']} [{f['unit']}, median (min-max)]: {cells}{'; ' + ratios if ratios else ''}", file=out)
    for s in result.get("scaling", []):
        print(f"scaling {s['runtime']} x{s['count']}: all ready {s['all_ready_ms']:.0f} ms, each {_cell(s['each_ms'])}, "
              f"PSS {s['pss_kib'] / 1024:.1f} MiB, failed {s['failed']}", file=out)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in PARSERS:
        sys.exit(f"usage: python3 -m suite.collect {{{','.join(PARSERS)}}} FILE [STDERR_LOG]")
    print_summary(PARSERS[sys.argv[1]](*sys.argv[2:]))
