/* Real fetches through the public API: Caddy on a free loopback port (its
 * own local CA, h1 only or h1+h2) and a scripted raw TCP server for faults.
 * Bodies are checked by SHA-256; connection reuse by the stream factory's
 * connect count; errors by their exact net error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>

#include "cronc/cronc.h"
#include "engine/api_internal.h"
#include "socket/tls_context.h"
#include "support/caddy_server.h"
#include "support/fetch_util.h"
#include "support/net_test_util.h"
#include "support/raw_tcp_server.h"

/* ---- A blocking fetch over the asynchronous API (support/fetch_util) -------------- */

typedef fetch_result result;

static const cronc_header *g_headers; /* extra request headers for start() */
static size_t g_n_headers;

static cronc_request *start(cronc_engine *e, const char *target, bool allow_h2, result *r) {
  cronc_request_params p;
  cronc_request_params_init(&p);
  p.allow_http2 = allow_h2;
  p.headers = g_headers;
  p.n_headers = g_n_headers;
  return fetch_start(e, target, &p, r);
}

/* Fetches url; returns the result (caller frees) with the digest in sha. */
static result *fetch(cronc_engine *e, const char *target, bool allow_h2, uint8_t sha[32]) {
  result *r = fetch_result_new();
  cronc_request *q = start(e, target, allow_h2, r);
  fetch_wait(r, 0);
  cronc_request_free(q);
  if (sha)
    memcpy(sha, r->sha256, 32);
  return r;
}

static size_t connects(cronc_engine *e) {
  return stream_factory_connects_started(engine_stream_factory_impl(cronc_engine_internal(e)));
}

/* ---- Fixture: Caddy with files ------------------------------------------------------ */

#define BIG (100u * 1024 * 1024)

typedef struct fx {
  caddy_server *h2; /* h1 + h2 */
  caddy_server *h1; /* h1 only */
  uint8_t big_sha[32];
  uint8_t small_sha[32];
} fx;

static caddy_server *start_caddy(unsigned protocols) {
  caddy_options o;
  caddy_options_init(&o);
  o.protocols = protocols;
  o.extra_site_config = "redir /r1 /r2 302\nredir /r2 /small.txt 301";
  caddy_server *c = NULL;
  assert_int_equal(caddy_server_start(&o, &c), 0);
  return c;
}

static int setup(void **state) {
  fx *x = calloc(1, sizeof *x);
  uint8_t *big = malloc(BIG);
  for (size_t i = 0; i < BIG; i++)
    big[i] = (uint8_t)(i * 2654435761u >> 13);
  gnutls_hash_fast(GNUTLS_DIG_SHA256, big, BIG, x->big_sha);
  gnutls_hash_fast(GNUTLS_DIG_SHA256, "hello\n", 6, x->small_sha);
  x->h2 = start_caddy(CADDY_PROTO_H1 | CADDY_PROTO_H2);
  x->h1 = start_caddy(CADDY_PROTO_H1);
  caddy_server *both[2] = {x->h2, x->h1};
  for (int i = 0; i < 2; i++) {
    caddy_server_put_file(both[i], "big.bin", big, BIG);
    caddy_server_put_file(both[i], "small.txt", "hello\n", 6);
  }
  free(big);
  *state = x;
  return 0;
}

static int teardown(void **state) {
  fx *x = *state;
  caddy_server_stop(x->h2);
  caddy_server_stop(x->h1);
  free(x);
  return 0;
}

static cronc_engine *engine_for(caddy_server *c, const char *rules) {
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = c ? caddy_server_root_ca(c) : NULL;
  p.host_resolver_rules = rules;
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  return e;
}

static void url_of(char *buf, size_t n, caddy_server *c, const char *path) {
  snprintf(buf, n, "https://localhost:%u%s", caddy_server_port(c), path);
}

/* ---- Tests ----------------------------------------------------------------------------- */

