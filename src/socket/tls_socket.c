/* socket/tls_socket: TLS client socket on GnuTLS (see tls_socket.h).
 *
 * GnuTLS runs non-blocking over custom transport functions:
 *  - pull: serves GnuTLS from a 64 KiB read-ahead buffer filled by the
 *    transport's read_if_ready; when the transport has nothing, it returns
 *    EAGAIN and the transport calls on_readable() later, which resumes
 *    whatever waits (handshake or the caller's read). GnuTLS pulls each
 *    record's 5-byte header and its body separately: without read-ahead
 *    that is two syscalls per record, with it one recv serves many records
 *    (a small copy of ciphertext buys far fewer syscalls).
 *  - push: never blocks: transport try_writev from GnuTLS's buffers, the rest
 *    copied to `flight` and written asynchronously; while that is in flight
 *    new ciphertext is appended to `queue`. A caller's write completes when
 *    both are empty. */
#include "socket/tls_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum tls_state {
  TLS_NEW,
  TLS_HANDSHAKING,
  TLS_CONNECTED,
  TLS_FAILED,
  TLS_DISCONNECTED,
} tls_state;

typedef struct tls_buf {
  uint8_t *data;
  size_t len, cap;
} tls_buf;

typedef struct tls_socket {
  stream_socket base; /* first */
  stream_socket *transport;
  tls_context *ctx;
  gnutls_session_t session;
  char *host;
  uint16_t port;
  tls_state state;
  int error;           /* sticky error once failed */
  int transport_error; /* from pull/push */
  bool transport_eof;
  bool waiting_readable;
  bool ever_used;
  unsigned cert_status;

  socket_io_fn connect_cb;
  void *connect_ud;

  socket_io_fn read_cb;
  void *read_ud;
  uint8_t *read_buf; /* NULL: read_if_ready notification */
  size_t read_len;
  int deferred_rc; /* an end or error met after bytes were returned */
  bool has_deferred;
  uint64_t expect; /* plaintext promised from above (stream_socket_expect) */

  uint8_t *ra;           /* read-ahead of ciphertext */
  size_t ra_pos, ra_len; /* unread bytes are ra[ra_pos .. ra_pos + ra_len) */
  tls_buf flight;        /* being written by the transport */
  tls_buf queue;         /* waiting for flight to finish */
  bool writing;
  socket_io_fn write_cb;
  void *write_ud;
  int write_total;

  int64_t tls_start_us;
  int64_t tls_end_us;
  bool resumed;
  uint16_t version;
  char alpn[32];
  netlog_source source;
} tls_socket;

static const stream_socket_vtable tls_vtable;

static tls_socket *from_stream(const stream_socket *s) { return (tls_socket *)s; }

bool tls_socket_is_tls(const stream_socket *s) { return s && s->vt == &tls_vtable; }

static bool is_ip_literal(const char *host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* ---- transport functions -------------------------------------------------- */

static void on_readable(int result, void *ud);
static void on_written(int result, void *ud);

#define TLS_READ_AHEAD 65536
/* The largest TLSCiphertext fragment (RFC 8446 5.2: 2^14 + 256; TLS 1.2
 * allows 2^14 + 2048) plus its header. */
#define TLS_RECORD_SLACK (16384 + 2048 + 5)

static ssize_t pull_result(tls_socket *s, int rc);

/* The promise in ciphertext still to come from the transport: at least the
 * promised plaintext not yet decrypted or read ahead, less one record that
 * may be half read inside GnuTLS (records only add bytes to plaintext). */
static uint64_t transport_share(tls_socket *s) {
  uint64_t held = gnutls_record_check_pending(s->session) + s->ra_len + TLS_RECORD_SLACK;
  return s->expect > held ? s->expect - held : 0;
}

static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t len) {
  tls_socket *s = p;
  if (s->transport_error) {
    gnutls_transport_set_errno(s->session, EIO);
    return -1;
  }
  if (s->ra_len == 0 && s->waiting_readable) {
    gnutls_transport_set_errno(s->session, EAGAIN);
    return -1;
  }
  if (s->ra_len == 0) {
    stream_socket_expect(s->transport, transport_share(s));
    int n = stream_socket_read_if_ready(s->transport, s->ra, TLS_READ_AHEAD, on_readable, s);
    if (n > 0) {
      s->ra_pos = 0;
      s->ra_len = (size_t)n;
    } else {
      return pull_result(s, n);
    }
  }
  size_t take = len < s->ra_len ? len : s->ra_len;
  memcpy(buf, s->ra + s->ra_pos, take);
  s->ra_pos += take;
  s->ra_len -= take;
  return (ssize_t)take;
}

