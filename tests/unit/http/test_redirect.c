/* http/redirect: which responses are redirects, the method rewrite of RFC
 * 9110 section 15.4 as Chromium applies it, body and header stripping, the
 * new URL (relative Location, fragment carried over), and the errors that end
 * a redirect chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cronc/cronc.h"
#include "http/redirect.h"
#include "url/url.h"

/* Runs redirect_compute for a request to url_in; location may be NULL. */
static int compute(const char *method, const char *url_in, int status, const char *location,
                   unsigned count, redirect_info *out) {
  url u;
  if (url_parse(url_in, strlen(url_in), &u) != CRONC_OK)
    fail_msg("bad test URL %s", url_in);
  redirect_input in = {.method = method,
                       .url = &u,
                       .status = status,
                       .location = location,
                       .location_len = location ? strlen(location) : 0,
                       .redirect_count = count};
  int rv = redirect_compute(&in, out);
  url_free(&u);
  return rv;
}

static void expect_location(const char *url_in, const char *location, const char *new_location) {
  redirect_info info;
  int rv = compute("GET", url_in, 302, location, 0, &info);
  if (rv != CRONC_OK)
    fail_msg("%s + Location %s: %s", url_in, location, cronc_error_name(rv));
  assert_true(info.is_redirect);
  if (strcmp(info.new_location, new_location) != 0)
    fail_msg("%s + Location %s: %s, expected %s", url_in, location, info.new_location,
             new_location);
  redirect_info_free(&info);
}

static void expect_failure(const char *location, unsigned count, int error) {
  redirect_info info;
  int rv = compute("GET", "https://a.example/p", 302, location, count, &info);
  if (rv != error)
    fail_msg("Location %s: %s, expected %s", location, cronc_error_name(rv),
             cronc_error_name(error));
  assert_true(info.is_redirect); /* it was a redirect, just not one to follow */
  assert_int_equal(info.status, 302);
  assert_null(info.new_url.spec);
  assert_null(info.new_location);
  assert_null(info.new_method);
  redirect_info_free(&info);
}

/* ---------------------------------------------------------------------- */

static void only_301_302_303_307_308_are_redirects(void **state) {
  (void)state;
  const int redirects[] = {301, 302, 303, 307, 308};
  for (size_t i = 0; i < sizeof(redirects) / sizeof(redirects[0]); i++)
    assert_true(redirect_is_redirect_status(redirects[i]));
  /* 300 Multiple Choices is shown, not followed (Chromium); 304-306 are not
   * redirects; neither are 201 or 2xx with Content-Location-like use. */
  const int others[] = {0, -1, 100, 200, 201, 204, 300, 304, 305, 306, 309, 310, 399, 400, 3010};
  for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
    assert_false(redirect_is_redirect_status(others[i]));
    redirect_info info;
    assert_int_equal(compute("GET", "http://a.example/", others[i], "/x", 0, &info), CRONC_OK);
    assert_false(info.is_redirect);
    assert_null(info.new_url.spec);
    assert_null(info.new_location);
    redirect_info_free(&info);
  }
}

static void methods_are_rewritten_per_status(void **state) {
  (void)state;
  static const char *const methods[] = {"GET",     "HEAD",  "POST",   "PUT", "DELETE",
                                        "OPTIONS", "PATCH", "CUSTOM", "post"};
  static const int statuses[] = {301, 302, 303, 307, 308};
  for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++) {
    for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
      int status = statuses[s];
      const char *method = methods[m];
      /* 303: all but HEAD -> GET; 301/302: POST -> GET (case-sensitive, as
       * Chromium's net/); 307/308: kept. */
      const char *expected = method;
      if (status == 303 && strcmp(method, "HEAD") != 0)
        expected = "GET";
      if ((status == 301 || status == 302) && strcmp(method, "POST") == 0)
        expected = "GET";
      redirect_info info;
      assert_int_equal(compute(method, "https://a.example/form", status, "/next", 0, &info),
                       CRONC_OK);
      assert_true(info.is_redirect);
      assert_int_equal(info.status, status);
      if (strcmp(info.new_method, expected) != 0)
        fail_msg("%d %s: %s, expected %s", status, method, info.new_method, expected);
      assert_string_equal(redirect_method_for(method, status), expected);
      bool changed = strcmp(expected, method) != 0;
      assert_int_equal(info.method_changed, changed);
      /* The body and its headers go with the method. */
      assert_int_equal(info.keep_body, !changed);
      assert_int_equal(info.strip_body_headers, changed);
      redirect_info_free(&info);
    }
  }
  assert_null(redirect_method_for(NULL, 302));
}

