"""Builds the L1 initramfs: a cached base (busybox, /init, kernel modules) plus a per-run payload
(the command, --bin executables with their libraries, --file/--dir copies). The kernel unpacks
the two concatenated archives in order."""
import hashlib
import os

from . import cpio, libs

INIT_TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "init.sh")
_BASE_FORMAT = 1  # bump when the base layout changes


class PayloadError(Exception):
    pass


def base_archive(cache_dir, kernel, busybox, modules):
    """Path of the cached base archive for this kernel, busybox, module list and init."""
    ko_files = kernel.module_load_order(modules)
    h = hashlib.sha256()
    h.update(str(_BASE_FORMAT).encode())
    for path in [INIT_TEMPLATE, busybox] + ko_files:
        h.update(path.encode())
        st = os.stat(path)
        h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    path = os.path.join(cache_dir, f"base-{h.hexdigest()[:16]}.cpio")
    if os.path.exists(path):
        return path
    a = cpio.Archive()
    for d in ("dev", "proc", "sys", "tmp", "run", "root", "out", "etc/nested", "usr/bin", "usr/sbin",
              "usr/local/bin", "sbin", "var/tmp"):
        a.add_dir(d)
    a.add_chardev("dev/console", 5, 1)  # the kernel opens it before /init runs
    a.add_file("init", INIT_TEMPLATE, 0o755)
    a.add_file("bin/busybox", busybox, 0o755)
    a.add_bytes("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    a.add_bytes("etc/group", b"root:x:0:\ntty:x:5:\nkvm:x:104:\nnogroup:x:65534:\n")
    a.add_bytes("etc/hosts", b"127.0.0.1 localhost l1\n::1 localhost\n")
    names = []
    for ko in ko_files:
        name = os.path.basename(ko)
        a.add_file(f"lib/modules/{name}", ko, 0o644)
        names.append(name)
    a.add_bytes("etc/nested/modules", "".join(n + "\n" for n in names).encode())
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        a.write(f)
    os.replace(tmp, path)
    return path


def payload_archive(path, arch, command, bins, files, dirs, config, modules=None):
    """Writes the per-run archive to `path`.

    bins: [(host path, L1 path)]; files: [(host, L1)]; dirs: [(host dir, L1 dir)];
    config: shell variables for /init; modules: None to keep the base's module list, else
    (every .ko in load order, the ones the base lacks)."""
    a = cpio.Archive()
    try:
        for host, dest in bins:
            a.add_file(dest, host)
            for lib_host, lib_dest in libs.closure(host, arch):
                if lib_dest not in a:
                    a.add_file(lib_dest, lib_host)
        for host, dest in files:
            a.add_file(dest, host)
        for host, dest in dirs:
            a.add_tree(dest, host)
    except (cpio.CpioError, libs.LibError, OSError) as e:
        raise PayloadError(str(e)) from e
    a.add_bytes("etc/nested/command", ("set -- " + " ".join(_sh_quote(w) for w in command) + "\n").encode())
    a.add_bytes("etc/nested/config",
                "".join(f"{k}={_sh_quote(str(v))}\n" for k, v in sorted(config.items())).encode())
    if modules:
        load_order, missing_from_base = modules
        a.add_bytes("etc/nested/modules", "".join(os.path.basename(k) + "\n" for k in load_order).encode())
        for ko in missing_from_base:
            a.add_file(f"lib/modules/{os.path.basename(ko)}", ko, 0o644)
    with open(path, "wb") as f:
        a.write(f)


def _sh_quote(word):
    return "'" + word.replace("'", "'\"'\"'") + "'"