/* A transport read that gave no bytes: end of stream, wait, or error. */
static ssize_t pull_result(tls_socket *s, int rc) {
  if (rc == 0) {
    s->transport_eof = true;
    return 0;
  }
  if (rc == CRONC_ERR_IO_PENDING) {
    s->waiting_readable = true;
    gnutls_transport_set_errno(s->session, EAGAIN);
    return -1;
  }
  s->transport_error = rc;
  gnutls_transport_set_errno(s->session, EIO);
  return -1;
}

static int pull_timeout(gnutls_transport_ptr_t p, unsigned ms) {
  /* Only consulted for blocking waits, which we never do: "maybe ready",
   * then pull answers EAGAIN if not. */
  return 1;
}

static bool buf_append(tls_buf *b, const uint8_t *d, size_t len) {
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 16384 + 256;
    while (cap < b->len + len)
      cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
      return false;
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, d, len);
  b->len += len;
  return true;
}

/* Writes flight (and then queue) to the transport until it goes pending or
 * everything is out. */
static void flush_flight(tls_socket *s) {
  while (!s->writing && !s->transport_error) {
    if (s->flight.len == 0) {
      if (s->queue.len == 0)
        return;
      tls_buf t = s->flight;
      s->flight = s->queue;
      s->queue = t;
    }
    int rc = stream_socket_write(s->transport, s->flight.data, s->flight.len, on_written, s);
    if (rc == CRONC_ERR_IO_PENDING) {
      s->writing = true;
      return;
    }
    if (rc < 0) {
      s->transport_error = rc;
      return;
    }
    s->flight.len = 0;
  }
}

static ssize_t push_vec(gnutls_transport_ptr_t p, const giovec_t *iov, int iovcnt) {
  tls_socket *s = p;
  if (s->transport_error) {
    gnutls_transport_set_errno(s->session, EPIPE);
    return -1;
  }
  size_t total = 0;
  for (int i = 0; i < iovcnt; i++)
    total += iov[i].iov_len;
  size_t done = 0;
  if (!s->writing && s->flight.len == 0 && s->transport->vt->try_writev && iovcnt <= 64) {
    socket_iovec v[64];
    for (int i = 0; i < iovcnt; i++)
      v[i] = (socket_iovec){iov[i].iov_base, iov[i].iov_len};
    int rc = s->transport->vt->try_writev(s->transport, v, (size_t)iovcnt);
    if (rc < 0) {
      s->transport_error = rc;
      gnutls_transport_set_errno(s->session, EPIPE);
      return -1;
    }
    done = (size_t)rc;
  }
  if (done == total)
    return (ssize_t)total;
  /* The kernel is full: keep the rest ourselves (behind anything in flight). */
  tls_buf *b = s->writing || s->flight.len ? &s->queue : &s->flight;
  size_t skip = done;
  for (int i = 0; i < iovcnt; i++) {
    const uint8_t *base = iov[i].iov_base;
    size_t len = iov[i].iov_len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    if (!buf_append(b, base + skip, len - skip)) {
      s->transport_error = CRONC_ERR_OUT_OF_MEMORY;
      gnutls_transport_set_errno(s->session, ENOMEM);
      return -1;
    }
    skip = 0;
  }
  flush_flight(s);
  return (ssize_t)total;
}

