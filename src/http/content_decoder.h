/* http/content_decoder: response content decoding (Content-Encoding), the
 * counterpart of Chromium's net/filter/ (FilterSourceStream with its Gzip,
 * Brotli and Zstd source streams) and of the chain that URLRequestHttpJob::
 * SetUpSourceStream() builds from the Content-Encoding header.
 *
 * It does no I/O (STYLE.md #5): the request layer feeds the received body in
 * slices of any size and gets decoded bytes written into a buffer it owns, so
 * the last stage of the chain decodes straight into the application's read
 * buffer. Between stages of a chain ("gzip, br") each stage owns one fixed
 * CONTENT_DECODER_BUFFER_SIZE buffer; nothing is ever allocated in proportion
 * to the output (a 1 GB bomb decodes in constant memory; like Chromium there
 * is no cap on the output size, the caller's reads pace it).
 *
 *     content_decoder *d;
 *     int rv = content_decoder_new_for_header(value, value_len, &d);
 *     if (rv < 0) -> fail the request with rv
 *     if (!d)     -> deliver the body as it is (no coding / unknown coding)
 *     for each body slice (and then with in_len = 0 to drain):
 *       rv = content_decoder_decode(d, in, in_len, &used, out, cap, &n);
 *       if (rv < 0) -> fail with rv;  deliver out[0..n);  in += used ...
 *       (n == cap: more output may be waiting: call again, even with no input)
 *     at the end of the body (once a call returned n < cap):
 *       rv = content_decoder_finish(d);  -> CRONC_OK or the truncation error
 *     content_decoder_free(d);
 *
 * Ownership: the caller owns the decoder, the input and the output buffer;
 * the decoder keeps no pointer to either after a call returns. One thread at
 * a time (the network thread); no callbacks, no globals.
 *
 * Decisions (Chromium's unless said otherwise):
 *   - Codings: "gzip" and "x-gzip", "deflate", "br", "zstd", tokens compared
 *     case-insensitively after trimming SP/HTAB. They were applied in header
 *     order and are decoded in reverse order. Several Content-Encoding fields
 *     are one list (content_encoding_list_add() once per field).
 *   - Any other element - "identity", an empty element, "compress", "gzip;q=1"
 *     - makes the whole body pass through undecoded, whatever the other
 *     elements say (Chromium returns the raw upstream as soon as it meets a
 *     TYPE_NONE or TYPE_UNKNOWN element: the user sees the raw bytes, the
 *     request is not failed). This is not an error.
 *   - Chain length: Chromium has no limit; cronc refuses more than
 *     CONTENT_DECODER_MAX_CHAIN known codings with ERR_CONTENT_DECODING_FAILED
 *     (curl and urllib3 allow 5 as well), so a hostile header cannot make us
 *     build thousands of decoders.
 *   - gzip: the header is parsed here (magic 1f 8b, method 8, FEXTRA, FNAME,
 *     FCOMMENT, FHCRC skipped; the header CRC and reserved flags are not
 *     checked), the body is raw deflate; the 8-byte footer is skipped without
 *     checking CRC32/ISIZE and may be missing. Bytes after the footer
 *     (including further gzip members) are ignored. A bad header is
 *     ERR_CONTENT_DECODING_FAILED (no "not really gzip" fallback).
 *   - deflate: zlib-wrapped (RFC 1950) or raw (RFC 1951), sniffed from the
 *     first two bytes (a valid zlib header means wrapped); Chromium instead
 *     retries as raw whenever zlib-mode inflate fails in the first 1000 bytes,
 *     which differs only for a valid zlib header followed by corrupt data
 *     (failed either way in practice). Either way, as in Chromium, an Adler-32
 *     trailer after the deflate data is checked when all 4 bytes are there
 *     (mismatch: ERR_CONTENT_DECODING_FAILED), may be missing, and bytes after
 *     it are ignored.
 *   - br: bytes after the end of the brotli stream are ignored.
 *   - zstd: concatenated frames and skippable frames are decoded; anything
 *     after a frame that is not another frame is ERR_CONTENT_DECODING_FAILED
 *     (libzstd's answer, which Chromium returns on the read after the data).
 *     Frames needing a window above 8 MiB (2^CONTENT_DECODER_ZSTD_WINDOW_LOG_MAX,
 *     RFC 8878 §3.1.1.1.2) fail with ERR_ZSTD_WINDOW_SIZE_TOO_BIG. Pre-RFC
 *     (legacy v0.x) frames fail, as in Chromium, although Debian's libzstd
 *     would decode them (see ZSTD_BYTEWISE_PREFIX in the .c).
 *   - Corrupt data: ERR_CONTENT_DECODING_FAILED. Output decoded before the
 *     error is still delivered: the call that meets the error returns CRONC_OK
 *     with that output and the next call returns the error (Chromium's reads
 *     behave the same). Errors are sticky. In a chain, stages after a failed
 *     one still drain what they were given first; the error returned is the
 *     first one met (which stage fails first can depend on slicing, as in
 *     Chromium; whether decoding fails cannot).
 *   - Truncation: content_decoder_finish() reports ERR_CONTENT_DECODING_FAILED
 *     when a stage started a stream and did not reach its end (gzip/deflate:
 *     the end of the deflate data; br: end of stream; zstd: end of a frame).
 *     Chromium itself does NOT fail a truncated body (its filters only count
 *     truncation in UMA histograms and return EOF); the request layer decides
 *     whether to surface the error. An empty body (no byte received) is clean
 *     for every coding, as in Chromium.
 *   - Accept-Encoding: content_decoder_accept_encoding().
 */
