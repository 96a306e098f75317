#include "http/network_transaction.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "http/server_properties.h"

/* Chromium's HttpNetworkTransaction states, in its order. */
#define NTX_STATES(X)                                                                              \
  X(NOTIFY_BEFORE_CREATE_STREAM)                                                                   \
  X(CREATE_STREAM)                                                                                 \
  X(CREATE_STREAM_COMPLETE)                                                                        \
  X(INIT_STREAM)                                                                                   \
  X(INIT_STREAM_COMPLETE)                                                                          \
  X(GENERATE_PROXY_AUTH_TOKEN)                                                                     \
  X(GENERATE_PROXY_AUTH_TOKEN_COMPLETE)                                                            \
  X(GENERATE_SERVER_AUTH_TOKEN)                                                                    \
  X(GENERATE_SERVER_AUTH_TOKEN_COMPLETE)                                                           \
  X(INIT_REQUEST_BODY)                                                                             \
  X(INIT_REQUEST_BODY_COMPLETE)                                                                    \
  X(BUILD_REQUEST)                                                                                 \
  X(BUILD_REQUEST_COMPLETE)                                                                        \
  X(SEND_REQUEST)                                                                                  \
  X(SEND_REQUEST_COMPLETE)                                                                         \
  X(READ_HEADERS)                                                                                  \
  X(READ_HEADERS_COMPLETE)                                                                         \
  X(READ_BODY)                                                                                     \
  X(READ_BODY_COMPLETE)                                                                            \
  X(DRAIN_BODY_FOR_AUTH_RESTART)                                                                   \
  X(DRAIN_BODY_FOR_AUTH_RESTART_COMPLETE)                                                          \
  X(NONE)

typedef enum ntx_state {
#define X(name) STATE_##name,
  NTX_STATES(X)
#undef X
} ntx_state;

struct network_transaction {
  http_transaction base; /* first: the http_transaction interface */
  http_stream_factory *factory;
  netlog *nl;
  ntx_delegate delegate;
  const http_request_info *req;

  ntx_state next_state;
  http_stream_request *stream_request;
  http_stream *stream;
  int retry_attempts;
  bool deferred;
  bool headers_done;
  bool body_done;
  bool zero_rtt;
  bool upload_used; /* a streamed body was (partly) read by a send */

  /* Alternative services: learning from Alt-Svc, and the retries without
   * them (Chromium's 421 and QUIC-protocol-error paths). */
  ntx_alt_svc_params alt;
  http_stream_request_report report;
  http_request_info req_no_alt; /* *req with alternative services off */
  bool retried_421;
  altsvc_service quic_error_alt; /* retried without it after a QUIC error */
  char *alt_used;                /* "h3 host:port" when an alternative served; NULL otherwise */
  uint64_t quic_error;           /* of the stream that failed, for the error details */
  int64_t sent_bytes, received_bytes; /* of the streams already released */

  ntx_timing timing;

  http_io_cb cb; /* the caller's pending callback */
  void *cb_ud;
  uint8_t *read_buf;
  size_t read_len;
};

const char *ntx_state_name(int state) {
  switch (state) {
#define X(name)                                                                                    \
  case STATE_##name:                                                                               \
    return #name;
    NTX_STATES(X)
#undef X
  default:
    return "UNKNOWN";
  }
}

static const http_transaction_vtable ntx_vt;

network_transaction *ntx_new(http_stream_factory *factory, netlog *nl, const ntx_delegate *d) {
  _Static_assert(sizeof(network_transaction) <= BASE_TCACHE_MAX, "see base/alloc.h");
  network_transaction *t = base_zalloc(sizeof *t);
  if (!t)
    return NULL;
  t->base.vt = &ntx_vt;
  t->factory = factory;
  t->nl = nl;
  if (d)
    t->delegate = *d;
  t->next_state = STATE_NONE;
  return t;
}

/* The current stream's byte counts (0 when it has none). */
static void stream_bytes(network_transaction *t, int64_t *sent, int64_t *received) {
  *sent = *received = 0;
  if (t->stream && t->stream->vt->byte_counts)
    t->stream->vt->byte_counts(t->stream, sent, received);
}

