/* http/h2_session: HTTP/2 client session on nghttp2, I/O-free. See the header.
 *
 * nghttp2 does the framing, HPACK, stream states and flow-control
 * arithmetic; this file adds Chromium's policy on top: initial settings and
 * windows, the pending-stream queue bounded by the peer's
 * MAX_CONCURRENT_STREAMS, priority dependencies, error mapping, GOAWAY
 * handling, consumer-driven WINDOW_UPDATEs and zero-copy input/output. */
#include "http/h2_session.h"

#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "http/h1_parser.h"

/* Output batching: small frames are copied into one buffer so a batch is a
 * few large slices; DATA payloads are never copied (NO_COPY). */
#define H2_COALESCE_SIZE    16384
#define H2_BATCH_MAX_FRAMES 32
#define H2_FRAME_HEADER_LEN 9

enum { ST_PENDING = 1, ST_ACTIVE = 2 };

struct h2_stream {
  h2_session *s;
  int32_t id;
  int state;
  h2_priority priority;
  h2_stream_callbacks cb;
  void *user_data;
  h2_stream *prev, *next;           /* s->active or s->pending[priority] */
  h2_stream *band_prev, *band_next; /* s->band[spdy priority], active only */
  /* The request while queued (one block: nv array then names and values). */
  nghttp2_nv *nva;
  size_t nvlen;
  /* Response state. */
  bool final_received;
  bool header_error;
  bool got_rst;
  uint32_t rst_code;
  int local_error;
  int cur_status;
  size_t hdr_list_size;
  nghttp2_rcbuf **hdrs; /* name, value pairs of the header block in progress */
  size_t hdr_n, hdr_cap;
  uint64_t unconsumed;
  /* The final response's Content-Length minus DATA received; -1 unknown.
   * A promise only once DATA flows (HEAD and 304 carry a length, no body). */
  int64_t body_left;
  bool data_seen;
  /* Upload. */
  uint64_t batch_gen;
  h2_slice pending_body;
  /* HEADERS and DATA frame bytes of this stream, frame headers included. */
  int64_t bytes_sent, bytes_received;
};

typedef struct h2_list {
  h2_stream *head, *tail;
} h2_list;

struct h2_session {
  nghttp2_session *ng;
  h2_settings settings;
  h2_session_callbacks cb;
  void *user_data;
  netlog *nl;
  netlog_source src;
  h2_list active;
  size_t n_active;
  h2_list pending[H2_PRIORITY_COUNT];
  size_t n_pending;
  h2_list band[H2_PRIORITY_COUNT]; /* by SPDY priority, 0 = highest */
  bool settings_received;
  bool stalled_logged;
  bool in_process_pending;
  /* GOAWAY. */
  bool going_away;
  bool goaway_received;
  bool goaway_notified;
  int32_t goaway_last_id;
  uint32_t goaway_code;
  int goaway_status;
  /* Fatal error. */
  int error;
  int fail_pending; /* set by a callback, applied when nghttp2 returns */
  bool fail_no_goaway;
  bool closed_no_goaway;
  int last_lib_error;
  unsigned pings_in_flight;
  /* Output batch. */
  uint64_t batch_gen;
  h2_slice *out;
  size_t out_n, out_max;
  uint8_t *coalesce;
  size_t coalesce_len;
  uint8_t hdrs[H2_BATCH_MAX_FRAMES][H2_FRAME_HEADER_LEN];
  size_t nframes;
  bool batch_paused;
  bool batch_stop;
};

/* ------------------------------------------------------------------------ */
/* Lists. */

static void list_push(h2_list *l, h2_stream *st) {
  st->next = NULL;
  st->prev = l->tail;
  if (l->tail)
    l->tail->next = st;
  else
    l->head = st;
  l->tail = st;
}

static void list_remove(h2_list *l, h2_stream *st) {
  if (st->prev)
    st->prev->next = st->next;
  else
    l->head = st->next;
  if (st->next)
    st->next->prev = st->prev;
  else
    l->tail = st->prev;
  st->prev = st->next = NULL;
}

static void band_push(h2_list *l, h2_stream *st) {
  st->band_next = NULL;
  st->band_prev = l->tail;
  if (l->tail)
    l->tail->band_next = st;
  else
    l->head = st;
  l->tail = st;
}

static void band_remove(h2_list *l, h2_stream *st) {
  if (st->band_prev)
    st->band_prev->band_next = st->band_next;
  else if (l->head == st)
    l->head = st->band_next;
  else
    return; /* not in the list */
  if (st->band_next)
    st->band_next->band_prev = st->band_prev;
  else
    l->tail = st->band_prev;
  st->band_prev = st->band_next = NULL;
}

/* ------------------------------------------------------------------------ */
/* NetLog. */

