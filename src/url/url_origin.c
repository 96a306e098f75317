/* url/url_origin: origins (scheme, host, port) as values: built, compared,
 * hashed and written without allocation. Pure functions; any thread. */
#include "url/url.h"

#include <stdio.h>
#include <string.h>

#include "cronc/cronc.h"

int url_origin_init(url_origin *o, url_scheme scheme, const char *host, size_t host_len,
                    uint16_t port) {
  if (!o)
    return CRONC_ERR_INVALID_URL;
  memset(o, 0, sizeof(*o));
  if (url_default_port(scheme) == 0 || !host)
    return CRONC_ERR_INVALID_URL;
  url_origin tmp = {0};
  int rv = url_canon_host(host, host_len, tmp.host, sizeof(tmp.host), NULL);
  if (rv != CRONC_OK)
    return rv;
  tmp.scheme = scheme;
  tmp.port = port ? port : url_default_port(scheme);
  *o = tmp;
  return CRONC_OK;
}

int url_origin_from_url(const url *u, url_origin *out) {
  if (!out)
    return CRONC_ERR_INVALID_URL;
  memset(out, 0, sizeof(*out));
  if (!u || !u->host || url_default_port(u->scheme) == 0)
    return CRONC_ERR_INVALID_URL;
  size_t n = strlen(u->host);
  if (n == 0 || n > URL_MAX_HOST)
    return CRONC_ERR_INVALID_URL;
  out->scheme = u->scheme;
  out->port = u->port;
  memcpy(out->host, u->host, n + 1);
  return CRONC_OK;
}

void url_origin_normalize(url_origin *o) {
  if (!o)
    return;
  if (o->scheme == URL_SCHEME_WS)
    o->scheme = URL_SCHEME_HTTP;
  else if (o->scheme == URL_SCHEME_WSS)
    o->scheme = URL_SCHEME_HTTPS;
}

bool url_origin_equal(const url_origin *a, const url_origin *b) {
  if (!a || !b)
    return a == b;
  return a->scheme == b->scheme && a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* FNV-1a over scheme, port and host, then a 64-bit finaliser (MurmurHash3's
 * fmix64 constants) so that the low bits, which hash tables use, mix well.
 * No seed: the value is stable across runs and processes. */
uint64_t url_origin_hash(const url_origin *o) {
  uint64_t h = 0xcbf29ce484222325ULL;
  const uint64_t prime = 0x100000001b3ULL;
  h = (h ^ (uint8_t)o->scheme) * prime;
  h = (h ^ (uint8_t)(o->port >> 8)) * prime;
  h = (h ^ (uint8_t)(o->port & 0xff)) * prime;
  for (size_t i = 0; i < sizeof(o->host) && o->host[i]; i++)
    h = (h ^ (uint8_t)o->host[i]) * prime;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

int url_origin_to_string(const url_origin *o, char *buf, size_t size) {
  if (!o || !buf || url_default_port(o->scheme) == 0)
    return -1;
  int n;
  if (o->port == url_default_port(o->scheme))
    n = snprintf(buf, size, "%s://%s", url_scheme_name(o->scheme), o->host);
  else
    n = snprintf(buf, size, "%s://%s:%u", url_scheme_name(o->scheme), o->host, (unsigned)o->port);
  if (n < 0 || (size_t)n >= size)
    return -1;
  return n;
}

int url_origin_from_string(const char *s, size_t len, url_origin *out) {
  if (!out)
    return CRONC_ERR_INVALID_URL;
  memset(out, 0, sizeof(*out));
  if (!s || memchr(s, '#', len))
    return CRONC_ERR_INVALID_URL;
  url u;
  int rv = url_parse(s, len, &u);
  if (rv != CRONC_OK)
    return rv;
  /* Only "scheme://host[:port]" with at most a bare "/" after it. */
  if (u.username || u.password || u.query || strcmp(u.path, "/") != 0)
    rv = CRONC_ERR_INVALID_URL;
  else
    rv = url_origin_from_url(&u, out);
  url_free(&u);
  return rv;
}
