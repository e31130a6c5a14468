"""Fetches and caches what an L1 boots: the Debian kernel (and its modules) and busybox.

Layout under ${XDG_CACHE_HOME:-~/.cache}/hull/l1/<arch>/:
  resolved.json            which packages apt resolved, and the apt state it saw
  <package>_<version>/     one unpacked kernel: vmlinuz, kver, lib/modules/<kver>/ (+ modules.dep)
  busybox_<version>/busybox
Packages come from `apt-get download` (the current kernel the metapackage points at);
when apt cannot answer (offline) the newest cached copy is used.
"""
import fcntl
import glob
import json
import os
import shutil
import subprocess
import tempfile


class FetchError(Exception):
    pass


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hull", "l1")


class Kernel:
    def __init__(self, directory):
        self.directory = directory
        with open(os.path.join(directory, "kver")) as f:
            self.kver = f.read().strip()
        self.vmlinuz = os.path.join(directory, "vmlinuz")
        self.modules_dir = os.path.join(directory, "lib", "modules", self.kver)

    def module_load_order(self, names):
        """Paths of the .ko files for `names` and their dependencies, in load order.

        Names not built as modules are skipped (built in, or not in this kernel)."""
        deps = _read_modules_dep(os.path.join(self.modules_dir, "modules.dep"))
        order = []
        for name in names:
            key = name.replace("-", "_")
            if key not in deps:
                continue
            path, requires = deps[key]
            for dep in reversed(requires):  # modprobe loads the list back to front
                full = os.path.join(self.modules_dir, dep)
                if full not in order:
                    order.append(full)
            full = os.path.join(self.modules_dir, path)
            if full not in order:
                order.append(full)
        return order


def _read_modules_dep(path):
    deps = {}
    with open(path) as f:
        for line in f:
            target, _, rest = line.partition(":")
            name = os.path.basename(target)[:-len(".ko")].replace("-", "_")
            deps[name] = (target, rest.split())
    return deps


