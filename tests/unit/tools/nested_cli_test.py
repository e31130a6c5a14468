"""tools/nested/cli.py and tools/e2e-exec: argument handling (no QEMU is started)."""
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import unittest

from nested import cli

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools")


def parse_error(argv):
    """The message of the usage error argv gives (argparse exits 2)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), unittest.TestCase().assertRaises(SystemExit) as cm:
        cli.parse_args(argv, "x86_64")
    assert cm.exception.code == 2, cm.exception.code
    return err.getvalue()


class ParseArgsTest(unittest.TestCase):
    def test_defaults(self):
        args = cli.parse_args(["--", "sh", "-c", "echo -- x"], "x86_64")
        self.assertEqual(args.arch.name, "x86_64")
        self.assertEqual(args.command, ["sh", "-c", "echo -- x"])
        self.assertEqual((args.cpus, args.memory, args.timeout), (1, 2048, 600))
        self.assertEqual(cli.parse_args(["--arch", "arm64", "--", "true"], "x86_64").cpus, 2)

    def test_bin_destinations(self):
        args = cli.parse_args(["--bin", sys.executable, "--bin", f"{sys.executable}:/opt/py", "--", "true"], "x86_64")
        name = os.path.basename(sys.executable)
        self.assertEqual(args.bin, [(sys.executable, f"/usr/local/bin/{name}"), (sys.executable, "/opt/py")])

    def test_file_destination_directory_keeps_the_name(self):
        with tempfile.NamedTemporaryFile() as f:
            args = cli.parse_args(["--file", f"{f.name}:/etc/", "--", "true"], "x86_64")
            self.assertEqual(args.file, [(f.name, "/etc/" + os.path.basename(f.name))])

    def test_usage_errors(self):
        self.assertIn("no command", parse_error([]))
        self.assertIn("no command", parse_error(["--"]))
        self.assertIn("unknown --arch 'sparc'", parse_error(["--arch", "sparc", "--", "true"]))
        self.assertIn("no such executable", parse_error(["--bin", "/nonexistent", "--", "true"]))
        self.assertIn("not an ELF", parse_error(["--bin", os.path.join(TOOLS, "nested-run"), "--", "true"]))
        self.assertIn("SRC:/absolute/path", parse_error(["--file", "/etc/hostname", "--", "true"]))
        self.assertIn("no such file", parse_error(["--file", "/nonexistent:/x", "--", "true"]))
        self.assertIn("no such directory", parse_error(["--dir", "/nonexistent:/x", "--", "true"]))
        self.assertIn("--memory", parse_error(["--memory", "1", "--", "true"]))
        self.assertIn("--cpus", parse_error(["--cpus", "0", "--", "true"]))
        self.assertIn("--timeout", parse_error(["--timeout", "-1", "--", "true"]))
        self.assertIn("not a directory", parse_error(["--out", "/etc/hostname", "--", "true"]))
        self.assertIn("unrecognized arguments", parse_error(["--bogus", "--", "true"]))

    def test_wrong_arch_binary(self):
        other = "aarch64" if os.uname().machine == "x86_64" else "x86_64"
        self.assertIn(f"not {other}", parse_error(["--arch", other, "--bin", sys.executable, "--", "true"]))


class ExtractOutTest(unittest.TestCase):
    def test_refuses_paths_outside_the_directory(self):
        import tarfile
        with tempfile.TemporaryDirectory() as d:
            image = os.path.join(d, "out.img")
            with tarfile.open(image, "w") as tar:
                info = tarfile.TarInfo("../escape")
                info.size = 1
                tar.addfile(info, io.BytesIO(b"x"))
            messages = []
            self.assertFalse(cli._extract_out(image, os.path.join(d, "host"), messages.append))
            self.assertFalse(os.path.exists(os.path.join(d, "escape")))
            self.assertIn("cannot copy /out", messages[0])

    def test_refuses_links_and_devices(self):
        import tarfile
        for kind in (tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE):
            with tempfile.TemporaryDirectory() as d:
                image = os.path.join(d, "out.img")
                with tarfile.open(image, "w") as tar:
                    info = tarfile.TarInfo("./thing")
                    info.type = kind
                    info.linkname = "/etc/passwd"
                    tar.addfile(info)
                messages = []
                self.assertFalse(cli._extract_out(image, os.path.join(d, "host"), messages.append), kind)
                self.assertIn("not a regular file", messages[0])
                self.assertFalse(os.path.lexists(os.path.join(d, "host", "thing")))

    def test_extracts_files(self):
        import tarfile
        with tempfile.TemporaryDirectory() as d:
            image = os.path.join(d, "out.img")
            with tarfile.open(image, "w") as tar:
                info = tarfile.TarInfo("./sub/result.txt")
                info.size = 2
                info.mode = 0o4755  # setuid from the guest is dropped
                tar.addfile(info, io.BytesIO(b"ok"))
            with open(image, "ab") as f:
                f.truncate(1 << 20)  # the disk is bigger than the archive
            self.assertTrue(cli._extract_out(image, os.path.join(d, "host"), print))
            result = os.path.join(d, "host", "sub", "result.txt")
            with open(result) as f:
                self.assertEqual(f.read(), "ok")
            self.assertEqual(os.stat(result).st_mode & 0o7777, 0o755)


class CommandLineTest(unittest.TestCase):
    def run_tool(self, *argv):
        return subprocess.run([os.path.join(TOOLS, argv[0]), *argv[1:]], capture_output=True, text=True)

    def test_nested_run_help_and_errors(self):
        res = self.run_tool("nested-run", "--help")
        self.assertEqual(res.returncode, 0)
        self.assertIn("--arch ARCH", res.stdout)
        self.assertIn("exit status", res.stdout)
        res = self.run_tool("nested-run", "--arch", "mips", "--", "true")
        self.assertEqual(res.returncode, 2)
        self.assertIn("use x86_64 or aarch64", res.stderr)

    def test_e2e_exec_errors(self):
        for argv, msg in ((["--", "true"], "--arch"), (["--arch", "x86_64"], "no command"),
                          (["--arch", "riscv64", "--", "true"], "unknown --arch"),
                          (["--arch", "x86_64", "--wat", "--", "true"], "unknown option"),
                          (["--arch", "x86_64", "--hull", "/nonexistent", "--", "true"], "no such executable")):
            res = self.run_tool("e2e-exec", *argv)
            self.assertEqual(res.returncode, 2, argv)
            self.assertIn(msg, res.stderr, argv)

    def test_e2e_exec_direct_mode_sets_up_paths(self):
        with tempfile.TemporaryDirectory() as d:
            fake_hull = os.path.join(d, "hull")
            with open(fake_hull, "w") as f:
                f.write('#!/bin/sh\necho \'{"checks": []}\'\nexit 0\n')  # "KVM usable"
            os.chmod(fake_hull, 0o755)
            out = os.path.join(d, "out")
            res = self.run_tool("e2e-exec", "--arch", os.uname().machine, "--hull", fake_hull,
                                "--bin", f"{sys.executable}:/usr/bin/py3", "--file", "/etc/hostname:/etc/h",
                                "--out", out, "--", "sh", "-c",
                                'py3 -c "print(1)" && cat "$E2E_ROOT/etc/h" > "$E2E_OUT/h" && echo $E2E_MODE')
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("running directly on this host", res.stderr)
            self.assertEqual(res.stdout, "1\ndirect\n")
            with open("/etc/hostname") as a, open(os.path.join(out, "h")) as b:
                self.assertEqual(a.read(), b.read())


if __name__ == "__main__":
    unittest.main()
