/* agent-dial-timer: runs a VMM command and times the guest agent's readiness the
 * way the shim sees it. From just before exec it prints every line the VMM writes
 * (its log and the guest console) with a millisecond stamp, and meanwhile dials
 * the guest over the VMM's hybrid vsock socket every 20 ms, as the shim does
 * ("CONNECT <port>\n" -> "OK ..."), and then waits for the agent's gRPC server to
 * answer an HTTP/2 client preface with its SETTINGS frame (the agent serves).
 * Then it kills the VMM and prints one line:
 *   RESULT connect_ms=N grpc_ms=N exit_ms=N
 * Built statically by guest-image/boot-timeline so it runs in the nested L1.
 * usage: agent-dial-timer --vsock UDS [--port N] [--interval MS] [--timeout S] -- CMD ARGS...
 *   --interval: pause between dial attempts (default 20 ms, the shim's) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "agent-dial-timer: %s: %s\n", what, strerror(errno));
  exit(2);
}

enum dial_state { IDLE, WAIT_OK, WAIT_SETTINGS, DONE };

int main(int argc, char **argv) {
  const char *uds = NULL;
  int port = 1024, timeout_s = 120, interval_ms = 20, i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (!strcmp(argv[i], "--vsock") && i + 1 < argc) uds = argv[++i];
    else if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout_s = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--interval") && i + 1 < argc) interval_ms = atoi(argv[++i]);
    else { fprintf(stderr, "agent-dial-timer: unknown argument %s\n", argv[i]); return 2; }
  }
  if (!uds || i + 1 >= argc) {
    fprintf(stderr, "usage: agent-dial-timer --vsock UDS [--port N] [--interval MS] [--timeout S] -- CMD ARGS...\n");
    return 2;
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) die("pipe");
  const double t0 = now_ms();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    execvp(argv[i + 1], argv + i + 1);
    _exit(127);
  }
  close(out[1]);

  enum dial_state state = IDLE;
  int dial = -1;
  double next_dial = t0, connect_ms = -1, grpc_ms = -1, killed_at = -1;
  char line[4096], reply[256];
  size_t line_len = 0, reply_len = 0;
  int out_open = 1;
  while (out_open) {
    double t = now_ms();
    if (t - t0 > timeout_s * 1e3 && killed_at < 0) {
      fprintf(stdout, "[%9.1f ms] agent-dial-timer: timeout, killing the VMM\n", t - t0);
      kill(pid, SIGKILL);
      killed_at = t;
    }
    if (state == IDLE && t >= next_dial) {
      struct sockaddr_un addr = {.sun_family = AF_UNIX};
      snprintf(addr.sun_path, sizeof addr.sun_path, "%s", uds);
      dial = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (dial < 0) die("socket");
      char req[32];
      int n = snprintf(req, sizeof req, "CONNECT %d\n", port);
      if (connect(dial, (struct sockaddr *)&addr, sizeof addr) == 0 &&
          send(dial, req, n, MSG_NOSIGNAL) == n) {
        state = WAIT_OK;
        reply_len = 0;
      } else {
        close(dial);
        dial = -1;
        next_dial = t + interval_ms;
      }
    }
    struct pollfd p[2] = {{out[0], POLLIN, 0}, {dial, POLLIN, 0}};
    int nfds = (state == WAIT_OK || state == WAIT_SETTINGS) ? 2 : 1;
    if (poll(p, nfds, 10) < 0 && errno != EINTR) die("poll");
    t = now_ms();
    if (p[0].revents) {
      char buf[4096];
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0) out_open = 0;
      for (ssize_t k = 0; k < n; k++) {
        if (buf[k] == '\n' || line_len == sizeof line - 1) {
          line[line_len] = 0;
          if (line_len && line[line_len - 1] == '\r') line[line_len - 1] = 0;
          fprintf(stdout, "[%9.1f ms] %s\n", t - t0, line);
          line_len = 0;
        } else {
          line[line_len++] = buf[k];
        }
      }
      fflush(stdout);
    }
    if (nfds == 2 && p[1].revents) {
      ssize_t n = recv(dial, reply + reply_len, sizeof reply - reply_len, 0);
      if (n <= 0) {  // refused (nothing listening yet) or closed: dial again later
        close(dial);
        dial = -1;
        state = IDLE;
        next_dial = t + interval_ms;
        continue;
      }
      reply_len += n;
      if (state == WAIT_OK) {
        char *nl = memchr(reply, '\n', reply_len);
        if (!nl) continue;
        if (strncmp(reply, "OK ", 3) != 0) {
          close(dial);
          dial = -1;
          state = IDLE;
          next_dial = t + interval_ms;
          continue;
        }
        connect_ms = t - t0;
        fprintf(stdout, "[%9.1f ms] agent-dial-timer: vsock CONNECT %d answered OK\n", t - t0, port);
        /* HTTP/2 preface and an empty SETTINGS frame: a gRPC server answers with its SETTINGS. */
        static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
        if (send(dial, preface, sizeof preface - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof preface - 1))
          die("send preface");
        size_t rest = reply_len - (size_t)(nl + 1 - reply);
        memmove(reply, nl + 1, rest);
        reply_len = rest;
        state = WAIT_SETTINGS;
      }
      if (state == WAIT_SETTINGS && reply_len >= 9) {
        if (reply[3] != 4) {
          fprintf(stdout, "[%9.1f ms] agent-dial-timer: first HTTP/2 frame has type %d, not SETTINGS\n",
                  t - t0, reply[3]);
        }
        grpc_ms = t - t0;
        fprintf(stdout, "[%9.1f ms] agent-dial-timer: the agent's gRPC server answered (SETTINGS)\n",
                t - t0);
        state = DONE;
        close(dial);
        dial = -1;
        kill(pid, SIGKILL);
        killed_at = t;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  printf("RESULT connect_ms=%.1f grpc_ms=%.1f exit_ms=%.1f\n", connect_ms, grpc_ms, now_ms() - t0);
  return grpc_ms >= 0 ? 0 : 1;
}
