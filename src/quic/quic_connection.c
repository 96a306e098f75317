/* quic/quic_connection: transport half of a QUIC connection: ngtcp2, the
 * GnuTLS session, the UDP socket, timers, the batched write loop, errors,
 * tickets and the dispatch of callbacks (see quic_internal.h). */
#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "dns/address_list.h"
#include "quic/quic_internal.h"
#include "quic/quic_ticket.h"

/* TLS 1.3 only, as QUIC requires; no middlebox compatibility mode. */
#define QUIC_TLS_PRIORITY                                                                          \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"        \
  "+AES-128-CCM:%DISABLE_TLS13_COMPAT_MODE"

#define QUIC_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define QUIC_DEFAULT_IDLE_TIMEOUT_MS      30000
/* Receive windows: start generous (loopback and LAN bulk transfers) and let
 * ngtcp2 auto-tune up to the maximum as the application consumes. */
#define QUIC_INITIAL_STREAM_WINDOW (2u * 1024 * 1024)
#define QUIC_INITIAL_CONN_WINDOW   (8u * 1024 * 1024)
#define QUIC_MAX_STREAM_WINDOW     (16u * 1024 * 1024)
#define QUIC_MAX_CONN_WINDOW       (32u * 1024 * 1024)
/* ACK after this many ack-eliciting packets (ngtcp2's default is 2): fewer
 * ACKs to write and encrypt per received byte; max_ack_delay still bounds
 * the wait. */
#define QUIC_ACK_THRESH    8
#define QUIC_GSO_MAX_BYTES 65000

static void conn_die(quic_conn *c, int error);

uint64_t quic_conn_now_ns(quic_conn *c) { return (uint64_t)base_clock_ticks(c->clock) * 1000u; }

/* ---- NetLog ------------------------------------------------------------------------------ */

void quic_conn_log(quic_conn *c, netlog_source source, netlog_event_type type, const char *fmt,
                   ...) {
  if (!netlog_is_capturing(c->netlog))
    return;
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  netlog_add(c->netlog, source, type, NETLOG_PHASE_NONE,
             n >= 0 && (size_t)n < sizeof buf ? buf : NULL);
}

/* QUIC_SESSION begin: the server id, the destination address and whether
 * the connection tries to resume (0-RTT). */
static void log_session_begin(quic_conn *c, const struct sockaddr *peer) {
  c->nl_begun = true;
  if (!netlog_is_capturing(c->netlog))
    return;
  const struct sockaddr_storage *ss = (const struct sockaddr_storage *)peer;
  char addr[INET6_ADDRSTRLEN];
  dns_address_to_string(ss, addr, sizeof addr);
  uint16_t dport = dns_address_port(ss);
  strbuf sb;
  strbuf_init(&sb);
  strbuf_append_str(&sb, "{\"host\":");
  strbuf_json_cstr(&sb, c->host);
  strbuf_appendf(&sb,
                 ",\"port\":%u,\"dest\":\"%s%s%s:%u\",\"resumed_attempt\":%s,"
                 "\"version\":\"RFC_V1\"}",
                 c->port, peer->sa_family == AF_INET6 ? "[" : "", addr,
                 peer->sa_family == AF_INET6 ? "]" : "", dport,
                 c->early_attempted ? "true" : "false");
  netlog_add(c->netlog, c->source, NETLOG_TYPE_QUIC_SESSION, NETLOG_PHASE_BEGIN,
             strbuf_failed(&sb) ? NULL : strbuf_cstr(&sb));
  strbuf_free(&sb);
}

/* QUIC_SESSION_CLOSED then the QUIC_SESSION end, once. */
static void log_session_end(quic_conn *c, int error) {
  if (!c->nl_begun || c->nl_ended)
    return;
  c->nl_ended = true;
  if (!netlog_is_capturing(c->netlog))
    return;
  char buf[48];
  snprintf(buf, sizeof buf, "{\"net_error\":%d}", error);
  netlog_add(c->netlog, c->source, NETLOG_TYPE_QUIC_SESSION_CLOSED, NETLOG_PHASE_NONE, buf);
  netlog_add(c->netlog, c->source, NETLOG_TYPE_QUIC_SESSION, NETLOG_PHASE_END, buf);
}

/* ---- ngtcp2 callbacks -------------------------------------------------------------- */

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref) {
  quic_conn *c = ref->user_data;
  return c->conn;
}

static void rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx) {
  (void)ctx;
  gnutls_rnd(GNUTLS_RND_RANDOM, dest, len);
}

static int get_new_cid_cb(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
                          void *ud) {
  (void)conn;
  (void)ud;
  if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) != 0 ||
      gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  cid->datalen = cidlen;
  return 0;
}

static void capture_peer_cert(quic_conn *c) {
  if (c->peer_cert)
    return;
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(c->session, &n);
  if (!certs || n == 0 || !certs[0].size)
    return;
  c->peer_cert = malloc(certs[0].size);
  if (c->peer_cert) {
    memcpy(c->peer_cert, certs[0].data, certs[0].size);
    c->peer_cert_len = certs[0].size;
  }
}

