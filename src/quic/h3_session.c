/* quic/h3_session: the HTTP/3 half of a QUIC connection on nghttp3 0.8:
 * control and QPACK streams, request submission, response heads and
 * bodies handed to the streams, GOAWAY and resets (see quic_internal.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "quic/quic_internal.h"

static quic_stream *stream_of(quic_conn *c, int64_t id) {
  for (quic_stream *s = c->streams; s; s = s->next)
    if (s->id == id && s->submitted)
      return s;
  return NULL;
}

int h3_map_app_error(uint64_t code) {
  switch (code) {
  case NGHTTP3_H3_NO_ERROR:
    return CRONC_OK;
  case NGHTTP3_H3_REQUEST_REJECTED:
    return CRONC_ERR_QUIC_GOAWAY_REQUEST_CAN_BE_RETRIED; /* not processed: retry */
  default:
    return CRONC_ERR_QUIC_PROTOCOL_ERROR;
  }
}

/* ---- nghttp3 callbacks ---------------------------------------------------------------- */

static int cb_stream_close(nghttp3_conn *h3, int64_t id, uint64_t app_error, void *ud, void *sud) {
  (void)h3;
  (void)id;
  (void)ud;
  quic_stream *s = sud;
  if (!s)
    return 0;
  int err = h3_map_app_error(app_error);
  if (!err && !s->fin)
    err = CRONC_ERR_QUIC_PROTOCOL_ERROR; /* closed before the response ended */
  if (err && app_error != NGHTTP3_H3_NO_ERROR)
    s->app_error = app_error;
  quic_stream_set_closed(s, err);
  s->submitted = false; /* nghttp3 forgets the stream */
  return 0;
}

static int cb_recv_data(nghttp3_conn *h3, int64_t id, const uint8_t *data, size_t len, void *ud,
                        void *sud) {
  (void)h3;
  (void)id;
  (void)ud;
  quic_stream *s = sud;
  if (!s) {
    quic_conn_consumed(ud, id, len);
    return 0;
  }
  s->any_bytes = true;
  return quic_stream_on_body(s, data, len) == CRONC_OK ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE;
}

static int cb_deferred_consume(nghttp3_conn *h3, int64_t id, size_t consumed, void *ud, void *sud) {
  (void)h3;
  (void)sud;
  quic_conn_consumed(ud, id, consumed);
  return 0;
}

static int cb_begin_headers(nghttp3_conn *h3, int64_t id, void *ud, void *sud) {
  (void)h3;
  (void)id;
  (void)ud;
  quic_stream *s = sud;
  if (s) {
    s->any_bytes = true;
    h1_headers_clear(&s->interim);
  }
  return 0;
}

static int cb_recv_header(nghttp3_conn *h3, int64_t id, int32_t token, nghttp3_rcbuf *name,
                          nghttp3_rcbuf *value, uint8_t flags, void *ud, void *sud) {
  (void)h3;
  (void)id;
  (void)flags;
  (void)ud;
  quic_stream *s = sud;
  if (!s || s->headers_done)
    return 0;
  nghttp3_vec n = nghttp3_rcbuf_get_buf(name);
  nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
  if (token == NGHTTP3_QPACK_TOKEN__STATUS) {
    int st = 0;
    for (size_t i = 0; i < v.len && i < 3; i++)
      st = st * 10 + (v.base[i] - '0');
    s->interim.status = v.len == 3 ? st : 0;
    s->interim.http_minor = 1;
    return 0;
  }
  if (n.len && n.base[0] == ':')
    return 0; /* other pseudo-headers (nghttp3 rejects unknown ones) */
  if (h1_headers_add(&s->interim, (const char *)n.base, n.len, (const char *)v.base, v.len) != 0)
    return NGHTTP3_ERR_CALLBACK_FAILURE;
  return 0;
}

