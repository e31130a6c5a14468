#!/usr/bin/env python3
"""Writes the seed corpus tests/fuzz/corpus/<harness>/ (valid requests,
chains and configs in each harness's input format; see the header comment
of <harness>_fuzz.cc). Deterministic: rerun after changing a format."""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

NEXT, WRITE, INDIRECT = 1, 2, 4


def write_seed(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


class Ram:
    """A guest RAM image starting at guest address 0."""

    def __init__(self, size=0x8000):
        self.b = bytearray(size)

    def put(self, addr, data):
        if addr + len(data) > len(self.b):
            self.b.extend(bytes(addr + len(data) - len(self.b)))
        self.b[addr:addr + len(data)] = data

    def bytes(self):
        return bytes(self.b).rstrip(b"\0")  # the harness zero-fills the rest


class Ring:
    """A split virtqueue in FakeQueue's layout: desc at base, avail after it,
    used 4-aligned after that."""

    def __init__(self, ram, base, size):
        self.ram, self.size = ram, size
        self.desc = base
        self.avail = base + 16 * size
        self.used = (self.avail + 6 + 2 * size + 3) & ~3
        self.next_desc = 0
        self.avail_idx = 0

    def desc_at(self, at, addr, length, flags, nxt):
        self.ram.put(at, struct.pack("<QIHH", addr, length, flags, nxt))

    def publish(self, head):
        self.ram.put(self.avail + 4 + 2 * (self.avail_idx % self.size), struct.pack("<H", head))
        self.avail_idx += 1
        self.ram.put(self.avail + 2, struct.pack("<H", self.avail_idx))

    def chain(self, bufs):
        """bufs: [(addr, len, writable)] in consecutive descriptor slots."""
        head = self.next_desc
        for i, (addr, length, w) in enumerate(bufs):
            idx = (head + i) % self.size
            last = i + 1 == len(bufs)
            self.desc_at(self.desc + 16 * idx, addr, length, (0 if last else NEXT) | (WRITE if w else 0),
                         (idx + 1) % self.size)
        self.next_desc = (head + len(bufs)) % self.size
        self.publish(head)
        return head

    def indirect(self, table, bufs):
        for i, (addr, length, w) in enumerate(bufs):
            last = i + 1 == len(bufs)
            self.desc_at(table + 16 * i, addr, length, (0 if last else NEXT) | (WRITE if w else 0), i + 1)
        head = self.next_desc
        self.desc_at(self.desc + 16 * head, table, 16 * len(bufs), INDIRECT, 0)
        self.next_desc = (head + 1) % self.size
        self.publish(head)
        return head


# ---------------------------------------------------------------- virtqueue
def virtqueue():
    for name, log2, flags, build in [
        ("direct", 4, 0, lambda r: [r.chain([(0x2000, 16, False), (0x3000, 512, True)])]),
        ("indirect", 4, 1, lambda r: [r.indirect(0x1000, [(0x2000, 16, False), (0x2100, 64, False), (0x3000, 1, True)])]),
        ("three_chains", 3, 1, lambda r: [r.chain([(0x2000, 8, False)]), r.chain([(0x3000, 100, True), (0x3100, 100, True)]),
                                          r.indirect(0x1000, [(0x11000, 4096, True)])]),
        ("second_region", 8, 0, lambda r: [r.chain([(0x11000, 0x1000, False), (0x12000, 0x800, True)])]),
        ("undo", 4, 4, lambda r: [r.chain([(0x2000, 16, False)]), r.chain([(0x2000, 16, False), (0x3000, 8, True)])]),
    ]:
        ram = Ram()
        ring = Ring(ram, 0, 1 << log2)
        build(ring)
        write_seed("virtqueue", name, bytes([log2, flags, 16, 0, 0, 0, 0, 0]) + ram.bytes())
    # Own ring addresses (bit1): rings in the second region.
    ram = Ram(0x14000)
    ring = Ring(ram, 0x11000, 4)
    ring.chain([(0x2000, 32, False), (0x3000, 32, True)])
    addrs = struct.pack("<QQQ", ring.desc, ring.avail, ring.used)
    # The image is loaded from guest 0 and spills into region 1 at 0x11000
    # after 0x10000 bytes: drop the hole from the image.
    image = bytes(ram.b[:0x10000]) + bytes(ram.b[0x11000:]).rstrip(b"\0")
    write_seed("virtqueue", "own_addresses", bytes([2, 2, 8, 0, 0, 0, 0, 0]) + addrs + image)


# ---------------------------------------------------------------- virtio-blk
BLK_IN, BLK_OUT, BLK_FLUSH, BLK_GET_ID, BLK_DISCARD, BLK_WRITE_ZEROES = 0, 1, 4, 8, 11, 13


def blk_request(ring, ram, slot, rtype, sector, data_bufs, extra=b""):
    hdr = 0x2000 + 0x100 * slot
    status = 0x4000 + slot
    ram.put(hdr, struct.pack("<IIQ", rtype, 0, sector) + extra)
    ring.chain([(hdr, 16 + len(extra), False)] + data_bufs + [(status, 1, True)])


def virtio_blk():
    def seed(name, flags, reqs, writes=()):
        ram = Ram()
        ring = Ring(ram, 0, 16)
        for i, r in enumerate(reqs):
            blk_request(ring, ram, i, *r)
        ctl = bytes([4, flags, len(writes), 0, 0, 0, 0, 0])
        mmio = b"".join(struct.pack("<II", off, val) for off, val in writes)
        write_seed("virtio_blk", name, ctl + mmio + ram.bytes())

    seed("read", 1, [(BLK_IN, 1, [(0x5000, 1024, True)])])
    seed("write_flush", 1, [(BLK_OUT, 2, [(0x5000, 512, False)]), (BLK_FLUSH, 0, [])])
    seed("get_id", 0, [(BLK_GET_ID, 0, [(0x5000, 20, True)])])
    seed("discard_zeroes", 1, [(BLK_DISCARD, 0, [], struct.pack("<QII", 4, 8, 0)),
                               (BLK_WRITE_ZEROES, 0, [], struct.pack("<QII", 16, 4, 0))])
    seed("read_only_write", 4, [(BLK_OUT, 0, [(0x5000, 512, False)])])
    # A reset (status 0) and a stray notify after the requests went out.
    seed("reset_mid_request", 3, [(BLK_IN, 0, [(0x5000, 4096, True)]), (BLK_OUT, 8, [(0x6000, 4096, False)])],
         writes=[(0x70, 0), (0x50, 0)])


# ---------------------------------------------------------------- virtio-vsock
OP_REQUEST, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE, OP_CREDIT_REQUEST = range(1, 8)


def vsock_hdr(src_port, dst_port, op, length=0, flags=0, buf_alloc=65536, fwd_cnt=0, src_cid=3, dst_cid=2):
    return struct.pack("<QQIIIHHIII", src_cid, dst_cid, src_port, dst_port, length, 1, op, flags, buf_alloc, fwd_cnt)


def virtio_vsock():
    def seed(name, flags, packets, line=b"", notifies=1):
        ram = Ram(0xc000)
        rx = Ring(ram, 0x0000, 16)
        tx = Ring(ram, 0x2000, 16)
        Ring(ram, 0x4000, 16)
        for i in range(8):
            rx.chain([(0x8000 + 0x400 * i, 0x400, True)])
        at = 0x6000
        for hdr, data in packets:
            ram.put(at, hdr + data)
            bufs = [(at, 44, False)] + ([(at + 44, len(data), False)] if data else [])
            tx.chain(bufs)
            at += 0x100
        ctl = bytes([4, flags, len(line), notifies - 1, 0, 0, 0, 0])
        write_seed("virtio_vsock", name, ctl + line + ram.bytes())

    seed("guest_connects", 1, [(vsock_hdr(5000, 1024, OP_REQUEST), b""),
                               (vsock_hdr(5000, 1024, OP_RW, 5), b"hello"),
                               (vsock_hdr(5000, 1024, OP_CREDIT_REQUEST), b""),
                               (vsock_hdr(5000, 1024, OP_SHUTDOWN, flags=3), b"")], notifies=2)
    seed("guest_refused", 0, [(vsock_hdr(5001, 77, OP_REQUEST), b""), (vsock_hdr(5001, 77, OP_RW, 3), b"abc")])
    seed("host_connects", 2, [(vsock_hdr(1024, 1 << 30, OP_RESPONSE), b""),
                              (vsock_hdr(1024, 1 << 30, OP_CREDIT_UPDATE, fwd_cnt=10), b"")],
         line=b"CONNECT 1024\n", notifies=2)
    seed("bad_line", 2, [], line=b"CONNECT nope\r\n")
    seed("rst_and_wrong_cid", 1, [(vsock_hdr(1, 2, OP_RST), b""), (vsock_hdr(1, 2, OP_REQUEST, src_cid=9), b"")])


# ---------------------------------------------------------------- API over HTTP
def http(method, path, body=None, extra=""):
    h = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}"
    if body is not None:
        b = json.dumps(body)
        return (h + f"Content-Type: application/json\r\nContent-Length: {len(b)}\r\n\r\n" + b).encode()
    return (h + "\r\n").encode()