static void kept_method_is_the_callers_string(void **state) {
  (void)state;
  const char *method = "PUT";
  redirect_info info;
  assert_int_equal(compute(method, "https://a.example/", 307, "/x", 0, &info), CRONC_OK);
  assert_ptr_equal(info.new_method, method);
  redirect_info_free(&info);
}

static void body_headers_are_stripped_when_the_method_changes(void **state) {
  (void)state;
  static const char *const stripped[] = {"Origin",           "Content-Length",
                                         "Content-Type",     "content-encoding",
                                         "CONTENT-LANGUAGE", "Content-Location"};
  static const char *const kept[] = {"Authorization", "Cookie",  "Accept",          "Content-MD5",
                                     "Content-Range", "Referer", "Content-Length ", "Content",
                                     "Origins",       "",        "X-Content-Type"};
  redirect_info post302, put307;
  assert_int_equal(compute("POST", "https://a.example/f", 302, "/g", 0, &post302), CRONC_OK);
  assert_int_equal(compute("PUT", "https://a.example/f", 307, "/g", 0, &put307), CRONC_OK);
  for (size_t i = 0; i < sizeof(stripped) / sizeof(stripped[0]); i++) {
    assert_true(redirect_removes_header(&post302, stripped[i], strlen(stripped[i])));
    assert_false(redirect_removes_header(&put307, stripped[i], strlen(stripped[i])));
  }
  for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
    assert_false(redirect_removes_header(&post302, kept[i], strlen(kept[i])));
  /* Length is honoured: a prefix of a stripped name is not stripped. */
  assert_false(redirect_removes_header(&post302, "Content-Typewriter", 18));
  assert_true(redirect_removes_header(&post302, "Content-TypeXYZ", 12));
  assert_false(redirect_removes_header(NULL, "Origin", 6));
  assert_false(redirect_removes_header(&post302, NULL, 0));
  redirect_info_free(&post302);
  redirect_info_free(&put307);
}

static void relative_locations_resolve_against_the_request_url(void **state) {
  (void)state;
  const char *base = "https://a.example/dir/page?q=1";
  expect_location(base, "other", "https://a.example/dir/other");
  expect_location(base, "../up", "https://a.example/up");
  expect_location(base, "/root?x", "https://a.example/root?x");
  expect_location(base, "?y", "https://a.example/dir/page?y");
  expect_location(base, "//b.example/", "https://b.example/");
  expect_location(base, "https://c.example:8443/z", "https://c.example:8443/z");
  expect_location(base, "  /trimmed\t ", "https://a.example/trimmed");
  expect_location(base, "\\\\d.example\\e", "https://d.example/e");
  expect_location(base, "/caf\xc3\xa9", "https://a.example/caf%C3%A9");
  expect_location(base,
                  "//b\xc3\xbc"
                  "cher.example/",
                  "https://xn--bcher-kva.example/");
  expect_location("http://[::1]:8080/a/b", "c", "http://[::1]:8080/a/c");
  expect_location(base, "#f", "https://a.example/dir/page?q=1#f");
}

static void request_fragment_is_kept_when_location_has_none(void **state) {
  (void)state;
  redirect_info info;
  assert_int_equal(compute("GET", "https://a.example/p#sec", 301, "/q", 0, &info), CRONC_OK);
  assert_string_equal(info.new_url.spec, "https://a.example/q");
  assert_string_equal(info.new_url.fragment, "sec");
  assert_string_equal(info.new_location, "https://a.example/q#sec");
  redirect_info_free(&info);
  /* The Location's own fragment wins, even an empty one. */
  expect_location("https://a.example/p#sec", "/q#other", "https://a.example/q#other");
  expect_location("https://a.example/p#sec", "/q#", "https://a.example/q#");
  /* An empty request fragment is a fragment too. */
  expect_location("https://a.example/p#", "/q", "https://a.example/q#");
  /* No fragment anywhere: none added. */
  expect_location("https://a.example/p", "/q", "https://a.example/q");
  /* Across hosts and schemes as well. */
  expect_location("https://a.example/p#x%20y", "http://b.example/", "http://b.example/#x%20y");
}

