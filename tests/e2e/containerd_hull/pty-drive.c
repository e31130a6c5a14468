/* pty-drive: runs a command on a new pseudo-terminal and drives it like a
 * person at a terminal would (the L1 has no python or expect for this). Used
 * by the containerd_hull e2e case run-tty to test `ctr run -t`.
 *
 *   pty-drive [-r ROWS] [-c COLS] [-t SECONDS] STEP... -- COMMAND [ARGS...]
 *
 * Steps, in order:
 *   expect=TEXT   wait until the output since the last match contains TEXT
 *   send=TEXT     type TEXT ("\r", "\n", "\\" escapes are understood)
 *   resize=RxC    set the terminal to R rows and C columns (the kernel sends
 *                 SIGWINCH to the command, as a terminal emulator does)
 * Everything the command prints is copied to stdout. Exits with the
 * command's exit status, 124 when a step timed out (default 120 s each),
 * 2 for bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static char seen[1 << 16]; /* output since the last match (a sliding window) */
static size_t seen_len;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void remember(const char* data, size_t n) {
  if (n >= sizeof seen) {
    data += n - (sizeof seen - 1);
    n = sizeof seen - 1;
  }
  if (seen_len + n >= sizeof seen) {
    size_t drop = seen_len + n - (sizeof seen - 1);
    memmove(seen, seen + drop, seen_len - drop);
    seen_len -= drop;
  }
  memcpy(seen + seen_len, data, n);
  seen_len += n;
  seen[seen_len] = '\0';
}

/* Reads what the command printed for up to `timeout` seconds; -1 at EOF. */
static int pump(int master, double timeout) {
  struct pollfd p = {master, POLLIN, 0};
  int r = poll(&p, 1, (int)(timeout * 1000));
  if (r <= 0) return 0;
  char buf[4096];
  ssize_t n = read(master, buf, sizeof buf);
  if (n <= 0) return -1; /* EIO once the last slave fd is closed */
  fwrite(buf, 1, (size_t)n, stdout);
  fflush(stdout);
  remember(buf, (size_t)n);
  return 1;
}

static size_t unescape(const char* in, char* out) {
  size_t n = 0;
  for (; *in; ++in) {
    if (*in == '\\' && in[1]) {
      ++in;
      out[n++] = *in == 'r' ? '\r' : *in == 'n' ? '\n' : *in;
    } else {
      out[n++] = *in;
    }
  }
  return n;
}

int main(int argc, char** argv) {
  struct winsize ws = {24, 80, 0, 0};
  double step_timeout = 120;
  int opt;
  while ((opt = getopt(argc, argv, "+r:c:t:")) != -1) {
    if (opt == 'r') ws.ws_row = (unsigned short)atoi(optarg);
    else if (opt == 'c') ws.ws_col = (unsigned short)atoi(optarg);
    else if (opt == 't') step_timeout = atof(optarg);
    else return 2;
  }
  int first_step = optind, dashes = optind;
  while (dashes < argc && strcmp(argv[dashes], "--") != 0) ++dashes;
  if (dashes + 1 >= argc) {
    fprintf(stderr, "usage: pty-drive [-r ROWS] [-c COLS] [-t SECONDS] STEP... -- COMMAND [ARGS...]\n");
    return 2;
  }

  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    perror("pty-drive: cannot open a pseudo-terminal (is /dev/pts mounted?)");
    return 1;
  }
  ioctl(master, TIOCSWINSZ, &ws);
  const char* slave_name = ptsname(master);
  pid_t child = fork();
  if (child < 0) {
    perror("pty-drive: fork");
    return 1;
  }
  if (child == 0) {
    setsid();
    int slave = open(slave_name, O_RDWR); /* becomes the controlling terminal */
    if (slave < 0) _exit(126);
    ioctl(slave, TIOCSCTTY, 0);
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    if (slave > 2) close(slave);
    execvp(argv[dashes + 1], argv + dashes + 1);
    perror("pty-drive: exec");
    _exit(127);
  }

  int eof = 0;
  for (int i = first_step; i < dashes; ++i) {
    const char* step = argv[i];
    if (strncmp(step, "expect=", 7) == 0) {
      const char* want = step + 7;
      double deadline = now() + step_timeout;
      char* hit;
      while (!(hit = strstr(seen, want))) {
        if (eof || now() > deadline) {
          fprintf(stderr, "\npty-drive: timed out waiting for \"%s\"%s\n", want, eof ? " (the command closed the terminal)" : "");
          kill(child, SIGKILL);
          waitpid(child, NULL, 0);
          return 124;
        }
        if (pump(master, 0.2) < 0) eof = 1;
      }
      size_t consumed = (size_t)(hit - seen) + strlen(want);
      memmove(seen, seen + consumed, seen_len - consumed + 1);
      seen_len -= consumed;
    } else if (strncmp(step, "send=", 5) == 0) {
      char buf[4096];
      size_t n = unescape(step + 5, buf);
      if (write(master, buf, n) != (ssize_t)n) perror("pty-drive: write");
    } else if (strncmp(step, "resize=", 7) == 0) {
      unsigned rows, cols;
      if (sscanf(step + 7, "%ux%u", &rows, &cols) != 2) {
        fprintf(stderr, "pty-drive: bad step %s (resize=ROWSxCOLS)\n", step);
        kill(child, SIGKILL);
        return 2;
      }
      ws.ws_row = (unsigned short)rows;
      ws.ws_col = (unsigned short)cols;
      ioctl(master, TIOCSWINSZ, &ws);
    } else {
      fprintf(stderr, "pty-drive: unknown step %s\n", step);
      kill(child, SIGKILL);
      return 2;
    }
  }
  /* Drain until the command exits and its terminal closes. */
  double deadline = now() + step_timeout;
  int status = 0;
  for (;;) {
    if (!eof && pump(master, 0.2) < 0) eof = 1;
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) {
      while (!eof && pump(master, 0.2) > 0) {
      }
      break;
    }
    if (eof) usleep(100000);
    if (now() > deadline) {
      fprintf(stderr, "\npty-drive: the command did not exit\n");
      kill(child, SIGKILL);
      waitpid(child, NULL, 0);
      return 124;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
