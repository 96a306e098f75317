/* Benchmark: Alt-Svc header parse rate (http/altsvc_parse) for representative
 * values, parsed repeatedly into one reused header as the network
 * transaction does. Reports values/second and ns/value per kind. No
 * assertions on time; a parse failure is reported and exits non-zero. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/altsvc_parse.h"

typedef struct bench_kind {
  const char *name;
  const char *value;
} bench_kind;

static const bench_kind k_kinds[] = {
    {"simple h3", "h3=\":443\""},
    {"google h3+h3-29", "h3=\":443\"; ma=2592000,h3-29=\":443\"; ma=2592000"},
    {"10 entries + params",
     "h3=\":443\"; ma=2592000; persist=1, h3-29=\":443\"; ma=2592000, "
     "h2=\"alt1.example.com:443\"; ma=3600, h3=\"alt2.example.com:8443\"; ma=86400; persist=1, "
     "h3-Q050=\":443\"; ma=2592000, h3-T051=\":443\"; ma=2592000, "
     "h2=\"[2001:db8::1]:443\"; ma=600, h3=\"alt3.example.net:443\"; ma=\"180\", "
     "quic=\":443\"; ma=2592000; v=\"46,43\", h3%2D30=\":4433\"; ma=60; foo=bar"},
    {"clear", "clear"},
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keeps the compiler from dropping the parse. */
static volatile size_t g_sink;

int main(void) {
  altsvc_header h;
  altsvc_header_init(&h);
  printf("%-22s %8s %14s %10s\n", "kind", "bytes", "values/s", "ns/value");
  int status = 0;
  for (size_t k = 0; k < sizeof k_kinds / sizeof k_kinds[0]; k++) {
    const char *v = k_kinds[k].value;
    size_t len = strlen(v);
    const char *reason = NULL;
    if (altsvc_parse_header(v, len, &h, &reason) != 0) {
      printf("%-22s parse failed: %s\n", k_kinds[k].name, reason);
      status = 1;
      continue;
    }
    /* Calibrate: double the batch until it takes >= 50 ms, then scale to ~0.5 s. */
    uint64_t iters = 1024;
    for (;;) {
      double t0 = now_seconds();
      for (uint64_t i = 0; i < iters; i++) {
        altsvc_parse_header(v, len, &h, &reason);
        g_sink += h.count;
      }
      double dt = now_seconds() - t0;
      if (dt >= 0.05) {
        iters = (uint64_t)((double)iters * 0.5 / dt) + 1;
        break;
      }
      iters *= 2;
    }
    double t0 = now_seconds();
    for (uint64_t i = 0; i < iters; i++) {
      altsvc_parse_header(v, len, &h, &reason);
      g_sink += h.count;
    }
    double dt = now_seconds() - t0;
    printf("%-22s %8zu %14.0f %10.1f\n", k_kinds[k].name, len, (double)iters / dt,
           dt * 1e9 / (double)iters);
  }
  altsvc_header_free(&h);
  return status;
}
