/* dns/host_mapping_rules: Chromium's --host-resolver-rules parsing and
 * rewriting (cases from net/base/host_mapping_rules_unittest.cc and more). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cronc/cronc.h"
#include "dns/host_mapping_rules.h"
#include "url/url.h"

static dns_host_mapping_rules *parse(const char *s, size_t *rejected) {
  dns_host_mapping_rules *r = NULL;
  assert_int_equal(dns_host_mapping_rules_parse(s, strlen(s), &r, rejected), CRONC_OK);
  assert_non_null(r);
  return r;
}

/* Rewrites host:port; returns the result, and the new host/port in out. */
static dns_mapping_result rw(const dns_host_mapping_rules *r, const char *host, uint16_t port,
                             char *out, uint16_t *out_port) {
  strcpy(out, "(untouched)");
  *out_port = 0;
  return dns_host_mapping_rules_rewrite(r, host, strlen(host), port, out, URL_MAX_HOST + 1,
                                        out_port);
}

static void test_set_rules_from_string_maps_and_excludes(void **state) {
  (void)state;
  size_t rejected = 99;
  dns_host_mapping_rules *r =
      parse("map *.com baz , map *.net bar:60, EXCLUDE *.foo.com", &rejected);
  assert_int_equal(rejected, 0);
  assert_int_equal(dns_host_mapping_rules_count(r), 3);
  char h[URL_MAX_HOST + 1];
  uint16_t p;
  assert_int_equal(rw(r, "test", 1234, h, &p), DNS_MAPPING_NO_MATCH);
  assert_string_equal(h, "(untouched)");
  assert_int_equal(rw(r, "chrome.net", 80, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "bar");
  assert_int_equal(p, 60);
  assert_int_equal(rw(r, "crack.com", 80, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "baz");
  assert_int_equal(p, 80); /* no port in the target: the original port stays */
  assert_int_equal(rw(r, "wtf.foo.com", 666, h, &p), DNS_MAPPING_NO_MATCH);
  dns_host_mapping_rules_free(r);
}

static void test_port_specific_patterns_match_host_and_port(void **state) {
  (void)state;
  dns_host_mapping_rules *r =
      parse("map *.com:80 baz:111 , map *.com:443 blat:333, EXCLUDE *.foo.com", NULL);
  char h[URL_MAX_HOST + 1];
  uint16_t p;
  assert_int_equal(rw(r, "test.com", 1234, h, &p), DNS_MAPPING_NO_MATCH);
  assert_int_equal(rw(r, "crack.com", 80, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "baz");
  assert_int_equal(p, 111);
  assert_int_equal(rw(r, "wtf.com", 443, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "blat");
  assert_int_equal(p, 333);
  assert_int_equal(rw(r, "wtf.foo.com", 443, h, &p), DNS_MAPPING_NO_MATCH);
  dns_host_mapping_rules_free(r);
}

static void test_invalid_rules_are_rejected(void **state) {
  (void)state;
  dns_host_mapping_rules *r = NULL;
  assert_int_equal(dns_host_mapping_rules_new(&r), CRONC_OK);
  static const char *bad[] = {
      "xyz",
      "",
      " ",
      "EXCLUDE",
      "EXCLUDE foo bar",
      "INCLUDE",
      "INCLUDE x",
      "INCLUDE x :10",
      "MAP a",
      "MAP a b c",
      "MAP a b:",
      "MAP a b:99999",
      "MAP a b:65536",
      "MAP a b:8x",
      "MAP a b:-1",
      "MAP a user@b",
      "MAP a @b",
      "MAP a [::1",
      "MAP a [zz]:80",
      "MAP  a b",
      "MAP a  b",
      "MAP a :80",
      "MAP\ta b",
      "MAP a b:123456",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rv = dns_host_mapping_rules_add(r, bad[i], strlen(bad[i]));
    if (rv != CRONC_ERR_INVALID_ARGUMENT)
      fail_msg("rule \"%s\" was accepted (%d)", bad[i], rv);
  }
  assert_int_equal(dns_host_mapping_rules_count(r), 0);
  /* Valid oddities Chromium accepts. */
  static const char *good[] = {
      "MAP a b:0",   "MAP a b:00080", "map A B",   "  MAP a b  ",     "EXCLUDE\t x",
      "MAP a [::1]", "MAP a [::1]:5", "Exclude *", "MAP a ^NOTFOUND",
  };
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    int rv = dns_host_mapping_rules_add(r, good[i], strlen(good[i]));
    if (rv != CRONC_OK)
      fail_msg("rule \"%s\" was rejected (%d)", good[i], rv);
  }
  dns_host_mapping_rules_free(r);
}

static void test_set_keeps_valid_rules_and_counts_rejected(void **state) {
  (void)state;
  size_t rejected = 0;
  dns_host_mapping_rules *r =
      parse("MAP a.test b.test, bogus, ,EXCLUDE c.test,MAP x y:", &rejected);
  assert_int_equal(rejected, 3); /* "bogus", the empty item, "MAP x y:" */
  assert_int_equal(dns_host_mapping_rules_count(r), 2);
  char h[URL_MAX_HOST + 1];
  uint16_t p;
  assert_int_equal(rw(r, "a.test", 443, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "b.test");
  assert_int_equal(p, 443);
  /* Setting again replaces the previous rules. */
  assert_int_equal(dns_host_mapping_rules_set(r, "MAP z.test w.test", 17, &rejected), CRONC_OK);
  assert_int_equal(rejected, 0);
  assert_int_equal(dns_host_mapping_rules_count(r), 1);
  assert_int_equal(rw(r, "a.test", 443, h, &p), DNS_MAPPING_NO_MATCH);
  dns_host_mapping_rules_free(r);
}

static void test_map_star_rewrites_everything_but_excluded(void **state) {
  (void)state;
  dns_host_mapping_rules *r = parse("MAP * 127.0.0.1, EXCLUDE localhost", NULL);
  char h[URL_MAX_HOST + 1];
  uint16_t p;
  assert_int_equal(rw(r, "www.example.com", 443, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "127.0.0.1");
  assert_int_equal(p, 443);
  assert_int_equal(rw(r, "[2001:db8::1]", 80, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "127.0.0.1");
  assert_int_equal(rw(r, "localhost", 80, h, &p), DNS_MAPPING_NO_MATCH);
  dns_host_mapping_rules_free(r);
}

static void test_exclude_applies_wherever_it_is_listed(void **state) {
  (void)state;
  /* EXCLUDE before the MAP it overrides; matched on the host only. */
  dns_host_mapping_rules *r =
      parse("EXCLUDE secret.example.com, MAP *.example.com 10.0.0.1:8443, EXCLUDE *:443", NULL);
  char h[URL_MAX_HOST + 1];
  uint16_t p;
  assert_int_equal(rw(r, "secret.example.com", 80, h, &p), DNS_MAPPING_NO_MATCH);
  assert_int_equal(rw(r, "www.example.com", 443, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "10.0.0.1");
  assert_int_equal(p, 8443);
  dns_host_mapping_rules_free(r);
}

static void test_wildcard_subdomain_does_not_match_apex(void **state) {
  (void)state;
  dns_host_mapping_rules *r = parse("MAP *.example.com 127.0.0.1", NULL);
  char h[URL_MAX_HOST + 1];
  uint16_t p;
  assert_int_equal(rw(r, "example.com", 443, h, &p), DNS_MAPPING_NO_MATCH);
  assert_int_equal(rw(r, "a.b.example.com", 443, h, &p), DNS_MAPPING_REWRITTEN);
  assert_int_equal(rw(r, "example.com.evil", 443, h, &p), DNS_MAPPING_NO_MATCH);
  dns_host_mapping_rules_free(r);
}

static void test_first_matching_map_rule_wins(void **state) {
  (void)state;
  dns_host_mapping_rules *r = parse("MAP a.com first:1, MAP *.com second:2", NULL);
  char h[URL_MAX_HOST + 1];
  uint16_t p;
  assert_int_equal(rw(r, "a.com", 80, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "first");
  assert_int_equal(p, 1);
  assert_int_equal(rw(r, "b.com", 80, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "second");
  dns_host_mapping_rules_free(r);
}

static void test_ipv6_targets_and_hosts(void **state) {
  (void)state;
  dns_host_mapping_rules *r = parse(
      "MAP initial.test [2345:6789::0abc]:1112, MAP ::1 v6host.test, MAP [::2]:443 v6port.test",
      NULL);
  char h[URL_MAX_HOST + 1];
  uint16_t p;
  assert_int_equal(rw(r, "initial.test", 111, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "[2345:6789::abc]");
  assert_int_equal(p, 1112);
  /* The host pattern sees IPv6 without brackets, host:port with them. */
  assert_int_equal(rw(r, "[::1]", 80, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "v6host.test");
  assert_int_equal(rw(r, "[::2]", 443, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "v6port.test");
  assert_int_equal(rw(r, "[::2]", 80, h, &p), DNS_MAPPING_NO_MATCH);
  dns_host_mapping_rules_free(r);
}

static void test_invalid_targets_give_invalid(void **state) {
  (void)state;
  dns_host_mapping_rules *r =
      parse("MAP initial.test invalid/url, MAP nf.test ^NOTFOUND, MAP ok.test OK.Test", NULL);
  char h[URL_MAX_HOST + 1];
  uint16_t p;
  assert_int_equal(rw(r, "initial.test", 80, h, &p), DNS_MAPPING_INVALID);
  assert_string_equal(h, "(untouched)");
  assert_int_equal(rw(r, "nf.test", 80, h, &p), DNS_MAPPING_INVALID);
  /* Targets come out canonical. */
  assert_int_equal(rw(r, "ok.test", 80, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "ok.test");
  dns_host_mapping_rules_free(r);
}

static void test_keywords_and_patterns_are_case_insensitive(void **state) {
  (void)state;
  dns_host_mapping_rules *r = parse("mAp WWW.Example.COM target.test:0081", NULL);
  char h[URL_MAX_HOST + 1];
  uint16_t p;
  assert_int_equal(rw(r, "www.example.com", 443, h, &p), DNS_MAPPING_REWRITTEN);
  assert_string_equal(h, "target.test");
  assert_int_equal(p, 81);
  dns_host_mapping_rules_free(r);
}

static void test_empty_and_null_rules_match_nothing(void **state) {
  (void)state;
  char h[URL_MAX_HOST + 1];
  uint16_t p;
  assert_int_equal(rw(NULL, "a.test", 1, h, &p), DNS_MAPPING_NO_MATCH);
  dns_host_mapping_rules *r = parse("", NULL);
  assert_int_equal(dns_host_mapping_rules_count(r), 0);
  assert_int_equal(rw(r, "a.test", 1, h, &p), DNS_MAPPING_NO_MATCH);
  dns_host_mapping_rules_free(r);
  dns_host_mapping_rules_free(NULL);
  assert_int_equal(dns_host_mapping_rules_new(NULL), CRONC_ERR_INVALID_ARGUMENT);
}

static bool mp(const char *s, const char *p) {
  return dns_match_pattern(s, strlen(s), p, strlen(p));
}

static void test_match_pattern_follows_chromium(void **state) {
  (void)state;
  assert_true(mp("www.google.com", "*.com"));
  assert_true(mp("www.google.com", "*"));
  assert_false(mp("www.google.com", "www*.g*.org"));
  assert_true(mp("Hello", "H?l?o"));
  assert_false(mp("www.google.com", "http://*)"));
  assert_false(mp("www.msn.com", "*.COM"));
  assert_true(mp("Hello*1234", "He??o\\*1*"));
  assert_false(mp("", "*.*"));
  assert_true(mp("", "*"));
  assert_true(mp("", "?"));
  assert_true(mp("", ""));
  assert_false(mp("Hello", ""));
  assert_true(mp("Hello*", "Hello*"));
  assert_true(mp("abcd", "*???"));
  assert_false(mp("abcd", "???"));
  assert_true(mp("abcb", "a*b"));
  assert_false(mp("abcd", "a*b"));
  assert_true(mp("ab", "a?b")); /* '?' matches zero characters too */
  assert_false(mp("a*b", "a\\?b"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_set_rules_from_string_maps_and_excludes),
      cmocka_unit_test(test_port_specific_patterns_match_host_and_port),
      cmocka_unit_test(test_invalid_rules_are_rejected),
      cmocka_unit_test(test_set_keeps_valid_rules_and_counts_rejected),
      cmocka_unit_test(test_map_star_rewrites_everything_but_excluded),
      cmocka_unit_test(test_exclude_applies_wherever_it_is_listed),
      cmocka_unit_test(test_wildcard_subdomain_does_not_match_apex),
      cmocka_unit_test(test_first_matching_map_rule_wins),
      cmocka_unit_test(test_ipv6_targets_and_hosts),
      cmocka_unit_test(test_invalid_targets_give_invalid),
      cmocka_unit_test(test_keywords_and_patterns_are_case_insensitive),
      cmocka_unit_test(test_empty_and_null_rules_match_nothing),
      cmocka_unit_test(test_match_pattern_follows_chromium),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