static void twenty_redirects_are_followed_and_the_21st_fails(void **state) {
  (void)state;
  assert_int_equal(REDIRECT_MAX, 20);
  url cur;
  assert_int_equal(url_parse("https://a.example/0", 19, &cur), CRONC_OK);
  for (unsigned i = 0; i < REDIRECT_MAX; i++) {
    char loc[16];
    snprintf(loc, sizeof(loc), "/%u", i + 1);
    redirect_input in = {.method = "GET",
                         .url = &cur,
                         .status = 302,
                         .location = loc,
                         .location_len = strlen(loc),
                         .redirect_count = i};
    redirect_info info;
    assert_int_equal(redirect_compute(&in, &info), CRONC_OK);
    url_free(&cur);
    cur = info.new_url; /* take the URL over; free the rest */
    memset(&info.new_url, 0, sizeof(info.new_url));
    redirect_info_free(&info);
  }
  assert_string_equal(cur.spec, "https://a.example/20");
  redirect_input in = {.method = "GET",
                       .url = &cur,
                       .status = 302,
                       .location = "/21",
                       .location_len = 3,
                       .redirect_count = REDIRECT_MAX};
  redirect_info info;
  assert_int_equal(redirect_compute(&in, &info), CRONC_ERR_TOO_MANY_REDIRECTS);
  assert_true(info.is_redirect);
  assert_null(info.new_url.spec);
  redirect_info_free(&info);
  url_free(&cur);
  expect_failure("/x", 1000, CRONC_ERR_TOO_MANY_REDIRECTS);
}

static void the_redirect_limit_is_checked_before_the_location(void **state) {
  (void)state;
  /* Chromium's order: limit, then validity, then safety. */
  expect_failure("http://", REDIRECT_MAX, CRONC_ERR_TOO_MANY_REDIRECTS);
  expect_failure("ftp://x/", REDIRECT_MAX, CRONC_ERR_TOO_MANY_REDIRECTS);
  /* ...but a normal response is never an error, whatever the count. */
  redirect_info info;
  assert_int_equal(compute("GET", "https://a.example/", 200, "/x", 999, &info), CRONC_OK);
  assert_false(info.is_redirect);
  assert_int_equal(compute("GET", "https://a.example/", 302, NULL, 999, &info), CRONC_OK);
  assert_false(info.is_redirect);
}

static void schemes_cronc_cannot_fetch_are_unsafe(void **state) {
  (void)state;
  expect_failure("ftp://x.example/f", 0, CRONC_ERR_UNSAFE_REDIRECT);
  expect_failure("data:text/html,<script>alert(1)</script>", 0, CRONC_ERR_UNSAFE_REDIRECT);
  expect_failure("file:///etc/passwd", 0, CRONC_ERR_UNSAFE_REDIRECT);
  expect_failure("javascript:alert(1)", 0, CRONC_ERR_UNSAFE_REDIRECT);
  expect_failure("about:blank", 0, CRONC_ERR_UNSAFE_REDIRECT);
  expect_failure("  Data:,x", 0, CRONC_ERR_UNSAFE_REDIRECT);
  expect_failure("ws://x.example/chat", 0, CRONC_ERR_UNSAFE_REDIRECT);
  expect_failure("wss://x.example/chat", 0, CRONC_ERR_UNSAFE_REDIRECT);
  expect_failure("WSS:x.example", 0, CRONC_ERR_UNSAFE_REDIRECT);
}

static void unresolvable_locations_are_invalid_redirects(void **state) {
  (void)state;
  expect_failure("http://", 0, CRONC_ERR_INVALID_REDIRECT);
  expect_failure("https://", 0, CRONC_ERR_INVALID_REDIRECT);
  expect_failure("//", 0, CRONC_ERR_INVALID_REDIRECT);
  expect_failure("http://[::1/", 0, CRONC_ERR_INVALID_REDIRECT);
  expect_failure("https://a.example:99999/", 0, CRONC_ERR_INVALID_REDIRECT);
  expect_failure("//exa mple.com/", 0, CRONC_ERR_INVALID_REDIRECT);
  expect_failure("http://a%00b/", 0, CRONC_ERR_INVALID_REDIRECT);
  expect_failure("//xn--a.example/", 0, CRONC_ERR_INVALID_REDIRECT);
}

static void missing_or_empty_location_is_a_normal_response(void **state) {
  (void)state;
  const char *empties[] = {NULL, "", " ", " \t "};
  for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
    redirect_info info;
    assert_int_equal(compute("POST", "https://a.example/", 303, empties[i], 0, &info), CRONC_OK);
    assert_false(info.is_redirect);
    assert_null(info.new_method);
    assert_null(info.new_location);
    redirect_info_free(&info);
  }
}

