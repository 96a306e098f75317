/* Tests for socket/tls_socket and socket/tls_context against a real Caddy
 * (h1+h2 and h1-only sites, `tls internal` with its local CA) and against a
 * tiny GnuTLS server of our own (expired certificate), all on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/thread.h"
#include "socket/stream_socket.h"
#include "socket/tcp_connect.h"
#include "base/strbuf.h"
#include "socket/tls_context.h"
#include "socket/tls_socket.h"
#include "support/caddy_server.h"
#include "support/net_test_util.h"
#include "support/raw_tcp_server.h"

static caddy_server *g_caddy; /* h1 + h2, shared by the tests */

typedef struct fixture {
  uv_loop_t loop;
  base_runner *runner;
  tls_context *ctx; /* trusts Caddy's local CA */
} fixture;

typedef struct io_result {
  bool done;
  int calls;
  int result;
  stream_socket *sock;
} io_result;

static void on_io(int result, void *ud) {
  io_result *r = ud;
  r->done = true;
  r->calls++;
  r->result = result;
}

static void on_connect(int result, stream_socket *sock, void *ud) {
  io_result *r = ud;
  r->done = true;
  r->calls++;
  r->result = result;
  r->sock = sock;
}

static int group_setup(void **state) {
  if (!caddy_available())
    return 0;
  caddy_options o;
  caddy_options_init(&o);
  if (caddy_server_start(&o, &g_caddy) != 0)
    return -1;
  const char body[] = "hello from caddy\n";
  caddy_server_put_file(g_caddy, "hello.txt", body, sizeof(body) - 1);
  return 0;
}

static int group_teardown(void **state) {
  caddy_server_stop(g_caddy);
  g_caddy = NULL;
  return 0;
}

static tls_context *new_ctx(const char *extra_ca, bool bypass) {
  tls_context_params p;
  tls_context_params_init(&p);
  p.extra_ca_file = extra_ca;
  p.pin_bypass_for_local_anchors = bypass;
  tls_context *ctx = NULL;
  assert_int_equal(tls_context_new(&p, &ctx), 0);
  return ctx;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(base_runner_new_on_loop(&f->loop, &f->runner), 0);
  if (g_caddy)
    f->ctx = new_ctx(caddy_server_root_ca(g_caddy), true);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  assert_int_equal(base_runner_free(f->runner), 0);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  tls_context_free(f->ctx);
  free(f);
  return 0;
}

#define REQUIRE_CADDY()                                                                            \
  do {                                                                                             \
    if (!g_caddy)                                                                                  \
      skip();                                                                                      \
  } while (0)

static const char *const k_alpn_h2_h1[] = {"h2", "http/1.1"};
static const char *const k_alpn_h1[] = {"http/1.1"};

/* TCP-connects to 127.0.0.1:port, then runs a TLS handshake for `host`.
 * Returns the handshake result; *out gets the socket on success (else it is
 * freed). */
/* A transport that forwards to a real TCP socket and notes, at each read,
 * the promise TLS made it (stream_socket_expect) and the bytes read so far,
 * to check the promise against what the server sent afterwards. */
typedef struct spy_sample {
  uint64_t promise, read_before;
} spy_sample;

typedef struct spy_sock {
  stream_socket base;
  stream_socket *inner;
  uint64_t promise, bytes_read;
  spy_sample samples[4096];
  size_t nsamples;
} spy_sock;

static spy_sock *spy_of(const stream_socket *s) { return (spy_sock *)s; }

static int spy_count(spy_sock *sp, int rc) {
  if (rc > 0) {
    sp->bytes_read += (uint64_t)rc;
    sp->promise = sp->promise > (uint64_t)rc ? sp->promise - (uint64_t)rc : 0;
  }
  return rc;
}

static int spy_read(stream_socket *s, uint8_t *buf, size_t len, socket_io_fn cb, void *ud) {
  return CRONC_ERR_NOT_IMPLEMENTED; /* TLS reads with read_if_ready */
}

static int spy_read_if_ready(stream_socket *s, uint8_t *buf, size_t len, socket_io_fn cb,
                             void *ud) {
  spy_sock *sp = spy_of(s);
  if (sp->promise > 0 && sp->nsamples < 4096)
    sp->samples[sp->nsamples++] = (spy_sample){sp->promise, sp->bytes_read};
  return spy_count(sp, stream_socket_read_if_ready(sp->inner, buf, len, cb, ud));
}

static void spy_cancel(stream_socket *s) { stream_socket_cancel_read_if_ready(spy_of(s)->inner); }

static int spy_writev(stream_socket *s, const socket_iovec *iov, size_t n, socket_io_fn cb,
                      void *ud) {
  return stream_socket_writev(spy_of(s)->inner, iov, n, cb, ud);
}

static void spy_disconnect(stream_socket *s) { stream_socket_disconnect(spy_of(s)->inner); }

static void spy_free(stream_socket *s) {
  stream_socket_free(spy_of(s)->inner);
  spy_of(s)->inner = NULL; /* the spy itself belongs to the test */
}

static bool spy_is_connected(const stream_socket *s) {
  return stream_socket_is_connected(spy_of(s)->inner);
}

