/* Tests for http/h2_session: the client session talks to an in-process
 * server made from nghttp2's own server API through in-memory byte pipes
 * (no sockets, no sleeping). The server's behaviour is chosen by the request
 * path:
 *   /bytes/N        200 with an N-byte body
 *   /len/N          the same with content-length: N
 *   /lenwait/N      200 with content-length: N, body only once the test
 *                   calls srv_respond()
 *   /rst/C          RST_STREAM with error code C before any headers
 *   /rstafter/C     200 headers, then RST_STREAM C
 *   /interim        103, then 200 "ok"
 *   /trailers       200, body "abc", trailers x-checksum: 42
 *   /echo           200 with the upload's byte count and sum as the body
 *   /hang           nothing until the test calls srv_respond()
 *   /bigheaders     200 with ~100 KB of headers
 *   /nostatus       a response without :status
 *   /badheader      a response with an upper-case header name */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/netlog.h"
#include "cronc/cronc.h"
#include "http/h2_session.h"

/* ------------------------------------------------------------------------ */
/* The server. */

typedef struct srv_stream {
  int32_t id;
  char path[128];
  uint64_t upload_bytes;
  uint64_t upload_sum;
  uint64_t body_left;
  char text[64];
  size_t text_len, text_off;
  bool trailers;
} srv_stream;

typedef struct srv {
  nghttp2_session *ng;
  size_t open_streams, max_open_streams;
  uint32_t settings_seen[8];
  bool settings_present[8];
  int32_t conn_window_update;
  uint32_t last_close_code[1024];
  int32_t prio_parent[1024];
  int prio_weight[1024];
  bool respond_hang;
  srv_stream **all;
  size_t nall, capall;
} srv;

static ssize_t srv_read_bytes(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
                              uint32_t *flags, nghttp2_data_source *src, void *ud) {
  srv_stream *ss = src->ptr;
  size_t n = ss->body_left < len ? (size_t)ss->body_left : len;
  memset(buf, 'x', n);
  ss->body_left -= n;
  if (ss->body_left == 0) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (ss->trailers) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      nghttp2_nv t[] = {{(uint8_t *)"x-checksum", (uint8_t *)"42", 10, 2, 0}};
      nghttp2_submit_trailer(ng, id, t, 1);
    }
  }
  return (ssize_t)n;
}

static ssize_t srv_read_text(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
                             uint32_t *flags, nghttp2_data_source *src, void *ud) {
  srv_stream *ss = src->ptr;
  size_t n = ss->text_len - ss->text_off;
  if (n > len)
    n = len;
  memcpy(buf, ss->text + ss->text_off, n);
  ss->text_off += n;
  if (ss->text_off == ss->text_len)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

#define NV(n, v)                                                                                   \
  { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, 0 }

static void srv_send_bytes(srv *sv, srv_stream *ss, uint64_t n) {
  nghttp2_nv h[] = {NV(":status", "200"), NV("x-test", "1"), NV("content-type", "text/plain")};
  ss->body_left = n;
  nghttp2_data_provider dp = {.source.ptr = ss, .read_callback = srv_read_bytes};
  nghttp2_submit_response(sv->ng, ss->id, h, 3, &dp);
}

static void srv_send_length(srv *sv, srv_stream *ss, uint64_t n, bool body) {
  char len[24];
  int l = snprintf(len, sizeof(len), "%llu", (unsigned long long)n);
  nghttp2_nv h[] = {NV(":status", "200"),
                    {(uint8_t *)"content-length", (uint8_t *)len, 14, (size_t)l, 0}};
  ss->body_left = n;
  if (!body) {
    nghttp2_submit_headers(sv->ng, 0, ss->id, NULL, h, 2, NULL);
    return;
  }
  nghttp2_data_provider dp = {.source.ptr = ss, .read_callback = srv_read_bytes};
  nghttp2_submit_response(sv->ng, ss->id, h, 2, &dp);
}

/* The body of a /lenwait/N stream. */
static void srv_send_body(srv *sv, int32_t id) {
  srv_stream *ss = nghttp2_session_get_stream_user_data(sv->ng, id);
  assert_non_null(ss);
  nghttp2_data_provider dp = {.source.ptr = ss, .read_callback = srv_read_bytes};
  assert_int_equal(nghttp2_submit_data(sv->ng, NGHTTP2_FLAG_END_STREAM, id, &dp), 0);
}

static void srv_respond(srv *sv, int32_t id, uint64_t n) {
  srv_stream *ss = nghttp2_session_get_stream_user_data(sv->ng, id);
  assert_non_null(ss);
  srv_send_bytes(sv, ss, n);
}

static void srv_handle(srv *sv, srv_stream *ss) {
  const char *p = ss->path;
  if (strncmp(p, "/bytes/", 7) == 0) {
    srv_send_bytes(sv, ss, strtoull(p + 7, NULL, 10));
  } else if (strncmp(p, "/len/", 5) == 0) {
    srv_send_length(sv, ss, strtoull(p + 5, NULL, 10), true);
  } else if (strncmp(p, "/lenwait/", 9) == 0) {
    srv_send_length(sv, ss, strtoull(p + 9, NULL, 10), false);
  } else if (strncmp(p, "/rst/", 5) == 0) {
    nghttp2_submit_rst_stream(sv->ng, 0, ss->id, (uint32_t)atoi(p + 5));
  } else if (strncmp(p, "/rstafter/", 10) == 0) {
    nghttp2_nv h[] = {NV(":status", "200")};
    nghttp2_submit_headers(sv->ng, 0, ss->id, NULL, h, 1, NULL); /* RST once sent */
  } else if (strcmp(p, "/interim") == 0) {
    nghttp2_nv h1[] = {NV(":status", "103"), NV("link", "</a>")};
    nghttp2_submit_headers(sv->ng, 0, ss->id, NULL, h1, 2, NULL);
    ss->text_len = (size_t)snprintf(ss->text, sizeof(ss->text), "ok");
    nghttp2_nv h2[] = {NV(":status", "200")};
    nghttp2_data_provider dp = {.source.ptr = ss, .read_callback = srv_read_text};
    nghttp2_submit_response(sv->ng, ss->id, h2, 1, &dp);
  } else if (strcmp(p, "/trailers") == 0) {
    ss->trailers = true;
    srv_send_bytes(sv, ss, 3);
  } else if (strcmp(p, "/echo") == 0) {
    ss->text_len =
        (size_t)snprintf(ss->text, sizeof(ss->text), "%llu %llu",
                         (unsigned long long)ss->upload_bytes, (unsigned long long)ss->upload_sum);
    nghttp2_nv h[] = {NV(":status", "200")};
    nghttp2_data_provider dp = {.source.ptr = ss, .read_callback = srv_read_text};
    nghttp2_submit_response(sv->ng, ss->id, h, 1, &dp);
  } else if (strcmp(p, "/bigheaders") == 0) {
    /* ~100 KB: over a 64 KiB client limit, under nghttp2's CONTINUATION cap. */
    static char big[5000];
    memset(big, 'v', sizeof(big));
    nghttp2_nv h[21];
    h[0] = (nghttp2_nv)NV(":status", "200");
    char names[20][16];
    for (int i = 0; i < 20; i++) {
      snprintf(names[i], sizeof(names[i]), "x-b%02d", i);
      h[i + 1] =
          (nghttp2_nv){(uint8_t *)names[i], (uint8_t *)big, strlen(names[i]), sizeof(big), 0};
    }
    nghttp2_submit_response(sv->ng, ss->id, h, 21, NULL);
  } else if (strcmp(p, "/nostatus") == 0) {
    nghttp2_nv h[] = {NV("x-a", "b")};
    nghttp2_submit_response(sv->ng, ss->id, h, 1, NULL);
  } else if (strcmp(p, "/badheader") == 0) {
    /* NO_COPY keeps nghttp2 from lower-casing the name. */
    nghttp2_nv h[] = {NV(":status", "200"),
                      {(uint8_t *)"X-Upper", (uint8_t *)"b", 7, 1, NGHTTP2_NV_FLAG_NO_COPY_NAME}};
    nghttp2_submit_response(sv->ng, ss->id, h, 2, NULL);
  } else if (strcmp(p, "/hang") == 0) {
    /* the test responds */
  } else {
    nghttp2_nv h[] = {NV(":status", "404")};
    nghttp2_submit_response(sv->ng, ss->id, h, 1, NULL);
  }
}

static int srv_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud) {
  srv *sv = ud;
  if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  srv_stream *ss = calloc(1, sizeof(*ss));
  ss->id = f->hd.stream_id;
  if (sv->nall == sv->capall) {
    sv->capall = sv->capall ? sv->capall * 2 : 64;
    sv->all = realloc(sv->all, sv->capall * sizeof(*sv->all));
  }
  sv->all[sv->nall++] = ss;
  nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, ss);
  sv->open_streams++;
  if (sv->open_streams > sv->max_open_streams)
    sv->max_open_streams = sv->open_streams;
  return 0;
}

