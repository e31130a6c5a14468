#!/usr/bin/env python3
"""The bad-input matrix (issue 11): every flag of hull-vmm, hull, the shim and
hull-jailer and every field of hull-vmm's API gets five kinds of bad value
(empty, huge, negative, non-UTF-8, path traversal). A cell passes when the
program refuses the value with a message naming the flag or field (non-zero
exit, or HTTP 4xx), or when the value is a legitimate one for that flag (a
relative path is a path) and the program neither crashes nor leaves anything
behind. A crash (signal, sanitizer report), a hang, an error that does not name
the flag, or a file, socket or process left behind fails the cell.

    bad_input_matrix.py --bin build/bin --write docs/bad-input-matrix.md
    bad_input_matrix.py --bin build/bin --check docs/bad-input-matrix.md

--check also fails when the generated matrix differs from the committed one
(a changed message or outcome must be reviewed and committed).
Runs as root or not, without KVM: everything stops before a VM would boot.
"""
import argparse
import difflib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HUGE = b"9" * 5000
CLASSES = [
    ("empty", b""),
    ("huge", HUGE),
    ("negative", b"-1"),
    ("non-UTF-8", b"\xff\xfe"),
    ("traversal", b"../../../escaped"),
]
# Relative paths stay inside the sandbox: cwd is 4 levels below it.
DEPTH = ("a", "b", "c", "d")
CRASH_MARKERS = (b"AddressSanitizer", b"LeakSanitizer", b"ThreadSanitizer", b"runtime error:",
                 b"terminate called", b"Segmentation fault", b"core dumped")
TIMEOUT_S = float(os.environ.get("HULL_BAD_INPUT_TIMEOUT", "15"))
SHIM_SOCKET_DIR = "/run/containerd/s"


class Case:
    """One flag or field: how to run a value through it."""

    def __init__(self, target, name, run, valid=(), names=None, known=None, skip=None):
        self.target, self.name, self.run = target, name, run
        self.valid = set(valid)  # classes that are legitimate values for this flag
        self.names = [name.lstrip("-").strip("{}")] + list(names or [])  # any of these in the message names it
        self.known = dict(known or {})  # class -> why this gap is accepted for now (shown in the matrix)
        self.skip = dict(skip or {})  # class -> why the value is not run (it would boot a VM)


class Outcome:
    def __init__(self, kind, rc=None, text=b"", leftovers=(), served=False):
        self.kind, self.rc, self.text, self.leftovers, self.served = kind, rc, text, list(leftovers), served


class Sandbox:
    """A scratch tree the programs work in; everything they create lands here."""

    def __init__(self, bin_dir):
        self.bin = bin_dir
        self.top = tempfile.mkdtemp(prefix="hull-bad-input-")
        self.work = os.path.join(self.top, *DEPTH)
        os.makedirs(self.work)
        self.bundle = os.path.join(self.work, "bundle")
        os.makedirs(os.path.join(self.bundle, "rootfs"))
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            f.write('{"ociVersion":"1.0.2","process":{"terminal":false,"args":["true"],"cwd":"/",'
                    '"user":{"uid":0,"gid":0}},"root":{"path":"rootfs"},"linux":{}}')
        self.disk = os.path.join(self.work, "disk.img")
        with open(self.disk, "wb") as f:
            f.truncate(1 << 20)
        for d in ("root", "jail", "cgroup"):
            os.makedirs(os.path.join(self.work, d))
        self.spare = set()  # pids of the long-lived API server
        self.baseline = self.snapshot()
        self.shim_sockets = self.list_shim_sockets()
        self.net_devices = set(os.listdir("/sys/class/net"))

    def new_net_devices(self):
        """Network interfaces (taps) a case made and left."""
        return [f"network interface {n}" for n in sorted(set(os.listdir("/sys/class/net")) - self.net_devices)]

    @staticmethod
    def list_shim_sockets():
        try:
            return set(os.listdir(SHIM_SOCKET_DIR))
        except OSError:
            return set()

    def new_shim_sockets(self):
        """Shim sockets (containerd's fixed directory) that a case made and did not remove."""
        new = sorted(self.list_shim_sockets() - self.shim_sockets)
        for n in new:
            try:
                os.unlink(os.path.join(SHIM_SOCKET_DIR, n))
            except OSError:
                pass
        return [os.path.join(SHIM_SOCKET_DIR, n) for n in new]

    def path(self, name):
        return os.path.join(self.work, name)

    def snapshot(self):
        seen = set()
        for root, dirs, files in os.walk(self.top):
            for n in dirs + files:
                seen.add(os.path.join(root, n))
        return seen

    def leftovers(self, keep=()):
        """Paths created since the baseline (removed again so the next case starts clean)."""
        new = sorted(self.snapshot() - self.baseline)
        keep = {os.path.normpath(k) for k in keep}
        left = [p for p in new if os.path.normpath(p) not in keep and not any(p.startswith(k + "/") for k in keep)]
        for p in sorted(new, key=len, reverse=True):
            try:
                if os.path.isdir(p) and not os.path.islink(p):
                    os.rmdir(p)
                else:
                    os.unlink(p)
            except OSError:
                shutil.rmtree(p, ignore_errors=True)
        return left

    def close(self):
        shutil.rmtree(self.top, ignore_errors=True)


