#include "http/h1_stream.h"

#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "http/h1_request.h"

/* Chromium's HttpStreamParser reads the head in 4 KiB steps growing to
 * 256 KiB; one 16 KiB buffer that grows only for huge heads does the same
 * job with fewer syscalls for typical heads. */
#define H1_STREAM_READ_BUF 16384

typedef enum pending_op { OP_NONE = 0, OP_SEND, OP_HEADERS, OP_BODY } pending_op;

typedef struct h1_stream {
  http_stream base;
  stream_socket *sock;
  bool reused;
  h1_socket_release_fn release;
  void *release_ud;

  h1_parser *parser;
  strbuf head;   /* the request head being sent */
  uint8_t *rbuf; /* bytes read but not yet parsed */
  size_t rbuf_cap;
  size_t rpos, rlen; /* unparsed bytes are rbuf[rpos .. rpos+rlen) */
  bool got_bytes;
  bool eof;
  bool headers_done;
  int64_t bytes_sent, bytes_received; /* this exchange's, as written / read */
  bool body_done;

  pending_op op;
  http_io_cb cb;
  void *cb_ud;
  uint8_t *user_buf; /* OP_BODY */
  size_t user_len;
  bool reading_into_user; /* the socket read targets user_buf */
  /* A streamed upload (http_upload_body): read a piece into ubuf, write it
   * (framed as a chunk when the length is unknown), repeat. */
  http_upload_body *upload;
  const uint8_t *udata; /* the piece being written (the body's buffer) */
  bool uread_pending;
  uint8_t chunk_hdr[H1_CHUNK_HEADER_MAX];
  int64_t usent;
  bool upload_done;
  http_load_timing timing;
} h1_stream;

static h1_stream *H(http_stream *s) { return (h1_stream *)s; }

static void complete(h1_stream *s, int rv) {
  http_io_cb cb = s->cb;
  void *ud = s->cb_ud;
  s->op = OP_NONE;
  s->cb = NULL;
  s->cb_ud = NULL;
  cb(ud, rv);
}

/* ---- Sending ------------------------------------------------------------ */

static void on_write_done(int result, void *ud) {
  h1_stream *s = ud;
  complete(s, result < 0 ? result : CRONC_OK);
}

static int upload_loop(h1_stream *s);

/* The head or a piece went out: read and write the next pieces. */
static void on_upload_written(int result, void *ud) {
  h1_stream *s = ud;
  int rv = result < 0 ? result : upload_loop(s);
  if (rv != CRONC_ERR_IO_PENDING)
    complete(s, rv);
}

/* Writes the n bytes the body made available in udata (n == 0: the end). */
static int upload_write(h1_stream *s, int n) {
  if (n < 0)
    return n;
  bool chunked = s->upload->length < 0;
  if (n == 0) {
    s->upload_done = true;
    if (!chunked)
      return s->usent == s->upload->length ? CRONC_OK : CRONC_ERR_UPLOAD_FILE_CHANGED;
    s->bytes_sent += (int64_t)sizeof H1_CHUNK_LAST - 1;
    int rv = stream_socket_write(s->sock, (const uint8_t *)H1_CHUNK_LAST, sizeof H1_CHUNK_LAST - 1,
                                 on_upload_written, s);
    return rv < 0 ? rv : CRONC_OK;
  }
  s->usent += n;
  if (!chunked && s->usent > s->upload->length)
    return CRONC_ERR_UPLOAD_FILE_CHANGED; /* more than Content-Length said */
  socket_iovec iov[3];
  size_t k = 0;
  if (chunked)
    iov[k++] = (socket_iovec){s->chunk_hdr, h1_chunk_header((uint64_t)n, s->chunk_hdr)};
  iov[k++] = (socket_iovec){s->udata, (size_t)n};
  if (chunked)
    iov[k++] = (socket_iovec){(const uint8_t *)H1_CHUNK_CRLF, 2};
  for (size_t i = 0; i < k; i++)
    s->bytes_sent += (int64_t)iov[i].len;
  int rv = stream_socket_writev(s->sock, iov, k, on_upload_written, s);
  return rv < 0 ? rv : CRONC_OK;
}