static int srv_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
                      size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                      void *ud) {
  srv_stream *ss = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
  if (ss && namelen == 5 && memcmp(name, ":path", 5) == 0 && valuelen < sizeof(ss->path)) {
    memcpy(ss->path, value, valuelen);
    ss->path[valuelen] = 0;
  }
  return 0;
}

static int srv_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud) {
  srv *sv = ud;
  if (f->hd.type == NGHTTP2_SETTINGS && !(f->hd.flags & NGHTTP2_FLAG_ACK)) {
    for (size_t i = 0; i < f->settings.niv; i++) {
      int32_t id = f->settings.iv[i].settings_id;
      if (id > 0 && id < 8) {
        sv->settings_seen[id] = f->settings.iv[i].value;
        sv->settings_present[id] = true;
      }
    }
  }
  if (f->hd.type == NGHTTP2_WINDOW_UPDATE && f->hd.stream_id == 0)
    sv->conn_window_update += f->window_update.window_size_increment;
  if (f->hd.type == NGHTTP2_HEADERS && f->hd.stream_id < 1024) {
    sv->prio_parent[f->hd.stream_id] = f->headers.pri_spec.stream_id;
    sv->prio_weight[f->hd.stream_id] = f->headers.pri_spec.weight;
  }
  if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
      (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    srv_stream *ss = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (ss)
      srv_handle(sv, ss);
  }
  return 0;
}

static int srv_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *ud) {
  srv_stream *ss = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
  if (ss && f->hd.type == NGHTTP2_HEADERS && strncmp(ss->path, "/rstafter/", 10) == 0)
    nghttp2_submit_rst_stream(ng, 0, ss->id, (uint32_t)atoi(ss->path + 10));
  return 0;
}

static int srv_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                    void *ud) {
  srv_stream *ss = nghttp2_session_get_stream_user_data(ng, id);
  if (ss) {
    ss->upload_bytes += len;
    for (size_t i = 0; i < len; i++)
      ss->upload_sum += data[i];
  }
  return 0;
}

static int srv_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud) {
  srv *sv = ud;
  srv_stream *ss = nghttp2_session_get_stream_user_data(ng, id);
  if (id < 1024)
    sv->last_close_code[id] = code;
  if (ss) {
    sv->open_streams--;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
  }
  return 0;
}

static srv *srv_new(uint32_t max_concurrent) {
  srv *sv = calloc(1, sizeof(*sv));
  nghttp2_session_callbacks *cb;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, srv_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, srv_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, srv_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, srv_data);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb, srv_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, srv_close);
  nghttp2_option *opt;
  nghttp2_option_new(&opt);
  nghttp2_option_set_max_send_header_block_length(opt, 1 << 20);
  nghttp2_session_server_new2(&sv->ng, cb, sv, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  nghttp2_settings_entry iv[1] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_concurrent}};
  nghttp2_submit_settings(sv->ng, 0, iv, max_concurrent ? 1 : 0);
  return sv;
}

static void srv_free(srv *sv) {
  nghttp2_session_del(sv->ng);
  for (size_t i = 0; i < sv->nall; i++)
    free(sv->all[i]);
  free(sv->all);
  free(sv);
}

/* ------------------------------------------------------------------------ */
/* The client side. */

typedef struct result {
  int status;
  int interim_status;
  int headers_calls;
  bool saw_x_test;
  bool trailers;
  char trailer_value[16];
  uint64_t body_len;
  char body[256];
  bool closed;
  int error;
  bool unprocessed;
  bool consume_all;
  h2_stream *st;
  /* upload */
  const uint8_t *upload;
  size_t upload_len, upload_off;
  int defer_count;
  size_t max_chunk;
  bool cancel_on_data;
} result;

typedef struct world {
  h2_session *c;
  srv *sv;
  int receive_error;
  int goaway_calls;
  int goaway_error;
  int32_t goaway_last;
  int session_error;
  uint64_t ping_ack;
  int ping_acks;
  size_t max_active_seen;
} world;