static int handshake_completed_cb(ngtcp2_conn *conn, void *ud) {
  quic_conn *c = ud;
  c->handshake_done = true;
  c->timing.connect_end = c->timing.ssl_end = base_clock_ticks(c->clock);
  c->resumed = gnutls_session_is_resumed(c->session) != 0;
  capture_peer_cert(c);
  if (c->early_attempted) {
    c->early_accepted = (gnutls_session_get_flags(c->session) & GNUTLS_SFLAGS_EARLY_DATA) != 0;
    if (!c->early_accepted && ngtcp2_conn_early_data_rejected(conn) != 0)
      return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  if (!c->h3)
    c->h3_needs_setup = true;
  return 0;
}

static int handshake_confirmed_cb(ngtcp2_conn *conn, void *ud) {
  (void)conn;
  ((quic_conn *)ud)->confirmed = true;
  return 0;
}

/* 0-RTT was refused: the streams and their ids are gone; requests go out
 * again on a fresh HTTP/3 session once the handshake completed. */
static int early_data_rejected_cb(ngtcp2_conn *conn, void *ud) {
  (void)conn;
  quic_conn *c = ud;
  c->early_rejected = true;
  netlog_add_event(c->netlog, c->source, NETLOG_TYPE_QUIC_SESSION_ZERO_RTT_REJECTED, NULL);
  h3_teardown(c);
  /* Re-queue submitted streams in front, in their original order. */
  quic_stream *front = NULL, **tail = &front;
  for (quic_stream *s = c->streams; s; s = s->next) {
    if (!s->submitted || s->closed)
      continue;
    s->submitted = false;
    s->id = -1;
    s->upload_off = 0;
    s->queued = true;
    *tail = s;
    tail = &s->qnext;
  }
  *tail = c->q_head;
  c->q_head = front;
  if (!c->q_tail || !*tail) {
    quic_stream *t = c->q_head;
    while (t && t->qnext)
      t = t->qnext;
    c->q_tail = t;
  }
  c->h3_needs_setup = true;
  return 0;
}

static int recv_stream_data_cb(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t offset,
                               const uint8_t *data, size_t len, void *ud, void *sud) {
  (void)conn;
  (void)offset;
  if (sud)
    ((quic_stream *)sud)->bytes_received += (int64_t)len;
  return h3_on_stream_data(ud, flags, id, data, len);
}

static int acked_cb(ngtcp2_conn *conn, int64_t id, uint64_t offset, uint64_t len, void *ud,
                    void *sud) {
  (void)conn;
  (void)offset;
  if (sud)
    ((quic_stream *)sud)->bytes_sent += (int64_t)len;
  return h3_on_acked(ud, id, len);
}

static int stream_close_cb(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t app_error,
                           void *ud, void *sud) {
  (void)conn;
  (void)sud;
  return h3_on_stream_close(ud, flags, id, app_error);
}

static int stream_reset_cb(ngtcp2_conn *conn, int64_t id, uint64_t final_size, uint64_t app_error,
                           void *ud, void *sud) {
  (void)conn;
  (void)final_size;
  (void)sud;
  return h3_on_stream_reset(ud, id, app_error);
}

static int stop_sending_cb(ngtcp2_conn *conn, int64_t id, uint64_t app_error, void *ud, void *sud) {
  (void)conn;
  (void)sud;
  return h3_on_stream_reset(ud, id, app_error);
}

static int extend_max_stream_data_cb(ngtcp2_conn *conn, int64_t id, uint64_t max_data, void *ud,
                                     void *sud) {
  (void)conn;
  (void)max_data;
  (void)sud;
  return h3_on_extend_max_stream_data(ud, id);
}

static int extend_max_bidi_cb(ngtcp2_conn *conn, uint64_t max_streams, void *ud) {
  (void)conn;
  (void)max_streams;
  (void)ud; /* the queue is retried at dispatch, after this read */
  return 0;
}

/* ---- TLS callbacks ---------------------------------------------------------------------- */

static quic_conn *conn_of_session(gnutls_session_t s) {
  ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(s);
  return ref->user_data;
}

/* The same checks as tls_socket's verify_peer: chain + host name + key
 * usage, then pins. A failure aborts the handshake; the code is kept. */
static int verify_cb(gnutls_session_t session) {
  quic_conn *c = conn_of_session(session);
  unsigned status = 0;
  int err;
  if (tls_context_verify_peers(c->tls, session, c->host, &status) < 0)
    err = CRONC_ERR_CERT_INVALID;
  else
    err = tls_map_cert_status(status);
  if (!err)
    err = tls_context_check_pins(c->tls, c->host, session);
  capture_peer_cert(c);
  if (err) {
    c->cert_error = err;
    return -1;
  }
  return 0;
}

static int ticket_hook(gnutls_session_t session, unsigned htype, unsigned when, unsigned incoming,
                       const gnutls_datum_t *msg) {
  (void)htype;
  (void)when;
  (void)incoming;
  (void)msg;
  quic_conn *c = conn_of_session(session);
  const ngtcp2_transport_params *tp = ngtcp2_conn_get_remote_transport_params(c->conn);
  if (!tp)
    return 0;
  gnutls_datum_t d = {NULL, 0};
  if (gnutls_session_get_data2(session, &d) < 0)
    return 0;
  quic_ticket t = {
      .params =
          {
              .initial_max_data = tp->initial_max_data,
              .initial_max_stream_data_bidi_local = tp->initial_max_stream_data_bidi_local,
              .initial_max_stream_data_bidi_remote = tp->initial_max_stream_data_bidi_remote,
              .initial_max_stream_data_uni = tp->initial_max_stream_data_uni,
              .initial_max_streams_bidi = tp->initial_max_streams_bidi,
              .initial_max_streams_uni = tp->initial_max_streams_uni,
              .active_connection_id_limit = tp->active_connection_id_limit,
              .max_idle_timeout_ms = tp->max_idle_timeout / NGTCP2_MILLISECONDS,
              .max_udp_payload_size = tp->max_udp_payload_size,
              .max_datagram_frame_size = tp->max_datagram_frame_size,
          },
      .session = d.data,
      .session_len = d.size,
  };
  uint8_t *blob;
  size_t len;
  if (quic_ticket_encode(&t, &blob, &len) == CRONC_OK) {
    free(c->pending_ticket);
    c->pending_ticket = blob;
    c->pending_ticket_len = len;
  }
  gnutls_free(d.data);
  return 0;
}

/* ---- errors ---------------------------------------------------------------------------- */

/* A closed connection's net error from what ngtcp2 knows. */
static int error_from_peer_close(quic_conn *c) {
  ngtcp2_connection_close_error e;
  ngtcp2_conn_get_connection_close_error(c->conn, &e);
  quic_conn_log(c, c->source, NETLOG_TYPE_QUIC_SESSION_CONNECTION_CLOSE_FRAME_RECEIVED,
                "{\"quic_error\":%llu,\"application\":%s,\"frame_type\":%llu}",
                (unsigned long long)e.error_code,
                e.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION ? "true" : "false",
                (unsigned long long)e.frame_type);
  if (!c->handshake_done)
    return CRONC_ERR_QUIC_HANDSHAKE_FAILED;
  bool clean = (e.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION &&
                e.error_code == NGHTTP3_H3_NO_ERROR) ||
               (e.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT && e.error_code == 0);
  return clean ? CRONC_ERR_CONNECTION_CLOSED : CRONC_ERR_QUIC_PROTOCOL_ERROR;
}

/* Sends one CONNECTION_CLOSE for ccerr (best effort). */
static void send_close(quic_conn *c) {
  if (!c->conn || !c->udp || ngtcp2_conn_is_in_closing_period(c->conn) ||
      ngtcp2_conn_is_in_draining_period(c->conn))
    return;
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi;
  ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->conn, &ps.path, &pi, c->txbuf, 1500,
                                                      &c->ccerr, quic_conn_now_ns(c));
  if (n > 0)
    udp_socket_send(c->udp, c->txbuf, (size_t)n, (size_t)n);
}

