/* http/h1_parser: an incremental HTTP/1.1 response parser (RFC 9112), the
 * counterpart of the parsing half of Chromium's HttpStreamParser together
 * with HttpChunkedDecoder and the header storage of HttpResponseHeaders.
 *
 * It does no I/O (STYLE.md #5): the HTTP/1.1 stream feeds it whatever bytes
 * the socket gave, in slices of any size (one byte at a time works and gives
 * the same result as one slice), and pulls events out of it one at a time:
 *
 *     for (;;) {
 *       size_t n; h1_event ev;
 *       int rv = h1_parser_execute(p, data, len, &n, &ev);
 *       if (rv < 0) -> fail the stream with rv
 *       data += n; len -= n;
 *       if (ev.type == H1_EVENT_NONE) break;             // need more input
 *       if (ev.type == H1_EVENT_HEADERS) ...             // h1_parser_headers(p)
 *       if (ev.type == H1_EVENT_BODY) ...                // ev.data/ev.len
 *       if (ev.type == H1_EVENT_MESSAGE_COMPLETE) break; // `len` bytes left over
 *     }
 *     on connection close: rv = h1_parser_finish(p);
 *
 * Zero copy for bodies: a BODY event's slice points into the caller's input
 * (chunk framing is stripped by slicing around it, never by copying). Only
 * the response head is copied, into one growing arena (h1_headers).
 *
 * Ownership: the caller owns the parser and the input; BODY slices live as
 * long as the input. The headers stay valid until the parser starts on the
 * next head (the next execute() after an interim HEADERS event, or
 * h1_parser_reset()), or for ever once moved out with h1_parser_take_headers().
 * One thread at a time; no callbacks, no globals, no re-entrancy.
 *
 * Decisions (Chromium's unless said otherwise):
 *   - Status line: exactly "HTTP/1." DIGIT SP 3DIGIT [SP reason]; the code is
 *     100..999; HTTP/1.x with x >= 2 counts as 1.1. Anything else (HTTP/0.9,
 *     "ICY", lower-case "http", HTTP/2.0, a missing code) is
 *     ERR_INVALID_HTTP_RESPONSE (Chromium guesses and fails HTTP/0.9 on
 *     non-default ports; cronc never speaks HTTP/0.9). Up to 4 CR/LF bytes
 *     before the status line are skipped (a server's stray CRLF after a
 *     body; Chromium's 4 bytes of "slop").
 *   - Lines end at LF; one CR before it is dropped (RFC 9112 §2.2). A CR
 *     anywhere else in the head or a NUL is ERR_INVALID_HTTP_RESPONSE.
 *   - Field lines: name = 1*tchar, SP/HTAB before the colon is dropped (as a
 *     proxy must, RFC 9112 §5.1, and as Chromium does), a line without a
 *     colon or with a bad name is ERR_INVALID_HTTP_RESPONSE. Values are
 *     trimmed of SP/HTAB; other controls are kept (as Chromium).
 *   - obs-fold (a line starting with SP/HTAB) is joined to the previous
 *     value with one SP (RFC 9112 §5.2, Chromium's AssembleRawHeaders); a
 *     folded line before any field is ERR_INVALID_HTTP_RESPONSE.
 *   - Head limit: a head (status line through the empty line, including
 *     line endings and skipped CR/LF) of up to H1_MAX_HEADER_BYTES is
 *     accepted; one byte more is ERR_RESPONSE_HEADERS_TOO_BIG, whatever the
 *     slicing. The limit applies to each head (1xx heads separately).
 *   - Framing (RFC 9112 §6.3, Chromium's CalculateResponseBodySize): no body
 *     for 1xx, 204, 205 (Chromium), 304, a response to HEAD, 101 and a 2xx to
 *     CONNECT (both "upgraded": the rest of the input is the new protocol's).
 *     Otherwise a Transfer-Encoding whose last coding is "chunked" means
 *     chunked; any other Transfer-Encoding means close-delimited (RFC; it
 *     overrides Content-Length). Else Content-Length: a list ("5, 5") or
 *     repeated fields must all be the same string, else
 *     ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH (checked for every head
 *     without Transfer-Encoding, as Chromium); a value that is not 1*DIGIT
 *     within int64 is ignored and the body is close-delimited (Chromium:
 *     GetContentLength() == -1; RFC 9112 would fail it). Else close-delimited.
 *   - Repeated Location or Content-Disposition fields with different values
 *     are ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION / _CONTENT_DISPOSITION
 *     (Chromium, against response splitting; compared field by field).
 *   - Chunked: chunk-size = 1*HEXDIG within int64, then any SP, then an
 *     optional ";extension" (ignored), CR? LF (Chromium's ParseChunkSize).
 *     Chunk data must be followed by CRLF or LF. Trailer fields are skipped
 *     unread. Each chunk-size or trailer line may hold 16 KiB
 *     (H1_MAX_CHUNK_LINE, Chromium's kMaxLineBufLen). Anything else is
 *     ERR_INVALID_CHUNKED_ENCODING.
 *   - Transfer-Encoding on an HTTP/1.0 response is honoured but the
 *     connection is never reused (RFC 9112 §6.1; Chromium ignores it).
 *   - End of input (h1_parser_finish): nothing of the head received:
 *     ERR_EMPTY_RESPONSE (the stream should report ERR_CONNECTION_CLOSED
 *     instead on a reused connection, as Chromium does); part of a head:
 *     ERR_RESPONSE_HEADERS_TRUNCATED (Chromium does so over https and
 *     accepts the truncated head over http: cronc never does);
 *     short Content-Length body: ERR_CONTENT_LENGTH_MISMATCH; unfinished
 *     chunked body: ERR_INCOMPLETE_CHUNKED_ENCODING; close-delimited body:
 *     OK (the message is complete). */