static int cb_end_headers(nghttp3_conn *h3, int64_t id, int fin, void *ud, void *sud) {
  (void)h3;
  (void)id;
  (void)fin;
  (void)ud;
  quic_stream *s = sud;
  if (!s || s->headers_done)
    return 0;
  if (s->interim.status >= 100 && s->interim.status < 200)
    return 0; /* 1xx: wait for the final head */
  if (s->interim.status < 200) {
    quic_stream_set_closed(s, CRONC_ERR_QUIC_PROTOCOL_ERROR); /* no :status */
    return 0;
  }
  h1_headers tmp = s->headers;
  s->headers = s->interim;
  s->interim = tmp;
  h1_headers_clear(&s->interim);
  s->headers_done = true;
  if (s->req)
    quic_conn_log(s->conn, s->req->source, NETLOG_TYPE_QUIC_HTTP_STREAM_READ_RESPONSE_HEADERS,
                  "{\"stream_id\":%lld,\":status\":%d}", (long long)id, s->headers.status);
  return 0;
}

static int cb_stop_sending(nghttp3_conn *h3, int64_t id, uint64_t app_error, void *ud, void *sud) {
  (void)h3;
  (void)sud;
  quic_conn *c = ud;
  ngtcp2_conn_shutdown_stream_read(c->conn, id, app_error);
  return 0;
}

static int cb_end_stream(nghttp3_conn *h3, int64_t id, void *ud, void *sud) {
  (void)h3;
  (void)id;
  (void)ud;
  quic_stream *s = sud;
  if (s) {
    if (!s->headers_done)
      quic_stream_set_closed(s, CRONC_ERR_QUIC_PROTOCOL_ERROR);
    else {
      s->fin = true;
      quic_stream_set_closed(s, CRONC_OK);
    }
  }
  return 0;
}

static int cb_reset_stream(nghttp3_conn *h3, int64_t id, uint64_t app_error, void *ud, void *sud) {
  (void)h3;
  (void)sud;
  quic_conn *c = ud;
  ngtcp2_conn_shutdown_stream_write(c->conn, id, app_error);
  return 0;
}

static int cb_shutdown(nghttp3_conn *h3, int64_t id, void *ud) {
  (void)h3;
  quic_conn *c = ud;
  quic_conn_log(c, c->source, NETLOG_TYPE_QUIC_SESSION_GOAWAY_FRAME_RECEIVED,
                "{\"stream_id\":%lld}", (long long)id);
  c->goaway = true;
  if (id < c->goaway_id)
    c->goaway_id = id;
  return 0;
}

static const nghttp3_callbacks h3_callbacks = {
    .stream_close = cb_stream_close,
    .recv_data = cb_recv_data,
    .deferred_consume = cb_deferred_consume,
    .begin_headers = cb_begin_headers,
    .recv_header = cb_recv_header,
    .end_headers = cb_end_headers,
    .stop_sending = cb_stop_sending,
    .end_stream = cb_end_stream,
    .reset_stream = cb_reset_stream,
    .shutdown = cb_shutdown,
};

/* ---- setup ------------------------------------------------------------------------------- */