/* A library call failed with rv: choose the net error, close. */
static void handle_lib_error(quic_conn *c, int rv) {
  int err;
  bool silent = false;
  switch (rv) {
  case NGTCP2_ERR_DRAINING:
    err = error_from_peer_close(c);
    silent = true;
    break;
  case NGTCP2_ERR_IDLE_CLOSE:
  case NGTCP2_ERR_HANDSHAKE_TIMEOUT:
    err = CRONC_ERR_TIMED_OUT;
    silent = true;
    break;
  case NGTCP2_ERR_DROP_CONN:
    err = c->handshake_done ? CRONC_ERR_QUIC_PROTOCOL_ERROR : CRONC_ERR_QUIC_HANDSHAKE_FAILED;
    silent = true;
    break;
  case NGTCP2_ERR_CRYPTO:
    err = c->cert_error ? c->cert_error : CRONC_ERR_QUIC_HANDSHAKE_FAILED;
    ngtcp2_connection_close_error_set_transport_error_tls_alert(
        &c->ccerr, ngtcp2_conn_get_tls_alert(c->conn), NULL, 0);
    break;
  case NGTCP2_ERR_CALLBACK_FAILURE:
    err = c->error ? c->error
                   : (c->handshake_done ? CRONC_ERR_QUIC_PROTOCOL_ERROR
                                        : CRONC_ERR_QUIC_HANDSHAKE_FAILED);
    if (c->ccerr.error_code == 0)
      ngtcp2_connection_close_error_set_transport_error_liberr(&c->ccerr, rv, NULL, 0);
    break;
  default:
    err = c->handshake_done ? CRONC_ERR_QUIC_PROTOCOL_ERROR : CRONC_ERR_QUIC_HANDSHAKE_FAILED;
    ngtcp2_connection_close_error_set_transport_error_liberr(&c->ccerr, rv, NULL, 0);
    break;
  }
  if (!silent)
    send_close(c);
  conn_die(c, err);
}

/* ---- write loop ------------------------------------------------------------------------- */

static void on_timer(base_timer *t, void *ud);

static void schedule_timer(quic_conn *c) {
  if (c->dead || !c->timer_open)
    return;
  ngtcp2_tstamp exp = ngtcp2_conn_get_expiry(c->conn);
  if (exp == UINT64_MAX) {
    base_timer_stop(&c->timer);
    return;
  }
  uint64_t now = quic_conn_now_ns(c);
  uint64_t delay = exp > now ? (exp - now + 999999) / 1000000 : 0;
  base_timer_start(&c->timer, delay, 0, on_timer, c);
}

/* Sends the batch in txbuf. false when it must wait (socket full) or the
 * connection died. */
static bool flush_tx(quic_conn *c) {
  if (!c->tx_len)
    return true;
  int rv = udp_socket_send(c->udp, c->txbuf, c->tx_len, c->tx_seg);
  if (rv == CRONC_ERR_IO_PENDING) {
    c->write_blocked = true;
    return false;
  }
  c->tx_len = 0;
  if (rv < 0) {
    conn_die(c, c->handshake_done ? CRONC_ERR_QUIC_PROTOCOL_ERROR : rv);
    return false;
  }
  return true;
}

