/* vsock-tool: moves N bytes over a stream and checks that both ends saw the
 * same data. Built static, it runs both in the guest (AF_VSOCK) and on the
 * host (the VMM's hybrid unix socket), for the virtio-vsock e2e case.
 *
 *   vsock-tool listen-vsock PORT ROLE       guest: accept one connection
 *   vsock-tool connect-vsock CID PORT ROLE  guest: connect (CID 2 = host)
 *   vsock-tool listen-unix PATH ROLE        host: <uds>_<port> listener
 *   vsock-tool connect-hybrid UDS PORT ROLE host: "CONNECT <port>\n", "OK ..."
 * ROLE is "send N" (N pseudo-random bytes, then half-close, then read the
 * receiver's checksum line and compare) or "recv" (read to EOF, answer with
 * "fnv=<hex> bytes=<n>\n"). Exit 0 when the checksums match. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static void die(const char *what) {
  fprintf(stderr, "vsock-tool: %s: %s\n", what, strerror(errno));
  exit(2);
}

static uint64_t fnv_update(uint64_t h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ull; }
  return h;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w; n -= (size_t)w;
  }
  return 0;
}

static int run_send(int fd, uint64_t total) {
  static unsigned char buf[65536];
  uint64_t x = 0x9e3779b97f4a7c15ull, h = 0xcbf29ce484222325ull, sent = 0;
  double t0 = now();
  while (sent < total) {
    size_t n = total - sent < sizeof buf ? (size_t)(total - sent) : sizeof buf;
    for (size_t i = 0; i < n; i += 8) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      memcpy(buf + i, &x, n - i < 8 ? n - i : 8);
    }
    h = fnv_update(h, buf, n);
    if (write_all(fd, buf, n) != 0) die("write");
    sent += n;
  }
  shutdown(fd, SHUT_WR);
  double secs = now() - t0;
  char line[128] = {0};
  size_t got = 0;
  while (got < sizeof line - 1) {
    ssize_t r = read(fd, line + got, sizeof line - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
    if (memchr(line, '\n', got)) break;
  }
  char mine[64];
  snprintf(mine, sizeof mine, "fnv=%016llx bytes=%llu", (unsigned long long)h, (unsigned long long)total);
  if (strncmp(line, mine, strlen(mine)) != 0) {
    printf("VSOCK-MISMATCH sent %s, receiver said '%s'\n", mine, line);
    return 1;
  }
  printf("VSOCK-MATCH %s in %.2f s (%.1f MiB/s)\n", mine, secs, total / 1048576.0 / (secs > 0 ? secs : 1e-9));
  return 0;
}

static int run_recv(int fd) {
  static unsigned char buf[65536];
  uint64_t h = 0xcbf29ce484222325ull, total = 0;
  double t0 = 0;  /* from the first byte: the receiver's view of the data path */
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("read");
    if (r == 0) break;
    if (total == 0) t0 = now();
    h = fnv_update(h, buf, (size_t)r);
    total += (uint64_t)r;
  }
  double secs = total ? now() - t0 : 0;
  char line[64];
  int n = snprintf(line, sizeof line, "fnv=%016llx bytes=%llu\n", (unsigned long long)h, (unsigned long long)total);
  write_all(fd, line, (size_t)n);
  printf("VSOCK-RECEIVED %.*s received in %.2f s (%.1f MiB/s)\n", n - 1, line, secs,
         total / 1048576.0 / (secs > 0 ? secs : 1e-9));
  return 0;
}

static int run_role(int fd, int argc, char **argv, int at) {
  if (at < argc && strcmp(argv[at], "recv") == 0) return run_recv(fd);
  if (at + 1 < argc && strcmp(argv[at], "send") == 0) return run_send(fd, strtoull(argv[at + 1], NULL, 10));
  fprintf(stderr, "vsock-tool: ROLE must be 'recv' or 'send N'\n");
  return 2;
}

static void unix_addr(struct sockaddr_un *a, const char *path) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 3) {
    fprintf(stderr, "usage: vsock-tool listen-vsock PORT ROLE | connect-vsock CID PORT ROLE |\n"
                    "       listen-unix PATH ROLE | connect-hybrid UDS PORT ROLE   (ROLE: recv | send N)\n");
    return 2;
  }
  const char *mode = argv[1];
  if (strcmp(mode, "listen-vsock") == 0) {
    int s = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (s < 0) die("socket(AF_VSOCK)");
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = (unsigned)atoi(argv[2])};
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) die("bind/listen vsock");
    int c = accept(s, NULL, NULL);
    if (c < 0) die("accept");
    return run_role(c, argc, argv, 3);
  }
  if (strcmp(mode, "connect-vsock") == 0 && argc > 3) {
    /* The peer may not listen yet: retry for a while. */
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = (unsigned)atoi(argv[2]), .svm_port = (unsigned)atoi(argv[3])};
    for (int attempt = 0;; attempt++) {
      int s = socket(AF_VSOCK, SOCK_STREAM, 0);
      if (s < 0) die("socket(AF_VSOCK)");
      if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) return run_role(s, argc, argv, 4);
      if (attempt == 600) die("connect vsock");
      close(s);
      usleep(200000);
    }
  }
  if (strcmp(mode, "listen-unix") == 0) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    unix_addr(&a, argv[2]);
    unlink(argv[2]);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) die("bind/listen unix");
    int c = accept(s, NULL, NULL);
    if (c < 0) die("accept");
    return run_role(c, argc, argv, 3);
  }
  if (strcmp(mode, "connect-hybrid") == 0 && argc > 3) {
    /* The guest may not listen yet: retry the whole handshake for a while. */
    for (int attempt = 0; attempt < 600; attempt++) {
      int s = socket(AF_UNIX, SOCK_STREAM, 0);
      struct sockaddr_un a;
      unix_addr(&a, argv[2]);
      if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
        char cmd[64], reply[64] = {0};
        int n = snprintf(cmd, sizeof cmd, "CONNECT %s\n", argv[3]);
        write_all(s, cmd, (size_t)n);
        size_t got = 0;
        while (got < sizeof reply - 1) {
          ssize_t r = read(s, reply + got, 1);
          if (r <= 0) break;
          if (reply[got++] == '\n') break;
        }
        if (strncmp(reply, "OK ", 3) == 0) return run_role(s, argc, argv, 4);
      }
      close(s);
      usleep(200000);
    }
    fprintf(stderr, "vsock-tool: no connection to guest port %s through %s\n", argv[3], argv[2]);
    return 2;
  }
  fprintf(stderr, "vsock-tool: unknown mode %s\n", mode);
  return 2;
}
