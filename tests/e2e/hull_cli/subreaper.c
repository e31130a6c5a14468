/* subreaper: stands in for conmon in the hull CLI e2e test. Becomes a child
 * subreaper (as conmon does), runs `hull create ... --pid-file FILE`, which
 * leaves its keeper process behind as an orphan that gets re-parented to us,
 * then waits for that pid and prints its exit status the way conmon reports
 * it ("exit N", 128+n for a signal).
 * usage: subreaper PIDFILE STATUSFILE -- COMMAND... ; STATUSFILE gets "exit N".
 * Runs in the background from the test shell: `subreaper ... &`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: subreaper PIDFILE STATUSFILE -- COMMAND...\n");
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) { perror("prctl"); return 2; }
  pid_t cmd = fork();
  if (cmd == 0) { execvp(argv[4], argv + 4); perror(argv[4]); _exit(127); }
  int status = 0;
  while (waitpid(cmd, &status, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "subreaper: %s failed (status %d)\n", argv[4], status);
    return 3;
  }
  FILE* f = fopen(argv[1], "r");
  int pid = 0;
  if (!f || fscanf(f, "%d", &pid) != 1) { fprintf(stderr, "subreaper: no pid in %s\n", argv[1]); return 3; }
  fclose(f);
  /* Reap whatever else gets re-parented to us; stop at the keeper. */
  for (;;) {
    pid_t got = waitpid(-1, &status, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "subreaper: pid %d was not re-parented to us\n", pid);
      return 3;
    }
    if (got == pid) break;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  FILE* out = fopen(argv[2], "w");
  if (!out) { perror(argv[2]); return 3; }
  fprintf(out, "exit %d\n", code);
  fclose(out);
  return 0;
}