void quic_conn_write(quic_conn *c) {
  if (c->dead || !c->conn)
    return;
  if (c->in_io) {
    c->write_pending = true;
    return;
  }
  c->write_pending = false;
  if (c->write_blocked || !flush_tx(c))
    return;
  size_t pktmax = ngtcp2_conn_get_path_max_tx_udp_payload_size(c->conn);
  size_t quantum = ngtcp2_conn_get_send_quantum(c->conn);
  size_t max_pkts = quantum / pktmax;
  if (max_pkts > QUIC_GSO_MAX_BYTES / pktmax)
    max_pkts = QUIC_GSO_MAX_BYTES / pktmax;
  if (max_pkts > UDP_MAX_GSO_SEGMENTS)
    max_pkts = UDP_MAX_GSO_SEGMENTS;
  if (max_pkts == 0)
    max_pkts = 1;
  uint64_t ts = quic_conn_now_ns(c);
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi;
  size_t npkts = 0;
  c->in_io++;
  for (;;) {
    int64_t sid = -1;
    int fin = 0;
    nghttp3_vec vec[16];
    nghttp3_ssize nvec = 0;
    if (c->h3 && ngtcp2_conn_get_max_data_left(c->conn)) {
      nvec = nghttp3_conn_writev_stream(c->h3, &sid, &fin, vec, 16);
      if (nvec < 0) {
        ngtcp2_connection_close_error_set_application_error(
            &c->ccerr, nghttp3_err_infer_quic_app_error_code((int)nvec), NULL, 0);
        c->in_io--;
        send_close(c);
        conn_die(c, CRONC_ERR_QUIC_PROTOCOL_ERROR);
        return;
      }
    }
    ngtcp2_ssize ndatalen = -1;
    uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE | (fin ? NGTCP2_WRITE_STREAM_FLAG_FIN : 0);
    uint8_t *dst = c->txbuf + c->tx_len;
    ngtcp2_ssize nwrite =
        ngtcp2_conn_writev_stream(c->conn, &ps.path, &pi, dst, pktmax, &ndatalen, flags, sid,
                                  (const ngtcp2_vec *)vec, (size_t)nvec, ts);
    if (nwrite < 0) {
      if (nwrite == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
        nghttp3_conn_block_stream(c->h3, sid);
        continue;
      }
      if (nwrite == NGTCP2_ERR_STREAM_SHUT_WR) {
        nghttp3_conn_shutdown_stream_write(c->h3, sid);
        continue;
      }
      if (nwrite == NGTCP2_ERR_WRITE_MORE) {
        if (nghttp3_conn_add_write_offset(c->h3, sid, (uint64_t)ndatalen) != 0)
          break;
        continue;
      }
      c->in_io--;
      handle_lib_error(c, (int)nwrite);
      return;
    }
    if (ndatalen >= 0 && sid >= 0 &&
        nghttp3_conn_add_write_offset(c->h3, sid, (uint64_t)ndatalen) != 0) {
      c->in_io--;
      conn_die(c, CRONC_ERR_QUIC_PROTOCOL_ERROR);
      return;
    }
    if (nwrite == 0)
      break;
    size_t n = (size_t)nwrite;
    if (npkts > 0 && n > c->tx_seg) {
      /* GSO needs equal segments (only the last may be shorter): send the
       * batch and start a new one with this packet. If the socket is full
       * the packet is dropped; loss recovery resends its frames. */
      if (!flush_tx(c))
        break;
      memmove(c->txbuf, dst, n);
      npkts = 0;
    }
    if (npkts == 0)
      c->tx_seg = n;
    c->tx_len += n;
    npkts++;
    if (n < c->tx_seg || npkts >= max_pkts) {
      bool paced = npkts >= max_pkts;
      npkts = 0;
      if (!flush_tx(c) || paced)
        break; /* socket full, or the pacing budget spent: the timer or
                  on_writable brings us back */
    }
  }
  c->in_io--;
  if (c->dead)
    return;
  if (c->tx_len && !c->write_blocked)
    flush_tx(c);
  if (c->dead)
    return;
  ngtcp2_conn_update_pkt_tx_time(c->conn, ts);
  schedule_timer(c);
}

static void on_timer(base_timer *t, void *ud) {
  (void)t;
  quic_conn *c = ud;
  if (c->dead)
    return;
  c->in_io++;
  int rv = ngtcp2_conn_handle_expiry(c->conn, quic_conn_now_ns(c));
  c->in_io--;
  if (rv != 0)
    handle_lib_error(c, rv);
  else
    quic_conn_write(c);
  quic_conn_dispatch(c);
  quic_conn_maybe_free(c);
}

/* ---- UDP callbacks --------------------------------------------------------------------- */

static void on_datagram(void *ud, const uint8_t *data, size_t len) {
  quic_conn *c = ud;
  if (c->dead)
    return;
  ngtcp2_pkt_info pi = {0};
  c->in_io++;
  int rv = ngtcp2_conn_read_pkt(c->conn, &c->path, &pi, data, len, quic_conn_now_ns(c));
  c->in_io--;
  if (rv != 0)
    handle_lib_error(c, rv);
}

