#include "http/h2_connection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "cronc/cronc.h"
#include "http/body_queue.h"
#include "http/h2_session.h"

#define H2_CONN_READ_BUF   65536
#define H2_CONN_MAX_SLICES 32

typedef struct h2_http_stream h2_http_stream;

struct h2_http_stream {
  http_stream base;
  h2_conn *conn;
  h2_stream *h2; /* NULL once closed or not yet submitted */
  bool reused;
  bool submitted;
  bool headers_done;
  bool closed; /* on_close ran */
  int close_error;
  int64_t bytes_sent, bytes_received; /* copied from the h2_stream at close */
  h1_headers headers;
  http_body_queue queued; /* body that arrived while no read waited */
  /* pending operations */
  http_io_cb hdr_cb;
  void *hdr_ud;
  http_io_cb body_cb;
  void *body_ud;
  uint8_t *body_buf;
  size_t body_len;
  size_t body_got;             /* bytes written into body_buf while pending */
  h2_http_stream *next, *prev; /* the connection's streams */
  h2_http_stream *ready_next;  /* the connection's ready list */
  bool in_ready;
  /* upload */
  const uint8_t *upload;
  size_t upload_len, upload_off;
  /* A streamed body: udata[uoff..ulen) is the piece being sent. */
  http_upload_body *ubody;
  const uint8_t *udata;
  size_t ulen, uoff;
  int64_t usent;
  int uresult; /* a read's result that arrived while the session waited */
  bool uresult_ready;
  bool uread_pending;
  bool ueof;
  http_load_timing timing;
  /* The request's origin when it is https: what an ALTSVC frame on this
   * stream applies to (SpdySession::OnAltSvc uses the stream's URL). */
  bool origin_https;
  url_origin origin;
};

/* An accepted ALTSVC frame waiting for delivery after the receive. */
typedef struct h2_altsvc_item {
  struct h2_altsvc_item *next;
  url_origin origin;
  bool on_stream_zero;
  size_t len;
  char value[]; /* len bytes + NUL */
} h2_altsvc_item;

struct h2_conn {
  base_runner *runner;
  bool resume_posted; /* a pump (a yielded read loop, or writes put off by
                         conn_pump_soon) is waiting in the task queue */
  stream_socket *sock;
  h2_session *session;
  h2_conn_unusable_fn on_unusable;
  void *ud;
  bool pool_ref;
  bool usable;
  bool dead; /* the socket failed or closed */
  bool reading, writing;
  bool in_pump;
  size_t streams_made;
  http_load_timing timing;
  h2_http_stream *streams;
  /* Streams whose pending read got bytes (or an end) during this receive:
   * completed after the whole socket read went through the session, so
   * that cost is per ready stream, not per open stream. */
  h2_http_stream *ready;
  uint8_t *rbuf;
  /* ALTSVC frames accepted during a receive, delivered after it, in order. */
  h2_conn_altsvc_fn altsvc_fn;
  void *altsvc_ud;
  h2_altsvc_item *altsvc_head, **altsvc_tail;
  h2_slice slices[H2_CONN_MAX_SLICES];
  socket_iovec iov[H2_CONN_MAX_SLICES];
};

static void conn_pump(h2_conn *c);
static void conn_resume(void *arg);

/* Pumps once the task batch running now is over: requests started by one
 * batch of completions, and the window updates and resets of their reads
 * and closes, leave in one writev rather than one each (Chromium's
 * SpdySession::MaybePostWriteLoop). A pump already running picks the work
 * up itself. */
static void conn_pump_soon(h2_conn *c) {
  if (c->resume_posted || c->in_pump)
    return;
  if (c->runner && base_runner_post(c->runner, conn_resume, c) == CRONC_OK)
    c->resume_posted = true;
  else
    conn_pump(c);
}

/* ---- Connection lifetime ------------------------------------------------------- */

static void altsvc_drop_all(h2_conn *c) {
  while (c->altsvc_head) {
    h2_altsvc_item *it = c->altsvc_head;
    c->altsvc_head = it->next;
    free(it);
  }
  c->altsvc_tail = &c->altsvc_head;
}