static bool spy_idle(const stream_socket *s) {
  return stream_socket_is_connected_and_idle(spy_of(s)->inner);
}

static bool spy_used(const stream_socket *s) {
  return stream_socket_was_ever_used(spy_of(s)->inner);
}

static int spy_peer(const stream_socket *s, struct sockaddr_storage *out) {
  return stream_socket_peer_address(spy_of(s)->inner, out);
}

static void spy_info(const stream_socket *s, socket_connection_info *out) {
  stream_socket_connection_info(spy_of(s)->inner, out);
}

static const char *spy_alpn(const stream_socket *s) { return ""; }

static void spy_expect(stream_socket *s, uint64_t bytes) { spy_of(s)->promise = bytes; }

static const stream_socket_vtable spy_vt = {
    .name = "spy",
    .read = spy_read,
    .read_if_ready = spy_read_if_ready,
    .cancel_read_if_ready = spy_cancel,
    .writev = spy_writev,
    .disconnect = spy_disconnect,
    .free = spy_free,
    .is_connected = spy_is_connected,
    .is_connected_and_idle = spy_idle,
    .was_ever_used = spy_used,
    .peer_address = spy_peer,
    .local_address = spy_peer,
    .connection_info = spy_info,
    .alpn = spy_alpn,
    .expect = spy_expect,
};

/* When set, the next tls_connect() puts this spy between TLS and TCP. */
static spy_sock *g_spy;

static int tls_connect(fixture *f, tls_context *ctx, uint16_t port, const char *host,
                       const char *const *alpn, size_t alpn_count, stream_socket **out) {
  *out = NULL;
  struct sockaddr_storage a;
  test_sockaddr(&a, "127.0.0.1", port);
  io_result c = {0};
  tcp_connect_job *job;
  assert_int_equal(tcp_connect_start(f->runner, &a, 1, 0, NULL, on_connect, &c, &job), 0);
  assert_true(test_loop_run_until(&f->loop, &c.done, 5000));
  tcp_connect_job_free(job);
  if (c.result != 0)
    return c.result;
  tls_socket_params p = {.host = host, .port = port, .alpn = alpn, .alpn_count = alpn_count};
  stream_socket *transport = c.sock;
  if (g_spy) {
    g_spy->base.vt = &spy_vt;
    g_spy->inner = c.sock;
    transport = &g_spy->base;
    g_spy = NULL;
  }
  stream_socket *s;
  assert_int_equal(tls_socket_new(ctx, transport, &p, &s), 0);
  io_result h = {0};
  int rc = tls_socket_connect(s, on_io, &h);
  if (rc == CRONC_ERR_IO_PENDING) {
    assert_false(h.done);
    assert_true(test_loop_run_until(&f->loop, &h.done, 10000));
    rc = h.result;
  }
  if (rc == CRONC_OK)
    *out = s;
  else
    stream_socket_free(s);
  return rc;
}

/* Sends a GET (request line and headers as two slices, one writev) and reads
 * the whole response (Connection: close) into a malloc'd buffer. */
static char *http_get(fixture *f, stream_socket *s, const char *path, size_t *len_out) {
  char head[256];
  int hl = snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\n", path);
  const char *hdrs = "Host: localhost\r\nConnection: close\r\n\r\n";
  socket_iovec iov[2] = {{(const uint8_t *)head, (size_t)hl},
                         {(const uint8_t *)hdrs, strlen(hdrs)}};
  io_result w = {0};
  int rc = stream_socket_writev(s, iov, 2, on_io, &w);
  if (rc == CRONC_ERR_IO_PENDING) {
    assert_true(test_loop_run_until(&f->loop, &w.done, 5000));
    rc = w.result;
  }
  assert_int_equal(rc, (int)(hl + strlen(hdrs)));
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap + 1);
  assert_non_null(buf);
  for (;;) {
    if (cap - len < 65536) {
      cap *= 2;
      buf = realloc(buf, cap + 1);
      assert_non_null(buf);
    }
    io_result r = {0};
    rc = stream_socket_read(s, (uint8_t *)buf + len, 65536, on_io, &r);
    if (rc == CRONC_ERR_IO_PENDING) {
      assert_true(test_loop_run_until(&f->loop, &r.done, 10000));
      rc = r.result;
    }
    if (rc <= 0)
      break;
    len += (size_t)rc;
  }
  /* Caddy closes with close_notify (0) or, sometimes, just the FIN. */
  assert_true(rc == 0 || rc == CRONC_ERR_CONNECTION_CLOSED);
  buf[len] = 0;
  *len_out = len;
  return buf;
}

/* ---- pure ------------------------------------------------------------------- */