static void on_upload_read(void *ud, int result) {
  h1_stream *s = ud;
  s->uread_pending = false;
  int rv = upload_write(s, result);
  if (rv == CRONC_OK && !s->upload_done)
    rv = upload_loop(s);
  if (rv != CRONC_ERR_IO_PENDING)
    complete(s, rv);
}

/* Reads and writes pieces until the body ends or something is pending. */
static int upload_loop(h1_stream *s) {
  while (!s->upload_done) {
    int n = s->upload->vt->read(s->upload, &s->udata, on_upload_read, s);
    if (n == CRONC_ERR_IO_PENDING) {
      s->uread_pending = true;
      return n;
    }
    int rv = upload_write(s, n);
    if (rv != CRONC_OK)
      return rv;
  }
  return CRONC_OK;
}

static int h1_send_request(http_stream *hs, const http_request_info *req, http_io_cb cb, void *ud) {
  h1_stream *s = H(hs);
  const url *u = req->url;
  /* Caller fields as slices over the request headers' arena. */
  size_t n = req->headers ? h1_headers_count(req->headers) : 0;
  h1_field *fields = n ? calloc(n, sizeof *fields) : NULL;
  if (n && !fields)
    return CRONC_ERR_OUT_OF_MEMORY;
  size_t it = 0, i = 0;
  while (req->headers && i < n &&
         h1_headers_next(req->headers, &it, &fields[i].name, &fields[i].name_len, &fields[i].value,
                         &fields[i].value_len))
    i++;
  strbuf target = STRBUF_INIT;
  strbuf_append_str(&target, u->path);
  if (u->query) {
    strbuf_append_char(&target, '?');
    strbuf_append_str(&target, u->query);
  }
  bool has_body = req->upload || req->body_len > 0 ||
                  (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
                   strcmp(req->method, "PATCH") == 0);
  bool chunked = req->upload && req->upload->length < 0;
  h1_request_head head = {
      .method = req->method,
      .target = strbuf_cstr(&target),
      .scheme = u->scheme,
      .host = u->host,
      .port = u->port,
      .fields = fields,
      .field_count = i,
      .body = chunked    ? H1_REQUEST_BODY_CHUNKED
              : has_body ? H1_REQUEST_BODY_LENGTH
                         : H1_REQUEST_BODY_NONE,
      .content_length = req->upload ? (uint64_t)req->upload->length : req->body_len,
  };
  strbuf_reset(&s->head);
  int rv =
      strbuf_failed(&target) ? CRONC_ERR_OUT_OF_MEMORY : h1_request_write_head(&head, &s->head);
  strbuf_free(&target);
  free(fields);
  if (rv != CRONC_OK)
    return rv;
  h1_parser_reset(s->parser, strcmp(req->method, "HEAD") == 0 ? H1_METHOD_HEAD : H1_METHOD_OTHER);
  if (req->upload) {
    s->upload = req->upload;
    s->usent = 0;
    s->upload_done = false;
    s->bytes_sent += (int64_t)s->head.len;
    rv = stream_socket_write(s->sock, (const uint8_t *)s->head.data, s->head.len, on_upload_written,
                             s);
    if (rv >= 0)
      rv = upload_loop(s);
    if (rv == CRONC_ERR_IO_PENDING) {
      s->op = OP_SEND;
      s->cb = cb;
      s->cb_ud = ud;
    }
    return rv < 0 ? rv : CRONC_OK;
  }
  /* Head and body in one vectored write: one syscall for small requests. */
  socket_iovec iov[2] = {{(const uint8_t *)s->head.data, s->head.len}, {req->body, req->body_len}};
  s->bytes_sent += (int64_t)(s->head.len + req->body_len);
  rv = stream_socket_writev(s->sock, iov, req->body_len ? 2 : 1, on_write_done, s);
  if (rv == CRONC_ERR_IO_PENDING) {
    s->op = OP_SEND;
    s->cb = cb;
    s->cb_ud = ud;
    return rv;
  }
  return rv < 0 ? rv : CRONC_OK;
}

