/* Fuzz target for http/content_decoder.
 *
 * Input: byte 0 picks the chain, byte 1 seeds the slicing, the rest is the
 * response body as received.
 *   byte 0: bits 6-7 = chain length - 1 (3 means 1); bits 2k..2k+1 = the coding
 *           of decode stage k (0 gzip, 1 deflate, 2 br, 3 zstd); stage 0 reads
 *           the wire, i.e. is the last coding in the header.
 *   byte 1: seeds a small PRNG that picks each call's feed size and output
 *           buffer size (1..4096, mostly small).
 * The body is decoded twice - sliced, and in one piece into a large buffer -
 * and the two runs must both succeed with the same bytes or both fail (see
 * below): decoding must not depend on how the network sliced the body.
 * The first bytes of the body are also parsed as a Content-Encoding value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "http/content_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop decoding after this much output: keeps bombs fast (the decoder itself
 * has no cap, like Chromium). */
#define FUZZ_MAX_OUTPUT (4u << 20)

typedef struct run_result {
  int rv;
  uint8_t *out;
  size_t n;
  bool capped;
} run_result;

static uint32_t next_rand(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

static size_t pick_size(uint32_t *s) {
  uint32_t r = next_rand(s);
  switch (r & 3) {
  case 0:
    return 1;
  case 1:
    return 1 + (r >> 2) % 16;
  case 2:
    return 1 + (r >> 2) % 512;
  default:
    return 1 + (r >> 2) % 4096;
  }
}

static void run(const content_encoding_list *l, const uint8_t *body, size_t len, bool sliced,
                uint32_t seed, uint8_t *out, run_result *res) {
  memset(res, 0, sizeof(*res));
  res->out = out;
  content_decoder *d = NULL;
  res->rv = content_decoder_new(l, &d);
  if (res->rv < 0 || !d)
    return;
  size_t pos = 0;
  for (;;) {
    size_t feed = sliced ? pick_size(&seed) : len - pos;
    if (feed > len - pos)
      feed = len - pos;
    size_t cap = sliced ? pick_size(&seed) : 65536;
    if (cap > FUZZ_MAX_OUTPUT - res->n)
      cap = FUZZ_MAX_OUTPUT - res->n;
    if (cap == 0) {
      res->capped = true;
      break;
    }
    size_t used = 0, n = 0;
    int rv = content_decoder_decode(d, body + pos, feed, &used, res->out + res->n, cap, &n);
    if (used > feed || n > cap)
      abort();
    res->n += n;
    if (rv < 0) {
      if (n != 0)
        abort(); /* output comes with OK; the error on the next call */
      res->rv = rv;
      break;
    }
    pos += used;
    if (pos == len && n < cap) {
      res->rv = content_decoder_finish(d);
      break;
    }
    if (used == 0 && n == 0 && feed > 0)
      abort(); /* no progress with input and room */
  }
  content_decoder_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  uint8_t pick = data[0];
  uint32_t seed = data[1];
  const uint8_t *body = data + 2;
  size_t len = size - 2;

  /* The header parser on the first bytes. */
  content_decoder *hd = NULL;
  size_t hlen = len < 48 ? len : 48;
  if (content_decoder_new_for_header((const char *)body, hlen, &hd) == CRONC_OK)
    content_decoder_free(hd);

  size_t n = 1 + (pick >> 6);
  if (n > 3)
    n = 1;
  content_encoding_list l;
  content_encoding_list_init(&l);
  for (size_t k = 0; k < n; k++) {
    /* stage k decodes the coding applied (n-1-k)th */
    l.codings[n - 1 - k] = (content_coding)(CONTENT_CODING_GZIP + ((pick >> (2 * k)) & 3));
  }
  l.count = n;

  run_result a, b;
  static uint8_t out_a[FUZZ_MAX_OUTPUT], out_b[FUZZ_MAX_OUTPUT];
  run(&l, body, len, true, seed, out_a, &a);
  run(&l, body, len, false, seed, out_b, &b);
  /* How much output comes before an error may depend on slicing (a library
   * may or may not have flushed what it decoded before the bad byte), and in
   * a chain so may which stage fails first (so which error code is
   * reported). Success or failure may not, nor the bytes of a success. */
  size_t m = a.n < b.n ? a.n : b.n;
  if (m && memcmp(a.out, b.out, m) != 0)
    abort();
  if (!a.capped && !b.capped) {
    if ((a.rv == CRONC_OK) != (b.rv == CRONC_OK))
      abort();
    if (a.rv == CRONC_OK && a.n != b.n)
      abort();
  }
  return 0;
}
