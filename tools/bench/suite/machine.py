"""What the numbers were measured on: host CPU, cores, kernel, load, tool versions, hull's commit."""
import datetime
import os
import platform
import shutil
import subprocess


def _first_line(cmd):
    if not shutil.which(cmd[0]):
        return None
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]
    except (OSError, ValueError):
        return None


def _mem_total_mib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError):
        pass
    return None


def describe(repo):
    """The machine section of the suite's JSON."""
    git = lambda *a: _first_line(["git", "-C", repo, *a])
    dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip() != ""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_mib": _mem_total_mib(),
        "host_kernel": platform.release(),
        "loadavg_at_start": loadavg(),
        "hull_commit": git("rev-parse", "HEAD"),
        "hull_tree_dirty": dirty,
        "versions": {
            "qemu": _first_line(["qemu-system-x86_64", "--version"]),
            "containerd": _first_line(["containerd", "--version"]),
            "runc": _first_line(["runc", "--version"]),
            "crun": _first_line(["crun", "--version"]),
            "gnuplot": _first_line(["gnuplot", "--version"]),
        },
    }
