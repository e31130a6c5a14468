"""Reads what the dynamic loader needs from an ELF file: machine, interpreter, NEEDED, RUNPATH.

Pure Python so it works for any target architecture (ldd only works for the host's).
"""
import struct

EM_NAMES = {62: "x86_64", 183: "aarch64", 3: "i386", 40: "arm"}
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_RPATH, DT_RUNPATH = 0, 1, 5, 15, 29


class ElfError(Exception):
    pass


class ElfInfo:
    def __init__(self, machine, interpreter, needed, runpath):
        self.machine = machine          # e_machine number
        self.interpreter = interpreter  # PT_INTERP path or None (static)
        self.needed = needed            # DT_NEEDED sonames, in order
        self.runpath = runpath          # DT_RUNPATH or DT_RPATH directories

    @property
    def machine_name(self):
        return EM_NAMES.get(self.machine, f"machine {self.machine}")


def read(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ElfError(f"{path}: {e.strerror}") from e
    return parse(data, path)


def parse(data, path="<bytes>"):
    if data[:4] != b"\x7fELF":
        raise ElfError(f"{path}: not an ELF executable")
    if data[4] != 2 or data[5] != 1:
        raise ElfError(f"{path}: only 64-bit little-endian ELF files are supported")
    try:
        return _parse64(data)
    except struct.error as e:
        raise ElfError(f"{path}: truncated or corrupt ELF file") from e


def _parse64(data):
    (e_machine,) = struct.unpack_from("<H", data, 18)
    (e_phoff,) = struct.unpack_from("<Q", data, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    loads, dynamic, interpreter = [], None, None
    for i in range(e_phnum):
        p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
        elif p_type == PT_INTERP:
            interpreter = data[p_offset:p_offset + p_filesz].split(b"\0")[0].decode()
    needed, runpath = [], []
    if dynamic:
        entries, strtab = [], None
        off, end = dynamic[0], dynamic[0] + dynamic[1]
        while off + 16 <= end:
            tag, val = struct.unpack_from("<qQ", data, off)
            off += 16
            if tag == DT_NULL:
                break
            if tag == DT_STRTAB:
                strtab = _vaddr_to_offset(loads, val)
            entries.append((tag, val))
        if strtab is None:
            raise struct.error("dynamic section without a string table")

        def string(offset):
            start = strtab + offset
            return data[start:data.index(b"\0", start)].decode()

        for tag, val in entries:
            if tag == DT_NEEDED:
                needed.append(string(val))
            elif tag in (DT_RUNPATH, DT_RPATH):
                runpath.extend(p for p in string(val).split(":") if p)
    return ElfInfo(e_machine, interpreter, needed, runpath)


def _vaddr_to_offset(loads, vaddr):
    for p_vaddr, p_offset, p_filesz in loads:
        if p_vaddr <= vaddr < p_vaddr + p_filesz:
            return vaddr - p_vaddr + p_offset
    raise struct.error("address outside the loaded segments")
