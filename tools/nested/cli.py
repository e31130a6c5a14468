"""Command line of tools/nested-run."""
import argparse
import os
import secrets
import shlex
import shutil
import signal
import sys
import tarfile
import tempfile
import time

from . import arches, elf, initramfs, l1cache, libs, vm

EXIT_USAGE = 2
EXIT_TIMEOUT = 124
EXIT_RUNNER = 125  # the runner or the L1 failed; the command's status is unknown

DESCRIPTION = """\
Runs COMMAND as root inside an "L1" Linux booted under QEMU (TCG, no host KVM needed) whose
emulated CPU has virtualization extensions, so /dev/kvm works in it (nested KVM). Use it to run
hull, or any KVM program, on hosts without usable hardware KVM: CI, laptops, nested clouds.

In L1: busybox, /dev/kvm (x86_64: kvm-amd on an emulated AMD CPU with SVM; aarch64: VHE KVM at
EL2, GICv3), tun, vsock, vhost_vsock and overlay modules, proc/sys/devtmpfs/devpts, tmpfs on /tmp and /run,
cgroup2 on /sys/fs/cgroup, loopback up; the root is moved off rootfs, so pivot_root(2) works
(runc, crun and containerd's overlayfs snapshotter run in L1). The L1 kernel is Debian's current
cloud-amd64 / arm64 kernel, fetched with apt-get download and cached under ${XDG_CACHE_HOME:-~/.cache}/hull/l1/.
COMMAND's stdout and stderr stream to this program's stdout; its stdin is /dev/null."""

EPILOG = """\
exit status: COMMAND's own; 124 when --timeout expired (QEMU is killed); 125 when the runner or
the L1 failed before COMMAND's status was known; 2 for bad arguments.

examples:
  tools/nested-run -- sh -c 'ls -l /dev/kvm'
  tools/nested-run --arch aarch64 --bin build-aarch64/bin/kvm_smoke -- kvm_smoke
  tools/nested-run --bin build/bin/hull -- hull check
  tools/nested-run --out /tmp/results --file vm.json:/vm.json -- sh -c 'cp /vm.json /out/'"""


class UsageError(Exception):
    pass


def _split(spec, option, default_dest):
    """PATH[:DEST] -> (PATH, DEST); DEST must be absolute."""
    src, sep, dest = spec.rpartition(":")
    if not sep or not dest.startswith("/"):
        src, dest = spec, None
    if not src:
        raise UsageError(f"{option} {spec!r}: the host path is empty")
    if dest is None:
        if default_dest is None:
            raise UsageError(f"{option} {spec!r}: give the destination in L1 as SRC:/absolute/path")
        dest = default_dest(src)
    elif dest.endswith("/"):
        dest += os.path.basename(src.rstrip("/"))
    return src, dest