static void https_to_http_downgrade_is_followed(void **state) {
  (void)state;
  redirect_info info;
  assert_int_equal(compute("GET", "https://a.example/p", 301, "http://a.example/p", 0, &info),
                   CRONC_OK);
  assert_int_equal(info.new_url.scheme, URL_SCHEME_HTTP);
  assert_string_equal(info.new_location, "http://a.example/p");
  assert_true(info.origin_to_null); /* another origin (scheme differs) */
  redirect_info_free(&info);
  expect_location("http://a.example/", "https://a.example/", "https://a.example/");
}

static void cross_origin_redirects_null_the_origin_header(void **state) {
  (void)state;
  static const struct {
    const char *from, *to;
    bool cross;
  } cases[] = {
      {"https://a.example/p", "/q", false},
      {"https://a.example/p", "https://a.example:443/q", false},
      {"https://a.example/p", "https://A.EXAMPLE/q", false},
      {"https://a.example/p", "https://b.example/q", true},
      {"https://a.example/p", "https://a.example:8443/q", true},
      {"https://a.example/p", "http://a.example/q", true},
      {"https://u:p@a.example/p", "https://a.example/q", false}, /* userinfo is no origin */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    redirect_info info;
    assert_int_equal(compute("PUT", cases[i].from, 307, cases[i].to, 0, &info), CRONC_OK);
    if (info.origin_to_null != cases[i].cross)
      fail_msg("%s -> %s: origin_to_null %d", cases[i].from, cases[i].to, info.origin_to_null);
    /* 307 keeps the method, so Origin is not removed but nulled. */
    assert_false(redirect_removes_header(&info, "Origin", 6));
    redirect_info_free(&info);
  }
}

static void bad_arguments_are_refused(void **state) {
  (void)state;
  url u;
  assert_int_equal(url_parse("https://a.example/", 18, &u), CRONC_OK);
  redirect_input in = {
      .method = "GET", .url = &u, .status = 302, .location = "/x", .location_len = 2};
  redirect_info info;
  assert_int_equal(redirect_compute(NULL, &info), CRONC_ERR_INVALID_ARGUMENT);
  assert_false(info.is_redirect);
  assert_int_equal(redirect_compute(&in, NULL), CRONC_ERR_INVALID_ARGUMENT);
  in.method = NULL;
  assert_int_equal(redirect_compute(&in, &info), CRONC_ERR_INVALID_ARGUMENT);
  in.method = "GET";
  url zero = {0};
  in.url = &zero;
  assert_int_equal(redirect_compute(&in, &info), CRONC_ERR_INVALID_ARGUMENT);
  in.url = NULL;
  assert_int_equal(redirect_compute(&in, &info), CRONC_ERR_INVALID_ARGUMENT);
  redirect_info_free(&info);
  redirect_info_free(&info); /* twice is harmless */
  redirect_info_free(NULL);
  url_free(&u);
}

static void location_length_is_honoured(void **state) {
  (void)state;
  /* Not NUL-terminated: only location_len bytes count. */
  const char loc[] = "/first/second";
  url u;
  assert_int_equal(url_parse("https://a.example/", 18, &u), CRONC_OK);
  redirect_input in = {
      .method = "GET", .url = &u, .status = 308, .location = loc, .location_len = 6};
  redirect_info info;
  assert_int_equal(redirect_compute(&in, &info), CRONC_OK);
  assert_string_equal(info.new_location, "https://a.example/first");
  redirect_info_free(&info);
  url_free(&u);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(only_301_302_303_307_308_are_redirects),
      cmocka_unit_test(methods_are_rewritten_per_status),
      cmocka_unit_test(kept_method_is_the_callers_string),
      cmocka_unit_test(body_headers_are_stripped_when_the_method_changes),
      cmocka_unit_test(relative_locations_resolve_against_the_request_url),
      cmocka_unit_test(request_fragment_is_kept_when_location_has_none),
      cmocka_unit_test(twenty_redirects_are_followed_and_the_21st_fails),
      cmocka_unit_test(the_redirect_limit_is_checked_before_the_location),
      cmocka_unit_test(schemes_cronc_cannot_fetch_are_unsafe),
      cmocka_unit_test(unresolvable_locations_are_invalid_redirects),
      cmocka_unit_test(missing_or_empty_location_is_a_normal_response),
      cmocka_unit_test(https_to_http_downgrade_is_followed),
      cmocka_unit_test(cross_origin_redirects_null_the_origin_header),
      cmocka_unit_test(bad_arguments_are_refused),
      cmocka_unit_test(location_length_is_honoured),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