static void on_batch_done(void *ud) {
  quic_conn *c = ud;
  quic_conn_dispatch(c);
  quic_conn_write(c);
  quic_conn_maybe_free(c);
}

static void on_writable(void *ud) {
  quic_conn *c = ud;
  c->write_blocked = false;
  quic_conn_write(c);
  quic_conn_dispatch(c);
  quic_conn_maybe_free(c);
}

static void on_udp_error(void *ud, int error) {
  quic_conn *c = ud;
  if (c->handshake_done)
    error = CRONC_ERR_QUIC_PROTOCOL_ERROR; /* the server went away mid-session */
  conn_die(c, error);
  quic_conn_dispatch(c);
  quic_conn_maybe_free(c);
}

/* ---- lifetime -------------------------------------------------------------------------- */

static void conn_die(quic_conn *c, int error) {
  if (c->dead)
    return;
  c->dead = true;
  c->error = error ? error : CRONC_ERR_CONNECTION_CLOSED;
  if (c->conn && c->error != CRONC_ERR_CONNECTION_CLOSED) {
    ngtcp2_connection_close_error e;
    ngtcp2_conn_get_connection_close_error(c->conn, &e);
    c->quic_error = e.error_code ? e.error_code : c->ccerr.error_code;
  }
  c->unusable = true;
  if (!c->handshake_done)
    netlog_add_net_error(c->netlog, c->source, NETLOG_TYPE_FAILED, c->error);
  log_session_end(c, c->error);
  if (c->timer_open)
    base_timer_stop(&c->timer);
  if (c->udp) {
    udp_socket_close(c->udp);
    c->udp = NULL;
  }
  /* Streams handed out early (0-RTT) on a connection whose handshake never
   * completed fail as a handshake failure, which the transaction retries
   * (Chromium's ERR_QUIC_HANDSHAKE_FAILED), not as the raw timeout. */
  int serr = !c->handshake_done ? CRONC_ERR_QUIC_HANDSHAKE_FAILED : c->error;
  for (quic_stream *s = c->streams; s; s = s->next)
    quic_stream_set_closed(s, serr);
  quic_conn_post_dispatch(c);
}

void quic_conn_fail(quic_conn *c, int error) {
  if (c->dead)
    return;
  if (!c->in_io)
    send_close(c);
  conn_die(c, error);
}

static void on_timer_closed(base_timer *t, void *ud) {
  (void)t;
  free(ud);
}

void quic_conn_maybe_free(quic_conn *c) {
  if (c->owner_ref || c->streams || c->in_io || c->task_posted)
    return;
  if (!c->dead) {
    /* Nobody needs it: close politely. */
    ngtcp2_connection_close_error_set_application_error(&c->ccerr, NGHTTP3_H3_NO_ERROR, NULL, 0);
    send_close(c);
    conn_die(c, CRONC_ERR_CONNECTION_CLOSED);
    if (c->task_posted)
      return;
  }
  if (c->udp)
    udp_socket_close(c->udp);
  h3_teardown(c);
  if (c->conn)
    ngtcp2_conn_del(c->conn);
  if (c->session)
    gnutls_deinit(c->session);
  free(c->txbuf);
  free(c->peer_cert);
  free(c->pending_ticket);
  if (c->timer_open)
    base_timer_close(&c->timer, on_timer_closed, c);
  else
    free(c);
}

static void dispatch_task(void *arg) {
  quic_conn *c = arg;
  c->task_posted = false;
  quic_conn_dispatch(c);
  quic_conn_write(c);
  quic_conn_maybe_free(c);
}

void quic_conn_post_dispatch(quic_conn *c) {
  if (c->task_posted)
    return;
  if (base_runner_post(c->runner, dispatch_task, c) == CRONC_OK)
    c->task_posted = true;
}

