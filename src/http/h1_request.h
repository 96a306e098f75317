/* http/h1_request: the HTTP/1.1 request writer, the writing half of
 * Chromium's HttpStreamParser (request line and head, chunk encoding of
 * upload bodies).
 *
 * h1_request_write_head() serialises a request head into a caller-provided
 * strbuf; h1_chunk_*() frame a chunked upload body without copying it: the
 * framing bytes are returned separately so the stream can hand
 * [framing, payload, CRLF] to one vectored write. No I/O, no globals; pure
 * functions on caller memory, any thread.
 *
 * Validation (an error leaves `out` as it was, nothing half-written):
 *   - method: 1*tchar; request-target: 1*(VCHAR / obs-text), i.e. no
 *     controls, SP or DEL; host: non-empty, no controls, SP, DEL, '/', '?',
 *     '#', '@' (Host: uri-host [":" port]).
 *   - field names 1*tchar; field values without CR, LF or NUL (Chromium's
 *     HttpUtil::IsValidHeaderValue). Content-Length and Transfer-Encoding
 *     among the caller's fields are refused: the writer alone frames the
 *     body (two framings are how requests get smuggled). A caller's "Host"
 *     replaces the one made from `host`/`port`, in the Host position.
 *   Any violation: ERR_INVALID_ARGUMENT (the API layer maps it).
 *
 * The head is:
 *   METHOD SP request-target SP "HTTP/1.1" CRLF
 *   Host: host[:port]  (port omitted when it is the scheme's default) CRLF
 *   caller fields, in order CRLF...
 *   Content-Length: N | Transfer-Encoding: chunked   (per body_kind) CRLF
 *   CRLF */
#ifndef CRONC_HTTP_H1_REQUEST_H
#define CRONC_HTTP_H1_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "url/url.h"

/* One request field, given as slices (no NUL needed). */
typedef struct h1_field {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} h1_field;

typedef enum h1_request_body {
  H1_REQUEST_BODY_NONE = 0, /* no framing field (GET, HEAD, ...) */
  H1_REQUEST_BODY_LENGTH,   /* "Content-Length: content_length" (0 allowed: empty POST) */
  H1_REQUEST_BODY_CHUNKED,  /* "Transfer-Encoding: chunked"; frame with h1_chunk_*() */
} h1_request_body;

typedef struct h1_request_head {
  const char *method;     /* NUL-terminated, e.g. "GET" */
  const char *target;     /* NUL-terminated request-target: "/path?q", "host:443" (CONNECT) */
  url_scheme scheme;      /* for the default port */
  const char *host;       /* NUL-terminated, canonical; IPv6 keeps its brackets */
  uint16_t port;          /* written in Host when != url_default_port(scheme) */
  const h1_field *fields; /* may be NULL when field_count == 0 */
  size_t field_count;
  h1_request_body body;
  uint64_t content_length; /* for H1_REQUEST_BODY_LENGTH */
} h1_request_head;

/* Appends the request head to `out`. Returns 0, ERR_INVALID_ARGUMENT, or
 * ERR_OUT_OF_MEMORY (out then restored to its old length). */
int h1_request_write_head(const h1_request_head *req, strbuf *out);

/* Whether name[0..len) is a valid field name / value (exported so the API
 * layer can check caller headers up front with the same rules). */
bool h1_request_valid_field_name(const char *name, size_t len);
bool h1_request_valid_field_value(const char *value, size_t len);

/* ------------------------------------------------------------------------ */
/* Chunked upload framing (RFC 9112 §7.1). One chunk on the wire is
 *   h1_chunk_header(len) | payload (the caller's bytes) | H1_CHUNK_CRLF
 * and the body ends with H1_CHUNK_LAST (no trailers). */

#define H1_CHUNK_HEADER_MAX 18 /* 16 hex digits + CRLF */
#define H1_CHUNK_CRLF       "\r\n"
#define H1_CHUNK_LAST       "0\r\n\r\n"

/* Writes "<hex len>\r\n" (upper-case hex, as Chromium) into out and returns
 * its length. len must be > 0 (a zero-size chunk ends the body); with len 0
 * it writes nothing and returns 0. */
size_t h1_chunk_header(uint64_t len, uint8_t out[H1_CHUNK_HEADER_MAX]);

/* A slice for a vectored write. */
typedef struct h1_iov {
  const uint8_t *base;
  size_t len;
} h1_iov;

/* The three slices of one chunk: iov[0] the header (in `header_storage`,
 * which must outlive the write), iov[1] the payload itself (not copied),
 * iov[2] the CRLF (static). Returns 3, or 0 when len == 0 (nothing to send;
 * end the body with h1_chunk_last()). */
size_t h1_chunk_frame(const uint8_t *payload, size_t len,
                      uint8_t header_storage[H1_CHUNK_HEADER_MAX], h1_iov iov[3]);

/* The last chunk and the end of the (trailer-less) body: "0\r\n\r\n". */
h1_iov h1_chunk_last(void);

#endif /* CRONC_HTTP_H1_REQUEST_H */
