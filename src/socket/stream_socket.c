/* socket/stream_socket: dispatchers and system error mapping. */
#include "socket/stream_socket.h"

#include "base/net_error_posix.h"

#include <errno.h>

int stream_socket_read(stream_socket *s, uint8_t *buf, size_t len, socket_io_fn cb, void *ud) {
  if (!s || !buf || len == 0 || !cb)
    return CRONC_ERR_INVALID_ARGUMENT;
  return s->vt->read(s, buf, len, cb, ud);
}

int stream_socket_read_if_ready(stream_socket *s, uint8_t *buf, size_t len, socket_io_fn cb,
                                void *ud) {
  if (!s || !buf || len == 0 || !cb)
    return CRONC_ERR_INVALID_ARGUMENT;
  return s->vt->read_if_ready(s, buf, len, cb, ud);
}

void stream_socket_cancel_read_if_ready(stream_socket *s) {
  if (s)
    s->vt->cancel_read_if_ready(s);
}

int stream_socket_write(stream_socket *s, const uint8_t *buf, size_t len, socket_io_fn cb,
                        void *ud) {
  socket_iovec iov = {buf, len};
  return stream_socket_writev(s, &iov, 1, cb, ud);
}

int stream_socket_writev(stream_socket *s, const socket_iovec *iov, size_t n, socket_io_fn cb,
                         void *ud) {
  if (!s || !iov || n == 0 || !cb)
    return CRONC_ERR_INVALID_ARGUMENT;
  size_t total = socket_iovec_total(iov, n);
  if (total == 0 || total == SIZE_MAX || total > INT32_MAX)
    return CRONC_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < n; i++)
    if (iov[i].len && !iov[i].base)
      return CRONC_ERR_INVALID_ARGUMENT;
  return s->vt->writev(s, iov, n, cb, ud);
}

void stream_socket_disconnect(stream_socket *s) {
  if (s)
    s->vt->disconnect(s);
}

void stream_socket_free(stream_socket *s) {
  if (s)
    s->vt->free(s);
}

bool stream_socket_is_connected(const stream_socket *s) { return s && s->vt->is_connected(s); }

bool stream_socket_is_connected_and_idle(const stream_socket *s) {
  return s && s->vt->is_connected_and_idle(s);
}

bool stream_socket_was_ever_used(const stream_socket *s) { return s && s->vt->was_ever_used(s); }

int stream_socket_peer_address(const stream_socket *s, struct sockaddr_storage *out) {
  if (!s || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  return s->vt->peer_address(s, out);
}

int stream_socket_local_address(const stream_socket *s, struct sockaddr_storage *out) {
  if (!s || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  return s->vt->local_address(s, out);
}

void stream_socket_connection_info(const stream_socket *s, socket_connection_info *out) {
  if (!out)
    return;
  *out = (socket_connection_info){0};
  if (s)
    s->vt->connection_info(s, out);
}

const char *stream_socket_alpn(const stream_socket *s) { return s ? s->vt->alpn(s) : ""; }

void stream_socket_expect(stream_socket *s, uint64_t bytes) {
  if (s && s->vt->expect)
    s->vt->expect(s, bytes);
}

size_t socket_iovec_total(const socket_iovec *iov, size_t n) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (iov[i].len > SIZE_MAX - 1 - total)
      return SIZE_MAX;
    total += iov[i].len;
  }
  return total;
}

int socket_map_system_error(int err) {
  /* libuv codes are -errno on Unix; one table for every layer lives in base. */
  return base_map_system_error(err < 0 ? -err : err);
}

int socket_map_connect_error(int err) {
  int e = err < 0 ? -err : err;
  if (e == EACCES)
    return CRONC_ERR_NETWORK_ACCESS_DENIED;
  if (e == ETIMEDOUT)
    return CRONC_ERR_CONNECTION_TIMED_OUT;
  int net = socket_map_system_error(e);
  return net == CRONC_ERR_FAILED ? CRONC_ERR_CONNECTION_FAILED : net;
}
