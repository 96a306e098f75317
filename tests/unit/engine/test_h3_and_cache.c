/* End to end through the public API: HTTP/3 (QUIC straight to the origin,
 * 0-RTT after an engine restart on the same storage path) and the HTTP
 * cache (memory and disk, fresh hits and 304 revalidation), against a real
 * Caddy serving h1/h2/h3 on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cronc/cronc.h"
#include "support/caddy_server.h"
#include "support/fetch_util.h"
#include "support/net_test_util.h"

#define WAIT_MS 20000

static caddy_server *g_caddy; /* h1 + h2 + h3; every response max-age=3600 on /fresh/ */

static int group_setup(void **state) {
  (void)state;
  caddy_options o;
  caddy_options_init(&o);
  o.protocols = CADDY_PROTO_H1 | CADDY_PROTO_H2 | CADDY_PROTO_H3;
  /* /fresh/ is fresh for an hour; /validated/ is stored but must be
   * validated every time (no-cache), so the test never depends on the
   * heuristic freshness of a file just written. */
  o.extra_site_config = "header /fresh/* Cache-Control \"max-age=3600\"\n"
                        "\theader /validated/* Cache-Control \"no-cache\"";
  if (caddy_server_start(&o, &g_caddy) != 0)
    return -1;
  char dir[512];
  snprintf(dir, sizeof dir, "%s/fresh", caddy_server_www_dir(g_caddy));
  mkdir(dir, 0755);
  snprintf(dir, sizeof dir, "%s/validated", caddy_server_www_dir(g_caddy));
  mkdir(dir, 0755);
  caddy_server_put_file(g_caddy, "small.txt", "hello over h3\n", 14);
  caddy_server_put_file(g_caddy, "fresh/a.txt", "fresh entry\n", 12);
  caddy_server_put_file(g_caddy, "validated/v.txt", "validated entry\n", 16);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  caddy_server_stop(g_caddy);
  return 0;
}

static void url_of(char *out, size_t n, const char *path) {
  snprintf(out, n, "https://localhost:%u%s", (unsigned)caddy_server_port(g_caddy), path);
}

static cronc_engine *new_engine(const char *storage, bool h3_only, cronc_http_cache_mode cache) {
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = caddy_server_root_ca(g_caddy);
  p.storage_path = storage;
  p.http3_only = h3_only;
  p.http_cache_mode = cache;
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  return e;
}

static fetch_result *fetch(cronc_engine *e, const char *path) {
  char u[256];
  url_of(u, sizeof u, path);
  fetch_result *r = fetch_result_new();
  cronc_request *q = fetch_start(e, u, NULL, r);
  assert_non_null(q);
  assert_true(fetch_wait(r, WAIT_MS));
  cronc_request_free(q);
  return r;
}

static void http3_only_request_goes_over_h3(void **state) {
  (void)state;
  cronc_engine *e = new_engine(NULL, true, CRONC_HTTP_CACHE_DISABLED);
  fetch_result *r = fetch(e, "/small.txt");
  assert_int_equal(r->error, CRONC_OK);
  assert_int_equal(r->status, 200);
  assert_string_equal(r->protocol, "h3");
  assert_int_equal(r->bytes, 14);
  assert_false(r->zero_rtt);
  fetch_result_free(r);
  cronc_engine_free(e);
}

/* The session ticket and transport parameters go to the store; a new
 * engine on the same storage path sends its first GET as 0-RTT. */