static void nl_event(h2_session *s, netlog_event_type t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void nl_event(h2_session *s, netlog_event_type t, const char *fmt, ...) {
  if (!netlog_is_capturing(s->nl))
    return;
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  netlog_add_event(s->nl, s->src, t, buf);
}

/* ALTSVC frames carry server-chosen strings of any length: escaped JSON
 * built in a strbuf instead of the fixed nl_event buffer. */
static void nl_altsvc(h2_session *s, netlog_event_type t, const nghttp2_frame *frame,
                      const char *reason) {
  if (!netlog_is_capturing(s->nl))
    return;
  const nghttp2_ext_altsvc *a = frame->ext.payload;
  strbuf sb = STRBUF_INIT;
  strbuf_appendf(&sb, "{\"stream_id\":%d", (int)frame->hd.stream_id);
  if (reason) {
    strbuf_append_str(&sb, ",\"reason\":");
    strbuf_json_cstr(&sb, reason);
  }
  strbuf_append_str(&sb, ",\"origin\":");
  strbuf_json_string(&sb, (const char *)a->origin, a->origin_len);
  strbuf_append_str(&sb, ",\"alt_svc\":");
  strbuf_json_string(&sb, (const char *)a->field_value, a->field_value_len);
  strbuf_append_char(&sb, '}');
  if (!strbuf_failed(&sb))
    netlog_add_event(s->nl, s->src, t, strbuf_cstr(&sb));
  strbuf_free(&sb);
}

/* ------------------------------------------------------------------------ */
/* Mappings. */

void h2_settings_init(h2_settings *settings) {
  if (!settings)
    return;
  memset(settings, 0, sizeof(*settings));
  settings->version = H2_SETTINGS_VERSION;
  settings->header_table_size = H2_MAX_HEADER_TABLE_SIZE;
  settings->initial_window_size = H2_STREAM_MAX_RECV_WINDOW_SIZE;
  settings->max_header_list_size = H2_MAX_HEADER_LIST_SIZE;
  settings->max_concurrent_streams = 0;
  settings->session_max_recv_window_size = H2_SESSION_MAX_RECV_WINDOW_SIZE;
  settings->initial_max_concurrent_streams = H2_INITIAL_MAX_CONCURRENT_STREAMS;
  settings->max_concurrent_streams_limit = H2_MAX_CONCURRENT_STREAM_LIMIT;
}

/* SPDY priority: 0 (HIGHEST) .. 5 (THROTTLED), ConvertRequestPriorityToSpdyPriority. */
static int spdy_priority(h2_priority p) {
  if ((int)p < 0 || (int)p >= H2_PRIORITY_COUNT)
    p = H2_PRIORITY_LOWEST;
  return H2_PRIORITY_HIGHEST - (int)p;
}

int h2_priority_to_weight(h2_priority p) {
  /* quiche Spdy3PriorityToHttp2Weight: 256, 220, 183, 147, 110, 74. */
  const float steps = 255.9f / 7.f;
  return (int)(steps * (7.f - (float)spdy_priority(p))) + 1;
}

/* Our own net error -> HTTP/2 error code for the GOAWAY we send
 * (MapNetErrorToGoAwayStatus). */
static uint32_t net_error_to_h2(int err) {
  switch (err) {
  case 0:
    return NGHTTP2_NO_ERROR;
  case CRONC_ERR_HTTP2_PROTOCOL_ERROR:
    return NGHTTP2_PROTOCOL_ERROR;
  case CRONC_ERR_HTTP2_FLOW_CONTROL_ERROR:
    return NGHTTP2_FLOW_CONTROL_ERROR;
  case CRONC_ERR_HTTP2_FRAME_SIZE_ERROR:
    return NGHTTP2_FRAME_SIZE_ERROR;
  case CRONC_ERR_HTTP2_COMPRESSION_ERROR:
    return NGHTTP2_COMPRESSION_ERROR;
  case CRONC_ERR_HTTP2_INADEQUATE_TRANSPORT_SECURITY:
    return NGHTTP2_INADEQUATE_SECURITY;
  default:
    return NGHTTP2_INTERNAL_ERROR;
  }
}

/* An HTTP/2 error code nghttp2 used for a stream or session error it found
 * itself -> net error (Chromium's MapFramerErrorToNetError keeps the
 * specific errors for flow control, frame size and compression). Codes a
 * server sends in RST_STREAM go through h2_map_rst_stream_error, which
 * follows SpdySession::OnRstStream instead. */
static int h2_code_to_net_error(uint32_t code) {
  switch (code) {
  case NGHTTP2_REFUSED_STREAM:
    return CRONC_ERR_HTTP2_SERVER_REFUSED_STREAM;
  case NGHTTP2_HTTP_1_1_REQUIRED:
    return CRONC_ERR_HTTP_1_1_REQUIRED;
  case NGHTTP2_FLOW_CONTROL_ERROR:
    return CRONC_ERR_HTTP2_FLOW_CONTROL_ERROR;
  case NGHTTP2_FRAME_SIZE_ERROR:
    return CRONC_ERR_HTTP2_FRAME_SIZE_ERROR;
  case NGHTTP2_COMPRESSION_ERROR:
    return CRONC_ERR_HTTP2_COMPRESSION_ERROR;
  case NGHTTP2_STREAM_CLOSED:
    return CRONC_ERR_HTTP2_STREAM_CLOSED;
  case NGHTTP2_INADEQUATE_SECURITY:
    return CRONC_ERR_HTTP2_INADEQUATE_TRANSPORT_SECURITY;
  default:
    return CRONC_ERR_HTTP2_PROTOCOL_ERROR;
  }
}

int h2_map_rst_stream_error(uint32_t error_code, bool headers_received) {
  if (error_code == NGHTTP2_NO_ERROR) {
    /* SpdySession::OnRstStream gives ERR_HTTP2_RST_STREAM_NO_ERROR_RECEIVED,
     * which SpdyStream::OnClose turns into ERR_HTTP2_PROTOCOL_ERROR before
     * the response headers and OK after them. */
    return headers_received ? 0 : CRONC_ERR_HTTP2_PROTOCOL_ERROR;
  }
  /* SpdySession::OnRstStream names only these two; every other code a
   * server resets with is ERR_HTTP2_PROTOCOL_ERROR. */
  if (error_code == NGHTTP2_REFUSED_STREAM)
    return CRONC_ERR_HTTP2_SERVER_REFUSED_STREAM;
  if (error_code == NGHTTP2_HTTP_1_1_REQUIRED)
    return CRONC_ERR_HTTP_1_1_REQUIRED;
  return CRONC_ERR_HTTP2_PROTOCOL_ERROR;
}

/* nghttp2 library error -> net error (Chromium's MapFramerErrorToNetError). */
static int lib_error_to_net_error(int lib) {
  switch (lib) {
  case NGHTTP2_ERR_NOMEM:
    return CRONC_ERR_OUT_OF_MEMORY;
  case NGHTTP2_ERR_FLOW_CONTROL:
    return CRONC_ERR_HTTP2_FLOW_CONTROL_ERROR;
  case NGHTTP2_ERR_HEADER_COMP:
    return CRONC_ERR_HTTP2_COMPRESSION_ERROR;
  case NGHTTP2_ERR_FRAME_SIZE_ERROR:
    return CRONC_ERR_HTTP2_FRAME_SIZE_ERROR;
  default:
    return CRONC_ERR_HTTP2_PROTOCOL_ERROR;
  }
}

/* ------------------------------------------------------------------------ */
/* Streams. */

static h2_stream *stream_of(h2_session *s, int32_t id) {
  if (id <= 0)
    return NULL;
  return nghttp2_session_get_stream_user_data(s->ng, id);
}

static void stream_drop_headers(h2_stream *st) {
  for (size_t i = 0; i < st->hdr_n; i++)
    nghttp2_rcbuf_decref(st->hdrs[i]);
  st->hdr_n = 0;
  st->hdr_list_size = 0;
}

static void stream_free(h2_stream *st) {
  stream_drop_headers(st);
  free(st->hdrs);
  free(st->nva);
  free(st);
}

/* Takes st out of the session (lists, nghttp2 user data, connection window)
 * so that no nghttp2 callback reaches it any more. */
static void stream_detach(h2_stream *st) {
  h2_session *s = st->s;
  if (st->state == ST_PENDING) {
    list_remove(&s->pending[st->priority], st);
    s->n_pending--;
  } else if (st->state == ST_ACTIVE) {
    list_remove(&s->active, st);
    band_remove(&s->band[spdy_priority(st->priority)], st);
    s->n_active--;
    if (st->id > 0) {
      nghttp2_session_set_stream_user_data(s->ng, st->id, NULL);
      /* Bytes delivered but never consumed go back to the connection window
       * (Chromium: discarded SpdyBuffers run their consume callbacks). */
      if (st->unconsumed)
        nghttp2_session_consume_connection(s->ng, (size_t)st->unconsumed);
    }
  }
  st->unconsumed = 0;
  st->state = 0;
}

/* Reports the end of a stream and frees it. */
static void stream_finish(h2_stream *st, int err, bool unprocessed) {
  h2_session *s = st->s;
  stream_detach(st);
  if (err != 0)
    nl_event(s, NETLOG_TYPE_HTTP2_STREAM_ERROR,
             "{\"stream_id\":%d,\"net_error\":%d,\"unprocessed\":%s}", (int)st->id, err,
             unprocessed ? "true" : "false");
  if (st->cb.on_close)
    st->cb.on_close(st, err, unprocessed, st->user_data);
  stream_free(st);
}

static size_t max_concurrent(const h2_session *s) {
  uint32_t limit = s->settings.max_concurrent_streams_limit;
  uint32_t v =
      s->settings_received
          ? nghttp2_session_get_remote_settings(s->ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
          : s->settings.initial_max_concurrent_streams;
  return v < limit ? v : limit;
}

static ssize_t cb_read_body(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *ud);

/* Submits a queued request to nghttp2. Returns 0 or a net error. */
static int stream_start(h2_session *s, h2_stream *st) {
  int band = spdy_priority(st->priority);
  int32_t parent = 0;
  /* Http2PriorityDependencies::OnStreamCreation: depend exclusively on the
   * last stream of the same or the nearest higher priority. */
  for (int i = band; i >= 0; i--) {
    if (s->band[i].tail) {
      parent = s->band[i].tail->id;
      break;
    }
  }
  int weight = h2_priority_to_weight(st->priority);
  nghttp2_priority_spec pri;
  nghttp2_priority_spec_init(&pri, parent, weight, 1);
  nghttp2_data_provider dp;
  memset(&dp, 0, sizeof(dp));
  dp.source.ptr = st;
  dp.read_callback = cb_read_body;
  int32_t id =
      nghttp2_submit_request(s->ng, &pri, st->nva, st->nvlen, st->cb.read_body ? &dp : NULL, st);
  free(st->nva); /* nghttp2 copied it */
  st->nva = NULL;
  st->nvlen = 0;
  if (id < 0)
    return id == NGHTTP2_ERR_NOMEM ? CRONC_ERR_OUT_OF_MEMORY : CRONC_ERR_CONNECTION_CLOSED;
  st->id = id;
  st->state = ST_ACTIVE;
  list_push(&s->active, st);
  band_push(&s->band[band], st);
  s->n_active++;
  nl_event(s, NETLOG_TYPE_HTTP2_SESSION_SEND_HEADERS,
           "{\"stream_id\":%d,\"fin\":%s,\"has_priority\":true,\"parent_stream_id\":%d,"
           "\"weight\":%d,\"exclusive\":true}",
           (int)id, st->cb.read_body ? "false" : "true", (int)parent, weight);
  return 0;
}

/* Starts queued requests while slots are free, highest priority first. */
static void process_pending(h2_session *s) {
  if (s->in_process_pending)
    return;
  s->in_process_pending = true;
  while (s->n_pending > 0 && !s->going_away && s->error == 0 && s->n_active < max_concurrent(s)) {
    h2_stream *st = NULL;
    for (int p = H2_PRIORITY_HIGHEST; p >= 0 && !st; p--)
      st = s->pending[p].head;
    if (!st)
      break;
    list_remove(&s->pending[st->priority], st);
    s->n_pending--;
    st->state = 0;
    int rv = stream_start(s, st);
    if (rv != 0)
      stream_finish(st, rv, true);
  }
  if (s->n_pending > 0 && !s->going_away && s->error == 0) {
    if (!s->stalled_logged) {
      s->stalled_logged = true;
      nl_event(s, NETLOG_TYPE_HTTP2_SESSION_STALLED_MAX_STREAMS,
               "{\"num_active_streams\":%zu,\"num_pending_streams\":%zu,"
               "\"max_concurrent_streams\":%zu}",
               s->n_active, s->n_pending, max_concurrent(s));
    }
  } else {
    s->stalled_logged = false;
  }
  s->in_process_pending = false;
}

/* ------------------------------------------------------------------------ */
/* Session failure and GOAWAY. */

static void session_fail(h2_session *s, int err, bool send_goaway) {
  if (s->error != 0)
    return;
  s->error = err;
  s->going_away = true;
  nl_event(s, NETLOG_TYPE_HTTP2_SESSION_CLOSE, "{\"net_error\":%d}", err);
  /* Chromium's DoDrainSession sends no GOAWAY for ERR_HTTP_1_1_REQUIRED. */
  if (send_goaway)
    nghttp2_session_terminate_session(s->ng, net_error_to_h2(err));
  else
    s->closed_no_goaway = true;
  /* StartGoingAway(0, err): every stream fails; pop before calling out so a
   * callback may cancel other streams. */
  while (s->active.head)
    stream_finish(s->active.head, err, false);
  for (int p = H2_PRIORITY_HIGHEST; p >= 0; p--)
    while (s->pending[p].head)
      stream_finish(s->pending[p].head, err, true);
  if (s->cb.on_error)
    s->cb.on_error(s, err, s->user_data);
}

/* After a GOAWAY: queued requests were never sent, so they are unprocessed;
 * then tell the owner. */
static void goaway_notify(h2_session *s) {
  if (!s->goaway_received || s->goaway_notified)
    return;
  s->goaway_notified = true;
  for (int p = H2_PRIORITY_HIGHEST; p >= 0; p--)
    while (s->pending[p].head)
      stream_finish(s->pending[p].head, s->goaway_status, true);
  if (s->cb.on_goaway)
    s->cb.on_goaway(s, s->goaway_code == NGHTTP2_NO_ERROR ? 0 : s->goaway_status, s->goaway_last_id,
                    s->user_data);
}

/* ------------------------------------------------------------------------ */
/* nghttp2 callbacks. */

static int cb_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *ud) {
  h2_session *s = ud;
  h2_stream *st = stream_of(s, frame->hd.stream_id);
  if (st) {
    stream_drop_headers(st);
    st->cur_status = 0;
    st->body_left = -1;
  }
  return 0;
}

static int cb_header(nghttp2_session *ng, const nghttp2_frame *frame, nghttp2_rcbuf *name,
                     nghttp2_rcbuf *value, uint8_t flags, void *ud) {
  h2_session *s = ud;
  h2_stream *st = stream_of(s, frame->hd.stream_id);
  if (!st || st->header_error)
    return 0;
  nghttp2_vec n = nghttp2_rcbuf_get_buf(name);
  nghttp2_vec v = nghttp2_rcbuf_get_buf(value);
  st->hdr_list_size += n.len + v.len + 32;
  bool upper = false;
  for (size_t i = 0; i < n.len && !upper; i++)
    upper = n.base[i] >= 'A' && n.base[i] <= 'Z';
  /* Chromium's HeaderCoalescer refuses upper-case names and header lists over
   * SETTINGS_MAX_HEADER_LIST_SIZE: the stream is reset, a protocol error. */
  if (upper || st->hdr_list_size > s->settings.max_header_list_size) {
    st->header_error = true;
    st->local_error = CRONC_ERR_HTTP2_PROTOCOL_ERROR;
    stream_drop_headers(st);
    nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
    return 0;
  }
  if (n.len > 0 && n.base[0] == ':') {
    if (n.len == 7 && memcmp(n.base, ":status", 7) == 0 && v.len == 3) {
      st->cur_status = (v.base[0] - '0') * 100 + (v.base[1] - '0') * 10 + (v.base[2] - '0');
    }
    return 0; /* other pseudo headers are validated by nghttp2 and dropped */
  }
  if (n.len == 14 && memcmp(n.base, "content-length", 14) == 0 && st->cur_status >= 200)
    st->body_left = st->body_left == -1 ? h1_parse_content_length((const char *)v.base, v.len)
                                        : -2; /* twice: no promise */
  if (st->hdr_n + 2 > st->hdr_cap) {
    size_t cap = st->hdr_cap ? st->hdr_cap * 2 : 32;
    nghttp2_rcbuf **h = realloc(st->hdrs, cap * sizeof(*h));
    if (!h)
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    st->hdrs = h;
    st->hdr_cap = cap;
  }
  nghttp2_rcbuf_incref(name);
  nghttp2_rcbuf_incref(value);
  st->hdrs[st->hdr_n++] = name;
  st->hdrs[st->hdr_n++] = value;
  return 0;
}

/* A header field nghttp2 found invalid (upper case, bad characters): Chromium's
 * HeaderCoalescer rejects the header block, a stream protocol error. */
static int cb_invalid_header(nghttp2_session *ng, const nghttp2_frame *frame, nghttp2_rcbuf *name,
                             nghttp2_rcbuf *value, uint8_t flags, void *ud) {
  h2_session *s = ud;
  h2_stream *st = stream_of(s, frame->hd.stream_id);
  if (!st || st->header_error)
    return 0;
  st->header_error = true;
  st->local_error = CRONC_ERR_HTTP2_PROTOCOL_ERROR;
  stream_drop_headers(st);
  nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
  return 0;
}

/* Delivers the completed header block of st without copying the strings. */
static int deliver_headers(h2_session *s, h2_stream *st, bool fin) {
  size_t count = st->hdr_n / 2;
  nghttp2_rcbuf **bufs = st->hdrs;
  size_t nbufs = st->hdr_n;
  /* Ownership of the block moves here so a callback may cancel st. */
  st->hdrs = NULL;
  st->hdr_n = st->hdr_cap = 0;
  st->hdr_list_size = 0;
  h2_header small[32];
  h2_header *h = count <= 32 ? small : malloc(count * sizeof(*h));
  int rv = 0;
  if (!h) {
    rv = NGHTTP2_ERR_CALLBACK_FAILURE;
    goto out;
  }
  for (size_t i = 0; i < count; i++) {
    nghttp2_vec n = nghttp2_rcbuf_get_buf(bufs[2 * i]);
    nghttp2_vec v = nghttp2_rcbuf_get_buf(bufs[2 * i + 1]);
    h[i].name = (h2_slice){n.base, n.len};
    h[i].value = (h2_slice){v.base, v.len};
  }
  int status = st->cur_status;
  nl_event(s, NETLOG_TYPE_HTTP2_SESSION_RECV_HEADERS,
           "{\"stream_id\":%d,\"fin\":%s,\"status\":%d,\"header_count\":%zu}", (int)st->id,
           fin ? "true" : "false", st->final_received ? 0 : status, count);
  if (st->final_received) {
    if (st->cb.on_trailers)
      st->cb.on_trailers(st, h, count, st->user_data);
  } else if (status >= 100 && status < 200) {
    if (st->cb.on_headers)
      st->cb.on_headers(st, status, h, count, true, st->user_data);
  } else {
    st->final_received = true;
    if (st->cb.on_headers)
      st->cb.on_headers(st, status, h, count, false, st->user_data);
  }
out:
  if (h != small)
    free(h);
  for (size_t i = 0; i < nbufs; i++)
    nghttp2_rcbuf_decref(bufs[i]);
  free(bufs);
  return rv;
}

/* An ALTSVC frame nghttp2 accepted (SpdySession::OnAltSvc's framing
 * checks; the origin checks are the callback's). */
static void on_altsvc_frame(h2_session *s, const nghttp2_frame *frame) {
  const nghttp2_ext_altsvc *a = frame->ext.payload;
  nl_altsvc(s, NETLOG_TYPE_HTTP2_SESSION_RECV_ALTSVC, frame, NULL);
  h2_stream *st = NULL;
  const char *reason = NULL;
  if (frame->hd.stream_id == 0 ? a->origin_len == 0 : a->origin_len != 0)
    reason =
        frame->hd.stream_id == 0 ? "stream 0 frame without origin" : "stream frame with an origin";
  else if (a->field_value_len == 0)
    reason = "empty value";
  else if (frame->hd.stream_id != 0 && !(st = stream_of(s, frame->hd.stream_id)))
    reason = "unknown stream";
  else if (s->cb.on_altsvc)
    reason = s->cb.on_altsvc(s, st, (h2_slice){a->origin, a->origin_len},
                             (h2_slice){a->field_value, a->field_value_len}, s->user_data);
  if (reason)
    nl_altsvc(s, NETLOG_TYPE_CRONC_HTTP2_ALTSVC_IGNORED, frame, reason);
}

/* Counts a stream's HEADERS / DATA frame (its 9-byte header included). */
static void count_frame(h2_session *s, const nghttp2_frame *frame, bool sent) {
  if (frame->hd.stream_id <= 0 ||
      (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA))
    return;
  h2_stream *st = stream_of(s, frame->hd.stream_id);
  if (!st)
    return;
  int64_t n = (int64_t)frame->hd.length + H2_FRAME_HEADER_LEN;
  if (sent)
    st->bytes_sent += n;
  else
    st->bytes_received += n;
}

void h2_stream_byte_counts(const h2_stream *st, int64_t *sent, int64_t *received) {
  *sent = st ? st->bytes_sent : 0;
  *received = st ? st->bytes_received : 0;
}

static int cb_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *ud) {
  h2_session *s = ud;
  h2_stream *st;
  count_frame(s, frame, false);
  switch (frame->hd.type) {
  case NGHTTP2_HEADERS:
    st = stream_of(s, frame->hd.stream_id);
    if (!st || st->header_error)
      return 0;
    return deliver_headers(s, st, (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0);
  case NGHTTP2_RST_STREAM:
    nl_event(s, NETLOG_TYPE_HTTP2_SESSION_RECV_RST_STREAM, "{\"stream_id\":%d,\"error_code\":%u}",
             (int)frame->hd.stream_id, frame->rst_stream.error_code);
    st = stream_of(s, frame->hd.stream_id);
    if (!st)
      return 0;
    st->got_rst = true;
    st->rst_code = frame->rst_stream.error_code;
    if (st->rst_code == NGHTTP2_HTTP_1_1_REQUIRED) {
      /* SpdySession::OnRstStream drains the whole session. */
      s->fail_pending = CRONC_ERR_HTTP_1_1_REQUIRED;
      s->fail_no_goaway = true;
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  case NGHTTP2_GOAWAY:
    nl_event(s, NETLOG_TYPE_HTTP2_SESSION_RECV_GOAWAY,
             "{\"last_accepted_stream_id\":%d,\"active_streams\":%zu,\"error_code\":%u}",
             (int)frame->goaway.last_stream_id, s->n_active, frame->goaway.error_code);
    if (frame->goaway.error_code == NGHTTP2_HTTP_1_1_REQUIRED) {
      s->fail_pending = CRONC_ERR_HTTP_1_1_REQUIRED;
      s->fail_no_goaway = true;
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (!s->goaway_received || frame->goaway.last_stream_id < s->goaway_last_id)
      s->goaway_last_id = frame->goaway.last_stream_id;
    s->goaway_received = true;
    s->going_away = true;
    s->goaway_code = frame->goaway.error_code;
    /* SpdySession::OnGoAway: unprocessed streams fail with
     * ERR_HTTP2_SERVER_REFUSED_STREAM (retried by the transaction) after a
     * graceful GOAWAY, with ERR_HTTP2_PROTOCOL_ERROR otherwise. */
    s->goaway_status = frame->goaway.error_code == NGHTTP2_NO_ERROR
                           ? CRONC_ERR_HTTP2_SERVER_REFUSED_STREAM
                           : CRONC_ERR_HTTP2_PROTOCOL_ERROR;
    return 0;
  case NGHTTP2_SETTINGS:
    if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) {
      s->settings_received = true;
      nl_event(s, NETLOG_TYPE_HTTP2_SESSION_RECV_SETTINGS, "{\"max_concurrent_streams\":%u}",
               nghttp2_session_get_remote_settings(ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS));
    }
    return 0;
  case NGHTTP2_PING:
    if (frame->hd.flags & NGHTTP2_FLAG_ACK) {
      uint64_t opaque = 0;
      for (int i = 0; i < 8; i++)
        opaque = (opaque << 8) | frame->ping.opaque_data[i];
      nl_event(s, NETLOG_TYPE_HTTP2_SESSION_PING,
               "{\"unique_id\":%llu,\"type\":\"received\",\"is_ack\":true}",
               (unsigned long long)opaque);
      if (s->pings_in_flight == 0) {
        /* SpdySession::OnPing: "Unexpected PING ACK." */
        s->fail_pending = CRONC_ERR_HTTP2_PROTOCOL_ERROR;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
      s->pings_in_flight--;
      if (s->cb.on_ping_ack)
        s->cb.on_ping_ack(s, opaque, s->user_data);
    }
    return 0;
  case NGHTTP2_WINDOW_UPDATE:
    nl_event(s, NETLOG_TYPE_HTTP2_SESSION_RECV_WINDOW_UPDATE, "{\"stream_id\":%d,\"delta\":%d}",
             (int)frame->hd.stream_id, (int)frame->window_update.window_size_increment);
    return 0;
  case NGHTTP2_ALTSVC:
    on_altsvc_frame(s, frame);
    return 0; /* never an error: an ALTSVC frame is advisory */
  default:
    return 0;
  }
}

static int cb_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *ud) {
  h2_session *s = ud;
  h2_stream *st = stream_of(s, stream_id);
  if (!st) {
    /* A cancelled stream: nobody will consume these bytes. */
    nghttp2_session_consume_connection(ng, len);
    return 0;
  }
  st->unconsumed += len;
  st->data_seen = true;
  if (st->body_left >= 0)
    st->body_left = st->body_left > (int64_t)len ? st->body_left - (int64_t)len : 0;
  if (netlog_is_capturing(s->nl))
    nl_event(s, NETLOG_TYPE_HTTP2_SESSION_RECV_DATA, "{\"stream_id\":%d,\"size\":%zu}",
             (int)stream_id, len);
  if (st->cb.on_data)
    st->cb.on_data(st, data, len, st->user_data);
  return 0;
}

static int cb_stream_close(nghttp2_session *ng, int32_t stream_id, uint32_t error_code, void *ud) {
  h2_session *s = ud;
  h2_stream *st = stream_of(s, stream_id);
  if (!st)
    return 0;
  int err;
  bool unprocessed = false;
  if (st->local_error) {
    err = st->local_error;
  } else if (s->goaway_received && stream_id > s->goaway_last_id) {
    err = s->goaway_status;
    unprocessed = true;
  } else if (st->got_rst) {
    err = h2_map_rst_stream_error(st->rst_code, st->final_received);
    unprocessed = st->rst_code == NGHTTP2_REFUSED_STREAM;
  } else if (error_code == NGHTTP2_NO_ERROR) {
    err = st->final_received ? 0 : CRONC_ERR_HTTP2_PROTOCOL_ERROR;
  } else if (error_code == NGHTTP2_REFUSED_STREAM) {
    /* nghttp2 could not send the HEADERS (session closing). */
    err = s->goaway_received ? s->goaway_status : CRONC_ERR_HTTP2_SERVER_REFUSED_STREAM;
    unprocessed = true;
  } else {
    /* nghttp2 reset the stream for a stream error it detected. */
    err = h2_code_to_net_error(error_code);
  }
  stream_finish(st, err, unprocessed);
  return 0;
}

static int cb_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *ud) {
  h2_session *s = ud;
  count_frame(s, frame, true);
  switch (frame->hd.type) {
  case NGHTTP2_RST_STREAM:
    nl_event(s, NETLOG_TYPE_HTTP2_SESSION_SEND_RST_STREAM, "{\"stream_id\":%d,\"error_code\":%u}",
             (int)frame->hd.stream_id, frame->rst_stream.error_code);
    break;
  case NGHTTP2_WINDOW_UPDATE:
    nl_event(s, NETLOG_TYPE_HTTP2_SESSION_SEND_WINDOW_UPDATE, "{\"stream_id\":%d,\"delta\":%d}",
             (int)frame->hd.stream_id, (int)frame->window_update.window_size_increment);
    break;
  case NGHTTP2_PING:
    if (frame->hd.flags & NGHTTP2_FLAG_ACK)
      nl_event(s, NETLOG_TYPE_HTTP2_SESSION_PING, "{\"type\":\"sent\",\"is_ack\":true}");
    break;
  default:
    break;
  }
  return 0;
}

static int cb_frame_not_send(nghttp2_session *ng, const nghttp2_frame *frame, int lib_error,
                             void *ud) {
  h2_session *s = ud;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  /* The stream may not be open inside nghttp2 yet, so look it up here. */
  for (h2_stream *st = s->active.head; st; st = st->next) {
    if (st->id == frame->hd.stream_id) {
      int err = s->goaway_received ? s->goaway_status : CRONC_ERR_CONNECTION_CLOSED;
      stream_finish(st, err, true);
      break;
    }
  }
  return 0;
}

static int cb_invalid_frame(nghttp2_session *ng, const nghttp2_frame *frame, int lib_error,
                            void *ud) {
  h2_session *s = ud;
  if (frame->hd.type == NGHTTP2_ALTSVC) {
    /* nghttp2 found it malformed (origin on the wrong stream, empty value):
     * ignored, the session is unaffected. The checks are repeated there to
     * name the reason. */
    on_altsvc_frame(s, frame);
    return 0;
  }
  s->last_lib_error = lib_error;
  return 0;
}

static ssize_t cb_read_body(nghttp2_session *ng, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *ud) {
  h2_session *s = ud;
  h2_stream *st = stream_of(s, stream_id);
  if (!st || !st->cb.read_body)
    return NGHTTP2_ERR_DEFERRED;
  /* One provider call per stream per batch: the provider may reuse its
   * buffer on the next call. */
  if (st->batch_gen == s->batch_gen) {
    s->batch_stop = true;
    return NGHTTP2_ERR_PAUSE;
  }
  h2_slice out = {NULL, 0};
  bool eof = false;
  int rv = st->cb.read_body(st, length, &out, &eof, st->user_data);
  if (stream_of(s, stream_id) != st)
    return NGHTTP2_ERR_DEFERRED; /* cancelled from the callback */
  if (rv == H2_BODY_DEFERRED)
    return NGHTTP2_ERR_DEFERRED;
  if (rv == 0 && out.len > length)
    rv = CRONC_ERR_INVALID_ARGUMENT;
  if (rv < 0 || rv > H2_BODY_DEFERRED) {
    st->local_error = rv < 0 ? rv : CRONC_ERR_UNEXPECTED;
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  st->batch_gen = s->batch_gen;
  st->pending_body = out;
  *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (eof)
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)out.len;
}

static void out_append(h2_session *s, const uint8_t *p, size_t len) {
  if (len == 0)
    return;
  if (s->out_n > 0) {
    h2_slice *last = &s->out[s->out_n - 1];
    if (last->base + last->len == p) {
      last->len += len;
      return;
    }
  }
  s->out[s->out_n++] = (h2_slice){p, len};
}

static int cb_send_data(nghttp2_session *ng, nghttp2_frame *frame, const uint8_t *framehd,
                        size_t length, nghttp2_data_source *source, void *ud) {
  h2_session *s = ud;
  h2_stream *st = stream_of(s, frame->hd.stream_id);
  if (!st)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  const uint8_t *hd;
  if (H2_COALESCE_SIZE - s->coalesce_len >= H2_FRAME_HEADER_LEN) {
    memcpy(s->coalesce + s->coalesce_len, framehd, H2_FRAME_HEADER_LEN);
    hd = s->coalesce + s->coalesce_len;
    s->coalesce_len += H2_FRAME_HEADER_LEN;
  } else {
    memcpy(s->hdrs[s->nframes], framehd, H2_FRAME_HEADER_LEN);
    hd = s->hdrs[s->nframes];
  }
  s->nframes++;
  out_append(s, hd, H2_FRAME_HEADER_LEN);
  out_append(s, st->pending_body.base, length);
  st->pending_body.base += length;
  st->pending_body.len -= length < st->pending_body.len ? length : st->pending_body.len;
  /* Back to the batch loop, which checks the room left. */
  s->batch_paused = true;
  return NGHTTP2_ERR_PAUSE;
}

/* ------------------------------------------------------------------------ */
/* Public API. */

h2_session *h2_session_new(const h2_settings *settings, const h2_session_callbacks *callbacks,
                           void *user_data, netlog *nl) {
  h2_session *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  if (settings)
    s->settings = *settings;
  else
    h2_settings_init(&s->settings);
  if (s->settings.max_concurrent_streams_limit == 0)
    s->settings.max_concurrent_streams_limit = H2_MAX_CONCURRENT_STREAM_LIMIT;
  if (callbacks)
    s->cb = *callbacks;
  s->user_data = user_data;
  s->nl = nl;
  s->coalesce = malloc(H2_COALESCE_SIZE);
  nghttp2_session_callbacks *cbs = NULL;
  nghttp2_option *opt = NULL;
  if (!s->coalesce || nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&opt) != 0)
    goto fail;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, cb_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback2(cbs, cb_header);
  nghttp2_session_callbacks_set_on_invalid_header_callback2(cbs, cb_invalid_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cb_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cb_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cb_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, cb_frame_send);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, cb_frame_not_send);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, cb_invalid_frame);
  nghttp2_session_callbacks_set_send_data_callback(cbs, cb_send_data);
  /* Windows reopen only as the consumer consumes (h2_stream_consumed). */
  nghttp2_option_set_no_auto_window_update(opt, 1);
  /* RFC 7838 section 4 frames reach cb_frame_recv (Chromium: OnAltSvc). */
  nghttp2_option_set_builtin_recv_extension_type(opt, NGHTTP2_ALTSVC);
  nghttp2_option_set_peer_max_concurrent_streams(opt, s->settings.initial_max_concurrent_streams);
  if (nghttp2_session_client_new2(&s->ng, cbs, s, opt) != 0)
    goto fail;
  nghttp2_session_callbacks_del(cbs);
  nghttp2_option_del(opt);
  cbs = NULL;
  opt = NULL;

  /* Ordered by id, as Chromium's SettingsMap. */
  nghttp2_settings_entry iv[5];
  size_t niv = 0;
  iv[niv++] =
      (nghttp2_settings_entry){NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, s->settings.header_table_size};
  iv[niv++] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_ENABLE_PUSH, 0};
  if (s->settings.max_concurrent_streams)
    iv[niv++] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
                                         s->settings.max_concurrent_streams};
  iv[niv++] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
                                       s->settings.initial_window_size};
  iv[niv++] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
                                       s->settings.max_header_list_size};
  if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, niv) != 0)
    goto fail;
  if (s->settings.session_max_recv_window_size > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE &&
      s->settings.session_max_recv_window_size <= NGHTTP2_MAX_WINDOW_SIZE) {
    if (nghttp2_session_set_local_window_size(
            s->ng, NGHTTP2_FLAG_NONE, 0, (int32_t)s->settings.session_max_recv_window_size) != 0)
      goto fail;
  }
  s->src = netlog_source_new(nl, NETLOG_SOURCE_HTTP2_SESSION);
  netlog_add(nl, s->src, NETLOG_TYPE_HTTP2_SESSION, NETLOG_PHASE_BEGIN, NULL);
  nl_event(s, NETLOG_TYPE_HTTP2_SESSION_SEND_SETTINGS,
           "{\"settings\":[\"[id:1 (SETTINGS_HEADER_TABLE_SIZE) value:%u]\","
           "\"[id:2 (SETTINGS_ENABLE_PUSH) value:0]\","
           "\"[id:4 (SETTINGS_INITIAL_WINDOW_SIZE) value:%u]\","
           "\"[id:6 (SETTINGS_MAX_HEADER_LIST_SIZE) value:%u]\"]}",
           s->settings.header_table_size, s->settings.initial_window_size,
           s->settings.max_header_list_size);
  return s;
