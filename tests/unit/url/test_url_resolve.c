/* url/url_resolve: relative reference resolution, and the fragment that
 * url_parse now keeps beside the spec. Expected values are RFC 3986 section
 * 5.4 as browsers (WHATWG URL standard) read it: an authority-only result
 * gets the path "/", and "http:g" against an http base is relative. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cronc/cronc.h"
#include "url/url.h"

#define RFC_BASE "http://a/b/c/d;p?q"

static void parse_or_fail(const char *in, url *u) {
  int rv = url_parse(in, strlen(in), u);
  if (rv != CRONC_OK)
    fail_msg("parse of base \"%s\" failed: %s", in, cronc_error_name(rv));
}

/* Resolves ref against base_in; checks the spec and the fragment (NULL =
 * none expected). */
static void expect_resolved_len(const char *base_in, const char *ref, size_t ref_len,
                                const char *spec, const char *fragment) {
  url base, u;
  parse_or_fail(base_in, &base);
  int rv = url_resolve(&base, ref, ref_len, &u);
  if (rv != CRONC_OK)
    fail_msg("\"%s\" against \"%s\" failed: %s", ref, base_in, cronc_error_name(rv));
  if (strcmp(u.spec, spec) != 0)
    fail_msg("\"%s\" against \"%s\": \"%s\", expected \"%s\"", ref, base_in, u.spec, spec);
  if (!fragment && u.fragment)
    fail_msg("\"%s\": unexpected fragment \"%s\"", ref, u.fragment);
  if (fragment && (!u.fragment || strcmp(u.fragment, fragment) != 0))
    fail_msg("\"%s\": fragment \"%s\", expected \"%s\"", ref, u.fragment ? u.fragment : "(null)",
             fragment);
  url_free(&u);
  url_free(&base);
}

static void expect_resolved(const char *base_in, const char *ref, const char *spec,
                            const char *fragment) {
  expect_resolved_len(base_in, ref, strlen(ref), spec, fragment);
}

static void expect_resolve_error(const char *base_in, const char *ref, int error) {
  url base, u;
  parse_or_fail(base_in, &base);
  int rv = url_resolve(&base, ref, strlen(ref), &u);
  if (rv != error)
    fail_msg("\"%s\" against \"%s\": %s (%s), expected %s", ref, base_in, cronc_error_name(rv),
             rv == CRONC_OK ? u.spec : "-", cronc_error_name(error));
  assert_null(u.spec);
  assert_null(u.host);
  assert_null(u.fragment);
  url_free(&base);
}

/* ---------------------------------------------------------------------- */
/* url_parse keeps the fragment beside the spec. */

static void parse_keeps_the_fragment_out_of_the_spec(void **state) {
  (void)state;
  url u;
  parse_or_fail("https://h.example/p?q#frag", &u);
  assert_string_equal(u.spec, "https://h.example/p?q");
  assert_string_equal(u.query, "q");
  assert_string_equal(u.fragment, "frag");
  url_free(&u);
  assert_null(u.fragment);

  parse_or_fail("http://h.example/p", &u);
  assert_null(u.fragment);
  url_free(&u);

  parse_or_fail("http://h.example#", &u); /* a bare '#' is an empty fragment */
  assert_string_equal(u.spec, "http://h.example/");
  assert_string_equal(u.fragment, "");
  url_free(&u);

  parse_or_fail("http://h.example/p#a#b?c/../d", &u); /* only the first '#' splits */
  assert_string_equal(u.path, "/p");
  assert_null(u.query);
  assert_string_equal(u.fragment, "a#b?c/../d");
  url_free(&u);

  parse_or_fail("http://h.example?x#", &u);
  assert_string_equal(u.query, "x");
  assert_string_equal(u.fragment, "");
  url_free(&u);
}

static void parse_encodes_the_fragment_like_browsers(void **state) {
  (void)state;
  url u;
  /* WHATWG fragment set: C0 controls, space, ", <, >, ` and non-ASCII. */
  parse_or_fail("http://h/#a b\"<>`{}?'#\\|^\xc3\xa9\x7f", &u);
  assert_string_equal(u.fragment, "a%20b%22%3C%3E%60{}?'#\\|^%C3%A9%7F");
  url_free(&u);
  /* Tabs and newlines are removed there too; existing escapes kept. */
  parse_or_fail("http://h/#a\tb\nc%41", &u);
  assert_string_equal(u.fragment, "abc%41");
  url_free(&u);
  char with_nul[] = "http://h/#a\0b";
  assert_int_equal(url_parse(with_nul, sizeof(with_nul) - 1, &u), CRONC_OK);
  assert_string_equal(u.fragment, "a%00b");
  url_free(&u);
}

