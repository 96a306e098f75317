/* dns/hosts_file: the hosts-file parser and table (Chromium's ParseHosts on
 * Linux) and the host compliance check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cronc/cronc.h"
#include "dns/hosts_file.h"

static dns_hosts *parse(const char *s) {
  dns_hosts *h = NULL;
  assert_int_equal(dns_hosts_parse(s, strlen(s), &h), CRONC_OK);
  assert_non_null(h);
  return h;
}

/* "" when absent, else the address as text. */
static const char *look(const dns_hosts *h, const char *name, int family, char *buf) {
  uint8_t a[16];
  buf[0] = '\0';
  if (dns_hosts_lookup(h, name, strlen(name), family, a))
    inet_ntop(family, a, buf, INET6_ADDRSTRLEN);
  return buf;
}

static void test_parses_lines_names_and_families(void **state) {
  (void)state;
  char b[INET6_ADDRSTRLEN];
  dns_hosts *h = parse("127.0.0.1\tlocalhost\n"
                       "::1 localhost ip6-localhost ip6-loopback\n"
                       "# a comment line 1.2.3.4 commented.test\n"
                       "  10.0.0.1   a.test\tb.test # trailing comment c.test\n"
                       "2001:db8::1 a.test\r\n"
                       "10.0.0.2 UPPER.Example.TEST");
  assert_string_equal(look(h, "localhost", AF_INET, b), "127.0.0.1");
  assert_string_equal(look(h, "localhost", AF_INET6, b), "::1");
  assert_string_equal(look(h, "ip6-loopback", AF_INET6, b), "::1");
  assert_string_equal(look(h, "ip6-loopback", AF_INET, b), "");
  assert_string_equal(look(h, "a.test", AF_INET, b), "10.0.0.1");
  assert_string_equal(look(h, "a.test", AF_INET6, b), "2001:db8::1");
  assert_string_equal(look(h, "b.test", AF_INET, b), "10.0.0.1");
  assert_string_equal(look(h, "c.test", AF_INET, b), "");
  assert_string_equal(look(h, "commented.test", AF_INET, b), "");
  assert_string_equal(look(h, "upper.example.test", AF_INET, b), "10.0.0.2");
  assert_int_equal(dns_hosts_count(h), 8);
  /* Entries come back in file order. */
  const char *name;
  int fam;
  const uint8_t *addr;
  assert_true(dns_hosts_entry(h, 0, &name, &fam, &addr));
  assert_string_equal(name, "localhost");
  assert_int_equal(fam, AF_INET);
  assert_true(dns_hosts_entry(h, 7, &name, &fam, &addr));
  assert_string_equal(name, "upper.example.test");
  assert_false(dns_hosts_entry(h, 8, &name, &fam, &addr));
  dns_hosts_free(h);
}

static void test_first_line_naming_a_host_wins(void **state) {
  (void)state;
  char b[INET6_ADDRSTRLEN];
  dns_hosts *h =
      parse("1.1.1.1 dup.test\n2.2.2.2 dup.test other.test\n::2 dup.test\n::3 dup.test\n");
  assert_string_equal(look(h, "dup.test", AF_INET, b), "1.1.1.1");
  assert_string_equal(look(h, "dup.test", AF_INET6, b), "::2");
  assert_string_equal(look(h, "other.test", AF_INET, b), "2.2.2.2");
  dns_hosts_free(h);
}

static void test_lines_with_invalid_addresses_are_skipped(void **state) {
  (void)state;
  char b[INET6_ADDRSTRLEN];
  dns_hosts *h = parse("not-an-ip n1.test\n"
                       "999.1.1.1 n2.test\n"
                       "[::1] n3.test\n"
                       "fe80::1%eth0 n4.test\n"
                       "1.2.3.4%20 n5.test\n"
                       "1.2.3.4 good.test\n"
                       "::1::2 n6.test\n");
  assert_int_equal(dns_hosts_count(h), 1);
  assert_string_equal(look(h, "good.test", AF_INET, b), "1.2.3.4");
  assert_string_equal(look(h, "n1.test", AF_INET, b), "");
  assert_string_equal(look(h, "n3.test", AF_INET6, b), "");
  dns_hosts_free(h);
}

static void test_invalid_names_are_skipped(void **state) {
  (void)state;
  char b[INET6_ADDRSTRLEN];
  /* IP-like names, empty labels, commas (part of the token on Linux) and
   * names whose last label starts with '-' are dropped; '_' is allowed. */
  dns_hosts *h = parse("10.1.1.1 1.2.3.4 bad..name a.test,b.test x.-y ok_name.test -lead.ok\n");
  assert_string_equal(look(h, "ok_name.test", AF_INET, b), "10.1.1.1");
  assert_string_equal(look(h, "-lead.ok", AF_INET, b), "10.1.1.1");
  assert_string_equal(look(h, "a.test", AF_INET, b), "");
  assert_string_equal(look(h, "bad..name", AF_INET, b), "");
  assert_int_equal(dns_hosts_count(h), 2);
  dns_hosts_free(h);
}

static void test_ipv4_forms_the_url_parser_accepts(void **state) {
  (void)state;
  char b[INET6_ADDRSTRLEN];
  dns_hosts *h = parse("127.1 short.test\n0x7f.0.0.2 hex.test\n0:0::1 v6.test\n");
  assert_string_equal(look(h, "short.test", AF_INET, b), "127.0.0.1");
  assert_string_equal(look(h, "hex.test", AF_INET, b), "127.0.0.2");
  assert_string_equal(look(h, "v6.test", AF_INET6, b), "::1");
  dns_hosts_free(h);
}

