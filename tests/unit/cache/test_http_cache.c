/* The HTTP cache end to end: the real stack (runner on the test's loop,
 * resolver, stream factory, network layer) under http_cache, against the
 * programmable origin (tests/support/http_origin). Freshness runs on a
 * manual wall clock; nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/strbuf.h"
#include "cache/http_cache.h"
#include "cronc/cronc.h"
#include "dns/host_resolver.h"
#include "http/stream_factory.h"
#include "support/http_origin.h"
#include "support/net_test_util.h"

typedef struct fixture {
  uv_loop_t loop;
  base_runner *runner;
  dns_resolver *dns;
  stream_factory *sf;
  http_network_layer *net;
  http_cache *cache;
  base_manual_clock clock;
  http_origin *origin;
  char dir[256];
} fixture;

static void make_cache(fixture *f, cache_backend *b) {
  http_cache_params p;
  http_cache_params_init(&p);
  p.network = http_network_layer_base(f->net);
  p.backend = b;
  p.clock = &f->clock.base;
  p.runner = f->runner;
  assert_int_equal(http_cache_new(&p, &f->cache), 0);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(base_runner_new_on_loop(&f->loop, &f->runner), 0);
  assert_int_equal(dns_resolver_new(f->runner, NULL, NULL, &f->dns), 0);
  stream_factory_params sp;
  stream_factory_params_init(&sp);
  sp.runner = f->runner;
  sp.resolver = f->dns;
  f->sf = stream_factory_new(&sp);
  assert_non_null(f->sf);
  f->net = http_network_layer_new(stream_factory_base(f->sf));
  assert_non_null(f->net);
  base_manual_clock_init(&f->clock, INT64_C(1700000000) * BASE_US_PER_SEC);
  f->origin = http_origin_start();
  assert_non_null(f->origin);
  make_cache(f, cache_mem_backend_new(1 << 20));
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  http_cache_free(f->cache);
  http_network_layer_free(f->net);
  stream_factory_free(f->sf);
  test_loop_run_for(&f->loop, 20);
  dns_resolver_free(f->dns);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(base_runner_free(f->runner), 0);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  http_origin_stop(f->origin);
  if (f->dir[0])
    test_remove_tree(f->dir);
  free(f);
  return 0;
}

/* ---- A blocking fetch through the cache ---------------------------------- */

typedef struct result {
  int rv; /* start or read error, or 0 */
  int status;
  strbuf body;
  bool was_cached, validated;
  char protocol[16];
} result;

typedef struct op {
  bool done;
  int rv;
} op;

static void on_done(void *ud, int rv) {
  op *o = ud;
  o->done = true;
  o->rv = rv;
}

static int wait_op(fixture *f, op *o, int rv) {
  if (rv != CRONC_ERR_IO_PENDING)
    return rv;
  assert_true(test_loop_run_until(&f->loop, &o->done, 5000));
  return o->rv;
}

typedef struct req {
  url u;
  h1_headers headers;
  http_request_info info;
  http_transaction *t;
} req;

static void req_init(fixture *f, req *r, const char *path, const char *method, int flags,
                     const char *accept_encoding) {
  char spec[256];
  http_origin_url(f->origin, path, spec, sizeof spec);
  memset(r, 0, sizeof *r);
  assert_int_equal(url_parse(spec, strlen(spec), &r->u), 0);
  h1_headers_init(&r->headers);
  if (accept_encoding)
    h1_headers_add(&r->headers, "Accept-Encoding", 15, accept_encoding, strlen(accept_encoding));
  r->info.url = &r->u;
  r->info.method = method;
  r->info.headers = &r->headers;
  r->info.load_flags = flags;
  if (strcmp(method, "POST") == 0) {
    r->info.body = (const uint8_t *)"x=1";
    r->info.body_len = 3;
  }
  assert_int_equal(
      http_cache_base(f->cache)->vt->create_transaction(http_cache_base(f->cache), NULL, &r->t), 0);
}

static void req_free(req *r) {
  if (r->t)
    r->t->vt->free(r->t);
  url_free(&r->u);
  h1_headers_free(&r->headers);
}

