/* blk-bench: guest-side virtio-blk throughput for the virtio benchmark.
 *   blk-bench seq DEV MIB      O_DIRECT sequential reads of 1 MiB: MiB/s
 *   blk-bench rand DEV COUNT   O_DIRECT random 4 KiB reads: IOPS
 * Prints one "BENCH <name>=<value>" line. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: blk-bench seq|rand DEV N\n");
    return 2;
  }
  int fd = open(argv[2], O_RDONLY | O_DIRECT);
  if (fd < 0) { perror(argv[2]); return 2; }
  uint64_t size = 0;
  if (ioctl(fd, BLKGETSIZE64, &size) != 0) { perror("BLKGETSIZE64"); return 2; }
  void *buf;
  if (posix_memalign(&buf, 4096, 1 << 20) != 0) return 2;
  long n = atol(argv[3]);
  double t0 = now();
  if (strcmp(argv[1], "seq") == 0) {
    uint64_t off = 0;
    for (long i = 0; i < n; i++) {
      if (off + (1 << 20) > size) off = 0;
      if (pread(fd, buf, 1 << 20, (off_t)off) != (1 << 20)) { perror("pread"); return 1; }
      off += 1 << 20;
    }
    printf("BENCH blk_seq_read_mibs=%.1f\n", n / (now() - t0));
  } else {
    uint64_t x = 88172645463325252ull, blocks = size / 4096;
    for (long i = 0; i < n; i++) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      if (pread(fd, buf, 4096, (off_t)((x % blocks) * 4096)) != 4096) { perror("pread"); return 1; }
    }
    printf("BENCH blk_rand4k_read_iops=%.0f\n", n / (now() - t0));
  }
  return 0;
}