static void h2_small_and_100mb_bodies_arrive_intact(void **state) {
  fx *x = *state;
  cronc_engine *e = engine_for(x->h2, NULL);
  char u[256];
  uint8_t sha[32];
  url_of(u, sizeof u, x->h2, "/small.txt");
  result *r = fetch(e, u, true, sha);
  assert_int_equal(r->error, CRONC_OK);
  assert_int_equal(r->status, 200);
  assert_string_equal(r->protocol, "h2");
  assert_memory_equal(sha, x->small_sha, 32);
  /* A new connection: every step timed, in order (Cronet's metrics). */
  const cronc_metrics *m = &r->metrics;
  assert_false(m->socket_reused);
  assert_true(m->request_start_us > 0);
  assert_true(m->dns_start_us >= m->request_start_us && m->dns_end_us >= m->dns_start_us);
  assert_true(m->connect_start_us >= m->dns_end_us && m->connect_end_us >= m->connect_start_us);
  assert_true(m->ssl_start_us >= m->connect_end_us && m->ssl_end_us >= m->ssl_start_us);
  assert_true(m->sending_start_us >= m->ssl_end_us);
  assert_true(m->response_start_us >= m->sending_start_us);
  assert_true(m->request_end_us >= m->response_start_us);
  fetch_result_free(r);
  url_of(u, sizeof u, x->h2, "/big.bin");
  r = fetch(e, u, true, sha);
  assert_int_equal(r->error, CRONC_OK);
  assert_int_equal(r->bytes, BIG);
  assert_memory_equal(sha, x->big_sha, 32);
  assert_true(r->metrics.socket_reused); /* no connect steps on a reused connection */
  assert_true(r->metrics.dns_start_us == -1 && r->metrics.connect_start_us == -1);
  fetch_result_free(r);
  assert_int_equal(connects(e), 1); /* the second request reused the h2 connection */
  cronc_engine_free(e);
}

static void h1_100mb_body_and_keep_alive_reuse(void **state) {
  fx *x = *state;
  cronc_engine *e = engine_for(x->h1, NULL);
  char u[256];
  uint8_t sha[32];
  url_of(u, sizeof u, x->h1, "/big.bin");
  result *r = fetch(e, u, true, sha);
  assert_int_equal(r->error, CRONC_OK);
  assert_string_equal(r->protocol, "http/1.1");
  assert_memory_equal(sha, x->big_sha, 32);
  fetch_result_free(r);
  url_of(u, sizeof u, x->h1, "/small.txt");
  for (int i = 0; i < 3; i++) {
    r = fetch(e, u, true, sha);
    assert_int_equal(r->error, CRONC_OK);
    assert_memory_equal(sha, x->small_sha, 32);
    fetch_result_free(r);
  }
  assert_int_equal(connects(e), 1); /* four sequential requests, one connection */
  cronc_engine_free(e);
}

static void hundred_concurrent_requests_share_one_h2_connection(void **state) {
  fx *x = *state;
  cronc_engine *e = engine_for(x->h2, NULL);
  char u[256];
  url_of(u, sizeof u, x->h2, "/small.txt");
  /* Warm the connection so the 100 requests find it open. */
  fetch_result_free(fetch(e, u, true, NULL));
  result *rs[100];
  cronc_request *qs[100];
  for (int i = 0; i < 100; i++) {
    rs[i] = fetch_result_new();
    qs[i] = start(e, u, true, rs[i]);
  }
  for (int i = 0; i < 100; i++) {
    fetch_wait(rs[i], 0);
    assert_int_equal(rs[i]->error, CRONC_OK);
    assert_int_equal(rs[i]->bytes, 6);
    assert_string_equal(rs[i]->protocol, "h2");
    cronc_request_free(qs[i]);
    fetch_result_free(rs[i]);
  }
  assert_int_equal(connects(e), 1);
  cronc_engine_free(e);
}

/* Cold start: concurrent requests before any connection exists wait for the
 * first connect instead of each opening one (Chromium's blocking
 * SpdySessionRequest), and all share the one HTTP/2 connection. */
