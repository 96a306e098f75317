/* socket/tcp_socket: TCP stream socket on libuv (see tcp_socket.h). */
#include "socket/tcp_socket.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Slices passed to one writev() call. */
#define TCP_IOV_BATCH 64

/* Receive low-water mark (tcp_socket.h). A wait that follows a wake-up which
 * read at least TCP_LOWAT_BULK bytes marks a bulk flow; the mark is the
 * promised bytes, at most TCP_LOWAT_MAX (4 read-ahead buffers: 256 KiB
 * measured as well as 1 MiB), and never below TCP_LOWAT_MIN (a smaller
 * promise is not worth two setsockopt calls). TCP_LOWAT_WAIT_MS bounds how
 * long arrived bytes may sit in the kernel for a slow sender. */
#define TCP_LOWAT_BULK    (64 * 1024)
#define TCP_LOWAT_MIN     (64 * 1024)
#define TCP_LOWAT_MAX     (256 * 1024)
#define TCP_LOWAT_WAIT_MS 1

struct tcp_socket {
  stream_socket base; /* first: the stream_socket view */
  uv_tcp_t handle;
  uv_timer_t lowat_timer; /* bounds a wait under a raised SO_RCVLOWAT */
  int handles_open;       /* handle and lowat_timer, until both close */
  const base_clock *clock;
  int fd;
  bool connected; /* connected and not disconnected */
  bool closing;   /* uv_close() issued */
  bool closed;    /* close callback ran */
  bool free_requested;
  bool ever_used;
  int64_t connect_start_us;
  int64_t connect_end_us;

  /* The pending read: buf NULL in read_if_ready mode. */
  socket_io_fn read_cb;
  void *read_ud;
  uint8_t *read_buf;
  size_t read_len;

  /* Receive low-water mark: the promise (stream_socket_expect) minus what
   * was read since, bytes read since the last wait began, and the value in
   * force (1 = the kernel's default). lowat_off: setsockopt failed once. */
  uint64_t expect;
  uint64_t since_wait;
  int lowat;
  bool lowat_off;

  /* The pending write (the part that did not fit at once). */
  uv_write_t write_req;
  socket_io_fn write_cb;
  void *write_ud;
  int write_total;
};

static const stream_socket_vtable tcp_vtable;

static tcp_socket *from_stream(const stream_socket *s) { return (tcp_socket *)s; }

int tcp_socket_new(base_runner *r, const base_clock *clock, tcp_socket **out) {
  if (!out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!r)
    return CRONC_ERR_INVALID_ARGUMENT;
  tcp_socket *s = calloc(1, sizeof(*s));
  if (!s)
    return CRONC_ERR_OUT_OF_MEMORY;
  s->base.vt = &tcp_vtable;
  s->clock = clock ? clock : base_clock_system();
  s->fd = -1;
  s->lowat = 1;
  int rc = uv_tcp_init(base_runner_loop(r), &s->handle);
  if (rc) {
    free(s);
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  }
  s->handle.data = s;
  uv_timer_init(base_runner_loop(r), &s->lowat_timer); /* cannot fail */
  s->lowat_timer.data = s;
  s->handles_open = 2;
  *out = s;
  return CRONC_OK;
}

uv_tcp_t *tcp_socket_handle(tcp_socket *s) { return &s->handle; }

stream_socket *tcp_socket_stream(tcp_socket *s) { return &s->base; }

int tcp_socket_set_connected(tcp_socket *s, int64_t connect_start_us, int64_t connect_end_us) {
  uv_os_fd_t fd;
  int rc = uv_fileno((uv_handle_t *)&s->handle, &fd);
  if (rc)
    return socket_map_system_error(rc);
  s->fd = fd;
  /* Request/response traffic: never wait for Nagle. */
  uv_tcp_nodelay(&s->handle, 1);
  s->connected = true;
  s->connect_start_us = connect_start_us;
  s->connect_end_us = connect_end_us;
  return CRONC_OK;
}

/* ---- reads -------------------------------------------------------------- */

