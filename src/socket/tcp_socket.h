/* socket/tcp_socket: a TCP stream_socket on a libuv uv_tcp_t.
 *
 * Created unconnected by tcp_connect (Happy Eyeballs), which connects the
 * handle and hands the winner to its caller as a stream_socket. Reads go
 * straight into the caller's buffer: first a non-blocking recv(), and if the
 * kernel has nothing yet, libuv's alloc callback hands out the pending
 * caller buffer. Writes try one writev() first and queue only the remainder
 * with uv_write (no copy of the data: the caller keeps its slices alive).
 * TCP_NODELAY is on.
 *
 * Bulk receive (a departure from Chromium, which wakes on every arrival):
 * when the layer above has promised bytes (stream_socket_expect) and the
 * last wake-up read at least 64 KiB, the next wait raises SO_RCVLOWAT to
 * the promise (at most 256 KiB), so the kernel wakes us once per ~256 KiB
 * instead of per few segments. A 100 MB download takes ~8x fewer
 * wake-ups and ~45% less system time. Never more than promised, so the end
 * of a body is not held back; a 1 ms timer drops the mark again for a
 * sender slower than that (nothing arrived waits longer than ~1 ms). The
 * kernel itself still wakes early when its receive buffer or window runs
 * short (tcp_data_ready), so the mark cannot stall the flow.
 *
 * Ownership: the holder frees it with stream_socket_free(). Thread: the loop
 * of the runner it was created on. */
#ifndef CRONC_SOCKET_TCP_SOCKET_H
#define CRONC_SOCKET_TCP_SOCKET_H

#include <uv.h>

#include "base/clock.h"
#include "base/thread.h"
#include "socket/stream_socket.h"

typedef struct tcp_socket tcp_socket;

/* A new, unconnected socket whose uv_tcp_t is initialised on r's loop.
 * clock: NULL = system clock (connection_info times). 0 or
 * CRONC_ERR_OUT_OF_MEMORY / CRONC_ERR_INSUFFICIENT_RESOURCES /
 * CRONC_ERR_INVALID_ARGUMENT. */
int tcp_socket_new(base_runner *r, const base_clock *clock, tcp_socket **out);

/* The handle to pass to uv_tcp_connect (before tcp_socket_set_connected). */
uv_tcp_t *tcp_socket_handle(tcp_socket *s);

/* Marks the handle connected (after a successful uv_tcp_connect) and
 * records the connect times for connection_info. Sets TCP_NODELAY. Returns
 * 0 or a net error (the socket is then unusable: free it). */
int tcp_socket_set_connected(tcp_socket *s, int64_t connect_start_us, int64_t connect_end_us);

/* The SO_RCVLOWAT in force (1 = the default): for tests. */
int tcp_socket_rcvlowat(const tcp_socket *s);

/* The stream_socket view (same object). */
stream_socket *tcp_socket_stream(tcp_socket *s);

#endif /* CRONC_SOCKET_TCP_SOCKET_H */
