"""Finds the shared libraries an executable needs, for the target architecture."""
import os

from . import elf


class LibError(Exception):
    pass


def closure(binary, arch):
    """[(host path, path in L1)] of the interpreter and every library `binary` needs.

    Libraries land in /lib/<triplet>/ in L1, where the target's dynamic loader looks
    without an ld.so.cache; the interpreter lands at its PT_INTERP path.
    """
    info = elf.read(binary)
    if info.machine != arch.elf_machine:
        raise LibError(f"{binary} is built for {info.machine_name}, not {arch.name}: "
                       f"build it for {arch.name} or pick --arch {info.machine_name}")
    result = {}
    if info.interpreter:
        # From the same directory as libc (lib_dirs order), not PT_INTERP's own
        # directory: on a cross host /lib/ld-linux-aarch64.so.1 belongs to
        # libc6:arm64 while libc.so.6 comes from the cross toolchain, and a
        # mismatched ld.so/libc pair hangs in pthread_create.
        host = _find(os.path.basename(info.interpreter),
                     list(arch.lib_dirs) + [os.path.dirname(info.interpreter)], arch, binary)
        result[info.interpreter] = host
    pending = [(n, info.runpath, binary) for n in info.needed]
    seen = set()
    while pending:
        soname, runpath, wanted_by = pending.pop()
        if soname in seen:
            continue
        seen.add(soname)
        origin = os.path.dirname(os.path.realpath(wanted_by))
        dirs = [d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for d in runpath]
        host = _find(soname, dirs, arch, wanted_by)
        result[f"/lib/{arch.triplet}/{soname}"] = host
        lib = elf.read(host)
        pending.extend((n, lib.runpath, host) for n in lib.needed)
    return sorted((host, dest) for dest, host in result.items())


def _find(soname, extra_dirs, arch, wanted_by):
    for d in list(extra_dirs) + list(arch.lib_dirs):
        candidate = os.path.join(d, soname)
        if os.path.isfile(candidate):
            try:
                if elf.read(candidate).machine == arch.elf_machine:
                    return candidate
            except elf.ElfError:
                continue  # e.g. a linker script named like a library
    raise LibError(f"{wanted_by} needs {soname}, which is not installed for {arch.name} "
                   f"(looked in {', '.join(list(extra_dirs) + list(arch.lib_dirs))}); "
                   f"install the {arch.debian} package that ships it or link statically")
