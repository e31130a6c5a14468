/* A CNI plugin for the bad-input case: chained after the bridge, its ADD
 * deletes the pod's network namespace (unmounts and unlinks CNI_NETNS) and
 * passes the previous result on, so containerd starts the pod's sandbox with
 * a namespace that has vanished. DEL and CHECK succeed doing nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static char input[1 << 20];

/* Writes the JSON object that follows "prevResult": in `json` to stdout. */
static int print_prev_result(const char *json) {
  const char *p = strstr(json, "\"prevResult\"");
  if (!p) return -1;
  p = strchr(p + strlen("\"prevResult\""), '{');
  if (!p) return -1;
  int depth = 0, in_string = 0;
  for (const char *q = p; *q; ++q) {
    if (in_string) {
      if (*q == '\\' && q[1]) ++q;
      else if (*q == '"') in_string = 0;
      continue;
    }
    if (*q == '"') in_string = 1;
    else if (*q == '{') ++depth;
    else if (*q == '}' && --depth == 0) {
      fwrite(p, 1, (size_t)(q - p + 1), stdout);
      return 0;
    }
  }
  return -1;
}

int main(void) {
  const char *command = getenv("CNI_COMMAND");
  if (!command) return 1;
  if (strcmp(command, "VERSION") == 0) {
    puts("{\"cniVersion\": \"0.4.0\", \"supportedVersions\": [\"0.3.0\", \"0.3.1\", \"0.4.0\"]}");
    return 0;
  }
  if (strcmp(command, "ADD") != 0) return 0;
  size_t n = fread(input, 1, sizeof(input) - 1, stdin);
  input[n] = '\0';
  const char *netns = getenv("CNI_NETNS");
  if (netns && *netns) {
    umount2(netns, MNT_DETACH);
    unlink(netns);
    fprintf(stderr, "vanish-netns: removed %s\n", netns);
  }
  if (print_prev_result(input) != 0) {
    puts("{\"code\": 100, \"msg\": \"vanish-netns: no prevResult in the config (chain it after the bridge)\"}");
    return 1;
  }
  return 0;
}