/* Reads the started transaction to its end into res. */
static void read_all(fixture *f, req *r, result *res) {
  const h1_headers *h = r->t->vt->response_headers(r->t);
  assert_non_null(h);
  res->status = h->status;
  snprintf(res->protocol, sizeof res->protocol, "%s", r->t->vt->protocol(r->t));
  uint8_t buf[4096];
  for (;;) {
    op o = {0};
    int rv = wait_op(f, &o, r->t->vt->read(r->t, buf, sizeof buf, on_done, &o));
    if (rv < 0) {
      res->rv = rv;
      break;
    }
    if (rv == 0)
      break;
    strbuf_append(&res->body, buf, (size_t)rv);
  }
  http_transaction_info info;
  r->t->vt->get_info(r->t, &info);
  res->was_cached = info.was_cached;
  res->validated = info.cache_validated;
}

static result fetch(fixture *f, const char *path, const char *method, int flags, const char *ae) {
  result res = {0};
  req r;
  req_init(f, &r, path, method, flags, ae);
  op o = {0};
  int rv = wait_op(f, &o, r.t->vt->start(r.t, &r.info, on_done, &o));
  if (rv == CRONC_OK)
    read_all(f, &r, &res);
  else
    res.rv = rv;
  req_free(&r);
  return res;
}

static void result_free(result *r) { strbuf_free(&r->body); }

static void route(fixture *f, const char *path, const char *headers, const char *body,
                  const char *etag) {
  http_origin_route r;
  http_origin_route_init(&r, path);
  r.headers = headers;
  r.body = body;
  r.etag = etag;
  http_origin_set(f->origin, &r);
}

static void assert_body(const result *r, const char *expected) {
  assert_int_equal(r->rv, 0);
  assert_int_equal(r->body.len, strlen(expected));
  assert_memory_equal(r->body.data, expected, r->body.len);
}

static void advance_s(fixture *f, int64_t s) {
  base_manual_clock_advance(&f->clock, s * BASE_US_PER_SEC);
}

/* ---- Tests ------------------------------------------------------------------ */

static void fresh_hit_is_served_without_network(void **state) {
  fixture *f = *state;
  route(f, "/fresh", "Cache-Control: max-age=60\r\n", "hello", NULL);
  result a = fetch(f, "/fresh", "GET", 0, NULL);
  assert_body(&a, "hello");
  assert_false(a.was_cached);
  assert_string_equal(a.protocol, "http/1.1");
  result b = fetch(f, "/fresh", "GET", 0, NULL);
  assert_body(&b, "hello");
  assert_true(b.was_cached);
  assert_false(b.validated);
  assert_int_equal(b.status, 200);
  assert_int_equal(http_origin_requests(f->origin), 1);
  result_free(&a);
  result_free(&b);
}

static void stale_entry_is_revalidated_with_304(void **state) {
  fixture *f = *state;
  route(f, "/etag", "Cache-Control: max-age=10\r\nX-Version: 1\r\n", "body-v1", "\"v1\"");
  result a = fetch(f, "/etag", "GET", 0, NULL);
  assert_body(&a, "body-v1");
  advance_s(f, 20);
  route(f, "/etag", "Cache-Control: max-age=10\r\nX-Version: 2\r\n", "body-v1", "\"v1\"");
  result b = fetch(f, "/etag", "GET", 0, NULL);
  assert_body(&b, "body-v1");
  assert_true(b.was_cached);
  assert_true(b.validated);
  assert_int_equal(http_origin_requests(f->origin), 2);
  char inm[64];
  assert_true(http_origin_request_header(f->origin, 1, "If-None-Match", inm, sizeof inm));
  assert_string_equal(inm, "\"v1\"");
  /* The 304 refreshed the entry: fresh again, no third request. */
  result c = fetch(f, "/etag", "GET", 0, NULL);
  assert_true(c.was_cached);
  assert_false(c.validated);
  assert_int_equal(http_origin_requests(f->origin), 2);
  result_free(&a);
  result_free(&b);
  result_free(&c);
}