static void reset_stream(network_transaction *t, bool not_reusable) {
  if (t->stream_request) {
    t->factory->vt->cancel(t->factory, t->stream_request);
    t->stream_request = NULL;
  }
  if (t->stream) {
    /* Chromium keeps the totals of every attempt (a retry's bytes add to
     * the first one's). */
    int64_t s, r;
    stream_bytes(t, &s, &r);
    t->sent_bytes += s;
    t->received_bytes += r;
    t->stream->vt->close(t->stream, not_reusable);
    t->stream = NULL;
  }
}

void ntx_free(network_transaction *t) {
  if (!t)
    return;
  /* A transaction freed while it waits closes the event it had begun. */
  if (t->req) {
    netlog_event_type open = NETLOG_EVENT_TYPE_COUNT;
    if (t->next_state == STATE_CREATE_STREAM_COMPLETE)
      open = NETLOG_TYPE_HTTP_STREAM_REQUEST;
    else if (t->next_state == STATE_SEND_REQUEST_COMPLETE)
      open = NETLOG_TYPE_HTTP_TRANSACTION_SEND_REQUEST;
    else if (t->next_state == STATE_READ_HEADERS_COMPLETE)
      open = NETLOG_TYPE_HTTP_TRANSACTION_READ_HEADERS;
    if (open != NETLOG_EVENT_TYPE_COUNT)
      netlog_end_net_error(t->nl, t->req->source, open, CRONC_ERR_ABORTED);
  }
  /* A stream not read to its end cannot hand its connection back. */
  reset_stream(t, !t->body_done);
  free(t->alt_used);
  free(t);
}

static int do_loop(network_transaction *t, int rv);

/* The one way back to the caller: clears the pending callback first, so the
 * caller may start the next operation or free the transaction from it. */
static void do_callback(network_transaction *t, int rv) {
  http_io_cb cb = t->cb;
  void *ud = t->cb_ud;
  t->cb = NULL;
  t->cb_ud = NULL;
  if (cb)
    cb(ud, rv);
}

static void on_io_complete(void *ud, int rv) {
  network_transaction *t = ud;
  rv = do_loop(t, rv);
  if (rv != CRONC_ERR_IO_PENDING)
    do_callback(t, rv);
}

static void on_stream_ready(void *ud, int rv, http_stream *stream) {
  network_transaction *t = ud;
  t->stream_request = NULL;
  t->stream = rv == CRONC_OK ? stream : NULL;
  on_io_complete(t, rv);
}

static void log_state(network_transaction *t, ntx_state state, int rv) {
  if (!netlog_is_capturing(t->nl))
    return;
  char params[96];
  snprintf(params, sizeof params, "{\"state\":\"%s\",\"rv\":%d}", ntx_state_name(state), rv);
  netlog_add_event(t->nl, t->req->source, NETLOG_TYPE_CRONC_HTTP_TRANSACTION_STATE, params);
}

/* ---- States ------------------------------------------------------------- */

static int do_notify_before_create_stream(network_transaction *t) {
  t->next_state = STATE_CREATE_STREAM;
  if (t->delegate.before_create_stream && t->delegate.before_create_stream(t->delegate.user_data)) {
    t->deferred = true;
    return CRONC_ERR_IO_PENDING; /* ntx_resume_network_start() continues */
  }
  return CRONC_OK;
}

static int do_create_stream(network_transaction *t) {
  t->next_state = STATE_CREATE_STREAM_COMPLETE;
  netlog_add(t->nl, t->req->source, NETLOG_TYPE_HTTP_STREAM_REQUEST, NETLOG_PHASE_BEGIN, NULL);
  return t->factory->vt->request_stream(t->factory, t->req, &t->report, on_stream_ready, t,
                                        &t->stream_request);
}

static int do_create_stream_complete(network_transaction *t, int rv) {
  netlog_end_net_error(t->nl, t->req->source, NETLOG_TYPE_HTTP_STREAM_REQUEST, rv);
  if (rv != CRONC_OK)
    return rv;
  t->next_state = STATE_INIT_STREAM;
  return CRONC_OK;
}