static void on_headers(h2_stream *st, int status, const h2_header *h, size_t n, bool interim,
                       void *ud) {
  result *r = ud;
  r->headers_calls++;
  if (interim) {
    r->interim_status = status;
    return;
  }
  r->status = status;
  for (size_t i = 0; i < n; i++)
    if (h[i].name.len == 6 && memcmp(h[i].name.base, "x-test", 6) == 0)
      r->saw_x_test = true;
}

static void on_data(h2_stream *st, const uint8_t *d, size_t len, void *ud) {
  result *r = ud;
  if (r->body_len + len < sizeof(r->body))
    memcpy(r->body + r->body_len, d, len);
  r->body_len += len;
  if (r->consume_all)
    h2_stream_consumed(st, len);
  if (r->cancel_on_data) {
    r->cancel_on_data = false;
    r->closed = true;
    r->error = CRONC_ERR_ABORTED;
    h2_stream_cancel(st);
  }
}

static void on_trailers(h2_stream *st, const h2_header *h, size_t n, void *ud) {
  result *r = ud;
  r->trailers = true;
  if (n == 1 && h[0].value.len < sizeof(r->trailer_value))
    memcpy(r->trailer_value, h[0].value.base, h[0].value.len);
}

static void on_close(h2_stream *st, int error, bool unprocessed, void *ud) {
  result *r = ud;
  assert_false(r->closed);
  r->closed = true;
  r->error = error;
  r->unprocessed = unprocessed;
  r->st = NULL;
}

static int read_body(h2_stream *st, size_t max, h2_slice *out, bool *eof, void *ud) {
  result *r = ud;
  if (r->defer_count > 0) {
    r->defer_count--;
    return H2_BODY_DEFERRED;
  }
  size_t n = r->upload_len - r->upload_off;
  if (n > max)
    n = max;
  if (r->max_chunk && n > r->max_chunk)
    n = r->max_chunk;
  out->base = r->upload + r->upload_off;
  out->len = n;
  r->upload_off += n;
  *eof = r->upload_off == r->upload_len;
  return H2_BODY_OK;
}

static const h2_stream_callbacks stream_cb = {
    .on_headers = on_headers,
    .on_data = on_data,
    .on_trailers = on_trailers,
    .on_close = on_close,
};

static void on_goaway(h2_session *s, int error, int32_t last, void *ud) {
  world *w = ud;
  w->goaway_calls++;
  w->goaway_error = error;
  w->goaway_last = last;
}

static void on_error(h2_session *s, int error, void *ud) {
  world *w = ud;
  w->session_error = error;
}

static void on_ping_ack(h2_session *s, uint64_t opaque, void *ud) {
  world *w = ud;
  w->ping_ack = opaque;
  w->ping_acks++;
}

static const h2_session_callbacks session_cb = {
    .on_goaway = on_goaway, .on_error = on_error, .on_ping_ack = on_ping_ack};

static void world_init(world *w, uint32_t server_max_concurrent, const h2_settings *settings,
                       netlog *nl) {
  memset(w, 0, sizeof(*w));
  w->sv = srv_new(server_max_concurrent);
  w->c = h2_session_new(settings, &session_cb, w, nl);
  assert_non_null(w->c);
}

static void world_free(world *w) {
  h2_session_free(w->c);
  srv_free(w->sv);
}

/* Moves bytes both ways until nothing moves. Returns rounds. */
static int pump(world *w) {
  int rounds = 0;
  for (;;) {
    bool moved = false;
    h2_slice sl[16];
    int n;
    while ((n = h2_session_send_next(w->c, sl, 16)) > 0) {
      for (int i = 0; i < n; i++) {
        ssize_t rv = nghttp2_session_mem_recv(w->sv->ng, sl[i].base, sl[i].len);
        assert_true(rv >= 0);
      }
      moved = true;
    }
    assert_true(n >= 0 || h2_session_error(w->c) != 0);
    const uint8_t *p;
    ssize_t m;
    while ((m = nghttp2_session_mem_send(w->sv->ng, &p)) > 0) {
      int rv = h2_session_receive(w->c, p, (size_t)m);
      if (rv != 0 && w->receive_error == 0)
        w->receive_error = rv;
      moved = true;
    }
    if (h2_session_active_streams(w->c) > w->max_active_seen)
      w->max_active_seen = h2_session_active_streams(w->c);
    rounds++;
    if (!moved || rounds > 100000)
      break;
  }
  return rounds;
}

static h2_stream *get(world *w, const char *path, result *r, h2_priority prio) {
  h2_request req = {
      .method = {(const uint8_t *)"GET", 3},
      .scheme = {(const uint8_t *)"https", 5},
      .authority = {(const uint8_t *)"example.test", 12},
      .path = {(const uint8_t *)path, strlen(path)},
      .priority = prio,
  };
  h2_stream *st = NULL;
  assert_int_equal(h2_session_submit(w->c, &req, &stream_cb, r, &st), 0);
  assert_non_null(st);
  r->st = st;
  return st;
}

/* ------------------------------------------------------------------------ */
/* Tests. */

static void test_get_delivers_headers_and_body(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result r = {.consume_all = true};
  get(&w, "/bytes/5", &r, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_true(r.closed);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.status, 200);
  assert_true(r.saw_x_test);
  assert_int_equal(r.body_len, 5);
  assert_memory_equal(r.body, "xxxxx", 5);
  assert_int_equal(h2_session_active_streams(w.c), 0);
  assert_int_equal(w.receive_error, 0);
  world_free(&w);
}

static void test_initial_settings_and_window_are_chromium_values(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  pump(&w);
  assert_true(w.sv->settings_present[NGHTTP2_SETTINGS_HEADER_TABLE_SIZE]);
  assert_int_equal(w.sv->settings_seen[NGHTTP2_SETTINGS_HEADER_TABLE_SIZE], 65536);
  assert_true(w.sv->settings_present[NGHTTP2_SETTINGS_ENABLE_PUSH]);
  assert_int_equal(w.sv->settings_seen[NGHTTP2_SETTINGS_ENABLE_PUSH], 0);
  assert_int_equal(w.sv->settings_seen[NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE], 6 * 1024 * 1024);
  assert_int_equal(w.sv->settings_seen[NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE], 256 * 1024);
  assert_false(w.sv->settings_present[NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS]);
  assert_int_equal(w.sv->conn_window_update, 15 * 1024 * 1024 - 65535);
  assert_int_equal(nghttp2_session_get_remote_window_size(w.sv->ng), 15 * 1024 * 1024);
  assert_int_equal(h2_session_max_concurrent_streams(w.c), 100);
  world_free(&w);
}