def parse_args(argv, host_arch_name):
    if "--" in argv:
        i = argv.index("--")
        opts, command = argv[:i], argv[i + 1:]
    else:
        opts, command = argv, []
    p = argparse.ArgumentParser(prog="nested-run", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                usage="%(prog)s [options] -- COMMAND [ARGS...]")
    p.add_argument("--arch", default=host_arch_name, metavar="ARCH",
                   help=f"L1 architecture: x86_64 or aarch64 (default: this host's, {host_arch_name})")
    p.add_argument("--timeout", type=float, default=600, metavar="SECONDS",
                   help="kill the L1 and exit 124 after this long (default 600; 0: no limit)")
    p.add_argument("--memory", type=int, default=2048, metavar="MIB", help="L1 memory (default 2048)")
    p.add_argument("--cpus", type=int, metavar="N",
                   help="L1 vCPUs (default 1 for x86_64, 2 for aarch64)")
    p.add_argument("--bin", action="append", default=[], metavar="PATH[:DEST]",
                   help="copy an executable and the shared libraries it needs for ARCH "
                        "(default DEST /usr/local/bin/NAME, on PATH)")
    p.add_argument("--file", action="append", default=[], metavar="SRC:DEST",
                   help="copy a file to DEST (DEST ending in / keeps the name)")
    p.add_argument("--dir", action="append", default=[], metavar="SRC:DEST",
                   help="copy a directory tree to DEST")
    p.add_argument("--out", metavar="HOSTDIR",
                   help="after COMMAND, copy what it left under /out in L1 into HOSTDIR")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory (initramfs, QEMU command line) and print its path")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="show kernel messages, QEMU's stderr and the runner's steps with timings")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress lines (L1 kernel ready, L1 boot, how long the run took); errors "
                        "are still printed. HULL_QUIET=1 does the same")
    args = p.parse_args(opts)
    if not command:
        p.error("no command: put it after --, e.g. nested-run -- sh -c 'ls -l /dev/kvm'")
    args.command = command
    args.quiet = args.quiet or os.environ.get("HULL_QUIET", "0") not in ("", "0")
    arch = arches.lookup(args.arch)
    if arch is None:
        p.error(f"unknown --arch {args.arch!r}: use x86_64 or aarch64")
    args.arch = arch
    if args.timeout < 0:
        p.error("--timeout must be >= 0")
    if args.memory < 256:
        p.error("--memory must be at least 256 (MiB)")
    if args.cpus is not None and not 1 <= args.cpus <= 64:
        p.error("--cpus must be between 1 and 64")
    args.cpus = args.cpus or arch.default_cpus
    try:
        args.bin = [_split(s, "--bin", lambda src: "/usr/local/bin/" + os.path.basename(src)) for s in args.bin]
        args.file = [_split(s, "--file", None) for s in args.file]
        args.dir = [_split(s, "--dir", None) for s in args.dir]
        for src, _ in args.bin:
            if not os.path.isfile(src) or not os.access(src, os.X_OK):
                raise UsageError(f"--bin {src}: no such executable file")
            try:
                machine = elf.read(src).machine
            except elf.ElfError as e:
                raise UsageError(f"--bin {e} (copy scripts and data with --file SRC:DEST)") from e
            if machine != arch.elf_machine:
                raise UsageError(f"--bin {src} is built for {elf.EM_NAMES.get(machine, machine)}, "
                                 f"not {arch.name}: build it for {arch.name} or pick the matching --arch")
        for src, _ in args.file:
            if not os.path.isfile(src):
                raise UsageError(f"--file {src}: no such file")
        for src, _ in args.dir:
            if not os.path.isdir(src):
                raise UsageError(f"--dir {src}: no such directory")
        if args.out and os.path.exists(args.out) and not os.path.isdir(args.out):
            raise UsageError(f"--out {args.out}: exists and is not a directory")
    except UsageError as e:
        p.error(str(e))
    if shutil.which(arch.qemu) is None:
        p.error(f"{arch.qemu} is not installed: run tools/setup (or apt-get install "
                f"{'qemu-system-x86' if arch.name == 'x86_64' else 'qemu-system-arm'})")
    return args


class Log:
    def __init__(self, verbose, quiet=False):
        self.verbose = verbose
        self.quiet = quiet
        self.t0 = time.monotonic()

    def __call__(self, msg):
        print(f"nested-run: {msg}", file=sys.stderr, flush=True)

    def step(self, msg):
        if self.verbose:
            self(f"[{time.monotonic() - self.t0:6.2f} s] {msg}")

    def progress(self, msg):
        """One line per long step (the same "[hull] ..." lines tools/demo prints), unless quiet."""
        if not self.quiet:
            print(f"[hull] nested-run: {msg}", file=sys.stderr, flush=True)


def _write_stdout(data):
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _safe_members(tar):
    """The archive's members, checked: only files and directories, every path inside the target.

    The archive comes from the L1 guest, so nothing in it is trusted (Python's own
    tarfile filters only exist from 3.11.4/3.12; Debian bookworm has 3.11.2)."""
    members = []
    for m in tar.getmembers():
        parts = [p for p in m.name.split("/") if p not in ("", ".")]
        if m.name.startswith("/") or ".." in parts:
            raise tarfile.TarError(f"{m.name!r} points outside /out")
        if not (m.isfile() or m.isdir()):
            raise tarfile.TarError(f"{m.name!r} is not a regular file or directory (links and devices "
                                   f"are not copied out of L1)")
        if not parts:
            continue
        m.name = "/".join(parts)
        m.mode &= 0o777  # no setuid/setgid/sticky from the guest
        m.uid = m.gid = 0
        m.uname = m.gname = ""
        members.append(m)
    return members