static void test_cert_status_maps_to_most_serious_chromium_error(void **state) {
  assert_int_equal(tls_map_cert_status(0), CRONC_OK);
  assert_int_equal(tls_map_cert_status(GNUTLS_CERT_INVALID | GNUTLS_CERT_UNEXPECTED_OWNER),
                   CRONC_ERR_CERT_COMMON_NAME_INVALID);
  assert_int_equal(tls_map_cert_status(GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND),
                   CRONC_ERR_CERT_AUTHORITY_INVALID);
  assert_int_equal(tls_map_cert_status(GNUTLS_CERT_INVALID | GNUTLS_CERT_EXPIRED),
                   CRONC_ERR_CERT_DATE_INVALID);
  assert_int_equal(tls_map_cert_status(GNUTLS_CERT_INVALID | GNUTLS_CERT_NOT_ACTIVATED),
                   CRONC_ERR_CERT_DATE_INVALID);
  assert_int_equal(tls_map_cert_status(GNUTLS_CERT_INVALID | GNUTLS_CERT_REVOKED),
                   CRONC_ERR_CERT_REVOKED);
  assert_int_equal(tls_map_cert_status(GNUTLS_CERT_INVALID), CRONC_ERR_CERT_INVALID);
  assert_int_equal(tls_map_cert_status(GNUTLS_CERT_INVALID | GNUTLS_CERT_PURPOSE_MISMATCH),
                   CRONC_ERR_CERT_INVALID);
  /* Several at once: Chromium's order. */
  unsigned all = GNUTLS_CERT_INVALID | GNUTLS_CERT_EXPIRED | GNUTLS_CERT_UNEXPECTED_OWNER |
                 GNUTLS_CERT_SIGNER_NOT_FOUND;
  assert_int_equal(tls_map_cert_status(all), CRONC_ERR_CERT_AUTHORITY_INVALID);
  assert_int_equal(tls_map_cert_status(all | GNUTLS_CERT_REVOKED), CRONC_ERR_CERT_REVOKED);
  assert_int_equal(
      tls_map_cert_status(GNUTLS_CERT_INVALID | GNUTLS_CERT_EXPIRED | GNUTLS_CERT_UNEXPECTED_OWNER),
      CRONC_ERR_CERT_COMMON_NAME_INVALID);
  assert_int_equal(tls_map_cert_status(GNUTLS_CERT_INVALID | GNUTLS_CERT_EXPIRED |
                                       GNUTLS_CERT_INSECURE_ALGORITHM),
                   CRONC_ERR_CERT_WEAK_SIGNATURE_ALGORITHM);
}

