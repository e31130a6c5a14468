/* boot-timer: runs a VMM command and measures, from just before exec:
 *   api_ready_ms  - when the unix socket --socket PATH appears (optional)
 *   marker_ms     - when a line containing --marker STRING appears on its stdout
 *   exit_ms       - when it exits (or is killed after the marker with --kill-after-marker)
 * plus the process's RssAnon/RssFile/RssShmem (KiB) sampled at the marker.
 * --ready-file PATH creates PATH when the marker arrives, so a script running many
 * timers at once (tools/bench/oci-run's scaling curve) sees each start as it happens.
 * Prints one JSON object. Built statically by tools/bench/vmm-boot so it runs in the L1.
 * usage: boot-timer [--socket PATH] [--kill-after-socket] [--marker STRING] [--kill-after-marker]
 *                   [--ready-file PATH] [--timeout S] -- CMD ARGS... */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long status_kib(pid_t pid, const char *field) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long v = -1;
  size_t n = strlen(field);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':') v = strtol(line + n + 1, NULL, 10);
  fclose(f);
  return v;
}

int main(int argc, char **argv) {
  const char *sock = NULL, *marker = NULL, *ready_file = NULL;
  int kill_after = 0, kill_after_socket = 0, timeout_s = 300, i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (!strcmp(argv[i], "--socket") && i + 1 < argc) sock = argv[++i];
    else if (!strcmp(argv[i], "--marker") && i + 1 < argc) marker = argv[++i];
    else if (!strcmp(argv[i], "--kill-after-marker")) kill_after = 1;
    else if (!strcmp(argv[i], "--ready-file") && i + 1 < argc) ready_file = argv[++i];
    else if (!strcmp(argv[i], "--kill-after-socket")) kill_after_socket = 1;
    else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout_s = atoi(argv[++i]);
    else { fprintf(stderr, "boot-timer: unknown argument %s\n", argv[i]); return 2; }
  }
  if (i + 1 >= argc) { fprintf(stderr, "boot-timer: no command after --\n"); return 2; }
  int out[2];
  if (pipe(out) != 0) return 2;
  if (sock) unlink(sock);
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    execvp(argv[i + 1], argv + i + 1);
    _exit(127);
  }
  close(out[1]);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  double api = -1, mark = -1, done = -1;
  long anon = -1, file = -1, shmem = -1;
  char line[4096];
  size_t len = 0;
  int status = 0, open_pipe = 1;
  for (;;) {
    double t = now_ms() - t0;
    if (t > timeout_s * 1e3) { kill(pid, SIGKILL); waitpid(pid, &status, 0); done = -1; break; }
    if (sock && api < 0) {
      struct stat st;
      if (stat(sock, &st) == 0) {
        api = now_ms() - t0;
        anon = status_kib(pid, "RssAnon");
        file = status_kib(pid, "RssFile");
        shmem = status_kib(pid, "RssShmem");
        if (kill_after_socket) kill(pid, SIGKILL);
      }
    }
    struct pollfd p = {out[0], POLLIN, 0};
    if (open_pipe && poll(&p, 1, (sock && api < 0) ? 0 : 5) > 0) {
      char buf[4096];
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0) open_pipe = 0;
      for (ssize_t k = 0; k < n; k++) {
        if (buf[k] == '\n' || len == sizeof line - 1) {
          line[len] = 0;
          if (marker && mark < 0 && strstr(line, marker)) {
            mark = now_ms() - t0;
            anon = status_kib(pid, "RssAnon");
            file = status_kib(pid, "RssFile");
            shmem = status_kib(pid, "RssShmem");
            if (ready_file) {
              int fd = open(ready_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
              if (fd >= 0) close(fd);
            }
            if (kill_after) kill(pid, SIGKILL);
          }
          len = 0;
        } else {
          line[len++] = buf[k];
        }
      }
    } else if (sock && api < 0) {
      usleep(200);
    }
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) { done = now_ms() - t0; break; }
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("{\"api_ready_ms\": %.2f, \"marker_ms\": %.2f, \"exit_ms\": %.2f, \"exit_status\": %d, "
         "\"rss_anon_kib\": %ld, \"rss_file_kib\": %ld, \"rss_shmem_kib\": %ld}\n",
         api, mark, done, code, anon, file, shmem);
  return 0;
}