fail:
  if (cbs)
    nghttp2_session_callbacks_del(cbs);
  if (opt)
    nghttp2_option_del(opt);
  if (s->ng)
    nghttp2_session_del(s->ng);
  free(s->coalesce);
  free(s);
  return NULL;
}

void h2_session_free(h2_session *s) {
  if (!s)
    return;
  h2_stream *st;
  while ((st = s->active.head) != NULL) {
    stream_detach(st);
    stream_free(st);
  }
  for (int p = 0; p < H2_PRIORITY_COUNT; p++) {
    while ((st = s->pending[p].head) != NULL) {
      stream_detach(st);
      stream_free(st);
    }
  }
  netlog_add(s->nl, s->src, NETLOG_TYPE_HTTP2_SESSION, NETLOG_PHASE_END, NULL);
  nghttp2_session_del(s->ng);
  free(s->coalesce);
  free(s);
}

int h2_session_receive(h2_session *s, const uint8_t *data, size_t len) {
  if (!s || (!data && len))
    return CRONC_ERR_INVALID_ARGUMENT;
  if (s->error)
    return s->error;
  ssize_t rv = nghttp2_session_mem_recv(s->ng, data, len);
  if (rv < 0) {
    int err = s->fail_pending ? s->fail_pending : lib_error_to_net_error((int)rv);
    bool goaway = !s->fail_no_goaway && rv != NGHTTP2_ERR_NOMEM;
    session_fail(s, err, goaway);
    return s->error;
  }
  if (!s->goaway_received && !nghttp2_session_check_request_allowed(s->ng)) {
    /* nghttp2 found a connection error and queued its own GOAWAY. */
    session_fail(s, lib_error_to_net_error(s->last_lib_error), false);
    s->closed_no_goaway = false; /* let that GOAWAY be written */
    return s->error;
  }
  goaway_notify(s);
  process_pending(s);
  return 0;
}