def _extract_out(image, hostdir, log):
    os.makedirs(hostdir, exist_ok=True)
    try:
        with tarfile.open(image, "r:") as tar:
            tar.extractall(hostdir, members=_safe_members(tar))  # directory modes set last
    except (tarfile.TarError, OSError) as e:
        log(f"error: cannot copy /out from L1 into {hostdir}: {e}")
        return False
    return True


def main(argv=None):
    host = arches.host_arch()
    args = parse_args(sys.argv[1:] if argv is None else argv, host.name if host else "x86_64")
    arch = args.arch
    log = Log(args.verbose, args.quiet)
    work = tempfile.mkdtemp(prefix="hull-nested-")
    # SIGTERM/SIGINT: leave through the finally blocks so QEMU is killed and work removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        try:
            cache = l1cache.Cache(arch, log)
            kernel, busybox = cache.get()
            log.step(f"L1 kernel {kernel.kver}")
            fetch_seconds = time.monotonic() - log.t0
            if fetch_seconds >= 1:  # a download (or a wait for another run's): worth a line
                log.progress(f"fetched the L1 kernel {kernel.kver} and busybox ({arch.name}) ... {fetch_seconds:.0f} s")
            base = initramfs.base_archive(cache.dir, kernel, busybox, arch.modules)
            log.step(f"base initramfs {base}")
            marker = "HULL-NESTED-EXIT-" + secrets.token_hex(8)
            config = {"NESTED_MARKER": marker, "NESTED_VERBOSE": int(args.verbose),
                      "NESTED_OUT_DEVICE": "/dev/vda" if args.out else ""}
            modules = None
            out_image = None
            if args.out:
                base_ko = kernel.module_load_order(arch.modules)
                all_ko = kernel.module_load_order(list(arch.modules) + list(arch.out_modules))
                modules = (all_ko, [k for k in all_ko if k not in base_ko])
                out_image = os.path.join(work, "out.img")
                with open(out_image, "wb") as f:
                    f.truncate(4 << 30)  # sparse: costs only what /out holds
            payload = os.path.join(work, "payload.cpio")
            initramfs.payload_archive(payload, arch, args.command, args.bin, args.file, args.dir,
                                      config, modules)
            initrd = os.path.join(work, "initrd.cpio")
            with open(initrd, "wb") as out:
                for part in (base, payload):
                    with open(part, "rb") as f:
                        shutil.copyfileobj(f, out)
        except (l1cache.FetchError, initramfs.PayloadError, libs.LibError) as e:
            log(f"error: {e}")
            return EXIT_RUNNER
        cmd = vm.qemu_command(arch, kernel.vmlinuz, initrd, args.memory, args.cpus, args.verbose, out_image)
        with open(os.path.join(work, "qemu-command"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        log.step("booting: " + " ".join(cmd))
        boot_t0 = time.monotonic()
        log.progress(f"booting the {arch.name} L1 ({kernel.kver}, QEMU TCG) to run: {shlex.join(args.command)[:100]}")
        res = vm.run(cmd, marker, args.timeout, _write_stdout,
                     (lambda d: sys.stderr.buffer.write(d)) if args.verbose else None)
        log.step(f"QEMU exited ({res.qemu_rc})")
        if res.status is not None:
            log.progress(f"L1 run done: the command exited {res.status} ... {time.monotonic() - boot_t0:.1f} s")
        if res.timed_out:
            log(f"timed out after {args.timeout:g} s: killed the L1 (raise --timeout if it needs longer)")
            return EXIT_TIMEOUT
        if res.status is None:
            detail = res.qemu_stderr.decode(errors="replace").strip()
            log("error: the L1 ended before reporting the command's exit status "
                f"(QEMU exit status {res.qemu_rc}{': ' + detail if detail else ''}); rerun with --verbose to see its kernel log")
            return EXIT_RUNNER
        if args.out:
            if res.out_status != 0:
                log(f"error: copying /out in L1 failed (tar exit status {res.out_status})")
                return EXIT_RUNNER
            if not _extract_out(out_image, args.out, log):
                return EXIT_RUNNER
        return res.status
    except KeyboardInterrupt:
        return 130
    finally:
        if args.keep:
            log(f"kept the work directory {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