static void clear_read(tcp_socket *s) {
  s->read_cb = NULL;
  s->read_ud = NULL;
  s->read_buf = NULL;
  s->read_len = 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  tcp_socket *s = h->data;
  /* The pending caller buffer: the kernel copies into it directly. In
   * read_if_ready mode a zero-length buffer makes libuv report UV_ENOBUFS
   * without reading: a pure "readable" notification. */
  buf->base = (char *)s->read_buf;
  buf->len = s->read_buf ? s->read_len : 0;
}

/* ---- receive low-water mark -------------------------------------------- */

/* Sets SO_RCVLOWAT; on failure the feature stays off for this socket. */
static void set_lowat(tcp_socket *s, int value) {
  if (setsockopt(s->fd, SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value) != 0) {
    s->lowat_off = true;
    return;
  }
  s->lowat = value;
}

/* The wait for a slow sender has lasted long enough: back to waking on any
 * byte. Lowering SO_RCVLOWAT makes the kernel signal readability at once
 * when bytes are queued (tcp_set_rcvlowat), so the pending read completes
 * through libuv as usual. */
static void on_lowat_timeout(uv_timer_t *t) {
  tcp_socket *s = t->data;
  if (s->connected && s->lowat > 1)
    set_lowat(s, 1);
}

/* Before a read waits: raise the mark for a bulk flow with a promise, drop
 * it otherwise. */
static void prepare_wait(tcp_socket *s) {
  int want = 1;
  if (!s->lowat_off && s->since_wait >= TCP_LOWAT_BULK && s->expect >= TCP_LOWAT_MIN)
    want = s->expect < TCP_LOWAT_MAX ? (int)s->expect : TCP_LOWAT_MAX;
  s->since_wait = 0;
  if (want != s->lowat)
    set_lowat(s, want);
  if (s->lowat > 1)
    uv_timer_start(&s->lowat_timer, on_lowat_timeout, TCP_LOWAT_WAIT_MS, 0);
}

static void count_read(tcp_socket *s, size_t n) {
  s->ever_used = true;
  s->since_wait += n;
  s->expect = s->expect > n ? s->expect - n : 0;
}

/* A smaller promise during a wait lowers the mark at once (a new h2 stream
 * awaiting its headers must not wait behind another's bulk). */
static void tcp_expect(stream_socket *ss, uint64_t bytes) {
  tcp_socket *s = from_stream(ss);
  s->expect = bytes;
  if (s->connected && s->read_cb && s->lowat > 1 && bytes < (uint64_t)s->lowat)
    set_lowat(s, bytes >= TCP_LOWAT_MIN ? (int)bytes : 1);
}

int tcp_socket_rcvlowat(const tcp_socket *s) { return s->lowat; }

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  tcp_socket *s = stream->data;
  if (nread == 0)
    return; /* EAGAIN: keep waiting */
  uv_read_stop(stream);
  uv_timer_stop(&s->lowat_timer);
  socket_io_fn cb = s->read_cb;
  void *ud = s->read_ud;
  bool if_ready = s->read_buf == NULL;
  clear_read(s);
  if (!cb)
    return;
  int result;
  if (nread > 0) {
    count_read(s, (size_t)nread);
    result = (int)nread;
  } else if (nread == UV_EOF) {
    result = 0;
  } else if (nread == UV_ENOBUFS && if_ready) {
    result = CRONC_OK;
  } else {
    result = socket_map_system_error((int)nread);
  }
  cb(result, ud); /* may free s: touch nothing after */
}

