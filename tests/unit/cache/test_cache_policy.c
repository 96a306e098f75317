/* The caching rules as pure functions: HTTP dates, freshness (max-age,
 * Expires, heuristic, implicit), current age, what is stored, 304 merges,
 * validators, request-header load flags and Vary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cache/cache_policy.h"
#include "cronc/cronc.h"
#include "http/http_transaction.h"

#define SEC BASE_US_PER_SEC

static void head(h1_headers *h, int status, const char *const *kv) {
  h1_headers_init(h);
  h->status = status;
  h->http_minor = 1;
  for (; kv && kv[0]; kv += 2)
    h1_headers_add(h, kv[0], strlen(kv[0]), kv[1], strlen(kv[1]));
}

static int64_t date(const char *s) {
  int64_t t = 0;
  assert_true(cache_parse_http_date(s, strlen(s), &t));
  return t;
}

static void http_dates_parse_in_all_three_formats(void **state) {
  int64_t want = INT64_C(784111777) * SEC; /* Sun, 06 Nov 1994 08:49:37 GMT */
  assert_int_equal(date("Sun, 06 Nov 1994 08:49:37 GMT"), want);
  assert_int_equal(date("Sunday, 06-Nov-94 08:49:37 GMT"), want);
  assert_int_equal(date("Sun Nov  6 08:49:37 1994"), want);
  char buf[40];
  cache_format_http_date(want, buf, sizeof buf);
  assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
}