int h3_setup(quic_conn *c) {
  if (c->h3)
    return CRONC_OK;
  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  settings.qpack_max_dtable_capacity = 4096;
  settings.qpack_blocked_streams = 100;
  if (nghttp3_conn_client_new(&c->h3, &h3_callbacks, &settings, NULL, c) != 0) {
    c->h3 = NULL;
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  int64_t ctrl, enc, dec;
  if (ngtcp2_conn_open_uni_stream(c->conn, &ctrl, NULL) != 0 ||
      nghttp3_conn_bind_control_stream(c->h3, ctrl) != 0 ||
      ngtcp2_conn_open_uni_stream(c->conn, &enc, NULL) != 0 ||
      ngtcp2_conn_open_uni_stream(c->conn, &dec, NULL) != 0 ||
      nghttp3_conn_bind_qpack_streams(c->h3, enc, dec) != 0) {
    h3_teardown(c);
    return CRONC_ERR_QUIC_PROTOCOL_ERROR;
  }
  return CRONC_OK;
}

void h3_teardown(quic_conn *c) {
  if (c->h3) {
    nghttp3_conn_del(c->h3);
    c->h3 = NULL;
  }
}

/* ---- requests ------------------------------------------------------------------------------- */

static nghttp3_ssize read_body(nghttp3_conn *h3, int64_t id, nghttp3_vec *vec, size_t veccnt,
                               uint32_t *pflags, void *ud, void *sud) {
  (void)h3;
  (void)id;
  (void)ud;
  quic_stream *s = sud;
  if (!s || !s->req || veccnt == 0) {
    *pflags |= NGHTTP3_DATA_FLAG_EOF;
    return 0;
  }
  size_t left = s->req->body_len - s->upload_off;
  /* The whole body in one slice: nghttp3 keeps pointing into the caller's
   * buffer (valid for the transaction's life) until it is acknowledged. */
  vec[0].base = (uint8_t *)s->req->body + s->upload_off;
  vec[0].len = left;
  s->upload_off += left;
  *pflags |= NGHTTP3_DATA_FLAG_EOF;
  return left ? 1 : 0;
}

static bool skip_request_header(const char *name, size_t len) {
  static const char *const hop[] = {"connection", "keep-alive",        "proxy-connection",
                                    "host",       "transfer-encoding", "upgrade"};
  for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
    if (strlen(hop[i]) == len && strncasecmp(hop[i], name, len) == 0)
      return true;
  return false;
}

static nghttp3_nv make_nv(const char *n, size_t nl, const char *v, size_t vl) {
  nghttp3_nv nv = {(uint8_t *)n, (uint8_t *)v, nl, vl, NGHTTP3_NV_FLAG_NONE};
  return nv;
}

int h3_submit(quic_conn *c, quic_stream *s) {
  if (!c->h3)
    return 1;
  int64_t id;
  int rv = ngtcp2_conn_open_bidi_stream(c->conn, &id, s);
  if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED)
    return 1;
  if (rv != 0)
    return CRONC_ERR_QUIC_PROTOCOL_ERROR;
  const http_request_info *req = s->req;
  const url *u = req->url;
  size_t nh = req->headers ? h1_headers_count(req->headers) : 0;
  nghttp3_nv *nva = calloc(nh + 4, sizeof *nva);
  /* authority "host[:port]" and path "?query": one arena; names lowercased
   * into it too (HTTP/3 requires lowercase field names). */
  size_t arena_len = strlen(u->host) + 8 + strlen(u->path) + (u->query ? strlen(u->query) + 1 : 0);
  size_t it = 0;
  const char *name, *value;
  size_t nl, vl;
  while (req->headers && h1_headers_next(req->headers, &it, &name, &nl, &value, &vl))
    arena_len += nl;
  char *arena = malloc(arena_len + 1);
  if (!nva || !arena) {
    free(nva);
    free(arena);
    ngtcp2_conn_shutdown_stream(c->conn, id, NGHTTP3_H3_REQUEST_CANCELLED);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  char *p = arena;
  size_t hl = strlen(u->host);
  char *authority = p;
  memcpy(p, u->host, hl);
  p += hl;
  if (u->port_explicit)
    p += sprintf(p, ":%u", (unsigned)u->port);
  size_t alen = (size_t)(p - authority);
  char *path = p;
  size_t pl = strlen(u->path);
  memcpy(p, u->path, pl);
  p += pl;
  if (u->query) {
    *p++ = '?';
    size_t ql = strlen(u->query);
    memcpy(p, u->query, ql);
    p += ql;
  }
  size_t plen = (size_t)(p - path);
  const char *scheme = url_scheme_is_secure(u->scheme) ? "https" : "http";
  size_t n = 0;
  nva[n++] = make_nv(":method", 7, req->method, strlen(req->method));
  nva[n++] = make_nv(":scheme", 7, scheme, strlen(scheme));
  nva[n++] = make_nv(":authority", 10, authority, alen);
  nva[n++] = make_nv(":path", 5, path, plen);
  it = 0;
  while (req->headers && h1_headers_next(req->headers, &it, &name, &nl, &value, &vl)) {
    if (skip_request_header(name, nl))
      continue;
    char *lname = p;
    for (size_t i = 0; i < nl; i++)
      *p++ = (char)tolower((unsigned char)name[i]);
    nva[n++] = make_nv(lname, nl, value, vl);
  }
  nghttp3_data_reader dr = {read_body};
  s->id = id;
  s->upload_off = 0;
  rv = nghttp3_conn_submit_request(c->h3, id, nva, n, req->body_len ? &dr : NULL, s);
  free(nva);
  free(arena);
  if (rv != 0) {
    s->id = -1;
    ngtcp2_conn_shutdown_stream(c->conn, id, NGHTTP3_H3_INTERNAL_ERROR);
    return CRONC_ERR_QUIC_PROTOCOL_ERROR;
  }
  s->submitted = true;
  s->sent_early = !c->handshake_done;
  if (netlog_is_capturing(c->netlog)) {
    /* The method alone: header values may be private; JSON-escaped as a
     * method is the caller's string. */
    strbuf sb;
    strbuf_init(&sb);
    strbuf_appendf(&sb, "{\"stream_id\":%lld,\"early_data\":%s,\":method\":", (long long)id,
                   s->sent_early ? "true" : "false");
    strbuf_json_cstr(&sb, req->method);
    strbuf_append_char(&sb, '}');
    netlog_add(c->netlog, req->source, NETLOG_TYPE_QUIC_HTTP_STREAM_SEND_REQUEST_HEADERS,
               NETLOG_PHASE_NONE, strbuf_failed(&sb) ? NULL : strbuf_cstr(&sb));
    strbuf_free(&sb);
  }
  quic_conn_write(c);
  return CRONC_OK;
}

void h3_cancel(quic_conn *c, quic_stream *s) {
  if (!s->submitted || s->id < 0 || c->dead)
    return;
  if (c->h3)
    nghttp3_conn_set_stream_user_data(c->h3, s->id, NULL);
  ngtcp2_conn_set_stream_user_data(c->conn, s->id, NULL);
  ngtcp2_conn_shutdown_stream(c->conn, s->id, NGHTTP3_H3_REQUEST_CANCELLED);
  s->submitted = false;
}

/* ---- ngtcp2 stream events ----------------------------------------------------------------- */

int h3_on_stream_data(quic_conn *c, uint32_t flags, int64_t id, const uint8_t *data, size_t len) {
  if (!c->h3)
    return 0;
  nghttp3_ssize n =
      nghttp3_conn_read_stream(c->h3, id, data, len, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
  if (n < 0) {
    ngtcp2_connection_close_error_set_application_error(
        &c->ccerr, nghttp3_err_infer_quic_app_error_code((int)n), NULL, 0);
    c->error = CRONC_ERR_QUIC_PROTOCOL_ERROR;
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  /* Framing and QPACK bytes are consumed at once; body bytes when the
   * caller reads them (quic_stream_on_body / read_body). */
  quic_conn_consumed(c, id, (uint64_t)n);
  return 0;
}

int h3_on_acked(quic_conn *c, int64_t id, uint64_t datalen) {
  if (c->h3 && nghttp3_conn_add_ack_offset(c->h3, id, datalen) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}

int h3_on_stream_close(quic_conn *c, uint32_t flags, int64_t id, uint64_t app_error) {
  if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET))
    app_error = NGHTTP3_H3_NO_ERROR;
  if (c->h3) {
    int rv = nghttp3_conn_close_stream(c->h3, id, app_error);
    if (rv != 0 && rv != NGHTTP3_ERR_STREAM_NOT_FOUND) {
      c->error = CRONC_ERR_QUIC_PROTOCOL_ERROR;
      ngtcp2_connection_close_error_set_application_error(
          &c->ccerr, nghttp3_err_infer_quic_app_error_code(rv), NULL, 0);
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
  }
  quic_stream *s = stream_of(c, id);
  if (s) {
    /* nghttp3 did not know it (cancelled): close our side too. */
    int err = h3_map_app_error(app_error);
    quic_stream_set_closed(s, err ? err : (s->fin ? CRONC_OK : CRONC_ERR_QUIC_PROTOCOL_ERROR));
    s->submitted = false;
  }
  return 0;
}

int h3_on_stream_reset(quic_conn *c, int64_t id, uint64_t app_error) {
  quic_conn_log(c, c->source, NETLOG_TYPE_HTTP3_STREAM_RESET,
                "{\"stream_id\":%lld,\"error_code\":%llu}", (long long)id,
                (unsigned long long)app_error);
  if (c->h3 && nghttp3_conn_shutdown_stream_read(c->h3, id) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}

int h3_on_extend_max_stream_data(quic_conn *c, int64_t id) {
  if (c->h3 && nghttp3_conn_unblock_stream(c->h3, id) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}
