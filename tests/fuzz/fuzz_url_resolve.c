/* Fuzzes url_resolve. The input is split at the first NUL or newline into a
 * base URL and a reference (a base that does not parse is replaced by RFC
 * 3986's example base, so the reference is always exercised). On success the
 * invariants are: the result is printable ASCII and re-parses to itself,
 * fragment included; resolving the result's spec against the base gives it
 * back; a reference that is absolute on its own (another scheme, or base's
 * scheme followed by two slashes) resolves to what url_parse makes of it;
 * "" and "#f" keep the base's spec. The same reference as a 302 Location
 * goes through redirect_compute, whose result must agree with url_resolve.
 * A broken invariant traps. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "http/redirect.h"
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

static bool printable(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
      return false;
  return true;
}

static bool is_slash(char c) { return c == '/' || c == '\\'; }

/* True when url_resolve reads ref as absolute: a scheme other than base's,
 * or base's scheme followed by two slashes. Mirrors WHATWG, independently of
 * the code under test: surrounding C0/space stripped, tabs/newlines dropped. */
static bool absolute_on_its_own(const url *base, const char *ref, size_t len) {
  char *c = malloc(len + 1);
  if (!c)
    return false;
  size_t b = 0, e = len, n = 0;
  while (b < e && (unsigned char)ref[b] <= 0x20)
    b++;
  while (e > b && (unsigned char)ref[e - 1] <= 0x20)
    e--;
  for (size_t i = b; i < e; i++)
    if (ref[i] != '\t' && ref[i] != '\n' && ref[i] != '\r')
      c[n++] = ref[i];
  c[n] = '\0';
  const char *colon = memchr(c, ':', n);
  bool absolute = false;
  if (colon) {
    url_scheme s = url_scheme_from_string(c, (size_t)(colon - c));
    size_t rest = n - (size_t)(colon - c) - 1;
    absolute = s != URL_SCHEME_INVALID &&
               (s != base->scheme || (rest >= 2 && is_slash(colon[1]) && is_slash(colon[2])));
  }
  free(c);
  return absolute;
}

static void check_result(const url *base, const url *u) {
  CHECK(u->spec && u->host && u->path && u->path[0] == '/');
  CHECK(url_default_port(u->scheme) != 0);
  CHECK(printable(u->spec));
  CHECK(!u->fragment || printable(u->fragment) || u->fragment[0] == '\0');

  /* Re-parses to itself, fragment included. */
  size_t spec_len = strlen(u->spec);
  size_t frag_len = u->fragment ? strlen(u->fragment) : 0;
  char *full = malloc(spec_len + frag_len + 2);
  if (!full)
    return;
  memcpy(full, u->spec, spec_len);
  size_t n = spec_len;
  if (u->fragment) {
    full[n++] = '#';
    memcpy(full + n, u->fragment, frag_len);
    n += frag_len;
  }
  url v;
  CHECK(url_parse(full, n, &v) == CRONC_OK);
  CHECK(strcmp(v.spec, u->spec) == 0 && same_opt(v.fragment, u->fragment));
  CHECK(strcmp(v.host, u->host) == 0 && strcmp(v.path, u->path) == 0);
  CHECK(same_opt(v.query, u->query) && v.port == u->port && v.scheme == u->scheme);
  url_free(&v);

  /* The result is absolute: resolving it against the base gives it back. */
  CHECK(url_resolve(base, full, n, &v) == CRONC_OK);
  CHECK(strcmp(v.spec, u->spec) == 0 && same_opt(v.fragment, u->fragment));
  url_free(&v);
  free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *in = (const char *)data;
  size_t split = 0;
  while (split < size && in[split] != '\0' && in[split] != '\n')
    split++;
  const char *ref = split < size ? in + split + 1 : in + size;
  size_t ref_len = split < size ? size - split - 1 : 0;

  url base;
  if (url_parse(in, split, &base) != CRONC_OK) {
    static const char kBase[] = "http://a/b/c/d;p?q";
    CHECK(url_parse(kBase, sizeof(kBase) - 1, &base) == CRONC_OK);
  }

  url u;
  int rv = url_resolve(&base, ref, ref_len, &u);
  CHECK(rv == CRONC_OK || rv == CRONC_ERR_INVALID_URL || rv == CRONC_ERR_UNKNOWN_URL_SCHEME);
  if (rv != CRONC_OK)
    CHECK(u.spec == NULL && u.host == NULL && u.fragment == NULL);

  url p;
  int prv = url_parse(ref, ref_len, &p);
  if (prv == CRONC_ERR_UNKNOWN_URL_SCHEME)
    CHECK(rv == CRONC_ERR_UNKNOWN_URL_SCHEME);
  if (prv == CRONC_OK && absolute_on_its_own(&base, ref, ref_len)) {
    CHECK(rv == CRONC_OK);
    CHECK(strcmp(p.spec, u.spec) == 0 && same_opt(p.fragment, u.fragment));
  }
  if (prv == CRONC_OK)
    url_free(&p);

  if (rv == CRONC_OK) {
    check_result(&base, &u);
    url_free(&u);
  }

  /* As a Location: the redirect agrees with the resolution. */
  redirect_input rin = {.method = "POST",
                        .url = &base,
                        .status = 302,
                        .location = ref,
                        .location_len = ref_len,
                        .redirect_count = 0};
  redirect_info info;
  int rrv = redirect_compute(&rin, &info);
  CHECK(rrv == CRONC_OK || rrv == CRONC_ERR_INVALID_REDIRECT || rrv == CRONC_ERR_UNSAFE_REDIRECT);
  if (rrv == CRONC_OK && info.is_redirect) {
    CHECK(rv == CRONC_OK);
    CHECK(info.new_url.scheme == URL_SCHEME_HTTP || info.new_url.scheme == URL_SCHEME_HTTPS);
    CHECK(strncmp(info.new_location, info.new_url.spec, strlen(info.new_url.spec)) == 0);
    CHECK(strcmp(info.new_method, "GET") == 0 && info.strip_body_headers && !info.keep_body);
  }
  if (rrv == CRONC_ERR_INVALID_REDIRECT)
    CHECK(rv == CRONC_ERR_INVALID_URL);
  redirect_info_free(&info);

  /* "" and "#..." keep base's spec. */
  CHECK(url_resolve(&base, "", 0, &u) == CRONC_OK);
  CHECK(strcmp(u.spec, base.spec) == 0 && u.fragment == NULL);
  url_free(&u);
  url_free(&base);
  return 0;
}
