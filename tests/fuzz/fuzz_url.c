/* Fuzzes url_parse and url_canon_host. On success the invariants are:
 * re-parsing the spec gives the same spec and fields; the origin survives a
 * trip through url_origin_to_string/url_origin_from_string; canonical hosts
 * are fixed points of url_canon_host. A broken invariant traps. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cronc/cronc.h"
#include "url/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      __builtin_trap();                                                                            \
  } while (0)

static bool same_opt(const char *a, const char *b) {
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

static void check_host_is_fixed_point(const char *host, url_host_kind kind) {
  char again[URL_MAX_HOST + 1];
  url_host_kind k2;
  CHECK(url_canon_host(host, strlen(host), again, sizeof(again), &k2) == CRONC_OK);
  CHECK(strcmp(again, host) == 0);
  CHECK(k2 == kind);
}

static void check_url(const url *u) {
  CHECK(u->spec && u->host && u->path);
  CHECK(u->path[0] == '/');
  CHECK(u->host[0] != '\0' && strlen(u->host) <= URL_MAX_HOST);
  CHECK(url_default_port(u->scheme) != 0);
  CHECK(u->port_explicit == (u->port != url_default_port(u->scheme)));
  for (const char *p = u->spec; *p; p++)
    CHECK((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f); /* printable ASCII */
  check_host_is_fixed_point(u->host, u->host_kind);

  url v;
  CHECK(url_parse(u->spec, strlen(u->spec), &v) == CRONC_OK);
  CHECK(strcmp(u->spec, v.spec) == 0);
  CHECK(u->scheme == v.scheme && u->port == v.port && u->host_kind == v.host_kind);
  CHECK(strcmp(u->host, v.host) == 0 && strcmp(u->path, v.path) == 0);
  CHECK(same_opt(u->query, v.query));
  CHECK(same_opt(u->username, v.username));
  CHECK(same_opt(u->password, v.password));
  url_free(&v);

  url_origin o, back;
  CHECK(url_origin_from_url(u, &o) == CRONC_OK);
  char buf[URL_MAX_HOST + 32];
  int n = url_origin_to_string(&o, buf, sizeof(buf));
  CHECK(n > 0);
  CHECK(url_origin_from_string(buf, (size_t)n, &back) == CRONC_OK);
  CHECK(url_origin_equal(&o, &back));
  CHECK(url_origin_hash(&o) == url_origin_hash(&back));
  url_origin_normalize(&back);
  CHECK(back.scheme == URL_SCHEME_HTTP || back.scheme == URL_SCHEME_HTTPS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  url u;
  int rv = url_parse((const char *)data, size, &u);
  CHECK(rv == CRONC_OK || rv == CRONC_ERR_INVALID_URL || rv == CRONC_ERR_UNKNOWN_URL_SCHEME);
  if (rv == CRONC_OK) {
    check_url(&u);
    url_free(&u);
  } else {
    CHECK(u.spec == NULL && u.host == NULL);
  }

  /* The same bytes as a bare host. */
  char host[URL_MAX_HOST + 1];
  url_host_kind kind;
  if (url_canon_host((const char *)data, size, host, sizeof(host), &kind) == CRONC_OK)
    check_host_is_fixed_point(host, kind);

  url_origin o;
  if (url_origin_from_string((const char *)data, size, &o) == CRONC_OK) {
    char buf[URL_MAX_HOST + 32];
    CHECK(url_origin_to_string(&o, buf, sizeof(buf)) > 0);
  }
  return 0;
}