static void conn_maybe_free(h2_conn *c) {
  if (c->pool_ref || c->streams || c->in_pump || c->resume_posted)
    return;
  altsvc_drop_all(c);
  stream_socket_free(c->sock);
  h2_session_free(c->session);
  free(c->rbuf);
  free(c);
}

static void conn_set_unusable(h2_conn *c) {
  if (!c->usable)
    return;
  c->usable = false;
  if (c->pool_ref && c->on_unusable)
    c->on_unusable(c->ud, c); /* the pool drops its reference */
}

/* Completes a stream's pending operations after it closed. */
static void stream_closed_complete(h2_http_stream *s) {
  if (s->hdr_cb) {
    http_io_cb cb = s->hdr_cb;
    s->hdr_cb = NULL;
    cb(s->hdr_ud, s->close_error ? s->close_error : CRONC_ERR_CONNECTION_CLOSED);
    return; /* the caller may have closed the stream */
  }
  if (s->body_cb) {
    http_io_cb cb = s->body_cb;
    s->body_cb = NULL;
    int rv = s->body_got ? (int)s->body_got : s->close_error;
    s->body_got = 0;
    cb(s->body_ud, rv);
  }
}

/* The socket is gone: every stream fails (those the server never saw are
 * retryable: ERR_CONNECTION_CLOSED before any byte on a reused
 * connection). */
static void conn_die(h2_conn *c, int error) {
  if (c->dead)
    return;
  c->dead = true;
  bool was_in_pump = c->in_pump;
  c->in_pump = true; /* keeps c alive while the pool and streams let go */
  conn_set_unusable(c);
  for (h2_http_stream *s = c->streams; s; s = s->next) {
    if (!s->closed) {
      s->closed = true;
      s->close_error = error;
      s->h2 = NULL; /* the session is torn down below with the connection */
    }
  }
  /* Complete pending operations; callbacks may close streams (unlinking
   * them), so restart the walk after each. */
  for (;;) {
    h2_http_stream *found = NULL;
    for (h2_http_stream *s = c->streams; s; s = s->next)
      if (s->hdr_cb || s->body_cb) {
        found = s;
        break;
      }
    if (!found)
      break;
    stream_closed_complete(found);
  }
  c->in_pump = was_in_pump;
  conn_maybe_free(c);
}

/* ---- Session callbacks ----------------------------------------------------------- */

static void on_goaway(h2_session *hs, int error, int32_t last, void *ud) {
  (void)hs;
  (void)error;
  (void)last;
  conn_set_unusable(ud);
}

static void on_session_error(h2_session *hs, int error, void *ud) {
  (void)hs;
  (void)error;
  conn_set_unusable(ud);
}

/* Inside nghttp2's receive: validates the frame's origin (Chromium's
 * SpdySession::OnAltSvc, except the certificate check, which is the
 * callee's) and queues a copy; conn_deliver_altsvc() calls the owner once
 * the receive is over, so the owner may do anything but free c. */
static const char *on_altsvc(h2_session *hs, h2_stream *st, h2_slice origin, h2_slice value,
                             void *ud) {
  (void)hs;
  h2_conn *c = ud;
  url_origin o;
  if (!st) {
    /* As GURL + SchemeHostPort: any valid URL, its path dropped. */
    url u;
    if (url_parse((const char *)origin.base, origin.len, &u) != CRONC_OK)
      return "invalid origin";
    int rv = url_origin_from_url(&u, &o);
    url_free(&u);
    if (rv != CRONC_OK)
      return "invalid origin";
    if (o.scheme != URL_SCHEME_HTTPS)
      return "origin not https";
  } else {
    h2_http_stream *s = h2_stream_user_data(st);
    if (!s || !s->origin_https)
      return "request not https";
    o = s->origin;
  }
  if (!c->altsvc_fn)
    return NULL; /* valid; nobody listens */
  h2_altsvc_item *it = malloc(sizeof *it + value.len + 1);
  if (!it)
    return "out of memory";
  it->next = NULL;
  it->origin = o;
  it->on_stream_zero = st == NULL;
  it->len = value.len;
  memcpy(it->value, value.base, value.len);
  it->value[value.len] = '\0';
  *c->altsvc_tail = it;
  c->altsvc_tail = &it->next;
  return NULL;
}