static void merged_304_headers_are_served(void **state) {
  fixture *f = *state;
  route(f, "/m", "Cache-Control: max-age=10\r\nX-Version: 1\r\nContent-Type: text/a\r\n", "m",
        "\"m\"");
  result a = fetch(f, "/m", "GET", 0, NULL);
  advance_s(f, 20);
  route(f, "/m", "Cache-Control: max-age=10\r\nX-Version: 2\r\nContent-Type: text/b\r\n", "m",
        "\"m\"");
  req r;
  req_init(f, &r, "/m", "GET", 0, NULL);
  op o = {0};
  assert_int_equal(wait_op(f, &o, r.t->vt->start(r.t, &r.info, on_done, &o)), 0);
  const h1_headers *h = r.t->vt->response_headers(r.t);
  strbuf v = STRBUF_INIT;
  assert_true(h1_headers_get_normalized(h, "x-version", &v));
  assert_string_equal(strbuf_cstr(&v), "2"); /* updated by the 304 */
  strbuf_reset(&v);
  assert_true(h1_headers_get_normalized(h, "content-type", &v));
  assert_string_equal(strbuf_cstr(&v), "text/a"); /* never updated */
  strbuf_free(&v);
  req_free(&r);
  result_free(&a);
}

static void changed_resource_replaces_the_entry(void **state) {
  fixture *f = *state;
  route(f, "/chg", "Cache-Control: max-age=10\r\n", "old body", "\"a\"");
  result a = fetch(f, "/chg", "GET", 0, NULL);
  assert_body(&a, "old body");
  advance_s(f, 20);
  route(f, "/chg", "Cache-Control: max-age=10\r\n", "new body!", "\"b\"");
  result b = fetch(f, "/chg", "GET", 0, NULL);
  assert_body(&b, "new body!");
  assert_false(b.was_cached);
  result c = fetch(f, "/chg", "GET", 0, NULL);
  assert_body(&c, "new body!");
  assert_true(c.was_cached);
  assert_int_equal(http_origin_requests(f->origin), 2);
  result_free(&a);
  result_free(&b);
  result_free(&c);
}

static void vary_keeps_variants_apart(void **state) {
  fixture *f = *state;
  http_origin_route r;
  http_origin_route_init(&r, "/vary");
  r.headers = "Cache-Control: max-age=60\r\nVary: Accept-Encoding\r\n";
  r.match_header = "Accept-Encoding";
  r.match_value = "gzip";
  r.body = "GZIP-VARIANT";
  r.etag = "\"gz\"";
  http_origin_set(f->origin, &r);
  r.match_value = NULL; /* no Accept-Encoding */
  r.body = "IDENTITY-VARIANT";
  r.etag = "\"id\"";
  http_origin_set(f->origin, &r);

  result a = fetch(f, "/vary", "GET", 0, "gzip");
  assert_body(&a, "GZIP-VARIANT");
  result b = fetch(f, "/vary", "GET", 0, NULL);
  assert_body(&b, "IDENTITY-VARIANT");
  assert_false(b.was_cached);
  result c = fetch(f, "/vary", "GET", 0, NULL);
  assert_body(&c, "IDENTITY-VARIANT");
  assert_true(c.was_cached);
  result d = fetch(f, "/vary", "GET", 0, "gzip");
  assert_body(&d, "GZIP-VARIANT");
  assert_false(d.was_cached);
  assert_int_equal(http_origin_requests(f->origin), 3);
  result_free(&a);
  result_free(&b);
  result_free(&c);
  result_free(&d);
}

static void no_store_is_never_stored(void **state) {
  fixture *f = *state;
  route(f, "/ns", "Cache-Control: no-store, max-age=60\r\n", "secret", NULL);
  result a = fetch(f, "/ns", "GET", 0, NULL);
  result b = fetch(f, "/ns", "GET", 0, NULL);
  assert_body(&b, "secret");
  assert_false(b.was_cached);
  assert_int_equal(http_origin_requests(f->origin), 2);
  cache_backend *be = http_cache_backend(f->cache);
  assert_int_equal(be->vt->count(be), 0);
  result_free(&a);
  result_free(&b);
}

static void post_invalidates_the_entry(void **state) {
  fixture *f = *state;
  route(f, "/p", "Cache-Control: max-age=60\r\n", "resource", NULL);
  result a = fetch(f, "/p", "GET", 0, NULL);
  result b = fetch(f, "/p", "POST", 0, NULL);
  assert_int_equal(b.rv, 0);
  assert_false(b.was_cached);
  result c = fetch(f, "/p", "GET", 0, NULL);
  assert_body(&c, "resource");
  assert_false(c.was_cached);
  assert_int_equal(http_origin_requests(f->origin), 3);
  char m[16];
  assert_true(http_origin_request_method(f->origin, 1, m, sizeof m));
  assert_string_equal(m, "POST");
  result_free(&a);
  result_free(&b);
  result_free(&c);
}

