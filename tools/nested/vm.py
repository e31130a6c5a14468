"""Runs QEMU with the L1 and relays the console: the command's output goes to our stdout, the
status line /init prints at the end is taken out of the stream and returned."""
import os
import re
import select
import signal
import subprocess
import time


class Result:
    def __init__(self, status=None, out_status=None, timed_out=False, qemu_rc=None, qemu_stderr=b""):
        self.status = status            # the command's exit status, None if never reported
        self.out_status = out_status    # tar's status when copying /out, None if not reported
        self.timed_out = timed_out
        self.qemu_rc = qemu_rc
        self.qemu_stderr = qemu_stderr


def qemu_command(arch, kernel, initrd, memory, cpus, verbose, out_image=None):
    quiet = "loglevel=7" if verbose else "quiet loglevel=0"
    cmdline = f"console={arch.console} panic=-1 rdinit=/init {quiet} mitigations=off"
    cmd = [arch.qemu, *arch.machine, "-m", str(memory), "-smp", str(cpus),
           "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
           "-serial", "stdio", "-kernel", kernel, "-initrd", initrd, "-append", cmdline]
    if out_image:
        cmd += ["-drive", f"file={out_image},format=raw,if=none,id=out", *arch.out_device]
    return cmd


class StatusFilter:
    """Passes bytes through, holding back just enough to catch the status line across reads.

    /init prints "\n<marker> <status> <out-status>\n"; the marker is random per run, so the
    command's own output cannot fake it."""

    def __init__(self, marker, sink):
        self._marker = b"\n" + marker.encode() + b" "
        self._line = re.compile(re.escape(self._marker) + rb"(\d+) (\d+)\r?\n")
        self._rest = re.compile(rb"\d*( \d*)?\r?")
        self._buf = b""
        self._sink = sink
        self.status = None
        self.out_status = None

    def _could_start_status_line(self, tail):
        if len(tail) <= len(self._marker):
            return self._marker.startswith(tail)
        return tail.startswith(self._marker) and self._rest.fullmatch(tail[len(self._marker):]) is not None

    def feed(self, data):
        if self.status is not None:
            return  # after the status line only the VM's own shutdown noise follows
        self._buf += data
        m = self._line.search(self._buf)
        if m:
            self._sink(self._buf[:m.start()])
            self.status, self.out_status = int(m.group(1)), int(m.group(2))
            self._buf = b""
            return
        keep_from = len(self._buf)
        pos = self._buf.find(b"\n", max(0, len(self._buf) - len(self._marker) - 24))
        while pos >= 0:
            if self._could_start_status_line(self._buf[pos:]):
                keep_from = pos
                break
            pos = self._buf.find(b"\n", pos + 1)
        if keep_from:
            self._sink(self._buf[:keep_from])
            self._buf = self._buf[keep_from:]

    def flush(self):
        if self._buf:
            self._sink(self._buf)
            self._buf = b""


def run(cmd, marker, timeout, sink, verbose_stderr):
    """Runs QEMU until it exits or `timeout` seconds pass (0: no limit)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    filt = StatusFilter(marker, sink)
    stderr = b""
    deadline = time.monotonic() + timeout if timeout else None
    streams = {proc.stdout.fileno(): "out", proc.stderr.fileno(): "err"}
    timed_out = False
    try:
        while streams:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                timed_out = True
                break
            ready, _, _ = select.select(list(streams), [], [], wait)
            for fd in ready:
                data = os.read(fd, 65536)
                if not data:
                    del streams[fd]
                elif streams[fd] == "out":
                    filt.feed(data)
                else:
                    stderr += data
                    if verbose_stderr:
                        verbose_stderr(data)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    if filt.status is None:
        filt.flush()
    return Result(filt.status, filt.out_status, timed_out, rc, stderr)