def processes_under(top, spare=()):
    """Pids of processes whose command line mentions the sandbox (ones a case started and left)."""
    pids = []
    needle = top.encode()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid() or int(d) in spare:
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if needle in f.read():
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def sweep(sb, keep):
    """Kills what a case left running and removes what it left behind; returns both."""
    strays = processes_under(sb.top, sb.spare)
    for pid in strays:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return [f"process {pid}" for pid in strays] + sb.leftovers(keep) + sb.new_shim_sockets() + sb.new_net_devices()


def wait_exit_or_socket(p, sock):
    """Waits for p to exit or to create sock (then it serves); raises TimeoutExpired after TIMEOUT_S."""
    deadline = time.monotonic() + TIMEOUT_S
    while p.poll() is None:
        if sock and os.path.exists(sock):
            raise subprocess.TimeoutExpired(p.args, TIMEOUT_S)
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(p.args, TIMEOUT_S)
        time.sleep(0.02)


def run_program(sb, argv, keep=(), serves=None, after=None, cwd=None, on_success=None):
    """Runs argv in the sandbox. serves: the socket a server creates once it is up; a server
    that made it is stopped with SIGTERM and counts as accepting its flags. on_success runs
    after a zero exit, before the leftover check (a program's own clean-up verb)."""
    env = dict(os.environ, HOME=sb.path("home"), XDG_RUNTIME_DIR=sb.path("xdg"))
    p = subprocess.Popen(argv, cwd=cwd or sb.work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
    served = False
    try:
        if serves:
            wait_exit_or_socket(p, serves)
        out, _ = p.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        if not serves:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            return Outcome("hang", text=out, leftovers=sweep(sb, keep))
        served = True
        if after:
            after()
        p.send_signal(signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            return Outcome("hang", text=out + b"\n(did not stop on SIGTERM)", leftovers=sweep(sb, keep))
    if on_success and p.returncode == 0:
        on_success()
    left = sweep(sb, keep)
    rc = p.returncode
    if served and rc in (-signal.SIGTERM, 128 + signal.SIGTERM):
        rc = 0  # stopped by our SIGTERM (hull-vmm exits 143 on it)
    if rc is not None and rc < 0:
        return Outcome("crash", rc, out, left)
    if any(m in out for m in CRASH_MARKERS):
        return Outcome("crash", rc, out, left)
    return Outcome("exit", rc, out, left, served)


def flag_arg(flag, value):
    """--flag=V (a value starting with '-' must not look like a flag); an empty value as its
    own argument, since CLI11 reads '--flag=' as a flag that wants the next argument."""
    if not value:
        return [flag.encode(), value]
    return [flag.encode() + b"=" + value]


def resolve(sb, value):
    """What an output flag given this value may create: the file itself (or, for '', what the
    program writes by default into its working directory)."""
    if not value:
        return [os.path.join(sb.work, "config.json")]
    return [os.path.join(sb.work, os.fsdecode(value))]


# --- hull-vmm -------------------------------------------------------------

def vmm_flag(flag, base, output=False):
    def run(sb, value):
        argv = [os.path.join(sb.bin, "hull-vmm"), "--no-console-input"] + base(sb) + flag_arg(flag, value)
        sock = os.fsencode(sb.path("api.sock")) if flag != "--api-sock" else \
            (os.path.join(os.fsencode(sb.work), value) if value else None)
        return run_program(sb, argv, keep=resolve(sb, value) if output else (), serves=sock)
    return run


def api_sock(sb):
    return ["--api-sock", sb.path("api.sock")]


class VmmApi:
    """One hull-vmm serving its API for the API cases (restarted after a crash)."""

    def __init__(self, sb):
        self.sb = sb
        self.proc = None

    def ensure(self):
        if self.proc and self.proc.poll() is None:
            return
        sock = self.sb.path("api.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        self.proc = subprocess.Popen([os.path.join(self.sb.bin, "hull-vmm"), "--no-console-input", "--api-sock", sock],
                                     cwd=self.sb.work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.sb.spare = {self.proc.pid}
        deadline = time.monotonic() + TIMEOUT_S
        while not os.path.exists(sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                out = self.proc.stdout.read() if self.proc.poll() is not None else b""
                raise SystemExit(f"bad_input_matrix: hull-vmm did not serve its API: {out.decode(errors='replace')}")
            time.sleep(0.02)
        self.sb.baseline = self.sb.snapshot()

    def request(self, method, path, body=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT_S)
        s.connect(self.sb.path("api.sock"))
        head = method.encode() + b" " + path + b" HTTP/1.1\r\nHost: localhost\r\n"
        if body is not None:
            head += b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
        s.sendall(head + b"Connection: close\r\n\r\n" + (body or b""))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return data

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.communicate(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.communicate()


def json_value(value, numeric):
    if numeric and value in (b"-1", HUGE):
        return value  # a JSON number
    return b'"' + value + b'"'  # raw bytes: the non-UTF-8 class stays invalid UTF-8


def api_field(api, method, path, base, field, numeric=False, path_param=False):
    """base: the endpoint's valid body (bytes, with @V@ where the field's value goes)."""
    def run(sb, value):
        api.ensure()
        target = path
        body = base.replace(b"@DIR@", sb.work.encode())
        if path_param:
            target = path.replace(b"{id}", value)
            body = body.replace(b'"@V@"', b'"' + value + b'"')
        else:
            body = body.replace(b'"@V@"', json_value(value, numeric))
        try:
            reply = api.request(method, target, body)
        except OSError as e:
            reply = b"(no answer: " + str(e).encode() + b")"
        alive = api.proc.poll() is None
        if not alive:
            out = api.proc.stdout.read()
            return Outcome("crash", api.proc.returncode, reply + b"\n" + out)
        status = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
        if not status:
            return Outcome("crash", None, b"no HTTP status line: " + reply[:200])
        code = int(status.group(1))
        text = reply.split(b"\r\n\r\n", 1)[-1]
        left = sb.leftovers(keep=[sb.path("api.sock")] + (resolve(sb, value) if False else []))
        return Outcome("http", code, text, left)
    return run


# --- the cases ------------------------------------------------------------

def cli(sb, program, args):
    return [os.path.join(sb.bin, program)] + args


def hull_case(verb_args, flag=None, positional=False, output=False):
    """hull --root <dir>/root VERB...; the value goes to flag (as --flag=V) or as a positional."""
    def run(sb, value):
        args = [os.fsencode(a) for a in verb_args(sb)]
        if positional:
            args = [a if a != b"@V@" else value for a in args]
        else:
            args = args + flag_arg(flag, value)
        argv = cli(sb, "hull", [b"--root", sb.path("root").encode()] + args)
        return run_program(sb, argv, keep=resolve(sb, value) if output else ())
    return run


def hull_global(flag, output=False):
    def run(sb, value):
        root = [] if flag == "--root" else [b"--root", sb.path("root").encode()]
        argv = cli(sb, "hull", flag_arg(flag, value) + root + [b"state", b"c1"])
        return run_program(sb, argv, keep=resolve(sb, value) if output else ())
    return run


def shim_case(action, flag):
    """containerd's call: in the bundle directory, flags before the action. A start
    that succeeds is followed by the delete containerd would run."""
    def run(sb, value):
        flags = {"-namespace": b"hullbad", "-id": b"c1", "-address": sb.path("containerd.sock").encode(),
                 "-publish-binary": sb.path("no-containerd").encode(), "-bundle": sb.bundle.encode()}
        flags[flag] = value
        argv = [os.path.join(sb.bin, "containerd-shim-hull-v2")]
        for k, v in flags.items():
            argv += [k.encode(), v]

        def delete():
            for pid in processes_under(sb.top, sb.spare):  # the serving shim, as if it had died
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
            good = argv[:argv.index(b"-bundle") + 1] + [sb.bundle.encode()] + argv[argv.index(b"-bundle") + 2:]
            subprocess.run(good + [b"delete"], cwd=sb.bundle, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT_S)
            for n in ("address", "shim.pid"):
                if os.path.exists(os.path.join(sb.bundle, n)):
                    os.unlink(os.path.join(sb.bundle, n))
        return run_program(sb, argv + [action.encode()], cwd=sb.bundle,
                           on_success=delete if action == "start" else None)
    return run


def jailer_case(flag):
    """hull-jailer making a jail for `true --help` (it exits at once), then --cleanup
    with the same flags; whatever either leaves behind fails the case."""
    def run(sb, value):
        # A plain system program in the jail: a sanitizer build of hull-vmm cannot run
        # there (no /proc: ASan cannot find its stack and reports false overflows).
        base = {"--id": b"vm1", "--exec-file": b"/usr/bin/true", "--uid": b"4000",
                "--gid": b"4000", "--chroot-base": sb.path("jail").encode(), "--cgroup-root": sb.path("cgroup").encode()}
        argv = [os.path.join(sb.bin, "hull-jailer")]
        if flag not in base:  # first: CLI11 ends a repeatable flag's values at the next flag, or at '--'
            argv += flag_arg(flag, value)
        for k, v in base.items():
            argv += flag_arg(k, value) if k == flag else [k.encode(), v]

        def cleanup():
            subprocess.run(argv + [b"--cleanup"], stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT_S)
        keep = [sb.path("jail/true")]  # the per-program directory jails share
        return run_program(sb, argv + [b"--", b"--help"], keep=keep, on_success=cleanup)
    return run


def build_cases(API):
    paths = ("negative", "non-UTF-8", "traversal")  # relative paths and any bytes but NUL are paths
    lazy = "not checked until the file is used (InstanceStart)"
    unset = ("empty",)  # CLI11: an optional flag given '' is a flag not given
    c = []
    # hull-vmm flags (before InstanceStart: no KVM needed)
    c.append(Case("hull-vmm", "--api-sock", vmm_flag("--api-sock", lambda sb: [], output=True), valid=paths,
                  names=["API socket"]))
    c.append(Case("hull-vmm", "--config-file", vmm_flag("--config-file", lambda sb: [])))
    c.append(Case("hull-vmm", "--log-level", vmm_flag("--log-level", api_sock), names=["log level"], valid=unset))
    c.append(Case("hull-vmm", "--console-output", vmm_flag("--console-output", api_sock, output=True),
                  valid=paths + unset,
                  names=["console output"]))
    c.append(Case("hull-vmm", "--kvm-device", vmm_flag("--kvm-device", api_sock),
                  known={k: "the KVM device is opened at InstanceStart, which reports it" for k, _ in CLASSES}))

    # hull-vmm API fields: a valid body with one field replaced. A body that is
    # not JSON at all (raw non-UTF-8, a number no double holds) cannot name a
    # field: "malformed JSON body" with the parser's position is its clear error.
    body_error = ["malformed JSON body"]

    def api(target, name, method, path, body, numeric=False, valid=(), known=None, names=(), path_param=False):
        c.append(Case(target, name, api_field(api_server, method, path, body, name, numeric, path_param), valid=valid,
                      names=body_error + list(names), known=known))
    api_server = API
    for field, numeric in (("vcpu_count", True), ("mem_size_mib", True), ("smt", True),
                           ("track_dirty_pages", True), ("huge_pages", False), ("cpu_template", False)):
        body = b'{"vcpu_count":1,"mem_size_mib":128,"' + field.encode() + b'":"@V@"}'
        if field in ("vcpu_count", "mem_size_mib"):
            body = re.sub(rb'"' + field.encode() + rb'":\d+', b'"' + field.encode() + b'":"@V@"',
                          b'{"vcpu_count":1,"mem_size_mib":128}')
        api("API PUT /machine-config", field, "PUT", b"/machine-config", body, numeric)
    for field in ("kernel_image_path", "initrd_path", "boot_args"):
        body = b'{"kernel_image_path":"@DIR@/disk.img","' + field.encode() + b'":"@V@"}'
        if field == "kernel_image_path":
            body = b'{"kernel_image_path":"@V@"}'
        if field == "boot_args":
            api("API PUT /boot-source", field, "PUT", b"/boot-source", body,
                valid=("empty", "huge", "negative", "traversal"))
        else:
            api("API PUT /boot-source", field, "PUT", b"/boot-source", body, valid=("empty",) if field == "initrd_path" else (),
                known={k: lazy for k in ("huge", "negative", "traversal")})
    drive = b'{"drive_id":"d1","path_on_host":"@DIR@/disk.img","is_root_device":false,"is_read_only":true}'
    api("API PUT /drives/{id}", "{id}", "PUT", b"/drives/{id}", drive.replace(b'"d1"', b'"@V@"'), path_param=True,
        valid=("negative",), names=["no such resource", "drive"],
        known={"huge": "ids have no length limit (bounded by the request size limit)"})
    for field, numeric in (("drive_id", False), ("path_on_host", False), ("is_root_device", True),
                           ("is_read_only", True), ("partuuid", False), ("cache_type", False), ("io_engine", False)):
        if field in ("drive_id", "path_on_host", "is_root_device", "is_read_only"):
            body = re.sub(rb'"' + field.encode() + rb'":("[^"]*"|\w+)', b'"' + field.encode() + b'":"@V@"', drive)
        else:
            body = drive[:-1] + b',"' + field.encode() + b'":"@V@"}'
        valid = ("empty", "huge", "negative", "traversal") if field == "partuuid" else \
            (("negative", "traversal") if field == "path_on_host" else ())
        api("API PUT /drives/{id}", field, "PUT", b"/drives/d1", body, numeric, valid=valid,
            names=["disk image"] if field == "path_on_host" else ())
    net = b'{"iface_id":"n1","host_dev_name":"tap-bad0"}'
    api("API PUT /network-interfaces/{id}", "{id}", "PUT", b"/network-interfaces/{id}",
        net.replace(b'"n1"', b'"@V@"').replace(b"tap-bad0", b"tap-bad1"), path_param=True, valid=("negative",),
        names=["no such resource", "network interface"],
        known={"huge": "ids have no length limit (bounded by the request size limit)"})
    for field in ("iface_id", "host_dev_name", "guest_mac"):
        if field == "guest_mac":
            body = net[:-1] + b',"guest_mac":"@V@"}'
        else:
            body = re.sub(rb'"' + field.encode() + rb'":"[^"]*"', b'"' + field.encode() + b'":"@V@"', net)
        api("API PUT /network-interfaces/{id}", field, "PUT", b"/network-interfaces/n1", body,
            valid=("negative",) if field == "host_dev_name" else (), names=["tap name"] if field == "host_dev_name" else ())
    for field, numeric in (("guest_cid", True), ("uds_path", False), ("vsock_id", False)):
        body = {"guest_cid": b'{"guest_cid":"@V@","uds_path":"@DIR@/v.sock"}',
                "uds_path": b'{"guest_cid":3,"uds_path":"@V@"}',
                "vsock_id": b'{"guest_cid":3,"uds_path":"@DIR@/v.sock","vsock_id":"@V@"}'}[field]
        valid = {"uds_path": ("negative", "traversal"), "vsock_id": ("empty", "huge", "negative", "traversal")}
        api("API PUT /vsock", field, "PUT", b"/vsock", body, numeric, valid=valid.get(field, ()))
    api("API PUT /actions", "action_type", "PUT", b"/actions", b'{"action_type":"@V@"}')
    api("API PATCH /vm", "state", "PATCH", b"/vm", b'{"state":"@V@"}')
    for field, numeric in (("amount_mib", True), ("deflate_on_oom", True), ("stats_polling_interval_s", True)):
        body = b'{"amount_mib":0,"deflate_on_oom":true,"' + field.encode() + b'":"@V@"}'
        if field != "stats_polling_interval_s":
            body = re.sub(rb'"' + field.encode() + rb'":\w+', b'"' + field.encode() + b'":"@V@"',
                          b'{"amount_mib":0,"deflate_on_oom":true}')
        api("API PUT /balloon", field, "PUT", b"/balloon", body, numeric)
    api("API PUT /metrics", "metrics_path", "PUT", b"/metrics", b'{"metrics_path":"@V@"}',
        valid=("negative", "traversal"), known={"huge": "opened when metrics are first flushed, not at PUT"})

    # hull: global flags, then each verb's id and flags. create gets a missing
    # --vmm so that a valid value stops there, before any VM.
    c.append(Case("hull", "--root", hull_global("--root"), valid=paths + ("huge",) + unset, names=["root"]))
    c.append(Case("hull", "--log", hull_global("--log", output=True), valid=paths + unset,
                  known={"huge": "a log file that cannot be opened is skipped silently (errors still go to stderr)"}))
    c.append(Case("hull", "--log-format", hull_global("--log-format")))
    # A stand-in kernel and initrd (any file), so the checks do not depend on
    # whether this build made the guest; a missing --vmm then stops a valid create.
    nov = lambda sb: ["--kernel", sb.disk, "--initrd", sb.disk, "--vmm", sb.path("no-vmm")]  # noqa: E731
    ids = ["container"]
    for verb in ("state", "start", "kill", "delete", "pause", "resume", "ps", "events"):
        c.append(Case(f"hull {verb}", "container-id", hull_case(lambda sb, v=verb: [v, "@V@"], positional=True),
                      names=ids))
    c.append(Case("hull create", "container-id",
                  hull_case(lambda sb: ["create"] + nov(sb) + ["-b", sb.bundle, "@V@"], positional=True), names=ids))
    c.append(Case("hull run", "container-id",
                  hull_case(lambda sb: ["run"] + nov(sb) + ["-b", sb.bundle, "@V@"], positional=True), names=ids))
    c.append(Case("hull exec", "container-id", hull_case(lambda sb: ["exec", "@V@", "true"], positional=True),
                  names=ids))
    create = lambda sb: ["create"] + nov(sb) + ["-b", sb.bundle, "c1"]  # noqa: E731
    written_late = "checked when the file is written, after the VM starts"
    for flag, valid, output, names, known in (
            ("--bundle", (), False, ["config.json"], {}),
            ("--pid-file", paths + unset, True, [], {"huge": written_late}),
            ("--console-socket", unset, False, [], {}),
            ("--preserve-fds", unset, False, [], {}),
            ("--vcpus", (), False, [], {}),
            ("--memory", (), False, [], {}),
            ("--agent-timeout", unset, False, [], {}),
            ("--vmm", (), False, [], {}),
            ("--kernel", unset, False, ["kernel"], {}),
            ("--initrd", unset, False, ["initramfs"], {})):
        def base(sb, flag=flag):
            args = ["create"] + nov(sb) + ["-b", sb.bundle, "c1"]
            short = "-b" if flag == "--bundle" else flag
            if short in args:  # the flag under test replaces its stand-in
                i = args.index(short)
                del args[i:i + 2]
            return args
        skip = {"empty": "'' means the default hull-vmm, which would boot a VM"} if flag == "--vmm" else {}
        c.append(Case("hull create", flag, hull_case(base, flag, output=output), valid=valid, names=names,
                      known=known, skip=skip))
    c.append(Case("hull kill", "signal", hull_case(lambda sb: ["kill", "c1", "@V@"], positional=True)))
    c.append(Case("hull list", "--format", hull_case(lambda sb: ["list"], "--format")))
    c.append(Case("hull ps", "--format", hull_case(lambda sb: ["ps", "c1"], "--format")))
    c.append(Case("hull events", "--interval", hull_case(lambda sb: ["events", "c1"], "--interval")))
    c.append(Case("hull spec", "--bundle", hull_case(lambda sb: ["spec"], "--bundle", output=True),
                  valid=paths + unset,
                  names=["config.json"]))
    c.append(Case("hull check", "--device", hull_case(lambda sb: ["check", "--no-probe"], "--device"),
                  names=["device", "KVM"]))

    # containerd-shim-hull-v2: start and delete, as containerd runs them. The
    # namespace, id and address only name a hashed socket and state directory.
    hashed = ("huge", "negative", "non-UTF-8", "traversal")
    for action in ("start", "delete"):
        for flag in ("-namespace", "-id", "-address", "-publish-binary", "-bundle"):
            valid = hashed if flag in ("-namespace", "-id") or (flag, action) == ("-address", "start") \
                else hashed + unset
            c.append(Case(f"shim {action}", flag, shim_case(action, flag), valid=valid))

    # hull-jailer: each flag on a jail for `true --help`, then --cleanup.
    for flag in ("--id", "--exec-file", "--uid", "--gid", "--chroot-base", "--cgroup-root", "--netns", "--file",
                 "--socket-dir", "--tap", "--cpus", "--memory-max", "--pids-max", "--nofile"):
        valid = unset if flag in ("--netns", "--cpus", "--memory-max", "--pids-max", "--nofile") else ()
        if flag == "--tap":
            valid = ("negative", "non-UTF-8")  # legal interface names (a missing tap is made and dropped)
        c.append(Case("hull-jailer", flag, jailer_case(flag), valid=valid))
    return c


# --- judging and writing --------------------------------------------------

def normalise(sb, text):
    t = text.replace(sb.top.encode(), b"<tmp>")
    t = re.sub(rb"9{50,}", b"<huge>", t)
    t = t.decode("utf-8", errors="backslashreplace")
    t = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z?", "", t)
    t = re.sub(r"\b(pid|process) \d+", r"\1 N", t)
    return t


def excerpt(sb, case, text):
    fault = re.match(rb'\s*\{"fault_message":\s*"(.*)"\}\s*$', text, re.S)  # hull-vmm's API error body
    if fault:
        text = fault.group(1).replace(b'\\"', b'"')
    lines = [ln.strip() for ln in normalise(sb, text).splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith(("Usage:", "Run with --help"))]
    pick = next((ln for ln in lines if any(n.lower() in ln.lower() for n in case.names)), lines[0] if lines else "")
    pick = re.sub(r"^\s*\[[^\]]*\]\s*", "", pick)
    if len(pick) > 110:
        pick = pick[:107] + "..."
    return pick.replace("|", "\\|").replace("`", "'")


def judge(sb, case, klass, o):
    """(verdict, text): verdict 'ok' or 'FAIL'."""
    names = [n.lower() for n in case.names]
    msg = excerpt(sb, case, o.text)
    named = any(n in normalise(sb, o.text).lower() for n in names)
    if o.kind == "crash":
        return "FAIL", f"CRASH (status {o.rc}): {msg}"
    if o.kind == "hang":
        return "FAIL", f"HANG (over {TIMEOUT_S:.0f} s): {msg}"
    if o.leftovers:
        left = ", ".join(normalise(sb, p.encode()) for p in o.leftovers[:3])
        return "FAIL", f"LEFT BEHIND: {left}"
    refused = (o.kind == "http" and 400 <= o.rc < 500) or (o.kind == "exit" and o.rc != 0)
    accepted = (o.kind == "http" and o.rc < 300) or (o.kind == "exit" and o.rc == 0)
    if klass in case.known:
        return "ok", f"known gap: {case.known[klass]}"
    if klass in case.valid:
        if accepted:
            return "ok", "valid value: accepted" + (" (served until stopped)" if o.served else "")
        if refused:
            return "ok", "valid value: passed on, refused later"
        return "FAIL", f"UNEXPECTED (status {o.rc}): {msg}"
    if refused and named:
        code = f"HTTP {o.rc}" if o.kind == "http" else f"exit {o.rc}"
        return "ok", f"refused, {code}: {msg}"
    if refused:
        return "FAIL", f"UNCLEAR (no '{case.names[0]}' in the message): {msg}"
    return "FAIL", "ACCEPTED" + (" (served until stopped)" if o.served else "") + (f": {msg}" if msg else "")


def render(rows):
    out = ["# Bad-input matrix", "",
           "Generated by `tests/integration/bad_input/bad_input_matrix.py --write` (ctest: "
           "`integration.bad_input_matrix` checks that a fresh run gives this file).",
           "Each flag or API field gets five values: empty `''`, huge (5000 digits), negative `-1`, "
           "non-UTF-8 `\\xff\\xfe` and path traversal `../../../escaped`. 'refused' means a non-zero exit "
           "(or HTTP 4xx) with a message naming the flag or field; 'valid value' marks classes that are "
           "legitimate for that flag (a relative path is a path): those must only not crash or leave anything "
           "behind. Every case also checks for signals, sanitizer reports, hangs and files, sockets or "
           "processes left behind.", "",
           "| program | flag / field | value | result |", "|---|---|---|---|"]
    for target, name, klass, verdict, text in rows:
        mark = "" if verdict == "ok" else "**FAIL** "
        if text.startswith("known gap"):
            mark = "*"
            text = text + "*"
        out.append(f"| {target} | `{name}` | {klass} | {mark}{text} |")
    failed = sum(1 for r in rows if r[3] != "ok")
    out += ["", f"{len(rows)} cells, {failed} failing."]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="directory holding hull-vmm, hull, containerd-shim-hull-v2, hull-jailer")
    ap.add_argument("--write", help="write the matrix (markdown) to this file")
    ap.add_argument("--check", help="fail if the matrix differs from this committed file")
    ap.add_argument("--only", help="run only targets containing this text")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bad_input_matrix: SKIP: needs root (hull-jailer makes jails, the shim binds under /run/containerd)")
        return 77
    for prog in ("hull-vmm", "hull", "containerd-shim-hull-v2", "hull-jailer"):
        if not os.access(os.path.join(args.bin, prog), os.X_OK):
            sys.exit(f"bad_input_matrix: {prog} is missing from {args.bin}: build it first")
    sb = Sandbox(os.path.abspath(args.bin))
    api = VmmApi(sb)
    rows = []
    try:
        for case in build_cases(api):
            if args.only and args.only not in case.target:
                continue
            for klass, value in CLASSES:
                if klass in case.skip:
                    rows.append((case.target, case.name, klass, "ok", f"not run: {case.skip[klass]}"))
                    continue
                o = case.run(sb, value)
                verdict, text = judge(sb, case, klass, o)
                rows.append((case.target, case.name, klass, verdict, text))
                if verdict != "ok":
                    print(f"FAIL {case.target} {case.name} [{klass}]: {text}", file=sys.stderr)
    finally:
        api.stop()
        sb.close()
    text = render(rows)
    status = 0
    failed = sum(1 for r in rows if r[3] != "ok")
    print(f"bad_input_matrix: {len(rows)} cells, {failed} failing")
    if failed:
        status = 1
    if args.write:
        with open(args.write, "w") as f:
            f.write(text)
    if args.check:
        with open(args.check) as f:
            committed = f.read()
        if committed != text:
            sys.stdout.writelines(difflib.unified_diff(committed.splitlines(True), text.splitlines(True),
                                                       args.check, "this run"))
            print("bad_input_matrix: the matrix differs from the committed one: review, then regenerate with "
                  f"--write {args.check}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