static void bad_http_dates_are_rejected(void **state) {
  int64_t t;
  const char *bad[] = {"",
                       "0",
                       "-1",
                       "yesterday",
                       "Sun, 06 Nov 1994",
                       "Sun, 32 Nov 1994 08:49:37 GMT",
                       "Sun, 06 Foo 1994 08:49:37 GMT",
                       "Sun, 06 Nov 1994 25:00:00 GMT"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_false(cache_parse_http_date(bad[i], strlen(bad[i]), &t));
}

static void max_age_wins_over_expires(void **state) {
  h1_headers h;
  const char *kv[] = {
      "Cache-Control", "public, max-age=120",           "Date", "Sun, 06 Nov 1994 08:49:37 GMT",
      "Expires",       "Sun, 06 Nov 1994 08:49:38 GMT", NULL};
  head(&h, 200, kv);
  assert_int_equal(cache_freshness_lifetime(&h, 0), 120 * SEC);
  h1_headers_free(&h);
}

static void s_maxage_is_ignored_by_a_private_cache(void **state) {
  h1_headers h;
  const char *kv[] = {"Cache-Control", "s-maxage=600", NULL};
  head(&h, 204, kv);
  assert_int_equal(cache_freshness_lifetime(&h, 0), 0);
  h1_headers_free(&h);
}

static void expires_minus_date_is_the_lifetime(void **state) {
  h1_headers h;
  const char *kv[] = {"Date", "Sun, 06 Nov 1994 08:49:37 GMT", "Expires",
                      "Sun, 06 Nov 1994 09:49:37 GMT", NULL};
  head(&h, 200, kv);
  assert_int_equal(cache_freshness_lifetime(&h, 0), 3600 * SEC);
  h1_headers_free(&h);
  const char *past[] = {"Date",          "Sun, 06 Nov 1994 08:49:37 GMT", "Expires", "0",
                        "Last-Modified", "Sun, 06 Nov 1993 08:49:37 GMT", NULL};
  head(&h, 200, past);
  assert_int_equal(cache_freshness_lifetime(&h, 0), 0);
  h1_headers_free(&h);
}

static void heuristic_is_ten_percent_of_last_modified_age(void **state) {
  h1_headers h;
  const char *kv[] = {"Date", "Sun, 06 Nov 1994 08:49:37 GMT", "Last-Modified",
                      "Sun, 06 Nov 1994 07:49:37 GMT", NULL};
  head(&h, 200, kv);
  assert_int_equal(cache_freshness_lifetime(&h, 0), 360 * SEC);
  h1_headers_free(&h);
  /* Not for must-revalidate, not for a 302. */
  const char *mr[] = {"Date",
                      "Sun, 06 Nov 1994 08:49:37 GMT",
                      "Last-Modified",
                      "Sun, 06 Nov 1994 07:49:37 GMT",
                      "Cache-Control",
                      "must-revalidate",
                      NULL};
  head(&h, 200, mr);
  assert_int_equal(cache_freshness_lifetime(&h, 0), 0);
  h1_headers_free(&h);
  head(&h, 302, kv);
  assert_int_equal(cache_freshness_lifetime(&h, 0), 0);
  h1_headers_free(&h);
}

static void permanent_redirects_are_fresh_for_ever(void **state) {
  h1_headers h;
  head(&h, 301, NULL);
  assert_int_equal(cache_freshness_lifetime(&h, 0), BASE_TIME_MAX);
  assert_false(cache_requires_validation(&h, 0, 0, INT64_C(1) << 60));
  h1_headers_free(&h);
}

static void no_cache_and_pragma_mean_zero_freshness(void **state) {
  h1_headers h;
  const char *kv[] = {"Cache-Control", "max-age=60, no-cache", NULL};
  head(&h, 200, kv);
  assert_int_equal(cache_freshness_lifetime(&h, 0), 0);
  assert_true(cache_requires_validation(&h, 0, 0, 0));
  h1_headers_free(&h);
  const char *pr[] = {"Pragma", "no-cache", "Expires", "Sun, 06 Nov 2094 08:49:37 GMT", NULL};
  head(&h, 200, pr);
  assert_int_equal(cache_freshness_lifetime(&h, 0), 0);
  h1_headers_free(&h);
}

static void current_age_follows_rfc9111(void **state) {
  h1_headers h;
  int64_t d = date("Sun, 06 Nov 1994 08:49:37 GMT");
  const char *kv[] = {"Date", "Sun, 06 Nov 1994 08:49:37 GMT", "Age", "30", NULL};
  head(&h, 200, kv);
  /* request at d+1, response at d+3: apparent 3, corrected 30 + 2 = 32;
   * resident 10. */
  assert_int_equal(cache_current_age(&h, d + 1 * SEC, d + 3 * SEC, d + 13 * SEC), 42 * SEC);
  h1_headers_free(&h);
}

static void fresh_until_age_reaches_lifetime(void **state) {
  h1_headers h;
  const char *kv[] = {"Cache-Control", "max-age=10", NULL};
  head(&h, 200, kv);
  int64_t t0 = 1000 * SEC;
  assert_false(cache_requires_validation(&h, t0, t0, t0 + 9 * SEC));
  assert_true(cache_requires_validation(&h, t0, t0, t0 + 10 * SEC));
  h1_headers_free(&h);
}

static void storable_responses(void **state) {
  h1_headers h;
  head(&h, 200, NULL);
  assert_true(cache_response_is_storable(&h));
  h1_headers_free(&h);
  head(&h, 302, NULL);
  assert_false(cache_response_is_storable(&h)); /* no explicit freshness */
  h1_headers_free(&h);
  const char *ma[] = {"Cache-Control", "max-age=5", NULL};
  head(&h, 302, ma);
  assert_true(cache_response_is_storable(&h));
  h1_headers_free(&h);
  head(&h, 206, ma);
  assert_false(cache_response_is_storable(&h));
  h1_headers_free(&h);
  const char *ns[] = {"Cache-Control", "max-age=5, no-store", NULL};
  head(&h, 200, ns);
  assert_false(cache_response_is_storable(&h));
  h1_headers_free(&h);
  const char *pv[] = {"Cache-Control", "private", NULL};
  head(&h, 302, pv);
  assert_true(cache_response_is_storable(&h)); /* a private cache may */
  h1_headers_free(&h);
  const char *vs[] = {"Vary", "*", NULL};
  head(&h, 200, vs);
  assert_false(cache_response_is_storable(&h));
  h1_headers_free(&h);
}

static void hop_by_hop_and_cookies_are_not_persisted(void **state) {
  h1_headers h, out;
  const char *kv[] = {"Connection", "keep-alive",        "Set-Cookie", "a=b", "Content-Type",
                      "text/plain", "Transfer-Encoding", "chunked",    NULL};
  head(&h, 200, kv);
  h1_headers_init(&out);
  assert_int_equal(cache_copy_persisted_headers(&h, &out), 0);
  assert_int_equal(h1_headers_count(&out), 1);
  assert_true(h1_headers_has(&out, "content-type"));
  assert_int_equal(out.status, 200);
  h1_headers_free(&h);
  h1_headers_free(&out);
}

static void merge_304_updates_all_but_protected_fields(void **state) {
  h1_headers stored, nm, out;
  const char *s[] = {
      "ETag", "\"a\"", "Content-Type", "text/a", "Cache-Control", "max-age=1", "X-Keep", "k", NULL};
  const char *n[] = {"ETag",
                     "\"b\"",
                     "Content-Type",
                     "text/b",
                     "Cache-Control",
                     "max-age=99",
                     "X-Content-Type-Options",
                     "nosniff",
                     "Connection",
                     "close",
                     NULL};
  head(&stored, 200, s);
  head(&nm, 304, n);
  h1_headers_init(&out);
  assert_int_equal(cache_merge_304(&stored, &nm, &out), 0);
  assert_int_equal(out.status, 200);
  strbuf v = STRBUF_INIT;
  assert_true(h1_headers_get_normalized(&out, "etag", &v));
  assert_string_equal(strbuf_cstr(&v), "\"a\"");
  strbuf_reset(&v);
  assert_true(h1_headers_get_normalized(&out, "content-type", &v));
  assert_string_equal(strbuf_cstr(&v), "text/a");
  strbuf_reset(&v);
  assert_true(h1_headers_get_normalized(&out, "cache-control", &v));
  assert_string_equal(strbuf_cstr(&v), "max-age=99");
  assert_true(h1_headers_has(&out, "x-keep"));
  assert_false(h1_headers_has(&out, "x-content-type-options"));
  assert_false(h1_headers_has(&out, "connection"));
  strbuf_free(&v);
  h1_headers_free(&stored);
  h1_headers_free(&nm);
  h1_headers_free(&out);
}

static void validators_come_from_etag_and_last_modified(void **state) {
  h1_headers h;
  const char *kv[] = {"ETag", "\"e\"", "Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT", NULL};
  head(&h, 200, kv);
  cache_validators v;
  assert_true(cache_get_validators(&h, false, &v));
  assert_int_equal(v.etag_len, 3);
  assert_non_null(v.last_modified);
  assert_true(cache_get_validators(&h, true, &v));
  assert_null(v.last_modified);
  h.http_minor = 0; /* HTTP/1.0: no ETag use */
  assert_true(cache_get_validators(&h, false, &v));
  assert_null(v.etag);
  assert_false(cache_get_validators(&h, true, &v));
  h.status = 404;
  assert_false(cache_get_validators(&h, false, &v));
  h1_headers_free(&h);
}

static void request_headers_map_to_load_flags(void **state) {
  h1_headers h;
  const char *nc[] = {"Cache-Control", "no-cache", NULL};
  head(&h, 0, nc);
  assert_int_equal(cache_load_flags_from_request(&h), HTTP_LOAD_BYPASS_CACHE);
  h1_headers_free(&h);
  const char *ma[] = {"Cache-Control", "max-age=0", NULL};
  head(&h, 0, ma);
  assert_int_equal(cache_load_flags_from_request(&h), HTTP_LOAD_VALIDATE_CACHE);
  h1_headers_free(&h);
  const char *rg[] = {"Range", "bytes=0-1", NULL};
  head(&h, 0, rg);
  assert_true(cache_request_is_conditional(&h));
  h1_headers_free(&h);
}

static void vary_matches_only_identical_request_values(void **state) {
  h1_headers resp, r1, r2, r3;
  const char *rv[] = {"Vary", "Accept-Encoding, X-Absent", NULL};
  const char *a[] = {"accept-encoding", "gzip", NULL};
  const char *b[] = {"Accept-Encoding", "br", NULL};
  const char *c[] = {"Accept-Encoding", "gzip", "X-Absent", "now", NULL};
  head(&resp, 200, rv);
  head(&r1, 0, a);
  head(&r2, 0, b);
  head(&r3, 0, c);
  cache_vary v;
  cache_vary_init(&v);
  assert_int_equal(cache_vary_from_request(&resp, &r1, &v), 0);
  assert_int_equal(v.count, 2);
  assert_true(cache_vary_matches(&v, &r1));
  assert_false(cache_vary_matches(&v, &r2));
  assert_false(cache_vary_matches(&v, &r3)); /* absent then, present now */
  cache_vary_free(&v);
  const char *star[] = {"Vary", "*", NULL};
  h1_headers_free(&resp);
  head(&resp, 200, star);
  cache_vary_init(&v);
  assert_int_equal(cache_vary_from_request(&resp, &r1, &v), 0);
  assert_false(cache_vary_matches(&v, &r1));
  cache_vary_free(&v);
  h1_headers_free(&resp);
  h1_headers_free(&r1);
  h1_headers_free(&r2);
  h1_headers_free(&r3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(http_dates_parse_in_all_three_formats),
      cmocka_unit_test(bad_http_dates_are_rejected),
      cmocka_unit_test(max_age_wins_over_expires),
      cmocka_unit_test(s_maxage_is_ignored_by_a_private_cache),
      cmocka_unit_test(expires_minus_date_is_the_lifetime),
      cmocka_unit_test(heuristic_is_ten_percent_of_last_modified_age),
      cmocka_unit_test(permanent_redirects_are_fresh_for_ever),
      cmocka_unit_test(no_cache_and_pragma_mean_zero_freshness),
      cmocka_unit_test(current_age_follows_rfc9111),
      cmocka_unit_test(fresh_until_age_reaches_lifetime),
      cmocka_unit_test(storable_responses),
      cmocka_unit_test(hop_by_hop_and_cookies_are_not_persisted),
      cmocka_unit_test(merge_304_updates_all_but_protected_fields),
      cmocka_unit_test(validators_come_from_etag_and_last_modified),
      cmocka_unit_test(request_headers_map_to_load_flags),
      cmocka_unit_test(vary_matches_only_identical_request_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