int h2_session_send_next(h2_session *s, h2_slice *out, size_t max) {
  if (!s || !out || max < 3)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (s->closed_no_goaway)
    return 0;
  process_pending(s);
  s->batch_gen++;
  s->out = out;
  s->out_n = 0;
  s->out_max = max;
  s->coalesce_len = 0;
  s->nframes = 0;
  s->batch_stop = false;
  for (;;) {
    /* Room for one DATA frame (header + payload) and one chunk. */
    if (s->out_n + 3 > s->out_max || s->nframes >= H2_BATCH_MAX_FRAMES)
      break;
    s->batch_paused = false;
    const uint8_t *p = NULL;
    ssize_t n = nghttp2_session_mem_send(s->ng, &p);
    if (n < 0) {
      session_fail(
          s, n == NGHTTP2_ERR_NOMEM ? CRONC_ERR_OUT_OF_MEMORY : CRONC_ERR_HTTP2_PROTOCOL_ERROR,
          false);
      s->out = NULL;
      return s->error;
    }
    if (n == 0) {
      if (s->batch_paused && !s->batch_stop)
        continue;
      break;
    }
    if ((size_t)n <= H2_COALESCE_SIZE - s->coalesce_len) {
      memcpy(s->coalesce + s->coalesce_len, p, (size_t)n);
      out_append(s, s->coalesce + s->coalesce_len, (size_t)n);
      s->coalesce_len += (size_t)n;
      continue;
    }
    /* Too big to copy: hand out nghttp2's buffer, valid until the next
     * nghttp2_session_mem_send(), i.e. the next batch. */
    out_append(s, p, (size_t)n);
    break;
  }
  s->out = NULL;
  return (int)s->out_n;
}