#ifndef CRONC_HTTP_H1_PARSER_H
#define CRONC_HTTP_H1_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

#define H1_MAX_HEADER_BYTES (256 * 1024) /* Chromium's kMaxHeaderBufSize */
#define H1_MAX_CHUNK_LINE   16384        /* Chromium's HttpChunkedDecoder::kMaxLineBufLen */

/* ------------------------------------------------------------------------ */
/* h1_headers: a parsed response head (status, version, reason, fields) in
 * one allocation. Fields keep their order and case; lookups are
 * case-insensitive. Values are trimmed and never NUL-terminated: use the
 * lengths. */

typedef struct h1_headers {
  uint8_t *buf;       /* arena: reason phrase, then the fields */
  size_t len;         /* bytes used */
  size_t cap;         /* bytes allocated */
  size_t first;       /* offset of the first field (= reason length) */
  size_t count;       /* number of fields */
  size_t last;        /* offset of the last field (for obs-fold) */
  int status;         /* 100..999, 0 before a status line was parsed */
  uint8_t http_minor; /* 0 = HTTP/1.0, 1 = HTTP/1.1 (and later 1.x) */
} h1_headers;

#define H1_HEADERS_INIT                                                                            \
  { NULL, 0, 0, 0, 0, 0, 0, 0 }

void h1_headers_init(h1_headers *h);
void h1_headers_free(h1_headers *h);
/* Forgets the contents, keeps the memory. */
void h1_headers_clear(h1_headers *h);

/* The reason phrase (may be empty, not NUL-terminated). */
const char *h1_headers_reason(const h1_headers *h, size_t *len_out);
size_t h1_headers_count(const h1_headers *h);

/* Walks the fields in order. Start with *iter = 0; returns false after the
 * last one. Outputs point into the arena. */
bool h1_headers_next(const h1_headers *h, size_t *iter, const char **name, size_t *name_len,
                     const char **value, size_t *value_len);

/* Walks the values of the fields named `name` (case-insensitive), in order.
 * Start with *iter = 0; false when there are no more. */
bool h1_headers_find(const h1_headers *h, const char *name, size_t *iter, const char **value,
                     size_t *value_len);
bool h1_headers_has(const h1_headers *h, const char *name);

/* Chromium's GetNormalizedHeader: the values of every field named `name`
 * joined with ", " and appended to out. Returns true when the field exists
 * (out unchanged otherwise). Allocation failure shows in strbuf_failed(out). */
bool h1_headers_get_normalized(const h1_headers *h, const char *name, strbuf *out);

/* Whether any comma-separated element of any `name` field equals `token`
 * (both case-insensitive, elements trimmed), e.g. ("connection", "close"). */
bool h1_headers_has_token(const h1_headers *h, const char *name, const char *token);

/* Appends a field (used by the parser; handy for tests and synthetic heads).
 * name/value are copied as given. Returns 0 or ERR_OUT_OF_MEMORY. */
int h1_headers_add(h1_headers *h, const char *name, size_t name_len, const char *value,
                   size_t value_len);

/* ------------------------------------------------------------------------ */
/* h1_parser */

typedef struct h1_parser h1_parser;

