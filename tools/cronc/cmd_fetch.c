/* cronc [options] URL...: fetch URLs with one real engine, curl-like.
 *
 * URLs are fetched in order (or all at once with --parallel) on one engine,
 * so later requests reuse connections and what earlier ones learned
 * (Alt-Svc). Bodies go to stdout, -o FILE or -O. -v tells each request's
 * story on stderr from its response info (protocol, which job won, the
 * alternative service used, cache, 0-RTT, timings, headers); --json prints
 * one JSON object per request on stdout. A progress bar appears on stderr
 * for transfers longer than a second when stderr is a terminal. Exit codes
 * (curl's numbers where curl has one) are listed in cronc_tool.h. Callbacks
 * run on the engine's network thread (no executor): they only write files
 * and signal the main thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "cronc_tool.h"
#include "fetch_story.h"

#define MAX_URLS    256
#define MAX_HEADERS 64
#define MAX_PINS    16

typedef struct fetch_opts {
  const char *output; /* -o */
  bool remote_name;   /* -O */
  bool head;          /* -I */
  const char *method;
  const char *data_file; /* --data-binary @FILE */
  const char *data;      /* -d / --data-binary literal */
  const char *cacert;
  const char *host_rules;
  const char *storage;
  const char *cache_dir;
  const char *cache_mode;
  const char *netlog;
  const char *pins[MAX_PINS]; /* sha256/BASE64 for every URL's host */
  size_t n_pins;
  bool http11, http2, http3, http3_only;
  bool alt_svc_user_ports, no_remote_alt_svc;
  const char *experimental; /* --experimental-options JSON (Cronet's) */
  double rate;              /* --rate: most request starts per second, 0 = no limit */
  bool follow;              /* -L */
  bool silent, verbose, json, fail, parallel;
  double max_time; /* seconds, 0 = none */
  cronc_header headers[MAX_HEADERS];
  size_t n_headers;
  const char *urls[MAX_URLS];
  size_t n_urls;
} fetch_opts;

typedef struct fetch_state {
  const fetch_opts *o;
  const char *url;
  size_t index;       /* 1-based, in command-line order */
  fetch_story *story; /* -v: the NetLog recorder, or NULL */
  size_t story_mark;
  fetch_story_cursor cursor;
  pthread_mutex_t *mu;
  pthread_cond_t *cv;
  bool done;
  int error; /* 0, a net error, CRONC_ERR_ABORTED */
  bool stopped_at_redirect;
  bool stopped_at_error; /* --fail saw a status >= 400 */
  bool timed_out;
  int status;
  char protocol[16];
  char final_url[2048];
  char alt_service[128];
  cronc_job_winner winner;
  bool was_cached, cache_validated, zero_rtt, quic_broken;
  int redirects;
  int64_t bytes, received, sent;
  int64_t content_length;
  cronc_metrics metrics;
  FILE *out;
  bool own_out;
  bool write_failed;
  double t0, last_progress;
  bool progress_shown;
  bool stderr_tty; /* asked once: isatty is a syscall, progress runs per read */
  uint8_t buf[65536];
} fetch_state;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void signal_done(fetch_state *s, int error) {
  pthread_mutex_lock(s->mu);
  s->error = error;
  s->done = true;
  pthread_cond_broadcast(s->cv);
  pthread_mutex_unlock(s->mu);
}

static void note_info(fetch_state *s, const cronc_response_info *info) {
  if (!info)
    return;
  s->status = info->http_status;
  snprintf(s->protocol, sizeof s->protocol, "%s", info->negotiated_protocol);
  snprintf(s->final_url, sizeof s->final_url, "%s", info->url);
  snprintf(s->alt_service, sizeof s->alt_service, "%s", info->alternative_service);
  s->winner = info->job_winner;
  s->was_cached = info->was_cached;
  s->cache_validated = info->cache_validated;
  s->zero_rtt = info->zero_rtt;
  s->quic_broken = info->quic_broken;
  s->received = info->received_byte_count;
  s->metrics = *info->metrics;
  s->sent = info->metrics->sent_byte_count;
}

static const char *winner_story(const fetch_state *s) {
  switch (s->winner) {
  case CRONC_JOB_WINNER_ALTERNATIVE:
    return "served by the alternative job";
  case CRONC_JOB_WINNER_MAIN:
    return "served by the main (TCP) job, which won the race";
  default:
    return s->was_cached ? "no network job" : "served by the main job (no race)";
  }
}

/* -v: the race story of the request so far, from the NetLog. */
static void tell_story(fetch_state *s) {
  if (s->o->verbose && s->story)
    fetch_story_tell(s->story, s->story_mark, s->url, &s->cursor, stderr);
}