static int do_init_stream(network_transaction *t) {
  /* Streams come from the factory ready to use: nothing to initialise. */
  t->next_state = STATE_INIT_STREAM_COMPLETE;
  return CRONC_OK;
}

static int do_init_stream_complete(network_transaction *t, int rv) {
  if (rv != CRONC_OK)
    return rv;
  t->next_state = STATE_GENERATE_PROXY_AUTH_TOKEN;
  return CRONC_OK;
}

/* Authentication is not built yet: the token states pass through, keeping
 * the machine's shape so auth slots in without reshuffling. */
static int do_generate_proxy_auth_token(network_transaction *t) {
  t->next_state = STATE_GENERATE_PROXY_AUTH_TOKEN_COMPLETE;
  return CRONC_OK;
}

static int do_generate_proxy_auth_token_complete(network_transaction *t, int rv) {
  if (rv == CRONC_OK)
    t->next_state = STATE_GENERATE_SERVER_AUTH_TOKEN;
  return rv;
}

static int do_generate_server_auth_token(network_transaction *t) {
  t->next_state = STATE_GENERATE_SERVER_AUTH_TOKEN_COMPLETE;
  return CRONC_OK;
}

static int do_generate_server_auth_token_complete(network_transaction *t, int rv) {
  if (rv == CRONC_OK)
    t->next_state = STATE_INIT_REQUEST_BODY;
  return rv;
}

static int do_init_request_body(network_transaction *t) {
  t->next_state = STATE_INIT_REQUEST_BODY_COMPLETE;
  /* An in-memory body needs nothing; a streamed one that a failed attempt
   * already read from starts again from its first byte (Chromium resets
   * the UploadDataStream before a retry). */
  http_upload_body *b = t->req->upload;
  if (!b || !t->upload_used)
    return CRONC_OK;
  t->upload_used = false;
  return b->vt->rewind(b, on_io_complete, t);
}

static int do_init_request_body_complete(network_transaction *t, int rv) {
  if (rv == CRONC_OK)
    t->next_state = STATE_BUILD_REQUEST;
  return rv;
}

static int do_build_request(network_transaction *t) {
  /* The stream writes the head in its own framing (HTTP/1.1 text, HPACK). */
  t->next_state = STATE_BUILD_REQUEST_COMPLETE;
  return CRONC_OK;
}

static int do_build_request_complete(network_transaction *t, int rv) {
  if (rv == CRONC_OK)
    t->next_state = STATE_SEND_REQUEST;
  return rv;
}

static int64_t now_ticks(network_transaction *t) {
  const base_clock *c = netlog_clock(t->nl);
  return base_clock_ticks(c ? c : base_clock_system());
}

static int do_send_request(network_transaction *t) {
  t->next_state = STATE_SEND_REQUEST_COMPLETE;
  t->timing.send_start = now_ticks(t);
  if (t->stream->vt->load_timing)
    t->stream->vt->load_timing(t->stream, &t->timing.connect);
  netlog_add(t->nl, t->req->source, NETLOG_TYPE_HTTP_TRANSACTION_SEND_REQUEST, NETLOG_PHASE_BEGIN,
             NULL);
  t->upload_used = t->req->upload != NULL;
  return t->stream->vt->send_request(t->stream, t->req, on_io_complete, t);
}

/* Chromium's ShouldResendRequest + HandleIOError: an error that means "the
 * server closed a connection we reused before answering" is retried on a
 * fresh stream. */
