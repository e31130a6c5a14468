/* console-recv: the receiving end of runc's --console-socket, as conmon is in
 * the hull CLI e2e test. Listens on SOCKET, takes one pty master sent with
 * SCM_RIGHTS, sets its window size to ROWSxCOLS, writes INPUT to it, then
 * copies everything the container prints to OUTFILE until the terminal closes.
 * usage: console-recv SOCKET OUTFILE ROWS COLS INPUT   (run it in the background) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 6) { fprintf(stderr, "usage: console-recv SOCKET OUTFILE ROWS COLS INPUT\n"); return 2; }
  int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
  unlink(argv[1]);
  if (bind(listener, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(listener, 1) != 0) {
    perror("console-recv: bind/listen");
    return 3;
  }
  int conn = accept(listener, NULL, NULL);
  if (conn < 0) { perror("console-recv: accept"); return 3; }
  char name[256] = {0};
  struct iovec iov = {name, sizeof name - 1};
  union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  if (recvmsg(conn, &msg, 0) < 0) { perror("console-recv: recvmsg"); return 3; }
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) { fprintf(stderr, "console-recv: no fd received\n"); return 3; }
  int master;
  memcpy(&master, CMSG_DATA(cmsg), sizeof master);
  close(conn);
  close(listener);
  unlink(argv[1]);
  FILE* out = fopen(argv[2], "w");
  if (!out) { perror(argv[2]); return 3; }
  fprintf(out, "pty-name %s\n", name);
  fflush(out);
  struct winsize ws = {.ws_row = (unsigned short)atoi(argv[3]), .ws_col = (unsigned short)atoi(argv[4])};
  ioctl(master, TIOCSWINSZ, &ws);
  if (write(master, argv[5], strlen(argv[5])) < 0) perror("console-recv: write");
  char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* EIO: the keeper closed the slave */
    fwrite(buf, 1, (size_t)n, out);
    fflush(out);
  }
  fclose(out);
  return 0;
}