static void on_redirect(cronc_request *r, void *ud, const cronc_response_info *info,
                        const char *loc) {
  fetch_state *s = ud;
  note_info(s, info);
  tell_story(s);
  if (s->o->verbose)
    fprintf(stderr, "* %s %d redirect to %s (%.1f ms)%s\n", info->negotiated_protocol,
            info->http_status, loc, now_ms() - s->t0, s->o->follow ? "" : "; -L follows it");
  if (s->o->follow) {
    s->redirects++;
    cronc_request_follow_redirect(r);
  } else {
    s->stopped_at_redirect = true;
    cronc_request_cancel(r);
  }
}

static void print_headers(const cronc_response_info *info, FILE *f, const char *prefix) {
  fprintf(f, "%s%s %d %s\r\n", prefix,
          strcmp(info->negotiated_protocol, "h2") == 0   ? "HTTP/2"
          : strcmp(info->negotiated_protocol, "h3") == 0 ? "HTTP/3"
                                                         : "HTTP/1.1",
          info->http_status, info->http_status_text);
  for (size_t i = 0; i < info->n_headers; i++)
    fprintf(f, "%s%s: %s\r\n", prefix, info->headers[i].name, info->headers[i].value);
  fprintf(f, "%s\r\n", prefix);
}

static void on_started(cronc_request *r, void *ud, const cronc_response_info *info) {
  fetch_state *s = ud;
  note_info(s, info);
  s->content_length = -1;
  for (size_t i = 0; i < info->n_headers; i++)
    if (strcasecmp(info->headers[i].name, "content-length") == 0)
      s->content_length = strtoll(info->headers[i].value, NULL, 10);
  if (s->o->verbose) {
    tell_story(s);
    fprintf(stderr, "* %s %d%s%s, headers after %.1f ms; %s%s%s\n",
            *info->negotiated_protocol ? info->negotiated_protocol : "cache", info->http_status,
            *info->http_status_text ? " " : "", info->http_status_text, now_ms() - s->t0,
            winner_story(s), *info->alternative_service ? " over the alternative service " : "",
            info->alternative_service);
    if (info->quic_broken)
      fprintf(stderr, "* QUIC broken: every advertised QUIC service is marked broken\n");
    if (info->was_cached)
      fprintf(stderr, "* from the cache%s\n",
              info->cache_validated ? " (validated by the server: 304)" : "");
    const cronc_metrics *m = info->metrics;
    if (strcmp(info->negotiated_protocol, "h3") == 0 && m->connect_start_us >= 0 &&
        m->ssl_end_us >= m->connect_start_us)
      fprintf(stderr, "* QUIC handshake (TLS 1.3 in QUIC): %.2f ms, %s\n",
              (double)(m->ssl_end_us - m->connect_start_us) / 1000.0,
              info->zero_rtt ? "resumed; the request went out before it finished"
                             : "full handshake before the request");
    else if (strcmp(info->negotiated_protocol, "h3") == 0 && m->connect_start_us >= 0)
      fprintf(stderr, "* QUIC handshake (TLS 1.3 in QUIC): resumed; the request went out "
                      "before it finished\n");
    else if (strcmp(info->negotiated_protocol, "h3") == 0)
      fprintf(stderr, "* QUIC session reused\n");
    if (info->zero_rtt)
      fprintf(stderr, "* sent as 0-RTT early data\n");
    print_headers(info, stderr, "< ");
  }
  if (s->o->fail && info->http_status >= 400) {
    s->stopped_at_error = true;
    cronc_request_cancel(r); /* --fail: no body for an error status, as curl */
    return;
  }
  if (s->o->head) {
    if (s->out)
      print_headers(info, s->out, "");
    cronc_request_cancel(r); /* HEAD has no body; the headers were the point */
    return;
  }
  cronc_request_read(r, s->buf, sizeof s->buf);
}

static void human(char *out, size_t n, double v) {
  const char *u[] = {"B", "kB", "MB", "GB"};
  int i = 0;
  while (v >= 1000 && i < 3) {
    v /= 1000;
    i++;
  }
  snprintf(out, n, "%.1f %s", v, u[i]);
}

/* The progress bar: stderr only, a terminal only, after a second. */
static void progress(fetch_state *s, bool final) {
  if (s->o->silent || s->o->json || !s->stderr_tty)
    return;
  double t = now_ms();
  if (!final && (t - s->t0 < 1000 || t - s->last_progress < 100))
    return;
  if (final && !s->progress_shown)
    return;
  s->last_progress = t;
  s->progress_shown = true;
  double secs = (t - s->t0) / 1000;
  double rate = secs > 0 ? s->bytes / secs : 0;
  char got[32], r[32];
  human(got, sizeof got, (double)s->bytes);
  human(r, sizeof r, rate);
  char eta[32] = "--:--";
  if (s->content_length > 0 && rate > 0) {
    int left = (int)((s->content_length - s->bytes) / rate);
    snprintf(eta, sizeof eta, "%d:%02d", left / 60, left % 60);
  }
  if (s->content_length > 0)
    fprintf(stderr, "\r%3d%% %10s %10s/s ETA %s ", (int)(100 * s->bytes / s->content_length), got,
            r, eta);
  else
    fprintf(stderr, "\r%10s %10s/s ", got, r);
  if (final)
    fputc('\n', stderr);
}