static bool can_submit(quic_conn *c, quic_stream *s) {
  if (!c->h3 || c->dead)
    return false;
  if (c->handshake_done)
    return true;
  /* Early data: only idempotent requests (RFC 9110 §9.2.2 safe methods
   * plus what Chromium sends in 0-RTT). */
  const char *m = s->req ? s->req->method : "";
  return c->early_attempted && !c->early_rejected &&
         (!strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS"));
}

void quic_conn_submit_queued(quic_conn *c) {
  quic_stream **pp = &c->q_head;
  quic_stream *prev = NULL;
  while (*pp) {
    quic_stream *s = *pp;
    if (!can_submit(c, s)) {
      prev = s;
      pp = &s->qnext;
      continue;
    }
    int rv = h3_submit(c, s);
    if (rv == 1)
      break; /* no stream credit: wait for MAX_STREAMS */
    *pp = s->qnext;
    if (c->q_tail == s)
      c->q_tail = prev;
    s->qnext = NULL;
    s->queued = false;
    if (s->send_cb) {
      s->send_done = true;
      s->send_result = rv;
    }
    if (rv < 0)
      quic_stream_set_closed(s, rv);
  }
}

void quic_conn_dispatch(quic_conn *c) {
  if (c->in_io)
    return;
  c->in_io++;
  if (!c->dead && c->h3_needs_setup && c->handshake_done) {
    c->h3_needs_setup = false;
    int rv = h3_setup(c);
    if (rv < 0) {
      c->in_io--;
      quic_conn_fail(c, rv);
      c->in_io++;
    }
  }
  if (c->goaway) {
    /* Requests the server will not process fail retryably; new ones go
     * elsewhere. */
    for (quic_stream *s = c->streams; s; s = s->next)
      if (!s->closed && !s->any_bytes && (s->queued || (s->submitted && s->id >= c->goaway_id))) {
        if (s->submitted)
          h3_cancel(c, s);
        quic_stream_set_closed(s, CRONC_ERR_QUIC_GOAWAY_REQUEST_CAN_BE_RETRIED);
      }
  }
  /* Streams that failed while queued leave the queue. */
  for (quic_stream **pp = &c->q_head; *pp;) {
    if ((*pp)->closed) {
      quic_stream *s = *pp;
      *pp = s->qnext;
      s->qnext = NULL;
      s->queued = false;
      if (s->send_cb && !s->send_done) {
        s->send_done = true;
        s->send_result = s->close_error;
      }
    } else {
      pp = &(*pp)->qnext;
    }
  }
  c->q_tail = NULL;
  for (quic_stream *t = c->q_head; t; t = t->qnext)
    c->q_tail = t;
  if (!c->dead)
    quic_conn_submit_queued(c);

  if (c->owner_ref && !c->hs_reported && (c->handshake_done || c->dead)) {
    c->hs_reported = true;
    c->cbs.on_handshake(c->ud, c, c->handshake_done ? CRONC_OK : c->error);
  }
  if (c->confirmed && !c->nl_confirmed && !c->dead) {
    c->nl_confirmed = true;
    quic_conn_log(c, c->source, NETLOG_TYPE_QUIC_SESSION_HANDSHAKE_CONFIRMED,
                  "{\"srtt_us\":%lld,\"zero_rtt\":%s,\"resumed\":%s}",
                  (long long)quic_conn_smoothed_rtt_us(c), c->early_accepted ? "true" : "false",
                  c->resumed ? "true" : "false");
  }
  if (c->owner_ref && c->confirmed && !c->confirmed_reported && !c->dead) {
    c->confirmed_reported = true;
    if (c->cbs.on_confirmed)
      c->cbs.on_confirmed(c->ud, c, quic_conn_smoothed_rtt_us(c));
  }
  if (c->pending_ticket) {
    uint8_t *b = c->pending_ticket;
    size_t l = c->pending_ticket_len;
    c->pending_ticket = NULL;
    if (c->owner_ref && c->cbs.on_ticket)
      c->cbs.on_ticket(c->ud, c, b, l);
    free(b);
  }
  if (c->goaway)
    c->unusable = true;
  if (c->owner_ref && c->unusable && c->hs_reported && !c->unusable_reported) {
    c->unusable_reported = true;
    if (c->cbs.on_unusable)
      c->cbs.on_unusable(c->ud, c);
  }
  /* Stream completions; a callback may close streams, so rescan. */
  bool again = true;
  while (again) {
    again = false;
    for (quic_stream *s = c->streams; s; s = s->next)
      if (!quic_stream_complete_due(s)) {
        again = true;
        break;
      }
  }
  c->in_io--;
  if (c->write_pending)
    quic_conn_write(c);
}

void quic_conn_consumed(quic_conn *c, int64_t id, uint64_t n) {
  if (c->dead || !n)
    return;
  ngtcp2_conn_extend_max_stream_offset(c->conn, id, n);
  ngtcp2_conn_extend_max_offset(c->conn, n);
}

/* ---- setup ------------------------------------------------------------------------------- */

static bool host_is_ip(const char *host, char *bare, size_t bare_size) {
  size_t l = strlen(host);
  if (l >= 2 && host[0] == '[' && host[l - 1] == ']') {
    if (l - 2 >= bare_size)
      return false;
    memcpy(bare, host + 1, l - 2);
    bare[l - 2] = 0;
  } else {
    if (l >= bare_size)
      return false;
    memcpy(bare, host, l + 1);
  }
  uint8_t tmp[16];
  return inet_pton(AF_INET, bare, tmp) == 1 || inet_pton(AF_INET6, bare, tmp) == 1;
}

static int tls_setup(quic_conn *c, const quic_ticket *ticket) {
  if (gnutls_init(&c->session,
                  GNUTLS_CLIENT | GNUTLS_ENABLE_EARLY_DATA | GNUTLS_NO_END_OF_EARLY_DATA) != 0) {
    c->session = NULL;
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  if (gnutls_priority_set_direct(c->session, QUIC_TLS_PRIORITY, NULL) != 0 ||
      ngtcp2_crypto_gnutls_configure_client_session(c->session) != 0 ||
      gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, tls_context_credentials(c->tls)) !=
          0)
    return CRONC_ERR_FAILED;
  gnutls_session_set_ptr(c->session, &c->conn_ref);
  gnutls_datum_t alpn = {(unsigned char *)"h3", 2};
  gnutls_alpn_set_protocols(c->session, &alpn, 1, GNUTLS_ALPN_MANDATORY);
  if (!c->host_is_ip)
    gnutls_server_name_set(c->session, GNUTLS_NAME_DNS, c->host, strlen(c->host));
  gnutls_session_set_verify_function(c->session, verify_cb);
  gnutls_handshake_set_hook_function(c->session, GNUTLS_HANDSHAKE_NEW_SESSION_TICKET,
                                     GNUTLS_HOOK_POST, ticket_hook);
  if (ticket && gnutls_session_set_data(c->session, ticket->session, ticket->session_len) == 0)
    c->early_attempted = true;
  return CRONC_OK;
}

int quic_conn_new(const quic_conn_params *p, quic_conn **out) {
  *out = NULL;
  if (!p || !p->runner || !p->tls || !p->host || !p->peer || !p->cbs.on_handshake)
    return CRONC_ERR_INVALID_ARGUMENT;
  quic_conn *c = calloc(1, sizeof *c);
  if (!c)
    return CRONC_ERR_OUT_OF_MEMORY;
  c->runner = p->runner;
  c->clock = p->clock ? p->clock : base_clock_system();
  c->netlog = p->netlog;
  c->source = netlog_source_new(p->netlog, NETLOG_SOURCE_QUIC_SESSION);
  c->tls = p->tls;
  c->cbs = p->cbs;
  c->ud = p->ud;
  c->port = p->port;
  c->owner_ref = true;
  c->goaway_id = INT64_MAX;
  c->conn_ref.get_conn = get_conn;
  c->conn_ref.user_data = c;
  ngtcp2_connection_close_error_default(&c->ccerr);
  c->host_is_ip = host_is_ip(p->host, c->host, sizeof c->host);
  c->txbuf = malloc(QUIC_TX_BUF);
  int rv = CRONC_ERR_OUT_OF_MEMORY;
  if (!c->txbuf)
    goto fail;
  rv = base_timer_init(c->runner, &c->timer);
  if (rv != CRONC_OK)
    goto fail;
  c->timer_open = true;
  udp_socket_callbacks ucb = {on_datagram, on_batch_done, on_writable, on_udp_error};
  rv = udp_socket_open(c->runner, p->peer, p->peer_len, &ucb, c, &c->udp);
  if (rv != CRONC_OK)
    goto fail;

  quic_ticket ticket;
  bool have_ticket = p->ticket && quic_ticket_decode(p->ticket, p->ticket_len, &ticket) == CRONC_OK;
  rv = tls_setup(c, have_ticket ? &ticket : NULL);
  if (rv != CRONC_OK)
    goto fail;

  socklen_t ll, pl;
  const struct sockaddr *la = udp_socket_local_addr(c->udp, &ll);
  const struct sockaddr *pa = udp_socket_peer_addr(c->udp, &pl);
  c->path.local.addr = (ngtcp2_sockaddr *)la;
  c->path.local.addrlen = ll;
  c->path.remote.addr = (ngtcp2_sockaddr *)pa;
  c->path.remote.addrlen = pl;

  ngtcp2_cid dcid, scid;
  dcid.datalen = 18;
  scid.datalen = 17;
  gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen);
  gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen);

  ngtcp2_callbacks cb = {0};
  cb.client_initial = ngtcp2_crypto_client_initial_cb;
  cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  cb.handshake_completed = handshake_completed_cb;
  cb.encrypt = ngtcp2_crypto_encrypt_cb;
  cb.decrypt = ngtcp2_crypto_decrypt_cb;
  cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
  cb.recv_stream_data = recv_stream_data_cb;
  cb.acked_stream_data_offset = acked_cb;
  cb.stream_close = stream_close_cb;
  cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
  cb.extend_max_local_streams_bidi = extend_max_bidi_cb;
  cb.rand = rand_cb;
  cb.get_new_connection_id = get_new_cid_cb;
  cb.update_key = ngtcp2_crypto_update_key_cb;
  cb.stream_reset = stream_reset_cb;
  cb.extend_max_stream_data = extend_max_stream_data_cb;
  cb.handshake_confirmed = handshake_confirmed_cb;
  cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  cb.stream_stop_sending = stop_sending_cb;
  cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  cb.early_data_rejected = early_data_rejected_cb;

  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  uint64_t now = quic_conn_now_ns(c);
  settings.initial_ts = now;
  settings.handshake_timeout =
      (p->handshake_timeout_ms ? p->handshake_timeout_ms : QUIC_DEFAULT_HANDSHAKE_TIMEOUT_MS) *
      NGTCP2_MILLISECONDS;
  settings.max_window = QUIC_MAX_CONN_WINDOW;
  settings.max_stream_window = QUIC_MAX_STREAM_WINDOW;
  settings.ack_thresh = QUIC_ACK_THRESH;
  settings.no_pmtud = 1;
  /* A known smoothed RTT seeds loss recovery and pacing (Chromium sends the
   * cached srtt as the initial RTT); RFC 9002's 333 ms default would pace
   * a resumed connection's 0-RTT request tens of milliseconds behind its
   * Initial. */
  if (p->initial_rtt_us > 0)
    settings.initial_rtt = (ngtcp2_duration)p->initial_rtt_us * NGTCP2_MICROSECONDS;

  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_stream_data_bidi_local = QUIC_INITIAL_STREAM_WINDOW;
  params.initial_max_stream_data_uni = 256 * 1024;
  params.initial_max_data = QUIC_INITIAL_CONN_WINDOW;
  params.initial_max_streams_bidi = 0; /* the server opens none (RFC 9114 §6.1) */
  params.initial_max_streams_uni = 3;
  params.max_idle_timeout =
      (p->idle_timeout_ms ? p->idle_timeout_ms : QUIC_DEFAULT_IDLE_TIMEOUT_MS) *
      NGTCP2_MILLISECONDS;

  int nrv = ngtcp2_conn_client_new(&c->conn, &dcid, &scid, &c->path, NGTCP2_PROTO_VER_V1, &cb,
                                   &settings, &params, NULL, c);
  if (nrv != 0) {
    c->conn = NULL;
    rv = nrv == NGTCP2_ERR_NOMEM ? CRONC_ERR_OUT_OF_MEMORY : CRONC_ERR_FAILED;
    goto fail;
  }
  ngtcp2_conn_set_tls_native_handle(c->conn, c->session);
  if (c->early_attempted) {
    ngtcp2_transport_params tp;
    ngtcp2_transport_params_default(&tp);
    tp.initial_max_data = ticket.params.initial_max_data;
    tp.initial_max_stream_data_bidi_local = ticket.params.initial_max_stream_data_bidi_local;
    tp.initial_max_stream_data_bidi_remote = ticket.params.initial_max_stream_data_bidi_remote;
    tp.initial_max_stream_data_uni = ticket.params.initial_max_stream_data_uni;
    tp.initial_max_streams_bidi = ticket.params.initial_max_streams_bidi;
    tp.initial_max_streams_uni = ticket.params.initial_max_streams_uni;
    tp.active_connection_id_limit = ticket.params.active_connection_id_limit;
    tp.max_idle_timeout = ticket.params.max_idle_timeout_ms * NGTCP2_MILLISECONDS;
    tp.max_udp_payload_size = ticket.params.max_udp_payload_size;
    tp.max_datagram_frame_size = ticket.params.max_datagram_frame_size;
    ngtcp2_conn_set_early_remote_transport_params(c->conn, &tp);
  }
  c->timing.connect_start = c->timing.ssl_start = base_clock_ticks(c->clock);
  log_session_begin(c, p->peer);
  if (c->early_attempted) {
    rv = h3_setup(c);
    if (rv != CRONC_OK)
      goto fail;
  }
  quic_conn_write(c); /* the Initial (and 0-RTT) flight */
  if (c->dead) {
    rv = c->error;
    goto fail;
  }
  *out = c;
  return CRONC_OK;