static int read_common(tcp_socket *s, uint8_t *buf, size_t len, socket_io_fn cb, void *ud,
                       bool if_ready) {
  if (!s->connected)
    return CRONC_ERR_SOCKET_NOT_CONNECTED;
  if (s->read_cb)
    return CRONC_ERR_INVALID_ARGUMENT; /* one read at a time */
  if (len > INT_MAX)
    len = INT_MAX;
  ssize_t n;
  do {
    n = recv(s->fd, buf, len, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    count_read(s, (size_t)n);
    return (int)n;
  }
  if (n == 0)
    return 0;
  if (errno != EAGAIN && errno != EWOULDBLOCK)
    return socket_map_system_error(errno);
  prepare_wait(s);
  s->read_cb = cb;
  s->read_ud = ud;
  s->read_buf = if_ready ? NULL : buf;
  s->read_len = if_ready ? 0 : len;
  int rc = uv_read_start((uv_stream_t *)&s->handle, on_alloc, on_read);
  if (rc) {
    uv_timer_stop(&s->lowat_timer);
    clear_read(s);
    return socket_map_system_error(rc);
  }
  return CRONC_ERR_IO_PENDING;
}

static int tcp_read(stream_socket *ss, uint8_t *buf, size_t len, socket_io_fn cb, void *ud) {
  return read_common(from_stream(ss), buf, len, cb, ud, false);
}

static int tcp_read_if_ready(stream_socket *ss, uint8_t *buf, size_t len, socket_io_fn cb,
                             void *ud) {
  return read_common(from_stream(ss), buf, len, cb, ud, true);
}

static void tcp_cancel_read_if_ready(stream_socket *ss) {
  tcp_socket *s = from_stream(ss);
  if (s->read_cb && !s->read_buf) {
    uv_read_stop((uv_stream_t *)&s->handle);
    uv_timer_stop(&s->lowat_timer);
    clear_read(s);
  }
}

/* ---- writes ------------------------------------------------------------- */

/* Writes as much as the kernel takes now; returns bytes or a net error. */
static int write_now(tcp_socket *s, const socket_iovec *iov, size_t n, size_t total) {
  size_t done = 0;
  size_t i = 0, skip = 0; /* slice index and bytes of it already written */
  while (done < total) {
    struct iovec v[TCP_IOV_BATCH];
    int cnt = 0;
    for (size_t j = i; j < n && cnt < TCP_IOV_BATCH; j++) {
      size_t off = j == i ? skip : 0;
      if (iov[j].len - off == 0)
        continue;
      v[cnt].iov_base = (void *)(iov[j].base + off);
      v[cnt].iov_len = iov[j].len - off;
      cnt++;
    }
    ssize_t w;
    do {
      w = writev(s->fd, v, cnt);
    } while (w < 0 && errno == EINTR);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      return socket_map_system_error(errno);
    }
    done += (size_t)w;
    /* Advance (i, skip) by w bytes. */
    size_t adv = (size_t)w;
    while (adv > 0 && i < n) {
      size_t left = iov[i].len - skip;
      if (adv < left) {
        skip += adv;
        adv = 0;
      } else {
        adv -= left;
        i++;
        skip = 0;
      }
    }
    if ((size_t)w == 0)
      break;
  }
  return (int)done;
}

static int tcp_try_writev(stream_socket *ss, const socket_iovec *iov, size_t n) {
  tcp_socket *s = from_stream(ss);
  if (!s->connected)
    return CRONC_ERR_SOCKET_NOT_CONNECTED;
  if (s->write_cb)
    return 0; /* queued data must go first */
  size_t total = socket_iovec_total(iov, n);
  if (total > INT_MAX)
    return CRONC_ERR_INVALID_ARGUMENT;
  int w = write_now(s, iov, n, total);
  if (w > 0)
    s->ever_used = true;
  return w;
}

static void on_write(uv_write_t *req, int status) {
  tcp_socket *s = req->data;
  socket_io_fn cb = s->write_cb;
  void *ud = s->write_ud;
  int total = s->write_total;
  s->write_cb = NULL;
  s->write_ud = NULL;
  if (!cb)
    return; /* disconnected meanwhile */
  cb(status == 0 ? total : socket_map_system_error(status), ud);
}

static int tcp_writev(stream_socket *ss, const socket_iovec *iov, size_t n, socket_io_fn cb,
                      void *ud) {
  tcp_socket *s = from_stream(ss);
  if (!s->connected)
    return CRONC_ERR_SOCKET_NOT_CONNECTED;
  if (s->write_cb)
    return CRONC_ERR_INVALID_ARGUMENT; /* one write at a time */
  size_t total = socket_iovec_total(iov, n);
  if (total > INT_MAX)
    return CRONC_ERR_INVALID_ARGUMENT;
  int w = write_now(s, iov, n, total);
  if (w < 0)
    return w;
  s->ever_used = true;
  if ((size_t)w == total)
    return w;
  /* Queue the remainder; libuv copies the uv_buf_t array, not the data. */
  uv_buf_t small[8];
  uv_buf_t *bufs = small;
  if (n > 8) {
    bufs = malloc(n * sizeof(*bufs));
    if (!bufs)
      return CRONC_ERR_OUT_OF_MEMORY;
  }
  size_t skip = (size_t)w, nb = 0;
  for (size_t i = 0; i < n; i++) {
    if (skip >= iov[i].len) {
      skip -= iov[i].len;
      continue;
    }
    bufs[nb++] = uv_buf_init((char *)iov[i].base + skip, (unsigned)(iov[i].len - skip));
    skip = 0;
  }
  s->write_req.data = s;
  s->write_cb = cb;
  s->write_ud = ud;
  s->write_total = (int)total;
  int rc = uv_write(&s->write_req, (uv_stream_t *)&s->handle, bufs, (unsigned)nb, on_write);
  if (bufs != small)
    free(bufs);
  if (rc) {
    s->write_cb = NULL;
    s->write_ud = NULL;
    return socket_map_system_error(rc);
  }
  return CRONC_ERR_IO_PENDING;
}

