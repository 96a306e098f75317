/* tests/support/http_origin: a programmable plain-HTTP/1.1 origin for cache
 * tests. Routes are scripted per path (and optionally per value of one
 * request header): status, extra header lines, body, an optional ETag (then
 * a request whose If-None-Match equals it gets a 304 with the same header
 * lines and no body), an optional cut (close the connection after that many
 * body bytes) and a delay before answering. It counts requests and records
 * each request's head so tests can assert what the client sent.
 *
 * One thread of its own, poll()-based, keep-alive connections, on a free
 * loopback port. Thread: set/get functions may be called from any thread
 * (a mutex guards routes and the log). */
#ifndef CRONC_TESTS_SUPPORT_HTTP_ORIGIN_H
#define CRONC_TESTS_SUPPORT_HTTP_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_origin_route {
  const char *path;         /* exact request target, e.g. "/a?x=1" */
  const char *match_header; /* NULL = any; else only when this header... */
  const char *match_value;  /* ...has this value (NULL = absent) */
  int status;               /* 0 = 200 */
  const char *headers;      /* extra lines, each ending "\r\n" (may be NULL) */
  const char *body;         /* may be NULL */
  size_t body_len;          /* 0 with body set = strlen(body) */
  const char *etag;         /* NULL = none; e.g. "\"v1\"" */
  int64_t cut_after;        /* >= 0: close after this many body bytes; -1 = never */
  unsigned delay_ms;        /* before the response */
} http_origin_route;

typedef struct http_origin http_origin;

/* Starts on 127.0.0.1, a free port. NULL on failure. */
http_origin *http_origin_start(void);
uint16_t http_origin_port(const http_origin *o);
/* "http://127.0.0.1:<port><path>" into out. */
void http_origin_url(const http_origin *o, const char *path, char *out, size_t size);

/* Adds a route, or replaces the one with the same path/match_header/
 * match_value. Strings are copied. cut_after in r is honoured as given
 * (set -1 for none). */
void http_origin_set(http_origin *o, const http_origin_route *r);
/* A route with defaults: 200, cut_after -1, no delay. */
void http_origin_route_init(http_origin_route *r, const char *path);

/* Requests seen so far (all paths, or one path). */
int http_origin_requests(http_origin *o);
int http_origin_requests_for(http_origin *o, const char *path);
/* The value of header `name` in the n-th request (0-based, all paths) into
 * out; false when absent or no such request. */
bool http_origin_request_header(http_origin *o, int n, const char *name, char *out, size_t size);
/* The method of the n-th request into out. */
bool http_origin_request_method(http_origin *o, int n, char *out, size_t size);

void http_origin_stop(http_origin *o);

#endif /* CRONC_TESTS_SUPPORT_HTTP_ORIGIN_H */
