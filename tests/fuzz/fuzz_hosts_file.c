/* Fuzzes the hosts-file parser (dns_hosts_parse). Invariants: parsing never
 * fails on any bytes (only on memory); every entry has a compliant
 * canonical name that is a fixed point of canonicalisation; looking an entry
 * up finds an address (the first line naming it wins, so not necessarily
 * this entry's unless it is the first for its key). A broken invariant
 * traps. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "cronc/cronc.h"
#include "dns/hosts_file.h"
#include "url/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      __builtin_trap();                                                                            \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dns_hosts *h = NULL;
  int rv = dns_hosts_parse((const char *)data, size, &h);
  CHECK(rv == CRONC_OK || rv == CRONC_ERR_OUT_OF_MEMORY);
  if (rv != CRONC_OK) {
    CHECK(h == NULL);
    return 0;
  }
  size_t n = dns_hosts_count(h);
  CHECK(n <= size); /* each entry needs at least a byte of its own */
  for (size_t i = 0; i < n; i++) {
    const char *name;
    int family;
    const uint8_t *addr;
    CHECK(dns_hosts_entry(h, i, &name, &family, &addr));
    size_t len = strlen(name);
    CHECK(len > 0 && len <= URL_MAX_HOST);
    CHECK(family == AF_INET || family == AF_INET6);
    CHECK(dns_host_is_compliant(name, len));
    char canon[URL_MAX_HOST + 1];
    url_host_kind kind;
    CHECK(url_canon_host(name, len, canon, sizeof(canon), &kind) == CRONC_OK);
    CHECK(kind == URL_HOST_NAME && strcmp(canon, name) == 0);
    uint8_t found[16];
    CHECK(dns_hosts_lookup(h, name, len, family, found));
  }
  CHECK(!dns_hosts_entry(h, n, NULL, NULL, NULL));
  dns_hosts_free(h);
  return 0;
}
