/* make-tree: writes the file tree of tools/bench/virtiofs's "100 MB image", the same bytes on
 * every run (a fixed-seed xorshift generator, so no compression or deduplication helps either
 * file system): DIR/big/large.bin of LARGE_MIB, and DIR/small/dNNN/fNNNNN files of mixed sizes
 * (log-uniform from 512 B to 128 KiB, 100 per directory) until DIR holds TOTAL_MIB.
 * Built static by tools/bench/virtiofs and run in the nested L1 (no python there), where
 * generating is much cheaper than shipping 100 MB in the L1's initramfs.
 * usage: make-tree DIR TOTAL_MIB LARGE_MIB
 * prints: "TREE files=N bytes=B large_bytes=L small_files=S small_bytes=SB" */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t state = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static int fail(const char* what, const char* path) {
  fprintf(stderr, "make-tree: %s %s: %s\n", what, path, strerror(errno));
  return 1;
}

/* Writes SIZE pseudo-random bytes to a new file at PATH. */
static int write_file(const char* path, uint64_t size) {
  static uint64_t block[8192]; /* 64 KiB */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create", path);
  while (size > 0) {
    size_t n = size < sizeof block ? (size_t)size : sizeof block;
    for (size_t i = 0; i < (n + 7) / 8; i++) block[i] = next_random();
    const char* p = (const char*)block;
    size_t left = n;
    while (left > 0) {
      ssize_t w = write(fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        close(fd);
        return fail("cannot write", path);
      }
      p += w;
      left -= (size_t)w;
    }
    size -= n;
  }
  if (close(fd) != 0) return fail("cannot close", path);
  return 0;
}

static int make_dir(const char* path) {
  if (mkdir(path, 0755) != 0 && errno != EEXIST) return fail("cannot create directory", path);
  return 0;
}

static int parse_mib(const char* text, const char* what, uint64_t* out) {
  char* end = NULL;
  unsigned long long v = strtoull(text, &end, 10);
  if (!*text || *end || v > (1u << 20)) {
    fprintf(stderr, "make-tree: %s must be a whole number of MiB, not '%s'\n", what, text);
    return 1;
  }
  *out = (uint64_t)v << 20;
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: make-tree DIR TOTAL_MIB LARGE_MIB\n");
    return 2;
  }
  uint64_t total = 0, large = 0;
  if (parse_mib(argv[2], "TOTAL_MIB", &total) || parse_mib(argv[3], "LARGE_MIB", &large)) return 2;
  if (large > total) {
    fprintf(stderr, "make-tree: LARGE_MIB (%s) must not exceed TOTAL_MIB (%s)\n", argv[3], argv[2]);
    return 2;
  }
  char path[4096];
  const char* dir = argv[1];
  if (strlen(dir) > 3000) {
    fprintf(stderr, "make-tree: DIR is too long\n");
    return 2;
  }
  if (make_dir(dir)) return 1;
  snprintf(path, sizeof path, "%s/big", dir);
  if (make_dir(path)) return 1;
  snprintf(path, sizeof path, "%s/big/large.bin", dir);
  if (large > 0 && write_file(path, large)) return 1;
  snprintf(path, sizeof path, "%s/small", dir);
  if (make_dir(path)) return 1;
  uint64_t written = large, small_files = 0;
  while (written < total) {
    if (small_files % 100 == 0) {
      snprintf(path, sizeof path, "%s/small/d%03llu", dir, (unsigned long long)(small_files / 100));
      if (make_dir(path)) return 1;
    }
    unsigned shift = 9 + (unsigned)(next_random() % 8); /* 512 B .. 64 KiB, then up to 2x */
    uint64_t size = (1ull << shift) + next_random() % (1ull << shift);
    if (size > total - written) size = total - written;
    snprintf(path, sizeof path, "%s/small/d%03llu/f%05llu", dir, (unsigned long long)(small_files / 100),
             (unsigned long long)small_files);
    if (write_file(path, size)) return 1;
    written += size;
    small_files++;
  }
  printf("TREE files=%llu bytes=%llu large_bytes=%llu small_files=%llu small_bytes=%llu\n",
         (unsigned long long)(small_files + (large > 0)), (unsigned long long)written, (unsigned long long)large,
         (unsigned long long)small_files, (unsigned long long)(written - large));
  return 0;
}