static void cold_concurrent_requests_open_one_h2_connection(void **state) {
  fx *x = *state;
  cronc_engine *e = engine_for(x->h2, NULL);
  char u[256];
  url_of(u, sizeof u, x->h2, "/small.txt");
  result *rs[20];
  cronc_request *qs[20];
  for (int i = 0; i < 20; i++) {
    rs[i] = fetch_result_new();
    qs[i] = start(e, u, true, rs[i]);
  }
  for (int i = 0; i < 20; i++) {
    fetch_wait(rs[i], 0);
    assert_int_equal(rs[i]->error, CRONC_OK);
    assert_string_equal(rs[i]->protocol, "h2");
    cronc_request_free(qs[i]);
    fetch_result_free(rs[i]);
  }
  assert_int_equal(connects(e), 1);
  cronc_engine_free(e);
}

static void redirects_are_followed(void **state) {
  fx *x = *state;
  cronc_engine *e = engine_for(x->h2, NULL);
  char u[256];
  uint8_t sha[32];
  url_of(u, sizeof u, x->h2, "/r1");
  result *r = fetch(e, u, true, sha);
  assert_int_equal(r->error, CRONC_OK);
  assert_int_equal(r->redirects, 2);
  assert_int_equal(r->status, 200);
  assert_memory_equal(sha, x->small_sha, 32);
  fetch_result_free(r);
  cronc_engine_free(e);
}

static void tls_and_connect_errors_have_chromium_codes(void **state) {
  fx *x = *state;
  char u[256];
  /* Untrusted CA: no extra CA given. */
  cronc_engine *e = engine_for(NULL, NULL);
  url_of(u, sizeof u, x->h2, "/small.txt");
  result *r = fetch(e, u, true, NULL);
  assert_int_equal(r->error, CRONC_ERR_CERT_AUTHORITY_INVALID);
  assert_int_equal(r->status, 0);
  fetch_result_free(r);
  cronc_engine_free(e);

  /* A name the certificate does not cover: the IP literal (no SNI, so Caddy
   * answers with its "localhost" certificate; an unknown SNI it refuses). */
  e = engine_for(x->h2, NULL);
  snprintf(u, sizeof u, "https://127.0.0.1:%u/small.txt", caddy_server_port(x->h2));
  r = fetch(e, u, true, NULL);
  assert_int_equal(r->error, CRONC_ERR_CERT_COMMON_NAME_INVALID);
  fetch_result_free(r);
  cronc_engine_free(e);

  /* Refused port, and a name the rules make unresolvable. */
  e = engine_for(x->h2, "MAP nowhere.example ^NOTFOUND");
  snprintf(u, sizeof u, "https://127.0.0.1:%u/", test_free_port("127.0.0.1", false));
  r = fetch(e, u, true, NULL);
  assert_int_equal(r->error, CRONC_ERR_CONNECTION_REFUSED);
  fetch_result_free(r);
  r = fetch(e, "https://nowhere.example/", true, NULL);
  assert_int_equal(r->error, CRONC_ERR_NAME_NOT_RESOLVED);
  fetch_result_free(r);
  cronc_engine_free(e);
}

/* A plain-http origin of our own that misbehaves as scripted. */
static int fetch_raw(const char *response, size_t len) {
  raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0},
      {RAW_READ_UNTIL, "\r\n\r\n", 4, 0},
      {RAW_WRITE, response, len, 0},
      {RAW_CLOSE, NULL, 0, 0},
  };
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, script, 4);
  assert_non_null(s);
  cronc_engine *e = engine_for(NULL, NULL);
  char u[128];
  snprintf(u, sizeof u, "http://127.0.0.1:%u/", raw_tcp_server_port(s));
  result *r = fetch(e, u, true, NULL);
  int err = r->error;
  fetch_result_free(r);
  cronc_engine_free(e);
  raw_tcp_server_wait(s, 5000);
  raw_tcp_server_free(s);
  return err;
}

static void broken_responses_have_chromium_codes(void **state) {
  (void)state;
  const char *cut = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part";
  assert_int_equal(fetch_raw(cut, strlen(cut)), CRONC_ERR_CONTENT_LENGTH_MISMATCH);
  const char *chunk = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc";
  assert_int_equal(fetch_raw(chunk, strlen(chunk)), CRONC_ERR_INCOMPLETE_CHUNKED_ENCODING);
  const char *bad = "HTTP/1.1 2x0 OK\r\n\r\n";
  assert_int_equal(fetch_raw(bad, strlen(bad)), CRONC_ERR_INVALID_HTTP_RESPONSE);
  size_t big_len = 300 * 1024;
  char *big = malloc(big_len);
  memset(big, 'a', big_len);
  memcpy(big, "HTTP/1.1 200 OK\r\nX-Big: ", 24);
  assert_int_equal(fetch_raw(big, big_len), CRONC_ERR_RESPONSE_HEADERS_TOO_BIG);
  free(big);
}

