#include "dns/host_util.h"

#include <string.h>

#include "cronc/cronc.h"

int dns_canon_host(const char *host, size_t len, char *out, url_host_kind *kind) {
  url_host_kind k;
  if (!kind)
    kind = &k;
  if (!host || len == 0)
    return CRONC_ERR_INVALID_URL;
  /* A ':' outside brackets can only be a bare IPv6 literal. */
  if (host[0] != '[' && memchr(host, ':', len)) {
    char b[URL_MAX_HOST + 3];
    if (len > URL_MAX_HOST)
      return CRONC_ERR_INVALID_URL;
    b[0] = '[';
    memcpy(b + 1, host, len);
    b[len + 1] = ']';
    int rv = url_canon_host(b, len + 2, out, URL_MAX_HOST + 1, kind);
    return rv == CRONC_OK && *kind != URL_HOST_IPV6 ? CRONC_ERR_INVALID_URL : rv;
  }
  return url_canon_host(host, len, out, URL_MAX_HOST + 1, kind);
}