static bool should_resend(network_transaction *t, int rv) {
  if (!t->stream || t->retry_attempts >= NTX_MAX_RETRY_ATTEMPTS)
    return false;
  switch (rv) {
  case CRONC_ERR_CONNECTION_RESET:
  case CRONC_ERR_CONNECTION_CLOSED:
  case CRONC_ERR_CONNECTION_ABORTED:
  case CRONC_ERR_SOCKET_NOT_CONNECTED:
  case CRONC_ERR_EMPTY_RESPONSE:
    return t->stream->vt->is_connection_reused(t->stream) &&
           !t->stream->vt->received_any_response_bytes(t->stream);
  case CRONC_ERR_HTTP2_SERVER_REFUSED_STREAM:
  case CRONC_ERR_QUIC_GOAWAY_REQUEST_CAN_BE_RETRIED:
    /* The server did not process it (GOAWAY, REFUSED_STREAM): always safe. */
    return true;
  case CRONC_ERR_QUIC_HANDSHAKE_FAILED:
    /* A 0-RTT request on a session whose handshake never completed
     * (Chromium retries it plainly). */
    return true;
  default:
    return false;
  }
}

/* The stream in use came from an alternative service's job. */
static bool served_by_alternative(const network_transaction *t) {
  return t->report.winner == HTTP_JOB_WINNER_ALTERNATIVE &&
         t->report.alt.protocol != ALTSVC_PROTO_UNKNOWN;
}

/* Chromium's ResetConnectionAndRequestForResend: drop the stream and ask
 * for a new one. */
static int reset_for_resend(network_transaction *t) {
  t->retry_attempts++;
  reset_stream(t, true);
  t->next_state = STATE_CREATE_STREAM;
  return CRONC_OK;
}

/* A plain retry after an I/O error. */
static int resend(network_transaction *t, int rv) {
  netlog_add_net_error(t->nl, t->req->source, NETLOG_TYPE_HTTP_TRANSACTION_RESTART_AFTER_ERROR, rv);
  return reset_for_resend(t);
}

/* Resends the request with alternative services off (Chromium's
 * enable_alternative_services_ = false before the resend). */
static int resend_without_alt_svc(network_transaction *t, int rv, const char *why) {
  if (netlog_is_capturing(t->nl)) {
    char buf[160];
    snprintf(buf, sizeof buf, "{\"net_error\":%d,\"reason\":\"%s\"}", rv, why);
    netlog_add_event(t->nl, t->req->source,
                     NETLOG_TYPE_CRONC_HTTP_TRANSACTION_RETRY_WITHOUT_ALT_SVC, buf);
  }
  t->req_no_alt = *t->req;
  t->req_no_alt.enable_alternative_services = false;
  t->req = &t->req_no_alt;
  return reset_for_resend(t);
}

/* Keeps the QUIC error code behind a stream's failure (Cronet's
 * quic_detailed_error_code) before the stream goes. */
static void note_quic_error(network_transaction *t) {
  if (t->stream && t->stream->vt->quic_error)
    t->quic_error = t->stream->vt->quic_error(t->stream);
}

static int handle_io_error(network_transaction *t, int rv) {
  note_quic_error(t);
  /* A QUIC protocol error before any response head, on an alternative:
   * once more over TCP without alternative services; if that works, the
   * alternative is marked broken (Chromium's kQuicProtocolError path). */
  if (rv == CRONC_ERR_QUIC_PROTOCOL_ERROR && t->stream && !t->headers_done &&
      t->retry_attempts < NTX_MAX_RETRY_ATTEMPTS && served_by_alternative(t) &&
      t->req->enable_alternative_services) {
    if (t->alt.props && props_is_alternative_service_broken(t->alt.props, &t->report.alt))
      return resend(t, rv); /* already broken: a plain retry */
    if (t->alt.retry_without_alt_svc_on_quic_errors) {
      t->quic_error_alt = t->report.alt;
      return resend_without_alt_svc(t, rv, "QUIC protocol error on an alternative service");
    }
  }
  return should_resend(t, rv) ? resend(t, rv) : rv;
}

static int do_send_request_complete(network_transaction *t, int rv) {
  t->timing.send_end = now_ticks(t);
  netlog_end_net_error(t->nl, t->req->source, NETLOG_TYPE_HTTP_TRANSACTION_SEND_REQUEST, rv);
  if (rv != CRONC_OK)
    return handle_io_error(t, rv);
  t->next_state = STATE_READ_HEADERS;
  return CRONC_OK;
}

