"""tools/bench/run: hull's benchmark suite in one command.

Runs each benchmark (each one measures hull side by side with its peer in one L1 run), collects
their results into ONE JSON document (machine, versions, figures with median/min/max/n and
hull/peer ratios, the scaling curve), and writes the generated markdown and PNG charts.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from . import charts, collect, machine, report

SCHEMA = "hull-bench/1"
HERE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # tools/bench
REPO = os.path.dirname(os.path.dirname(HERE))
NAMES = ("vmm-boot", "hull-run", "agent-start", "container-start", "cri", "virtio", "virtiofs", "scaling")


class SuiteError(Exception):
    pass


def plan(name, o, work):
    """(command, {role: file}) of one benchmark; the parser reads the files."""
    b, arch = o.build, "x86_64"
    vmm, hull, shim = f"{b}/bin/hull-vmm", f"{b}/bin/hull", f"{b}/bin/containerd-shim-hull-v2"
    kernel, initrd = f"{b}/guest/{arch}/bzImage", f"{b}/guest/{arch}/initramfs.cpio.lz4"
    f = lambda n: os.path.join(work, n)
    if name == "vmm-boot":
        return ([f"{HERE}/vmm-boot", "--vmm", vmm, "--kernel", kernel, "--rounds", str(o.rounds), "--json", f("vmm-boot.jsonl")],
                {"jsonl": f("vmm-boot.jsonl")})
    if name == "hull-run":
        return ([f"{HERE}/oci-run", "--rounds", str(o.rounds), "--counts", "", "--hull", hull, "--vmm", vmm,
                 "--kernel", kernel, "--initrd", initrd, "--out", f("hull-run.jsonl")], {"jsonl": f("hull-run.jsonl")})
    if name == "scaling":
        mem = max(2048, 1024 + 100 * max(o.counts))
        return ([f"{HERE}/oci-run", "--rounds", "0", "--counts", " ".join(map(str, o.counts)), "--memory", str(mem),
                 "--cpus", str(o.scaling_cpus),
                 "--hull", hull, "--vmm", vmm, "--kernel", kernel, "--initrd", initrd, "--timeout", "5400",
                 "--out", f("scaling.jsonl")], {"jsonl": f("scaling.jsonl")})
    if name == "agent-start":
        return ([f"{HERE}/agent-start", "--build", b, "--rounds", str(o.rounds), "--runs", "1" if o.quick else "2",
                 "--raw", f("agent-start.txt")], {"raw": f("agent-start.txt")})
    if name == "container-start":
        return ([f"{HERE}/container-start", "--rounds", str(o.rounds), "--shim", shim, "--vmm", vmm, "--kernel", kernel,
                 "--initrd", initrd, "--out", f("container-start.json")],
                {"result_json": f("container-start.json"), "stderr_log": f("container-start.log")})
    if name == "cri":
        return ([f"{HERE}/cri", "--rounds", str(o.rounds), "--parallel-rounds", "1" if o.quick else "3",
                 "--pods", "2" if o.quick else "10", "--shim", shim, "--vmm", vmm, "--cri", f"{b}/bin/hull-cri",
                 "--kernel", kernel, "--initrd", initrd, "--out", f("cri.json")],
                {"result_json": f("cri.json")})
    if name == "virtio":
        return ([f"{REPO}/tests/e2e/virtio_x86/bench/virtio-bench", "--vmm", vmm, "--kernel", kernel,
                 "--rounds", str(o.rounds), "--bytes", str(1 << 20 if o.quick else 16 << 20), "--raw", f("virtio.txt")],
                {"raw": f("virtio.txt")})
    if name == "virtiofs":
        return ([f"{HERE}/virtiofs", "--rounds", str(o.rounds), "--image-mib", "20" if o.quick else "100",
                 "--large-mib", "8" if o.quick else "40", "--vmm", vmm, "--kernel", kernel, "--shim", shim,
                 "--initrd", initrd, "--out", f("virtiofs.json")], {"result_json": f("virtiofs.json")})
    raise SuiteError(f"unknown benchmark {name}")


PARSER_OF = {"vmm-boot": collect.vmm_boot, "hull-run": collect.oci_run, "scaling": collect.oci_run,
             "agent-start": collect.agent_start, "container-start": collect.container_start, "cri": collect.cri,
             "virtio": collect.virtio, "virtiofs": collect.virtiofs}


def utc_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def progress(o, text):
    if not o.quiet:
        print(f"bench: {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def run_one(name, o, work):
    cmd, files = plan(name, o, work)
    log_path = files.get("stderr_log") or os.path.join(work, f"{name}.log")
    progress(o, f"{name}: starting ({' '.join(cmd[1:])})")
    started = utc_now()
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                                cwd=REPO)

        def pump():
            for line in proc.stdout:
                log.write(line)
                log.flush()
                if not o.quiet:
                    print(f"  [{name}] {line.rstrip()}", file=sys.stderr, flush=True)
        t = threading.Thread(target=pump)
        t.start()
        rc = proc.wait()
        t.join()
    took = time.monotonic() - t0
    shown = (c.replace(work, "$WORK") for c in cmd)  # the work directory is temporary
    entry = {"command": " ".join(os.path.relpath(c, REPO) if c.startswith(REPO + "/") else c for c in shown),
             "rc": rc, "started": started, "duration_s": round(took, 1), "loadavg_after": machine.loadavg()}
    try:
        missing = [p for p in files.values() if not os.path.exists(p)]
        if missing:
            raise SuiteError(f"it wrote no {', '.join(os.path.basename(p) for p in missing)}")
        entry.update(PARSER_OF[name](**files))
        got = sum(v.get("n", 0) for fig in entry.get("figures", []) for v in fig["values"].values())
        got += len(entry.get("scaling", []))
        entry["status"] = "ok" if rc == 0 and got else ("partial" if got else "failed")
        if not got:
            entry["error"] = f"no measurements (exit status {rc}); its log: {log_path}"
    except Exception as e:  # noqa: BLE001 - one benchmark's bad output must not lose the others'
        entry.update(status="failed", figures=[], error=f"{type(e).__name__}: {e} (exit status {rc})")
    progress(o, f"{name}: {entry['status']} in {took:.0f} s")
    return entry


def programs(build):
    """What was measured: size and modification time of the programs and the guest."""
    out = {}
    for rel in ("bin/hull-vmm", "bin/hull", "bin/containerd-shim-hull-v2", "bin/hull-agent",
                "guest/x86_64/bzImage", "guest/x86_64/initramfs.cpio.lz4"):
        try:
            st = os.stat(os.path.join(build, rel))
        except OSError:
            continue
        out[rel] = {"bytes": st.st_size,
                    "modified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(st.st_mtime))}
    return out


def kvm_mode(build):
    hull = os.path.join(build, "bin", "hull")
    if not os.access(hull, os.X_OK):
        return "unknown (no hull binary)"
    out = subprocess.run([hull, "check"], capture_output=True, text=True)
    if out.returncode == 0:
        return "this host's /dev/kvm (hull check: usable)"
    lines = (out.stdout + out.stderr).strip().splitlines()
    why = next((l.strip() for l in lines if l.strip() and not l.lstrip().startswith("ok")), "not usable")
    return f"nested L1 under QEMU TCG (hull check: {why[:240]})"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="tools/bench/run", description=__doc__.strip(),
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=f"benchmarks: {', '.join(NAMES)}. Takes ~2.5 h on a loaded 2-core machine (scaling to 50 ~50 min, cri ~45, virtiofs ~25); "
                                       "--quick takes a few minutes per benchmark.")
    p.add_argument("--quick", action="store_true", help="1 round, small sizes, scaling counts 1,2 (a smoke run)")
    p.add_argument("--only", help="comma-separated benchmarks to run (default: all)")
    p.add_argument("--rounds", type=int, help="rounds per benchmark (default 5; --quick: 1)")
    p.add_argument("--counts", help="scaling: sandboxes at once, comma-separated (default 1,2,5,10,20,50)")
    p.add_argument("--scaling-cpus", type=int, default=2,
                   help="vCPUs of the scaling benchmark's L1 (default 2: N microVMs boot at once)")
    p.add_argument("--build", default=os.path.join(REPO, "build"), help="build tree with bin/ and guest/ (default build/)")
    p.add_argument("--out-dir", default=os.path.join(REPO, "docs"),
                   help="where the JSON, markdown and charts go (default docs/)")
    p.add_argument("--from-json", metavar="JSON",
                   help="run nothing: redraw the charts and rewrite the markdown from an earlier run's JSON")
    p.add_argument("--merge", action="store_true",
                   help="run the benchmarks given (--only) and replace just theirs in the earlier run's JSON in "
                        "--out-dir, keeping the others; the JSON (reruns) and the markdown list each re-run with its date")
    p.add_argument("--merge-from", metavar="JSON",
                   help="run nothing: put the benchmarks of another run's JSON (e.g. one that ran beside this one) "
                        "into --out-dir's results, listed as a separate run with its own date")
    p.add_argument("--note", help="a sentence kept with this run (or with the merged one) in the JSON and the markdown")
    p.add_argument("--keep", action="store_true", help="keep the work directory with every raw output")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    o = p.parse_args(argv)
    o.names = NAMES if not o.only else tuple(n.strip() for n in o.only.split(",") if n.strip())
    bad = [n for n in o.names if n not in NAMES]
    if bad or not o.names:
        p.error(f"--only: unknown benchmark {', '.join(bad) or '(none given)'}; choose from {', '.join(NAMES)}")
    if o.rounds is None:
        o.rounds = 1 if o.quick else 5
    if o.rounds < 1:
        p.error("--rounds must be at least 1")
    if o.scaling_cpus < 1:
        p.error("--scaling-cpus must be at least 1")
    try:
        o.counts = [int(c) for c in (o.counts or ("1,2" if o.quick else "1,2,5,10,20,50")).split(",")]
    except ValueError:
        p.error("--counts takes positive integers separated by commas, e.g. 1,2,5")
    if not o.counts or min(o.counts) < 1:
        p.error("--counts takes positive integers separated by commas, e.g. 1,2,5")
    if o.merge_from and (o.merge or o.from_json or o.only):
        p.error("--merge-from runs nothing: give it alone (with --out-dir and --note)")
    if o.merge and (o.from_json or not o.only):
        p.error("--merge re-runs the benchmarks named by --only into an earlier run's results; give --only, not --from-json")
    o.build = os.path.abspath(o.build)
    o.out_dir = os.path.abspath(o.out_dir)
    return o


def write_outputs(doc, o, work, t0, final):
    doc["l1"] = next((b.get("env") for b in doc["benchmarks"].values() if (b.get("env") or {}).get("l1_kernel")), {})
    if o.merge:  # the first run's own figures stay; the re-run's go into its entry
        rerun = doc["reruns"][-1]
        rerun.update(loadavg_at_end=machine.loadavg(), duration_s=round(time.monotonic() - t0, 1), complete=final)
    else:
        doc["loadavg_at_end"] = machine.loadavg()
        doc["duration_s"] = round(time.monotonic() - t0, 1)
        doc["complete"] = final
    if final:
        progress(o, "drawing the charts")
    drawn, doc["chart_errors"] = charts.draw_all(doc, o.out_dir, work)
    doc["charts"] = {k: (os.path.basename(p) if p else None) for k, p in drawn.items()}
    json_path = os.path.join(o.out_dir, "benchmark-results.json")
    md_path = os.path.join(o.out_dir, "benchmark-results.md")
    with open(json_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    report.render(doc, drawn, md_path)
    if final:
        progress(o, f"wrote {json_path}, {md_path} and {sum(1 for p in drawn.values() if p)} chart(s)")


def load_results(path):
    """An earlier run's JSON document, or None after saying why it cannot be used."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"bench: cannot read {path}: {e}", file=sys.stderr)
        return None
    if doc.get("schema") != SCHEMA:
        print(f"bench: {path} is not a {SCHEMA} document (schema {doc.get('schema')!r})", file=sys.stderr)
        return None
    return doc