static void restarted_engine_resumes_with_zero_rtt(void **state) {
  (void)state;
  char dir[256];
  assert_true(test_make_temp_dir("cronc-h3-store", dir, sizeof dir));
  cronc_engine *e = new_engine(dir, true, CRONC_HTTP_CACHE_DISABLED);
  fetch_result *r = fetch(e, "/small.txt");
  assert_int_equal(r->error, CRONC_OK);
  assert_false(r->zero_rtt);
  fetch_result_free(r);
  assert_int_equal(cronc_engine_shutdown(e), CRONC_OK);
  cronc_engine_free(e);

  e = new_engine(dir, true, CRONC_HTTP_CACHE_DISABLED);
  r = fetch(e, "/small.txt");
  assert_int_equal(r->error, CRONC_OK);
  assert_string_equal(r->protocol, "h3");
  assert_true(r->zero_rtt);
  assert_int_equal(r->bytes, 14);
  fetch_result_free(r);
  cronc_engine_free(e);
  test_remove_tree(dir);
}

static void memory_cache_serves_a_fresh_entry_without_the_network(void **state) {
  (void)state;
  cronc_engine *e = new_engine(NULL, false, CRONC_HTTP_CACHE_IN_MEMORY);
  fetch_result *r = fetch(e, "/fresh/a.txt");
  assert_int_equal(r->error, CRONC_OK);
  assert_false(r->was_cached);
  fetch_result_free(r);
  r = fetch(e, "/fresh/a.txt");
  assert_int_equal(r->error, CRONC_OK);
  assert_int_equal(r->status, 200);
  assert_true(r->was_cached);
  assert_false(r->cache_validated);
  assert_int_equal(r->bytes, 12);
  /* No network step happened for the hit. */
  assert_true(r->metrics.connect_start_us == -1 && r->metrics.sending_start_us == -1);
  fetch_result_free(r);
  cronc_engine_free(e);
}

/* Caddy's file server sends ETag and Last-Modified; with no-cache the
 * stored entry is validated and the 304 serves it. */
static void stale_entry_is_validated_with_a_304(void **state) {
  (void)state;
  cronc_engine *e = new_engine(NULL, false, CRONC_HTTP_CACHE_IN_MEMORY);
  fetch_result *r = fetch(e, "/validated/v.txt");
  assert_int_equal(r->error, CRONC_OK);
  fetch_result_free(r);
  r = fetch(e, "/validated/v.txt");
  assert_int_equal(r->error, CRONC_OK);
  assert_int_equal(r->status, 200);
  assert_true(r->was_cached);
  assert_true(r->cache_validated);
  assert_int_equal(r->bytes, 16);
  fetch_result_free(r);
  cronc_engine_free(e);
}

static void disk_cache_survives_an_engine_restart(void **state) {
  (void)state;
  char dir[256];
  assert_true(test_make_temp_dir("cronc-cache", dir, sizeof dir));
  cronc_engine *e = new_engine(dir, false, CRONC_HTTP_CACHE_DISK);
  fetch_result *r = fetch(e, "/fresh/a.txt");
  assert_int_equal(r->error, CRONC_OK);
  assert_false(r->was_cached);
  fetch_result_free(r);
  cronc_engine_free(e);
  e = new_engine(dir, false, CRONC_HTTP_CACHE_DISK);
  r = fetch(e, "/fresh/a.txt");
  assert_int_equal(r->error, CRONC_OK);
  assert_true(r->was_cached);
  assert_int_equal(r->bytes, 12);
  fetch_result_free(r);
  cronc_engine_free(e);
  test_remove_tree(dir);
}

static void disk_cache_without_storage_path_is_refused(void **state) {
  (void)state;
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.http_cache_mode = CRONC_HTTP_CACHE_DISK;
  cronc_engine *e = NULL;
  assert_int_not_equal(cronc_engine_new(&p, &e), CRONC_OK);
  assert_null(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(http3_only_request_goes_over_h3),
      cmocka_unit_test(restarted_engine_resumes_with_zero_rtt),
      cmocka_unit_test(memory_cache_serves_a_fresh_entry_without_the_network),
      cmocka_unit_test(stale_entry_is_validated_with_a_304),
      cmocka_unit_test(disk_cache_survives_an_engine_restart),
      cmocka_unit_test(disk_cache_without_storage_path_is_refused),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
