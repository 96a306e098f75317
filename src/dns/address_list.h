/* dns/address_list: the result of a host resolution (Chromium's AddressList
 * plus the TTL and the ResolveErrorInfo detail).
 *
 * A list owns its array (one heap block). Addresses are sockaddr_in /
 * sockaddr_in6 in sockaddr_storage, the family in ss_family, the port in
 * network order already set to the port the caller asked for. The order is
 * the order the source gave (c-ares's RFC 6724 sort, hosts/localhost: IPv6
 * first); interleaving families is the socket layer's job (Happy Eyeballs).
 * Plain data: any thread. */
#ifndef CRONC_DNS_ADDRESS_LIST_H
#define CRONC_DNS_ADDRESS_LIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* What to ask for (Chromium's AddressFamily). */
typedef enum dns_family {
  DNS_FAMILY_UNSPEC = 0, /* A and AAAA */
  DNS_FAMILY_IPV4,
  DNS_FAMILY_IPV6,
} dns_family;

/* Where an answer came from. */
typedef enum dns_source {
  DNS_SOURCE_NONE = 0,
  DNS_SOURCE_IP_LITERAL,
  DNS_SOURCE_LOCALHOST,
  DNS_SOURCE_CACHE,
  DNS_SOURCE_HOSTS,
  DNS_SOURCE_DNS,
} dns_source;

typedef struct dns_address_list {
  struct sockaddr_storage *addrs; /* count entries; NULL when count is 0 */
  size_t count;
  /* Seconds the answer may still be used: the smallest TTL of the DNS
   * records (remaining time for a cache hit); 0 for literals, localhost and
   * hosts-file answers, which are not cached. */
  uint32_t ttl_sec;
  dns_source source;
  /* 0 on success. On failure the detailed error (Chromium's
   * ResolveErrorInfo.error): ERR_NAME_NOT_RESOLVED, ERR_DNS_TIMED_OUT,
   * ERR_DNS_SERVER_FAILED, ERR_DNS_MALFORMED_RESPONSE, ... while the result
   * code handed to the caller is squashed to ERR_NAME_NOT_RESOLVED. */
  int error_info;
} dns_address_list;

/* Frees the array and zeroes the list (NULL: no-op). */
void dns_address_list_reset(dns_address_list *l);

/* Deep copy; 0 or CRONC_ERR_OUT_OF_MEMORY (dst zeroed). */
int dns_address_list_copy(dns_address_list *dst, const dns_address_list *src);

/* Writes "1.2.3.4" / "::1" (no port) into buf and returns buf (empty for
 * an unknown family). For logs and tests. */
const char *dns_address_to_string(const struct sockaddr_storage *ss, char *buf, size_t size);
/* The port of an IPv4 / IPv6 address in host order (0 for another family). */
uint16_t dns_address_port(const struct sockaddr_storage *ss);

#endif /* CRONC_DNS_ADDRESS_LIST_H */
