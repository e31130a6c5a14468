"""Helpers of tools/nested-run: boot an L1 Linux under QEMU TCG with nested KVM."""
