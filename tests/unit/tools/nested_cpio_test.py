"""tools/nested/cpio.py: the newc archives the L1 kernel unpacks."""
import io
import os
import stat
import tempfile
import unittest

from nested import cpio


def read_newc(data):
    """[(name, mode, rdevmajor, rdevminor, body)] of a newc archive, checking its framing."""
    entries, off = [], 0
    while True:
        assert data[off:off + 6] == b"070701", f"bad magic at {off}"
        fields = [int(data[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize, mode = fields[11], fields[6], fields[1]
        name = data[off + 110: off + 110 + namesize - 1].decode()
        off += 110 + namesize
        off += -off % 4
        body = data[off:off + filesize]
        off += filesize
        off += -off % 4
        if name == "TRAILER!!!":
            assert off == len(data)
            return entries
        assert fields[5] == 0 and fields[2] == 0 and fields[3] == 0  # mtime 0, owner root
        entries.append((name, mode, fields[9], fields[10], body))


class CpioTest(unittest.TestCase):
    def build(self, fill):
        a = cpio.Archive()
        fill(a)
        out = io.BytesIO()
        a.write(out)
        return out.getvalue()

    def test_sorted_with_parents_and_types(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"hello")
            f.flush()
            os.chmod(f.name, 0o750)

            def fill(a):
                a.add_bytes("/etc/nested/config", b"X=1\n")
                a.add_file("/usr/local/bin/tool", f.name)
                a.add_symlink("bin/sh", "busybox")
                a.add_chardev("dev/console", 5, 1)
            entries = read_newc(self.build(fill))
        names = [e[0] for e in entries]
        self.assertEqual(names, sorted(names))
        by_name = {e[0]: e for e in entries}
        for parent in ("etc", "etc/nested", "usr", "usr/local", "usr/local/bin", "bin", "dev"):
            self.assertTrue(stat.S_ISDIR(by_name[parent][1]), parent)
        self.assertEqual(by_name["usr/local/bin/tool"][4], b"hello")
        self.assertEqual(stat.S_IMODE(by_name["usr/local/bin/tool"][1]), 0o750)
        self.assertTrue(stat.S_ISLNK(by_name["bin/sh"][1]))
        self.assertEqual(by_name["bin/sh"][4], b"busybox")
        self.assertTrue(stat.S_ISCHR(by_name["dev/console"][1]))
        self.assertEqual(by_name["dev/console"][2:4], (5, 1))

    def test_same_inputs_same_bytes(self):
        def fill(a):
            a.add_bytes("b", b"2")
            a.add_bytes("a", b"1")
        self.assertEqual(self.build(fill), self.build(fill))

    def test_rejects_escaping_and_empty_paths(self):
        a = cpio.Archive()
        for bad in ("../etc/passwd", "/a/../../b", "/", ""):
            with self.assertRaises(cpio.CpioError, msg=bad):
                a.add_bytes(bad, b"")

    def test_file_cannot_be_a_parent(self):
        a = cpio.Archive()
        a.add_bytes("/x", b"")
        with self.assertRaisesRegex(cpio.CpioError, "is a file"):
            a.add_bytes("/x/y", b"")

    def test_tree_copies_files_dirs_and_links(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "sub"))
            with open(os.path.join(d, "sub", "f"), "wb") as f:
                f.write(b"data")
            os.symlink("sub/f", os.path.join(d, "link"))
            entries = {e[0]: e for e in read_newc(self.build(lambda a: a.add_tree("/opt/t", d)))}
        self.assertEqual(entries["opt/t/sub/f"][4], b"data")
        self.assertEqual(entries["opt/t/link"][4], b"sub/f")
        self.assertTrue(stat.S_ISDIR(entries["opt/t/sub"][1]))

    def test_missing_host_file(self):
        with self.assertRaises(OSError):
            cpio.Archive().add_file("/x", "/nonexistent/file")


if __name__ == "__main__":
    unittest.main()
