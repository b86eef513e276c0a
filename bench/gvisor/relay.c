/* ignis-gvisor-relay: inside a gVisor sandbox, listens on 127.0.0.1:9001 (the sandbox's own loopback),
 * relays each connection to the Runtime API's host Unix socket, and runs the runtime as its child.
 * usage: relay SOCKET_PATH -- runtime argv... */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#define MAXC 8
static int pairs[MAXC][2];
int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--")) { fprintf(stderr, "usage\n"); return 2; }
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9001)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(l, (void *)&a, sizeof a) || listen(l, 16)) { perror("relay listen"); return 2; }
  pid_t child = fork();
  if (child == 0) { execv(argv[3], argv + 3); perror("exec"); _exit(127); }
  for (int i = 0; i < MAXC; i++) pairs[i][0] = pairs[i][1] = -1;
  char buf[65536];
  for (;;) {
    struct pollfd p[1 + 2 * MAXC]; int n = 0;
    p[n++] = (struct pollfd){l, POLLIN, 0};
    for (int i = 0; i < MAXC; i++) { p[n++] = (struct pollfd){pairs[i][0], POLLIN, 0}; p[n++] = (struct pollfd){pairs[i][1], POLLIN, 0}; }
    int st; pid_t w = waitpid(child, &st, WNOHANG);
    if (w == child) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (poll(p, n, 200) < 0 && errno != EINTR) return 3;
    if (p[0].revents & POLLIN) {
      int c = accept4(l, NULL, NULL, SOCK_CLOEXEC), slot = -1;
      for (int i = 0; i < MAXC && c >= 0; i++) if (pairs[i][0] < 0) { slot = i; break; }
      if (slot < 0) { if (c >= 0) close(c); }
      else {
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un ua = {.sun_family = AF_UNIX};
        strncpy(ua.sun_path, argv[1], sizeof ua.sun_path - 1);
        if (connect(u, (void *)&ua, sizeof ua)) { perror("relay connect"); close(u); close(c); }
        else { pairs[slot][0] = c; pairs[slot][1] = u; }
      }
    }
    for (int i = 0; i < MAXC; i++) for (int d = 0; d < 2; d++) {
      short r = p[1 + 2 * i + d].revents;
      if (pairs[i][d] < 0 || !(r & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t k = read(pairs[i][d], buf, sizeof buf), off = 0;
      while (k > 0 && off < k) { ssize_t wr = write(pairs[i][1 - d], buf + off, k - off); if (wr <= 0) { k = -1; break; } off += wr; }
      if (k <= 0) { close(pairs[i][0]); close(pairs[i][1]); pairs[i][0] = pairs[i][1] = -1; break; }
    }
  }
}