/* ---------------------------------------------------------------------- */
/* RFC 3986 section 5.4. */

static void rfc3986_normal_examples_resolve(void **state) {
  (void)state;
  static const struct {
    const char *ref, *spec, *fragment;
  } cases[] = {
      {"g", "http://a/b/c/g", NULL},      {"./g", "http://a/b/c/g", NULL},
      {"g/", "http://a/b/c/g/", NULL},    {"/g", "http://a/g", NULL},
      {"//g", "http://g/", NULL}, /* RFC: "http://g"; special URLs get a path */
      {"?y", "http://a/b/c/d;p?y", NULL}, {"g?y", "http://a/b/c/g?y", NULL},
      {"#s", "http://a/b/c/d;p?q", "s"},  {"g#s", "http://a/b/c/g", "s"},
      {"g?y#s", "http://a/b/c/g?y", "s"}, {";x", "http://a/b/c/;x", NULL},
      {"g;x", "http://a/b/c/g;x", NULL},  {"g;x?y#s", "http://a/b/c/g;x?y", "s"},
      {"", "http://a/b/c/d;p?q", NULL},   {".", "http://a/b/c/", NULL},
      {"./", "http://a/b/c/", NULL},      {"..", "http://a/b/", NULL},
      {"../", "http://a/b/", NULL},       {"../g", "http://a/b/g", NULL},
      {"../..", "http://a/", NULL},       {"../../", "http://a/", NULL},
      {"../../g", "http://a/g", NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    expect_resolved(RFC_BASE, cases[i].ref, cases[i].spec, cases[i].fragment);
  /* "g:h" -> "g:h" in the RFC: a scheme cronc does not fetch. */
  expect_resolve_error(RFC_BASE, "g:h", CRONC_ERR_UNKNOWN_URL_SCHEME);
}

static void rfc3986_abnormal_examples_resolve(void **state) {
  (void)state;
  static const struct {
    const char *ref, *spec, *fragment;
  } cases[] = {
      {"../../../g", "http://a/g", NULL},
      {"../../../../g", "http://a/g", NULL},
      {"/./g", "http://a/g", NULL},
      {"/../g", "http://a/g", NULL},
      {"g.", "http://a/b/c/g.", NULL},
      {".g", "http://a/b/c/.g", NULL},
      {"g..", "http://a/b/c/g..", NULL},
      {"..g", "http://a/b/c/..g", NULL},
      {"./../g", "http://a/b/g", NULL},
      {"./g/.", "http://a/b/c/g/", NULL},
      {"g/./h", "http://a/b/c/g/h", NULL},
      {"g/../h", "http://a/b/c/h", NULL},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y", NULL},
      {"g;x=1/../y", "http://a/b/c/y", NULL},
      {"g?y/./x", "http://a/b/c/g?y/./x", NULL},
      {"g?y/../x", "http://a/b/c/g?y/../x", NULL},
      {"g#s/./x", "http://a/b/c/g", "s/./x"},
      {"g#s/../x", "http://a/b/c/g", "s/../x"},
      /* Same scheme without "//": relative, as the RFC allows "for backward
       * compatibility" and browsers do. */
      {"http:g", "http://a/b/c/g", NULL},
      {"HTTP:g", "http://a/b/c/g", NULL},
      {"http:/g", "http://a/g", NULL},
      {"http:?y", "http://a/b/c/d;p?y", NULL},
      {"http:#s", "http://a/b/c/d;p?q", "s"},
      {"http:", "http://a/b/c/d;p?q", NULL},
      /* Encoded dot segments are dot segments. */
      {"%2e%2E/g", "http://a/b/g", NULL},
      {".%2e/.%2E/x", "http://a/x", NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    expect_resolved(RFC_BASE, cases[i].ref, cases[i].spec, cases[i].fragment);
}

static void absolute_references_ignore_the_base(void **state) {
  (void)state;
  expect_resolved(RFC_BASE, "https://x.example/p?q#f", "https://x.example/p?q", "f");
  expect_resolved(RFC_BASE, "http://x.example", "http://x.example/", NULL);
  expect_resolved(RFC_BASE, "HTTP://X.Example:80/./a/../b", "http://x.example/b", NULL);
  expect_resolved(RFC_BASE, "ws://x.example/chat", "ws://x.example/chat", NULL);
  expect_resolved("https://a.example/x", "http://b.example/", "http://b.example/", NULL);
  /* Another special scheme without slashes is absolute ("https:h" = host h). */
  expect_resolved(RFC_BASE, "https:x.example/p", "https://x.example/p", NULL);
  expect_resolved(RFC_BASE, "wss:x", "wss://x/", NULL);
  /* Same scheme with two or more slashes (or backslashes) is absolute. */
  expect_resolved(RFC_BASE, "http://x/y", "http://x/y", NULL);
  expect_resolved(RFC_BASE, "http:\\\\x\\y", "http://x/y", NULL);
  expect_resolved(RFC_BASE, "http:/\\x", "http://x/", NULL);
  expect_resolved(RFC_BASE, "http:////x/y", "http://x/y", NULL);
  /* Userinfo of the base is not carried to another host. */
  expect_resolved("http://u:p@a/b", "//c/d", "http://c/d", NULL);
}

static void unsupported_schemes_are_refused(void **state) {
  (void)state;
  expect_resolve_error(RFC_BASE, "ftp://x.example/f", CRONC_ERR_UNKNOWN_URL_SCHEME);
  expect_resolve_error(RFC_BASE, "data:text/plain,hi", CRONC_ERR_UNKNOWN_URL_SCHEME);
  expect_resolve_error(RFC_BASE, "file:///etc/passwd", CRONC_ERR_UNKNOWN_URL_SCHEME);
  expect_resolve_error(RFC_BASE, "javascript:alert(1)", CRONC_ERR_UNKNOWN_URL_SCHEME);
  expect_resolve_error(RFC_BASE, " \tJavaScript:x", CRONC_ERR_UNKNOWN_URL_SCHEME);
  expect_resolve_error(RFC_BASE, "ja\nva\tscript:x", CRONC_ERR_UNKNOWN_URL_SCHEME);
  /* "localhost:8080" reads as scheme "localhost", as in browsers. */
  expect_resolve_error(RFC_BASE, "localhost:8080/x", CRONC_ERR_UNKNOWN_URL_SCHEME);
  /* Not a scheme (must start with a letter, no space): a relative path. */
  expect_resolved(RFC_BASE, "1x:y", "http://a/b/c/1x:y", NULL);
  expect_resolved(RFC_BASE, "ht tp://x/", "http://a/b/c/ht%20tp://x/", NULL);
  expect_resolved(RFC_BASE, "./g:h", "http://a/b/c/g:h", NULL);
}

static void scheme_relative_references_keep_only_the_scheme(void **state) {
  (void)state;
  expect_resolved("https://a.example:8443/p?q", "//b.example/x?y#z", "https://b.example/x?y", "z");
  expect_resolved("https://a.example/p", "//B.Example:443", "https://b.example/", NULL);
  expect_resolved("https://a.example/p", "//b.example:80/", "https://b.example:80/", NULL);
  expect_resolved("ws://a.example/p", "//b.example/chat", "ws://b.example/chat", NULL);
  expect_resolved("http://a.example/p", "//user:pw@b.example/", "http://user:pw@b.example/", NULL);
  expect_resolved("http://a.example/p", "///b.example/x", "http://b.example/x", NULL);
  expect_resolve_error("http://a.example/p", "//", CRONC_ERR_INVALID_URL);
  expect_resolve_error("http://a.example/p", "//:80/x", CRONC_ERR_INVALID_URL);
  expect_resolve_error("http://a.example/p", "//b.example:99999/", CRONC_ERR_INVALID_URL);
  expect_resolve_error("http://a.example/p", "//b ad/", CRONC_ERR_INVALID_URL);
}

static void absolute_path_and_query_keep_the_authority(void **state) {
  (void)state;
  const char *base = "https://u:p@a.example:8443/b/c?q#f";
  expect_resolved(base, "/x/../y?z", "https://u:p@a.example:8443/y?z", NULL);
  expect_resolved(base, "?z", "https://u:p@a.example:8443/b/c?z", NULL);
  expect_resolved(base, "?", "https://u:p@a.example:8443/b/c?", NULL);
  expect_resolved(base, "d", "https://u:p@a.example:8443/b/d", NULL);
  expect_resolved(base, "#g", "https://u:p@a.example:8443/b/c?q", "g");
  expect_resolved(base, "#", "https://u:p@a.example:8443/b/c?q", "");
  /* The base's fragment is never inherited, even by "". */
  expect_resolved(base, "", "https://u:p@a.example:8443/b/c?q", NULL);
  /* A base path of "/" and a trailing-slash base. */
  expect_resolved("http://a.example", "x", "http://a.example/x", NULL);
  expect_resolved("http://a.example/d/", "x", "http://a.example/d/x", NULL);
  expect_resolved("http://a.example/d/", "..", "http://a.example/", NULL);
}

static void whitespace_around_and_inside_is_removed(void **state) {
  (void)state;
  expect_resolved(RFC_BASE, "  g  ", "http://a/b/c/g", NULL);
  expect_resolved(RFC_BASE, "\x01\x1f g\x7f", "http://a/b/c/g%7F", NULL); /* DEL is not C0 */
  expect_resolved(RFC_BASE, "\tg\r\n", "http://a/b/c/g", NULL);
  expect_resolved(RFC_BASE, "g\th\ni\rj", "http://a/b/c/ghij", NULL);
  expect_resolved(RFC_BASE, " / /x", "http://a/%20/x", NULL); /* a space inside stays */
  expect_resolved(RFC_BASE, "/\n/x", "http://x/", NULL);
  expect_resolved(RFC_BASE, "h\tttps://x/", "https://x/", NULL);
  expect_resolved(RFC_BASE, "a b?c d#e f", "http://a/b/c/a%20b?c%20d", "e%20f");
  expect_resolved(RFC_BASE, "   ", "http://a/b/c/d;p?q", NULL);
}

static void backslashes_are_slashes(void **state) {
  (void)state;
  expect_resolved(RFC_BASE, "\\g", "http://a/g", NULL);
  expect_resolved(RFC_BASE, "\\\\g\\h", "http://g/h", NULL);
  expect_resolved(RFC_BASE, "/\\g", "http://g/", NULL);
  expect_resolved(RFC_BASE, "\\/g", "http://g/", NULL);
  expect_resolved(RFC_BASE, "g\\..\\h", "http://a/b/c/h", NULL);
  expect_resolved(RFC_BASE, "..\\..\\g", "http://a/g", NULL);
  /* ... but not in the query or fragment. */
  expect_resolved(RFC_BASE, "g?a\\b#c\\d", "http://a/b/c/g?a\\b", "c\\d");
}

static void ipv6_hosts_and_ports_resolve(void **state) {
  (void)state;
  expect_resolved("http://[::1]:8080/a/b", "c", "http://[::1]:8080/a/c", NULL);
  expect_resolved("http://[::1]:8080/a/b", "/c", "http://[::1]:8080/c", NULL);
  expect_resolved("http://[::1]:8080/a/b", "?c", "http://[::1]:8080/a/b?c", NULL);
  expect_resolved(RFC_BASE, "//[2001:DB8:0:0:0:0:0:1]:81/x", "http://[2001:db8::1]:81/x", NULL);
  expect_resolved(RFC_BASE, "//[::ffff:1.2.3.4]/", "http://[::ffff:102:304]/", NULL);
  expect_resolved(RFC_BASE, "//10.0.0.1:80/", "http://10.0.0.1/", NULL);
  expect_resolved(RFC_BASE, "//0x7f.1/", "http://127.0.0.1/", NULL);
  expect_resolved("https://a.example:8443/p", "x", "https://a.example:8443/x", NULL);
  expect_resolved("https://a.example:8443/p", "//a.example/x", "https://a.example/x", NULL);
  expect_resolve_error(RFC_BASE, "//[::1/", CRONC_ERR_INVALID_URL);
  expect_resolve_error(RFC_BASE, "//[fe80::1%25eth0]/", CRONC_ERR_INVALID_URL);
  expect_resolve_error(RFC_BASE, "//a:-1/", CRONC_ERR_INVALID_URL);
}

static void idn_references_become_punycode(void **state) {
  (void)state;
  expect_resolved(RFC_BASE,
                  "//b\xc3\xbc"
                  "cher.example/x",
                  "http://xn--bcher-kva.example/x", NULL);
  expect_resolved(RFC_BASE, "https://\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf\x95/",
                  "https://xn--fsqu00a.xn--0zwm56d/", NULL);
  /* Non-ASCII in a relative path or query is percent-encoded. */
  expect_resolved(RFC_BASE, "\xc3\xa9t\xc3\xa9?\xc3\xa9", "http://a/b/c/%C3%A9t%C3%A9?%C3%A9",
                  NULL);
  expect_resolve_error(RFC_BASE, "//xn--a.example/", CRONC_ERR_INVALID_URL);
}

static void results_reparse_to_themselves(void **state) {
  (void)state;
  const char *refs[] = {"g;x?y#s",
                        "../../%7e/a b",
                        "//\xc3\x96"
                        "bb.at/..",
                        "?q'\"",
                        "#f`x",
                        "\\\\[::1]:90\\x"};
  url base;
  parse_or_fail("https://u@a.example:444/b/c/d?q#f", &base);
  for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
    url u, v, w;
    assert_int_equal(url_resolve(&base, refs[i], strlen(refs[i]), &u), CRONC_OK);
    assert_int_equal(url_parse(u.spec, strlen(u.spec), &v), CRONC_OK);
    assert_string_equal(u.spec, v.spec);
    /* An absolute reference resolves to what it parses to. */
    assert_int_equal(url_resolve(&base, u.spec, strlen(u.spec), &w), CRONC_OK);
    assert_string_equal(w.spec, u.spec);
    url_free(&u);
    url_free(&v);
    url_free(&w);
  }
  url_free(&base);
}

static void bad_arguments_are_invalid_url(void **state) {
  (void)state;
  url base, u, zero = {0};
  parse_or_fail(RFC_BASE, &base);
  assert_int_equal(url_resolve(&base, "g", 1, NULL), CRONC_ERR_INVALID_URL);
  assert_int_equal(url_resolve(NULL, "g", 1, &u), CRONC_ERR_INVALID_URL);
  assert_null(u.spec);
  assert_int_equal(url_resolve(&zero, "g", 1, &u), CRONC_ERR_INVALID_URL);
  assert_int_equal(url_resolve(&zero, "http://x/", 9, &u), CRONC_ERR_INVALID_URL);
  assert_int_equal(url_resolve(&base, NULL, 0, &u), CRONC_ERR_INVALID_URL);
  assert_int_equal(url_resolve(&base, "g", (size_t)URL_MAX_LENGTH + 1, &u), CRONC_ERR_INVALID_URL);
  url_free(&base);
}

static void a_result_longer_than_the_limit_is_refused(void **state) {
  (void)state;
  /* The reference fits, base + reference does not. */
  size_t len = URL_MAX_LENGTH - 4;
  char *big = test_malloc(len);
  memset(big, 'x', len);
  url base, u;
  parse_or_fail("http://a.example/dir/file", &base);
  assert_int_equal(url_resolve(&base, big, len, &u), CRONC_ERR_INVALID_URL);
  assert_int_equal(url_resolve(&base, big, 100, &u), CRONC_OK);
  assert_int_equal(strlen(u.path), 5 + 100);
  url_free(&u);
  url_free(&base);
  test_free(big);
}

static void a_chain_of_resolutions_walks_like_redirects(void **state) {
  (void)state;
  /* Each result is the next base, as a redirect chain uses them. */
  const char *steps[][2] = {
      {"/login?next=%2Fhome", "https://a.example/login?next=%2Fhome"},
      {"https://sso.example/auth", "https://sso.example/auth"},
      {"callback#done", "https://sso.example/callback"},
      {"//a.example/home", "https://a.example/home"},
  };
  url cur;
  parse_or_fail("https://a.example/start", &cur);
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    url next;
    assert_int_equal(url_resolve(&cur, steps[i][0], strlen(steps[i][0]), &next), CRONC_OK);
    assert_string_equal(next.spec, steps[i][1]);
    url_free(&cur);
    cur = next;
  }
  url_free(&cur);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_keeps_the_fragment_out_of_the_spec),
      cmocka_unit_test(parse_encodes_the_fragment_like_browsers),
      cmocka_unit_test(rfc3986_normal_examples_resolve),
      cmocka_unit_test(rfc3986_abnormal_examples_resolve),
      cmocka_unit_test(absolute_references_ignore_the_base),
      cmocka_unit_test(unsupported_schemes_are_refused),
      cmocka_unit_test(scheme_relative_references_keep_only_the_scheme),
      cmocka_unit_test(absolute_path_and_query_keep_the_authority),
      cmocka_unit_test(whitespace_around_and_inside_is_removed),
      cmocka_unit_test(backslashes_are_slashes),
      cmocka_unit_test(ipv6_hosts_and_ports_resolve),
      cmocka_unit_test(idn_references_become_punycode),
      cmocka_unit_test(results_reparse_to_themselves),
      cmocka_unit_test(bad_arguments_are_invalid_url),
      cmocka_unit_test(a_result_longer_than_the_limit_is_refused),
      cmocka_unit_test(a_chain_of_resolutions_walks_like_redirects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