bool h2_session_want_write(const h2_session *s) {
  if (!s || s->closed_no_goaway)
    return false;
  return nghttp2_session_want_write(s->ng) != 0;
}

uint64_t h2_session_expected_bytes(const h2_session *s) {
  if (!s || s->error || s->n_active == 0)
    return 0;
  uint64_t sum = 0;
  for (const h2_stream *st = s->active.head; st; st = st->next) {
    if (!st->data_seen || st->body_left < 0)
      return 0; /* this stream's next bytes may be all there is */
    int32_t w = nghttp2_session_get_stream_local_window_size(s->ng, st->id);
    uint64_t cap = w > 0 ? (uint64_t)w : 0;
    sum += (uint64_t)st->body_left < cap ? (uint64_t)st->body_left : cap;
  }
  int32_t conn = nghttp2_session_get_local_window_size(s->ng);
  uint64_t cw = conn > 0 ? (uint64_t)conn : 0;
  return sum < cw ? sum : cw;
}

bool h2_session_want_read(const h2_session *s) {
  if (!s || s->error)
    return false;
  return nghttp2_session_want_read(s->ng) != 0;
}

static bool name_is(h2_slice n, const char *lower) {
  size_t l = strlen(lower);
  if (n.len != l)
    return false;
  for (size_t i = 0; i < l; i++) {
    uint8_t c = n.base[i];
    if (c >= 'A' && c <= 'Z')
      c = (uint8_t)(c + 32);
    if (c != (uint8_t)lower[i])
      return false;
  }
  return true;
}