/* ---- error mapping ---------------------------------------------------------- */

static int map_alert(gnutls_alert_description_t a) {
  switch (a) {
  case GNUTLS_A_HANDSHAKE_FAILURE:
  case GNUTLS_A_PROTOCOL_VERSION:
  case GNUTLS_A_INSUFFICIENT_SECURITY:
    return CRONC_ERR_SSL_VERSION_OR_CIPHER_MISMATCH;
  case GNUTLS_A_BAD_RECORD_MAC:
    return CRONC_ERR_SSL_BAD_RECORD_MAC_ALERT;
  case GNUTLS_A_DECRYPT_ERROR:
    return CRONC_ERR_SSL_DECRYPT_ERROR_ALERT;
  case GNUTLS_A_UNRECOGNIZED_NAME:
    return CRONC_ERR_SSL_UNRECOGNIZED_NAME_ALERT;
  case GNUTLS_A_CERTIFICATE_REQUIRED:
  case GNUTLS_A_BAD_CERTIFICATE:
  case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
    return CRONC_ERR_BAD_SSL_CLIENT_AUTH_CERT;
  default:
    return CRONC_ERR_SSL_PROTOCOL_ERROR;
  }
}

static int map_gnutls_error(tls_socket *s, int r) {
  if (s->transport_error)
    return s->transport_error;
  switch (r) {
  case GNUTLS_E_PREMATURE_TERMINATION:
  case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
    return s->transport_eof ? CRONC_ERR_CONNECTION_CLOSED : CRONC_ERR_SSL_PROTOCOL_ERROR;
  case GNUTLS_E_FATAL_ALERT_RECEIVED:
  case GNUTLS_E_WARNING_ALERT_RECEIVED:
    return map_alert(gnutls_alert_get(s->session));
  case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
  case GNUTLS_E_NO_CIPHER_SUITES:
  case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
  case GNUTLS_E_NO_COMMON_KEY_SHARE:
  case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
  case GNUTLS_E_INSUFFICIENT_SECURITY:
  case GNUTLS_E_NO_PRIORITIES_WERE_SET:
  case GNUTLS_E_UNKNOWN_PK_ALGORITHM:
  case GNUTLS_E_UNWANTED_ALGORITHM:
    return CRONC_ERR_SSL_VERSION_OR_CIPHER_MISMATCH;
  case GNUTLS_E_MEMORY_ERROR:
    return CRONC_ERR_OUT_OF_MEMORY;
  case GNUTLS_E_PULL_ERROR:
  case GNUTLS_E_PUSH_ERROR:
    return s->transport_eof ? CRONC_ERR_CONNECTION_CLOSED : CRONC_ERR_CONNECTION_RESET;
  default:
    return CRONC_ERR_SSL_PROTOCOL_ERROR;
  }
}

/* ---- handshake ---------------------------------------------------------------- */

static int on_ticket(gnutls_session_t session, unsigned htype, unsigned when, unsigned incoming,
                     const gnutls_datum_t *msg) {
  tls_socket *s = gnutls_session_get_ptr(session);
  if (!incoming || when != GNUTLS_HOOK_POST)
    return 0;
  gnutls_datum_t data = {NULL, 0};
  if (gnutls_session_get_data2(session, &data) >= 0) {
    tls_context_session_put(s->ctx, s->host, s->port, &data);
    gnutls_free(data.data);
  }
  return 0;
}

static int verify_peer(tls_socket *s) {
  unsigned status = 0;
  int rc = tls_context_verify_peers(s->ctx, s->session, s->host, &status);
  if (rc < 0)
    return CRONC_ERR_CERT_INVALID; /* no or unparsable certificate */
  s->cert_status = status;
  int err = tls_map_cert_status(status);
  if (err)
    return err;
  return tls_context_check_pins(s->ctx, s->host, s->session);
}

