/* quic/quic_http_stream: the http_stream of one HTTP/3 request (Chromium's
 * QuicHttpStream): the request goes to the connection's queue and out as
 * soon as the handshake (or 0-RTT) and stream credit allow; the response
 * head lands in an h1_headers like h1/h2; body bytes go straight into the
 * caller's buffer when a read waits, and are credited back to the peer's
 * flow control as the caller consumes them. */
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "quic/quic_internal.h"

static quic_stream *S(http_stream *b) { return (quic_stream *)b; }

void quic_stream_set_closed(quic_stream *s, int error) {
  if (s->closed)
    return; /* the first outcome wins (a finished response stays OK) */
  s->closed = true;
  s->close_error = error;
}

int quic_stream_on_body(quic_stream *s, const uint8_t *data, size_t len) {
  if (s->body_cb && http_body_queue_empty(&s->body_queue)) {
    size_t room = s->body_len - s->body_got;
    size_t take = len < room ? len : room;
    memcpy(s->body_buf + s->body_got, data, take);
    s->body_got += take;
    quic_conn_consumed(s->conn, s->id, take);
    data += take;
    len -= take;
  }
  if (!len)
    return CRONC_OK;
  int rv = http_body_queue_push(&s->body_queue, data, len);
  if (rv != CRONC_OK)
    return rv;
  s->unconsumed += len;
  return CRONC_OK;
}

bool quic_stream_complete_due(quic_stream *s) {
  if (s->send_cb && s->send_done) {
    http_io_cb cb = s->send_cb;
    s->send_cb = NULL;
    s->send_done = false;
    cb(s->send_ud, s->send_result);
    return false;
  }
  if (s->hdr_cb && (s->headers_done || s->closed)) {
    http_io_cb cb = s->hdr_cb;
    s->hdr_cb = NULL;
    int rv = s->headers_done ? CRONC_OK
                             : (s->close_error ? s->close_error : CRONC_ERR_QUIC_PROTOCOL_ERROR);
    cb(s->hdr_ud, rv);
    return false;
  }
  if (s->body_cb && (s->body_got || s->closed)) {
    http_io_cb cb = s->body_cb;
    s->body_cb = NULL;
    int rv = s->body_got ? (int)s->body_got : s->close_error;
    s->body_got = 0;
    cb(s->body_ud, rv);
    return false;
  }
  return true;
}

/* ---- vtable ------------------------------------------------------------------------------ */

static int qs_send_request(http_stream *b, const http_request_info *req, http_io_cb cb, void *ud) {
  quic_stream *s = S(b);
  quic_conn *c = s->conn;
  if (s->req)
    return CRONC_ERR_INVALID_ARGUMENT; /* one request per stream */
  if (c->dead)
    return c->error;
  if (!req || !req->url || !req->method)
    return CRONC_ERR_INVALID_ARGUMENT;
  /* A streamed body needs its pieces kept until QUIC acknowledges them;
   * until that exists it is refused rather than sent empty. */
  if (req->upload)
    return CRONC_ERR_NOT_IMPLEMENTED;
  s->req = req;
  s->queued = true;
  s->qnext = NULL;
  if (c->q_tail)
    c->q_tail->qnext = s;
  else
    c->q_head = s;
  c->q_tail = s;
  s->send_cb = cb;
  s->send_ud = ud;
  quic_conn_submit_queued(c);
  if (s->send_done || s->closed) {
    int rv = s->send_done ? s->send_result : s->close_error;
    s->send_cb = NULL;
    s->send_done = false;
    return rv;
  }
  return CRONC_ERR_IO_PENDING;
}

static int qs_read_response_headers(http_stream *b, http_io_cb cb, void *ud) {
  quic_stream *s = S(b);
  if (s->headers_done)
    return CRONC_OK;
  if (s->closed)
    return s->close_error ? s->close_error : CRONC_ERR_QUIC_PROTOCOL_ERROR;
  s->hdr_cb = cb;
  s->hdr_ud = ud;
  return CRONC_ERR_IO_PENDING;
}

static const h1_headers *qs_response_headers(http_stream *b) { return &S(b)->headers; }