static bool skip_header(h2_slice n) {
  /* CreateSpdyHeadersFromHttpRequest drops connection, proxy-connection,
   * transfer-encoding and host; keep-alive and upgrade are connection
   * specific too (RFC 9113 8.2.2) and would make the peer reset. */
  return n.len == 0 || n.base[0] == ':' || name_is(n, "connection") ||
         name_is(n, "proxy-connection") || name_is(n, "transfer-encoding") || name_is(n, "host") ||
         name_is(n, "keep-alive") || name_is(n, "upgrade");
}

/* Copies the request into one block: nv array, then the strings. */
static int build_nva(h2_stream *st, const h2_request *req) {
  bool connect = req->method.len == 7 && memcmp(req->method.base, "CONNECT", 7) == 0;
  h2_slice pn[4] = {{(const uint8_t *)":method", 7},
                    {(const uint8_t *)":authority", 10},
                    {(const uint8_t *)":scheme", 7},
                    {(const uint8_t *)":path", 5}};
  h2_slice pv[4] = {req->method, req->authority, req->scheme, req->path};
  size_t npseudo = connect ? 2 : 4;
  size_t n = npseudo, bytes = 0;
  for (size_t i = 0; i < npseudo; i++)
    bytes += pn[i].len + pv[i].len;
  for (size_t i = 0; i < req->header_count; i++) {
    if (skip_header(req->headers[i].name))
      continue;
    n++;
    bytes += req->headers[i].name.len + req->headers[i].value.len;
  }
  nghttp2_nv *nva = malloc(n * sizeof(*nva) + bytes + 1);
  if (!nva)
    return CRONC_ERR_OUT_OF_MEMORY;
  uint8_t *p = (uint8_t *)(nva + n);
  size_t k = 0;
  for (size_t i = 0; i < npseudo; i++) {
    memcpy(p, pn[i].base, pn[i].len);
    nva[k].name = p;
    nva[k].namelen = pn[i].len;
    p += pn[i].len;
    if (pv[i].len)
      memcpy(p, pv[i].base, pv[i].len);
    nva[k].value = p;
    nva[k].valuelen = pv[i].len;
    p += pv[i].len;
    nva[k++].flags = NGHTTP2_NV_FLAG_NONE;
  }
  for (size_t i = 0; i < req->header_count; i++) {
    const h2_header *h = &req->headers[i];
    if (skip_header(h->name))
      continue;
    for (size_t j = 0; j < h->name.len; j++) {
      uint8_t c = h->name.base[j];
      p[j] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
    }
    nva[k].name = p;
    nva[k].namelen = h->name.len;
    p += h->name.len;
    if (h->value.len)
      memcpy(p, h->value.base, h->value.len);
    nva[k].value = p;
    nva[k].valuelen = h->value.len;
    p += h->value.len;
    nva[k++].flags = NGHTTP2_NV_FLAG_NONE;
  }
  st->nva = nva;
  st->nvlen = n;
  return 0;
}