static int do_handshake(tls_socket *s) {
  int r;
  int spins = 0;
  do {
    r = gnutls_handshake(s->session);
    /* EAGAIN without a pending transport wait means "call again". */
  } while (r < 0 && !gnutls_error_is_fatal(r) && ++spins < 64 &&
           (r != GNUTLS_E_AGAIN || (!s->waiting_readable && !s->transport_error)));
  if (r == GNUTLS_E_AGAIN) {
    if (s->transport_error)
      return s->transport_error;
    return s->waiting_readable ? CRONC_ERR_IO_PENDING : CRONC_ERR_SSL_PROTOCOL_ERROR;
  }
  if (r < 0) {
    int err = map_gnutls_error(s, r);
    netlog_add_net_error(tls_context_netlog(s->ctx), s->source, NETLOG_TYPE_FAILED, err);
    return err;
  }
  s->tls_end_us = base_clock_ticks(tls_context_clock(s->ctx));
  s->resumed = gnutls_session_is_resumed(s->session) != 0;
  gnutls_protocol_t v = gnutls_protocol_get_version(s->session);
  s->version = v == GNUTLS_TLS1_3 ? 0x0304 : v == GNUTLS_TLS1_2 ? 0x0303 : 0;
  gnutls_datum_t proto = {NULL, 0};
  if (gnutls_alpn_get_selected_protocol(s->session, &proto) == 0 && proto.size &&
      proto.size < sizeof(s->alpn)) {
    memcpy(s->alpn, proto.data, proto.size);
    s->alpn[proto.size] = 0;
  }
  int err = verify_peer(s);
  if (err) {
    netlog_add_net_error(tls_context_netlog(s->ctx), s->source, NETLOG_TYPE_FAILED, err);
    return err;
  }
  if (v != GNUTLS_TLS1_3) {
    /* TLS 1.2: the session is resumable right away (1.3 waits for tickets). */
    gnutls_datum_t data = {NULL, 0};
    if (gnutls_session_get_data2(s->session, &data) >= 0) {
      tls_context_session_put(s->ctx, s->host, s->port, &data);
      gnutls_free(data.data);
    }
  }
  return CRONC_OK;
}

static void finish_handshake(tls_socket *s, int rc) {
  s->state = rc == CRONC_OK ? TLS_CONNECTED : TLS_FAILED;
  if (rc != CRONC_OK)
    s->error = rc;
  netlog *nl = tls_context_netlog(s->ctx);
  if (netlog_is_capturing(nl)) {
    char params[160];
    if (rc != CRONC_OK)
      snprintf(params, sizeof params, "{\"net_error\":%d}", rc);
    else
      snprintf(
          params, sizeof params, "{\"version\":\"%s\",\"next_proto\":\"%s\",\"is_resumed\":%s}",
          s->version == 0x0304 ? "TLS 1.3" : "TLS 1.2", s->alpn, s->resumed ? "true" : "false");
    netlog_add(nl, s->source, NETLOG_TYPE_SSL_CONNECT, NETLOG_PHASE_END, params);
  }
}

int tls_socket_connect(stream_socket *ss, socket_io_fn cb, void *user_data) {
  if (!tls_socket_is_tls(ss) || !cb)
    return CRONC_ERR_INVALID_ARGUMENT;
  tls_socket *s = from_stream(ss);
  if (s->state != TLS_NEW)
    return CRONC_ERR_INVALID_ARGUMENT;
  s->state = TLS_HANDSHAKING;
  s->tls_start_us = base_clock_ticks(tls_context_clock(s->ctx));
  netlog_add(tls_context_netlog(s->ctx), s->source, NETLOG_TYPE_SSL_CONNECT, NETLOG_PHASE_BEGIN,
             NULL);
  int rc = do_handshake(s);
  if (rc == CRONC_ERR_IO_PENDING) {
    s->connect_cb = cb;
    s->connect_ud = user_data;
    return rc;
  }
  finish_handshake(s, rc);
  return rc;
}

