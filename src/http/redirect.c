/* http/redirect: the redirect decision (see redirect.h). */
#include "http/redirect.h"

#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"

bool redirect_is_redirect_status(int status) {
  /* 300 is left to the application (Chromium: users want to see the
   * choices); 304 and 305/306 are not redirects to follow. */
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

const char *redirect_method_for(const char *method, int status) {
  if (!method)
    return NULL;
  if ((status == 303 && strcmp(method, "HEAD") != 0) ||
      ((status == 301 || status == 302) && strcmp(method, "POST") == 0))
    return "GET";
  return method;
}

static bool ascii_ieq(const char *a, size_t len, const char *lower) {
  size_t n = strlen(lower);
  if (len != n)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c + ('a' - 'A'));
    if (c != lower[i])
      return false;
  }
  return true;
}

bool redirect_removes_header(const redirect_info *info, const char *name, size_t len) {
  static const char *const kBodyHeaders[] = {"origin",           "content-length",
                                             "content-type",     "content-encoding",
                                             "content-language", "content-location"};
  if (!info || !info->strip_body_headers || !name)
    return false;
  for (size_t i = 0; i < sizeof(kBodyHeaders) / sizeof(kBodyHeaders[0]); i++)
    if (ascii_ieq(name, len, kBodyHeaders[i]))
      return true;
  return false;
}

static bool location_is_empty(const char *s, size_t len) {
  /* A header value is trimmed of OWS; an empty one does not count. */
  for (size_t i = 0; i < len; i++)
    if (s[i] != ' ' && s[i] != '\t')
      return false;
  return true;
}

/* Gives `u` the fragment `fragment` (already canonical) by re-parsing its
 * spec with it: the url's strings share one allocation. */
static int set_fragment(url *u, const char *fragment) {
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, u->spec);
  strbuf_append_char(&sb, '#');
  strbuf_append_str(&sb, fragment);
  if (strbuf_failed(&sb)) {
    strbuf_free(&sb);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  url with;
  int rv = url_parse(sb.data, sb.len, &with);
  strbuf_free(&sb);
  if (rv != CRONC_OK)
    return rv == CRONC_ERR_OUT_OF_MEMORY ? rv : CRONC_ERR_INVALID_REDIRECT;
  url_free(u);
  *u = with;
  return CRONC_OK;
}

static char *serialise_with_fragment(const url *u) {
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, u->spec);
  if (u->fragment) {
    strbuf_append_char(&sb, '#');
    strbuf_append_str(&sb, u->fragment);
  }
  return strbuf_detach(&sb, NULL);
}

static bool same_origin(const url *a, const url *b) {
  url_origin oa, ob;
  if (url_origin_from_url(a, &oa) != CRONC_OK || url_origin_from_url(b, &ob) != CRONC_OK)
    return false;
  return url_origin_equal(&oa, &ob);
}

int redirect_compute(const redirect_input *in, redirect_info *out) {
  if (!out)
    return CRONC_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof(*out));
  if (!in || !in->method || !in->url || !in->url->spec)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (!redirect_is_redirect_status(in->status) || !in->location ||
      location_is_empty(in->location, in->location_len))
    return CRONC_OK; /* a normal response */
  out->is_redirect = true;
  out->status = in->status;

  /* URLRequestJob::CanFollowRedirect's order: limit, validity, safety. */
  if (in->redirect_count >= REDIRECT_MAX)
    return CRONC_ERR_TOO_MANY_REDIRECTS;
  int rv = url_resolve(in->url, in->location, in->location_len, &out->new_url);
  if (rv == CRONC_ERR_UNKNOWN_URL_SCHEME)
    return CRONC_ERR_UNSAFE_REDIRECT;
  if (rv == CRONC_ERR_INVALID_URL)
    return CRONC_ERR_INVALID_REDIRECT;
  if (rv != CRONC_OK)
    return rv;
  if (out->new_url.scheme != URL_SCHEME_HTTP && out->new_url.scheme != URL_SCHEME_HTTPS) {
    url_free(&out->new_url);
    return CRONC_ERR_UNSAFE_REDIRECT;
  }

  /* A Location without fragment inherits the request's (even an empty one:
   * "#" is a fragment). */
  if (in->url->fragment && !out->new_url.fragment) {
    rv = set_fragment(&out->new_url, in->url->fragment);
    if (rv != CRONC_OK) {
      url_free(&out->new_url);
      return rv;
    }
  }
  out->new_location = serialise_with_fragment(&out->new_url);
  if (!out->new_location) {
    url_free(&out->new_url);
    return CRONC_ERR_OUT_OF_MEMORY;
  }

  out->new_method = redirect_method_for(in->method, in->status);
  out->method_changed = strcmp(out->new_method, in->method) != 0;
  out->keep_body = !out->method_changed;
  out->strip_body_headers = out->method_changed;
  out->origin_to_null = !same_origin(in->url, &out->new_url);
  return CRONC_OK;
}

void redirect_info_free(redirect_info *info) {
  if (!info)
    return;
  url_free(&info->new_url);
  free(info->new_location);
  memset(info, 0, sizeof(*info));
}