static void test_interim_response_then_final(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result r = {.consume_all = true};
  get(&w, "/interim", &r, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_int_equal(r.interim_status, 103);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.headers_calls, 2);
  assert_int_equal(r.body_len, 2);
  assert_int_equal(r.error, 0);
  world_free(&w);
}

static void test_trailers_are_delivered(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result r = {.consume_all = true};
  get(&w, "/trailers", &r, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_true(r.trailers);
  assert_string_equal(r.trailer_value, "42");
  assert_int_equal(r.body_len, 3);
  assert_int_equal(r.error, 0);
  world_free(&w);
}

static h2_stream *post(world *w, result *r, const uint8_t *body, size_t len) {
  h2_stream_callbacks cb = stream_cb;
  cb.read_body = read_body;
  r->upload = body;
  r->upload_len = len;
  h2_header hdr[] = {{{(const uint8_t *)"Content-Type", 12}, {(const uint8_t *)"a/b", 3}},
                     {{(const uint8_t *)"Connection", 10}, {(const uint8_t *)"close", 5}}};
  h2_request req = {
      .method = {(const uint8_t *)"POST", 4},
      .scheme = {(const uint8_t *)"https", 5},
      .authority = {(const uint8_t *)"example.test", 12},
      .path = {(const uint8_t *)"/echo", 5},
      .headers = hdr,
      .header_count = 2,
      .priority = H2_PRIORITY_MEDIUM,
  };
  h2_stream *st = NULL;
  assert_int_equal(h2_session_submit(w->c, &req, &cb, r, &st), 0);
  r->st = st;
  return st;
}

static void test_post_body_deferred_then_resumed(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  static const uint8_t body[] = "hello upload";
  result r = {.consume_all = true, .defer_count = 1};
  h2_stream *st = post(&w, &r, body, sizeof(body) - 1);
  pump(&w);
  assert_false(r.closed); /* waiting for the body */
  assert_int_equal(r.upload_off, 0);
  assert_int_equal(h2_stream_resume_body(st), 0);
  pump(&w);
  assert_true(r.closed);
  assert_int_equal(r.error, 0);
  uint64_t sum = 0;
  for (size_t i = 0; i < sizeof(body) - 1; i++)
    sum += body[i];
  char want[64];
  snprintf(want, sizeof(want), "%zu %llu", sizeof(body) - 1, (unsigned long long)sum);
  assert_int_equal(r.body_len, strlen(want));
  assert_memory_equal(r.body, want, strlen(want));
  world_free(&w);
}

static void test_post_large_body_is_sent_without_copy_in_frames(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  size_t len = 1000003;
  uint8_t *body = malloc(len);
  uint64_t sum = 0;
  for (size_t i = 0; i < len; i++) {
    body[i] = (uint8_t)(i * 7);
    sum += body[i];
  }
  result r = {.consume_all = true, .max_chunk = 5000};
  post(&w, &r, body, len);
  /* Every DATA payload slice handed out must point into the caller's body. */
  bool saw_body_slice = false;
  for (int round = 0; round < 100000 && !r.closed; round++) {
    h2_slice sl[8];
    int n;
    bool moved = false;
    while ((n = h2_session_send_next(w.c, sl, 8)) > 0) {
      for (int i = 0; i < n; i++) {
        if (sl[i].base >= body && sl[i].base < body + len)
          saw_body_slice = true;
        nghttp2_session_mem_recv(w.sv->ng, sl[i].base, sl[i].len);
      }
      moved = true;
    }
    const uint8_t *p;
    ssize_t m;
    while ((m = nghttp2_session_mem_send(w.sv->ng, &p)) > 0) {
      h2_session_receive(w.c, p, (size_t)m);
      moved = true;
    }
    if (!moved)
      break;
  }
  assert_true(saw_body_slice);
  assert_true(r.closed);
  assert_int_equal(r.error, 0);
  char want[64];
  snprintf(want, sizeof(want), "%zu %llu", len, (unsigned long long)sum);
  assert_memory_equal(r.body, want, strlen(want));
  free(body);
  world_free(&w);
}

static int failing_body(h2_stream *st, size_t max, h2_slice *out, bool *eof, void *ud) {
  return CRONC_ERR_FAILED;
}

static int oversized_body(h2_stream *st, size_t max, h2_slice *out, bool *eof, void *ud) {
  static const uint8_t big[1];
  out->base = big;
  out->len = max + 1; /* more than allowed: refused, never read */
  return H2_BODY_OK;
}

static void run_bad_provider(int (*fn)(h2_stream *, size_t, h2_slice *, bool *, void *), int want) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result r = {.consume_all = true};
  h2_stream_callbacks cb = stream_cb;
  cb.read_body = fn;
  h2_request req = {.method = {(const uint8_t *)"POST", 4},
                    .scheme = {(const uint8_t *)"https", 5},
                    .authority = {(const uint8_t *)"a", 1},
                    .path = {(const uint8_t *)"/echo", 5}};
  h2_stream *st = NULL;
  assert_int_equal(h2_session_submit(w.c, &req, &cb, &r, &st), 0);
  pump(&w);
  assert_true(r.closed);
  assert_int_equal(r.error, want);
  assert_int_equal(h2_session_error(w.c), 0);
  world_free(&w);
}

static void test_upload_provider_error_resets_stream_with_that_error(void **state) {
  run_bad_provider(failing_body, CRONC_ERR_FAILED);
  run_bad_provider(oversized_body, CRONC_ERR_INVALID_ARGUMENT);
}

static void test_100_streams_respect_server_max_concurrent_10(void **state) {
  world w;
  world_init(&w, 10, NULL, NULL);
  pump(&w); /* handshake: the server's SETTINGS arrive */
  assert_int_equal(h2_session_max_concurrent_streams(w.c), 10);
  static result r[100];
  memset(r, 0, sizeof(r));
  char path[100][32];
  for (int i = 0; i < 100; i++) {
    r[i].consume_all = true;
    snprintf(path[i], sizeof(path[i]), "/bytes/%d", 1000 + i);
    get(&w, path[i], &r[i], (h2_priority)(i % H2_PRIORITY_COUNT));
  }
  assert_int_equal(h2_session_active_streams(w.c), 10);
  assert_int_equal(h2_session_pending_streams(w.c), 90);
  pump(&w);
  for (int i = 0; i < 100; i++) {
    assert_true(r[i].closed);
    assert_int_equal(r[i].error, 0);
    assert_int_equal(r[i].body_len, 1000 + i);
  }
  assert_true(w.sv->max_open_streams <= 10);
  assert_true(w.max_active_seen <= 10);
  assert_int_equal(h2_session_pending_streams(w.c), 0);
  world_free(&w);
}