static int do_read_headers(network_transaction *t) {
  t->next_state = STATE_READ_HEADERS_COMPLETE;
  netlog_add(t->nl, t->req->source, NETLOG_TYPE_HTTP_TRANSACTION_READ_HEADERS, NETLOG_PHASE_BEGIN,
             NULL);
  return t->stream->vt->read_response_headers(t->stream, on_io_complete, t);
}

/* Chromium's ProcessAlternativeServices, after the response head: an
 * https response (its certificate verified: cronc fails a connection whose
 * certificate has an error) with Alt-Svc replaces the origin's
 * alternatives. Header lines are joined with ", ". */
static void process_alt_svc(network_transaction *t, const h1_headers *h) {
  const url *u = t->req->url;
  if (!t->alt.props || u->scheme != URL_SCHEME_HTTPS || !h1_headers_has(h, "alt-svc"))
    return;
  url_origin origin;
  if (url_origin_from_url(u, &origin) != CRONC_OK)
    return;
  strbuf v = STRBUF_INIT;
  if (h1_headers_get_normalized(h, "alt-svc", &v) && !strbuf_failed(&v))
    props_process_alt_svc_header(t->alt.props, &origin, strbuf_cstr(&v), v.len, t->alt.enable_http2,
                                 t->alt.enable_quic);
  strbuf_free(&v);
}

static int do_read_headers_complete(network_transaction *t, int rv) {
  netlog_end_net_error(t->nl, t->req->source, NETLOG_TYPE_HTTP_TRANSACTION_READ_HEADERS, rv);
  if (rv != CRONC_OK)
    return handle_io_error(t, rv);
  const h1_headers *h = t->stream->vt->response_headers(t->stream);
  /* 421 Misdirected Request: once more without alternative services (and,
   * in Chromium, without IP pooling), nothing marked. */
  if (h && h->status == 421 && t->req->enable_alternative_services && !t->retried_421 &&
      t->retry_attempts < NTX_MAX_RETRY_ATTEMPTS) {
    t->retried_421 = true;
    return resend_without_alt_svc(t, 421, "421 Misdirected Request");
  }
  t->headers_done = true;
  t->timing.receive_headers_end = now_ticks(t);
  t->zero_rtt = t->stream->vt->used_zero_rtt && t->stream->vt->used_zero_rtt(t->stream);
  if (served_by_alternative(t)) {
    const altsvc_service *a = &t->report.alt;
    free(t->alt_used);
    if (asprintf(&t->alt_used, "%s %s:%u", a->protocol == ALTSVC_PROTO_QUIC ? "h3" : "h2", a->host,
                 (unsigned)a->port) < 0)
      t->alt_used = NULL; /* only a report is lost */
  }
  if (t->quic_error_alt.protocol != ALTSVC_PROTO_UNKNOWN && t->alt.props) {
    /* The retry without alternative services worked: the alternative is
     * what failed. */
    props_mark_alternative_service_broken(t->alt.props, &t->quic_error_alt);
    t->quic_error_alt.protocol = ALTSVC_PROTO_UNKNOWN;
  }
  if (h)
    process_alt_svc(t, h);
  /* Auth challenges (401/407) would go to DRAIN_BODY_FOR_AUTH_RESTART here;
   * without auth the response is handed to the caller as it is. */
  t->next_state = STATE_NONE;
  return CRONC_OK;
}

static int do_read_body(network_transaction *t) {
  t->next_state = STATE_READ_BODY_COMPLETE;
  return t->stream->vt->read_body(t->stream, t->read_buf, t->read_len, on_io_complete, t);
}

static int do_read_body_complete(network_transaction *t, int rv) {
  t->next_state = STATE_NONE;
  if (rv == 0) {
    /* The end of the body: the connection may serve the next request. */
    t->body_done = true;
    reset_stream(t, false);
  } else if (rv < 0) {
    note_quic_error(t);
    reset_stream(t, true);
  }
  t->read_buf = NULL;
  t->read_len = 0;
  return rv;
}

static int do_drain_body_for_auth_restart(network_transaction *t) {
  t->next_state = STATE_DRAIN_BODY_FOR_AUTH_RESTART_COMPLETE;
  return CRONC_OK;
}