static void test_context_rejects_missing_ca_file_and_bad_priority(void **state) {
  tls_context_params p;
  tls_context_params_init(&p);
  p.extra_ca_file = "/nonexistent/ca.pem";
  tls_context *ctx = (tls_context *)1;
  assert_int_equal(tls_context_new(&p, &ctx), CRONC_ERR_FILE_NOT_FOUND);
  assert_null(ctx);
  tls_context_params_init(&p);
  p.priority = "NOT-A-PRIORITY";
  assert_int_equal(tls_context_new(&p, &ctx), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(tls_context_new(NULL, NULL), CRONC_ERR_INVALID_ARGUMENT);
}

static void test_socket_new_rejects_bad_arguments(void **state) {
  fixture *f = *state;
  tls_context *ctx = new_ctx(NULL, true);
  stream_socket *s;
  tls_socket_params p = {.host = "", .port = 443};
  stream_socket fake = {0};
  assert_int_equal(tls_socket_new(ctx, &fake, &p, &s), CRONC_ERR_INVALID_ARGUMENT);
  const char *const bad_alpn[] = {""};
  p = (tls_socket_params){.host = "a.test", .port = 443, .alpn = bad_alpn, .alpn_count = 1};
  assert_int_equal(tls_socket_new(ctx, &fake, &p, &s), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(tls_socket_new(ctx, NULL, &p, &s), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(tls_socket_connect(&fake, on_io, NULL), CRONC_ERR_INVALID_ARGUMENT);
  tls_context_free(ctx);
  (void)f;
}

/* ---- against Caddy -------------------------------------------------------------- */

static void test_handshake_negotiates_h2_on_h2_site(void **state) {
  REQUIRE_CADDY();
  fixture *f = *state;
  stream_socket *s;
  assert_int_equal(
      tls_connect(f, f->ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h2_h1, 2, &s),
      CRONC_OK);
  assert_string_equal(stream_socket_alpn(s), "h2");
  assert_true(stream_socket_is_connected(s));
  socket_connection_info info;
  stream_socket_connection_info(s, &info);
  assert_string_equal(info.alpn, "h2");
  assert_int_equal(info.tls_version, 0x0304);
  assert_true(info.connect_start_us > 0);
  assert_true(info.tls_start_us >= info.connect_end_us);
  assert_true(info.tls_end_us >= info.tls_start_us);
  assert_false(info.tls_session_resumed);
  assert_int_equal(tls_socket_cert_status(s), 0);
  assert_true(tls_socket_covers_host(s, "localhost"));
  assert_false(tls_socket_covers_host(s, "other.example"));
  /* The chain ends at the extra CA: the system store was never needed. */
  assert_false(tls_context_system_trust_loaded(f->ctx));
  stream_socket_free(s);
}

static void on_log(const netlog_entry *e, void *ud) {
  strbuf *b = ud;
  if (e->type != NETLOG_TYPE_SSL_CONNECT)
    return;
  strbuf_append_str(b, e->phase == NETLOG_PHASE_BEGIN ? "+" : "-");
  strbuf_append_str(b, e->params ? e->params : "");
  strbuf_append_str(b, " ");
}

/* Chromium's SSL_CONNECT begin/end pair, the end saying what was agreed. */
static void test_handshake_is_logged_as_ssl_connect(void **state) {
  REQUIRE_CADDY();
  fixture *f = *state;
  netlog *nl = netlog_new(NULL);
  strbuf seq = STRBUF_INIT;
  netlog_observer *obs = netlog_add_observer(nl, on_log, &seq);
  tls_context_params p;
  tls_context_params_init(&p);
  p.extra_ca_file = caddy_server_root_ca(g_caddy);
  p.netlog = nl;
  tls_context *ctx = NULL;
  assert_int_equal(tls_context_new(&p, &ctx), 0);
  stream_socket *s;
  assert_int_equal(
      tls_connect(f, ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h2_h1, 2, &s), CRONC_OK);
  assert_string_equal(strbuf_cstr(&seq),
                      "+ -{\"version\":\"TLS 1.3\",\"next_proto\":\"h2\",\"is_resumed\":false} ");
  stream_socket_free(s);
  tls_context_free(ctx);
  netlog_remove_observer(nl, obs);
  netlog_free(nl);
  strbuf_free(&seq);
}

static void test_http11_get_over_tls_returns_200(void **state) {
  REQUIRE_CADDY();
  fixture *f = *state;
  stream_socket *s;
  assert_int_equal(
      tls_connect(f, f->ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h1, 1, &s), 0);
  assert_string_equal(stream_socket_alpn(s), "http/1.1");
  size_t len;
  char *resp = http_get(f, s, "/hello.txt", &len);
  assert_true(strncmp(resp, "HTTP/1.1 200", 12) == 0);
  assert_non_null(strstr(resp, "hello from caddy\n"));
  assert_true(stream_socket_was_ever_used(s));
  free(resp);
  stream_socket_free(s);
}

static void test_h1_only_site_negotiates_http11(void **state) {
  REQUIRE_CADDY();
  fixture *f = *state;
  caddy_options o;
  caddy_options_init(&o);
  o.protocols = CADDY_PROTO_H1;
  caddy_server *h1;
  assert_int_equal(caddy_server_start(&o, &h1), 0);
  tls_context *ctx = new_ctx(caddy_server_root_ca(h1), true);
  stream_socket *s;
  assert_int_equal(tls_connect(f, ctx, caddy_server_port(h1), "localhost", k_alpn_h2_h1, 2, &s), 0);
  assert_string_equal(stream_socket_alpn(s), "http/1.1");
  stream_socket_free(s);
  test_loop_run_for(&f->loop, 10);
  tls_context_free(ctx);
  caddy_server_stop(h1);
}

static void test_ip_literal_host_without_ip_san_is_common_name_invalid(void **state) {
  REQUIRE_CADDY();
  fixture *f = *state;
  stream_socket *s;
  /* No SNI for an IP literal: Caddy answers with its default_sni cert. */
  assert_int_equal(
      tls_connect(f, f->ctx, caddy_server_port(g_caddy), "127.0.0.1", k_alpn_h1, 1, &s),
      CRONC_ERR_CERT_COMMON_NAME_INVALID);
}

static void test_untrusted_local_ca_is_authority_invalid(void **state) {
  REQUIRE_CADDY();
  fixture *f = *state;
  tls_context *ctx = new_ctx(NULL, true);             /* system store only */
  assert_false(tls_context_system_trust_loaded(ctx)); /* loaded on first need */
  stream_socket *s;
  assert_int_equal(
      tls_connect(f, ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h2_h1, 2, &s),
      CRONC_ERR_CERT_AUTHORITY_INVALID);
  /* An unknown signer made it load the system store and look again. */
  assert_true(tls_context_system_trust_loaded(ctx));
  /* Untrusted and wrong name (no SNI, so Caddy answers with its localhost
   * certificate): authority beats name (Chromium's order). */
  assert_int_equal(
      tls_connect(f, ctx, caddy_server_port(g_caddy), "127.0.0.1", k_alpn_h2_h1, 2, &s),
      CRONC_ERR_CERT_AUTHORITY_INVALID);
  tls_context_free(ctx);
}

static int root_pin(uint8_t out[TLS_SPKI_HASH_SIZE]) {
  gnutls_datum_t pem;
  if (gnutls_load_file(caddy_server_root_ca(g_caddy), &pem) < 0)
    return -1;
  int rc = tls_spki_sha256_from_pem((const char *)pem.data, pem.size, out);
  gnutls_free(pem.data);
  return rc;
}

static void test_pin_mismatch_fails_and_pin_match_succeeds(void **state) {
  REQUIRE_CADDY();
  fixture *f = *state;
  tls_context *ctx = new_ctx(caddy_server_root_ca(g_caddy), false /* enforce on local CA */);
  uint8_t wrong[1][TLS_SPKI_HASH_SIZE];
  memset(wrong, 0xAB, sizeof(wrong));
  assert_int_equal(tls_context_add_pins(ctx, "localhost", false, wrong, 1, 0), 0);
  stream_socket *s;
  assert_int_equal(tls_connect(f, ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h1, 1, &s),
                   CRONC_ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN);
  /* Pin Caddy's root (an anchor the server does not send). */
  uint8_t pins[2][TLS_SPKI_HASH_SIZE];
  memset(pins[0], 0xAB, TLS_SPKI_HASH_SIZE);
  assert_int_equal(root_pin(pins[1]), 0);
  assert_int_equal(tls_context_add_pins(ctx, "localhost", false, pins, 2, 0), 0);
  assert_int_equal(tls_connect(f, ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h1, 1, &s),
                   0);
  stream_socket_free(s);
  /* Expired pins no longer apply. */
  assert_int_equal(tls_context_add_pins(ctx, "localhost", false, wrong, 1, 1), 0);
  assert_int_equal(tls_connect(f, ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h1, 1, &s),
                   0);
  stream_socket_free(s);
  test_loop_run_for(&f->loop, 10);
  tls_context_free(ctx);
}

static void test_pins_bypassed_for_local_trust_anchor_by_default(void **state) {
  REQUIRE_CADDY();
  fixture *f = *state;
  uint8_t wrong[1][TLS_SPKI_HASH_SIZE];
  memset(wrong, 0xCD, sizeof(wrong));
  assert_int_equal(tls_context_add_pins(f->ctx, "localhost", true, wrong, 1, 0), 0);
  stream_socket *s;
  assert_int_equal(
      tls_connect(f, f->ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h1, 1, &s), 0);
  stream_socket_free(s);
}

static void test_subdomain_pins_apply_only_with_include_subdomains(void **state) {
  REQUIRE_CADDY();
  fixture *f = *state;
  /* Caddy's cert is for "localhost"; verify pins through covers_host on a
   * connected socket: a parent-domain pin set reaches "a.localhost" only
   * with include_subdomains. */
  tls_context *ctx = new_ctx(caddy_server_root_ca(g_caddy), false);
  stream_socket *s;
  assert_int_equal(tls_connect(f, ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h1, 1, &s),
                   0);
  uint8_t wrong[1][TLS_SPKI_HASH_SIZE];
  memset(wrong, 0xEF, sizeof(wrong));
  assert_int_equal(tls_context_add_pins(ctx, "example.test", false, wrong, 1, 0), 0);
  assert_true(tls_socket_covers_host(s, "localhost"));
  assert_int_equal(tls_context_add_pins(ctx, "localhost", true, wrong, 1, 0), 0);
  assert_false(tls_socket_covers_host(s, "localhost")); /* exact entry */
  stream_socket_free(s);
  test_loop_run_for(&f->loop, 10);
  tls_context_free(ctx);
}

static void test_second_connection_resumes_session(void **state) {
  REQUIRE_CADDY();
  fixture *f = *state;
  stream_socket *s;
  assert_int_equal(tls_context_session_count(f->ctx), 0);
  assert_int_equal(
      tls_connect(f, f->ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h1, 1, &s), 0);
  size_t len;
  free(http_get(f, s, "/hello.txt", &len)); /* reading processes the TLS 1.3 ticket */
  stream_socket_free(s);
  assert_true(tls_context_session_count(f->ctx) >= 1);
  assert_int_equal(
      tls_connect(f, f->ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h1, 1, &s), 0);
  socket_connection_info info;
  stream_socket_connection_info(s, &info);
  assert_true(info.tls_session_resumed);
  char *resp = http_get(f, s, "/hello.txt", &len);
  assert_true(strncmp(resp, "HTTP/1.1 200", 12) == 0);
  free(resp);
  stream_socket_free(s);
  /* A different port is a different cache key: no resumption. */
  tls_context_clear_sessions(f->ctx);
  assert_int_equal(tls_context_session_count(f->ctx), 0);
}

static void test_large_download_over_tls_is_complete(void **state) {
  REQUIRE_CADDY();
  fixture *f = *state;
  size_t big = 16u << 20;
  uint8_t *data = malloc(big);
  assert_non_null(data);
  for (size_t i = 0; i < big; i++)
    data[i] = (uint8_t)(i * 31 + (i >> 12));
  assert_int_equal(caddy_server_put_file(g_caddy, "big.bin", data, big), 0);
  stream_socket *s;
  assert_int_equal(
      tls_connect(f, f->ctx, caddy_server_port(g_caddy), "localhost", k_alpn_h1, 1, &s), 0);
  uint64_t t0 = test_now_ms();
  size_t len;
  char *resp = http_get(f, s, "/big.bin", &len);
  uint64_t ms = test_now_ms() - t0;
  const char *body = strstr(resp, "\r\n\r\n");
  assert_non_null(body);
  body += 4;
  assert_int_equal(len - (size_t)(body - resp), big);
  assert_memory_equal(body, data, big);
  print_message("downloaded %zu MB over TLS in %llu ms\n", big >> 20, (unsigned long long)ms);
  free(resp);
  free(data);
  stream_socket_free(s);
}

/* ---- against misbehaving servers -------------------------------------------------- */

static void test_server_closing_during_handshake_is_connection_closed(void **state) {
  fixture *f = *state;
  tls_context *ctx = new_ctx(NULL, true);
  const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0},
      {RAW_READ_SOME, NULL, 0, 0}, /* the ClientHello */
      {RAW_SLEEP_MS, NULL, 0, 20},
      {RAW_CLOSE, NULL, 0, 0},
  };
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 4);
  assert_non_null(srv);
  stream_socket *s;
  assert_int_equal(tls_connect(f, ctx, raw_tcp_server_port(srv), "localhost", NULL, 0, &s),
                   CRONC_ERR_CONNECTION_CLOSED);
  raw_tcp_server_free(srv);
  tls_context_free(ctx);
}

