/* Fuzzes the host mapping rules parser and rewriter. The input is split at
 * the first newline: before it a rules string, after it a host to rewrite
 * (also tried with a few fixed hosts and ports). Invariants: parsing never
 * fails except for memory; rules parsed one by one add up to the count
 * SetRulesFromString-style parsing gives; a rewrite yields a canonical host
 * (a fixed point of url_canon_host) or leaves the outputs untouched. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cronc/cronc.h"
#include "dns/host_mapping_rules.h"
#include "url/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      __builtin_trap();                                                                            \
  } while (0)

static void check_rewrite(const dns_host_mapping_rules *r, const char *host, size_t len,
                          uint16_t port) {
  char out[URL_MAX_HOST + 1];
  memcpy(out, "untouched", 10);
  uint16_t out_port = 7;
  dns_mapping_result m =
      dns_host_mapping_rules_rewrite(r, host, len, port, out, sizeof(out), &out_port);
  if (m == DNS_MAPPING_REWRITTEN) {
    size_t ol = strlen(out);
    CHECK(ol > 0 && ol <= URL_MAX_HOST);
    char again[URL_MAX_HOST + 1];
    url_host_kind kind;
    CHECK(url_canon_host(out, ol, again, sizeof(again), &kind) == CRONC_OK);
    CHECK(strcmp(again, out) == 0);
  } else {
    CHECK(m == DNS_MAPPING_NO_MATCH || m == DNS_MAPPING_INVALID);
    CHECK(strcmp(out, "untouched") == 0 && out_port == 7);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  const char *nl = memchr(s, '\n', size);
  size_t rules_len = nl ? (size_t)(nl - s) : size;

  dns_host_mapping_rules *r = NULL;
  size_t rejected = 0;
  int rv = dns_host_mapping_rules_parse(s, rules_len, &r, &rejected);
  CHECK(rv == CRONC_OK || rv == CRONC_ERR_OUT_OF_MEMORY);
  if (rv != CRONC_OK)
    return 0;

  /* The same rules added one at a time. */
  dns_host_mapping_rules *one = NULL;
  CHECK(dns_host_mapping_rules_new(&one) == CRONC_OK);
  size_t start = 0, items = 0, bad = 0;
  for (size_t i = 0; i <= rules_len; i++) {
    if (i < rules_len && s[i] != ',')
      continue;
    items++;
    int a = dns_host_mapping_rules_add(one, s + start, i - start);
    CHECK(a == CRONC_OK || a == CRONC_ERR_INVALID_ARGUMENT);
    bad += a != CRONC_OK;
    start = i + 1;
  }
  CHECK(bad == rejected);
  CHECK(dns_host_mapping_rules_count(one) == dns_host_mapping_rules_count(r));
  CHECK(dns_host_mapping_rules_count(r) + rejected == items);
  dns_host_mapping_rules_free(one);

  static const char *hosts[] = {"example.com", "www.example.com", "[::1]", "127.0.0.1", "a"};
  static const uint16_t ports[] = {80, 443, 0, 65535};
  for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
    check_rewrite(r, hosts[i], strlen(hosts[i]), ports[i % 4]);
  if (nl) {
    char canon[URL_MAX_HOST + 1];
    url_host_kind kind;
    size_t hl = size - rules_len - 1;
    if (url_canon_host(nl + 1, hl, canon, sizeof(canon), &kind) == CRONC_OK)
      check_rewrite(r, canon, strlen(canon), (uint16_t)(size * 131));
  }
  dns_host_mapping_rules_free(r);
  return 0;
}