static int do_drain_body_for_auth_restart_complete(network_transaction *t, int rv) {
  t->next_state = STATE_NONE;
  return rv;
}

/* Runs states until one is pending or the machine rests (STATE_NONE). */
static int do_loop(network_transaction *t, int rv) {
  do {
    ntx_state state = t->next_state;
    t->next_state = STATE_NONE;
    log_state(t, state, rv);
    switch (state) {
    case STATE_NOTIFY_BEFORE_CREATE_STREAM:
      rv = do_notify_before_create_stream(t);
      break;
    case STATE_CREATE_STREAM:
      rv = do_create_stream(t);
      break;
    case STATE_CREATE_STREAM_COMPLETE:
      rv = do_create_stream_complete(t, rv);
      break;
    case STATE_INIT_STREAM:
      rv = do_init_stream(t);
      break;
    case STATE_INIT_STREAM_COMPLETE:
      rv = do_init_stream_complete(t, rv);
      break;
    case STATE_GENERATE_PROXY_AUTH_TOKEN:
      rv = do_generate_proxy_auth_token(t);
      break;
    case STATE_GENERATE_PROXY_AUTH_TOKEN_COMPLETE:
      rv = do_generate_proxy_auth_token_complete(t, rv);
      break;
    case STATE_GENERATE_SERVER_AUTH_TOKEN:
      rv = do_generate_server_auth_token(t);
      break;
    case STATE_GENERATE_SERVER_AUTH_TOKEN_COMPLETE:
      rv = do_generate_server_auth_token_complete(t, rv);
      break;
    case STATE_INIT_REQUEST_BODY:
      rv = do_init_request_body(t);
      break;
    case STATE_INIT_REQUEST_BODY_COMPLETE:
      rv = do_init_request_body_complete(t, rv);
      break;
    case STATE_BUILD_REQUEST:
      rv = do_build_request(t);
      break;
    case STATE_BUILD_REQUEST_COMPLETE:
      rv = do_build_request_complete(t, rv);
      break;
    case STATE_SEND_REQUEST:
      rv = do_send_request(t);
      break;
    case STATE_SEND_REQUEST_COMPLETE:
      rv = do_send_request_complete(t, rv);
      break;
    case STATE_READ_HEADERS:
      rv = do_read_headers(t);
      break;
    case STATE_READ_HEADERS_COMPLETE:
      rv = do_read_headers_complete(t, rv);
      break;
    case STATE_READ_BODY:
      rv = do_read_body(t);
      break;
    case STATE_READ_BODY_COMPLETE:
      rv = do_read_body_complete(t, rv);
      break;
    case STATE_DRAIN_BODY_FOR_AUTH_RESTART:
      rv = do_drain_body_for_auth_restart(t);
      break;
    case STATE_DRAIN_BODY_FOR_AUTH_RESTART_COMPLETE:
      rv = do_drain_body_for_auth_restart_complete(t, rv);
      break;
    case STATE_NONE:
    default:
      rv = CRONC_ERR_UNEXPECTED;
      break;
    }
  } while (rv != CRONC_ERR_IO_PENDING && t->next_state != STATE_NONE);
  return rv;
}

int ntx_start(network_transaction *t, const http_request_info *req, http_io_cb cb, void *ud) {
  if (!t || !req || !req->url || !req->method || t->req)
    return CRONC_ERR_INVALID_ARGUMENT;
  t->req = req;
  t->next_state = STATE_NOTIFY_BEFORE_CREATE_STREAM;
  int rv = do_loop(t, CRONC_OK);
  if (rv == CRONC_ERR_IO_PENDING) {
    t->cb = cb;
    t->cb_ud = ud;
  }
  return rv;
}

void ntx_resume_network_start(network_transaction *t) {
  if (!t || !t->deferred)
    return;
  t->deferred = false;
  on_io_complete(t, CRONC_OK);
}

const h1_headers *ntx_response_headers(network_transaction *t) {
  return t->headers_done && t->stream ? t->stream->vt->response_headers(t->stream) : NULL;
}