/* ---- lifetime ----------------------------------------------------------- */

static void on_close(uv_handle_t *h) {
  tcp_socket *s = h->data;
  if (--s->handles_open > 0)
    return;
  s->closed = true;
  if (s->free_requested)
    free(s);
}

static void tcp_disconnect(stream_socket *ss) {
  tcp_socket *s = from_stream(ss);
  s->connected = false;
  clear_read(s);
  s->write_cb = NULL;
  s->write_ud = NULL;
  if (!s->closing) {
    s->closing = true;
    uv_close((uv_handle_t *)&s->handle, on_close);
    uv_close((uv_handle_t *)&s->lowat_timer, on_close);
  }
}

static void tcp_free(stream_socket *ss) {
  tcp_socket *s = from_stream(ss);
  tcp_disconnect(ss);
  s->free_requested = true;
  if (s->closed)
    free(s);
}

static int peek(const tcp_socket *s) {
  if (!s->connected || s->fd < 0)
    return -1;
  char c;
  ssize_t n;
  do {
    n = recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n > 0)
    return 1; /* data waiting */
  if (n == 0)
    return -1; /* peer closed */
  return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
}

static bool tcp_is_connected(const stream_socket *ss) { return peek(from_stream(ss)) >= 0; }

static bool tcp_is_connected_and_idle(const stream_socket *ss) {
  return peek(from_stream(ss)) == 0;
}

static bool tcp_was_ever_used(const stream_socket *ss) { return from_stream(ss)->ever_used; }

static int tcp_peer_address(const stream_socket *ss, struct sockaddr_storage *out) {
  const tcp_socket *s = from_stream(ss);
  if (!s->connected)
    return CRONC_ERR_SOCKET_NOT_CONNECTED;
  int len = sizeof(*out);
  int rc = uv_tcp_getpeername(&s->handle, (struct sockaddr *)out, &len);
  return rc ? socket_map_system_error(rc) : CRONC_OK;
}

static int tcp_local_address(const stream_socket *ss, struct sockaddr_storage *out) {
  const tcp_socket *s = from_stream(ss);
  if (!s->connected)
    return CRONC_ERR_SOCKET_NOT_CONNECTED;
  int len = sizeof(*out);
  int rc = uv_tcp_getsockname(&s->handle, (struct sockaddr *)out, &len);
  return rc ? socket_map_system_error(rc) : CRONC_OK;
}

static void tcp_connection_info(const stream_socket *ss, socket_connection_info *out) {
  const tcp_socket *s = from_stream(ss);
  out->connect_start_us = s->connect_start_us;
  out->connect_end_us = s->connect_end_us;
}

static const char *tcp_alpn(const stream_socket *ss) { return ""; }

static const stream_socket_vtable tcp_vtable = {
    .name = "tcp",
    .read = tcp_read,
    .read_if_ready = tcp_read_if_ready,
    .cancel_read_if_ready = tcp_cancel_read_if_ready,
    .writev = tcp_writev,
    .try_writev = tcp_try_writev,
    .disconnect = tcp_disconnect,
    .free = tcp_free,
    .is_connected = tcp_is_connected,
    .is_connected_and_idle = tcp_is_connected_and_idle,
    .was_ever_used = tcp_was_ever_used,
    .peer_address = tcp_peer_address,
    .local_address = tcp_local_address,
    .connection_info = tcp_connection_info,
    .alpn = tcp_alpn,
    .expect = tcp_expect,
};
