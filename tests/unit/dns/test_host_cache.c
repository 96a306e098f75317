/* dns/host_cache: expiry by ticks, keys (host, family), LRU bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cronc/cronc.h"
#include "dns/host_cache.h"

static struct sockaddr_storage v4(const char *text, uint16_t port) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  assert_int_equal(inet_pton(AF_INET, text, &sin->sin_addr), 1);
  return ss;
}

static int set(dns_host_cache *c, const char *host, dns_family f, const char *addr,
               int64_t expires) {
  struct sockaddr_storage ss = v4(addr, 443);
  return dns_host_cache_set(c, host, strlen(host), f, &ss, 1, 30, expires);
}

static const dns_host_cache_entry *get(dns_host_cache *c, const char *host, dns_family f,
                                       int64_t now) {
  return dns_host_cache_lookup(c, host, strlen(host), f, now);
}

static void test_entry_is_fresh_until_its_expiry(void **state) {
  (void)state;
  dns_host_cache *c = dns_host_cache_new(10);
  assert_non_null(c);
  assert_int_equal(set(c, "a.test", DNS_FAMILY_UNSPEC, "192.0.2.1", 1000), CRONC_OK);
  const dns_host_cache_entry *e = get(c, "a.test", DNS_FAMILY_UNSPEC, 999);
  assert_non_null(e);
  assert_int_equal(e->count, 1);
  assert_int_equal(e->ttl_sec, 30);
  assert_int_equal(e->expires_ticks_us, 1000);
  /* Ports are not part of cached data. */
  assert_int_equal(((const struct sockaddr_in *)&e->addrs[0])->sin_port, 0);
  assert_null(get(c, "a.test", DNS_FAMILY_UNSPEC, 1000));
  assert_int_equal(dns_host_cache_size(c), 0); /* the expired entry was dropped */
  dns_host_cache_free(c);
}

static void test_family_is_part_of_the_key(void **state) {
  (void)state;
  dns_host_cache *c = dns_host_cache_new(10);
  assert_int_equal(set(c, "a.test", DNS_FAMILY_IPV4, "192.0.2.4", 1000), CRONC_OK);
  assert_null(get(c, "a.test", DNS_FAMILY_UNSPEC, 0));
  assert_null(get(c, "a.test", DNS_FAMILY_IPV6, 0));
  assert_non_null(get(c, "a.test", DNS_FAMILY_IPV4, 0));
  assert_null(get(c, "b.test", DNS_FAMILY_IPV4, 0));
  dns_host_cache_free(c);
}

static void test_set_replaces_an_existing_entry(void **state) {
  (void)state;
  dns_host_cache *c = dns_host_cache_new(10);
  assert_int_equal(set(c, "a.test", DNS_FAMILY_IPV4, "192.0.2.1", 1000), CRONC_OK);
  assert_int_equal(set(c, "a.test", DNS_FAMILY_IPV4, "192.0.2.2", 2000), CRONC_OK);
  assert_int_equal(dns_host_cache_size(c), 1);
  const dns_host_cache_entry *e = get(c, "a.test", DNS_FAMILY_IPV4, 1500);
  assert_non_null(e);
  char b[INET6_ADDRSTRLEN];
  assert_string_equal(dns_address_to_string(&e->addrs[0], b, sizeof(b)), "192.0.2.2");
  dns_host_cache_free(c);
}

static void test_full_cache_evicts_least_recently_used(void **state) {
  (void)state;
  dns_host_cache *c = dns_host_cache_new(3);
  assert_int_equal(set(c, "a.test", DNS_FAMILY_IPV4, "192.0.2.1", 1000), CRONC_OK);
  assert_int_equal(set(c, "b.test", DNS_FAMILY_IPV4, "192.0.2.2", 1000), CRONC_OK);
  assert_int_equal(set(c, "c.test", DNS_FAMILY_IPV4, "192.0.2.3", 1000), CRONC_OK);
  assert_non_null(get(c, "a.test", DNS_FAMILY_IPV4, 0)); /* a is now the most recent */
  assert_int_equal(set(c, "d.test", DNS_FAMILY_IPV4, "192.0.2.4", 1000), CRONC_OK);
  assert_int_equal(dns_host_cache_size(c), 3);
  assert_null(get(c, "b.test", DNS_FAMILY_IPV4, 0));
  assert_non_null(get(c, "a.test", DNS_FAMILY_IPV4, 0));
  assert_non_null(get(c, "c.test", DNS_FAMILY_IPV4, 0));
  assert_non_null(get(c, "d.test", DNS_FAMILY_IPV4, 0));
  dns_host_cache_free(c);
}

static void test_default_size_bound_holds_under_load(void **state) {
  (void)state;
  dns_host_cache *c = dns_host_cache_new(DNS_HOST_CACHE_DEFAULT_SIZE);
  assert_int_equal(dns_host_cache_max_size(c), 1000);
  char name[32];
  for (int i = 0; i < 2500; i++) {
    snprintf(name, sizeof(name), "h%d.test", i);
    assert_int_equal(set(c, name, DNS_FAMILY_UNSPEC, "192.0.2.9", 1000), CRONC_OK);
  }
  assert_int_equal(dns_host_cache_size(c), 1000);
  assert_null(get(c, "h1499.test", DNS_FAMILY_UNSPEC, 0));
  assert_non_null(get(c, "h1500.test", DNS_FAMILY_UNSPEC, 0));
  assert_non_null(get(c, "h2499.test", DNS_FAMILY_UNSPEC, 0));
  dns_host_cache_clear(c);
  assert_int_equal(dns_host_cache_size(c), 0);
  assert_null(get(c, "h2499.test", DNS_FAMILY_UNSPEC, 0));
  dns_host_cache_free(c);
}

static void test_zero_size_cache_and_bad_input(void **state) {
  (void)state;
  dns_host_cache *c = dns_host_cache_new(0);
  assert_non_null(c);
  assert_int_equal(set(c, "a.test", DNS_FAMILY_IPV4, "192.0.2.1", 1000), CRONC_OK);
  assert_null(get(c, "a.test", DNS_FAMILY_IPV4, 0));
  struct sockaddr_storage ss = v4("192.0.2.1", 1);
  assert_int_equal(dns_host_cache_set(c, "a", 1, DNS_FAMILY_IPV4, &ss, 0, 1, 1),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(dns_host_cache_set(NULL, "a", 1, DNS_FAMILY_IPV4, &ss, 1, 1, 1),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_null(dns_host_cache_lookup(NULL, "a", 1, DNS_FAMILY_IPV4, 0));
  dns_host_cache_free(c);
  dns_host_cache_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_entry_is_fresh_until_its_expiry),
      cmocka_unit_test(test_family_is_part_of_the_key),
      cmocka_unit_test(test_set_replaces_an_existing_entry),
      cmocka_unit_test(test_full_cache_evicts_least_recently_used),
      cmocka_unit_test(test_default_size_bound_holds_under_load),
      cmocka_unit_test(test_zero_size_cache_and_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
