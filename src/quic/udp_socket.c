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
/* Receive coalescing (see the header): a readable event that drained this
 * many datagrams marks a bulk flow, and reading then waits this long. */
#define UDP_COALESCE_DATAGRAMS 16
#define UDP_COALESCE_MS        1

struct udp_socket {
  uv_poll_t poll;
  uv_timer_t pause; /* receive coalescing: reading waits for it */
  int handles_open; /* poll and timer: freed when both closed */
  int fd;
  bool closed;
  bool paused;
  unsigned pause_ms; /* UDP_COALESCE_MS; 0 (for good after a kernel drop): never */
  size_t rcvbuf;     /* SO_RCVBUF as granted (the kernel's accounting size) */
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
    char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(uint32_t))];
    struct cmsghdr align;
  } rctl[UDP_RECV_MSGS];
};

static void on_poll(uv_poll_t *h, int status, int events);

static void update_poll(udp_socket *s) {
  int ev = (s->paused ? 0 : UV_READABLE) | (s->want_write ? UV_WRITABLE : 0);
  if (ev == s->events)
    return;
  s->events = ev;
  if (ev)
    uv_poll_start(&s->poll, ev, on_poll);
  else
    uv_poll_stop(&s->poll);
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

static void do_read(udp_socket *s);

static void on_pause_end(uv_timer_t *t) {
  udp_socket *s = t->data;
  s->paused = false; /* closing stopped the timer: s is open here */
  do_read(s);        /* what piled up, now: no extra trip through epoll */
  if (!s->closed)
    update_poll(s);
}

/* After a readable event: a bulk flow (many datagrams in one event) is read
 * again only after UDP_COALESCE_MS, in one go, instead of waking for every
 * few packets; what arrives meanwhile must fit the receive buffer with room
 * to spare, so a flow that fills an eighth of it per event is read at once,
 * as is any flow on a socket that has seen a drop. */
static void maybe_pause(udp_socket *s, int datagrams, size_t bytes) {
  if (!s->pause_ms || datagrams < UDP_COALESCE_DATAGRAMS || bytes > s->rcvbuf / 8)
    return;
  s->paused = true;
  update_poll(s);
  uv_timer_start(&s->pause, on_pause_end, s->pause_ms, 0);
}

static void read_cmsgs(udp_socket *s, struct msghdr *h, size_t *seg) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int v;
      memcpy(&v, CMSG_DATA(c), sizeof v);
      *seg = v > 0 ? (size_t)v : 0;
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      s->pause_ms = 0; /* the kernel attaches it once it dropped: read as packets come */
    }
  }
}

static void do_read(udp_socket *s) {
  int datagrams = 0;
  size_t bytes = 0;
  for (int round = 0; round < UDP_RECV_ROUNDS && !s->closed; round++) {
    for (int i = 0; i < UDP_RECV_MSGS; i++) {
      struct msghdr *h = &s->rmsgs[i].msg_hdr;
      h->msg_name = NULL;
      h->msg_namelen = 0;
      h->msg_iov = &s->riov[i];
      h->msg_iovlen = 1;
      h->msg_control = s->rctl[i].buf;
      h->msg_controllen = sizeof s->rctl[i].buf;
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
      size_t seg = 0, len = s->rmsgs[i].msg_len;
      read_cmsgs(s, &s->rmsgs[i].msg_hdr, &seg);
      datagrams += seg && seg < len ? (int)((len + seg - 1) / seg) : 1;
      bytes += len;
      if (!deliver(s, s->riov[i].iov_base, len, seg))
        return;
    }
    if (n < UDP_RECV_MSGS)
      break;
  }
  if (datagrams == 0)
    return; /* a wake-up with nothing to read: nothing to answer either */
  if (!s->closed && s->cbs.on_batch_done)
    s->cbs.on_batch_done(s->ud);
  if (!s->closed)
    maybe_pause(s, datagrams, bytes);
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
  int got = 0;
  socklen_t gl = sizeof got;
  if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) == 0 && got > 0)
    s->rcvbuf = (size_t)got;
  int one = 1;
  s->gro = setsockopt(s->fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
  /* Coalescing only where a drop would be seen. */
  if (setsockopt(s->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) == 0)
    s->pause_ms = UDP_COALESCE_MS;
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
  uv_timer_init(base_runner_loop(r), &s->pause); /* cannot fail */
  s->pause.data = s;
  s->handles_open = 2;
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
bool udp_socket_coalescing(const udp_socket *s) { return s->pause_ms != 0; }
bool udp_socket_read_paused(const udp_socket *s) { return s->paused; }
void udp_socket_set_coalesce_ms(udp_socket *s, unsigned ms) { s->pause_ms = ms; }

static void on_closed(uv_handle_t *h) {
  udp_socket *s = h->data;
  if (--s->handles_open > 0)
    return;
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
  uv_close((uv_handle_t *)&s->pause, on_closed);
}