fail:
  log_session_end(c, rv);
  c->owner_ref = false;
  c->dead = true;
  if (c->udp) {
    udp_socket_close(c->udp);
    c->udp = NULL;
  }
  h3_teardown(c);
  if (c->conn)
    ngtcp2_conn_del(c->conn);
  if (c->session)
    gnutls_deinit(c->session);
  free(c->txbuf);
  free(c->peer_cert);
  free(c->pending_ticket);
  if (c->task_posted) {
    /* The posted task still points here: let it find a dead shell. */
    c->conn = NULL;
    c->session = NULL;
    c->txbuf = NULL;
    c->peer_cert = NULL;
    c->pending_ticket = NULL;
    return rv;
  }
  if (c->timer_open)
    base_timer_close(&c->timer, on_timer_closed, c);
  else
    free(c);
  return rv;
}

void quic_conn_release(quic_conn *c) {
  if (!c)
    return;
  c->owner_ref = false;
  quic_conn_maybe_free(c);
}

bool quic_conn_is_usable(const quic_conn *c) {
  if (c->dead || c->unusable || c->goaway)
    return false;
  return c->handshake_done || (c->early_attempted && !c->early_rejected && c->h3);
}

bool quic_conn_handshake_completed(const quic_conn *c) { return c->handshake_done; }
bool quic_conn_early_data_attempted(const quic_conn *c) { return c->early_attempted; }

