"""A reproducible newc ("070701") cpio writer, the format the Linux initramfs unpacker reads.

Entries are collected first and written sorted by path with fixed owners and mtimes, so the
same inputs give the same bytes; missing parent directories are added automatically.
Several archives may be concatenated: the kernel unpacks them in order, later entries
replacing earlier ones.
"""
import os
import stat

_TRAILER = "TRAILER!!!"


class CpioError(Exception):
    pass


class Archive:
    def __init__(self):
        self._entries = {}  # path (no leading '/') -> (mode, data bytes | host path, rdev)

    @staticmethod
    def _norm(path):
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            raise CpioError(f"invalid path in initramfs: {path!r} (must be absolute, without '..')")
        return "/".join(parts)

    def _add(self, path, mode, data, rdev=(0, 0)):
        path = self._norm(path)
        parts = path.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            existing = self._entries.get(parent)
            if existing is None:
                self._entries[parent] = (stat.S_IFDIR | 0o755, b"", (0, 0))
            elif not stat.S_ISDIR(existing[0]):
                raise CpioError(f"{parent!r} is a file in the initramfs but {path!r} needs it as a directory")
        self._entries[path] = (mode, data, rdev)

    def add_dir(self, path, perm=0o755):
        self._add(path, stat.S_IFDIR | perm, b"")

    def add_bytes(self, path, data, perm=0o644):
        self._add(path, stat.S_IFREG | perm, bytes(data))

    def add_file(self, path, host_path, perm=None):
        """Copy a host file (contents read when the archive is written); keeps its permissions."""
        st = os.stat(host_path)
        if not stat.S_ISREG(st.st_mode):
            raise CpioError(f"{host_path}: not a regular file")
        self._add(path, stat.S_IFREG | (stat.S_IMODE(st.st_mode) if perm is None else perm), host_path)

    def add_symlink(self, path, target):
        self._add(path, stat.S_IFLNK | 0o777, target.encode())

    def add_chardev(self, path, major, minor, perm=0o600):
        self._add(path, stat.S_IFCHR | perm, b"", (major, minor))

    def add_tree(self, dest, host_dir):
        """Copy a host directory recursively (files, directories, symlinks as they are)."""
        if not os.path.isdir(host_dir):
            raise CpioError(f"{host_dir}: not a directory")
        self.add_dir(dest, stat.S_IMODE(os.stat(host_dir).st_mode))
        for root, dirs, files in os.walk(host_dir):
            rel = os.path.relpath(root, host_dir)
            base = dest if rel == "." else f"{dest}/{rel}"
            for name in dirs + files:
                src = os.path.join(root, name)
                st = os.lstat(src)
                if stat.S_ISLNK(st.st_mode):
                    self.add_symlink(f"{base}/{name}", os.readlink(src))
                elif stat.S_ISDIR(st.st_mode):
                    self.add_dir(f"{base}/{name}", stat.S_IMODE(st.st_mode))
                elif stat.S_ISREG(st.st_mode):
                    self.add_file(f"{base}/{name}", src)
                else:
                    raise CpioError(f"{src}: only files, directories and symlinks can be copied")

    def __contains__(self, path):
        return self._norm(path) in self._entries

    def write(self, out):
        """Writes the archive (sorted, mtime 0, owner root) to the binary file object `out`."""
        ino = 0
        for path in sorted(self._entries):
            mode, data, rdev = self._entries[path]
            if isinstance(data, str):
                with open(data, "rb") as f:
                    data = f.read()
            ino += 1
            _write_entry(out, path, ino, mode, data, rdev)
        _write_entry(out, _TRAILER, 0, 0, b"", (0, 0))


def _pad(out, n):
    if n % 4:
        out.write(b"\0" * (4 - n % 4))


def _write_entry(out, name, ino, mode, data, rdev):
    name_bytes = name.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(mode) else 1
    fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_bytes), 0)
    header = b"070701" + b"".join(b"%08X" % f for f in fields)
    out.write(header)
    out.write(name_bytes)
    _pad(out, len(header) + len(name_bytes))
    out.write(data)
    _pad(out, len(data))