static void compressed_bodies_are_decoded(void **state) {
  (void)state;
  caddy_options o;
  caddy_options_init(&o);
  o.extra_site_config = "encode zstd gzip";
  caddy_server *c = NULL;
  assert_int_equal(caddy_server_start(&o, &c), 0);
  size_t n = 2000000;
  char *text = malloc(n);
  for (size_t i = 0; i < n; i++)
    text[i] = "cronc alt-svc quic "[i % 19];
  caddy_server_put_file(c, "text.txt", text, n);
  uint8_t want[32], sha[32];
  gnutls_hash_fast(GNUTLS_DIG_SHA256, text, n, want);
  free(text);
  cronc_engine *e = engine_for(c, NULL);
  char u[256];
  url_of(u, sizeof u, c, "/text.txt");
  const char *codings[] = {"gzip", "zstd"};
  for (int i = 0; i < 2; i++) {
    cronc_header h = {"Accept-Encoding", codings[i]};
    g_headers = &h;
    g_n_headers = 1;
    result *r = fetch(e, u, true, sha);
    g_headers = NULL;
    g_n_headers = 0;
    assert_int_equal(r->error, CRONC_OK);
    assert_string_equal(r->encoding, codings[i]); /* really compressed on the wire */
    assert_int_equal(r->bytes, (int64_t)n);
    assert_memory_equal(sha, want, 32);
    fetch_result_free(r);
  }
  cronc_engine_free(e);
  caddy_server_stop(c);
}

/* Caddy 2.6 cannot brotli-compress on the fly; its file server sends a
 * precompressed <file>.br instead, made here with Debian's brotli tool. */
static void brotli_body_is_decoded(void **state) {
  (void)state;
  caddy_options o;
  caddy_options_init(&o);
  o.extra_site_config = "handle /br/* {\n\t\tfile_server {\n\t\t\tprecompressed br\n\t\t}\n\t}";
  caddy_server *c = NULL;
  assert_int_equal(caddy_server_start(&o, &c), 0);
  size_t n = 500000;
  char *text = malloc(n);
  for (size_t i = 0; i < n; i++)
    text[i] = "brotli body for cronc "[i % 22];
  char dir[512];
  snprintf(dir, sizeof dir, "%s/br", caddy_server_www_dir(c));
  assert_int_equal(mkdir(dir, 0755), 0);
  assert_int_equal(caddy_server_put_file(c, "br/text.txt", text, n), 0);
  uint8_t want[32], sha[32];
  gnutls_hash_fast(GNUTLS_DIG_SHA256, text, n, want);
  free(text);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "brotli -q 9 -k -f '%s/br/text.txt'", caddy_server_www_dir(c));
  assert_int_equal(system(cmd), 0);
  cronc_engine *e = engine_for(c, NULL);
  char u[256];
  url_of(u, sizeof u, c, "/br/text.txt");
  cronc_header h = {"Accept-Encoding", "br"};
  g_headers = &h;
  g_n_headers = 1;
  result *r = fetch(e, u, true, sha);
  g_headers = NULL;
  g_n_headers = 0;
  assert_int_equal(r->error, CRONC_OK);
  assert_string_equal(r->encoding, "br");
  assert_int_equal(r->bytes, (int64_t)n);
  assert_memory_equal(sha, want, 32);
  fetch_result_free(r);
  cronc_engine_free(e);
  caddy_server_stop(c);
}

static cronc_engine *engine_with_pin(caddy_server *c, const uint8_t (*hash)[32], bool bypass,
                                     int *rv) {
  cronc_public_key_pins pin = {"localhost", hash, 1, false, 0};
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = caddy_server_root_ca(c);
  p.public_key_pins = &pin;
  p.n_public_key_pins = 1;
  p.pin_bypass_for_local_trust_anchors = bypass;
  cronc_engine *e = NULL;
  *rv = cronc_engine_new(&p, &e);
  return e;
}

