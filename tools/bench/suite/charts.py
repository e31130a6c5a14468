"""PNG charts of the suite's results, drawn with gnuplot (Debian: gnuplot-nox).

Each chart function writes its data and script into a work directory, runs gnuplot, and
returns the PNG's path, or None when the results hold nothing to draw."""
import os
import shutil
import subprocess

COLORS = {"hull": "#1f77b4", "qemu": "#ff7f0e", "crun": "#2ca02c", "runc": "#d62728"}
PHASE_COLORS = ["#9ecae1", "#4292c6", "#08519c", "#fdae6b", "#e6550d", "#74c476"]


class ChartError(Exception):
    pass


def _gnuplot(work, name, script):
    path = os.path.join(work, name + ".gp")
    with open(path, "w") as f:
        f.write(script)
    gp = shutil.which("gnuplot")
    if not gp:
        raise ChartError("gnuplot is not installed (apt-get install gnuplot-nox, or run tools/setup)")
    out = subprocess.run([gp, path], capture_output=True, text=True)
    if out.returncode != 0:
        raise ChartError(f"gnuplot failed on {path}: {out.stderr.strip()[-400:]}")


def _q(text):
    return text.replace("\\", "\\\\").replace('"', "'")


def timeline(results, work, png):
    """Horizontal bars: where the time of a start goes, per subject (segments in order)."""
    rows = []  # (label, [(segment label, start, end)])
    vb = _figs(results, "vmm-boot")
    api, init = vb.get("vmm_api_ready"), vb.get("vmm_init_marker")
    for subject, label in (("qemu", "QEMU microvm"), ("hull", "hull-vmm")):
        a = api and api["values"].get(subject, {}).get("median")
        m = init and init["values"].get(subject, {}).get("median")
        if a is not None and m is not None:
            rows.append((label + " (vmm-boot)", [("VMM start → API ready", 0, a),
                                                  ("→ kernel boot → guest init marker", a, max(a, m))]))
    phases = (results.get("benchmarks", {}).get("container-start", {}).get("hull_phases_ms") or {})
    med = {k: (v or {}).get("median") for k, v in phases.items()}
    if all(med.get(k) is not None for k in ("vmm", "agent", "create")):
        t1 = med["vmm"]
        t2 = t1 + med["agent"]
        t3 = t2 + med["create"]
        rows.append(("hull via containerd (shim phases)",
                     [("VMM spawned, configured, InstanceStart", 0, t1),
                      ("guest boot → agent ready", t1, t2), ("container created", t2, t3)]))
    if not rows:
        return None
    data = os.path.join(work, "timeline.dat")
    seg_names = []
    with open(data, "w") as f:
        for y, (_, segs) in enumerate(rows):
            for name, s, e in segs:
                if name not in seg_names:
                    seg_names.append(name)
                f.write(f"{(s + e) / 2000:.4f} {y} {(e - s) / 2000:.4f} 0.3 {seg_names.index(name)} {e / 1000:.3f}\n")
    ytics = ", ".join(f'"{_q(label)}" {y}' for y, (label, _) in enumerate(rows))
    palette = ", ".join(f'{i} "{PHASE_COLORS[i % len(PHASE_COLORS)]}"' for i in range(len(seg_names)))
    keys = ", ".join(f'NaN with boxes fs solid lc rgb "{PHASE_COLORS[i % len(PHASE_COLORS)]}" title "{_q(n)}"'
                     for i, n in enumerate(seg_names))
    _gnuplot(work, "timeline", f"""
set terminal pngcairo size 1100,{260 + 70 * len(rows)} font "sans,10"
set output "{png}"
set title "Boot timeline (medians, seconds; nested L1 under TCG: read proportions, not absolutes)"
set xlabel "seconds since the VMM process started"
set ytics ({ytics})
set yrange [-0.6:{len(rows) - 0.4}]
set xrange [0:{max(e for _, segs in rows for _, _, e in segs) / 1000 * 1.1:.3f}]
set grid xtics
set key outside bottom center horizontal maxrows 2 width 2
set style fill solid 1.0 border lc rgb "white"
set palette defined ({palette})
unset colorbox
set cbrange [0:{max(len(seg_names) - 1, 1)}]
plot "{data}" using 1:2:3:4:5 with boxxyerror lc palette notitle, \\
     "{data}" using ($1 + $3):2:(sprintf("%.2f", $6)) with labels left offset 0.3,0 notitle, {keys}
""")
    return png


def _figs(results, bench):
    return {f.get("id"): f for f in results.get("benchmarks", {}).get(bench, {}).get("figures", [])}


LATENCY = (("vmm-boot", "vmm_api_ready", "VMM → API ready"),
           ("vmm-boot", "vmm_init_marker", "VMM → guest init"),
           ("agent-start", "agent_container_run", "container via agent"),
           ("hull-run", "oci_run_first_output", "hull run → 1st output"),
           ("container-start", "ctr_run", "ctr run --rm"))


