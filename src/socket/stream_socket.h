/* socket/stream_socket: the byte-stream interface every connection layer shares.
 *
 * A stream_socket is a connected, ordered byte stream: a TCP connection, a
 * TLS session on top of one, later a proxy tunnel. It is a small vtable in
 * the spirit of Chromium's StreamSocket and curl's connection filters, so the
 * HTTP/1.1 stream and the HTTP/2 session drive any layer the same way.
 *
 * I/O follows Chromium's conventions:
 *  - read(buf, len, cb): returns bytes read (> 0) when data is at hand, 0 at
 *    end of stream, CRONC_ERR_IO_PENDING when it must wait (cb(result) runs
 *    later with what read() would have returned; buf must stay valid until
 *    then and data lands directly in it), or a negative net error.
 *  - read_if_ready(buf, len, cb): like read(), but on CRONC_ERR_IO_PENDING the
 *    buffer is NOT kept: cb(CRONC_OK or an error) only says "try again now".
 *    Layers on top (TLS) use it to let the lower layer fill the upper layer's
 *    own buffer with no intermediate copy.
 *  - writev(iov, n, cb): writes every slice in order, in as few syscalls as
 *    the layer can (one writev for TCP). Returns the total byte count when
 *    everything was written at once, otherwise CRONC_ERR_IO_PENDING and
 *    cb(total or error) later; the slices' memory must stay valid until then.
 *  - At most one read (or read_if_ready) and one write pending at a time.
 *  - A callback never runs inside the call that started the I/O: a result
 *    available at once is returned, never called back (no re-entrancy).
 *
 * Ownership: whoever holds a stream_socket owns it and releases it with
 * stream_socket_free(), which disconnects, guarantees no callback runs
 * afterwards, and releases memory once libuv is done with the handles (so
 * the loop must keep running a little after the last free). A TLS socket
 * owns the transport it wraps.
 *
 * Thread: every function runs on the network thread (the loop the socket was
 * created on). */
#ifndef CRONC_SOCKET_STREAM_SOCKET_H
#define CRONC_SOCKET_STREAM_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cronc/cronc.h"

/* One slice of a vectored write (h2o's iovec: pointer + length). */
typedef struct socket_iovec {
  const uint8_t *base;
  size_t len;
} socket_iovec;

/* Completion callback: result as the synchronous return would have been. */
typedef void (*socket_io_fn)(int result, void *user_data);

/* Timing and negotiation facts for metrics (Cronet's RequestFinishedInfo
 * connect/ssl times). Times are base_clock ticks (µs); 0 = did not happen. */
typedef struct socket_connection_info {
  int64_t connect_start_us;
  int64_t connect_end_us;
  int64_t tls_start_us; /* 0 for plain TCP */
  int64_t tls_end_us;
  uint16_t tls_version;     /* 0x0303 TLS 1.2, 0x0304 TLS 1.3; 0 for TCP */
  bool tls_session_resumed; /* the TLS handshake resumed a cached session */
  char alpn[32];            /* negotiated ALPN ("h2", "http/1.1"), "" if none */
} socket_connection_info;

typedef struct stream_socket stream_socket;