void ntx_get_timing(network_transaction *t, ntx_timing *out) { *out = t->timing; }

const char *ntx_protocol(network_transaction *t) {
  return t->stream ? t->stream->vt->protocol(t->stream) : "";
}

bool ntx_connection_reused(network_transaction *t) {
  return t->stream && t->stream->vt->is_connection_reused(t->stream);
}

int ntx_read(network_transaction *t, uint8_t *buf, size_t len, http_io_cb cb, void *ud) {
  if (!t || !buf || !len || !t->headers_done || t->cb)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (t->body_done)
    return 0;
  if (!t->stream)
    return CRONC_ERR_CONNECTION_CLOSED;
  t->read_buf = buf;
  t->read_len = len;
  t->next_state = STATE_READ_BODY;
  int rv = do_loop(t, CRONC_OK);
  if (rv == CRONC_ERR_IO_PENDING) {
    t->cb = cb;
    t->cb_ud = ud;
  }
  return rv;
}

/* ---- The http_transaction interface and the network layer ----------------------------- */

http_transaction *ntx_base(network_transaction *t) { return &t->base; }

static network_transaction *from_base(http_transaction *b) { return (network_transaction *)b; }

static int vt_start(http_transaction *b, const http_request_info *req, http_io_cb cb, void *ud) {
  return ntx_start(from_base(b), req, cb, ud);
}
static const h1_headers *vt_headers(http_transaction *b) {
  return ntx_response_headers(from_base(b));
}
static const char *vt_protocol(http_transaction *b) { return ntx_protocol(from_base(b)); }
static bool vt_reused(http_transaction *b) { return ntx_connection_reused(from_base(b)); }
static int vt_read(http_transaction *b, uint8_t *buf, size_t len, http_io_cb cb, void *ud) {
  return ntx_read(from_base(b), buf, len, cb, ud);
}
static void vt_timing(http_transaction *b, http_transaction_timing *out) {
  ntx_get_timing(from_base(b), out);
}
static void vt_info(http_transaction *b, http_transaction_info *out) {
  network_transaction *t = from_base(b);
  int64_t s, r;
  stream_bytes(t, &s, &r);
  *out = (http_transaction_info){
      .sent_bytes = t->sent_bytes + s,
      .received_bytes = t->received_bytes + r,
      .zero_rtt = t->zero_rtt,
      .quic_broken = t->report.quic_broken,
      .winner = t->report.winner,
      .alternative_service = t->alt_used,
      .quic_error = t->quic_error,
  };
}
static void vt_free(http_transaction *b) { ntx_free(from_base(b)); }

static const http_transaction_vtable ntx_vt = {
    vt_start, vt_headers, vt_protocol, vt_reused, vt_read, vt_timing, vt_info, vt_free,
};

struct http_network_layer {
  http_transaction_factory base;
  http_stream_factory *streams;
  ntx_alt_svc_params alt;
};

void http_network_layer_set_alt_svc(http_network_layer *l, const ntx_alt_svc_params *p) {
  l->alt = *p;
}

void ntx_set_alt_svc(network_transaction *t, const ntx_alt_svc_params *p) { t->alt = *p; }

static int layer_create(http_transaction_factory *f, netlog *nl, http_transaction **out) {
  http_network_layer *l = (http_network_layer *)f;
  network_transaction *t = ntx_new(l->streams, nl, NULL);
  if (!t)
    return CRONC_ERR_OUT_OF_MEMORY;
  t->alt = l->alt;
  *out = &t->base;
  return CRONC_OK;
}

static const http_transaction_factory_vtable layer_vt = {layer_create};

http_network_layer *http_network_layer_new(http_stream_factory *streams) {
  http_network_layer *l = calloc(1, sizeof *l);
  if (!l)
    return NULL;
  l->base.vt = &layer_vt;
  l->streams = streams;
  return l;
}

void http_network_layer_free(http_network_layer *l) { free(l); }

http_transaction_factory *http_network_layer_base(http_network_layer *l) { return &l->base; }