/* Runs with c->in_pump set (c outlives the callbacks). Each item is
 * unlinked before its call, so the callee may release the connection (which
 * clears the callback: the rest is dropped). */
static void conn_deliver_altsvc(h2_conn *c) {
  while (c->altsvc_head) {
    h2_altsvc_item *it = c->altsvc_head;
    c->altsvc_head = it->next;
    if (!c->altsvc_head)
      c->altsvc_tail = &c->altsvc_head;
    if (c->altsvc_fn)
      c->altsvc_fn(c->altsvc_ud, c, &it->origin, it->on_stream_zero, it->value, it->len);
    free(it);
  }
}

static const h2_session_callbacks session_cbs = {on_goaway, on_session_error, NULL, on_altsvc};

static void st_on_headers(h2_stream *st, int status, const h2_header *h, size_t n, bool interim,
                          void *ud) {
  (void)st;
  h2_http_stream *s = ud;
  if (interim)
    return;
  s->headers.status = status;
  s->headers.http_minor = 1;
  for (size_t i = 0; i < n; i++)
    h1_headers_add(&s->headers, (const char *)h[i].name.base, h[i].name.len,
                   (const char *)h[i].value.base, h[i].value.len);
  s->headers_done = true;
  if (s->hdr_cb) {
    http_io_cb cb = s->hdr_cb;
    s->hdr_cb = NULL;
    cb(s->hdr_ud, CRONC_OK);
  }
}

static void mark_ready(h2_http_stream *s) {
  if (s->in_ready || !s->body_cb)
    return;
  s->in_ready = true;
  s->ready_next = s->conn->ready;
  s->conn->ready = s;
}

static void st_on_data(h2_stream *st, const uint8_t *data, size_t len, void *ud) {
  h2_http_stream *s = ud;
  /* Straight into a waiting read buffer when there is one. */
  if (s->body_cb && http_body_queue_empty(&s->queued)) {
    size_t room = s->body_len - s->body_got;
    size_t take = len < room ? len : room;
    memcpy(s->body_buf + s->body_got, data, take);
    s->body_got += take;
    if (take)
      mark_ready(s);
    h2_stream_consumed(st, take);
    data += take;
    len -= take;
  }
  if (len && http_body_queue_push(&s->queued, data, len) != CRONC_OK) {
    h2_stream_cancel(st);
    s->h2 = NULL;
    s->closed = true;
    s->close_error = CRONC_ERR_OUT_OF_MEMORY;
    mark_ready(s);
  }
  /* The read completes after the whole socket read was fed to the session
   * (conn_complete_reads), so the following DATA frames of the same batch
   * land in the caller's buffer too instead of the queue. */
}

/* Completes the body reads that got data during the last receive.
 * Callbacks may close streams; a closed stream leaves the ready list in
 * hs_close, so popping one at a time stays valid. */
static void conn_complete_reads(h2_conn *c) {
  while (c->ready) {
    h2_http_stream *s = c->ready;
    c->ready = s->ready_next;
    s->in_ready = false;
    if (!s->body_cb || !(s->body_got || s->closed))
      continue;
    http_io_cb cb = s->body_cb;
    s->body_cb = NULL;
    int rv = s->body_got ? (int)s->body_got : s->close_error;
    s->body_got = 0;
    cb(s->body_ud, rv);
  }
}

static void st_on_close(h2_stream *st, int error, bool unprocessed, void *ud) {
  (void)unprocessed; /* the session already chose the error: a graceful GOAWAY
                        gives ERR_HTTP2_SERVER_REFUSED_STREAM (retried), one
                        with an error code ERR_HTTP2_PROTOCOL_ERROR (not
                        retried), as SpdySession::OnGoAway does */
  h2_http_stream *s = ud;
  h2_stream_byte_counts(st, &s->bytes_sent, &s->bytes_received);
  s->h2 = NULL; /* the handle dies when this returns */
  s->closed = true;
  s->close_error = error;
  if (!s->headers_done && !error)
    s->close_error = CRONC_ERR_HTTP2_PROTOCOL_ERROR; /* closed without a response */
  stream_closed_complete(s);
}

