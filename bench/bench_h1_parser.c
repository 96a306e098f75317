/* Benchmark: HTTP/1.1 response parser throughput (http/h1_parser), one
 * reused parser as the HTTP/1.1 stream uses it:
 *   - a typical response head (~600 bytes, 12 fields) in one slice,
 *   - the same head fed one byte at a time (the worst slicing),
 *   - a 1 MB chunked body in 16 KB chunks, in one slice and in 1460-byte
 *     slices (one TCP segment each).
 * Reports MB/s of wire bytes and ns per parse. No assertions on time; a
 * parse failure is reported and exits non-zero. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/h1_parser.h"

static const char k_head[] = "HTTP/1.1 200 OK\r\n"
                             "Date: Mon, 01 Jan 2024 12:00:00 GMT\r\n"
                             "Server: nginx/1.25.3\r\n"
                             "Content-Type: text/html; charset=utf-8\r\n"
                             "Content-Length: 0\r\n"
                             "Connection: keep-alive\r\n"
                             "Cache-Control: public, max-age=600, stale-while-revalidate=60\r\n"
                             "ETag: \"65a1b2c3-4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90\"\r\n"
                             "Last-Modified: Sun, 31 Dec 2023 23:59:59 GMT\r\n"
                             "Vary: Accept-Encoding, Accept-Language, User-Agent\r\n"
                             "Alt-Svc: h3=\":443\"; ma=86400, h3-29=\":443\"; ma=86400\r\n"
                             "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"
                             "Set-Cookie: session=0123456789abcdef0123456789abcdef; Path=/; "
                             "Secure; HttpOnly; SameSite=Lax\r\n"
                             "\r\n";

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint64_t g_sink;

/* Parses one whole response from buf in slices of `slice` bytes (0 = all at
 * once). Returns body bytes, or -1 on failure. */
static int64_t parse_once(h1_parser *p, const uint8_t *buf, size_t len, size_t slice) {
  h1_parser_reset(p, H1_METHOD_OTHER);
  size_t pos = 0;
  int64_t body = 0;
  for (;;) {
    size_t end = slice && len - pos > slice ? pos + slice : len;
    for (;;) {
      size_t n;
      h1_event ev;
      if (h1_parser_execute(p, buf + pos, end - pos, &n, &ev) < 0)
        return -1;
      pos += n;
      if (ev.type == H1_EVENT_BODY)
        body += (int64_t)ev.len;
      else if (ev.type == H1_EVENT_MESSAGE_COMPLETE)
        return body;
      else if (ev.type == H1_EVENT_NONE)
        break;
    }
    if (pos == len)
      return -1; /* incomplete */
  }
}

typedef struct bench_case {
  const char *name;
  const uint8_t *buf;
  size_t len;
  size_t slice;
} bench_case;

static int run_case(h1_parser *p, const bench_case *c) {
  if (parse_once(p, c->buf, c->len, c->slice) < 0) {
    printf("%-28s parse failed: %s\n", c->name, h1_parser_error_reason(p));
    return 1;
  }
  /* Calibrate: double the batch until it takes >= 50 ms, then scale to ~0.5 s. */
  uint64_t iters = 1;
  for (;;) {
    double t0 = now_seconds();
    for (uint64_t i = 0; i < iters; i++)
      g_sink += (uint64_t)parse_once(p, c->buf, c->len, c->slice);
    double dt = now_seconds() - t0;
    if (dt >= 0.05) {
      iters = (uint64_t)((double)iters * 0.5 / dt) + 1;
      break;
    }
    iters *= 2;
  }
  double t0 = now_seconds();
  for (uint64_t i = 0; i < iters; i++)
    g_sink += (uint64_t)parse_once(p, c->buf, c->len, c->slice);
  double dt = now_seconds() - t0;
  printf("%-28s %9zu %10.1f %12.0f\n", c->name, c->len, (double)c->len * (double)iters / dt / 1e6,
         dt * 1e9 / (double)iters);
  return 0;
}

int main(void) {
  h1_parser *p = h1_parser_new();
  if (!p)
    return 1;

  /* 1 MB body in 64 chunks of 16 KB. */
  const size_t chunk = 16384, nchunks = 64;
  static const char chunked_head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n";
  size_t cap = sizeof chunked_head + nchunks * (chunk + 16) + 16;
  uint8_t *wire = malloc(cap);
  if (!wire)
    return 1;
  size_t w = sizeof chunked_head - 1;
  memcpy(wire, chunked_head, w);
  for (size_t i = 0; i < nchunks; i++) {
    w += (size_t)snprintf((char *)wire + w, cap - w, "%zx\r\n", chunk);
    memset(wire + w, 'a' + (int)(i % 26), chunk);
    w += chunk;
    memcpy(wire + w, "\r\n", 2);
    w += 2;
  }
  memcpy(wire + w, "0\r\n\r\n", 5);
  w += 5;

  size_t field_count = 0;
  for (const char *s = k_head; (s = strstr(s, "\r\n")) != NULL; s += 2)
    field_count++;
  printf("head: %zu bytes, %zu fields\n", sizeof k_head - 1, field_count - 2);
  printf("%-28s %9s %10s %12s\n", "case", "bytes", "MB/s", "ns/parse");
  const bench_case cases[] = {
      {"head, one slice", (const uint8_t *)k_head, sizeof k_head - 1, 0},
      {"head, byte at a time", (const uint8_t *)k_head, sizeof k_head - 1, 1},
      {"1MB chunked(16K), one slice", wire, w, 0},
      {"1MB chunked(16K), 1460B", wire, w, 1460},
  };
  int status = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    status |= run_case(p, &cases[i]);
  free(wire);
  h1_parser_free(p);
  return status;
}
