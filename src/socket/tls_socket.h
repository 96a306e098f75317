/* socket/tls_socket: a TLS client stream_socket on GnuTLS.
 *
 * Chromium's SSLClientSocketImpl: wraps a connected transport stream_socket
 * (TCP, later a proxy tunnel), runs the handshake with SNI (not for IP
 * literals) and ALPN, verifies the server certificate against the ORIGIN host
 * (which may differ from the address connected to), checks public-key pins,
 * and then is itself a stream_socket.
 *
 * Zero-copy paths: gnutls pulls ciphertext with the transport's
 * read_if_ready straight into its own record buffer, and decrypts
 * (gnutls_record_recv) straight into the caller's read buffer. Ciphertext is
 * pushed with the transport's try_writev from GnuTLS's own buffers; only
 * bytes the kernel could not take at once are copied into this socket's
 * output buffer and written asynchronously. A multi-slice write is corked
 * into as few records and one transport write as possible.
 *
 * Session resumption: before the handshake, a cached session for (origin
 * host, port) is taken from the tls_context; new tickets (TLS 1.3
 * NewSessionTicket, or the TLS 1.2 session) are stored back.
 *
 * Errors: handshake failures map to Chromium codes (alerts such as
 * handshake_failure / protocol_version -> ERR_SSL_VERSION_OR_CIPHER_MISMATCH,
 * others ERR_SSL_PROTOCOL_ERROR; transport errors pass through; EOF during
 * the handshake -> ERR_CONNECTION_CLOSED); certificate failures via
 * tls_map_cert_status(); pins -> ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN. A TLS
 * stream cut without close_notify reads as ERR_CONNECTION_CLOSED; a
 * close_notify reads as 0 (EOF).
 *
 * Ownership: tls_socket_new() takes the transport on success (freed with the
 * TLS socket); the tls_context must outlive the socket. Thread: network
 * thread. */
#ifndef CRONC_SOCKET_TLS_SOCKET_H
#define CRONC_SOCKET_TLS_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "socket/stream_socket.h"
#include "socket/tls_context.h"

typedef struct tls_socket_params {
  const char *host;        /* origin host: SNI, verification, pins, session key */
  uint16_t port;           /* origin port: session cache key */
  const char *const *alpn; /* e.g. {"h2", "http/1.1"}; may be NULL */
  size_t alpn_count;
} tls_socket_params;

/* Creates the TLS socket over transport (a connected stream_socket). On
 * success *out owns transport. Errors (transport then still the caller's):
 * CRONC_ERR_INVALID_ARGUMENT (NULL argument, empty host, ALPN id empty or
 * longer than 255), CRONC_ERR_OUT_OF_MEMORY, CRONC_ERR_SSL_PROTOCOL_ERROR
 * (GnuTLS setup failed). */
int tls_socket_new(tls_context *ctx, stream_socket *transport, const tls_socket_params *p,
                   stream_socket **out);

/* Runs the handshake and the certificate and pin checks. Returns CRONC_OK
 * (done at once), CRONC_ERR_IO_PENDING (cb(result) later, never inside this
 * call) or a net error. Once per socket; reads and writes are refused
 * (CRONC_ERR_SOCKET_NOT_CONNECTED) until it succeeded. */
int tls_socket_connect(stream_socket *s, socket_io_fn cb, void *user_data);

/* The GnuTLS certificate verification status of the handshake (0 = OK),
 * for diagnostics; 0 before the handshake. */
unsigned tls_socket_cert_status(const stream_socket *s);

/* True if the connected socket's verified certificate also covers host and
 * host's pins accept the chain (Chromium's
 * SpdySession::VerifyDomainAuthentication, for connection pooling). */
bool tls_socket_covers_host(const stream_socket *s, const char *host);

/* True if s is a tls_socket. */
bool tls_socket_is_tls(const stream_socket *s);

#endif /* CRONC_SOCKET_TLS_SOCKET_H */
