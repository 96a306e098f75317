/* cache/cache_entry: the codec of a stored entry's metadata (Chromium's
 * HttpResponseInfo::Persist / InitFromPickle, stream 0 of a disk_cache
 * entry). A stored entry is this metadata (response head, the request
 * values the response varies on, request and response times, protocol, body
 * length) plus the body bytes, which backends keep beside it (stream 1) so
 * that a hit reads the body straight into the caller's buffer.
 *
 * Encoding (little-endian, version 1):
 *   "CRCE" u16 version u16 flags(0)
 *   i64 request_time_us i64 response_time_us u64 body_size
 *   u16 status u8 http_minor u8 proto_len proto
 *   u32 reason_len reason
 *   u32 n_fields { u32 name_len name u32 value_len value }
 *   u8 vary_star u32 n_vary { u32 name_len name u8 present u32 value_len value }
 *   u32 FNV-1a of every byte before it
 * Decoding checks every length against what is left, the limits below, the
 * field syntax (a name is 1*tchar, a value holds no CR, LF or NUL), that no
 * byte follows, and the checksum; anything else is
 * CRONC_ERR_CACHE_READ_FAILURE, never a crash (fuzzed: fuzz_cache_entry).
 * Any thread; no shared state. */
#ifndef CRONC_CACHE_CACHE_ENTRY_H
#define CRONC_CACHE_CACHE_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "cache/cache_policy.h"
#include "http/h1_parser.h"

#define CACHE_ENTRY_VERSION    1
#define CACHE_ENTRY_MAX_META   (1024 * 1024) /* larger metadata is refused */
#define CACHE_ENTRY_MAX_FIELDS 1024

typedef struct cache_entry_meta {
  h1_headers head;          /* the persisted response head */
  cache_vary vary;          /* request values of the Vary fields */
  int64_t request_time_us;  /* wall time the request was sent */
  int64_t response_time_us; /* wall time the head arrived */
  uint64_t body_size;       /* bytes of the stored body */
  char protocol[16];        /* "http/1.1", "h2", "h3" or "" */
} cache_entry_meta;

void cache_entry_meta_init(cache_entry_meta *m);
void cache_entry_meta_free(cache_entry_meta *m);

/* Appends the encoding of m to out. 0, ERR_OUT_OF_MEMORY, or
 * ERR_CACHE_WRITE_FAILURE (m exceeds the limits). */
int cache_entry_encode(const cache_entry_meta *m, strbuf *out);

/* Decodes data[0..len) into *out (initialised by the caller; its old
 * contents are freed). 0, ERR_CACHE_READ_FAILURE (malformed; *out is then
 * empty) or ERR_OUT_OF_MEMORY. */
int cache_entry_decode(const uint8_t *data, size_t len, cache_entry_meta *out);

/* The checksum the encoding ends with (FNV-1a 32), for tools and the fuzz
 * target, which seals arbitrary bytes so the decoder's checks are reached. */
uint32_t cache_entry_checksum(const uint8_t *data, size_t len);

#endif /* CRONC_CACHE_CACHE_ENTRY_H */