static void only_from_cache_miss_is_cache_miss(void **state) {
  fixture *f = *state;
  route(f, "/ofc", "Cache-Control: max-age=60\r\n", "x", NULL);
  result a = fetch(f, "/ofc", "GET", HTTP_LOAD_ONLY_FROM_CACHE, NULL);
  assert_int_equal(a.rv, CRONC_ERR_CACHE_MISS);
  assert_int_equal(http_origin_requests(f->origin), 0);
  result b = fetch(f, "/ofc", "GET", 0, NULL);
  result c = fetch(f, "/ofc", "GET", HTTP_LOAD_ONLY_FROM_CACHE, NULL);
  assert_body(&c, "x");
  assert_true(c.was_cached);
  /* Stale and only-from-cache: a miss too (it would need the network). */
  advance_s(f, 120);
  result d = fetch(f, "/ofc", "GET", HTTP_LOAD_ONLY_FROM_CACHE, NULL);
  assert_int_equal(d.rv, CRONC_ERR_CACHE_MISS);
  assert_int_equal(http_origin_requests(f->origin), 1);
  result_free(&a);
  result_free(&b);
  result_free(&c);
  result_free(&d);
}

static void load_flags_bypass_validate_and_prefer(void **state) {
  fixture *f = *state;
  route(f, "/lf", "Cache-Control: max-age=60\r\n", "lf", "\"lf\"");
  result a = fetch(f, "/lf", "GET", 0, NULL);
  result b = fetch(f, "/lf", "GET", HTTP_LOAD_BYPASS_CACHE, NULL);
  assert_false(b.was_cached);
  assert_int_equal(http_origin_requests(f->origin), 2);
  result c = fetch(f, "/lf", "GET", HTTP_LOAD_VALIDATE_CACHE, NULL);
  assert_true(c.validated);
  assert_int_equal(http_origin_requests(f->origin), 3);
  advance_s(f, 3600);
  result d = fetch(f, "/lf", "GET", HTTP_LOAD_SKIP_CACHE_VALIDATION, NULL);
  assert_true(d.was_cached);
  assert_false(d.validated);
  assert_int_equal(http_origin_requests(f->origin), 3);
  result e = fetch(f, "/lf", "GET", HTTP_LOAD_DISABLE_CACHE, NULL);
  assert_false(e.was_cached);
  assert_int_equal(http_origin_requests(f->origin), 4);
  result_free(&a);
  result_free(&b);
  result_free(&c);
  result_free(&d);
  result_free(&e);
}

static void head_is_served_from_a_stored_get(void **state) {
  fixture *f = *state;
  route(f, "/h", "Cache-Control: max-age=60\r\n", "head-body", NULL);
  result a = fetch(f, "/h", "GET", 0, NULL);
  result b = fetch(f, "/h", "HEAD", 0, NULL);
  assert_int_equal(b.rv, 0);
  assert_true(b.was_cached);
  assert_int_equal(b.body.len, 0);
  assert_int_equal(http_origin_requests(f->origin), 1);
  result_free(&a);
  result_free(&b);
}

static void concurrent_identical_requests_fetch_once(void **state) {
  fixture *f = *state;
  http_origin_route r;
  http_origin_route_init(&r, "/c");
  r.headers = "Cache-Control: max-age=60\r\n";
  r.body = "concurrent";
  r.delay_ms = 50;
  http_origin_set(f->origin, &r);
  req r1, r2;
  req_init(f, &r1, "/c", "GET", 0, NULL);
  req_init(f, &r2, "/c", "GET", 0, NULL);
  op o1 = {0}, o2 = {0};
  int rv1 = r1.t->vt->start(r1.t, &r1.info, on_done, &o1);
  int rv2 = r2.t->vt->start(r2.t, &r2.info, on_done, &o2);
  assert_int_equal(rv1, CRONC_ERR_IO_PENDING);
  assert_int_equal(rv2, CRONC_ERR_IO_PENDING); /* waits for the writer */
  assert_int_equal(wait_op(f, &o1, rv1), 0);
  result a = {0}, b = {0};
  read_all(f, &r1, &a); /* the writer stores the body, then the waiter goes */
  assert_int_equal(wait_op(f, &o2, rv2), 0);
  read_all(f, &r2, &b);
  assert_body(&a, "concurrent");
  assert_body(&b, "concurrent");
  assert_false(a.was_cached);
  assert_true(b.was_cached);
  assert_int_equal(http_origin_requests(f->origin), 1);
  req_free(&r1);
  req_free(&r2);
  result_free(&a);
  result_free(&b);
}

