#include "quic/udp_socket.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/net_error_posix.h"
#include "cronc/cronc.h"

#define UDP_RECV_MSGS    8       /* messages per recvmmsg */
#define UDP_RECV_BUF     65536   /* one GRO batch at most */
#define UDP_RECV_ROUNDS  16      /* recvmmsg calls per readable event */
#define UDP_SOCK_BUFSIZE 8388608 /* asked for; the kernel caps it */

struct udp_socket {
  uv_poll_t poll;
  int fd;
  bool closed;
  bool want_write;
  bool gso;
  bool gro;
  int events;
  udp_socket_callbacks cbs;
  void *ud;
  struct sockaddr_storage local, peer;
  socklen_t local_len, peer_len;
  /* receive side, allocated once */
  uint8_t *rbuf; /* UDP_RECV_MSGS * UDP_RECV_BUF */
  struct mmsghdr rmsgs[UDP_RECV_MSGS];
  struct iovec riov[UDP_RECV_MSGS];
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } rctl[UDP_RECV_MSGS];
};

static void on_poll(uv_poll_t *h, int status, int events);

static void update_poll(udp_socket *s) {
  int ev = UV_READABLE | (s->want_write ? UV_WRITABLE : 0);
  if (ev != s->events) {
    s->events = ev;
    uv_poll_start(&s->poll, ev, on_poll);
  }
}

static int map_errno(int e) {
  if (e == ECONNREFUSED)
    return CRONC_ERR_CONNECTION_REFUSED;
  if (e == EMSGSIZE)
    return CRONC_ERR_MSG_TOO_BIG;
  return base_map_system_error(e);
}

/* Hands one received buffer to the callback, split at the GRO segment size.
 * Returns false once the socket was closed by a callback. */
static bool deliver(udp_socket *s, const uint8_t *p, size_t len, size_t seg) {
  if (seg == 0 || seg >= len) {
    s->cbs.on_datagram(s->ud, p, len);
    return !s->closed;
  }
  while (len) {
    size_t n = len < seg ? len : seg;
    s->cbs.on_datagram(s->ud, p, n);
    if (s->closed)
      return false;
    p += n;
    len -= n;
  }
  return true;
}

static void do_read(udp_socket *s) {
  for (int round = 0; round < UDP_RECV_ROUNDS && !s->closed; round++) {
    for (int i = 0; i < UDP_RECV_MSGS; i++) {
      struct msghdr *h = &s->rmsgs[i].msg_hdr;
      h->msg_name = NULL;
      h->msg_namelen = 0;
      h->msg_iov = &s->riov[i];
      h->msg_iovlen = 1;
      h->msg_control = s->gro ? s->rctl[i].buf : NULL;
      h->msg_controllen = s->gro ? sizeof s->rctl[i].buf : 0;
      h->msg_flags = 0;
    }
    int n = recvmmsg(s->fd, s->rmsgs, UDP_RECV_MSGS, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      if (errno == EINTR)
        continue;
      int err = map_errno(errno);
      s->cbs.on_error(s->ud, err);
      return;
    }
    for (int i = 0; i < n; i++) {
      size_t seg = 0;
      struct msghdr *h = &s->rmsgs[i].msg_hdr;
      if (s->gro) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
          if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int v;
            memcpy(&v, CMSG_DATA(c), sizeof v);
            seg = v > 0 ? (size_t)v : 0;
          }
      }
      if (!deliver(s, s->riov[i].iov_base, s->rmsgs[i].msg_len, seg))
        return;
    }
    if (n < UDP_RECV_MSGS)
      break;
  }
  if (!s->closed && s->cbs.on_batch_done)
    s->cbs.on_batch_done(s->ud);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  udp_socket *s = h->data;
  if (s->closed)
    return;
  if (status < 0) {
    /* uv_poll reports socket errors this way; read them out for the code. */
    int e = 0;
    socklen_t el = sizeof e;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &el);
    s->cbs.on_error(s->ud, e ? map_errno(e) : base_map_uv_error(status));
    return;
  }
  if (events & UV_READABLE)
    do_read(s);
  if (s->closed)
    return;
  if ((events & UV_WRITABLE) && s->want_write) {
    s->want_write = false;
    update_poll(s);
    s->cbs.on_writable(s->ud);
  }
}

