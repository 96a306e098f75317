/* http/h1_stream: an http_stream for HTTP/1.1 on a connected stream socket
 * (Chromium's HttpBasicStream + HttpStreamParser I/O half): writes the
 * request head and body in one vectored write, feeds the h1_parser what the
 * socket gives, and hands body bytes to the caller.
 *
 * Copies: the response head is read into the stream's own buffer; body
 * bytes that arrive with the head are copied once to the caller; after that
 * the socket reads straight into the caller's buffer and the parser strips
 * framing in place (a memmove only for chunked framing), so a large
 * Content-Length body is never copied by this layer.
 *
 * The stream borrows the socket; on close it hands the socket back through
 * the release callback, saying whether it can carry another request (the
 * body was read to its end, the response allows keep-alive, nothing was
 * left unread). Network thread only. */
#ifndef CRONC_HTTP_H1_STREAM_H
#define CRONC_HTTP_H1_STREAM_H

#include <stdbool.h>

#include "http/http_stream.h"
#include "socket/stream_socket.h"

/* Called exactly once, from close(): the stream is done with the socket.
 * reusable: the socket may be put in the idle pool; otherwise free it. */
typedef void (*h1_socket_release_fn)(void *user_data, stream_socket *sock, bool reusable);

/* reused: the socket served an earlier request. Returns NULL on allocation
 * failure (the socket is then still the caller's). */
http_stream *h1_stream_new(stream_socket *sock, bool reused, h1_socket_release_fn release,
                           void *release_ud);
/* The connection timing reported by load_timing() (set by the factory for a
 * new connection; a reused one reports socket_reused and no times). */
void h1_stream_set_load_timing(http_stream *s, const http_load_timing *t);

#endif /* CRONC_HTTP_H1_STREAM_H */
