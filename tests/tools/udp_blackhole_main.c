/* udp_blackhole: a tiny program for scripts (scripts/demo, integration
 * tests) that need UDP swallowed or a free port, without python.
 *
 *   udp_blackhole            binds a UDP socket on 127.0.0.1 (a free port),
 *                            prints the port on stdout and then never reads
 *                            it: every datagram sent there vanishes, so a
 *                            QUIC handshake to it neither succeeds nor fails
 *                            until its timeout. Runs until killed.
 *   udp_blackhole --free-port
 *                            prints a port free for both TCP and UDP on
 *                            127.0.0.1 (for a server speaking h1/h2/h3) and
 *                            exits.
 * Exit status 1 when no socket can be bound. Plain POSIX, no cronc code, so
 * a script can build it with `cc -o udp_blackhole udp_blackhole_main.c`. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Binds a socket of the given type on 127.0.0.1:port (0 = any free one);
 * returns the fd and the bound port, or -1. */
static int bind_loopback(int type, unsigned short *port) {
  int fd = socket(AF_INET, type, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(*port);
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--free-port") == 0) {
    for (int tries = 0; tries < 50; tries++) {
      unsigned short port = 0;
      int t = bind_loopback(SOCK_STREAM, &port);
      if (t < 0)
        return 1;
      int u = bind_loopback(SOCK_DGRAM, &port);
      close(t);
      if (u >= 0) {
        close(u);
        printf("%u\n", (unsigned)port);
        return 0;
      }
    }
    return 1;
  }
  if (argc > 1) {
    fprintf(stderr, "usage: udp_blackhole [--free-port]\n");
    return 2;
  }
  unsigned short port = 0;
  int fd = bind_loopback(SOCK_DGRAM, &port);
  if (fd < 0)
    return 1;
  printf("%u\n", (unsigned)port);
  fflush(stdout);
  for (;;)
    pause(); /* never read: the datagrams pile up in the socket and are lost */
}