/* ---- Reading the head --------------------------------------------------- */

static int parse_head(h1_stream *s);
static void on_head_read(int result, void *ud);

/* Makes room at the end of rbuf for another read. */
static int rbuf_make_room(h1_stream *s) {
  if (s->rpos > 0) {
    memmove(s->rbuf, s->rbuf + s->rpos, s->rlen);
    s->rpos = 0;
  }
  if (s->rlen < s->rbuf_cap)
    return CRONC_OK;
  if (s->rbuf_cap >= H1_MAX_HEADER_BYTES + H1_STREAM_READ_BUF)
    return CRONC_ERR_RESPONSE_HEADERS_TOO_BIG; /* the parser says so first */
  size_t cap = s->rbuf_cap * 2;
  uint8_t *p = realloc(s->rbuf, cap);
  if (!p)
    return CRONC_ERR_OUT_OF_MEMORY;
  s->rbuf = p;
  s->rbuf_cap = cap;
  return CRONC_OK;
}

/* The connection ended while the head was awaited. */
static int head_eof_error(h1_stream *s) {
  int rv = h1_parser_finish(s->parser);
  if (rv == CRONC_OK)
    return CRONC_ERR_EMPTY_RESPONSE; /* finished without a final head */
  /* Chromium: nothing at all on a reused connection is ERR_CONNECTION_CLOSED
   * (the server dropped an idle keep-alive connection; retried). */
  if (rv == CRONC_ERR_EMPTY_RESPONSE && s->reused)
    return CRONC_ERR_CONNECTION_CLOSED;
  return rv;
}

/* Parses buffered bytes until the final head; reads more as needed. */
static int parse_head(h1_stream *s) {
  for (;;) {
    while (s->rlen > 0 || h1_parser_is_done(s->parser)) {
      size_t used = 0;
      h1_event ev;
      int rv = h1_parser_execute(s->parser, s->rbuf + s->rpos, s->rlen, &used, &ev);
      if (rv < 0)
        return rv;
      s->rpos += used;
      s->rlen -= used;
      if (ev.type == H1_EVENT_HEADERS && !h1_parser_is_interim(s->parser)) {
        s->headers_done = true;
        return CRONC_OK;
      }
      if (ev.type == H1_EVENT_NONE)
        break;
    }
    if (s->eof)
      return head_eof_error(s);
    int rv = rbuf_make_room(s);
    if (rv != CRONC_OK)
      return rv;
    rv = stream_socket_read(s->sock, s->rbuf + s->rlen, s->rbuf_cap - s->rlen, on_head_read, s);
    if (rv == CRONC_ERR_IO_PENDING)
      return rv;
    if (rv < 0)
      return rv;
    if (rv == 0)
      s->eof = true;
    else {
      s->got_bytes = true;
      s->bytes_received += rv;
      s->rlen += (size_t)rv;
    }
  }
}

static void on_head_read(int result, void *ud) {
  h1_stream *s = ud;
  if (result < 0) {
    complete(s, result);
    return;
  }
  if (result == 0)
    s->eof = true;
  else {
    s->got_bytes = true;
    s->bytes_received += result;
    s->rlen += (size_t)result;
  }
  int rv = parse_head(s);
  if (rv != CRONC_ERR_IO_PENDING)
    complete(s, rv);
}

static int h1_read_response_headers(http_stream *hs, http_io_cb cb, void *ud) {
  h1_stream *s = H(hs);
  int rv = parse_head(s);
  if (rv == CRONC_ERR_IO_PENDING) {
    s->op = OP_HEADERS;
    s->cb = cb;
    s->cb_ud = ud;
  }
  return rv;
}

static const h1_headers *h1_response_headers(http_stream *hs) {
  return h1_parser_headers(H(hs)->parser);
}

/* ---- Reading the body --------------------------------------------------- */

static void on_body_read(int result, void *ud);