static void public_key_pins_are_enforced(void **state) {
  fx *x = *state;
  /* The SPKI hash of Caddy's root: a pin that matches the chain. */
  FILE *f = fopen(caddy_server_root_ca(x->h2), "rb");
  assert_non_null(f);
  char pem[8192];
  size_t n = fread(pem, 1, sizeof pem, f);
  fclose(f);
  uint8_t good[1][32], bad[1][32];
  assert_int_equal(tls_spki_sha256_from_pem(pem, n, good[0]), CRONC_OK);
  memset(bad[0], 0x5a, 32);
  char u[256];
  url_of(u, sizeof u, x->h2, "/small.txt");
  int rv;

  cronc_engine *e = engine_with_pin(x->h2, (const uint8_t(*)[32])bad, false, &rv);
  assert_int_equal(rv, CRONC_OK);
  result *r = fetch(e, u, true, NULL);
  assert_int_equal(r->error, CRONC_ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN);
  fetch_result_free(r);
  cronc_engine_free(e);

  e = engine_with_pin(x->h2, (const uint8_t(*)[32])good, false, &rv);
  r = fetch(e, u, true, NULL);
  assert_int_equal(r->error, CRONC_OK);
  fetch_result_free(r);
  cronc_engine_free(e);

  /* Cronet's default: pins do not apply to chains ending at a local anchor. */
  e = engine_with_pin(x->h2, (const uint8_t(*)[32])bad, true, &rv);
  r = fetch(e, u, true, NULL);
  assert_int_equal(r->error, CRONC_OK);
  fetch_result_free(r);
  cronc_engine_free(e);

  /* An invalid pin refuses the engine, as Cronet's StartWithParams does. */
  cronc_public_key_pins invalid = {"", (const uint8_t(*)[32])good, 1, false, 0};
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.public_key_pins = &invalid;
  p.n_public_key_pins = 1;
  e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(e);
}

/* Chromium's IP pooling: a second origin that resolves to the same address
 * and is covered by the first connection's certificate shares its HTTP/2
 * connection. */
static void h2_connection_is_pooled_across_origins_by_ip(void **state) {
  (void)state;
  caddy_options o;
  caddy_options_init(&o);
  o.site_name = "*.example.test"; /* one wildcard certificate for both names */
  caddy_server *c = NULL;
  assert_int_equal(caddy_server_start(&o, &c), 0);
  caddy_server_put_file(c, "p.txt", "pooled\n", 7);
  cronc_engine *e = engine_for(c, "MAP *.example.test 127.0.0.1");
  char u[256];
  const char *names[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    snprintf(u, sizeof u, "https://%s.example.test:%u/p.txt", names[i], caddy_server_port(c));
    result *r = fetch(e, u, true, NULL);
    assert_int_equal(r->error, CRONC_OK);
    assert_int_equal(r->bytes, 7);
    assert_string_equal(r->protocol, "h2");
    assert_true(r->metrics.socket_reused == (i > 0));
    fetch_result_free(r);
  }
  assert_int_equal(connects(e), 1);
  cronc_engine_free(e);
  caddy_server_stop(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(h2_small_and_100mb_bodies_arrive_intact),
      cmocka_unit_test(h1_100mb_body_and_keep_alive_reuse),
      cmocka_unit_test(hundred_concurrent_requests_share_one_h2_connection),
      cmocka_unit_test(cold_concurrent_requests_open_one_h2_connection),
      cmocka_unit_test(redirects_are_followed),
      cmocka_unit_test(tls_and_connect_errors_have_chromium_codes),
      cmocka_unit_test(broken_responses_have_chromium_codes),
      cmocka_unit_test(compressed_bodies_are_decoded),
      cmocka_unit_test(brotli_body_is_decoded),
      cmocka_unit_test(public_key_pins_are_enforced),
      cmocka_unit_test(h2_connection_is_pooled_across_origins_by_ip),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
