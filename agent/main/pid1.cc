#include "pid1.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "runtime/unique_fd.h"

namespace hull::agent {
namespace {

using runtime::UniqueFd;

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

void log_warning(const std::string& m) {
  std::fprintf(stderr, "hull-agent: warning: %s\n", m.c_str());
}

// Copies the tree at src (a directory fd) into dst, keeping modes, owners,
// symlinks and device nodes. At the top level it skips `skip_name` and /init:
// the agent itself is already running and nothing execs it again, so copying
// its ~9 MB would only cost boot time and guest memory.
void copy_tree(int src, int dst, const char* skip_name) {
  UniqueFd dup(::dup(src));
  DIR* d = ::fdopendir(dup.release());
  if (!d) throw std::runtime_error(errno_text("reading the initramfs"));
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || (skip_name && (name == skip_name || name == "init"))) continue;
    struct stat st {};
    if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      ::mkdirat(dst, name.c_str(), st.st_mode & 07777);
      UniqueFd s(::openat(src, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
      UniqueFd t(::openat(dst, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
      if (s && t) copy_tree(s.get(), t.get(), nullptr);
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd s(::openat(src, name.c_str(), O_RDONLY | O_CLOEXEC));
      UniqueFd t(::openat(dst, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                          st.st_mode & 07777));
      if (!s || !t) throw std::runtime_error(errno_text("copying /" + name + " off the initramfs"));
      char buf[1 << 16];
      for (ssize_t n; (n = ::read(s.get(), buf, sizeof buf)) > 0;)
        if (::write(t.get(), buf, static_cast<size_t>(n)) != n)
          throw std::runtime_error(errno_text("copying /" + name + " off the initramfs"));
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlinkat(src, name.c_str(), target, sizeof target - 1);
      if (n < 0) continue;
      target[n] = '\0';
      ::symlinkat(target, dst, name.c_str());
    } else {
      ::mknodat(dst, name.c_str(), st.st_mode, st.st_rdev);
    }
    ::fchownat(dst, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
  }
  ::closedir(d);
}

// Empties the directory `dir` (the old initramfs, as switch_root does) so its
// pages go back to the guest. Does not cross into other filesystems.
void remove_tree(int dir, const char* skip_name, dev_t dev) {
  UniqueFd dup(::dup(dir));
  DIR* d = ::fdopendir(dup.release());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || (skip_name && name == skip_name)) continue;
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != dev) continue;
    if (S_ISDIR(st.st_mode)) {
      UniqueFd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
      if (sub) remove_tree(sub.get(), nullptr, dev);
      ::unlinkat(dir, name.c_str(), AT_REMOVEDIR);
    } else {
      ::unlinkat(dir, name.c_str(), 0);
    }
  }
  ::closedir(d);
}

void mount_or_warn(const char* src, const char* dst, const char* type, unsigned long flags,
                   const char* data) {
  ::mkdir(dst, 0755);
  if (::mount(src, dst, type, flags, data) != 0 && errno != EBUSY)
    log_warning(errno_text(std::string("mounting ") + type + " on " + dst));
}

void lo_up() {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return;
  ifreq r{};
  std::strcpy(r.ifr_name, "lo");
  if (::ioctl(s.get(), SIOCGIFFLAGS, &r) != 0) return;
  r.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(s.get(), SIOCSIFFLAGS, &r) != 0) log_warning(errno_text("bringing lo up"));
}