static void on_read(cronc_request *r, void *ud, const cronc_response_info *info, uint8_t *buf,
                    size_t n) {
  fetch_state *s = ud;
  s->bytes += (int64_t)n;
  if (s->out && fwrite(buf, 1, n, s->out) != n) {
    s->write_failed = true;
    cronc_request_cancel(r);
    return;
  }
  progress(s, false);
  cronc_request_read(r, s->buf, sizeof s->buf);
}

/* " name D ms" for a step that happened (its duration). */
static void print_span(const char *name, int64_t a, int64_t b) {
  if (a >= 0 && b >= a)
    fprintf(stderr, " %s %.2f ms,", name, (b - a) / 1000.0);
}

/* " name at T ms" for a moment, from the request start. */
static void print_at(const char *name, int64_t base, int64_t t) {
  if (t >= 0 && base >= 0)
    fprintf(stderr, " %s at %.2f ms,", name, (t - base) / 1000.0);
}

static void print_metrics(const cronc_metrics *m, const char *protocol) {
  int64_t t0 = m->request_start_us;
  bool h3 = strcmp(protocol, "h3") == 0;
  fprintf(stderr, "* timing:");
  if (m->dns_start_us < 0 && m->connect_start_us < 0)
    fprintf(stderr, " no DNS, connect or handshake (%s),",
            m->socket_reused ? "reused connection" : "no new connection");
  print_span("DNS", m->dns_start_us, m->dns_end_us);
  print_span(h3 ? "connect + QUIC handshake" : "connect", m->connect_start_us, m->connect_end_us);
  if (!h3)
    print_span("TLS handshake", m->ssl_start_us, m->ssl_end_us);
  print_at("request sent", t0, m->sending_end_us);
  print_at("first byte", t0, m->response_start_us);
  print_at("done", t0, m->request_end_us);
  fprintf(stderr, "%s\n", m->socket_reused ? " connection reused" : " new connection");
}

static void on_succeeded(cronc_request *r, void *ud, const cronc_response_info *info) {
  fetch_state *s = ud;
  note_info(s, info);
  progress(s, true);
  if (s->o->verbose) {
    print_metrics(info->metrics, info->negotiated_protocol);
    fprintf(stderr, "* done: %lld body bytes, %lld received, total %.1f ms\n", (long long)s->bytes,
            (long long)info->received_byte_count, now_ms() - s->t0);
  }
  signal_done(s, CRONC_OK);
}

static void on_failed(cronc_request *r, void *ud, const cronc_response_info *info, int error) {
  fetch_state *s = ud;
  note_info(s, info);
  progress(s, true);
  if (s->o->verbose) {
    tell_story(s);
    cronc_error_info ei;
    if (cronc_request_get_error(r, &ei) && ei.quic_error)
      fprintf(stderr, "* QUIC error %d\n", ei.quic_error);
    fprintf(stderr, "* failed: %s (%d) after %.1f ms\n", cronc_error_name(error), error,
            now_ms() - s->t0);
  }
  signal_done(s, error);
}

static void on_canceled(cronc_request *r, void *ud, const cronc_response_info *info) {
  fetch_state *s = ud;
  note_info(s, info);
  progress(s, true);
  signal_done(s, CRONC_ERR_ABORTED);
}

static const cronc_request_callbacks CALLBACKS = {on_redirect,  on_started, on_read,
                                                  on_succeeded, on_failed,  on_canceled};

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f)
    return NULL;
  strbuf sb = STRBUF_INIT;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    strbuf_append(&sb, chunk, n);
  if (f != stdin)
    fclose(f);
  if (strbuf_failed(&sb)) {
    strbuf_free(&sb);
    return NULL;
  }
  return (uint8_t *)strbuf_detach(&sb, len);
}