#ifndef CRONC_HTTP_CONTENT_DECODER_H
#define CRONC_HTTP_CONTENT_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most codings one response may stack (see the header comment). */
#define CONTENT_DECODER_MAX_CHAIN 5
/* Size of the buffer between two stages of a chain (Chromium's
 * FilterSourceStream input buffer is 32 KiB too). */
#define CONTENT_DECODER_BUFFER_SIZE (32 * 1024)
/* zstd: largest window accepted, log2 (8 MiB, Chromium's zstd_source_stream). */
#define CONTENT_DECODER_ZSTD_WINDOW_LOG_MAX 23

typedef enum content_coding {
  CONTENT_CODING_GZIP = 1, /* "gzip", "x-gzip" */
  CONTENT_CODING_DEFLATE,  /* "deflate" (zlib-wrapped or raw) */
  CONTENT_CODING_BR,       /* "br" */
  CONTENT_CODING_ZSTD,     /* "zstd" */
} content_coding;

/* The Content-Encoding of one response, in the order the codings were applied. */
typedef struct content_encoding_list {
  content_coding codings[CONTENT_DECODER_MAX_CHAIN];
  size_t count;     /* known codings seen (may exceed the array: see too_long) */
  bool passthrough; /* an unknown/identity/empty element: deliver the raw body */
} content_encoding_list;

void content_encoding_list_init(content_encoding_list *l);
/* Adds the elements of one Content-Encoding field value (not NUL-terminated;
 * value may be NULL when len is 0). Call once per field line, in order. */
void content_encoding_list_add(content_encoding_list *l, const char *value, size_t len);
/* Whether the list holds more codings than CONTENT_DECODER_MAX_CHAIN. */
bool content_encoding_list_too_long(const content_encoding_list *l);

/* Chromium's lower-case token for a coding ("gzip", "deflate", "br", "zstd"). */
const char *content_coding_name(content_coding c);

/* The Accept-Encoding value a request sends, as Chromium builds it:
 * "identity" when the request carries a Range header; "gzip, deflate, br, zstd"
 * when the URL is cryptographic (https, wss) or localhost (transferred data is
 * opaque to proxies); "gzip, deflate" otherwise. Static string. */
const char *content_decoder_accept_encoding(bool secure_or_localhost, bool has_range);

typedef struct content_decoder content_decoder;

/* Builds the decoding chain for l. Returns CRONC_OK and sets *out to the new
 * decoder, or to NULL when the body is to be delivered as it is (no coding,
 * or l->passthrough). Errors: ERR_CONTENT_DECODING_FAILED for a chain longer
 * than CONTENT_DECODER_MAX_CHAIN (when not passthrough);
 * ERR_CONTENT_DECODING_INIT_FAILED when memory or a library's init fails
 * (Chromium's error when it cannot build its filter chain). */
int content_decoder_new(const content_encoding_list *l, content_decoder **out);
/* content_encoding_list_init + _add(value, len) + content_decoder_new. */
int content_decoder_new_for_header(const char *value, size_t len, content_decoder **out);
void content_decoder_free(content_decoder *d);

/* Decodes: consumes up to in_len bytes of in (*consumed says how many; give
 * the rest again next time) and writes up to out_cap decoded bytes to out
 * (*produced). Makes all the progress it can: when it returns with
 * *produced < out_cap, all of in was consumed and everything decodable so far
 * was delivered. When *produced == out_cap more output may be waiting: call
 * again (in_len may be 0). in may be NULL when in_len is 0; out_cap may be 0.
 * Returns CRONC_OK or a negative error (see the header comment); once an
 * error is returned every later call returns it with nothing consumed or
 * produced. */
int content_decoder_decode(content_decoder *d, const uint8_t *in, size_t in_len, size_t *consumed,
                           uint8_t *out, size_t out_cap, size_t *produced);

/* Reports how the body ended; call once the body is complete and a decode()
 * call returned *produced < out_cap. CRONC_OK: every stage that received data
 * reached the end of its stream. ERR_CONTENT_DECODING_FAILED: truncated (or
 * decoded bytes were left undelivered, i.e. decode() was not drained). A
 * sticky decode error is returned as it is. Does not change the decoder. */
int content_decoder_finish(const content_decoder *d);

/* The number of stages (codings decoded), for NetLog and tests. */
size_t content_decoder_chain_length(const content_decoder *d);

#endif /* CRONC_HTTP_CONTENT_DECODER_H */