/* Runs the parser over data[0..len), moving body bytes to out (which may be
 * data itself: the write position never passes the read position, so the
 * move is safe in place). The parser is fed at most the room left in out, so
 * a BODY slice (a part of what was fed) always fits. Stops at the end of the
 * message, when out is full or when the input is used up; *used says how
 * much of data was consumed. Returns the body bytes written, or an error. */
static int drain(h1_stream *s, const uint8_t *data, size_t len, uint8_t *out, size_t out_len,
                 size_t *used) {
  size_t produced = 0, off = 0;
  while (!s->body_done && produced < out_len) {
    size_t feed = len - off;
    if (feed > out_len - produced)
      feed = out_len - produced;
    size_t n = 0;
    h1_event ev;
    int rv = h1_parser_execute(s->parser, data + off, feed, &n, &ev);
    if (rv < 0)
      return rv;
    off += n;
    if (ev.type == H1_EVENT_BODY) {
      memmove(out + produced, ev.data, ev.len);
      produced += ev.len;
    } else if (ev.type == H1_EVENT_MESSAGE_COMPLETE) {
      s->body_done = true;
    } else if (off >= len || n == 0) {
      break; /* the parser wants more input than there is */
    }
  }
  *used = off;
  return (int)produced;
}

/* Bytes read into the caller's buffer past the end of this response (a
 * pipelined or stray reply): kept in rbuf, which also makes the connection
 * not reusable. rbuf is empty whenever the socket reads into the caller's
 * buffer. */
static int keep_leftover(h1_stream *s, const uint8_t *data, size_t n) {
  if (n > s->rbuf_cap) {
    uint8_t *p = realloc(s->rbuf, n);
    if (!p)
      return CRONC_ERR_OUT_OF_MEMORY;
    s->rbuf = p;
    s->rbuf_cap = n;
  }
  memcpy(s->rbuf, data, n);
  s->rpos = 0;
  s->rlen = n;
  return CRONC_OK;
}

/* Serves a body read from buffered bytes, then from the socket. */
static int read_body(h1_stream *s) {
  for (;;) {
    if (s->body_done)
      return 0;
    {
      /* Also with nothing buffered: a body-less or just-finished response
       * has its MESSAGE_COMPLETE pending in the parser. */
      size_t used = 0;
      int rv = drain(s, s->rbuf + s->rpos, s->rlen, s->user_buf, s->user_len, &used);
      if (rv < 0)
        return rv;
      s->rpos += used;
      s->rlen -= used;
      if (rv > 0)
        return rv;
      if (s->body_done)
        return 0;
    }
    if (s->eof) {
      int rv = h1_parser_finish(s->parser);
      if (rv != CRONC_OK)
        return rv;
      s->body_done = true;
      return 0;
    }
    /* Nothing buffered: read straight into the caller's buffer. The rest
     * of a Content-Length body is certain to come (stream_socket_expect). */
    int64_t cl = h1_parser_content_length(s->parser);
    uint64_t got = h1_parser_body_bytes(s->parser);
    stream_socket_expect(s->sock, cl >= 0 && (uint64_t)cl > got ? (uint64_t)cl - got : 0);
    s->rpos = 0;
    s->reading_into_user = true;
    int rv = stream_socket_read(s->sock, s->user_buf, s->user_len, on_body_read, s);
    if (rv == CRONC_ERR_IO_PENDING)
      return rv;
    s->reading_into_user = false;
    if (rv < 0)
      return rv;
    if (rv == 0) {
      s->eof = true;
      continue;
    }
    s->got_bytes = true;
    s->bytes_received += rv;
    size_t used = 0;
    int produced = drain(s, s->user_buf, (size_t)rv, s->user_buf, s->user_len, &used);
    if (produced < 0)
      return produced;
    /* Bytes after this (framing of the next chunk, or a pipelined reply)
     * are kept for later. */
    if (used < (size_t)rv) {
      int k = keep_leftover(s, s->user_buf + used, (size_t)rv - used);
      if (k != CRONC_OK)
        return k;
    }
    if (produced > 0 || s->body_done)
      return produced;
  }
}