void cmd_fetch_usage(FILE *f) {
  fprintf(f, "usage: cronc [options] URL...\n"
             "  -o FILE            write the body to FILE (- = stdout)\n"
             "  -O                 write the body to a file named like the URL's last segment\n"
             "  -I                 HEAD request; print the response head\n"
             "  -X METHOD          request method\n"
             "  -H 'Name: value'   extra request header (repeatable)\n"
             "  -d DATA            send DATA as the body (POST); -d @FILE reads FILE\n"
             "  --data-binary @FILE  the same, file bytes as they are\n"
             "  -L                 follow redirects (off: a redirect is reported, not followed)\n"
             "  -s                 silent: no progress bar, no error lines\n"
             "  -v                 tell each request's story on stderr\n"
             "  --json             one JSON object per request on stdout\n"
             "  --fail             exit 22 on an HTTP status >= 400\n"
             "  --max-time SECS    give up on a request after SECS seconds (exit 28)\n"
             "  --parallel         start every URL at once instead of in order\n"
             "  --http1.1 | --http2 | --http3 | --http3-only\n"
             "                     HTTP/1.1 only; HTTP/2 (default); try HTTP/3 first (QUIC hint\n"
             "                     for each URL's origin); HTTP/3 only, no TCP fallback\n"
             "  --alt-svc-user-ports  use an alternative on a port >= 1024 for an origin on a\n"
             "                     port < 1024 (Chromium's user-controlled alternate ports)\n"
             "  --no-remote-alt-svc  use no alternative service on another host\n"
             "  --cacert FILE      extra trusted CA certificates (PEM)\n"
             "  --pin sha256/BASE64  public-key pin for every URL's host (repeatable)\n"
             "  --host-rules RULES Chromium host resolver rules, e.g. 'MAP * 127.0.0.1'\n"
             "  --storage DIR      server properties and QUIC state persist in DIR\n"
             "  --cache-dir DIR    HTTP cache on disk in DIR (implies --cache-mode disk)\n"
             "  --cache-mode MODE  disabled | memory | disk | disk-no-http\n"
             "  --netlog FILE      write a NetLog (Chrome's netlog viewer format)\n"
             "  --rate N/s|N/m|N/h start at most N requests per second/minute/hour\n"
             "  --experimental-options JSON  Cronet's experimental options, e.g.\n"
             "                     '{\"QUIC\":{\"max_time_before_crypto_handshake_seconds\":2}}'\n"
             "exit codes: 0 ok, 1 other failure, 2 usage, 3 local file, 6 DNS, 7 connect,\n"
             "  8 protocol, 22 HTTP error with --fail, 28 timeout, 35 TLS, 47 too many\n"
             "  redirects, 60 certificate or pin\n");
}

/* curl's --rate "N/U": N request starts per unit (s, m, h, d; a bare N is
 * per hour, as curl). Returns starts per second, or -1. */
static double parse_rate(const char *v) {
  char *end;
  double n = strtod(v, &end);
  if (end == v || n <= 0)
    return -1;
  double unit = 3600;
  if (*end == '/') {
    switch (end[1]) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return -1;
    }
    if (end[2])
      return -1;
  } else if (*end) {
    return -1;
  }
  return n / unit;
}

static int parse(int argc, char **argv, fetch_opts *o) {
  memset(o, 0, sizeof *o);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name, field)                                                                           \
  if (strcmp(a, name) == 0) {                                                                      \
    if (!v) {                                                                                      \
      fprintf(stderr, "cronc: %s needs a value\n", a);                                             \
      return -1;                                                                                   \
    }                                                                                              \
    o->field = v;                                                                                  \
    i++;                                                                                           \
    continue;                                                                                      \
  }
#define FLAG(name, field)                                                                          \
  if (strcmp(a, name) == 0) {                                                                      \
    o->field = true;                                                                               \
    continue;                                                                                      \
  }
    OPT("-o", output)
    OPT("-X", method)
    OPT("--cacert", cacert)
    OPT("--host-rules", host_rules)
    OPT("--storage", storage)
    OPT("--cache-dir", cache_dir)
    OPT("--cache-mode", cache_mode)
    OPT("--netlog", netlog)
    OPT("--experimental-options", experimental)
    FLAG("-O", remote_name)
    FLAG("-I", head)
    FLAG("-L", follow)
    FLAG("-s", silent)
    FLAG("-v", verbose)
    FLAG("--json", json)
    FLAG("--fail", fail)
    FLAG("--parallel", parallel)
    FLAG("--http1.1", http11)
    FLAG("--http2", http2)
    FLAG("--http3", http3)
    FLAG("--http3-only", http3_only)
    FLAG("--alt-svc-user-ports", alt_svc_user_ports)
    FLAG("--no-remote-alt-svc", no_remote_alt_svc)
#undef OPT
#undef FLAG
    if ((strcmp(a, "--data-binary") == 0 || strcmp(a, "-d") == 0 || strcmp(a, "--data") == 0) &&
        v) {
      if (v[0] == '@')
        o->data_file = v + 1;
      else
        o->data = v;
      i++;
    } else if (strcmp(a, "--rate") == 0 && v) {
      if ((o->rate = parse_rate(v)) <= 0) {
        fprintf(stderr, "cronc: --rate wants N/s, N/m, N/h or N/d (curl's form): %s\n", v);
        return -1;
      }
      i++;
    } else if (strcmp(a, "--max-time") == 0 && v) {
      o->max_time = atof(v);
      i++;
    } else if (strcmp(a, "--pin") == 0 && v) {
      if (o->n_pins == MAX_PINS)
        return -1;
      o->pins[o->n_pins++] = v;
      i++;
    } else if (strcmp(a, "-H") == 0 && v) {
      const char *colon = strchr(v, ':');
      if (!colon || o->n_headers == MAX_HEADERS) {
        fprintf(stderr, "cronc: bad header %s\n", v);
        return -1;
      }
      char *name = strndup(v, (size_t)(colon - v));
      const char *val = colon + 1;
      while (*val == ' ')
        val++;
      o->headers[o->n_headers++] = (cronc_header){name, val};
      i++;
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "cronc: unknown option %s\n", a);
      return -1;
    } else if (o->n_urls < MAX_URLS) {
      o->urls[o->n_urls++] = a;
    }
  }
  if (!o->n_urls) {
    fprintf(stderr, "cronc: no URL\n");
    return -1;
  }
  return 0;
}