class Cache:
    def __init__(self, arch, log):
        self.arch = arch
        self.log = log
        self.dir = os.path.join(cache_root(), arch.name)
        os.makedirs(self.dir, exist_ok=True)

    def _lock(self):
        fd = os.open(os.path.join(self.dir, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def get(self):
        """(Kernel, busybox path), fetching what is missing. Safe to call concurrently."""
        fd = self._lock()
        try:
            packages = self._resolve()
            kernel_dir = os.path.join(self.dir, f"{packages['kernel']}_{packages['kernel_version']}")
            if not os.path.isfile(os.path.join(kernel_dir, "kver")):
                self._fetch_kernel(packages["kernel"], kernel_dir)
            busybox_dir = os.path.join(self.dir, f"busybox_{packages['busybox_version']}")
            if not os.path.isfile(os.path.join(busybox_dir, "busybox")):
                self._fetch_busybox(busybox_dir)
            return Kernel(kernel_dir), os.path.join(busybox_dir, "busybox")
        finally:
            os.close(fd)

    # -- which packages: cached until apt's package lists change ----------------------------
    def _apt_stamp(self):
        stamp = []
        for p in ("/var/lib/apt/lists", "/var/cache/apt/pkgcache.bin", "/var/lib/dpkg/arch"):
            try:
                stamp.append(os.stat(p).st_mtime_ns)
            except OSError:
                stamp.append(0)
        return stamp

    def _resolve(self):
        record = os.path.join(self.dir, "resolved.json")
        stamp = self._apt_stamp()
        try:
            with open(record) as f:
                saved = json.load(f)
            if saved.get("apt_stamp") == stamp:
                return saved
        except (OSError, ValueError):
            saved = None
        try:
            kernel = self._kernel_package()
            resolved = {
                "apt_stamp": stamp,
                "kernel": kernel,
                "kernel_version": _candidate_version(self._qualified(kernel)),
                "busybox_version": _candidate_version(self.arch.busybox_package),
            }
        except FetchError as e:
            fallback = saved or self._newest_cached()
            if not fallback:
                raise
            self.log(f"warning: {e}; using the cached L1 kernel {fallback['kernel']}")
            return fallback
        with open(record + ".tmp", "w") as f:
            json.dump(resolved, f)
        os.replace(record + ".tmp", record)
        return resolved

    def _qualified(self, package):
        return package if self.arch.debian == _dpkg_arch() else f"{package}:{self.arch.debian}"

    def _kernel_package(self):
        out = _run(["apt-cache", "depends", self.arch.kernel_metapackage],
                   f"cannot ask apt which kernel {self.arch.kernel_metapackage} points at")
        for line in out.splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "Depends:" and words[1].startswith("linux-image-"):
                return words[1].split(":")[0]
        raise FetchError(f"apt lists no linux-image dependency of {self.arch.kernel_metapackage}"
                         + (f" (is the {self.arch.debian} architecture enabled? run: "
                            f"dpkg --add-architecture {self.arch.debian} && apt-get update, or tools/setup)"
                            if self.arch.debian != _dpkg_arch() else ""))

    def _newest_cached(self):
        kernels = sorted(glob.glob(os.path.join(self.dir, "linux-image-*", "kver")), key=os.path.getmtime)
        boxes = sorted(glob.glob(os.path.join(self.dir, "busybox_*", "busybox")), key=os.path.getmtime)
        if not kernels or not boxes:
            return None
        kname, _, kversion = os.path.basename(os.path.dirname(kernels[-1])).partition("_")
        bversion = os.path.basename(os.path.dirname(boxes[-1])).partition("_")[2]
        return {"apt_stamp": None, "kernel": kname, "kernel_version": kversion, "busybox_version": bversion}

    # -- downloads ------------------------------------------------------------------------------
    def _download_and_unpack(self, package):
        work = tempfile.mkdtemp(prefix=".fetch-", dir=self.dir)
        self.log(f"downloading {package} (once; cached in {self.dir})")
        _run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", package],
             f"apt-get download {package} failed", cwd=work)
        debs = glob.glob(os.path.join(work, "*.deb"))
        if len(debs) != 1:
            raise FetchError(f"apt-get download {package} produced {len(debs)} .deb files")
        root = os.path.join(work, "root")
        _run(["dpkg-deb", "-x", debs[0], root], f"cannot unpack {debs[0]}")
        return work, root

    def _fetch_kernel(self, package, dest):
        work, root = self._download_and_unpack(self._qualified(package))
        try:
            kvers = os.listdir(os.path.join(root, "lib", "modules"))
            vmlinuz = glob.glob(os.path.join(root, "boot", "vmlinuz-*"))
            if len(kvers) != 1 or len(vmlinuz) != 1:
                raise FetchError(f"{package}: expected one kernel and one module tree")
            kver = kvers[0]
            staging = os.path.join(work, "kernel")
            os.makedirs(os.path.join(staging, "lib", "modules"))
            os.replace(vmlinuz[0], os.path.join(staging, "vmlinuz"))
            os.replace(os.path.join(root, "lib", "modules", kver), os.path.join(staging, "lib", "modules", kver))
            # The package ships no modules.dep (its postinst runs depmod); make one here.
            _run(["depmod", "-b", staging, kver], "depmod failed (install kmod)")
            with open(os.path.join(staging, "kver"), "w") as f:
                f.write(kver + "\n")
            shutil.rmtree(dest, ignore_errors=True)
            os.replace(staging, dest)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _fetch_busybox(self, dest):
        work, root = self._download_and_unpack(self.arch.busybox_package)
        try:
            staging = os.path.join(work, "busybox")
            os.makedirs(staging)
            os.replace(os.path.join(root, "bin", "busybox"), os.path.join(staging, "busybox"))
            shutil.rmtree(dest, ignore_errors=True)
            os.replace(staging, dest)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _dpkg_arch():
    return _run(["dpkg", "--print-architecture"], "dpkg is missing").strip()


def _candidate_version(package):
    out = _run(["apt-cache", "policy", package], f"cannot ask apt about {package}")
    for line in out.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "Candidate:" and words[1] != "(none)":
            return words[1].replace(":", "%3a")
    raise FetchError(f"apt has no installable version of {package}: run apt-get update (or tools/setup)")


def _run(cmd, what, cwd=None):
    try:
        res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise FetchError(f"{what}: {cmd[0]} not found") from e
    if res.returncode != 0:
        detail = (res.stderr.strip().splitlines() or [f"exit status {res.returncode}"])[-1]
        raise FetchError(f"{what}: {detail}")
    return res.stdout