static void on_body_read(int result, void *ud) {
  h1_stream *s = ud;
  s->reading_into_user = false;
  int rv;
  if (result < 0) {
    rv = result;
  } else if (result == 0) {
    s->eof = true;
    rv = read_body(s);
  } else {
    s->got_bytes = true;
    s->bytes_received += result;
    size_t used = 0;
    rv = drain(s, s->user_buf, (size_t)result, s->user_buf, s->user_len, &used);
    if (rv >= 0 && used < (size_t)result) {
      int k = keep_leftover(s, s->user_buf + used, (size_t)result - used);
      if (k != CRONC_OK)
        rv = k;
    }
    if (rv == 0 && !s->body_done)
      rv = read_body(s); /* only framing arrived: read on */
  }
  if (rv != CRONC_ERR_IO_PENDING)
    complete(s, rv);
}

static int h1_read_body(http_stream *hs, uint8_t *buf, size_t len, http_io_cb cb, void *ud) {
  h1_stream *s = H(hs);
  if (!s->headers_done || !buf || !len)
    return CRONC_ERR_INVALID_ARGUMENT;
  s->user_buf = buf;
  s->user_len = len;
  int rv = read_body(s);
  if (rv == CRONC_ERR_IO_PENDING) {
    s->op = OP_BODY;
    s->cb = cb;
    s->cb_ud = ud;
  }
  return rv;
}

/* ---- The rest ------------------------------------------------------------- */

static void h1_close(http_stream *hs, bool not_reusable) {
  h1_stream *s = H(hs);
  bool reusable = !not_reusable && s->op == OP_NONE && s->body_done &&
                  h1_parser_can_reuse(s->parser) && s->rlen == 0 && !s->eof;
  stream_socket *sock = s->sock;
  if (!reusable)
    stream_socket_disconnect(sock); /* no callback of ours runs after this */
  s->release(s->release_ud, sock, reusable);
  h1_parser_free(s->parser);
  strbuf_free(&s->head);
  if (s->uread_pending)
    s->upload->vt->cancel_read(s->upload);
  free(s->rbuf);
  free(s);
}

static bool h1_is_connection_reused(http_stream *hs) { return H(hs)->reused; }
static bool h1_received_any_response_bytes(http_stream *hs) { return H(hs)->got_bytes; }
static const char *h1_protocol(http_stream *hs) {
  (void)hs;
  return "http/1.1";
}

static void h1_load_timing(http_stream *hs, http_load_timing *out) { *out = H(hs)->timing; }

void h1_stream_set_load_timing(http_stream *hs, const http_load_timing *t) {
  H(hs)->timing = *t;
  H(hs)->timing.socket_reused = H(hs)->reused;
}

static void h1_byte_counts(http_stream *hs, int64_t *sent, int64_t *received) {
  h1_stream *s = H(hs);
  *sent = s->bytes_sent;
  *received = s->bytes_received;
}

static const http_stream_vtable h1_vt = {
    h1_send_request,
    h1_read_response_headers,
    h1_response_headers,
    h1_read_body,
    h1_close,
    h1_is_connection_reused,
    h1_received_any_response_bytes,
    h1_protocol,
    h1_load_timing,
    NULL, /* no early data over TCP yet */
    NULL, /* no QUIC */
    h1_byte_counts,
};

http_stream *h1_stream_new(stream_socket *sock, bool reused, h1_socket_release_fn release,
                           void *release_ud) {
  h1_stream *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->parser = h1_parser_new();
  s->rbuf = malloc(H1_STREAM_READ_BUF);
  if (!s->parser || !s->rbuf) {
    h1_parser_free(s->parser);
    free(s->rbuf);
    free(s);
    return NULL;
  }
  s->base.vt = &h1_vt;
  s->rbuf_cap = H1_STREAM_READ_BUF;
  s->sock = sock;
  s->reused = reused;
  s->release = release;
  s->release_ud = release_ud;
  s->timing.socket_reused = reused;
  strbuf_init(&s->head);
  return &s->base;
}