static void test_repeated_address_lines_and_bare_cr(void **state) {
  (void)state;
  char b[INET6_ADDRSTRLEN];
  dns_hosts *h = parse("0.0.0.0 ad1.test\r0.0.0.0 ad2.test\n0.0.0.0 ad3.test\n"
                       "garbage ad4.test\n0.0.0.0 ad5.test");
  assert_string_equal(look(h, "ad1.test", AF_INET, b), "0.0.0.0");
  assert_string_equal(look(h, "ad2.test", AF_INET, b), "0.0.0.0");
  assert_string_equal(look(h, "ad3.test", AF_INET, b), "0.0.0.0");
  assert_string_equal(look(h, "ad4.test", AF_INET, b), "");
  assert_string_equal(look(h, "ad5.test", AF_INET, b), "0.0.0.0");
  dns_hosts_free(h);
}

static void test_empty_and_binary_input(void **state) {
  (void)state;
  dns_hosts *h = NULL;
  assert_int_equal(dns_hosts_parse(NULL, 0, &h), CRONC_OK);
  assert_int_equal(dns_hosts_count(h), 0);
  uint8_t a[16];
  assert_false(dns_hosts_lookup(h, "x", 1, AF_INET, a));
  dns_hosts_free(h);
  const char bin[] = "1.2.3.4 a\0b.test\n\xff\xfe 1.2.3.4\n5.6.7.8 \xc3\xa9.test\n";
  assert_int_equal(dns_hosts_parse(bin, sizeof(bin) - 1, &h), CRONC_OK);
  assert_false(dns_hosts_lookup(h, "a", 1, AF_INET, a));
  /* A non-ASCII name is stored as punycode. */
  assert_true(dns_hosts_lookup(h, "xn--9ca.test", 12, AF_INET, a));
  dns_hosts_free(h);
  assert_int_equal(dns_hosts_parse("x", 1, NULL), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(dns_hosts_parse(NULL, 3, &h), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(h);
}

static void test_many_entries_are_all_found(void **state) {
  (void)state;
  size_t n = 5000;
  char *buf = malloc(n * 40);
  assert_non_null(buf);
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += (size_t)sprintf(buf + len, "10.%zu.%zu.1 host%zu.test\n", i / 256, i % 256, i);
  dns_hosts *h = NULL;
  assert_int_equal(dns_hosts_parse(buf, len, &h), CRONC_OK);
  assert_int_equal(dns_hosts_count(h), n);
  char name[32], b[INET6_ADDRSTRLEN], want[32];
  for (size_t i = 0; i < n; i += 97) {
    sprintf(name, "host%zu.test", i);
    sprintf(want, "10.%zu.%zu.1", i / 256, i % 256);
    assert_string_equal(look(h, name, AF_INET, b), want);
  }
  dns_hosts_free(h);
  free(buf);
}

static void test_read_file_missing_is_empty_and_oversized_refused(void **state) {
  (void)state;
  dns_hosts *h = NULL;
  assert_int_equal(dns_hosts_read_file("/nonexistent/cronc/hosts", &h), CRONC_OK);
  assert_int_equal(dns_hosts_count(h), 0);
  dns_hosts_free(h);

  char path[] = "/tmp/cronc_hosts_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *text = "192.0.2.7 file.test\n";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  h = NULL;
  assert_int_equal(dns_hosts_read_file(path, &h), CRONC_OK);
  char b[INET6_ADDRSTRLEN];
  assert_string_equal(look(h, "file.test", AF_INET, b), "192.0.2.7");
  dns_hosts_free(h);
  /* A sparse file over Chromium's 32 MiB limit. */
  assert_int_equal(ftruncate(fd, DNS_HOSTS_MAX_FILE_SIZE + 1), 0);
  h = NULL;
  assert_int_equal(dns_hosts_read_file(path, &h), CRONC_ERR_FILE_TOO_BIG);
  assert_null(h);
  close(fd);
  unlink(path);
  assert_int_equal(dns_hosts_read_file("/tmp", &h), CRONC_ERR_FAILED); /* a directory */
}

static void test_host_compliance_follows_chromium(void **state) {
  (void)state;
  static const struct {
    const char *host;
    bool ok;
  } cases[] = {
      {"example.com", true}, {"example.com.", true}, {"a_b.c", true}, {"-a.b", true},
      {"_a.b", true},        {"a.-b", false},        {"a.b_", true},  {"a..b", false},
      {".a", false},         {".", false},           {"", false},     {"a b", false},
      {"a.1b", true},        {"UPPER.com", false},   {"a%20", false}, {"xn--9ca.test", true},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    if (dns_host_is_compliant(cases[i].host, strlen(cases[i].host)) != cases[i].ok)
      fail_msg("\"%s\" should be %s", cases[i].host, cases[i].ok ? "compliant" : "refused");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parses_lines_names_and_families),
      cmocka_unit_test(test_first_line_naming_a_host_wins),
      cmocka_unit_test(test_lines_with_invalid_addresses_are_skipped),
      cmocka_unit_test(test_invalid_names_are_skipped),
      cmocka_unit_test(test_ipv4_forms_the_url_parser_accepts),
      cmocka_unit_test(test_repeated_address_lines_and_bare_cr),
      cmocka_unit_test(test_empty_and_binary_input),
      cmocka_unit_test(test_many_entries_are_all_found),
      cmocka_unit_test(test_read_file_missing_is_empty_and_oversized_refused),
      cmocka_unit_test(test_host_compliance_follows_chromium),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
