"""What differs between the two L1 architectures: QEMU, kernel package, console, libraries."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Arch:
    name: str                 # `uname -m` spelling
    debian: str               # Debian architecture name
    triplet: str              # multiarch triplet (library directories)
    elf_machine: int          # ELF e_machine of binaries that run there
    qemu: str                 # host QEMU system emulator
    machine: list             # -M/-cpu/... arguments
    console: str              # kernel console device
    kernel_metapackage: str   # resolved to linux-image-<version>-<flavour> via apt
    busybox_package: str
    default_cpus: int
    # Modules loaded in L1 (with their dependencies from modules.dep) when present: overlay for
    # containerd's overlayfs snapshotter, vhost_vsock for VMMs that use vhost-vsock.
    modules: tuple
    # Modules for the --out disk (virtio-blk); loaded only when --out is given.
    out_modules: tuple
    out_device: list          # QEMU -device arguments for the --out disk
    lib_dirs: tuple           # where the target's shared libraries live on this host


X86_64 = Arch(
    name="x86_64",
    debian="amd64",
    triplet="x86_64-linux-gnu",
    elf_machine=62,  # EM_X86_64
    qemu="qemu-system-x86_64",
    # TCG with every feature QEMU emulates, SVM included: L1 gets /dev/kvm (kvm-amd).
    machine=["-M", "pc", "-accel", "tcg", "-cpu", "max"],
    console="ttyS0",
    kernel_metapackage="linux-image-cloud-amd64",
    busybox_package="busybox-static",
    default_cpus=1,
    modules=("kvm-amd", "tun", "vsock", "vsock_loopback", "vhost_vsock", "overlay",
             # pod networking (tests/e2e/containerd_hull pod-network): veth + tc mirrors
             "veth", "sch_ingress", "cls_u32", "act_mirred",
             # Podman's bridge network (tests/e2e/podman network-bridge)
             "bridge"),
    out_modules=("virtio_pci", "virtio_blk"),
    out_device=["-device", "virtio-blk-pci,drive=out"],
    lib_dirs=("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
              "/lib", "/usr/lib"),
)

AARCH64 = Arch(
    name="aarch64",
    debian="arm64",
    triplet="aarch64-linux-gnu",
    elf_machine=183,  # EM_AARCH64
    qemu="qemu-system-aarch64",
    # virtualization=on gives L1 EL2 (VHE KVM); GICv3 because nested TCG has no GICv2
    # virtualization; pauth-impdef=on makes pointer authentication 2-3x cheaper to emulate.
    machine=["-M", "virt,virtualization=on,gic-version=3", "-accel", "tcg",
             "-cpu", "max,pauth-impdef=on"],
    console="ttyAMA0",
    kernel_metapackage="linux-image-arm64:arm64",
    busybox_package="busybox-static:arm64",
    default_cpus=2,
    modules=("tun", "vsock", "vsock_loopback", "vhost_vsock", "overlay",
             # pod networking (tests/e2e/containerd_hull pod-network): veth + tc mirrors
             "veth", "sch_ingress", "cls_u32", "act_mirred"),
    out_modules=("virtio_mmio", "virtio_blk"),
    out_device=["-device", "virtio-blk-device,drive=out"],
    lib_dirs=("/usr/aarch64-linux-gnu/lib", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu"),
)

ARCHES = {a.name: a for a in (X86_64, AARCH64)}
ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}


def lookup(name):
    """The Arch for `name` (x86_64/amd64, aarch64/arm64), or None."""
    return ARCHES.get(ALIASES.get(name, name))


def host_arch():
    import platform
    return lookup(platform.machine())