def api_http():
    write_seed("api_http", "get_root", http("GET", "/"))
    write_seed("api_http", "machine_config", http("PUT", "/machine-config", {"vcpu_count": 2, "mem_size_mib": 256}))
    write_seed("api_http", "configure_and_start", b"".join([
        http("PUT", "/boot-source", {"kernel_image_path": "/k", "boot_args": "console=ttyS0"}),
        http("PUT", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": "/r.img", "is_root_device": True,
                                       "is_read_only": False}),
        http("PUT", "/network-interfaces/eth0", {"iface_id": "eth0", "host_dev_name": "tap0",
                                                 "guest_mac": "aa:bb:cc:dd:ee:ff"}),
        http("PUT", "/vsock", {"guest_cid": 3, "uds_path": "/tmp/v.sock"}),
        http("PUT", "/actions", {"action_type": "InstanceStart"}),
        http("PATCH", "/vm", {"state": "Paused"}),
        http("GET", "/vm/config"),
    ]))
    write_seed("api_http", "patch_drive", http("PATCH", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": "/n.img"}))
    body = '{"vcpu_count": 1, "mem_size_mib": 128}'
    chunked = (f"PATCH /machine-config?x=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
               f"{len(body):x}\r\n{body}\r\n0\r\n\r\n").encode()
    write_seed("api_http", "chunked_patch", chunked)
    write_seed("api_http", "bad_json", http("PUT", "/machine-config", None, "Content-Length: 5\r\n")[:-2] + b"\r\n{oops")


# ---------------------------------------------------------------- VM config file
def vm_config():
    full = {
        "boot-source": {"kernel_image_path": "/vmlinux", "initrd_path": "/initrd", "boot_args": "console=ttyS0 reboot=k"},
        "machine-config": {"vcpu_count": 2, "mem_size_mib": 256, "smt": False, "huge_pages": "2M"},
        "drives": [{"drive_id": "rootfs", "path_on_host": "/rootfs.ext4", "is_root_device": True, "is_read_only": True,
                    "cache_type": "Writeback", "io_engine": "Sync"}],
        "network-interfaces": [{"iface_id": "eth0", "host_dev_name": "tap0", "guest_mac": "06:00:ac:10:00:02"}],
        "vsock": {"guest_cid": 3, "uds_path": "/tmp/hull.vsock"},
        "entropy": {},
        "logger": {"log_path": "/tmp/log", "level": "Info", "show_level": True, "show_log_origin": False},
        "metrics": {"metrics_path": "/tmp/metrics"},
    }
    write_seed("vm_config", "full.json", json.dumps(full, indent=1).encode())
    write_seed("vm_config", "minimal.json", json.dumps({"boot-source": {"kernel_image_path": "/k"},
                                                        "machine-config": {"vcpu_count": 1, "mem_size_mib": 128}}).encode())
    write_seed("vm_config", "unknown_field.json", b'{"boot-source": {"kernel_image_path": "/k"}, "balloon": {}}')


# ---------------------------------------------------------------- ttrpc
def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def request(service, method, payload=b"", timeout=0, metadata=()):
    out = field(1, service.encode()) + field(2, method.encode()) + field(3, payload)
    if timeout:
        out += varint(4 << 3 | 0) + varint(timeout)
    for k, v in metadata:
        out += field(5, field(1, k.encode()) + field(2, v.encode()))
    return out


def frame(stream, ftype, payload, flags=0):
    return struct.pack(">IIBB", len(payload), stream, ftype, flags) + payload


def ttrpc():
    echo = frame(1, 1, request("fuzz.Echo", "Echo", b"ping", metadata=[("k", "v")]))
    calls = (echo + frame(3, 1, request("fuzz.Echo", "Fail")) + frame(5, 1, request("fuzz.Echo", "Wait", timeout=1000000))
             + frame(7, 1, request("nope.Svc", "X")) + frame(9, 3, b"data"))
    task = frame(1, 1, request("containerd.task.v2.Task", "State", field(1, b"c1")))
    for name, stream in [("echo", echo), ("calls", calls), ("task_state", task),
                         ("oversized", struct.pack(">IIBB", 5 << 20, 1, 1, 0) + b"x" * 32),
                         ("even_stream", frame(2, 1, request("fuzz.Echo", "Echo")))]:
        write_seed("ttrpc_server", name, stream)
        write_seed("ttrpc_frame", name, bytes([0, 3, 9, 255]) + stream)
    write_seed("ttrpc_frame", "truncated", bytes([1, 1, 1, 1]) + echo[:-2])


# ---------------------------------------------------------------- OCI config
def oci_config():
    spec = {
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": {"uid": 1000, "gid": 1000, "additionalGids": [10]},
                    "args": ["/bin/sh", "-c", "echo hi"], "env": ["PATH=/bin"], "cwd": "/",
                    "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]},
                    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}], "noNewPrivileges": True},
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "c1",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                   {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=64m"]}],
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}],
                  "resources": {"memory": {"limit": 67108864}, "cpu": {"shares": 512, "quota": 50000, "period": 100000},
                                "pids": {"limit": 64}},
                  "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
                  "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                              "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}},
    }
    write_seed("oci_config", "spec_full", b"\x00" + json.dumps(spec).encode())
    write_seed("oci_config", "spec_minimal", b"\x00" + json.dumps(
        {"ociVersion": "1.0.2", "process": {"user": {"uid": 0, "gid": 0}, "args": ["/bin/true"], "cwd": "/"},
         "root": {"path": "rootfs"}}).encode())
    write_seed("oci_config", "process", b"\x01" + json.dumps(spec["process"]).encode())
    write_seed("oci_config", "resources", b"\x02" + json.dumps(spec["linux"]["resources"]).encode())


if __name__ == "__main__":
    for fn in (virtqueue, virtio_blk, virtio_vsock, api_http, vm_config, ttrpc, oci_config):
        fn()
    sys.exit(0)