static int qs_read_body(http_stream *b, uint8_t *buf, size_t len, http_io_cb cb, void *ud) {
  quic_stream *s = S(b);
  if (len == 0)
    return CRONC_ERR_INVALID_ARGUMENT;
  size_t got = http_body_queue_take(&s->body_queue, buf, len);
  if (got) {
    s->unconsumed -= got;
    if (!s->conn->dead && s->id >= 0) {
      quic_conn_consumed(s->conn, s->id, got); /* reopen the window as the caller reads */
      quic_conn_write(s->conn);
    }
    return (int)got;
  }
  if (s->closed)
    return s->close_error; /* 0 = the body ended cleanly */
  s->body_buf = buf;
  s->body_len = len;
  s->body_got = 0;
  s->body_cb = cb;
  s->body_ud = ud;
  return CRONC_ERR_IO_PENDING;
}

static void qs_close(http_stream *b, bool not_reusable) {
  (void)not_reusable; /* a QUIC connection outlives its streams */
  quic_stream *s = S(b);
  quic_conn *c = s->conn;
  if (s->submitted && !c->dead && !(s->closed && s->fin && s->id < 0))
    h3_cancel(c, s);
  if (s->submitted && c->h3 && s->id >= 0)
    nghttp3_conn_set_stream_user_data(c->h3, s->id, NULL);
  if (s->id >= 0 && c->conn && !c->dead)
    ngtcp2_conn_set_stream_user_data(c->conn, s->id, NULL);
  for (quic_stream **pp = &c->streams; *pp; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  if (s->queued) {
    quic_stream *prev = NULL;
    for (quic_stream **pp = &c->q_head; *pp; prev = *pp, pp = &(*pp)->qnext)
      if (*pp == s) {
        *pp = s->qnext;
        if (c->q_tail == s)
          c->q_tail = prev;
        break;
      }
  }
  http_body_queue_clear(&s->body_queue);
  h1_headers_free(&s->headers);
  h1_headers_free(&s->interim);
  free(s);
  quic_conn_write(c); /* flush the RESET_STREAM / STOP_SENDING */
  quic_conn_maybe_free(c);
}

static bool qs_is_connection_reused(http_stream *b) { return S(b)->reused; }
static bool qs_received_any(http_stream *b) { return S(b)->any_bytes; }
static const char *qs_protocol(http_stream *b) {
  (void)b;
  return "h3";
}

static void qs_load_timing(http_stream *b, http_load_timing *out) {
  quic_stream *s = S(b);
  if (s->reused) {
    memset(out, 0, sizeof *out);
    out->socket_reused = true; /* Chromium: no connect times on reuse */
  } else {
    *out = s->conn->timing;
  }
}

static bool qs_used_zero_rtt(http_stream *b) {
  quic_stream *s = S(b);
  return s->sent_early && s->conn->early_accepted;
}

/* Cronet's quic_detailed_error_code: the stream's HTTP/3 error, else the
 * connection's QUIC error. */
static uint64_t qs_quic_error(http_stream *b) {
  quic_stream *s = S(b);
  return s->app_error ? s->app_error : s->conn ? s->conn->quic_error : 0;
}

static void qs_byte_counts(http_stream *b, int64_t *sent, int64_t *received) {
  quic_stream *s = S(b);
  *sent = s->bytes_sent;
  *received = s->bytes_received;
}

static const http_stream_vtable quic_stream_vt = {
    qs_send_request, qs_read_response_headers, qs_response_headers, qs_read_body,
    qs_close,        qs_is_connection_reused,  qs_received_any,     qs_protocol,
    qs_load_timing,  qs_used_zero_rtt,         qs_quic_error,       qs_byte_counts,
};

quic_stream *quic_stream_new(quic_conn *c) {
  quic_stream *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->base.vt = &quic_stream_vt;
  s->conn = c;
  s->id = -1;
  s->reused = c->streams_made++ > 0;
  h1_headers_init(&s->headers);
  h1_headers_init(&s->interim);
  s->next = c->streams;
  c->streams = s;
  return s;
}