// Free page reporting (virtio-balloon) hands free blocks of
// page_reporting_order pages back to hull-vmm, but only while the zone keeps
// 32 such blocks free above its low watermark. Linux 6.1 uses the pageblock
// order, 4 MiB in hull's guest kernel (no hugetlbfs): 128 MiB free, which a
// 128 MiB guest never has, so nothing would ever be reported. 2 MiB blocks
// (the host's transparent huge page, so a report frees whole huge pages)
// need 64 MiB. The parameter exists only with the balloon driver built in.
void tune_page_reporting() {
  const char* path = "/sys/module/page_reporting/parameters/page_reporting_order";
  UniqueFd fd(::open(path, O_RDWR | O_CLOEXEC));
  if (!fd) return;
  char current[16] = {};
  if (::read(fd.get(), current, sizeof current - 1) <= 0) return;
  const long page = ::sysconf(_SC_PAGESIZE);
  unsigned order = 0;
  while (page > 0 && (static_cast<long>(1) << order) * page < (2L << 20)) ++order;
  if (std::strtoul(current, nullptr, 10) <= order) return;
  const std::string value = std::to_string(order);
  if (::pwrite(fd.get(), value.data(), value.size(), 0) < 0) log_warning(errno_text(std::string("setting ") + path));
}

}  // namespace

bool root_is_initramfs() {
  struct statfs fs {};
  return ::statfs("/", &fs) == 0 && (fs.f_type == RAMFS_MAGIC || fs.f_type == TMPFS_MAGIC);
}

std::string write_boot_marker() {
  const char* node = "/dev/mem";
  const char* temp = "/.hull-mem";
  bool made = false;
  if (::access(node, F_OK) != 0) {
    if (::mknod(temp, S_IFCHR | 0600, makedev(1, 1)) != 0) return errno_text("mknod /dev/mem");
    node = temp;
    made = true;
  }
  UniqueFd fd(::open(node, O_RDWR | O_SYNC | O_CLOEXEC));
  if (made) ::unlink(temp);
  if (!fd) return errno_text("opening /dev/mem (the guest kernel needs CONFIG_DEVMEM=y)");
  long page = ::sysconf(_SC_PAGESIZE);
  void* p = ::mmap(nullptr, static_cast<size_t>(page), PROT_WRITE, MAP_SHARED, fd.get(),
                   static_cast<off_t>(kBootMarkerAddress));
  if (p == MAP_FAILED)
    return errno_text("mmap of the boot marker page (CONFIG_STRICT_DEVMEM may forbid it)");
  *static_cast<volatile unsigned char*>(p) = kBootMarkerValue;
  ::munmap(p, static_cast<size_t>(page));
  return "";
}

void init_guest() {
  // 1. Leave the initramfs: copy it into a tmpfs and make that the root
  //    (what switch_root does), so containers can pivot_root later.
  if (root_is_initramfs()) {
    const char* newroot = "/.hull-root";
    ::mkdir(newroot, 0755);
    if (::mount("rootfs", newroot, "tmpfs", MS_NOSUID, "mode=0755") != 0)
      throw std::runtime_error(errno_text("mounting the tmpfs root"));
    UniqueFd from(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    UniqueFd to(::open(newroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    copy_tree(from.get(), to.get(), ".hull-root");
    struct stat root_st {};
    if (::fstat(from.get(), &root_st) == 0) remove_tree(from.get(), ".hull-root", root_st.st_dev);
    if (::chdir(newroot) != 0 || ::mount(newroot, "/", nullptr, MS_MOVE, nullptr) != 0 ||
        ::chroot(".") != 0 || ::chdir("/") != 0)
      throw std::runtime_error(errno_text("moving the root onto the tmpfs"));
  }
  // 2. The usual mounts.
  mount_or_warn("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  mount_or_warn("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  tune_page_reporting();
  mount_or_warn("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  mount_or_warn("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                "ptmxmode=0666,mode=0620,gid=5");
  mount_or_warn("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  mount_or_warn("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  mount_or_warn("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  mount_or_warn("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "nsdelegate");
  // 3. The console as stdio when the kernel found no /dev/console in the initramfs.
  if (::fcntl(2, F_GETFD) < 0) {
    int c = ::open("/dev/console", O_RDWR | O_NOCTTY);
    if (c >= 0) {
      ::dup2(c, 0);
      ::dup2(c, 1);
      ::dup2(c, 2);
      if (c > 2) ::close(c);
    }
  }
  lo_up();
}

void power_off() {
  ::sync();
  ::reboot(RB_AUTOBOOT);
  ::_exit(1);  // not reached unless reboot failed
}

}  // namespace hull::agent