/* The exit status for a request's outcome (documented in cronc_tool.h and
 * docs/cronc.1). */
static int exit_code_for(const fetch_state *s) {
  if (s->write_failed)
    return CRONC_EXIT_LOCAL_FILE;
  if (s->timed_out)
    return CRONC_EXIT_TIMEOUT;
  if (s->error == CRONC_OK || (s->error == CRONC_ERR_ABORTED &&
                               (s->stopped_at_redirect || s->stopped_at_error || s->o->head))) {
    if (s->o->fail && s->status >= 400)
      return CRONC_EXIT_HTTP_ERROR;
    return CRONC_EXIT_OK;
  }
  const char *n = cronc_error_name(s->error);
  if (strstr(n, "TIMED_OUT"))
    return CRONC_EXIT_TIMEOUT;
  if (strncmp(n, "ERR_NAME_", 9) == 0 || strncmp(n, "ERR_DNS_", 8) == 0)
    return CRONC_EXIT_DNS;
  if (strncmp(n, "ERR_CERT_", 9) == 0 || s->error == CRONC_ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN)
    return CRONC_EXIT_CERT;
  if (strncmp(n, "ERR_SSL_", 8) == 0)
    return CRONC_EXIT_TLS;
  if (s->error == CRONC_ERR_TOO_MANY_REDIRECTS)
    return CRONC_EXIT_REDIRECTS;
  if (s->error == CRONC_ERR_CONNECTION_REFUSED || s->error == CRONC_ERR_CONNECTION_FAILED ||
      s->error == CRONC_ERR_ADDRESS_UNREACHABLE || s->error == CRONC_ERR_INTERNET_DISCONNECTED ||
      s->error == CRONC_ERR_ADDRESS_INVALID)
    return CRONC_EXIT_CONNECT;
  if (strncmp(n, "ERR_HTTP2_", 10) == 0 || strncmp(n, "ERR_QUIC_", 9) == 0 ||
      strncmp(n, "ERR_SPDY_", 9) == 0 || s->error == CRONC_ERR_INVALID_HTTP_RESPONSE ||
      s->error == CRONC_ERR_EMPTY_RESPONSE || s->error == CRONC_ERR_CONTENT_DECODING_FAILED ||
      s->error == CRONC_ERR_INVALID_CHUNKED_ENCODING || s->error == CRONC_ERR_CONNECTION_CLOSED ||
      s->error == CRONC_ERR_CONNECTION_RESET)
    return CRONC_EXIT_PROTOCOL;
  return CRONC_EXIT_FAILURE;
}

static void json_step(strbuf *sb, const char *name, int64_t base, int64_t a, int64_t b) {
  if (a < 0 || b < 0 || base < 0)
    strbuf_appendf(sb, ",\"%s\":null", name);
  else
    strbuf_appendf(sb, ",\"%s\":[%.3f,%.3f]", name, (a - base) / 1000.0, (b - base) / 1000.0);
}