/* ---- reads ---------------------------------------------------------------------- */

static int read_record(tls_socket *s, uint8_t *buf, size_t len) {
  for (int spins = 0; spins < 64; spins++) {
    ssize_t r = gnutls_record_recv(s->session, buf, len);
    if (r > 0) {
      s->ever_used = true;
      s->expect = s->expect > (uint64_t)r ? s->expect - (uint64_t)r : 0;
      return (int)r;
    }
    if (r == 0)
      return 0; /* close_notify */
    if (r == GNUTLS_E_AGAIN) {
      if (s->transport_error)
        return s->transport_error;
      if (s->waiting_readable)
        return CRONC_ERR_IO_PENDING;
      continue; /* a post-handshake message (ticket) was consumed: read on */
    }
    if (r == GNUTLS_E_INTERRUPTED || r == GNUTLS_E_REHANDSHAKE ||
        (r == GNUTLS_E_WARNING_ALERT_RECEIVED &&
         gnutls_alert_get(s->session) != GNUTLS_A_CLOSE_NOTIFY))
      continue; /* renegotiation requests are ignored (Chromium refuses them) */
    if (r == GNUTLS_E_WARNING_ALERT_RECEIVED)
      return 0;
    return map_gnutls_error(s, (int)r);
  }
  return CRONC_ERR_SSL_PROTOCOL_ERROR;
}

/* One read hands over every record already here (read ahead, or decrypted
 * inside GnuTLS), not just the first: a 64 KiB socket read holds four 16 KiB
 * records, and a completion per record costs the reader a loop turn each.
 * Only bytes in hand are taken, so this never waits; an end or error met
 * after some bytes is kept for the next read. */
static int do_read(tls_socket *s, uint8_t *buf, size_t len) {
  if (s->has_deferred) {
    s->has_deferred = false;
    return s->deferred_rc;
  }
  int rc = read_record(s, buf, len);
  if (rc <= 0)
    return rc;
  size_t got = (size_t)rc;
  while (got < len && (s->ra_len > 0 || gnutls_record_check_pending(s->session) > 0)) {
    rc = read_record(s, buf + got, len - got);
    if (rc == CRONC_ERR_IO_PENDING)
      break;
    if (rc <= 0) {
      s->deferred_rc = rc;
      s->has_deferred = true;
      break;
    }
    got += (size_t)rc;
  }
  return (int)got;
}

static int read_common(tls_socket *s, uint8_t *buf, size_t len, socket_io_fn cb, void *ud,
                       bool if_ready) {
  if (s->state != TLS_CONNECTED)
    return s->error ? s->error : CRONC_ERR_SOCKET_NOT_CONNECTED;
  if (s->read_cb)
    return CRONC_ERR_INVALID_ARGUMENT;
  int rc = do_read(s, buf, len);
  if (rc != CRONC_ERR_IO_PENDING)
    return rc;
  s->read_cb = cb;
  s->read_ud = ud;
  s->read_buf = if_ready ? NULL : buf;
  s->read_len = if_ready ? 0 : len;
  return rc;
}

static int tls_read(stream_socket *ss, uint8_t *buf, size_t len, socket_io_fn cb, void *ud) {
  return read_common(from_stream(ss), buf, len, cb, ud, false);
}

static int tls_read_if_ready(stream_socket *ss, uint8_t *buf, size_t len, socket_io_fn cb,
                             void *ud) {
  return read_common(from_stream(ss), buf, len, cb, ud, true);
}

static void tls_cancel_read_if_ready(stream_socket *ss) {
  tls_socket *s = from_stream(ss);
  if (s->read_cb && !s->read_buf) {
    s->read_cb = NULL;
    s->read_ud = NULL;
  }
}