static void on_upload_read(void *ud, int result) {
  h2_http_stream *s = ud;
  s->uread_pending = false;
  s->uresult = result;
  s->uresult_ready = true;
  if (s->h2) {
    h2_stream_resume_body(s->h2);
    conn_pump(s->conn);
  }
}

/* A streamed body: the session asks again only after the last slice went
 * out, so the body's buffer can be refilled then. */
static int st_read_streamed(h2_http_stream *s, size_t max, h2_slice *out, bool *eof) {
  if (s->uoff == s->ulen && !s->ueof) {
    int rv;
    if (s->uread_pending)
      return H2_BODY_DEFERRED;
    if (s->uresult_ready) {
      rv = s->uresult;
      s->uresult_ready = false;
    } else {
      rv = s->ubody->vt->read(s->ubody, &s->udata, on_upload_read, s);
      if (rv == CRONC_ERR_IO_PENDING) {
        s->uread_pending = true;
        return H2_BODY_DEFERRED;
      }
    }
    if (rv < 0)
      return rv;
    s->ulen = (size_t)rv;
    s->uoff = 0;
    s->usent += rv;
    if (rv == 0) {
      s->ueof = true;
      if (s->ubody->length >= 0 && s->usent != s->ubody->length)
        return CRONC_ERR_UPLOAD_FILE_CHANGED;
    } else if (s->ubody->length >= 0 && s->usent > s->ubody->length) {
      return CRONC_ERR_UPLOAD_FILE_CHANGED;
    }
  }
  size_t n = s->ulen - s->uoff;
  if (n > max)
    n = max;
  out->base = s->udata + s->uoff;
  out->len = n;
  s->uoff += n;
  *eof = s->ueof && s->uoff == s->ulen;
  return H2_BODY_OK;
}

static int st_read_body(h2_stream *st, size_t max, h2_slice *out, bool *eof, void *ud) {
  (void)st;
  h2_http_stream *s = ud;
  if (s->ubody)
    return st_read_streamed(s, max, out, eof);
  size_t n = s->upload_len - s->upload_off;
  if (n > max)
    n = max;
  out->base = s->upload + s->upload_off;
  out->len = n;
  s->upload_off += n;
  *eof = s->upload_off == s->upload_len;
  return H2_BODY_OK;
}

/* ---- Socket I/O --------------------------------------------------------------------- */

static void on_write(int rv, void *ud);
static void on_read(int rv, void *ud);

static int handle_read(h2_conn *c, int rv) {
  if (rv <= 0)
    return rv == 0 ? CRONC_ERR_CONNECTION_CLOSED : rv;
  return h2_session_receive(c->session, c->rbuf, (size_t)rv);
}

static void conn_resume(void *arg) {
  h2_conn *c = arg;
  c->resume_posted = false;
  if (c->dead)
    conn_maybe_free(c);
  else
    conn_pump(c);
}

/* Hands the session's next batch of frames to the socket in one vectored
 * write, unless a write is already in flight. Returns OK or an error; *done
 * says the batch went out at once (so the caller may try for more). */
static int conn_write_batch(h2_conn *c, bool *done) {
  *done = false;
  if (c->writing || !h2_session_want_write(c->session))
    return CRONC_OK;
  int n = h2_session_send_next(c->session, c->slices, H2_CONN_MAX_SLICES);
  if (n <= 0)
    return n; /* nothing to send now, or the session's error */
  for (int i = 0; i < n; i++) {
    c->iov[i].base = c->slices[i].base;
    c->iov[i].len = c->slices[i].len;
  }
  int rv = stream_socket_writev(c->sock, c->iov, (size_t)n, on_write, c);
  if (rv == CRONC_ERR_IO_PENDING) {
    c->writing = true;
    return CRONC_OK;
  }
  if (rv < 0)
    return rv;
  *done = true;
  return CRONC_OK;
}

