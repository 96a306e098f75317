/* http/redirect: what to do with a 3xx response, decided the way Chromium
 * decides it (HttpResponseHeaders::IsRedirect, URLRequestJob::
 * CanFollowRedirect, RedirectInfo::ComputeRedirectInfo with
 * ComputeMethodForRedirect, RedirectUtil::UpdateHttpRequest). It takes the
 * request's method and URL, the status and the raw Location value, and
 * returns the next request's URL and method, whether its body and body
 * headers survive, or the error that ends the request. It sends nothing and
 * edits no header list: the transaction applies the decision.
 *
 * Rules (RFC 9110 section 15.4 as browsers apply it):
 *   - redirects are 301, 302, 303, 307 and 308 with a non-empty Location;
 *     300 (and any other status) is a normal response, and so is a redirect
 *     status without Location (Chromium shows such a response as it is);
 *   - 303 turns every method but HEAD into GET; 301 and 302 turn POST into
 *     GET (historic browser behaviour RFC 9110 allows); 307 and 308 keep the
 *     method and the body. Method names compare case-sensitively ("post" is
 *     not POST), as in Chromium's net/;
 *   - when the method changes the body is dropped and so are the request
 *     headers Origin, Content-Length, Content-Type, Content-Encoding,
 *     Content-Language and Content-Location; a cross-origin redirect turns an
 *     Origin header that is still there into "null";
 *   - the new URL is Location resolved against the request URL; when it has
 *     no fragment it takes the request URL's fragment (Chromium, after
 *     Mozilla);
 *   - errors, checked in Chromium's order: REDIRECT_MAX redirects already
 *     followed -> ERR_TOO_MANY_REDIRECTS (the 21st fails); a Location that
 *     does not resolve -> ERR_INVALID_REDIRECT; a scheme other than http and
 *     https (ws, wss, ftp, data, file, javascript, ...) -> ERR_UNSAFE_REDIRECT.
 *     (Chromium deems schemes without a registered handler "safe" at this
 *     point and fails the follow-up request with ERR_UNKNOWN_URL_SCHEME; cronc
 *     fetches only http and https, so it refuses before the redirect is
 *     reported, as Chromium does for data: and file:.)
 *   - https -> http downgrades are followed (Chromium follows them).
 *
 * Ownership: redirect_info owns new_url and new_location; release them with
 * redirect_info_free(). Pure functions; any thread. */
#ifndef CRONC_HTTP_REDIRECT_H
#define CRONC_HTTP_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>

#include "url/url.h"

#define REDIRECT_MAX 20 /* Chromium's kMaxRedirects */

typedef struct redirect_input {
  const char *method;   /* the request's method, NUL-terminated */
  const url *url;       /* the request's URL, its fragment included */
  int status;           /* the response's status code */
  const char *location; /* the first non-empty Location value, raw (may be
                         * relative, may hold non-ASCII); NULL when absent */
  size_t location_len;
  unsigned redirect_count; /* redirects this request already followed */
} redirect_input;

typedef struct redirect_info {
  bool is_redirect;        /* false: a normal response, nothing else is set */
  int status;              /* the status code, copied */
  const char *new_method;  /* "GET" (static) or input.method itself */
  bool method_changed;     /* new_method differs from the request's */
  bool keep_body;          /* the upload goes along (only when the method is kept) */
  bool strip_body_headers; /* drop Origin and the Content-* request headers above */
  bool origin_to_null;     /* cross-origin: an Origin header still present becomes "null" */
  url new_url;             /* the next request's URL; fragment = the one to report */
  char *new_location;      /* new_url with its fragment: what Chromium's
                            * OnRedirectReceived reports (new_url.spec()) */
} redirect_info;

/* 301, 302, 303, 307, 308 (HttpResponseHeaders::IsRedirectResponseCode). */
bool redirect_is_redirect_status(int status);

/* The method of the request that follows a `status` redirect of a `method`
 * request: "GET" (a static string) or `method` itself. */
const char *redirect_method_for(const char *method, int status);

/* Decides a response. Returns 0 with out->is_redirect false for a normal
 * response; 0 with out->is_redirect true and every field set for a redirect
 * to follow; or, for a redirect that must not be followed (out->is_redirect
 * true, out->status set, no URL): ERR_TOO_MANY_REDIRECTS,
 * ERR_INVALID_REDIRECT, ERR_UNSAFE_REDIRECT, ERR_OUT_OF_MEMORY. Bad
 * arguments (NULL in/out/method/url, a url not from url_parse):
 * ERR_INVALID_ARGUMENT. out is always initialised; redirect_info_free() it
 * whatever the result. */
int redirect_compute(const redirect_input *in, redirect_info *out);

void redirect_info_free(redirect_info *info);

/* True when `name` (case-insensitive, len bytes) is a request header the
 * follow-up request must not carry (strip_body_headers). The Origin header
 * is removed here too; origin_to_null then never applies to it. */
bool redirect_removes_header(const redirect_info *info, const char *name, size_t len);

#endif /* CRONC_HTTP_REDIRECT_H */