static void test_plaintext_server_is_ssl_protocol_error(void **state) {
  fixture *f = *state;
  tls_context *ctx = new_ctx(NULL, true);
  static const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0},
      {RAW_READ_SOME, NULL, 0, 0},
      {RAW_WRITE, reply, sizeof(reply) - 1, 0},
      {RAW_SLEEP_MS, NULL, 0, 200},
      {RAW_CLOSE, NULL, 0, 0},
  };
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 5);
  assert_non_null(srv);
  stream_socket *s;
  int rc = tls_connect(f, ctx, raw_tcp_server_port(srv), "localhost", NULL, 0, &s);
  assert_int_equal(rc, CRONC_ERR_SSL_PROTOCOL_ERROR);
  raw_tcp_server_free(srv);
  tls_context_free(ctx);
}

/* ---- our own GnuTLS server: certificates with chosen dates ------------------------- */

typedef struct own_server {
  int listen_fd;
  uint16_t port;
  pthread_t thread;
  gnutls_certificate_credentials_t cred;
  char ca_path[300];
  char dir[256];
  int send_records; /* after the handshake: this many 1000-byte records, then close_notify */
} own_server;

static void make_cert(gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key, const char *cn, bool ca,
                      gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key, time_t not_before,
                      time_t not_after, unsigned serial) {
  assert_true(gnutls_x509_privkey_init(key) >= 0);
  assert_true(gnutls_x509_privkey_generate(
                  *key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) >= 0);
  assert_true(gnutls_x509_crt_init(crt) >= 0);
  gnutls_x509_crt_set_version(*crt, 3);
  unsigned char sn[4] = {0, 0, (unsigned char)(serial >> 8), (unsigned char)serial};
  gnutls_x509_crt_set_serial(*crt, sn, sizeof(sn));
  gnutls_x509_crt_set_activation_time(*crt, not_before);
  gnutls_x509_crt_set_expiration_time(*crt, not_after);
  gnutls_x509_crt_set_dn_by_oid(*crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn));
  gnutls_x509_crt_set_key(*crt, *key);
  if (ca) {
    gnutls_x509_crt_set_basic_constraints(*crt, 1, -1);
    gnutls_x509_crt_set_key_usage(*crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
  } else {
    gnutls_x509_crt_set_basic_constraints(*crt, 0, -1);
    gnutls_x509_crt_set_subject_alt_name(*crt, GNUTLS_SAN_DNSNAME, cn, strlen(cn), GNUTLS_FSAN_SET);
    gnutls_x509_crt_set_key_purpose_oid(*crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
    gnutls_x509_crt_set_key_usage(*crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
  }
  assert_true(gnutls_x509_crt_sign2(*crt, issuer ? issuer : *crt, issuer_key ? issuer_key : *key,
                                    GNUTLS_DIG_SHA256, 0) >= 0);
}

static void *own_server_main(void *arg) {
  own_server *o = arg;
  for (;;) {
    int fd = accept(o->listen_fd, NULL, NULL);
    if (fd < 0)
      return NULL;
    gnutls_session_t sess;
    gnutls_init(&sess, GNUTLS_SERVER);
    gnutls_set_default_priority(sess);
    gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, o->cred);
    gnutls_transport_set_int(sess, fd);
    gnutls_handshake_set_timeout(sess, 5000);
    int rc;
    do {
      rc = gnutls_handshake(sess);
    } while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc == 0) {
      char buf[1000];
      for (int i = 0; i < o->send_records; i++) {
        memset(buf, 'a' + i, sizeof buf);
        gnutls_record_send(sess, buf, sizeof buf);
      }
      if (o->send_records > 0)
        gnutls_bye(sess, GNUTLS_SHUT_WR);
      gnutls_record_recv(sess, buf, sizeof(buf)); /* until the client goes away */
    }
    gnutls_deinit(sess);
    close(fd);
  }
}