static void waiter_proceeds_when_the_writer_is_freed(void **state) {
  fixture *f = *state;
  route(f, "/w", "Cache-Control: max-age=60\r\n", "waited", NULL);
  req r1, r2;
  req_init(f, &r1, "/w", "GET", 0, NULL);
  req_init(f, &r2, "/w", "GET", 0, NULL);
  op o1 = {0}, o2 = {0};
  int rv1 = r1.t->vt->start(r1.t, &r1.info, on_done, &o1);
  int rv2 = r2.t->vt->start(r2.t, &r2.info, on_done, &o2);
  assert_int_equal(wait_op(f, &o1, rv1), 0);
  req_free(&r1); /* the writer gives up before the body: nothing stored */
  assert_int_equal(wait_op(f, &o2, rv2), 0);
  result b = {0};
  read_all(f, &r2, &b);
  assert_body(&b, "waited");
  assert_false(b.was_cached);
  assert_int_equal(http_origin_requests(f->origin), 2);
  req_free(&r2);
  result_free(&b);
}

static void truncated_body_is_never_stored(void **state) {
  fixture *f = *state;
  static char big[10000];
  memset(big, 'z', sizeof big);
  http_origin_route r;
  http_origin_route_init(&r, "/t");
  r.headers = "Cache-Control: max-age=60\r\n";
  r.body = big;
  r.body_len = sizeof big;
  r.cut_after = 3000;
  http_origin_set(f->origin, &r);
  result a = fetch(f, "/t", "GET", 0, NULL);
  assert_true(a.rv < 0);
  cache_backend *be = http_cache_backend(f->cache);
  assert_int_equal(be->vt->count(be), 0);
  result b = fetch(f, "/t", "GET", HTTP_LOAD_ONLY_FROM_CACHE, NULL);
  assert_int_equal(b.rv, CRONC_ERR_CACHE_MISS);
  result_free(&a);
  result_free(&b);
}

static void size_limit_evicts_least_recently_used(void **state) {
  fixture *f = *state;
  static char body[1000];
  memset(body, 'b', sizeof body);
  char path[32];
  for (int i = 0; i < 10; i++) {
    snprintf(path, sizeof path, "/e%d", i);
    http_origin_route r;
    http_origin_route_init(&r, path);
    r.headers = "Cache-Control: max-age=600\r\n";
    r.body = body;
    r.body_len = sizeof body;
    http_origin_set(f->origin, &r);
  }
  /* Measure one entry, then make a cache that holds nine and a half. */
  result probe = fetch(f, "/e0", "GET", 0, NULL);
  result_free(&probe);
  cache_backend *be = http_cache_backend(f->cache);
  int64_t one = be->vt->size(be);
  assert_true(one > 1000);
  http_cache_free(f->cache);
  int64_t limit = one * 9 + one / 2;
  make_cache(f, cache_mem_backend_new(limit));
  for (int i = 0; i < 6; i++) {
    snprintf(path, sizeof path, "/e%d", i);
    result a = fetch(f, path, "GET", 0, NULL);
    result_free(&a);
  }
  /* Use /e0 again: now /e1 is the least recently used. */
  result u = fetch(f, "/e0", "GET", 0, NULL);
  assert_true(u.was_cached);
  result_free(&u);
  for (int i = 6; i < 10; i++) {
    snprintf(path, sizeof path, "/e%d", i);
    result a = fetch(f, path, "GET", 0, NULL);
    result_free(&a);
  }
  be = http_cache_backend(f->cache);
  assert_true(be->vt->size(be) <= limit);
  assert_int_equal(be->vt->count(be), 9);
  result e0 = fetch(f, "/e0", "GET", HTTP_LOAD_ONLY_FROM_CACHE, NULL);
  assert_true(e0.was_cached);
  result e1 = fetch(f, "/e1", "GET", HTTP_LOAD_ONLY_FROM_CACHE, NULL);
  assert_int_equal(e1.rv, CRONC_ERR_CACHE_MISS);
  result e9 = fetch(f, "/e9", "GET", HTTP_LOAD_ONLY_FROM_CACHE, NULL);
  assert_true(e9.was_cached);
  result_free(&e0);
  result_free(&e1);
  result_free(&e9);
}