/* Writes and reads as long as there is something to do without waiting; after
 * a batch read without waiting, yields to the task queue (see h2_conn_new). */
static void conn_pump(h2_conn *c) {
  if (c->in_pump || c->dead)
    return;
  c->in_pump = true;
  int err = CRONC_OK;
  bool progress = true;
  while (progress && err == CRONC_OK && !c->dead && !c->resume_posted) {
    err = conn_write_batch(c, &progress);
    if (err != CRONC_OK)
      break;
    if (!c->reading && h2_session_want_read(c->session)) {
      stream_socket_expect(c->sock, h2_session_expected_bytes(c->session));
      int rv = stream_socket_read(c->sock, c->rbuf, H2_CONN_READ_BUF, on_read, c);
      if (rv == CRONC_ERR_IO_PENDING) {
        c->reading = true;
      } else {
        err = handle_read(c, rv);
        conn_deliver_altsvc(c); /* frames before an error still count */
        if (err == CRONC_OK)
          conn_complete_reads(c);
        progress = true;
        if (err == CRONC_OK && c->runner && !c->resume_posted &&
            base_runner_post(c->runner, conn_resume, c) == CRONC_OK) {
          c->resume_posted = true;
          /* Flush what the batch produced (WINDOW_UPDATEs), then yield. */
          bool sent;
          err = conn_write_batch(c, &sent);
          break;
        }
      }
    }
  }
  c->in_pump = false;
  if (err != CRONC_OK)
    conn_die(c, err);
  else if (!h2_session_want_read(c->session) && !h2_session_want_write(c->session) && !c->reading &&
           !c->writing)
    conn_die(c, CRONC_ERR_CONNECTION_CLOSED);
  else
    conn_maybe_free(c);
}

static void on_write(int rv, void *ud) {
  h2_conn *c = ud;
  c->writing = false;
  if (rv < 0) {
    conn_die(c, rv);
    return;
  }
  conn_pump(c);
}

static void on_read(int rv, void *ud) {
  h2_conn *c = ud;
  c->reading = false;
  c->in_pump = true; /* stream callbacks run inside receive */
  int err = handle_read(c, rv);
  conn_deliver_altsvc(c); /* frames before an error still count */
  if (err == CRONC_OK)
    conn_complete_reads(c);
  c->in_pump = false;
  if (err != CRONC_OK) {
    conn_die(c, err);
    return;
  }
  /* Not at once: the reads this receive completed are re-issued by tasks
   * posted meanwhile, and reading the socket before they run would put the
   * next bytes in the queue (a copy more) instead of the caller's buffer. */
  conn_pump_soon(c);
}

/* ---- The http_stream ------------------------------------------------------------------ */

static h2_http_stream *S(http_stream *b) { return (h2_http_stream *)b; }

