#!/usr/bin/env python3
"""tools/bench/virtiofs's summary: its L1's JSON lines -> one result document (--out) and a
markdown table (stdout, --md). Samples that are null (a step that failed or read short) count
as failed, never as a number.
usage: virtiofs-report.py RESULTS.jsonl [--started T] [--command C] [--out JSON] [--md MD]"""
import argparse
import json
import os
import platform
import statistics
import sys

SUBJECTS = ("virtiofs", "erofs")
MIB = 1 << 20


def summary(values):
    ok = [v for v in values if isinstance(v, (int, float)) and v >= 0]
    return {"n": len(ok), "failed": len(values) - len(ok), "median": statistics.median(ok) if ok else None,
            "min": min(ok) if ok else None, "max": max(ok) if ok else None, "samples": values}


def rate(nbytes, cs):
    """MiB/s of NBYTES read in CS centiseconds; None when not measured (or under the clock's tick)."""
    return round(nbytes / MIB / (cs / 100), 2) if isinstance(cs, (int, float)) and cs > 0 else None


def build(rows, started, command):
    env = next((r for r in rows if r.get("what") == "env"), {})
    tree = next((r for r in rows if r.get("what") == "tree"), {})
    vms = [r for r in rows if r.get("what") == "vm" and r.get("round", 0) > 0]
    ctr = [r for r in rows if r.get("what") == "ctr" and r.get("round", 0) > 0]

    def per(rs, fs, f):
        return [f(r) for r in rs if r.get("fs") == fs]

    files = tree.get("small_files") or 0
    measures = {
        "first_output_ms": lambda r: r.get("first_output_ms"),
        "vmm_to_output_ms": lambda r: r.get("vmm_to_output_ms"),
        "mkfs_ms": lambda r: r.get("mkfs_ms"),
        "large_read_mibs": lambda r: rate(tree.get("large_bytes", 0), r.get("large_cs")),
        "small_files_mibs": lambda r: rate(tree.get("small_bytes", 0), r.get("small_cs")),
        "small_files_per_s": lambda r: round(files / (r["small_cs"] / 100)) if (r.get("small_cs") or 0) > 0 else None,
        "walk_ms": lambda r: r["walk_cs"] * 10 if isinstance(r.get("walk_cs"), int) else None,
    }
    vm = {m: {fs: summary(per(vms, fs, f)) for fs in SUBJECTS} for m, f in measures.items()}
    vm["mkfs_ms"].pop("virtiofs")  # nothing to build
    result = {"benchmark": "virtiofs", "started": started, "command": command,
              "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                       "loadavg_at_end": open("/proc/loadavg").read().split()[:3]},
              "l1": env, "tree": tree, "vm": vm,
              "image_bytes": next((r.get("image_bytes") for r in vms if r.get("image_bytes")), None),
              "ctr": {"first_output_ms": {fs: summary(per(ctr, fs, lambda r: r.get("first_output_ms"))) for fs in SUBJECTS}}
              if ctr else None,
              "raw": rows}
    return result


def ratio(a, b):
    return round(a["median"] / b["median"], 2) if a.get("median") and b.get("median") else None


def table(result):
    def cell(s, digits=0):
        if s.get("median") is None:
            return f"- (n=0{', ' + str(s['failed']) + ' failed' if s['failed'] else ''})"
        fmt = f"{{:,.{digits}f}}"
        failed = f", {s['failed']} failed" if s["failed"] else ""
        return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}-{fmt.format(s['max'])}, n={s['n']}{failed})"
    vm, tree = result["vm"], result["tree"]
    mib = (tree.get("bytes") or 0) / MIB
    lines = ["| median (min-max, n) | virtio-fs | erofs (virtio-blk) | virtio-fs / erofs |", "|---|---|---|---|"]
    rows = [("first start, cold: image ready -> first output of a program from it (ms; erofs includes mkfs.erofs)", "first_output_ms", 0),
            ("  of which hull-vmm start -> first output (ms)", "vmm_to_output_ms", 0),
            (f"sequential read of the {tree.get('large_bytes', 0) / MIB:.0f} MiB file (MiB/s, higher is better)", "large_read_mibs", 1),
            (f"tar of {tree.get('small_files', '?')} small files, {tree.get('small_bytes', 0) / MIB:.0f} MiB (MiB/s, higher is better)", "small_files_mibs", 1),
            ("  the same in files/s (higher is better)", "small_files_per_s", 0),
            ("metadata walk: find -type f of the small files (ms)", "walk_ms", 0)]
    for label, key, digits in rows:
        v, e = vm[key]["virtiofs"], vm[key]["erofs"]
        lines.append(f"| {label} | {cell(v, digits)} | {cell(e, digits)} | {ratio(v, e) or '-'} |")
    lines.append(f"| mkfs.erofs of the tree (ms) | - | {cell(vm['mkfs_ms']['erofs'])} | |")
    if result.get("ctr"):
        c = result["ctr"]["first_output_ms"]
        lines.append(f"| through containerd: `ctr run --rm` -> first output, cold (ms) | {cell(c['virtiofs'])} | "
                     f"{cell(c['erofs'])} | {ratio(c['virtiofs'], c['erofs']) or '-'} |")
    env = result["l1"]
    img = result.get("image_bytes")
    lines += ["", f"Image: {mib:.0f} MiB in {tree.get('files', '?')} files + busybox"
              f"{f'; its erofs image {img / MIB:.1f} MiB' if img else ''}. L1: {env.get('l1_kernel', '?')}, "
              f"{env.get('l1_cpus', '?')} vCPU, {(env.get('l1_mem_kib') or 0) // 1024} MiB, files on {env.get('tmp_fs', '?')}; "
              f"{env.get('mkfs_erofs', '?')}; host load at the end {' '.join(result['host']['loadavg_at_end'])}"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(prog="virtiofs-report.py", description=__doc__.strip().splitlines()[0])
    p.add_argument("results")
    p.add_argument("--started", default="")
    p.add_argument("--command", default="tools/bench/virtiofs")
    p.add_argument("--out")
    p.add_argument("--md")
    o = p.parse_args(argv)
    rows, bad = [], 0
    with open(o.results) as f:
        for line in f:
            try:
                rows.append(json.loads(line))
            except ValueError:
                bad += 1
    result = build(rows, o.started, o.command)
    result["malformed_lines"] = bad
    if o.out:
        with open(o.out, "w") as f:
            json.dump(result, f, indent=1)
    text = table(result)
    print(text, end="")
    if o.md:
        with open(o.md, "w") as f:
            f.write(text)
    if not any(s["n"] for m in result["vm"].values() for s in m.values()):
        print("virtiofs: nothing was measured (the L1's output above says why)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