/* The transport became readable (or failed): resume what waits. */
static void on_readable(int result, void *ud) {
  tls_socket *s = ud;
  s->waiting_readable = false;
  if (result < 0)
    s->transport_error = result;
  if (s->state == TLS_HANDSHAKING) {
    int rc = do_handshake(s);
    if (rc == CRONC_ERR_IO_PENDING)
      return;
    finish_handshake(s, rc);
    socket_io_fn cb = s->connect_cb;
    s->connect_cb = NULL;
    cb(rc, s->connect_ud); /* may free s */
    return;
  }
  if (!s->read_cb)
    return;
  int rc;
  if (s->read_buf) {
    rc = do_read(s, s->read_buf, s->read_len);
    if (rc == CRONC_ERR_IO_PENDING)
      return;
  } else {
    rc = result < 0 ? result : CRONC_OK;
  }
  socket_io_fn cb = s->read_cb;
  void *cud = s->read_ud;
  s->read_cb = NULL;
  s->read_ud = NULL;
  s->read_buf = NULL;
  cb(rc, cud); /* may free s */
}

/* ---- writes ------------------------------------------------------------------- */

static void on_written(int result, void *ud) {
  tls_socket *s = ud;
  s->writing = false;
  if (result < 0)
    s->transport_error = result;
  else
    s->flight.len = 0;
  flush_flight(s);
  if (s->writing || !s->write_cb)
    return;
  socket_io_fn cb = s->write_cb;
  s->write_cb = NULL;
  cb(s->transport_error ? s->transport_error : s->write_total, s->write_ud); /* may free s */
}

static int send_all(tls_socket *s, const uint8_t *d, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t r = gnutls_record_send(s->session, d + off, len - off);
    if (r == GNUTLS_E_INTERRUPTED || r == GNUTLS_E_AGAIN)
      r = gnutls_record_send(s->session, NULL, 0); /* resume the cached record */
    if (r < 0)
      return map_gnutls_error(s, (int)r);
    off += (size_t)r;
  }
  return CRONC_OK;
}

static int tls_writev(stream_socket *ss, const socket_iovec *iov, size_t n, socket_io_fn cb,
                      void *ud) {
  tls_socket *s = from_stream(ss);
  if (s->state != TLS_CONNECTED)
    return s->error ? s->error : CRONC_ERR_SOCKET_NOT_CONNECTED;
  if (s->write_cb)
    return CRONC_ERR_INVALID_ARGUMENT;
  size_t total = socket_iovec_total(iov, n);
  if (total > INT32_MAX)
    return CRONC_ERR_INVALID_ARGUMENT;
  bool cork = n > 1;
  if (cork)
    gnutls_record_cork(s->session);
  int rc = CRONC_OK;
  for (size_t i = 0; i < n && rc == CRONC_OK; i++)
    if (iov[i].len)
      rc = send_all(s, iov[i].base, iov[i].len);
  if (cork) {
    int u = gnutls_record_uncork(s->session, GNUTLS_RECORD_WAIT);
    if (rc == CRONC_OK && u < 0)
      rc = map_gnutls_error(s, u);
  }
  if (rc == CRONC_OK && s->transport_error)
    rc = s->transport_error;
  if (rc != CRONC_OK) {
    s->state = TLS_FAILED;
    s->error = rc;
    return rc;
  }
  s->ever_used = true;
  if (!s->writing)
    return (int)total;
  s->write_cb = cb;
  s->write_ud = ud;
  s->write_total = (int)total;
  return CRONC_ERR_IO_PENDING;
}

/* ---- lifetime and queries ------------------------------------------------------ */

