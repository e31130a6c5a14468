"""tools/nested/elf.py and libs.py: what a --bin needs in L1."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from nested import arches, elf, libs

HOST = arches.host_arch()


class ElfTest(unittest.TestCase):
    def test_dynamic_host_binary(self):
        info = elf.read(sys.executable)
        self.assertEqual(info.machine, HOST.elf_machine)
        self.assertTrue(info.interpreter.startswith("/lib"))
        self.assertIn("libc.so.6", info.needed)

    def test_static_binary_has_no_interpreter(self):
        busybox = shutil.which("busybox")
        if busybox is None:
            self.skipTest("busybox-static is not installed (tools/setup installs it)")
        info = elf.read(busybox)
        self.assertIsNone(info.interpreter)
        self.assertEqual(info.needed, [])

    def test_rejects_non_elf_and_truncated(self):
        with self.assertRaisesRegex(elf.ElfError, "not an ELF"):
            elf.parse(b"#!/bin/sh\n")
        with self.assertRaisesRegex(elf.ElfError, "64-bit"):
            elf.parse(b"\x7fELF\x01\x01" + b"\0" * 58)
        with open(sys.executable, "rb") as f:
            head = f.read(200)
        with self.assertRaisesRegex(elf.ElfError, "truncated"):
            elf.parse(head)

    def test_runpath_and_needed_from_a_built_library(self):
        if shutil.which("cc") is None:
            self.skipTest("no C compiler")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "m.c")
            with open(src, "w") as f:
                f.write("int main(void){return 0;}\n")
            out = os.path.join(d, "m")
            subprocess.run(["cc", src, "-o", out, "-Wl,--enable-new-dtags,-rpath,/opt/x:$ORIGIN/lib,--no-as-needed", "-lm"],
                           check=True)
            info = elf.read(out)
        self.assertEqual(info.runpath, ["/opt/x", "$ORIGIN/lib"])
        self.assertIn("libm.so.6", info.needed)


class LibsTest(unittest.TestCase):
    def test_closure_matches_ldd(self):
        closure = libs.closure(sys.executable, HOST)
        dests = {dest for _, dest in closure}
        ldd = subprocess.run(["ldd", sys.executable], capture_output=True, text=True, check=True).stdout
        for line in ldd.splitlines():
            name = line.split()[0]
            if "=>" in line and not name.startswith("linux-vdso"):
                self.assertIn(f"/lib/{HOST.triplet}/{name}", dests)
        interp = elf.read(sys.executable).interpreter
        self.assertIn(interp, dests)
        for host, _ in closure:
            self.assertEqual(elf.read(host).machine, HOST.elf_machine)

    def test_wrong_architecture_is_named(self):
        other = arches.AARCH64 if HOST.name == "x86_64" else arches.X86_64
        with self.assertRaisesRegex(libs.LibError, f"built for {HOST.name}, not {other.name}"):
            libs.closure(sys.executable, other)

    def test_missing_library_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            with open(sys.executable, "rb") as f:
                data = bytearray(f.read())
            # Rename a NEEDED entry in the string table: libc.so.6 -> libq.so.6
            i = data.find(b"libc.so.6\0")
            self.assertGreater(i, 0)
            data[i + 3:i + 4] = b"q"
            path = os.path.join(d, "py")
            with open(path, "wb") as f:
                f.write(data)
            with self.assertRaisesRegex(libs.LibError, "needs libq.so.6, which is not installed"):
                libs.closure(path, HOST)


if __name__ == "__main__":
    unittest.main()