/* What the request was, where it changes the response's framing. */
typedef enum h1_method {
  H1_METHOD_OTHER = 0, /* GET, POST, ...: the response may have a body */
  H1_METHOD_HEAD,      /* never a body */
  H1_METHOD_CONNECT,   /* a 2xx switches to a tunnel */
} h1_method;

typedef enum h1_event_type {
  H1_EVENT_NONE = 0,         /* all input consumed (more needed), or the message is done */
  H1_EVENT_HEADERS,          /* a complete head: h1_parser_is_interim() tells 1xx */
  H1_EVENT_BODY,             /* data/len: body bytes, a slice of the input */
  H1_EVENT_MESSAGE_COMPLETE, /* the response ended; nothing consumed past it */
} h1_event_type;

typedef struct h1_event {
  h1_event_type type;
  const uint8_t *data; /* BODY only: points into the input of this call */
  size_t len;
} h1_event;

typedef enum h1_body_kind {
  H1_BODY_NONE = 0, /* no body (or not known yet) */
  H1_BODY_LENGTH,   /* Content-Length */
  H1_BODY_CHUNKED,  /* Transfer-Encoding: chunked */
  H1_BODY_CLOSE,    /* until the connection closes */
} h1_body_kind;

/* A parser ready for the response to a request of method H1_METHOD_OTHER.
 * NULL on allocation failure. */
h1_parser *h1_parser_new(void);
void h1_parser_free(h1_parser *p);

/* Prepares for the next response on the connection (after
 * MESSAGE_COMPLETE, or to abandon the current one). Keeps the arena memory. */
void h1_parser_reset(h1_parser *p, h1_method method);

/* Parses from data[0..len) up to and including the next event, stores how
 * many bytes it used in *consumed and the event in *ev. Returns 0, or a
 * negative CRONC_ERR_* for a malformed response (then *ev is NONE, and the
 * same error comes back from every later call until reset). len may be 0
 * (data may then be NULL): pending events (MESSAGE_COMPLETE after the last
 * body byte or a body-less head) still come out. After MESSAGE_COMPLETE it
 * returns NONE and consumes nothing until h1_parser_reset(). */
int h1_parser_execute(h1_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                      h1_event *ev);

/* The connection closed (end of input). Returns 0 when the response is
 * complete (always so for a close-delimited body, which this completes),
 * else the error listed in the decisions above. */
int h1_parser_finish(h1_parser *p);

/* The head of the current response: valid after a HEADERS event. */
const h1_headers *h1_parser_headers(const h1_parser *p);
int h1_parser_status(const h1_parser *p);
/* Moves the head out (no copy) into *out (whose old contents are freed);
 * the parser's own head is then empty. The framing decisions are kept. */
void h1_parser_take_headers(h1_parser *p, h1_headers *out);

/* True after a HEADERS event for a 1xx other than 101: another head follows. */
bool h1_parser_is_interim(const h1_parser *p);
/* True after the final head of a 101 or of a 2xx to CONNECT: the bytes after
 * MESSAGE_COMPLETE belong to the new protocol. */
bool h1_parser_is_upgraded(const h1_parser *p);
h1_body_kind h1_parser_body_kind(const h1_parser *p);
/* The Content-Length in force, or -1 (chunked, close-delimited, no body). */
int64_t h1_parser_content_length(const h1_parser *p);
/* One Content-Length value: 1*DIGIT within int64, else -1 (also used for
 * HTTP/2 responses). */
int64_t h1_parse_content_length(const char *s, size_t n);
/* Body bytes delivered so far for this response (framing excluded). */
uint64_t h1_parser_body_bytes(const h1_parser *p);
/* After the final head: may the connection carry another request once this
 * response is complete? HTTP/1.1 unless "close", HTTP/1.0 only with
 * "keep-alive" (first such token of Connection, then Proxy-Connection,
 * Chromium's IsKeepAlive); never for a close-delimited body, an upgrade, or
 * Transfer-Encoding on HTTP/1.0. The stream should also refuse reuse when
 * bytes are left over after MESSAGE_COMPLETE (Chromium's CanReuseConnection). */
bool h1_parser_can_reuse(const h1_parser *p);
/* True once MESSAGE_COMPLETE was returned (or finish() completed a body). */
bool h1_parser_is_done(const h1_parser *p);
/* A static description of the last error, for NetLog ("" when none). */
const char *h1_parser_error_reason(const h1_parser *p);

#endif /* CRONC_HTTP_H1_PARSER_H */