int tls_socket_new(tls_context *ctx, stream_socket *transport, const tls_socket_params *p,
                   stream_socket **out) {
  if (out)
    *out = NULL;
  if (!ctx || !transport || !p || !out || !p->host || !*p->host || (p->alpn_count && !p->alpn))
    return CRONC_ERR_INVALID_ARGUMENT;
  gnutls_datum_t protos[8];
  if (p->alpn_count > 8)
    return CRONC_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < p->alpn_count; i++) {
    size_t l = p->alpn[i] ? strlen(p->alpn[i]) : 0;
    if (l == 0 || l > 255)
      return CRONC_ERR_INVALID_ARGUMENT;
    protos[i] = (gnutls_datum_t){(unsigned char *)p->alpn[i], (unsigned)l};
  }
  tls_socket *s = calloc(1, sizeof(*s));
  if (!s)
    return CRONC_ERR_OUT_OF_MEMORY;
  s->ra = malloc(TLS_READ_AHEAD);
  if (!s->ra) {
    free(s);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  s->base.vt = &tls_vtable;
  s->ctx = ctx;
  s->transport = transport;
  s->port = p->port;
  s->source = netlog_source_new(tls_context_netlog(ctx), NETLOG_SOURCE_SOCKET);
  /* "[::1]" -> "::1" for the IP-literal check and verification. */
  size_t hl = strlen(p->host);
  const char *h = p->host;
  if (hl > 2 && h[0] == '[' && h[hl - 1] == ']') {
    h++;
    hl -= 2;
  }
  s->host = strndup(h, hl);
  if (!s->host) {
    free(s->ra);
    free(s);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  int rc = gnutls_init(&s->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
  if (rc < 0) {
    free(s->host);
    free(s->ra);
    free(s);
    return rc == GNUTLS_E_MEMORY_ERROR ? CRONC_ERR_OUT_OF_MEMORY : CRONC_ERR_SSL_PROTOCOL_ERROR;
  }
  int result = CRONC_OK;
  if (gnutls_priority_set(s->session, tls_context_priority(ctx)) < 0 ||
      gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, tls_context_credentials(ctx)) < 0)
    result = CRONC_ERR_SSL_PROTOCOL_ERROR;
  if (result == CRONC_OK && !is_ip_literal(s->host) &&
      gnutls_server_name_set(s->session, GNUTLS_NAME_DNS, s->host, strlen(s->host)) < 0)
    result = CRONC_ERR_SSL_PROTOCOL_ERROR;
  if (result == CRONC_OK && p->alpn_count &&
      gnutls_alpn_set_protocols(s->session, protos, (unsigned)p->alpn_count, 0) < 0)
    result = CRONC_ERR_SSL_PROTOCOL_ERROR;
  if (result != CRONC_OK) {
    gnutls_deinit(s->session);
    free(s->host);
    free(s->ra);
    free(s);
    return result;
  }
  gnutls_session_set_ptr(s->session, s);
  gnutls_transport_set_ptr(s->session, s);
  gnutls_transport_set_pull_function(s->session, pull);
  gnutls_transport_set_pull_timeout_function(s->session, pull_timeout);
  gnutls_transport_set_vec_push_function(s->session, push_vec);
  gnutls_handshake_set_timeout(s->session, GNUTLS_INDEFINITE_TIMEOUT); /* the connect job's */
  gnutls_handshake_set_hook_function(s->session, GNUTLS_HANDSHAKE_NEW_SESSION_TICKET,
                                     GNUTLS_HOOK_POST, on_ticket);
  gnutls_datum_t cached;
  if (tls_context_session_take(ctx, s->host, s->port, &cached)) {
    gnutls_session_set_data(s->session, cached.data, cached.size);
    gnutls_free(cached.data);
  }
  *out = &s->base;
  return CRONC_OK;
}

static void tls_disconnect(stream_socket *ss) {
  tls_socket *s = from_stream(ss);
  if (s->state != TLS_FAILED)
    s->state = TLS_DISCONNECTED;
  if (!s->error)
    s->error = CRONC_ERR_SOCKET_NOT_CONNECTED;
  s->connect_cb = NULL;
  s->read_cb = NULL;
  s->write_cb = NULL;
  stream_socket_disconnect(s->transport);
}

static void tls_free(stream_socket *ss) {
  tls_socket *s = from_stream(ss);
  if (s->state == TLS_HANDSHAKING) /* abandoned mid-handshake: close the BEGIN */
    netlog_end_net_error(tls_context_netlog(s->ctx), s->source, NETLOG_TYPE_SSL_CONNECT,
                         CRONC_ERR_ABORTED);
  stream_socket_free(s->transport); /* its callbacks (ours) never run again */
  gnutls_deinit(s->session);
  free(s->ra);
  free(s->flight.data);
  free(s->queue.data);
  free(s->host);
  free(s);
}

static bool tls_is_connected(const stream_socket *ss) {
  const tls_socket *s = from_stream(ss);
  return s->state == TLS_CONNECTED && stream_socket_is_connected(s->transport);
}

static bool tls_is_connected_and_idle(const stream_socket *ss) {
  const tls_socket *s = from_stream(ss);
  return s->state == TLS_CONNECTED && gnutls_record_check_pending(s->session) == 0 &&
         s->ra_len == 0 && stream_socket_is_connected_and_idle(s->transport);
}

static bool tls_was_ever_used(const stream_socket *ss) { return from_stream(ss)->ever_used; }

static int tls_peer_address(const stream_socket *ss, struct sockaddr_storage *out) {
  return stream_socket_peer_address(from_stream(ss)->transport, out);
}

static int tls_local_address(const stream_socket *ss, struct sockaddr_storage *out) {
  return stream_socket_local_address(from_stream(ss)->transport, out);
}

static void tls_connection_info(const stream_socket *ss, socket_connection_info *out) {
  const tls_socket *s = from_stream(ss);
  stream_socket_connection_info(s->transport, out);
  out->tls_start_us = s->tls_start_us;
  out->tls_end_us = s->tls_end_us;
  out->tls_version = s->version;
  out->tls_session_resumed = s->resumed;
  memcpy(out->alpn, s->alpn, sizeof(out->alpn));
}

static const char *tls_alpn(const stream_socket *ss) { return from_stream(ss)->alpn; }

/* Kept in plaintext; the transport gets its ciphertext share now (a smaller
 * promise may end a wait at once) and again at each of its reads. */
static void tls_expect(stream_socket *ss, uint64_t bytes) {
  tls_socket *s = from_stream(ss);
  s->expect = bytes;
  if (s->state == TLS_CONNECTED)
    stream_socket_expect(s->transport, transport_share(s));
}

unsigned tls_socket_cert_status(const stream_socket *ss) {
  return tls_socket_is_tls(ss) ? from_stream(ss)->cert_status : 0;
}

bool tls_socket_covers_host(const stream_socket *ss, const char *host) {
  if (!tls_socket_is_tls(ss) || !host)
    return false;
  const tls_socket *s = from_stream(ss);
  if (s->state != TLS_CONNECTED)
    return false;
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(s->session, &n);
  if (!certs || n == 0)
    return false;
  gnutls_x509_crt_t crt;
  if (gnutls_x509_crt_init(&crt) < 0)
    return false;
  bool ok = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0 &&
            gnutls_x509_crt_check_hostname2(crt, host, 0) != 0;
  gnutls_x509_crt_deinit(crt);
  return ok && tls_context_check_pins(s->ctx, host, s->session) == CRONC_OK;
}

static const stream_socket_vtable tls_vtable = {
    .name = "tls",
    .read = tls_read,
    .read_if_ready = tls_read_if_ready,
    .cancel_read_if_ready = tls_cancel_read_if_ready,
    .writev = tls_writev,
    .try_writev = NULL,
    .disconnect = tls_disconnect,
    .free = tls_free,
    .is_connected = tls_is_connected,
    .is_connected_and_idle = tls_is_connected_and_idle,
    .was_ever_used = tls_was_ever_used,
    .peer_address = tls_peer_address,
    .local_address = tls_local_address,
    .connection_info = tls_connection_info,
    .alpn = tls_alpn,
    .expect = tls_expect,
};