static bool slice_ok(h2_slice sl) { return sl.len == 0 || sl.base != NULL; }

int h2_session_submit(h2_session *s, const h2_request *req, const h2_stream_callbacks *cb,
                      void *user_data, h2_stream **out) {
  if (out)
    *out = NULL;
  if (!s || !req || !cb || !out || req->method.len == 0 || req->authority.len == 0 ||
      !slice_ok(req->method) || !slice_ok(req->authority) || !slice_ok(req->scheme) ||
      !slice_ok(req->path) || (req->header_count && !req->headers))
    return CRONC_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < req->header_count; i++)
    if (!slice_ok(req->headers[i].name) || !slice_ok(req->headers[i].value))
      return CRONC_ERR_INVALID_ARGUMENT;
  if (s->error || s->going_away)
    return CRONC_ERR_CONNECTION_CLOSED;
  h2_stream *st = base_zalloc(sizeof(*st));
  if (!st)
    return CRONC_ERR_OUT_OF_MEMORY;
  st->s = s;
  st->cb = *cb;
  st->user_data = user_data;
  st->body_left = -1;
  st->priority = ((int)req->priority >= 0 && (int)req->priority < H2_PRIORITY_COUNT)
                     ? req->priority
                     : H2_PRIORITY_LOWEST;
  int rv = build_nva(st, req);
  if (rv != 0) {
    free(st);
    return rv;
  }
  st->state = ST_PENDING;
  list_push(&s->pending[st->priority], st);
  s->n_pending++;
  *out = st;
  /* Starting never calls the stream's callbacks on success; on failure the
   * stream is finished, so report the error instead of a dead handle. */
  if (s->n_active < max_concurrent(s) && !s->in_process_pending) {
    list_remove(&s->pending[st->priority], st);
    s->n_pending--;
    st->state = 0;
    rv = stream_start(s, st);
    if (rv != 0) {
      *out = NULL;
      stream_free(st);
      return rv;
    }
  } else {
    process_pending(s); /* logs the stall */
  }
  return 0;
}