/* A TLS server (one connection at a time, until stopped) whose leaf for "localhost" is valid
 * between the given times, issued by a fresh CA written to o->ca_path. */
static void own_server_start_sending(own_server *o, time_t leaf_from, time_t leaf_to,
                                     int send_records) {
  memset(o, 0, sizeof(*o));
  o->send_records = send_records;
  assert_true(test_make_temp_dir("cronc-tls", o->dir, sizeof(o->dir)));
  time_t now = time(NULL);
  gnutls_x509_crt_t ca, leaf;
  gnutls_x509_privkey_t ca_key, leaf_key;
  make_cert(&ca, &ca_key, "cronc test CA", true, NULL, NULL, now - 86400 * 30, now + 86400 * 30, 1);
  make_cert(&leaf, &leaf_key, "localhost", false, ca, ca_key, leaf_from, leaf_to, 2);
  gnutls_datum_t pem;
  assert_true(gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_PEM, &pem) >= 0);
  snprintf(o->ca_path, sizeof(o->ca_path), "%s/ca.pem", o->dir);
  assert_int_equal(test_write_file(o->ca_path, pem.data, pem.size), 0);
  gnutls_free(pem.data);
  assert_true(gnutls_certificate_allocate_credentials(&o->cred) >= 0);
  gnutls_x509_crt_t chain[2] = {leaf, ca};
  assert_true(gnutls_certificate_set_x509_key(o->cred, chain, 2, leaf_key) >= 0);
  gnutls_x509_crt_deinit(ca);
  gnutls_x509_crt_deinit(leaf);
  gnutls_x509_privkey_deinit(ca_key);
  gnutls_x509_privkey_deinit(leaf_key);
  o->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_storage ss;
  test_sockaddr(&ss, "127.0.0.1", 0);
  assert_int_equal(bind(o->listen_fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
  assert_int_equal(listen(o->listen_fd, 4), 0);
  socklen_t len = sizeof(ss);
  getsockname(o->listen_fd, (struct sockaddr *)&ss, &len);
  o->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  assert_int_equal(pthread_create(&o->thread, NULL, own_server_main, o), 0);
}

static void own_server_start(own_server *o, time_t leaf_from, time_t leaf_to) {
  own_server_start_sending(o, leaf_from, leaf_to, 0);
}

static void own_server_stop(own_server *o) {
  shutdown(o->listen_fd, SHUT_RDWR);
  pthread_join(o->thread, NULL);
  close(o->listen_fd);
  gnutls_certificate_free_credentials(o->cred);
  test_remove_tree(o->dir);
}

static void test_expired_certificate_is_date_invalid(void **state) {
  fixture *f = *state;
  time_t now = time(NULL);
  own_server o;
  own_server_start(&o, now - 86400 * 10, now - 86400);
  tls_context *ctx = new_ctx(o.ca_path, true);
  stream_socket *s;
  assert_int_equal(tls_connect(f, ctx, o.port, "localhost", k_alpn_h1, 1, &s),
                   CRONC_ERR_CERT_DATE_INVALID);
  own_server_stop(&o);
  tls_context_free(ctx);
}

static void test_not_yet_valid_certificate_is_date_invalid(void **state) {
  fixture *f = *state;
  time_t now = time(NULL);
  own_server o;
  own_server_start(&o, now + 86400, now + 86400 * 10);
  tls_context *ctx = new_ctx(o.ca_path, true);
  stream_socket *s;
  assert_int_equal(tls_connect(f, ctx, o.port, "localhost", NULL, 0, &s),
                   CRONC_ERR_CERT_DATE_INVALID);
  own_server_stop(&o);
  tls_context_free(ctx);
}

/* Caddy 2.6 refuses a ClientHello whose SNI matches no site (and its
 * Caddyfile has no fallback_sni), so a name mismatch WITH SNI is served by
 * our own server, which answers every name with its "localhost" cert. */
static void test_wrong_host_name_is_common_name_invalid(void **state) {
  fixture *f = *state;
  time_t now = time(NULL);
  own_server o;
  own_server_start(&o, now - 3600, now + 86400);
  tls_context *ctx = new_ctx(o.ca_path, true);
  stream_socket *s;
  assert_int_equal(tls_connect(f, ctx, o.port, "wrong.example", k_alpn_h2_h1, 2, &s),
                   CRONC_ERR_CERT_COMMON_NAME_INVALID);
  assert_null(s);
  own_server_stop(&o);
  tls_context_free(ctx);
}

static void test_wrong_name_and_expired_reports_name_first(void **state) {
  fixture *f = *state;
  time_t now = time(NULL);
  own_server o;
  own_server_start(&o, now - 86400 * 10, now - 86400);
  tls_context *ctx = new_ctx(o.ca_path, true);
  stream_socket *s;
  assert_int_equal(tls_connect(f, ctx, o.port, "wrong.example", NULL, 0, &s),
                   CRONC_ERR_CERT_COMMON_NAME_INVALID);
  tls_context_free(ctx);
  /* And without the CA: authority first. */
  ctx = new_ctx(NULL, true);
  assert_int_equal(tls_connect(f, ctx, o.port, "wrong.example", NULL, 0, &s),
                   CRONC_ERR_CERT_AUTHORITY_INVALID);
  own_server_stop(&o);
  tls_context_free(ctx);
}

static void test_valid_own_certificate_succeeds(void **state) {
  fixture *f = *state;
  time_t now = time(NULL);
  own_server o;
  own_server_start(&o, now - 3600, now + 86400);
  tls_context *ctx = new_ctx(o.ca_path, true);
  stream_socket *s;
  assert_int_equal(tls_connect(f, ctx, o.port, "localhost", NULL, 0, &s), CRONC_OK);
  assert_string_equal(stream_socket_alpn(s), "");
  stream_socket_free(s);
  test_loop_run_for(&f->loop, 10);
  own_server_stop(&o);
  tls_context_free(ctx);
}

/* Records already received are handed over by one read, not one read per
 * record; the close_notify behind them comes with the next read. */
static void test_one_read_takes_every_record_already_here(void **state) {
  fixture *f = *state;
  time_t now = time(NULL);
  own_server o;
  own_server_start_sending(&o, now - 3600, now + 86400, 4);
  tls_context *ctx = new_ctx(o.ca_path, true);
  stream_socket *s;
  assert_int_equal(tls_connect(f, ctx, o.port, "localhost", NULL, 0, &s), CRONC_OK);
  usleep(200 * 1000); /* all four records and the alert reach our socket */
  uint8_t buf[65536];
  io_result r = {0};
  int rc = stream_socket_read(s, buf, sizeof buf, on_io, &r);
  if (rc == CRONC_ERR_IO_PENDING) {
    assert_true(test_loop_run_until(&f->loop, &r.done, 5000));
    rc = r.result;
  }
  assert_int_equal(rc, 4000);
  assert_int_equal(buf[0], 'a');
  assert_int_equal(buf[3999], 'd');
  /* A buffer smaller than what is here takes what fits; the rest stays. */
  stream_socket_free(s);
  assert_int_equal(tls_connect(f, ctx, o.port, "localhost", NULL, 0, &s), CRONC_OK);
  usleep(200 * 1000);
  assert_int_equal(stream_socket_read(s, buf, 2500, on_io, &r), 2500);
  assert_int_equal(buf[2499], 'c');
  assert_int_equal(stream_socket_read(s, buf, sizeof buf, on_io, &r), 1500);
  assert_int_equal(buf[1499], 'd');
  assert_int_equal(stream_socket_read(s, buf, sizeof buf, on_io, &r), 0); /* close_notify */
  stream_socket_free(s);
  test_loop_run_for(&f->loop, 10);
  own_server_stop(&o);
  tls_context_free(ctx);
}

/* A plaintext promise reaches TCP as a ciphertext promise the server keeps:
 * at every transport read, what was promised is at most what the server
 * sent after that point. */
static void test_promise_reaches_the_transport_within_what_follows(void **state) {
  fixture *f = *state;
  time_t now = time(NULL);
  own_server o;
  own_server_start_sending(&o, now - 3600, now + 86400, 200);
  tls_context *ctx = new_ctx(o.ca_path, true);
  spy_sock *spy = calloc(1, sizeof(*spy));
  assert_non_null(spy);
  g_spy = spy;
  stream_socket *s;
  assert_int_equal(tls_connect(f, ctx, o.port, "localhost", NULL, 0, &s), CRONC_OK);
  const uint64_t body = 200 * 1000;
  stream_socket_expect(s, body);
  uint8_t buf[4096];
  uint64_t got = 0;
  for (;;) {
    io_result r = {0};
    int rc = stream_socket_read(s, buf, sizeof buf, on_io, &r);
    if (rc == CRONC_ERR_IO_PENDING) {
      assert_true(test_loop_run_until(&f->loop, &r.done, 5000));
      rc = r.result;
    }
    assert_true(rc >= 0);
    if (rc == 0)
      break;
    for (int i = 0; i < rc; i++)
      assert_int_equal(buf[i], (uint8_t)('a' + (got + (uint64_t)i) / 1000));
    got += (uint64_t)rc;
  }
  assert_int_equal(got, body);
  uint64_t sent = spy->bytes_read; /* everything the server sent, to close_notify */
  assert_true(spy->nsamples > 0);
  for (size_t i = 0; i < spy->nsamples; i++) {
    assert_true(spy->samples[i].promise <= sent - spy->samples[i].read_before);
    assert_true(spy->samples[i].promise < body);
  }
  stream_socket_free(s);
  test_loop_run_for(&f->loop, 10);
  free(spy);
  own_server_stop(&o);
  tls_context_free(ctx);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cert_status_maps_to_most_serious_chromium_error),
      cmocka_unit_test(test_context_rejects_missing_ca_file_and_bad_priority),
      T(test_socket_new_rejects_bad_arguments),
      T(test_handshake_negotiates_h2_on_h2_site),
      T(test_handshake_is_logged_as_ssl_connect),
      T(test_http11_get_over_tls_returns_200),
      T(test_h1_only_site_negotiates_http11),
      T(test_ip_literal_host_without_ip_san_is_common_name_invalid),
      T(test_untrusted_local_ca_is_authority_invalid),
      T(test_pin_mismatch_fails_and_pin_match_succeeds),
      T(test_pins_bypassed_for_local_trust_anchor_by_default),
      T(test_subdomain_pins_apply_only_with_include_subdomains),
      T(test_second_connection_resumes_session),
      T(test_large_download_over_tls_is_complete),
      T(test_server_closing_during_handshake_is_connection_closed),
      T(test_plaintext_server_is_ssl_protocol_error),
      T(test_expired_certificate_is_date_invalid),
      T(test_not_yet_valid_certificate_is_date_invalid),
      T(test_valid_own_certificate_succeeds),
      T(test_wrong_host_name_is_common_name_invalid),
      T(test_wrong_name_and_expired_reports_name_first),
      T(test_one_read_takes_every_record_already_here),
      T(test_promise_reaches_the_transport_within_what_follows),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