def _bars(results, wanted, work, png, title, ylabel, scale, logscale):
    subjects = ["hull", "qemu", "crun", "runc"]
    groups = []
    for bench, fid, label in wanted:
        f = _figs(results, bench).get(fid)
        if f and any((f["values"].get(s) or {}).get("median") is not None for s in subjects):
            groups.append((label, f))
    if not groups:
        return None
    used = [s for s in subjects if any((f["values"].get(s) or {}).get("median") is not None for _, f in groups)]
    data = os.path.join(work, os.path.basename(png) + ".dat")
    with open(data, "w") as fh:
        for label, f in groups:
            cells = []
            for s in used:
                v = f["values"].get(s) or {}
                if v.get("median") is None:
                    cells += ["?", "?", "?"]
                else:
                    cells += [f"{v['median'] * scale:.4f}", f"{v['min'] * scale:.4f}", f"{v['max'] * scale:.4f}"]
            fh.write(f'"{_q(label)}" ' + " ".join(cells) + "\n")
    plots = ", ".join(
        f'"{data}" using {2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i}:xtic(1) title "{s}" lc rgb "{COLORS[s]}"'
        for i, s in enumerate(used))
    _gnuplot(work, os.path.basename(png), f"""
set terminal pngcairo size 1000,480 font "sans,10"
set output "{png}"
set title "{_q(title)}"
set ylabel "{_q(ylabel)}"
set datafile missing "?"
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set grid ytics
{"set logscale y" if logscale else "set yrange [0:*]"}
set key top left
set xtics rotate by -15
plot {plots}
""")
    return png


def latency(results, work, png):
    return _bars(results, LATENCY, work, png, "Start latency: median, bars from min to max (log scale)",
                 "milliseconds (nested L1)", 1.0, True)


MEMORY = (("container-start", "pod_pss", "pod PSS (shim + VMM / shim + container)"),
          ("vmm-boot", "vmm_rss_api", "VMM anon RSS at API ready"),
          ("vmm-boot", "vmm_overhead", "hull-vmm overhead after a boot"))


def memory(results, work, png):
    return _bars(results, MEMORY, work, png, "Memory (MiB)", "MiB", 1 / 1024, False)


def scaling(results, work, png):
    rows = results.get("benchmarks", {}).get("scaling", {}).get("scaling") or []
    runtimes = [rt for rt in ("hull", "crun") if any(r["runtime"] == rt for r in rows)]
    if not runtimes:
        return None
    files = {}
    for rt in runtimes:
        files[rt] = os.path.join(work, f"scaling-{rt}.dat")
        with open(files[rt], "w") as fh:
            for r in sorted((r for r in rows if r["runtime"] == rt), key=lambda r: r["count"]):
                each = r["each_ms"]
                med = each.get("median")
                up = r["count"] - r["failed"]
                per = f"{r['pss_kib'] / 1024 / up:.1f}" if up > 0 else "?"
                fh.write(f"{r['count']} {r['all_ready_ms'] / 1000:.3f} "
                         f"{'?' if med is None else f'{med / 1000:.3f}'} {per} {up}/{r['count']}\n")
    lat = ", ".join(
        f'"{files[rt]}" using 1:2 with linespoints lw 2 pt 7 lc rgb "{COLORS[rt]}" title "{rt}: until all are up", '
        f'"{files[rt]}" using 1:3 with linespoints lw 1 dt 2 pt 6 lc rgb "{COLORS[rt]}" title "{rt}: median of each"'
        for rt in runtimes)
    mem = ", ".join(f'"{files[rt]}" using 1:4 with linespoints lw 2 pt 7 lc rgb "{COLORS[rt]}" title "{rt}", '
                    f'"{files[rt]}" using 1:4:5 with labels offset 0,1 tc rgb "{COLORS[rt]}" notitle'
                    for rt in runtimes)
    _gnuplot(work, "scaling", f"""
set terminal pngcairo size 1100,460 font "sans,10"
set output "{png}"
set datafile missing "?"
set multiplot layout 1,2 title "N sandboxes started at once (nested L1): hull run vs crun run; failed starts are left out"
set xlabel "sandboxes started at once (log scale)"
set logscale x
set xtics ({", ".join(str(c) for c in sorted({r["count"] for r in rows}))})
set xrange [0.8:{max(r["count"] for r in rows) * 1.25}]
set grid
set key top left
set ylabel "seconds"
set title "start latency"
plot {lat}
set ylabel "MiB per running sandbox"
set yrange [0:*]
set key center right
set title "memory: PSS per started sandbox (labels: started/N)"
plot {mem}
unset multiplot
""")
    return png


ALL = (("timeline", timeline), ("latency", latency), ("memory", memory), ("scaling", scaling))


def draw_all(results, out_dir, work, prefix="bench-"):
    """Draws every chart there is data for; returns {name: path or None} and a list of errors."""
    drawn, errors = {}, []
    for name, fn in ALL:
        png = os.path.join(out_dir, f"{prefix}{name}.png")
        try:
            drawn[name] = fn(results, work, png)
        except ChartError as e:
            drawn[name] = None
            errors.append(f"{name}: {e}")
    return drawn, errors