int h2_session_ping(h2_session *s, uint64_t opaque) {
  if (!s)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (s->error)
    return s->error;
  uint8_t data[8];
  for (int i = 7; i >= 0; i--) {
    data[i] = (uint8_t)(opaque & 0xff);
    opaque >>= 8;
  }
  int rv = nghttp2_submit_ping(s->ng, NGHTTP2_FLAG_NONE, data);
  if (rv != 0)
    return rv == NGHTTP2_ERR_NOMEM ? CRONC_ERR_OUT_OF_MEMORY : CRONC_ERR_FAILED;
  s->pings_in_flight++;
  nl_event(s, NETLOG_TYPE_HTTP2_SESSION_PING, "{\"type\":\"sent\",\"is_ack\":false}");
  return 0;
}

bool h2_session_is_going_away(const h2_session *s) { return s && (s->going_away || s->error != 0); }

int h2_session_error(const h2_session *s) { return s ? s->error : CRONC_ERR_INVALID_ARGUMENT; }

size_t h2_session_active_streams(const h2_session *s) { return s ? s->n_active : 0; }

size_t h2_session_pending_streams(const h2_session *s) { return s ? s->n_pending : 0; }

uint32_t h2_session_max_concurrent_streams(const h2_session *s) {
  return s ? (uint32_t)max_concurrent(s) : 0;
}

int32_t h2_stream_id(const h2_stream *st) { return st ? st->id : 0; }

void *h2_stream_user_data(const h2_stream *st) { return st ? st->user_data : NULL; }

void h2_stream_consumed(h2_stream *st, size_t n) {
  if (!st || st->state != ST_ACTIVE || n == 0)
    return;
  if (n > st->unconsumed)
    n = (size_t)st->unconsumed; /* never acknowledge more than received */
  if (n == 0)
    return;
  st->unconsumed -= n;
  nghttp2_session_consume(st->s->ng, st->id, n);
}

int h2_stream_resume_body(h2_stream *st) {
  if (!st)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (st->state != ST_ACTIVE)
    return 0; /* queued: the body is read once it starts */
  int rv = nghttp2_session_resume_data(st->s->ng, st->id);
  return (rv == 0 || rv == NGHTTP2_ERR_INVALID_ARGUMENT) ? 0 : CRONC_ERR_FAILED;
}

void h2_stream_cancel(h2_stream *st) {
  if (!st)
    return;
  h2_session *s = st->s;
  if (st->state == ST_ACTIVE && st->id > 0 && s->error == 0)
    nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
  stream_detach(st);
  stream_free(st);
  process_pending(s);
}