static void print_json(const fetch_state *s) {
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"url\":");
  strbuf_json_cstr(&sb, s->url);
  strbuf_append_str(&sb, ",\"final_url\":");
  strbuf_json_cstr(&sb, s->final_url[0] ? s->final_url : s->url);
  strbuf_appendf(&sb, ",\"status\":%d,\"protocol\":", s->status);
  strbuf_json_cstr(&sb, s->protocol);
  /* null, not "", when no alternative service served the request. */
  strbuf_append_str(&sb, ",\"alternative_service\":");
  if (s->alt_service[0])
    strbuf_json_cstr(&sb, s->alt_service);
  else
    strbuf_append_str(&sb, "null");
  /* "winner" is null when there was no race; "job_winner" (kept for older
   * scripts) says "none" then. */
  const char *w = s->winner == CRONC_JOB_WINNER_ALTERNATIVE ? "alternative"
                  : s->winner == CRONC_JOB_WINNER_MAIN      ? "main"
                                                            : NULL;
  if (w)
    strbuf_appendf(&sb, ",\"winner\":\"%s\",\"job_winner\":\"%s\"", w, w);
  else
    strbuf_append_str(&sb, ",\"winner\":null,\"job_winner\":\"none\"");
  strbuf_appendf(&sb,
                 ",\"quic_broken\":%s,\"was_cached\":%s,\"cache_validated\":%s,\"zero_rtt\":%s"
                 ",\"redirects\":%d,\"bytes\":%lld,\"received_bytes\":%lld,\"sent_bytes\":%lld"
                 ",\"socket_reused\":%s",
                 s->quic_broken ? "true" : "false", s->was_cached ? "true" : "false",
                 s->cache_validated ? "true" : "false", s->zero_rtt ? "true" : "false",
                 s->redirects, (long long)s->bytes, (long long)s->received, (long long)s->sent,
                 s->metrics.socket_reused ? "true" : "false");
  const cronc_metrics *m = &s->metrics;
  strbuf_append_str(&sb, ",\"timings_ms\":{");
  strbuf_appendf(&sb, "\"total\":%.3f",
                 m->request_start_us > 0 && m->request_end_us > 0
                     ? (m->request_end_us - m->request_start_us) / 1000.0
                     : 0.0);
  json_step(&sb, "dns", m->request_start_us, m->dns_start_us, m->dns_end_us);
  json_step(&sb, "connect", m->request_start_us, m->connect_start_us, m->connect_end_us);
  json_step(&sb, "tls", m->request_start_us, m->ssl_start_us, m->ssl_end_us);
  json_step(&sb, "send", m->request_start_us, m->sending_start_us, m->sending_end_us);
  json_step(&sb, "response", m->request_start_us, m->response_start_us, m->request_end_us);
  strbuf_append_char(&sb, '}');
  if (s->error && !(s->error == CRONC_ERR_ABORTED &&
                    (s->stopped_at_redirect || s->stopped_at_error || s->o->head))) {
    strbuf_append_str(&sb, ",\"error\":");
    strbuf_json_cstr(&sb, s->timed_out ? "ERR_TIMED_OUT" : cronc_error_name(s->error));
  }
  strbuf_appendf(&sb, ",\"exit_code\":%d}", exit_code_for(s));
  printf("%s\n", strbuf_failed(&sb) ? "{\"error\":\"out of memory\"}" : strbuf_cstr(&sb));
  fflush(stdout);
  strbuf_free(&sb);
}

static int b64v(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* "sha256/BASE64" (32 bytes) into out. */
static bool parse_pin(const char *s, uint8_t out[32]) {
  if (strncmp(s, "sha256/", 7) != 0 || strlen(s + 7) != 44)
    return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (const char *p = s + 7; *p && *p != '='; p++) {
    int v = b64v(*p);
    if (v < 0)
      return false;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o < 32)
        out[o++] = (uint8_t)(acc >> bits);
    }
  }
  return o == 32;
}

/* The host (lower case, no port, no brackets kept) of an absolute URL. */
static bool url_host_port(const char *url, char *host, size_t n, int *port) {
  const char *p = strstr(url, "://");
  if (!p)
    return false;
  bool https = strncmp(url, "https", 5) == 0;
  p += 3;
  size_t len = strcspn(p, "/?#");
  const char *at = memchr(p, '@', len);
  if (at) {
    len -= (size_t)(at + 1 - p);
    p = at + 1;
  }
  const char *colon = NULL;
  if (*p == '[') {
    const char *rb = memchr(p, ']', len);
    if (rb && rb + 1 < p + len && rb[1] == ':')
      colon = rb + 1;
  } else {
    colon = memchr(p, ':', len);
  }
  size_t hl = colon ? (size_t)(colon - p) : len;
  if (!hl || hl >= n)
    return false;
  for (size_t i = 0; i < hl; i++)
    host[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
  host[hl] = '\0';
  *port = colon ? atoi(colon + 1) : https ? 443 : 80;
  return true;
}

static FILE *open_output(const fetch_opts *o, const char *url, bool *own) {
  *own = false;
  if (o->head && !o->output && !o->remote_name)
    return stdout;
  if (o->remote_name) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t len = strcspn(p, "?#");
    const char *slash = NULL;
    for (const char *q = p; q < p + len; q++)
      if (*q == '/')
        slash = q;
    char name[256] = "index.html";
    if (slash && slash + 1 < p + len) {
      size_t l = (size_t)(p + len - slash - 1);
      if (l >= sizeof name)
        l = sizeof name - 1;
      memcpy(name, slash + 1, l);
      name[l] = '\0';
    }
    FILE *f = fopen(name, "wb");
    *own = f != NULL;
    return f;
  }
  return stdout;
}