static void disk_cache_survives_reopen(void **state) {
  fixture *f = *state;
  assert_true(test_make_temp_dir("cronc-cache", f->dir, sizeof f->dir));
  http_cache_free(f->cache);
  cache_backend *b = NULL;
  assert_int_equal(cache_disk_backend_new(f->dir, 0, NULL, &b), 0);
  make_cache(f, b);
  static char big[50000];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char)('a' + i % 26);
  http_origin_route r;
  http_origin_route_init(&r, "/big");
  r.headers = "Cache-Control: max-age=600\r\n";
  r.body = big;
  r.body_len = sizeof big;
  http_origin_set(f->origin, &r);
  route(f, "/small", "Cache-Control: max-age=600\r\n", "small body", NULL);
  result a = fetch(f, "/big", "GET", 0, NULL);
  result s = fetch(f, "/small", "GET", 0, NULL);
  assert_int_equal(a.body.len, sizeof big);
  http_cache_free(f->cache); /* the engine stops */
  b = NULL;
  assert_int_equal(cache_disk_backend_new(f->dir, 0, NULL, &b), 0);
  make_cache(f, b);
  result a2 = fetch(f, "/big", "GET", 0, NULL);
  result s2 = fetch(f, "/small", "GET", 0, NULL);
  assert_true(a2.was_cached);
  assert_true(s2.was_cached);
  assert_int_equal(a2.body.len, sizeof big);
  assert_memory_equal(a2.body.data, big, sizeof big);
  assert_body(&s2, "small body");
  assert_int_equal(http_origin_requests(f->origin), 2);
  result_free(&a);
  result_free(&s);
  result_free(&a2);
  result_free(&s2);
}

static void put_and_delete_invalidate_after_success(void **state) {
  fixture *f = *state;
  route(f, "/d", "Cache-Control: max-age=60\r\n", "doc", NULL);
  result a = fetch(f, "/d", "GET", 0, NULL);
  result b = fetch(f, "/d", "DELETE", 0, NULL);
  assert_int_equal(b.rv, 0);
  result c = fetch(f, "/d", "GET", HTTP_LOAD_ONLY_FROM_CACHE, NULL);
  assert_int_equal(c.rv, CRONC_ERR_CACHE_MISS);
  result_free(&a);
  result_free(&b);
  result_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(fresh_hit_is_served_without_network, setup, teardown),
      cmocka_unit_test_setup_teardown(stale_entry_is_revalidated_with_304, setup, teardown),
      cmocka_unit_test_setup_teardown(merged_304_headers_are_served, setup, teardown),
      cmocka_unit_test_setup_teardown(changed_resource_replaces_the_entry, setup, teardown),
      cmocka_unit_test_setup_teardown(vary_keeps_variants_apart, setup, teardown),
      cmocka_unit_test_setup_teardown(no_store_is_never_stored, setup, teardown),
      cmocka_unit_test_setup_teardown(post_invalidates_the_entry, setup, teardown),
      cmocka_unit_test_setup_teardown(only_from_cache_miss_is_cache_miss, setup, teardown),
      cmocka_unit_test_setup_teardown(load_flags_bypass_validate_and_prefer, setup, teardown),
      cmocka_unit_test_setup_teardown(head_is_served_from_a_stored_get, setup, teardown),
      cmocka_unit_test_setup_teardown(concurrent_identical_requests_fetch_once, setup, teardown),
      cmocka_unit_test_setup_teardown(waiter_proceeds_when_the_writer_is_freed, setup, teardown),
      cmocka_unit_test_setup_teardown(truncated_body_is_never_stored, setup, teardown),
      cmocka_unit_test_setup_teardown(size_limit_evicts_least_recently_used, setup, teardown),
      cmocka_unit_test_setup_teardown(disk_cache_survives_reopen, setup, teardown),
      cmocka_unit_test_setup_teardown(put_and_delete_invalidate_after_success, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
