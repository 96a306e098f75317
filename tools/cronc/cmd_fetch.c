/* cronc URL...: fetch URLs with a real engine, curl-like. The body goes to
 * stdout (or -o FILE); -v prints the protocol and the timing of each step
 * to stderr; --json prints one line of JSON per request on stdout. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "cronc_tool.h"

typedef struct fetch_opts {
  const char *output;
  const char *method;
  const char *data_file;
  const char *cacert;
  const char *host_rules;
  const char *storage;
  const char *netlog;
  bool http11;
  bool verbose;
  bool json;
  cronc_header headers[64];
  size_t n_headers;
  const char *urls[64];
  size_t n_urls;
} fetch_opts;

typedef struct fetch_state {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  int error;
  int status;
  char protocol[16];
  char final_url[2048];
  int64_t bytes;
  FILE *out;
  uint8_t buf[65536];
  bool verbose;
  double t0, t_headers;
} fetch_state;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void signal_done(fetch_state *s, int error) {
  pthread_mutex_lock(&s->mu);
  s->error = error;
  s->done = true;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static void note_info(fetch_state *s, const cronc_response_info *info) {
  if (!info)
    return;
  s->status = info->http_status;
  snprintf(s->protocol, sizeof s->protocol, "%s", info->negotiated_protocol);
  snprintf(s->final_url, sizeof s->final_url, "%s", info->url);
}

static void on_redirect(cronc_request *r, void *ud, const cronc_response_info *info,
                        const char *loc) {
  fetch_state *s = ud;
  if (s->verbose)
    fprintf(stderr, "* %d redirect to %s (%.1f ms)\n", info->http_status, loc, now_ms() - s->t0);
  cronc_request_follow_redirect(r);
}

static void on_started(cronc_request *r, void *ud, const cronc_response_info *info) {
  fetch_state *s = ud;
  note_info(s, info);
  s->t_headers = now_ms();
  if (s->verbose) {
    fprintf(stderr, "* %s %d %s (headers after %.1f ms)\n", info->negotiated_protocol,
            info->http_status, info->http_status_text, s->t_headers - s->t0);
    for (size_t i = 0; i < info->n_headers; i++)
      fprintf(stderr, "< %s: %s\n", info->headers[i].name, info->headers[i].value);
  }
  cronc_request_read(r, s->buf, sizeof s->buf);
}

static void on_read(cronc_request *r, void *ud, const cronc_response_info *info, uint8_t *buf,
                    size_t n) {
  (void)info;
  fetch_state *s = ud;
  s->bytes += (int64_t)n;
  if (s->out && fwrite(buf, 1, n, s->out) != n) {
    cronc_request_cancel(r);
    return;
  }
  cronc_request_read(r, s->buf, sizeof s->buf);
}

/* "name a..b ms" for one step, from the request start; "-" when skipped. */
static void print_step(const char *name, int64_t base, int64_t a, int64_t b) {
  if (a < 0 || b < 0)
    fprintf(stderr, " %s -", name);
  else
    fprintf(stderr, " %s %.2f..%.2f", name, (a - base) / 1000.0, (b - base) / 1000.0);
}

static void print_metrics(const cronc_metrics *m) {
  int64_t t0 = m->request_start_us;
  fprintf(stderr, "* timing (ms from start):");
  print_step("dns", t0, m->dns_start_us, m->dns_end_us);
  print_step("connect", t0, m->connect_start_us, m->connect_end_us);
  print_step("tls", t0, m->ssl_start_us, m->ssl_end_us);
  print_step("send", t0, m->sending_start_us, m->sending_end_us);
  print_step("response", t0, m->response_start_us, m->request_end_us);
  fprintf(stderr, "%s\n", m->socket_reused ? " (reused connection)" : "");
}

static void on_succeeded(cronc_request *r, void *ud, const cronc_response_info *info) {
  (void)r;
  fetch_state *s = ud;
  note_info(s, info);
  if (s->verbose) {
    print_metrics(info->metrics);
    fprintf(stderr, "* done: %lld bytes, body %.1f ms, total %.1f ms\n", (long long)s->bytes,
            now_ms() - s->t_headers, now_ms() - s->t0);
  }
  signal_done(s, CRONC_OK);
}

static void on_failed(cronc_request *r, void *ud, const cronc_response_info *info, int error) {
  (void)r;
  fetch_state *s = ud;
  note_info(s, info);
  if (s->verbose)
    fprintf(stderr, "* failed: %s (%d) after %.1f ms\n", cronc_error_name(error), error,
            now_ms() - s->t0);
  signal_done(s, error);
}

static void on_canceled(cronc_request *r, void *ud, const cronc_response_info *info) {
  (void)r;
  fetch_state *s = ud;
  note_info(s, info);
  signal_done(s, CRONC_ERR_ABORTED);
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  strbuf sb = STRBUF_INIT;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    strbuf_append(&sb, chunk, n);
  fclose(f);
  return (uint8_t *)strbuf_detach(&sb, len);
}

static int usage(void) {
  fprintf(stderr, "usage: cronc [-o FILE] [-H 'Name: value'] [-X METHOD] [--data-binary @FILE]\n"
                  "             [--cacert FILE] [--host-rules RULES] [--storage DIR] [--http1.1]\n"
                  "             [--netlog FILE] [-v] [--json] URL...\n");
  return 2;
}