int udp_socket_open(base_runner *r, const struct sockaddr *peer, socklen_t peer_len,
                    const udp_socket_callbacks *cbs, void *ud, udp_socket **out) {
  *out = NULL;
  if (!peer || (peer->sa_family != AF_INET && peer->sa_family != AF_INET6) ||
      peer_len > sizeof(struct sockaddr_storage))
    return CRONC_ERR_ADDRESS_INVALID;
  udp_socket *s = calloc(1, sizeof *s);
  if (!s)
    return CRONC_ERR_OUT_OF_MEMORY;
  s->rbuf = malloc((size_t)UDP_RECV_MSGS * UDP_RECV_BUF);
  if (!s->rbuf) {
    free(s);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  s->fd = socket(peer->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (s->fd < 0) {
    int err = map_errno(errno);
    free(s->rbuf);
    free(s);
    return err;
  }
  int sz = UDP_SOCK_BUFSIZE;
  setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  int one = 1;
  s->gro = setsockopt(s->fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
  s->gso = true; /* tried on the first multi-packet send */
  if (connect(s->fd, peer, peer_len) != 0) {
    int err = map_errno(errno);
    close(s->fd);
    free(s->rbuf);
    free(s);
    return err;
  }
  memcpy(&s->peer, peer, peer_len);
  s->peer_len = peer_len;
  s->local_len = sizeof s->local;
  getsockname(s->fd, (struct sockaddr *)&s->local, &s->local_len);
  for (int i = 0; i < UDP_RECV_MSGS; i++) {
    s->riov[i].iov_base = s->rbuf + (size_t)i * UDP_RECV_BUF;
    s->riov[i].iov_len = UDP_RECV_BUF;
  }
  s->cbs = *cbs;
  s->ud = ud;
  if (uv_poll_init(base_runner_loop(r), &s->poll, s->fd) != 0) {
    close(s->fd);
    free(s->rbuf);
    free(s);
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  }
  s->poll.data = s;
  update_poll(s);
  *out = s;
  return CRONC_OK;
}

/* One packet per message, all in one sendmmsg. Packets the kernel did not
 * take after the first are dropped (QUIC treats them as lost). */
static int send_plain(udp_socket *s, const uint8_t *buf, size_t len, size_t segment) {
  struct mmsghdr msgs[UDP_MAX_GSO_SEGMENTS];
  struct iovec iov[UDP_MAX_GSO_SEGMENTS];
  size_t off = 0;
  while (off < len) {
    unsigned n = 0;
    for (; n < UDP_MAX_GSO_SEGMENTS && off < len; n++) {
      size_t l = len - off < segment ? len - off : segment;
      iov[n].iov_base = (void *)(buf + off);
      iov[n].iov_len = l;
      memset(&msgs[n], 0, sizeof msgs[n]);
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
      off += l;
    }
    int rv;
    do
      rv = sendmmsg(s->fd, msgs, n, 0);
    while (rv < 0 && errno == EINTR);
    if (rv < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        s->want_write = true;
        update_poll(s);
        return CRONC_ERR_IO_PENDING;
      }
      return map_errno(errno);
    }
  }
  return CRONC_OK;
}

int udp_socket_send(udp_socket *s, const uint8_t *buf, size_t len, size_t segment) {
  if (s->closed)
    return CRONC_ERR_SOCKET_NOT_CONNECTED;
  if (segment == 0 || segment > len)
    segment = len;
  if (len > segment && !s->gso)
    return send_plain(s, buf, len, segment);
  struct iovec iov = {(void *)buf, len};
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctl;
  struct msghdr h = {0};
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  if (len > segment) {
    memset(&ctl, 0, sizeof ctl);
    h.msg_control = ctl.buf;
    h.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t seg16 = (uint16_t)segment;
    memcpy(CMSG_DATA(c), &seg16, sizeof seg16);
  }
  ssize_t rv;
  do
    rv = sendmsg(s->fd, &h, 0);
  while (rv < 0 && errno == EINTR);
  if (rv >= 0)
    return CRONC_OK;
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    s->want_write = true;
    update_poll(s);
    return CRONC_ERR_IO_PENDING;
  }
  if (len > segment &&
      (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
    s->gso = false; /* no GSO here (device or kernel): one packet per message */
    return send_plain(s, buf, len, segment);
  }
  return map_errno(errno);
}

const struct sockaddr *udp_socket_local_addr(const udp_socket *s, socklen_t *len) {
  *len = s->local_len;
  return (const struct sockaddr *)&s->local;
}

const struct sockaddr *udp_socket_peer_addr(const udp_socket *s, socklen_t *len) {
  *len = s->peer_len;
  return (const struct sockaddr *)&s->peer;
}

bool udp_socket_gso_enabled(const udp_socket *s) { return s->gso; }
bool udp_socket_gro_enabled(const udp_socket *s) { return s->gro; }

static void on_closed(uv_handle_t *h) {
  udp_socket *s = h->data;
  close(s->fd);
  free(s->rbuf);
  free(s);
}

void udp_socket_close(udp_socket *s) {
  if (!s || s->closed)
    return;
  s->closed = true;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, on_closed);
}
