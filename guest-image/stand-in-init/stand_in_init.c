// hull-guest stand-in init: a placeholder for hull-agent as the guest's /init
// until the agent exists. It proves the kernel reached userspace and ends the
// VM: mount the API filesystems, write the boot marker, print the marker line,
// reboot (hull-vmm treats a guest reboot as a clean stop).
//
// The boot marker is the byte 123 written to a fixed MMIO address
// (DESIGN.md, "Interfaces"); userspace reaches MMIO through /dev/mem
// (CONFIG_DEVMEM), as Firecracker's test init does.
//
// With "hull.dump_kmsg" on the kernel command line it prints the kernel log
// before rebooting, so boot-time measurements can read initcall_debug timings
// without paying for a slow serial console during the boot itself.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#define BOOT_MARKER_ADDR 0xd0000000UL
#elif defined(__aarch64__)
#define BOOT_MARKER_ADDR 0x40000000UL
#else
#error "hull guests are x86_64 or aarch64"
#endif
#define BOOT_MARKER_VALUE 123

static void mount_api_fs(const char* source, const char* target, const char* type) {
  mkdir(target, 0755);  // usually already in the initramfs
  if (mount(source, target, type, MS_NOSUID | MS_NOEXEC, NULL) != 0 && errno != EBUSY)
    fprintf(stderr, "hull-guest: mount %s on %s: %s\n", type, target, strerror(errno));
}

// Returns 0 on success; on failure prints why (the VMM then only misses the
// timestamp, the boot itself goes on).
static int write_boot_marker(void) {
  int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "hull-guest: boot marker: open /dev/mem: %s\n", strerror(errno));
    return -1;
  }
  long page = sysconf(_SC_PAGESIZE);
  void* map = mmap(NULL, (size_t)page, PROT_WRITE, MAP_SHARED, fd, (off_t)BOOT_MARKER_ADDR);
  int saved = errno;
  close(fd);
  if (map == MAP_FAILED) {
    fprintf(stderr, "hull-guest: boot marker: mmap 0x%lx: %s\n", BOOT_MARKER_ADDR, strerror(saved));
    return -1;
  }
  *(volatile uint8_t*)map = BOOT_MARKER_VALUE;
  munmap(map, (size_t)page);
  return 0;
}

static int cmdline_has(const char* word) {
  char line[4096];
  FILE* f = fopen("/proc/cmdline", "re");
  if (f == NULL) return 0;
  size_t n = fread(line, 1, sizeof line - 1, f);
  fclose(f);
  line[n] = '\0';
  size_t len = strlen(word);
  for (char* p = strtok(line, " \n"); p != NULL; p = strtok(NULL, " \n"))
    if (strncmp(p, word, len) == 0 && p[len] == '\0') return 1;
  return 0;
}

// Copies the kernel log (/dev/kmsg records, "level,seq,usecs,flags;text") to
// stdout, stopping when the buffer is drained.
static void dump_kmsg(void) {
  int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "hull-guest: open /dev/kmsg: %s\n", strerror(errno));
    return;
  }
  char record[8192];
  for (;;) {
    ssize_t n = read(fd, record, sizeof record - 1);
    if (n < 0 && errno == EPIPE) continue;  // overwritten records: skip ahead
    if (n <= 0) break;
    record[n] = '\0';
    printf("kmsg: %s", record);
  }
  close(fd);
  fflush(stdout);
}

int main(void) {
  mount_api_fs("devtmpfs", "/dev", "devtmpfs");
  mount_api_fs("proc", "/proc", "proc");
  mount_api_fs("sysfs", "/sys", "sysfs");
  write_boot_marker();

  struct timespec since_boot;
  clock_gettime(CLOCK_BOOTTIME, &since_boot);
  printf("hull-guest: init reached (stand-in init, %ld.%03ld s after kernel start)\n",
         (long)since_boot.tv_sec, since_boot.tv_nsec / 1000000L);
  fflush(stdout);
  if (cmdline_has("hull.dump_kmsg")) dump_kmsg();

  reboot(RB_AUTOBOOT);
  // Only reached when reboot failed; PID 1 exiting panics the kernel, and
  // PANIC_TIMEOUT=-1 turns that into a reboot too.
  fprintf(stderr, "hull-guest: reboot: %s\n", strerror(errno));
  return 1;
}