static void test_slow_consumer_bounds_buffering_by_windows(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  const uint64_t total = 20 * 1000 * 1000;
  result r = {0};
  char path[32];
  snprintf(path, sizeof(path), "/bytes/%llu", (unsigned long long)total);
  h2_stream *st = get(&w, path, &r, H2_PRIORITY_MEDIUM);
  uint64_t consumed = 0;
  int steps = 0;
  while (!r.closed && steps < 10000) {
    pump(&w);
    /* The server never gets further ahead than the stream window. */
    assert_true(r.body_len - consumed <= 6 * 1024 * 1024);
    if (r.closed)
      break;
    /* Stalled: nothing moves until the consumer consumes. */
    uint64_t before = r.body_len;
    pump(&w);
    assert_int_equal(r.body_len, before);
    /* Consume slowly: 1 MiB at a time. */
    uint64_t n = r.body_len - consumed;
    if (n > 1024 * 1024)
      n = 1024 * 1024;
    h2_stream_consumed(st, (size_t)n);
    consumed += n;
    steps++;
  }
  assert_true(r.closed);
  assert_int_equal(r.error, 0);
  assert_int_equal(r.body_len, total);
  assert_true(steps > 10);
  world_free(&w);
}

static void test_consume_below_half_window_sends_no_window_update(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result r = {0};
  h2_stream *st = get(&w, "/bytes/20000000", &r, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_int_equal(r.body_len, 6 * 1024 * 1024);
  h2_stream_consumed(st, 1024 * 1024); /* below half of the 6 MiB window */
  pump(&w);
  assert_int_equal(r.body_len, 6 * 1024 * 1024);
  h2_stream_consumed(st, 2 * 1024 * 1024 + 1); /* over half */
  pump(&w);
  assert_true(r.body_len > 6 * 1024 * 1024);
  h2_stream_cancel(st);
  pump(&w);
  world_free(&w);
}

/* h2_session_expected_bytes: what the connection promises the socket layer
 * (stream_socket_expect) must be bytes the server does send unprompted. */
static void test_expected_bytes_are_sent_without_prompting(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  const uint64_t total = 20 * 1000 * 1000;
  const uint64_t window = 6 * 1024 * 1024;
  result r = {0};
  h2_stream *st = get(&w, "/len/20000000", &r, H2_PRIORITY_MEDIUM);
  assert_int_equal(h2_session_expected_bytes(w.c), 0); /* awaiting headers */
  pump(&w);
  assert_int_equal(r.body_len, window);
  assert_int_equal(h2_session_expected_bytes(w.c), 0); /* the window is used up */
  uint64_t consumed = 0;
  int promised = 0;
  while (!r.closed) {
    uint64_t n = r.body_len - consumed;
    if (n > 1024 * 1024)
      n = 1024 * 1024;
    h2_stream_consumed(st, (size_t)n);
    consumed += n;
    uint64_t e = h2_session_expected_bytes(w.c);
    uint64_t before = r.body_len;
    pump(&w);
    assert_true(r.body_len - before >= e); /* the promise is kept */
    promised += e > 0;
  }
  assert_int_equal(r.body_len, total);
  assert_true(promised > 0);
  assert_int_equal(h2_session_expected_bytes(w.c), 0);
  world_free(&w);
}

/* A stream without a promise (awaiting headers, headers but no DATA yet, no
 * content-length) makes the whole connection promise nothing, so its small
 * reply is never held back behind another stream's bulk. */
static void test_a_stream_without_a_length_voids_the_promise(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result big = {0};
  h2_stream *st = get(&w, "/len/20000000", &big, H2_PRIORITY_MEDIUM);
  pump(&w);
  h2_stream_consumed(st, 4 * 1024 * 1024); /* reopens the window */
  assert_true(h2_session_expected_bytes(w.c) >= 3 * 1024 * 1024);

  result wait = {.consume_all = true};
  get(&w, "/lenwait/1000", &wait, H2_PRIORITY_MEDIUM);
  assert_int_equal(h2_session_expected_bytes(w.c), 0); /* awaiting headers */
  pump(&w);
  assert_int_equal(wait.status, 200);
  assert_int_equal(h2_session_expected_bytes(w.c), 0); /* a length, no DATA yet */
  assert_non_null(wait.st);
  srv_send_body(w.sv, h2_stream_id(wait.st));
  pump(&w);
  assert_true(wait.closed);
  assert_int_equal(wait.body_len, 1000);

  h2_stream_consumed(st, 4 * 1024 * 1024);
  assert_true(h2_session_expected_bytes(w.c) > 0);
  result nolen = {0};
  get(&w, "/bytes/20000000", &nolen, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_true(nolen.body_len > 0 && !nolen.closed);
  assert_int_equal(h2_session_expected_bytes(w.c), 0); /* DATA, but no length */
  h2_stream_cancel(st);
  h2_stream_cancel(nolen.st);
  pump(&w);
  world_free(&w);
}

typedef struct rst_case {
  uint32_t code;
  int want;
} rst_case;

static void test_rst_stream_codes_map_to_net_errors(void **state) {
  static const rst_case cases[] = {
      {NGHTTP2_NO_ERROR, CRONC_ERR_HTTP2_PROTOCOL_ERROR}, /* before headers */
      {NGHTTP2_PROTOCOL_ERROR, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
      {NGHTTP2_INTERNAL_ERROR, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
      {NGHTTP2_FLOW_CONTROL_ERROR, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
      {NGHTTP2_SETTINGS_TIMEOUT, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
      {NGHTTP2_STREAM_CLOSED, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
      {NGHTTP2_FRAME_SIZE_ERROR, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
      {NGHTTP2_REFUSED_STREAM, CRONC_ERR_HTTP2_SERVER_REFUSED_STREAM},
      {NGHTTP2_CANCEL, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
      {NGHTTP2_COMPRESSION_ERROR, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
      {NGHTTP2_CONNECT_ERROR, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
      {NGHTTP2_ENHANCE_YOUR_CALM, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
      {NGHTTP2_INADEQUATE_SECURITY, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
      {0x1234, CRONC_ERR_HTTP2_PROTOCOL_ERROR},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    world w;
    world_init(&w, 100, NULL, NULL);
    result r = {.consume_all = true}, ok = {.consume_all = true};
    char path[32];
    snprintf(path, sizeof(path), "/rst/%u", cases[i].code);
    get(&w, path, &r, H2_PRIORITY_MEDIUM);
    get(&w, "/bytes/10", &ok, H2_PRIORITY_MEDIUM);
    pump(&w);
    assert_true(r.closed);
    if (r.error != cases[i].want)
      fail_msg("code %u: got %d want %d", cases[i].code, r.error, cases[i].want);
    assert_int_equal(r.unprocessed, cases[i].code == NGHTTP2_REFUSED_STREAM);
    /* The session and other streams are unaffected. */
    assert_int_equal(ok.error, 0);
    assert_int_equal(ok.body_len, 10);
    assert_int_equal(h2_session_error(w.c), 0);
    world_free(&w);
  }
}

static void test_rst_no_error_after_headers_is_ok(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result r = {.consume_all = true};
  get(&w, "/rstafter/0", &r, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_true(r.closed);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.error, 0); /* SpdyStream::OnClose */
  world_free(&w);
}

static void test_rst_http_1_1_required_fails_whole_session(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result a = {.consume_all = true}, b = {.consume_all = true};
  get(&w, "/hang", &b, H2_PRIORITY_MEDIUM);
  get(&w, "/rst/13", &a, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_int_equal(a.error, CRONC_ERR_HTTP_1_1_REQUIRED);
  assert_int_equal(b.error, CRONC_ERR_HTTP_1_1_REQUIRED);
  assert_int_equal(w.session_error, CRONC_ERR_HTTP_1_1_REQUIRED);
  assert_int_equal(h2_session_error(w.c), CRONC_ERR_HTTP_1_1_REQUIRED);
  assert_false(h2_session_want_write(w.c)); /* no GOAWAY for this error */
  world_free(&w);
}

static void test_rst_after_headers_reports_error_code(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result r = {.consume_all = true};
  get(&w, "/rstafter/3", &r, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.error, CRONC_ERR_HTTP2_PROTOCOL_ERROR); /* Chromium's OnRstStream */
  world_free(&w);
}

static void test_goaway_unprocessed_streams_are_retryable(void **state) {
  world w;
  h2_settings set;
  h2_settings_init(&set);
  set.max_concurrent_streams_limit = 5; /* the sixth request waits in the queue */
  world_init(&w, 100, &set, NULL);
  pump(&w);
  result r[6];
  memset(r, 0, sizeof(r));
  for (int i = 0; i < 6; i++) {
    r[i].consume_all = true;
    get(&w, "/hang", &r[i], H2_PRIORITY_MEDIUM);
  }
  pump(&w);
  assert_int_equal(h2_session_pending_streams(w.c), 1);
  nghttp2_submit_goaway(w.sv->ng, 0, 3, NGHTTP2_NO_ERROR, NULL, 0);
  pump(&w);
  assert_int_equal(w.goaway_calls, 1);
  assert_int_equal(w.goaway_error, 0);
  assert_int_equal(w.goaway_last, 3);
  assert_true(h2_session_is_going_away(w.c));
  /* Streams 5, 7, 9 and the queued one: unprocessed, retryable. */
  for (int i = 2; i < 6; i++) {
    assert_true(r[i].closed);
    assert_int_equal(r[i].error, CRONC_ERR_HTTP2_SERVER_REFUSED_STREAM);
    assert_true(r[i].unprocessed);
  }
  /* No new streams. */
  result late = {0};
  h2_stream *st = (h2_stream *)1;
  h2_request req = {.method = {(const uint8_t *)"GET", 3},
                    .scheme = {(const uint8_t *)"https", 5},
                    .authority = {(const uint8_t *)"a", 1},
                    .path = {(const uint8_t *)"/", 1}};
  assert_int_equal(h2_session_submit(w.c, &req, &stream_cb, &late, &st),
                   CRONC_ERR_CONNECTION_CLOSED);
  assert_null(st);
  /* Streams 1 and 3 still complete. */
  assert_false(r[0].closed);
  srv_respond(w.sv, 1, 7);
  srv_respond(w.sv, 3, 8);
  pump(&w);
  assert_int_equal(r[0].error, 0);
  assert_int_equal(r[0].body_len, 7);
  assert_int_equal(r[1].error, 0);
  assert_int_equal(r[1].body_len, 8);
  assert_false(h2_session_want_read(w.c) && h2_session_want_write(w.c));
  world_free(&w);
}

static void test_goaway_with_error_code_maps_like_chromium(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  pump(&w);
  result a = {.consume_all = true}, b = {.consume_all = true};
  get(&w, "/hang", &a, H2_PRIORITY_MEDIUM);
  get(&w, "/hang", &b, H2_PRIORITY_MEDIUM);
  pump(&w);
  nghttp2_submit_goaway(w.sv->ng, 0, 1, NGHTTP2_INTERNAL_ERROR, NULL, 0);
  pump(&w);
  assert_int_equal(w.goaway_error, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(b.error, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_true(b.unprocessed);
  assert_false(a.closed);
  srv_respond(w.sv, 1, 1);
  pump(&w);
  assert_int_equal(a.error, 0);
  world_free(&w);
}

static void test_goaway_http_1_1_required_fails_session(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result a = {.consume_all = true};
  get(&w, "/hang", &a, H2_PRIORITY_MEDIUM);
  pump(&w);
  nghttp2_submit_goaway(w.sv->ng, 0, 1, NGHTTP2_HTTP_1_1_REQUIRED, NULL, 0);
  pump(&w);
  assert_int_equal(a.error, CRONC_ERR_HTTP_1_1_REQUIRED);
  assert_int_equal(h2_session_error(w.c), CRONC_ERR_HTTP_1_1_REQUIRED);
  world_free(&w);
}

static void feed_server_garbage(world *w, const uint8_t *g, size_t len) {
  h2_slice sl[16];
  while (h2_session_send_next(w->c, sl, 16) > 0) {
  }
  int rv = h2_session_receive(w->c, g, len);
  if (rv != 0 && w->receive_error == 0)
    w->receive_error = rv;
}

static void test_garbage_from_server_is_protocol_error(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result r = {.consume_all = true};
  get(&w, "/hang", &r, H2_PRIORITY_MEDIUM);
  static const uint8_t garbage[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  feed_server_garbage(&w, garbage, sizeof(garbage) - 1);
  assert_int_equal(w.receive_error, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_true(r.closed);
  assert_int_equal(r.error, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(w.session_error, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_true(h2_session_want_write(w.c)); /* the GOAWAY */
  h2_slice sl[4];
  assert_true(h2_session_send_next(w.c, sl, 4) > 0);
  /* More input is refused with the same error. */
  assert_int_equal(h2_session_receive(w.c, garbage, 4), CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  world_free(&w);
}

static void test_garbage_after_handshake_is_protocol_error(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  pump(&w);
  result r = {.consume_all = true};
  get(&w, "/hang", &r, H2_PRIORITY_MEDIUM);
  pump(&w);
  /* A DATA frame on stream 0 is a connection error. */
  static const uint8_t bad[] = {0, 0, 1, 0, 0, 0, 0, 0, 0, 'x'};
  feed_server_garbage(&w, bad, sizeof(bad));
  assert_int_equal(w.receive_error, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(r.error, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  world_free(&w);
}

static void test_ping_is_acknowledged(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  assert_int_equal(h2_session_ping(w.c, 0x0102030405060708ull), 0);
  pump(&w);
  assert_int_equal(w.ping_acks, 1);
  assert_int_equal(w.ping_ack, 0x0102030405060708ull);
  world_free(&w);
}

static void test_unexpected_ping_ack_is_protocol_error(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  pump(&w);
  static const uint8_t ack[] = {0, 0, 8, 6, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  feed_server_garbage(&w, ack, sizeof(ack));
  assert_int_equal(w.receive_error, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(h2_session_error(w.c), CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  world_free(&w);
}

static void test_cancel_stream_sends_rst_cancel_and_no_callbacks(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result r = {.cancel_on_data = true};
  result ok = {.consume_all = true};
  get(&w, "/bytes/20000000", &r, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_true(r.closed);
  assert_int_equal(r.error, CRONC_ERR_ABORTED); /* set by the test, not on_close */
  assert_int_equal(w.sv->last_close_code[1], NGHTTP2_CANCEL);
  /* The connection window was given back: a new 14 MB response fits. */
  get(&w, "/bytes/14000000", &ok, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_int_equal(ok.error, 0);
  assert_int_equal(ok.body_len, 14000000);
  world_free(&w);
}

static void test_cancel_queued_stream_never_reaches_server(void **state) {
  world w;
  world_init(&w, 1, NULL, NULL);
  pump(&w);
  result a = {.consume_all = true}, b = {.consume_all = true}, c = {.consume_all = true};
  get(&w, "/bytes/1", &a, H2_PRIORITY_MEDIUM);
  h2_stream *sb = get(&w, "/bytes/2", &b, H2_PRIORITY_MEDIUM);
  get(&w, "/bytes/3", &c, H2_PRIORITY_MEDIUM);
  assert_int_equal(h2_session_pending_streams(w.c), 2);
  assert_int_equal(h2_stream_id(sb), 0);
  h2_stream_cancel(sb);
  assert_int_equal(h2_session_pending_streams(w.c), 1);
  pump(&w);
  assert_false(b.closed);
  assert_int_equal(a.body_len, 1);
  assert_int_equal(c.body_len, 3);
  assert_int_equal(c.error, 0);
  world_free(&w);
}

static void test_pending_streams_start_in_priority_order(void **state) {
  world w;
  world_init(&w, 1, NULL, NULL);
  pump(&w);
  result a = {0}, low = {0}, high = {0};
  h2_stream *sa = get(&w, "/hang", &a, H2_PRIORITY_MEDIUM);
  h2_stream *sl = get(&w, "/hang", &low, H2_PRIORITY_LOW);
  h2_stream *sh = get(&w, "/hang", &high, H2_PRIORITY_HIGHEST);
  pump(&w);
  h2_stream_cancel(sa);
  pump(&w);
  assert_true(h2_stream_id(sh) > 0);
  assert_int_equal(h2_stream_id(sl), 0);
  h2_stream_cancel(sh);
  h2_stream_cancel(sl);
  world_free(&w);
}

static void test_priority_weights_and_dependencies_follow_chromium(void **state) {
  assert_int_equal(h2_priority_to_weight(H2_PRIORITY_HIGHEST), 256);
  assert_int_equal(h2_priority_to_weight(H2_PRIORITY_MEDIUM), 220);
  assert_int_equal(h2_priority_to_weight(H2_PRIORITY_LOW), 183);
  assert_int_equal(h2_priority_to_weight(H2_PRIORITY_LOWEST), 147);
  assert_int_equal(h2_priority_to_weight(H2_PRIORITY_IDLE), 110);
  assert_int_equal(h2_priority_to_weight(H2_PRIORITY_THROTTLED), 74);
  world w;
  world_init(&w, 100, NULL, NULL);
  result r[3];
  memset(r, 0, sizeof(r));
  get(&w, "/hang", &r[0], H2_PRIORITY_LOWEST);  /* 1: root */
  get(&w, "/hang", &r[1], H2_PRIORITY_HIGHEST); /* 3: root */
  get(&w, "/hang", &r[2], H2_PRIORITY_LOWEST);  /* 5: after 1 */
  pump(&w);
  assert_int_equal(w.sv->prio_parent[1], 0);
  assert_int_equal(w.sv->prio_weight[1], 147);
  assert_int_equal(w.sv->prio_parent[3], 0);
  assert_int_equal(w.sv->prio_weight[3], 256);
  assert_int_equal(w.sv->prio_parent[5], 1);
  world_free(&w);
}

static void test_header_list_over_limit_is_protocol_error(void **state) {
  world w;
  h2_settings set;
  h2_settings_init(&set);
  set.max_header_list_size = 64 * 1024;
  world_init(&w, 100, &set, NULL);
  result r = {.consume_all = true}, ok = {.consume_all = true};
  get(&w, "/bigheaders", &r, H2_PRIORITY_MEDIUM);
  pump(&w);
  if (h2_session_error(w.c))
    fail_msg("session error %d recv %d", h2_session_error(w.c), w.receive_error);
  assert_int_equal(r.error, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(r.headers_calls, 0);
  get(&w, "/bytes/4", &ok, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_int_equal(ok.error, 0);
  world_free(&w);
}

static void test_malformed_response_headers_are_protocol_errors(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  result a = {.consume_all = true}, b = {.consume_all = true};
  get(&w, "/nostatus", &a, H2_PRIORITY_MEDIUM);
  get(&w, "/badheader", &b, H2_PRIORITY_MEDIUM);
  pump(&w);
  assert_int_equal(a.error, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(b.error, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(h2_session_error(w.c), 0);
  world_free(&w);
}

static void test_invalid_arguments_are_rejected(void **state) {
  assert_null(NULL);
  world w;
  world_init(&w, 100, NULL, NULL);
  h2_slice sl[2];
  assert_int_equal(h2_session_send_next(w.c, sl, 2), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(h2_session_receive(w.c, NULL, 3), CRONC_ERR_INVALID_ARGUMENT);
  h2_request req = {0};
  h2_stream *st = NULL;
  result r = {0};
  assert_int_equal(h2_session_submit(w.c, &req, &stream_cb, &r, &st), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(h2_session_submit(w.c, NULL, &stream_cb, &r, &st), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(h2_session_receive(NULL, NULL, 0), CRONC_ERR_INVALID_ARGUMENT);
  h2_stream_cancel(NULL);
  h2_stream_consumed(NULL, 5);
  assert_int_equal(h2_stream_id(NULL), 0);
  h2_session_free(NULL);
  world_free(&w);
}

static void test_submit_after_session_error_fails(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  static const uint8_t garbage[] = "garbage garbage garbage";
  feed_server_garbage(&w, garbage, sizeof(garbage) - 1);
  h2_request req = {.method = {(const uint8_t *)"GET", 3},
                    .scheme = {(const uint8_t *)"https", 5},
                    .authority = {(const uint8_t *)"a", 1},
                    .path = {(const uint8_t *)"/", 1}};
  h2_stream *st = NULL;
  result r = {0};
  assert_int_equal(h2_session_submit(w.c, &req, &stream_cb, &r, &st), CRONC_ERR_CONNECTION_CLOSED);
  assert_false(h2_session_want_read(w.c));
  world_free(&w);
}

typedef struct seen_events {
  bool types[NETLOG_EVENT_TYPE_COUNT];
} seen_events;

static void observe(const netlog_entry *e, void *ud) {
  seen_events *s = ud;
  s->types[e->type] = true;
}

static void test_netlog_records_session_events(void **state) {
  netlog *nl = netlog_new(NULL);
  seen_events seen = {0};
  netlog_add_observer(nl, observe, &seen);
  world w;
  world_init(&w, 100, NULL, nl);
  result r = {.consume_all = true}, x = {.consume_all = true};
  get(&w, "/bytes/3", &r, H2_PRIORITY_MEDIUM);
  get(&w, "/rst/1", &x, H2_PRIORITY_MEDIUM);
  pump(&w);
  world_free(&w);
  assert_true(seen.types[NETLOG_TYPE_HTTP2_SESSION]);
  assert_true(seen.types[NETLOG_TYPE_HTTP2_SESSION_SEND_SETTINGS]);
  assert_true(seen.types[NETLOG_TYPE_HTTP2_SESSION_RECV_SETTINGS]);
  assert_true(seen.types[NETLOG_TYPE_HTTP2_SESSION_SEND_HEADERS]);
  assert_true(seen.types[NETLOG_TYPE_HTTP2_SESSION_RECV_HEADERS]);
  assert_true(seen.types[NETLOG_TYPE_HTTP2_SESSION_RECV_DATA]);
  assert_true(seen.types[NETLOG_TYPE_HTTP2_SESSION_RECV_RST_STREAM]);
  assert_true(seen.types[NETLOG_TYPE_HTTP2_STREAM_ERROR]);
  assert_true(seen.types[NETLOG_TYPE_HTTP2_SESSION_SEND_WINDOW_UPDATE]);
  netlog_free(nl);
}

static void test_request_headers_are_lowercased_and_filtered(void **state) {
  world w;
  world_init(&w, 100, NULL, NULL);
  static const uint8_t body[] = "x";
  result r = {.consume_all = true};
  post(&w, &r, body, 1); /* sends Content-Type and Connection */
  pump(&w);
  /* A server rejects upper-case or connection-specific headers; the request
   * succeeded, so they were lowercased and dropped. */
  assert_int_equal(r.error, 0);
  assert_int_equal(r.status, 200);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_delivers_headers_and_body),
      cmocka_unit_test(test_initial_settings_and_window_are_chromium_values),
      cmocka_unit_test(test_interim_response_then_final),
      cmocka_unit_test(test_trailers_are_delivered),
      cmocka_unit_test(test_post_body_deferred_then_resumed),
      cmocka_unit_test(test_post_large_body_is_sent_without_copy_in_frames),
      cmocka_unit_test(test_upload_provider_error_resets_stream_with_that_error),
      cmocka_unit_test(test_100_streams_respect_server_max_concurrent_10),
      cmocka_unit_test(test_slow_consumer_bounds_buffering_by_windows),
      cmocka_unit_test(test_consume_below_half_window_sends_no_window_update),
      cmocka_unit_test(test_expected_bytes_are_sent_without_prompting),
      cmocka_unit_test(test_a_stream_without_a_length_voids_the_promise),
      cmocka_unit_test(test_rst_stream_codes_map_to_net_errors),
      cmocka_unit_test(test_rst_no_error_after_headers_is_ok),
      cmocka_unit_test(test_rst_http_1_1_required_fails_whole_session),
      cmocka_unit_test(test_rst_after_headers_reports_error_code),
      cmocka_unit_test(test_goaway_unprocessed_streams_are_retryable),
      cmocka_unit_test(test_goaway_with_error_code_maps_like_chromium),
      cmocka_unit_test(test_goaway_http_1_1_required_fails_session),
      cmocka_unit_test(test_garbage_from_server_is_protocol_error),
      cmocka_unit_test(test_garbage_after_handshake_is_protocol_error),
      cmocka_unit_test(test_ping_is_acknowledged),
      cmocka_unit_test(test_unexpected_ping_ack_is_protocol_error),
      cmocka_unit_test(test_cancel_stream_sends_rst_cancel_and_no_callbacks),
      cmocka_unit_test(test_cancel_queued_stream_never_reaches_server),
      cmocka_unit_test(test_pending_streams_start_in_priority_order),
      cmocka_unit_test(test_priority_weights_and_dependencies_follow_chromium),
      cmocka_unit_test(test_header_list_over_limit_is_protocol_error),
      cmocka_unit_test(test_malformed_response_headers_are_protocol_errors),
      cmocka_unit_test(test_invalid_arguments_are_rejected),
      cmocka_unit_test(test_submit_after_session_error_fails),
      cmocka_unit_test(test_netlog_records_session_events),
      cmocka_unit_test(test_request_headers_are_lowercased_and_filtered),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
