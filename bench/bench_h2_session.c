/* Benchmark for http/h2_session: a client session and an in-process nghttp2
 * server joined by in-memory pipes (no sockets).
 *   1. 10,000 GET requests with 1 KB responses, 100 in flight;
 *   2. one 100 MB response, consumed as it arrives.
 * Reports requests/s, MB/s and the CPU time of the whole process (client
 * and server both run here, so the server's work is included). */
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "http/h2_session.h"

typedef struct bench {
  h2_session *c;
  nghttp2_session *sv;
  size_t done, submitted, total, in_flight_max;
  uint64_t bytes;
  int errors;
} bench;

static size_t g_response_size;

static ssize_t srv_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                        nghttp2_data_source *src, void *ud) {
  size_t *left = src->ptr;
  size_t n = *left < len ? *left : len;
  memset(buf, 'z', n);
  *left -= n;
  if (*left == 0) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    free(left);
  }
  return (ssize_t)n;
}

static int srv_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud) {
  if (f->hd.type == NGHTTP2_HEADERS && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    size_t *left = malloc(sizeof(*left));
    *left = g_response_size;
    nghttp2_nv h[] = {{(uint8_t *)":status", (uint8_t *)"200", 7, 3, 0}};
    nghttp2_data_provider dp = {.source.ptr = left, .read_callback = srv_read};
    nghttp2_submit_response(ng, f->hd.stream_id, h, 1, &dp);
  }
  return 0;
}

static void on_data(h2_stream *st, const uint8_t *d, size_t len, void *ud) {
  bench *b = ud;
  b->bytes += len;
  h2_stream_consumed(st, len);
}

static void submit_one(bench *b);

static void on_close(h2_stream *st, int error, bool unprocessed, void *ud) {
  bench *b = ud;
  b->done++;
  if (error)
    b->errors++;
  if (b->submitted < b->total)
    submit_one(b);
}

static const h2_stream_callbacks cbs = {.on_data = on_data, .on_close = on_close};

static void submit_one(bench *b) {
  h2_request req = {.method = {(const uint8_t *)"GET", 3},
                    .scheme = {(const uint8_t *)"https", 5},
                    .authority = {(const uint8_t *)"bench.test", 10},
                    .path = {(const uint8_t *)"/x", 2},
                    .priority = H2_PRIORITY_MEDIUM};
  h2_stream *st;
  if (h2_session_submit(b->c, &req, &cbs, b, &st) == 0)
    b->submitted++;
  else
    b->errors++;
}

static void pump(bench *b) {
  for (;;) {
    bool moved = false;
    h2_slice sl[32];
    int n;
    while ((n = h2_session_send_next(b->c, sl, 32)) > 0) {
      for (int i = 0; i < n; i++)
        nghttp2_session_mem_recv(b->sv, sl[i].base, sl[i].len);
      moved = true;
    }
    const uint8_t *p;
    ssize_t m;
    while ((m = nghttp2_session_mem_send(b->sv, &p)) > 0) {
      h2_session_receive(b->c, p, (size_t)m);
      moved = true;
    }
    if (!moved)
      break;
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void setup(bench *b, size_t total) {
  memset(b, 0, sizeof(*b));
  b->total = total;
  b->c = h2_session_new(NULL, NULL, NULL, NULL);
  nghttp2_session_callbacks *cb;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, srv_frame_recv);
  nghttp2_session_server_new(&b->sv, cb, NULL);
  nghttp2_session_callbacks_del(cb);
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
  nghttp2_submit_settings(b->sv, 0, iv, 1);
  /* The server takes the client's large windows; give the client a big one too. */
  nghttp2_session_set_local_window_size(b->sv, 0, 0, 15 * 1024 * 1024);
  pump(b);
}

static void teardown(bench *b) {
  h2_session_free(b->c);
  nghttp2_session_del(b->sv);
}

int main(void) {
  bench b;
  /* 1. Many small requests. */
  g_response_size = 1024;
  setup(&b, 10000);
  double t0 = now_s(), c0 = cpu_s();
  for (int i = 0; i < 100; i++)
    submit_one(&b);
  while (b.done < b.total) {
    size_t before = b.done;
    pump(&b);
    if (b.done == before)
      break;
  }
  double t1 = now_s(), c1 = cpu_s();
  printf("h2_session small: %zu requests of %zu B, 100 in flight: %.3f s wall, %.3f s CPU, "
         "%.0f requests/s, errors %d\n",
         b.done, g_response_size, t1 - t0, c1 - c0, (double)b.done / (t1 - t0), b.errors);
  teardown(&b);

  /* 2. One 100 MB stream. */
  g_response_size = 100u * 1000 * 1000;
  setup(&b, 1);
  t0 = now_s();
  c0 = cpu_s();
  submit_one(&b);
  while (b.done < 1) {
    uint64_t before = b.bytes;
    pump(&b);
    if (b.bytes == before && b.done < 1)
      break;
  }
  t1 = now_s();
  c1 = cpu_s();
  printf("h2_session bulk: %llu bytes in one stream: %.3f s wall, %.3f s CPU, %.1f MB/s, "
         "errors %d\n",
         (unsigned long long)b.bytes, t1 - t0, c1 - c0, (double)b.bytes / 1e6 / (t1 - t0),
         b.errors);
  teardown(&b);
  return b.errors ? 1 : 0;
}
