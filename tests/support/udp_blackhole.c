#include "support/udp_blackhole.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct udp_blackhole {
  int fd;
  uint16_t port;
};

udp_blackhole *udp_blackhole_new(void) {
  udp_blackhole *b = calloc(1, sizeof *b);
  if (!b)
    return NULL;
  b->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (b->fd < 0 || bind(b->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(b->fd, (struct sockaddr *)&a, &al) != 0) {
    if (b->fd >= 0)
      close(b->fd);
    free(b);
    return NULL;
  }
  b->port = ntohs(a.sin_port);
  return b;
}

uint16_t udp_blackhole_port(const udp_blackhole *b) { return b->port; }

void udp_blackhole_free(udp_blackhole *b) {
  if (!b)
    return;
  close(b->fd);
  free(b);
}