int cmd_fetch(int argc, char **argv) {
  fetch_opts o;
  if (parse(argc, argv, &o) != 0) {
    cmd_fetch_usage(stderr);
    return CRONC_EXIT_USAGE;
  }
  int http_opts = o.http11 + o.http2 + o.http3 + o.http3_only;
  if (http_opts > 1) {
    fprintf(stderr, "cronc: choose one of --http1.1, --http2, --http3, --http3-only\n");
    return CRONC_EXIT_USAGE;
  }
  cronc_http_cache_mode cache_mode = CRONC_HTTP_CACHE_DISABLED;
  const char *storage = o.storage;
  if (o.cache_mode) {
    if (strcmp(o.cache_mode, "disabled") == 0)
      cache_mode = CRONC_HTTP_CACHE_DISABLED;
    else if (strcmp(o.cache_mode, "memory") == 0)
      cache_mode = CRONC_HTTP_CACHE_IN_MEMORY;
    else if (strcmp(o.cache_mode, "disk") == 0)
      cache_mode = CRONC_HTTP_CACHE_DISK;
    else if (strcmp(o.cache_mode, "disk-no-http") == 0)
      cache_mode = CRONC_HTTP_CACHE_DISK_NO_HTTP;
    else {
      fprintf(stderr, "cronc: --cache-mode is disabled, memory, disk or disk-no-http\n");
      return CRONC_EXIT_USAGE;
    }
  }
  if (o.cache_dir) {
    /* The engine keeps its cache in <storage>/cache: one directory holds
     * both, so --cache-dir is the storage directory when --storage is not
     * given. */
    if (o.storage && strcmp(o.storage, o.cache_dir) != 0) {
      fprintf(stderr, "cronc: --cache-dir and --storage must name the same directory\n");
      return CRONC_EXIT_USAGE;
    }
    storage = o.cache_dir;
    if (!o.cache_mode)
      cache_mode = CRONC_HTTP_CACHE_DISK;
  }
  if ((cache_mode == CRONC_HTTP_CACHE_DISK || cache_mode == CRONC_HTTP_CACHE_DISK_NO_HTTP) &&
      !storage) {
    fprintf(stderr, "cronc: a disk cache needs --cache-dir or --storage\n");
    return CRONC_EXIT_USAGE;
  }
  uint8_t *body = NULL;
  size_t body_len = 0;
  if (o.data_file && !(body = read_file(o.data_file, &body_len))) {
    fprintf(stderr, "cronc: cannot read %s\n", o.data_file);
    return CRONC_EXIT_LOCAL_FILE;
  }
  if (o.data) {
    body_len = strlen(o.data);
    body = (uint8_t *)strdup(o.data);
  }

  /* Pins and QUIC hints apply to every URL's origin. */
  static uint8_t pin_hashes[MAX_PINS][32];
  for (size_t i = 0; i < o.n_pins; i++) {
    if (!parse_pin(o.pins[i], pin_hashes[i])) {
      fprintf(stderr, "cronc: --pin wants sha256/BASE64 of 32 bytes: %s\n", o.pins[i]);
      free(body);
      return CRONC_EXIT_USAGE;
    }
  }
  static char hosts[MAX_URLS][256];
  static cronc_public_key_pins pins[MAX_URLS];
  static cronc_quic_hint hints[MAX_URLS];
  size_t n_pinned = 0, n_hints = 0;
  for (size_t i = 0; i < o.n_urls; i++) {
    int port = 0;
    if (!url_host_port(o.urls[i], hosts[i], sizeof hosts[i], &port))
      continue;
    if (o.n_pins)
      pins[n_pinned++] =
          (cronc_public_key_pins){hosts[i], (const uint8_t(*)[32])pin_hashes, o.n_pins, false, 0};
    if (o.http3 && strncmp(o.urls[i], "https:", 6) == 0)
      hints[n_hints++] = (cronc_quic_hint){hosts[i], port, port};
  }

  cronc_engine_params ep;
  cronc_engine_params_init(&ep);
  ep.storage_path = storage;
  ep.extra_ca_file = o.cacert;
  ep.host_resolver_rules = o.host_rules;
  ep.netlog_path = o.netlog;
  ep.experimental_options = o.experimental;
  ep.http_cache_mode = cache_mode;
  ep.http3_only = o.http3_only;
  ep.enable_user_alternate_protocol_ports = o.alt_svc_user_ports;
  ep.allow_remote_alt_svc = !o.no_remote_alt_svc;
  ep.allow_remote_h2_alt_svc = !o.no_remote_alt_svc;
  ep.enable_quic = !o.http11;
  ep.enable_http2 = !o.http11;
  ep.public_key_pins = pins;
  ep.n_public_key_pins = n_pinned;
  ep.quic_hints = hints;
  ep.n_quic_hints = n_hints;
  cronc_engine *eng = NULL;
  int rv = cronc_engine_new(&ep, &eng);
  if (rv != CRONC_OK) {
    fprintf(stderr, "cronc: engine: %s\n", cronc_error_name(rv));
    free(body);
    return rv == CRONC_ERR_INVALID_ARGUMENT ? CRONC_EXIT_USAGE : CRONC_EXIT_FAILURE;
  }
  FILE *shared_out = stdout;
  if (o.output && strcmp(o.output, "-") != 0 && !(shared_out = fopen(o.output, "wb"))) {
    fprintf(stderr, "cronc: cannot write %s\n", o.output);
    cronc_engine_free(eng);
    free(body);
    return CRONC_EXIT_LOCAL_FILE;
  }
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
  fetch_state *states = calloc(o.n_urls, sizeof *states);
  cronc_request **reqs = calloc(o.n_urls, sizeof *reqs);
  if (!states || !reqs) {
    fprintf(stderr, "cronc: out of memory\n");
    free(states);
    free(reqs);
    cronc_engine_free(eng);
    free(body);
    return CRONC_EXIT_FAILURE;
  }
  /* -v tells each race from the engine's NetLog events. */
  fetch_story *story = o.verbose ? fetch_story_attach(eng) : NULL;
  int status = CRONC_EXIT_OK;
  size_t next = 0, waited = 0;
  double last_start = -1;
  while (waited < o.n_urls) {
    /* Start the next request (all of them with --parallel). */
    while (next < o.n_urls && (o.parallel || next == waited)) {
      fetch_state *s = &states[next];
      if (o.rate > 0 && last_start >= 0) {
        double gap = 1000.0 / o.rate - (now_ms() - last_start);
        if (gap > 0)
          usleep((useconds_t)(gap * 1000));
      }
      last_start = now_ms();
      s->o = &o;
      s->url = o.urls[next];
      s->index = next + 1;
      s->story = story;
      s->story_mark = fetch_story_mark(story);
      if (o.verbose)
        fprintf(stderr, "* [%zu/%zu] %s %s\n", s->index, o.n_urls,
                o.head     ? "HEAD"
                : o.method ? o.method
                           : (body ? "POST" : "GET"),
                s->url);
      s->mu = &mu;
      s->cv = &cv;
      s->t0 = now_ms();
      s->stderr_tty = isatty(2);
      s->out = o.output ? shared_out : open_output(&o, s->url, &s->own_out);
      if (!s->out) {
        s->write_failed = true;
        s->done = true;
        next++;
        continue;
      }
      cronc_request_params rp;
      cronc_request_params_init(&rp);
      rp.method = o.head ? "HEAD" : o.method;
      rp.headers = o.headers;
      rp.n_headers = o.n_headers;
      rp.body = body;
      rp.body_len = body_len;
      rp.allow_http2 = !o.http11;
      rv = cronc_request_new(eng, s->url, &rp, &CALLBACKS, s, &reqs[next]);
      if (rv == CRONC_OK)
        rv = cronc_request_start(reqs[next]);
      if (rv != CRONC_OK) {
        s->error = rv;
        s->done = true;
      }
      next++;
    }
    /* Wait for the oldest unfinished one (output stays in URL order). */
    fetch_state *s = &states[waited];
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    if (o.max_time > 0) {
      double end = until.tv_sec + until.tv_nsec / 1e9 + o.max_time - (now_ms() - s->t0) / 1000;
      until.tv_sec = (time_t)end;
      until.tv_nsec = (long)((end - (double)until.tv_sec) * 1e9);
    }
    pthread_mutex_lock(&mu);
    int wrc = 0;
    while (!s->done && wrc == 0)
      wrc = o.max_time > 0 ? pthread_cond_timedwait(&cv, &mu, &until) : pthread_cond_wait(&cv, &mu);
    bool timed_out = !s->done;
    pthread_mutex_unlock(&mu);
    if (timed_out) {
      s->timed_out = true;
      cronc_request_cancel(reqs[waited]);
      pthread_mutex_lock(&mu);
      while (!s->done)
        pthread_cond_wait(&cv, &mu);
      pthread_mutex_unlock(&mu);
    }
    int code = exit_code_for(s);
    if (o.json)
      print_json(s);
    else if (code != CRONC_EXIT_OK && !o.silent)
      fprintf(stderr, "cronc: %s: %s\n", s->url,
              s->timed_out                    ? "timed out (--max-time)"
              : s->write_failed               ? "cannot write the body"
              : code == CRONC_EXIT_HTTP_ERROR ? "HTTP error status"
                                              : cronc_error_name(s->error));
    else if (s->stopped_at_redirect && !o.silent && !o.verbose)
      fprintf(stderr, "cronc: %s: %d redirect not followed (use -L)\n", s->url, s->status);
    if (code != CRONC_EXIT_OK)
      status = code; /* the last failure decides, as curl does */
    waited++;
  }
  for (size_t i = 0; i < o.n_urls; i++) {
    cronc_request_free(reqs[i]);
    if (states[i].own_out)
      fclose(states[i].out);
  }
  if (shared_out != stdout)
    fclose(shared_out);
  else
    fflush(stdout);
  fetch_story_detach(story);
  cronc_engine_free(eng);
  free(states);
  free(reqs);
  for (size_t i = 0; i < o.n_headers; i++)
    free((char *)o.headers[i].name);
  free(body);
  return status;
}