static int parse(int argc, char **argv, fetch_opts *o) {
  memset(o, 0, sizeof *o);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name, field)                                                                           \
  if (strcmp(a, name) == 0) {                                                                      \
    if (!v)                                                                                        \
      return -1;                                                                                   \
    o->field = v;                                                                                  \
    i++;                                                                                           \
    continue;                                                                                      \
  }
    OPT("-o", output)
    OPT("-X", method)
    OPT("--cacert", cacert)
    OPT("--host-rules", host_rules)
    OPT("--storage", storage)
    OPT("--netlog", netlog)
#undef OPT
    if (strcmp(a, "--data-binary") == 0 && v) {
      o->data_file = v[0] == '@' ? v + 1 : v;
      i++;
    } else if (strcmp(a, "-H") == 0 && v) {
      const char *colon = strchr(v, ':');
      if (!colon || o->n_headers == 64)
        return -1;
      char *name = strndup(v, (size_t)(colon - v));
      const char *val = colon + 1;
      while (*val == ' ')
        val++;
      o->headers[o->n_headers++] = (cronc_header){name, val};
      i++;
    } else if (strcmp(a, "--http1.1") == 0) {
      o->http11 = true;
    } else if (strcmp(a, "-v") == 0) {
      o->verbose = true;
    } else if (strcmp(a, "--json") == 0) {
      o->json = true;
    } else if (a[0] == '-') {
      fprintf(stderr, "cronc: unknown option %s\n", a);
      return -1;
    } else if (o->n_urls < 64) {
      o->urls[o->n_urls++] = a;
    }
  }
  return o->n_urls ? 0 : -1;
}

static void print_json(const char *url, fetch_state *s) {
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"url\":");
  strbuf_json_cstr(&sb, s->final_url[0] ? s->final_url : url);
  strbuf_appendf(&sb, ",\"status\":%d,\"protocol\":", s->error ? 0 : s->status);
  strbuf_json_cstr(&sb, s->protocol);
  strbuf_appendf(&sb, ",\"bytes\":%lld", (long long)s->bytes);
  if (s->error) {
    strbuf_append_str(&sb, ",\"error\":");
    strbuf_json_cstr(&sb, cronc_error_name(s->error));
  }
  strbuf_append_char(&sb, '}');
  printf("%s\n", strbuf_cstr(&sb));
  fflush(stdout);
  strbuf_free(&sb);
}

int cmd_fetch(int argc, char **argv) {
  fetch_opts o;
  if (parse(argc, argv, &o) != 0)
    return usage();
  uint8_t *body = NULL;
  size_t body_len = 0;
  if (o.data_file && !(body = read_file(o.data_file, &body_len))) {
    fprintf(stderr, "cronc: cannot read %s\n", o.data_file);
    return 2;
  }
  cronc_engine_params ep;
  cronc_engine_params_init(&ep);
  ep.storage_path = o.storage;
  ep.extra_ca_file = o.cacert;
  ep.host_resolver_rules = o.host_rules;
  ep.netlog_path = o.netlog;
  cronc_engine *eng = NULL;
  int rv = cronc_engine_new(&ep, &eng);
  if (rv != CRONC_OK) {
    fprintf(stderr, "cronc: engine: %s\n", cronc_error_name(rv));
    free(body);
    return 1;
  }
  FILE *out = stdout;
  if (o.output && !(out = fopen(o.output, "wb"))) {
    fprintf(stderr, "cronc: cannot write %s\n", o.output);
    cronc_engine_free(eng);
    free(body);
    return 2;
  }
  int status = 0;
  for (size_t i = 0; i < o.n_urls; i++) {
    fetch_state *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->out = out;
    s->verbose = o.verbose;
    s->t0 = now_ms();
    cronc_request_params rp;
    cronc_request_params_init(&rp);
    rp.method = o.method;
    rp.headers = o.headers;
    rp.n_headers = o.n_headers;
    rp.body = body;
    rp.body_len = body_len;
    rp.allow_http2 = !o.http11;
    cronc_request_callbacks cb = {on_redirect,  on_started, on_read,
                                  on_succeeded, on_failed,  on_canceled};
    cronc_request *r = NULL;
    rv = cronc_request_new(eng, o.urls[i], &rp, &cb, s, &r);
    if (rv == CRONC_OK)
      rv = cronc_request_start(r);
    if (rv == CRONC_OK) {
      pthread_mutex_lock(&s->mu);
      while (!s->done)
        pthread_cond_wait(&s->cv, &s->mu);
      pthread_mutex_unlock(&s->mu);
      rv = s->error;
    } else {
      s->error = rv;
    }
    if (o.json)
      print_json(o.urls[i], s);
    else if (rv != CRONC_OK)
      fprintf(stderr, "cronc: %s: %s\n", o.urls[i], cronc_error_name(rv));
    if (rv != CRONC_OK)
      status = 1;
    cronc_request_free(r);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
  }
  if (out != stdout)
    fclose(out);
  else
    fflush(stdout);
  cronc_engine_free(eng);
  for (size_t i = 0; i < o.n_headers; i++)
    free((char *)o.headers[i].name);
  free(body);
  return status;
}
