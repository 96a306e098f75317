/* socket/stream_socket: dispatchers and system error mapping. */
#include "socket/stream_socket.h"

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
  if (err < 0)
    err = -err; /* libuv codes are -errno on Unix */
  switch (err) {
  case 0:
    return CRONC_OK;
  case EAGAIN:
#if EWOULDBLOCK != EAGAIN
  case EWOULDBLOCK:
#endif
  case EINPROGRESS:
    return CRONC_ERR_IO_PENDING;
  case EACCES:
  case EPERM:
    return CRONC_ERR_ACCESS_DENIED;
  case ENETDOWN:
    return CRONC_ERR_INTERNET_DISCONNECTED;
  case ETIMEDOUT:
    return CRONC_ERR_TIMED_OUT;
  case ECONNRESET:
  case ENETRESET:
  case EPIPE:
    return CRONC_ERR_CONNECTION_RESET;
  case ECONNABORTED:
    return CRONC_ERR_CONNECTION_ABORTED;
  case ECONNREFUSED:
    return CRONC_ERR_CONNECTION_REFUSED;
  case EHOSTUNREACH:
  case EHOSTDOWN:
  case ENETUNREACH:
  case EAFNOSUPPORT:
    return CRONC_ERR_ADDRESS_UNREACHABLE;
  case EADDRNOTAVAIL:
    return CRONC_ERR_ADDRESS_INVALID;
  case EMSGSIZE:
    return CRONC_ERR_MSG_TOO_BIG;
  case ENOTCONN:
    return CRONC_ERR_SOCKET_NOT_CONNECTED;
  case EISCONN:
    return CRONC_ERR_SOCKET_IS_CONNECTED;
  case EINVAL:
    return CRONC_ERR_INVALID_ARGUMENT;
  case EADDRINUSE:
    return CRONC_ERR_ADDRESS_IN_USE;
  case EBADF:
    return CRONC_ERR_INVALID_HANDLE;
  case ENOBUFS:
    return CRONC_ERR_NO_BUFFER_SPACE;
  case ENOMEM:
    return CRONC_ERR_OUT_OF_MEMORY;
  case EMFILE:
  case ENFILE:
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  case ECANCELED:
    return CRONC_ERR_ABORTED;
  default:
    return CRONC_ERR_FAILED;
  }
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