http_stream *quic_conn_new_stream(quic_conn *c) {
  if (!quic_conn_is_usable(c))
    return NULL;
  quic_stream *s = quic_stream_new(c);
  return s ? &s->base : NULL;
}

bool quic_conn_cert_covers(const quic_conn *c, const char *host) {
  if (!c->peer_cert || !c->handshake_done || !host)
    return false;
  gnutls_x509_crt_t crt;
  if (gnutls_x509_crt_init(&crt) != 0)
    return false;
  gnutls_datum_t d = {c->peer_cert, (unsigned)c->peer_cert_len};
  bool ok = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0 &&
            gnutls_x509_crt_check_hostname(crt, host) != 0;
  gnutls_x509_crt_deinit(crt);
  return ok;
}

int64_t quic_conn_smoothed_rtt_us(quic_conn *c) {
  if (!c->conn)
    return 0;
  ngtcp2_conn_stat st;
  ngtcp2_conn_get_conn_stat(c->conn, &st);
  return (int64_t)(st.smoothed_rtt / NGTCP2_MICROSECONDS);
}

size_t quic_conn_open_streams(const quic_conn *c) {
  size_t n = 0;
  for (quic_stream *s = c->streams; s; s = s->next)
    n++;
  return n;
}

bool quic_conn_resumed(const quic_conn *c) { return c->resumed; }
bool quic_conn_early_data_accepted(const quic_conn *c) { return c->early_accepted; }
netlog_source quic_conn_source(const quic_conn *c) { return c->source; }

void quic_conn_local_address(const quic_conn *c, char *buf, size_t size) {
  if (!size)
    return;
  buf[0] = '\0';
  socklen_t len = 0;
  const struct sockaddr *sa = c->udp ? udp_socket_local_addr(c->udp, &len) : NULL;
  if (!sa || len > sizeof(struct sockaddr_storage))
    return;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  memcpy(&ss, sa, len);
  if (!dns_address_to_string(&ss, buf, size))
    buf[0] = '\0';
}