static int hs_send_request(http_stream *b, const http_request_info *req, http_io_cb cb, void *ud) {
  (void)cb;
  (void)ud;
  h2_http_stream *s = S(b);
  h2_conn *c = s->conn;
  if (c->dead || !c->usable)
    return CRONC_ERR_CONNECTION_CLOSED;
  const url *u = req->url;
  size_t n = req->headers ? h1_headers_count(req->headers) : 0;
  /* The session copies the request into one block of its own, so the
   * header array and path are temporary: on the stack when they fit. */
  h2_header hv_small[16];
  h2_header *hv = n <= 16 ? hv_small : malloc(n * sizeof *hv);
  if (!hv)
    return CRONC_ERR_OUT_OF_MEMORY;
  size_t it = 0, i = 0;
  const char *name, *value;
  size_t nl, vl;
  while (i < n && h1_headers_next(req->headers, &it, &name, &nl, &value, &vl)) {
    hv[i].name = (h2_slice){(const uint8_t *)name, nl};
    hv[i].value = (h2_slice){(const uint8_t *)value, vl};
    i++;
  }
  char authority[URL_MAX_HOST + 8];
  /* host[:port] without printf (per-request path). */
  size_t hl = strnlen(u->host, URL_MAX_HOST);
  memcpy(authority, u->host, hl);
  size_t alen = hl;
  if (u->port_explicit) {
    char digits[8];
    size_t d = sizeof digits;
    unsigned v = u->port;
    do {
      digits[--d] = (char)('0' + v % 10);
      v /= 10;
    } while (v);
    authority[alen++] = ':';
    memcpy(authority + alen, digits + d, sizeof digits - d);
    alen += sizeof digits - d;
  }
  size_t plen = strlen(u->path) + (u->query ? strlen(u->query) + 1 : 0);
  char path_small[512];
  char *path = plen < sizeof path_small ? path_small : malloc(plen + 1);
  if (!path) {
    if (hv != hv_small)
      free(hv);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  strcpy(path, u->path);
  if (u->query) {
    strcat(path, "?");
    strcat(path, u->query);
  }
  const char *scheme = url_scheme_is_secure(u->scheme) ? "https" : "http";
  h2_request r = {
      .method = {(const uint8_t *)req->method, strlen(req->method)},
      .scheme = {(const uint8_t *)scheme, strlen(scheme)},
      .authority = {(const uint8_t *)authority, (size_t)alen},
      .path = {(const uint8_t *)path, plen},
      .headers = hv,
      .header_count = i,
      .priority = req->priority >= HTTP_PRIORITY_THROTTLED && req->priority <= HTTP_PRIORITY_HIGHEST
                      ? (h2_priority)(req->priority - HTTP_PRIORITY_THROTTLED)
                      : H2_PRIORITY_MEDIUM,
  };
  s->origin_https = u->scheme == URL_SCHEME_HTTPS && url_origin_from_url(u, &s->origin) == CRONC_OK;
  s->upload = req->body;
  s->upload_len = req->body_len;
  s->ubody = req->upload;
  h2_stream_callbacks scb = {st_on_headers, st_on_data, NULL, st_on_close,
                             req->body_len || req->upload ? st_read_body : NULL};
  int rv = h2_session_submit(c->session, &r, &scb, s, &s->h2);
  if (hv != hv_small)
    free(hv);
  if (path != path_small)
    free(path);
  if (rv != CRONC_OK)
    return rv;
  s->submitted = true;
  /* The promise made for the pending read changes: a reply awaiting its
   * headers voids it (a queued stream, not yet sent, does not). */
  stream_socket_expect(c->sock, h2_session_expected_bytes(c->session));
  conn_pump_soon(c);
  /* The request is queued on the session: HTTP/2 sends are not awaited
   * (Chromium's SpdyHttpStream completes once the frames are buffered). */
  return s->closed && s->close_error ? s->close_error : CRONC_OK;
}

static int hs_read_response_headers(http_stream *b, http_io_cb cb, void *ud) {
  h2_http_stream *s = S(b);
  if (s->headers_done)
    return CRONC_OK;
  if (s->closed)
    return s->close_error ? s->close_error : CRONC_ERR_CONNECTION_CLOSED;
  s->hdr_cb = cb;
  s->hdr_ud = ud;
  return CRONC_ERR_IO_PENDING;
}

static const h1_headers *hs_response_headers(http_stream *b) { return &S(b)->headers; }

static int hs_read_body(http_stream *b, uint8_t *buf, size_t len, http_io_cb cb, void *ud) {
  h2_http_stream *s = S(b);
  size_t got = http_body_queue_take(&s->queued, buf, len);
  if (got) {
    if (s->h2) {
      h2_stream_consumed(s->h2, got); /* reopens the window as the caller reads */
      conn_pump_soon(s->conn);
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

static void hs_close(http_stream *b, bool not_reusable) {
  (void)not_reusable; /* an HTTP/2 connection outlives its streams */
  h2_http_stream *s = S(b);
  h2_conn *c = s->conn;
  if (s->uread_pending)
    s->ubody->vt->cancel_read(s->ubody);
  if (s->h2) {
    h2_stream_cancel(s->h2);
    s->h2 = NULL;
  }
  if (s->prev)
    s->prev->next = s->next;
  else
    c->streams = s->next;
  if (s->next)
    s->next->prev = s->prev;
  if (s->in_ready)
    for (h2_http_stream **pp = &c->ready; *pp; pp = &(*pp)->ready_next)
      if (*pp == s) {
        *pp = s->ready_next;
        break;
      }
  http_body_queue_clear(&s->queued);
  h1_headers_free(&s->headers);
  free(s);
  if (!c->dead && !c->in_pump)
    conn_pump_soon(c); /* flush the RST_STREAM */
  else
    conn_maybe_free(c);
}

static bool hs_is_connection_reused(http_stream *b) { return S(b)->reused; }
static bool hs_received_any(http_stream *b) { return S(b)->headers_done; }
static const char *hs_protocol(http_stream *b) {
  (void)b;
  return "h2";
}

static void hs_load_timing(http_stream *b, http_load_timing *out) { *out = S(b)->timing; }

void h2_conn_set_load_timing(h2_conn *c, const http_load_timing *t) { c->timing = *t; }

static void hs_byte_counts(http_stream *hs, int64_t *sent, int64_t *received) {
  h2_http_stream *s = (h2_http_stream *)hs;
  if (s->h2) {
    h2_stream_byte_counts(s->h2, sent, received);
  } else {
    *sent = s->bytes_sent;
    *received = s->bytes_received;
  }
}

static const http_stream_vtable h2_stream_vt = {
    hs_send_request,
    hs_read_response_headers,
    hs_response_headers,
    hs_read_body,
    hs_close,
    hs_is_connection_reused,
    hs_received_any,
    hs_protocol,
    hs_load_timing,
    NULL,
    NULL,
    hs_byte_counts,
};

/* ---- Public ------------------------------------------------------------------------------ */

h2_conn *h2_conn_new(base_runner *runner, stream_socket *sock, netlog *nl,
                     h2_conn_unusable_fn on_unusable, void *user_data) {
  h2_conn *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->rbuf = malloc(H2_CONN_READ_BUF);
  c->session = h2_session_new(NULL, &session_cbs, c, nl);
  if (!c->rbuf || !c->session) {
    free(c->rbuf);
    h2_session_free(c->session);
    free(c);
    return NULL;
  }
  c->runner = runner;
  c->sock = sock;
  c->on_unusable = on_unusable;
  c->ud = user_data;
  c->pool_ref = true;
  c->usable = true;
  c->altsvc_tail = &c->altsvc_head;
  conn_pump(c); /* preface + SETTINGS, and start reading */
  return c;
}

bool h2_conn_is_usable(const h2_conn *c) {
  return c->usable && !c->dead && !h2_session_is_going_away(c->session);
}

http_stream *h2_conn_new_stream(h2_conn *c) {
  if (!h2_conn_is_usable(c))
    return NULL;
  h2_http_stream *s = base_zalloc(sizeof *s);
  if (!s)
    return NULL;
  s->base.vt = &h2_stream_vt;
  s->conn = c;
  s->reused = c->streams_made++ > 0;
  if (s->reused)
    s->timing.socket_reused = true; /* Chromium: no connect times on reuse */
  else
    s->timing = c->timing;
  h1_headers_init(&s->headers);
  s->next = c->streams;
  if (c->streams)
    c->streams->prev = s;
  c->streams = s;
  return &s->base;
}

void h2_conn_release(h2_conn *c) {
  c->pool_ref = false;
  c->on_unusable = NULL;
  c->altsvc_fn = NULL;
  c->altsvc_ud = NULL;
  altsvc_drop_all(c);
  conn_maybe_free(c);
}

size_t h2_conn_open_streams(const h2_conn *c) {
  size_t n = 0;
  for (h2_http_stream *s = c->streams; s; s = s->next)
    n++;
  return n;
}

stream_socket *h2_conn_socket(h2_conn *c) { return c->sock; }

void h2_conn_set_altsvc_callback(h2_conn *c, h2_conn_altsvc_fn fn, void *user_data) {
  c->altsvc_fn = fn;
  c->altsvc_ud = user_data;
  if (!fn)
    altsvc_drop_all(c);
}