def rerender(o):
    doc = load_results(o.from_json)
    if doc is None:
        return 1
    os.makedirs(o.out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="hull-bench-")
    try:
        drawn, doc["chart_errors"] = charts.draw_all(doc, o.out_dir, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    doc["charts"] = {k: (os.path.basename(p) if p else None) for k, p in drawn.items()}
    json_path = os.path.join(o.out_dir, "benchmark-results.json")
    if os.path.abspath(o.from_json) != json_path:
        with open(json_path, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    report.render(doc, drawn, os.path.join(o.out_dir, "benchmark-results.md"))
    progress(o, f"rewrote the markdown and {sum(1 for p in drawn.values() if p)} chart(s) in {o.out_dir}")
    return 0


def merge_from(o):
    """Puts another run's benchmarks into --out-dir's results as a separate run, then redraws."""
    json_path = os.path.join(o.out_dir, "benchmark-results.json")
    doc, other = load_results(json_path), load_results(o.merge_from)
    if doc is None or other is None:
        return 1
    run = {k: other.get(k) for k in ("command", "build_dir", "rounds", "quick", "machine", "kvm", "programs",
                                     "loadavg_at_end", "duration_s", "complete")}
    run.update(benchmarks=list(other["benchmarks"]), note=o.note)
    doc.setdefault("reruns", []).append(run)
    merged = dict(doc["benchmarks"], **other["benchmarks"])
    doc["benchmarks"] = {n: merged[n] for n in sorted(merged, key=lambda n: NAMES.index(n) if n in NAMES else len(NAMES))}
    doc["l1"] = next((b.get("env") for b in doc["benchmarks"].values() if (b.get("env") or {}).get("l1_kernel")), {})
    with open(json_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    o.from_json = json_path
    return rerender(o)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    o = parse_args(argv)
    if o.merge_from:
        return merge_from(o)
    if o.from_json:
        return rerender(o)
    for tool in ("hull-vmm", "hull"):
        if not os.access(os.path.join(o.build, "bin", tool), os.X_OK):
            print(f"bench: no {o.build}/bin/{tool}: build the project first (cmake --build build), or give --build",
                  file=sys.stderr)
            return 1
    os.makedirs(o.out_dir, exist_ok=True)
    run = {"command": "tools/bench/run " + " ".join(argv), "build_dir": o.build, "rounds": o.rounds, "quick": o.quick,
           "machine": machine.describe(REPO), "kvm": kvm_mode(o.build), "programs": programs(o.build)}
    if o.merge:
        doc = load_results(os.path.join(o.out_dir, "benchmark-results.json"))
        if doc is None:
            return 1
        doc.setdefault("reruns", []).append(dict(run, benchmarks=list(o.names), note=o.note))
    else:
        doc = {"schema": SCHEMA, **run, "note": o.note, "benchmarks": {}}
    work = tempfile.mkdtemp(prefix="hull-bench-")
    t0 = time.monotonic()
    progress(o, f"{len(o.names)} benchmark(s), {o.rounds} round(s) each; load average {run['machine']['loadavg_at_start']}; "
                f"KVM: {run['kvm']}")
    try:
        for i, name in enumerate(o.names):
            doc["benchmarks"][name] = run_one(name, o, work)
            # written after every benchmark, so a run cut short keeps what it measured
            write_outputs(doc, o, work, t0, final=i == len(o.names) - 1)
    finally:
        if o.keep:
            progress(o, f"raw outputs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for err in doc.get("chart_errors", []):
        print(f"bench: chart not drawn: {err}", file=sys.stderr)
    failed = [n for n in o.names if doc["benchmarks"][n]["status"] == "failed"]
    if failed:
        print(f"bench: failed: {', '.join(failed)} (see the markdown for why)", file=sys.stderr)
        return 1
    return 0
