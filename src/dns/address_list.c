#include "dns/address_list.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"

void dns_address_list_reset(dns_address_list *l) {
  if (!l)
    return;
  free(l->addrs);
  memset(l, 0, sizeof(*l));
}

int dns_address_list_copy(dns_address_list *dst, const dns_address_list *src) {
  *dst = *src;
  dst->addrs = NULL;
  if (src->count == 0)
    return CRONC_OK;
  dst->addrs = malloc(src->count * sizeof(*src->addrs));
  if (!dst->addrs) {
    memset(dst, 0, sizeof(*dst));
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  memcpy(dst->addrs, src->addrs, src->count * sizeof(*src->addrs));
  return CRONC_OK;
}

const char *dns_address_to_string(const struct sockaddr_storage *ss, char *buf, size_t size) {
  if (!buf || size == 0)
    return "";
  buf[0] = '\0';
  if (!ss)
    return buf;
  const void *a = NULL;
  if (ss->ss_family == AF_INET)
    a = &((const struct sockaddr_in *)ss)->sin_addr;
  else if (ss->ss_family == AF_INET6)
    a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
  if (!a || !inet_ntop(ss->ss_family, a, buf, (socklen_t)size))
    buf[0] = '\0';
  return buf;
}

uint16_t dns_address_port(const struct sockaddr_storage *ss) {
  if (ss && ss->ss_family == AF_INET)
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
  if (ss && ss->ss_family == AF_INET6)
    return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
  return 0;
}
