"""tools/nested/vm.py: relaying the L1 console and catching /init's status line."""
import unittest

from nested import arches, vm

MARKER = "HULL-NESTED-EXIT-0123456789abcdef"


def relay(chunks):
    out = []
    f = vm.StatusFilter(MARKER, out.append)
    for c in chunks:
        f.feed(c)
    if f.status is None:
        f.flush()
    return b"".join(out), f.status, f.out_status


class StatusFilterTest(unittest.TestCase):
    def test_status_line_is_removed(self):
        self.assertEqual(relay([b"hello\n", b"\n" + MARKER.encode() + b" 7 0\n", b"reboot noise"]),
                         (b"hello\n", 7, 0))

    def test_status_split_at_every_byte(self):
        stream = b"a\nb" + b"\n" + MARKER.encode() + b" 42 3\r\n" + b"after"
        for cut in range(len(stream)):
            self.assertEqual(relay([stream[:cut], stream[cut:]]), (b"a\nb", 42, 3), cut)
        self.assertEqual(relay([bytes([c]) for c in stream]), (b"a\nb", 42, 3))

    def test_output_is_streamed_not_held(self):
        out = []
        f = vm.StatusFilter(MARKER, out.append)
        f.feed(b"line one\nline two\npartial")
        self.assertEqual(b"".join(out), b"line one\nline two\npartial")

    def test_lookalike_lines_pass_through(self):
        fake = b"\nHULL-NESTED-EXIT-ffffffffffffffff 0 0\n"  # another run's marker
        data, status, _ = relay([b"x" + fake + b"y", b"\n" + MARKER.encode() + b" 1 0\n"])
        self.assertEqual((data, status), (b"x" + fake + b"y", 1))
        data, status, _ = relay([b"\n" + MARKER.encode() + b" notanumber\n", b"\n" + MARKER.encode() + b" 5 0\n"])
        self.assertEqual(status, 5)
        self.assertIn(b"notanumber", data)

    def test_no_status_line_flushes_everything(self):
        self.assertEqual(relay([b"panic\n", b"\n" + MARKER.encode()[:10]]),
                         (b"panic\n\n" + MARKER.encode()[:10], None, None))


class QemuCommandTest(unittest.TestCase):
    def test_x86_command(self):
        cmd = vm.qemu_command(arches.X86_64, "/k", "/i", 1024, 1, False)
        self.assertEqual(cmd[0], "qemu-system-x86_64")
        self.assertIn("-no-reboot", cmd)
        append = cmd[cmd.index("-append") + 1]
        self.assertIn("console=ttyS0", append)
        self.assertIn("quiet", append)
        self.assertNotIn("-drive", cmd)

    def test_aarch64_command_with_out_disk(self):
        cmd = vm.qemu_command(arches.AARCH64, "/k", "/i", 2048, 2, True, "/tmp/out.img")
        self.assertIn("virt,virtualization=on,gic-version=3", cmd)
        self.assertIn("max,pauth-impdef=on", cmd)
        self.assertIn("file=/tmp/out.img,format=raw,if=none,id=out", cmd)
        self.assertIn("virtio-blk-device,drive=out", cmd)
        self.assertIn("loglevel=7", cmd[cmd.index("-append") + 1])


if __name__ == "__main__":
    unittest.main()