typedef struct stream_socket_vtable {
  const char *name; /* "tcp", "tls": for logs */
  int (*read)(stream_socket *s, uint8_t *buf, size_t len, socket_io_fn cb, void *ud);
  int (*read_if_ready)(stream_socket *s, uint8_t *buf, size_t len, socket_io_fn cb, void *ud);
  /* Drops a pending read_if_ready notification (cb will not run). */
  void (*cancel_read_if_ready)(stream_socket *s);
  int (*writev)(stream_socket *s, const socket_iovec *iov, size_t n, socket_io_fn cb, void *ud);
  /* Optional (NULL allowed): writes what fits now without queueing anything
   * and returns the byte count (0 = would block) or a net error. Lets a layer
   * above push its buffers with no copy when the kernel has room. */
  int (*try_writev)(stream_socket *s, const socket_iovec *iov, size_t n);
  /* Closes the connection; pending callbacks will never run. Idempotent. */
  void (*disconnect)(stream_socket *s);
  void (*free)(stream_socket *s);
  bool (*is_connected)(const stream_socket *s);
  /* Connected and no unread bytes waiting (reusable for a new request). */
  bool (*is_connected_and_idle)(const stream_socket *s);
  bool (*was_ever_used)(const stream_socket *s);
  int (*peer_address)(const stream_socket *s, struct sockaddr_storage *out);
  int (*local_address)(const stream_socket *s, struct sockaddr_storage *out);
  void (*connection_info)(const stream_socket *s, socket_connection_info *out);
  const char *(*alpn)(const stream_socket *s); /* never NULL; "" when none */
  /* Optional (NULL: ignored). See stream_socket_expect(). */
  void (*expect)(stream_socket *s, uint64_t bytes);
} stream_socket_vtable;

/* Implementations embed this as their first member. */
struct stream_socket {
  const stream_socket_vtable *vt;
};

/* Thin dispatchers: see the contract above. All accept only a non-NULL s
 * except stream_socket_free (NULL: no-op). Bad arguments (NULL buffer with a
 * non-zero length, len 0, NULL cb) return CRONC_ERR_INVALID_ARGUMENT. */
int stream_socket_read(stream_socket *s, uint8_t *buf, size_t len, socket_io_fn cb, void *ud);
int stream_socket_read_if_ready(stream_socket *s, uint8_t *buf, size_t len, socket_io_fn cb,
                                void *ud);
void stream_socket_cancel_read_if_ready(stream_socket *s);
int stream_socket_write(stream_socket *s, const uint8_t *buf, size_t len, socket_io_fn cb,
                        void *ud);
int stream_socket_writev(stream_socket *s, const socket_iovec *iov, size_t n, socket_io_fn cb,
                         void *ud);
void stream_socket_disconnect(stream_socket *s);
void stream_socket_free(stream_socket *s);
bool stream_socket_is_connected(const stream_socket *s);
bool stream_socket_is_connected_and_idle(const stream_socket *s);
bool stream_socket_was_ever_used(const stream_socket *s);
int stream_socket_peer_address(const stream_socket *s, struct sockaddr_storage *out);
int stream_socket_local_address(const stream_socket *s, struct sockaddr_storage *out);
void stream_socket_connection_info(const stream_socket *s, socket_connection_info *out);
/* The negotiated ALPN protocol ("h2", "http/1.1") or "" (none / plain TCP).
 * Valid while s lives. */
const char *stream_socket_alpn(const stream_socket *s);

/* A promise from the protocol above: the peer will send at least `bytes`
 * more bytes of this stream without waiting for anything from us (the rest
 * of a Content-Length body, within the flow-control window); 0 = no
 * promise. It replaces the previous promise and shrinks by itself as bytes
 * are read. Layers may use it to take more data per wake-up (TCP raises
 * SO_RCVLOWAT for bulk flows: tcp_socket.h); it never changes what a read
 * returns. Promise only what is certain: a layer may wait for that many
 * bytes (bounded by a short timer). */
void stream_socket_expect(stream_socket *s, uint64_t bytes);

/* Sum of the slice lengths; SIZE_MAX on overflow. */
size_t socket_iovec_total(const socket_iovec *iov, size_t n);

/* Chromium's MapSystemError (net_errors_posix.cc): a positive errno (or a
 * negative libuv code, which is -errno on Unix) to a net error; 0 -> OK. */
int socket_map_system_error(int err);
/* Chromium's MapConnectError: as above, but ETIMEDOUT is
 * ERR_CONNECTION_TIMED_OUT, EACCES is ERR_NETWORK_ACCESS_DENIED and an
 * otherwise unmapped error is ERR_CONNECTION_FAILED. */
int socket_map_connect_error(int err);

#endif /* CRONC_SOCKET_STREAM_SOCKET_H */
