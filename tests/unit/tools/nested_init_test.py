"""tools/nested/init.sh and the L1 module lists: what container runtimes in L1 rely on."""
import os
import re
import shutil
import subprocess
import unittest

from nested import arches, initramfs


class InitScriptTest(unittest.TestCase):
    def setUp(self):
        with open(initramfs.INIT_TEMPLATE) as f:
            self.text = f.read()

    def test_parses_as_shell(self):
        sh = shutil.which("sh")
        if sh is None:
            self.skipTest("no sh")
        subprocess.run([sh, "-n", initramfs.INIT_TEMPLATE], check=True)

    def test_moves_root_off_rootfs_before_anything_else(self):
        # pivot_root(2) fails with EINVAL on rootfs (runc/crun: "pivot_root .: invalid argument"),
        # so PID 1 first re-runs itself in a root that is a mount with a parent.
        move = self.text.index("mount -o move . /")
        self.assertLess(move, self.text.index("--install"))
        self.assertLess(self.text.index("mount -o bind / /.root"), move)
        self.assertRegex(self.text, r'exec \$bb chroot \. /init')
        # Guarded so the second pass (and a non-PID-1 run) does not move it again.
        self.assertRegex(self.text, r'if \[ "\$\$" = 1 \] && \[ -z "\$NESTED_ROOT_MOVED" \]')
        self.assertIn('export NESTED_ROOT_MOVED=', self.text)


class ModulesTest(unittest.TestCase):
    def test_container_modules_on_both_arches(self):
        for arch in arches.ARCHES.values():
            for m in ("overlay", "vhost_vsock", "tun", "vsock"):
                self.assertIn(m, arch.modules, f"{arch.name}: {m}")

    def test_kvm_amd_on_x86_64_only(self):
        self.assertIn("kvm-amd", arches.X86_64.modules)
        self.assertNotIn("kvm-amd", arches.AARCH64.modules)


if __name__ == "__main__":
    unittest.main()
