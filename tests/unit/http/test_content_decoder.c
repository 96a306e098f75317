/* Tests for http/content_decoder. gzip and deflate fixtures are made with
 * zlib in the test; br and zstd fixtures with the command-line tools (Debian
 * packages brotli and zstd, installed by scripts/bootstrap), which the
 * library itself never needs (it links only the decoders). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "cronc/cronc.h"
#include "http/content_decoder.h"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

typedef struct bytes {
  uint8_t *p;
  size_t n;
  size_t cap; /* 0 for a view or an exact-size buffer */
} bytes;

static void bytes_free(bytes *b) {
  free(b->p);
  b->p = NULL;
  b->n = 0;
  b->cap = 0;
}

static void bytes_append(bytes *b, const void *p, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n + 1)
      cap *= 2;
    b->p = realloc(b->p, cap);
    b->cap = cap;
  }
  assert_non_null(b->p);
  if (n)
    memcpy(b->p + b->n, p, n);
  b->n += n;
}

static bytes text_sample(size_t n) {
  bytes b = {0};
  b.p = malloc(n + 16);
  assert_non_null(b.p);
  static const char *words[] = {"network ", "stack ",    "alt-svc ", "quic ", "header ",
                                "decoder ", "chromium ", "cronet ",  "\n"};
  uint32_t x = 12345;
  while (b.n < n) {
    x = x * 1103515245u + 12345u;
    const char *w = words[(x >> 16) % 9];
    size_t wl = strlen(w);
    if (wl > n - b.n)
      wl = n - b.n;
    memcpy(b.p + b.n, w, wl);
    b.n += wl;
  }
  return b;
}

/* zlib: window_bits 15 = zlib wrapper, -15 = raw, 31 = gzip. */
static bytes zlib_compress(const bytes *in, int window_bits) {
  z_stream z;
  memset(&z, 0, sizeof(z));
  assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  bytes out = {0};
  out.p = malloc(deflateBound(&z, in->n) + 16);
  z.next_in = in->p;
  z.avail_in = (uInt)in->n;
  z.next_out = out.p;
  z.avail_out = (uInt)deflateBound(&z, in->n) + 16;
  assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.n = z.total_out;
  deflateEnd(&z);
  return out;
}

static bool tool_present(const char *tool) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
  return system(cmd) == 0;
}

/* Runs `cmd < in > out` through the shell with temp files. */
static bytes run_tool(const char *cmd, const bytes *in) {
  char in_path[] = "/tmp/cronc_cd_inXXXXXX";
  char out_path[] = "/tmp/cronc_cd_outXXXXXX";
  int fi = mkstemp(in_path);
  int fo = mkstemp(out_path);
  assert_true(fi >= 0 && fo >= 0);
  size_t off = 0;
  while (off < in->n) {
    ssize_t w = write(fi, in->p + off, in->n - off);
    assert_true(w > 0);
    off += (size_t)w;
  }
  close(fi);
  close(fo);
  char full[512];
  snprintf(full, sizeof(full), "%s < '%s' > '%s'", cmd, in_path, out_path);
  assert_int_equal(system(full), 0);
  FILE *f = fopen(out_path, "rb");
  assert_non_null(f);
  bytes out = {0};
  uint8_t buf[65536];
  size_t r;
  while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
    bytes_append(&out, buf, r);
  fclose(f);
  unlink(in_path);
  unlink(out_path);
  return out;
}

#define NEED_TOOL(t)                                                                               \
  do {                                                                                             \
    if (!tool_present(t)) {                                                                        \
      print_message("%s not installed (scripts/bootstrap installs it): skipped\n", t);             \
      skip();                                                                                      \
    }                                                                                              \
  } while (0)

static bytes compress_as(content_coding c, const bytes *in) {
  switch (c) {
  case CONTENT_CODING_GZIP:
    return zlib_compress(in, 31);
  case CONTENT_CODING_DEFLATE:
    return zlib_compress(in, 15);
  case CONTENT_CODING_BR:
    return run_tool("brotli -c -q 9", in);
  case CONTENT_CODING_ZSTD:
    return run_tool("zstd -q -c -3", in);
  }
  fail();
  return (bytes){0};
}

/* Feeds `in` in slices of `feed` bytes and reads with an output buffer of
 * `cap` bytes, then drains and calls finish. Returns the first error (decode
 * or finish); the output decoded so far is appended to *out. */
static int decode_all(content_decoder *d, const bytes *in, size_t feed, size_t cap, bytes *out) {
  uint8_t *buf = malloc(cap ? cap : 1);
  size_t pos = 0;
  int rv = CRONC_OK;
  for (;;) {
    size_t n = in->n - pos < feed ? in->n - pos : feed;
    size_t used = 0, produced = 0;
    rv = content_decoder_decode(d, in->p + pos, n, &used, buf, cap, &produced);
    assert_true(used <= n);
    assert_true(produced <= cap);
    if (produced)
      bytes_append(out, buf, produced);
    if (rv < 0)
      break;
    pos += used;
    if (pos == in->n && produced < cap)
      break; /* all fed and drained */
    if (used == 0 && produced == 0 && n > 0)
      fail_msg("no progress at %zu of %zu", pos, in->n);
  }
  free(buf);
  if (rv < 0)
    return rv;
  return content_decoder_finish(d);
}

static int decode_with(const char *header, const bytes *in, size_t feed, size_t cap, bytes *out) {
  content_decoder *d = NULL;
  int rv = content_decoder_new_for_header(header, strlen(header), &d);
  if (rv < 0)
    return rv;
  assert_non_null(d);
  rv = decode_all(d, in, feed, cap, out);
  content_decoder_free(d);
  return rv;
}

static void assert_bytes_equal(const bytes *a, const bytes *b) {
  assert_int_equal(a->n, b->n);
  if (a->n)
    assert_memory_equal(a->p, b->p, a->n);
}

static const content_coding k_all[] = {CONTENT_CODING_GZIP, CONTENT_CODING_DEFLATE,
                                       CONTENT_CODING_BR, CONTENT_CODING_ZSTD};

static bool tools_for(content_coding c) {
  if (c == CONTENT_CODING_BR)
    return tool_present("brotli");
  if (c == CONTENT_CODING_ZSTD)
    return tool_present("zstd");
  return true;
}

/* ---------------------------------------------------------------------------
 * Content-Encoding parsing and Accept-Encoding
 * ------------------------------------------------------------------------- */

static void test_parse_known_codings_case_insensitive(void **state) {
  static const struct {
    const char *v;
    content_coding c;
  } cases[] = {{"gzip", CONTENT_CODING_GZIP},       {"x-gzip", CONTENT_CODING_GZIP},
               {"GZip", CONTENT_CODING_GZIP},       {"X-GZIP", CONTENT_CODING_GZIP},
               {"deflate", CONTENT_CODING_DEFLATE}, {"DeflatE", CONTENT_CODING_DEFLATE},
               {"br", CONTENT_CODING_BR},           {"BR", CONTENT_CODING_BR},
               {"zstd", CONTENT_CODING_ZSTD},       {" \tZstd \t", CONTENT_CODING_ZSTD}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    content_encoding_list l;
    content_encoding_list_init(&l);
    content_encoding_list_add(&l, cases[i].v, strlen(cases[i].v));
    assert_false(l.passthrough);
    assert_int_equal(l.count, 1);
    assert_int_equal(l.codings[0], cases[i].c);
  }
  assert_string_equal(content_coding_name(CONTENT_CODING_GZIP), "gzip");
  assert_string_equal(content_coding_name(CONTENT_CODING_ZSTD), "zstd");
}

static void test_parse_list_keeps_order_across_fields(void **state) {
  content_encoding_list l;
  content_encoding_list_init(&l);
  content_encoding_list_add(&l, "gzip ,\tbr", 9);
  content_encoding_list_add(&l, "zstd", 4);
  assert_false(l.passthrough);
  assert_int_equal(l.count, 3);
  assert_int_equal(l.codings[0], CONTENT_CODING_GZIP);
  assert_int_equal(l.codings[1], CONTENT_CODING_BR);
  assert_int_equal(l.codings[2], CONTENT_CODING_ZSTD);
  content_decoder *d = NULL;
  assert_int_equal(content_decoder_new(&l, &d), CRONC_OK);
  assert_non_null(d);
  assert_int_equal(content_decoder_chain_length(d), 3);
  content_decoder_free(d);
}

/* Chromium: "identity", an empty element or an unknown coding anywhere in
 * the list makes the whole body pass through undecoded, without an error. */
static void test_unknown_identity_or_empty_element_passes_body_through(void **state) {
  static const char *values[] = {"identity", "gzip, identity", "compress", "br, x-compress",
                                 "gzip;q=1", "gzip,,br",       "",         "  ",
                                 "gzip,"};
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
    content_decoder *d = (content_decoder *)1;
    assert_int_equal(content_decoder_new_for_header(values[i], strlen(values[i]), &d), CRONC_OK);
    assert_null(d);
  }
}

static void test_no_coding_gives_no_decoder(void **state) {
  content_encoding_list l;
  content_encoding_list_init(&l);
  content_decoder *d = (content_decoder *)1;
  assert_int_equal(content_decoder_new(&l, &d), CRONC_OK);
  assert_null(d);
  assert_int_equal(content_decoder_chain_length(NULL), 0);
  content_decoder_free(NULL);
}

static void test_chain_longer_than_max_is_rejected(void **state) {
  const char *five = "gzip, gzip, gzip, gzip, gzip";
  const char *six = "gzip, gzip, gzip, gzip, gzip, br";
  content_decoder *d = NULL;
  assert_int_equal(content_decoder_new_for_header(five, strlen(five), &d), CRONC_OK);
  assert_int_equal(content_decoder_chain_length(d), 5);
  content_decoder_free(d);
  d = (content_decoder *)1;
  assert_int_equal(content_decoder_new_for_header(six, strlen(six), &d),
                   CRONC_ERR_CONTENT_DECODING_FAILED);
  assert_null(d);
  /* An unknown element wins: pass-through, as Chromium stops at it. */
  const char *six_unknown = "gzip, gzip, gzip, gzip, gzip, br, foo";
  assert_int_equal(content_decoder_new_for_header(six_unknown, strlen(six_unknown), &d), CRONC_OK);
  assert_null(d);
}

static void test_accept_encoding_matches_chromium(void **state) {
  assert_string_equal(content_decoder_accept_encoding(true, false), "gzip, deflate, br, zstd");
  assert_string_equal(content_decoder_accept_encoding(false, false), "gzip, deflate");
  assert_string_equal(content_decoder_accept_encoding(true, true), "identity");
  assert_string_equal(content_decoder_accept_encoding(false, true), "identity");
}

/* ---------------------------------------------------------------------------
 * Round trips
 * ------------------------------------------------------------------------- */

static void round_trip(content_coding c, const char *header, size_t feed, size_t cap) {
  bytes src = text_sample(200000);
  bytes enc = compress_as(c, &src);
  bytes out = {0};
  assert_int_equal(decode_with(header, &enc, feed, cap, &out), CRONC_OK);
  assert_bytes_equal(&out, &src);
  bytes_free(&out);
  bytes_free(&enc);
  bytes_free(&src);
}

static void test_gzip_round_trip(void **state) {
  round_trip(CONTENT_CODING_GZIP, "gzip", 1 << 20, 65536);
  round_trip(CONTENT_CODING_GZIP, "x-gzip", 1000, 333);
}

static void test_gzip_from_gzip_tool_with_file_name(void **state) {
  NEED_TOOL("gzip");
  bytes src = text_sample(50000);
  /* A file name in the header (FNAME) as gzip(1) writes for files. */
  char path[] = "/tmp/cronc_cd_nameXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, src.p, src.n), (ssize_t)src.n);
  close(fd);
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "gzip -N -c '%s'", path);
  bytes none = {0};
  bytes enc = run_tool(cmd, &none);
  unlink(path);
  assert_true(enc.n > 10);
  assert_true(enc.p[3] & 0x08); /* FNAME set */
  bytes out = {0};
  assert_int_equal(decode_with("gzip", &enc, 7, 4096, &out), CRONC_OK);
  assert_bytes_equal(&out, &src);
  bytes_free(&out);
  bytes_free(&enc);
  bytes_free(&src);
}

/* FEXTRA (with XLEN), FNAME, FCOMMENT and FHCRC all present, fed one byte at
 * a time so that every header state sees a slice boundary. */
static void test_gzip_header_with_all_flags(void **state) {
  bytes src = text_sample(5000);
  bytes raw = zlib_compress(&src, -15);
  bytes g = {0};
  static const uint8_t head[] = {0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 1, 2, 3, 4, 0, 3};
  bytes_append(&g, head, sizeof(head));
  static const uint8_t xlen[] = {5, 0, 'a', 'b', 'c', 'd', 'e'};
  bytes_append(&g, xlen, sizeof(xlen));
  bytes_append(&g, "name.txt", 9);            /* with NUL */
  bytes_append(&g, "a comment", 10);          /* with NUL */
  static const uint8_t hcrc[] = {0xaa, 0xbb}; /* not checked, as Chromium */
  bytes_append(&g, hcrc, 2);
  bytes_append(&g, raw.p, raw.n);
  uint32_t crc = (uint32_t)crc32(0, src.p, (uInt)src.n);
  uint8_t foot[8] = {(uint8_t)crc,           (uint8_t)(crc >> 8),   (uint8_t)(crc >> 16),
                     (uint8_t)(crc >> 24),   (uint8_t)src.n,        (uint8_t)(src.n >> 8),
                     (uint8_t)(src.n >> 16), (uint8_t)(src.n >> 24)};
  bytes_append(&g, foot, 8);
  bytes out = {0};
  assert_int_equal(decode_with("gzip", &g, 1, 1, &out), CRONC_OK);
  assert_bytes_equal(&out, &src);
  bytes_free(&out);
  /* An empty FEXTRA (XLEN 0) works too. */
  g.p[10] = 0; /* XLEN = 0: the 5 extra bytes now start the name */
  g.p[11] = 0;
  bytes out2 = {0};
  assert_int_equal(decode_with("gzip", &g, 3, 100, &out2), CRONC_OK);
  assert_bytes_equal(&out2, &src);
  bytes_free(&out2);
  bytes_free(&g);
  bytes_free(&raw);
  bytes_free(&src);
}

static void test_deflate_zlib_wrapped_and_raw(void **state) {
  round_trip(CONTENT_CODING_DEFLATE, "deflate", 4096, 4096);
  bytes src = text_sample(100000);
  bytes raw = zlib_compress(&src, -15);
  for (size_t feed = 1; feed <= 3; feed++) {
    bytes out = {0};
    assert_int_equal(decode_with("deflate", &raw, feed, 777, &out), CRONC_OK);
    assert_bytes_equal(&out, &src);
    bytes_free(&out);
  }
  bytes_free(&raw);
  bytes_free(&src);
}

/* Chromium's golden data: "Hello, World!" as deflate with and without the
 * zlib header, with a good or bad Adler-32. */
static void test_deflate_adler32_checked_when_present(void **state) {
  static const uint8_t with_header[] = {0x78, 0x01, 0xf3, 0x48, 0xcd, 0xc9, 0xc9,
                                        0xd7, 0x51, 0x08, 0xcf, 0x2f, 0xca, 0x49,
                                        0x51, 0x04, 0x00, 0x1f, 0x9e, 0x04, 0x6a};
  const char *hello = "Hello, World!";
  struct {
    size_t skip; /* 2: drop the zlib header */
    size_t len;
    bool bad_adler;
    int want;
  } cases[] = {
      {0, sizeof(with_header), false, CRONC_OK},
      {0, sizeof(with_header), true, CRONC_ERR_CONTENT_DECODING_FAILED},
      {2, sizeof(with_header) - 2, false, CRONC_OK},
      {2, sizeof(with_header) - 2, true, CRONC_ERR_CONTENT_DECODING_FAILED},
      {2, sizeof(with_header) - 6, false, CRONC_OK}, /* raw, no trailer */
      {0, sizeof(with_header) - 2, false, CRONC_OK}, /* trailer cut short: accepted */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    bytes in = {0};
    bytes_append(&in, with_header + cases[i].skip, cases[i].len);
    if (cases[i].bad_adler)
      memset(in.p + in.n - 4, 0xff, 4);
    for (size_t feed = 1; feed <= 64; feed *= 4) {
      bytes out = {0};
      int rv = decode_with("deflate", &in, feed, 4096, &out);
      assert_int_equal(rv, cases[i].want);
      if (rv == CRONC_OK) {
        assert_int_equal(out.n, strlen(hello));
        assert_memory_equal(out.p, hello, out.n);
      }
      bytes_free(&out);
    }
    bytes_free(&in);
  }
}

static void test_br_round_trip(void **state) {
  NEED_TOOL("brotli");
  round_trip(CONTENT_CODING_BR, "br", 1 << 20, 65536);
  round_trip(CONTENT_CODING_BR, "BR", 999, 1000);
}

static void test_zstd_round_trip(void **state) {
  NEED_TOOL("zstd");
  round_trip(CONTENT_CODING_ZSTD, "zstd", 1 << 20, 65536);
  round_trip(CONTENT_CODING_ZSTD, "zstd", 1001, 10);
}

static void test_every_coding_byte_at_a_time_into_one_byte_buffer(void **state) {
  bytes src = text_sample(20000);
  for (size_t i = 0; i < 4; i++) {
    if (!tools_for(k_all[i]))
      continue;
    bytes enc = compress_as(k_all[i], &src);
    bytes out = {0};
    assert_int_equal(decode_with(content_coding_name(k_all[i]), &enc, 1, 1, &out), CRONC_OK);
    assert_bytes_equal(&out, &src);
    bytes_free(&out);
    bytes_free(&enc);
  }
  bytes_free(&src);
}

/* "gzip, br": gzip was applied first, then br; decoded br then gzip. */
static void test_chain_gzip_then_br(void **state) {
  NEED_TOOL("brotli");
  bytes src = text_sample(300000);
  bytes gz = compress_as(CONTENT_CODING_GZIP, &src);
  bytes enc = compress_as(CONTENT_CODING_BR, &gz);
  for (size_t k = 0; k < 3; k++) {
    static const size_t feeds[] = {1 << 20, 1, 5000};
    static const size_t caps[] = {1 << 20, 1, 7};
    bytes out = {0};
    assert_int_equal(decode_with("gzip, br", &enc, feeds[k], caps[k], &out), CRONC_OK);
    assert_bytes_equal(&out, &src);
    bytes_free(&out);
  }
  /* The wrong order fails: the wire bytes are not gzip. */
  bytes out = {0};
  assert_int_equal(decode_with("br, gzip", &enc, 4096, 4096, &out),
                   CRONC_ERR_CONTENT_DECODING_FAILED);
  bytes_free(&out);
  bytes_free(&enc);
  bytes_free(&gz);
  bytes_free(&src);
}

static void test_chain_of_all_four_codings(void **state) {
  NEED_TOOL("brotli");
  NEED_TOOL("zstd");
  bytes src = text_sample(100000);
  bytes a = compress_as(CONTENT_CODING_DEFLATE, &src);
  bytes b = compress_as(CONTENT_CODING_ZSTD, &a);
  bytes c = compress_as(CONTENT_CODING_GZIP, &b);
  bytes e = compress_as(CONTENT_CODING_BR, &c);
  bytes out = {0};
  assert_int_equal(decode_with("deflate, zstd, gzip, br", &e, 333, 4097, &out), CRONC_OK);
  assert_bytes_equal(&out, &src);
  bytes_free(&out);
  bytes_free(&e);
  bytes_free(&c);
  bytes_free(&b);
  bytes_free(&a);
  bytes_free(&src);
}

/* ---------------------------------------------------------------------------
 * Ends of streams: empty, truncated, trailing data
 * ------------------------------------------------------------------------- */

static void test_empty_body_is_clean_for_every_coding(void **state) {
  static const char *headers[] = {"gzip", "deflate", "br", "zstd", "gzip, br, zstd"};
  for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
    bytes empty = {0};
    bytes out = {0};
    assert_int_equal(decode_with(headers[i], &empty, 1, 16, &out), CRONC_OK);
    assert_int_equal(out.n, 0);
  }
}

static void test_truncated_stream_fails_at_finish(void **state) {
  bytes src = text_sample(50000);
  for (size_t i = 0; i < 4; i++) {
    if (!tools_for(k_all[i]))
      continue;
    bytes enc = compress_as(k_all[i], &src);
    /* gzip and deflate: cut inside the deflate data (a missing footer or
     * Adler-32 alone is accepted); br and zstd: drop the last byte. */
    size_t cuts[] = {1, enc.n / 2, k_all[i] <= CONTENT_CODING_DEFLATE ? enc.n - 12 : enc.n - 1};
    for (size_t k = 0; k < 3; k++) {
      bytes cut = {enc.p, cuts[k], 0};
      bytes out = {0};
      assert_int_equal(decode_with(content_coding_name(k_all[i]), &cut, 4096, 4096, &out),
                       CRONC_ERR_CONTENT_DECODING_FAILED);
      /* What was decodable was delivered and is a prefix of the source. */
      assert_true(out.n <= src.n);
      if (out.n)
        assert_memory_equal(out.p, src.p, out.n);
      bytes_free(&out);
    }
    bytes_free(&enc);
  }
  bytes_free(&src);
}

static void test_gzip_missing_footer_accepted_and_trailing_data_ignored(void **state) {
  /* Chromium's GzipCorrectness data: echo -n 'Hello, World!' | gzip */
  static const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x2b, 0x02, 0x84, 0x55, 0x00, 0x03, 0xf3,
                               0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0x08, 0xcf, 0x2f, 0xca, 0x49,
                               0x51, 0x04, 0x00, 0xd0, 0xc3, 0x4a, 0xec, 0x0d, 0x00, 0x00, 0x00};
  const char *hello = "Hello, World!";
  size_t lens[] = {sizeof(gz), sizeof(gz) - 8, sizeof(gz) - 3};
  for (size_t k = 0; k < 3; k++) {
    bytes in = {0};
    bytes_append(&in, gz, lens[k]);
    bytes out = {0};
    assert_int_equal(decode_with("gzip", &in, 5, 64, &out), CRONC_OK);
    assert_int_equal(out.n, 13);
    assert_memory_equal(out.p, hello, 13);
    bytes_free(&out);
    bytes_free(&in);
  }
  /* Garbage after the footer, and a second member: ignored (Chromium decodes
   * only the first member). */
  bytes in = {0};
  bytes_append(&in, gz, sizeof(gz));
  bytes_append(&in, gz, sizeof(gz));
  bytes_append(&in, "garbage", 7);
  bytes out = {0};
  assert_int_equal(decode_with("gzip", &in, 1, 3, &out), CRONC_OK);
  assert_int_equal(out.n, 13);
  bytes_free(&out);
  bytes_free(&in);
}

/* Chromium skips the gzip footer unchecked: a wrong CRC32 or ISIZE passes. */
static void test_gzip_footer_crc_not_checked(void **state) {
  bytes src = text_sample(3000);
  bytes enc = compress_as(CONTENT_CODING_GZIP, &src);
  memset(enc.p + enc.n - 8, 0x42, 8);
  bytes out = {0};
  assert_int_equal(decode_with("gzip", &enc, 100, 100, &out), CRONC_OK);
  assert_bytes_equal(&out, &src);
  bytes_free(&out);
  bytes_free(&enc);
  bytes_free(&src);
}

static void test_br_trailing_data_ignored(void **state) {
  NEED_TOOL("brotli");
  bytes src = text_sample(10000);
  bytes enc = compress_as(CONTENT_CODING_BR, &src);
  bytes_append(&enc, "trailing garbage", 16);
  bytes out = {0};
  assert_int_equal(decode_with("br", &enc, 100, 4096, &out), CRONC_OK);
  assert_bytes_equal(&out, &src);
  bytes_free(&out);
  bytes_free(&enc);
  bytes_free(&src);
}

static void test_zstd_concatenated_frames_decoded_garbage_after_fails(void **state) {
  NEED_TOOL("zstd");
  bytes src = text_sample(30000);
  bytes one = compress_as(CONTENT_CODING_ZSTD, &src);
  bytes two = {0};
  bytes_append(&two, one.p, one.n);
  bytes_append(&two, one.p, one.n);
  bytes out = {0};
  assert_int_equal(decode_with("zstd", &two, 777, 1000, &out), CRONC_OK);
  assert_int_equal(out.n, 2 * src.n);
  assert_memory_equal(out.p, src.p, src.n);
  assert_memory_equal(out.p + src.n, src.p, src.n);
  bytes_free(&out);

  /* Garbage after a frame: the frame's data is delivered first (the call
   * returns OK), the next call reports the error, and it stays. */
  bytes_append(&one, "xxxxxxxxxx", 10);
  content_decoder *d = NULL;
  assert_int_equal(content_decoder_new_for_header("zstd", 4, &d), CRONC_OK);
  uint8_t *buf = malloc(src.n + 100);
  size_t used = 0, n = 0;
  assert_int_equal(content_decoder_decode(d, one.p, one.n, &used, buf, src.n + 100, &n), CRONC_OK);
  assert_int_equal(n, src.n);
  assert_memory_equal(buf, src.p, src.n);
  assert_int_equal(content_decoder_decode(d, one.p + used, one.n - used, &used, buf, 100, &n),
                   CRONC_ERR_CONTENT_DECODING_FAILED);
  assert_int_equal(n, 0);
  assert_int_equal(content_decoder_decode(d, NULL, 0, &used, buf, 100, &n),
                   CRONC_ERR_CONTENT_DECODING_FAILED);
  assert_int_equal(used, 0);
  assert_int_equal(content_decoder_finish(d), CRONC_ERR_CONTENT_DECODING_FAILED);
  content_decoder_free(d);
  free(buf);
  bytes_free(&one);
  bytes_free(&two);
  bytes_free(&src);
}

/* ---------------------------------------------------------------------------
 * Corrupt data and limits
 * ------------------------------------------------------------------------- */

static void test_corrupt_data_fails_for_every_coding(void **state) {
  bytes src = text_sample(50000);
  for (size_t i = 0; i < 4; i++) {
    if (!tools_for(k_all[i]))
      continue;
    bytes enc = compress_as(k_all[i], &src);
    if (k_all[i] == CONTENT_CODING_GZIP) {
      /* The gzip CRC is not checked (Chromium), so corrupt the deflate data
       * where inflate must notice: block type 3 is invalid. */
      enc.p[10] = 0xff;
    } else {
      /* Flip bytes in the middle of the compressed data. */
      for (size_t k = enc.n / 3; k < enc.n / 3 + 16; k++)
        enc.p[k] ^= 0x5a;
    }
    bytes out = {0};
    int rv = decode_with(content_coding_name(k_all[i]), &enc, 1024, 1024, &out);
    assert_int_equal(rv, CRONC_ERR_CONTENT_DECODING_FAILED);
    bytes_free(&out);
    bytes_free(&enc);
  }
  bytes_free(&src);
}

static void test_not_compressed_body_fails(void **state) {
  bytes plain = text_sample(1000);
  static const char *headers[] = {"gzip", "deflate", "br", "zstd"};
  for (size_t i = 0; i < 4; i++) {
    bytes out = {0};
    assert_int_equal(decode_with(headers[i], &plain, 64, 64, &out),
                     CRONC_ERR_CONTENT_DECODING_FAILED);
    bytes_free(&out);
  }
  /* gzip: a bad magic byte or method fails at once. */
  static const uint8_t bad_method[] = {0x1f, 0x8b, 7, 0};
  bytes b = {0};
  bytes_append(&b, bad_method, sizeof(bad_method));
  bytes out = {0};
  assert_int_equal(decode_with("gzip", &b, 1, 1, &out), CRONC_ERR_CONTENT_DECODING_FAILED);
  bytes_free(&b);
  bytes_free(&plain);
}

/* A zstd frame header declaring a window of 2^(10 + exponent) bytes, then
 * one raw block holding "a". */
static bytes zstd_frame_with_window(unsigned exponent) {
  bytes b = {0};
  const uint8_t f[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, (uint8_t)(exponent << 3),
                       0x09, 0x00, 0x00, 'a'};
  bytes_append(&b, f, sizeof(f));
  return b;
}

static void test_zstd_window_above_8_mib_rejected(void **state) {
  bytes ok = zstd_frame_with_window(13); /* 8 MiB: the limit itself */
  bytes out = {0};
  assert_int_equal(decode_with("zstd", &ok, 64, 64, &out), CRONC_OK);
  assert_int_equal(out.n, 1);
  assert_int_equal(out.p[0], 'a');
  bytes_free(&out);
  bytes_free(&ok);

  bytes big = zstd_frame_with_window(14); /* 16 MiB */
  assert_int_equal(decode_with("zstd", &big, 64, 64, &out), CRONC_ERR_ZSTD_WINDOW_SIZE_TOO_BIG);
  assert_int_equal(out.n, 0);
  bytes_free(&big);

  /* The same through a real encoder when available: a 16 MiB window. */
  if (tool_present("zstd")) {
    bytes src = text_sample(1000);
    bytes enc = run_tool("zstd -q -c --zstd=wlog=24", &src);
    /* stdin has no known size, so the frame keeps its 16 MiB window. */
    assert_int_equal(decode_with("zstd", &enc, 4096, 4096, &out),
                     CRONC_ERR_ZSTD_WINDOW_SIZE_TOO_BIG);
    bytes_free(&out);
    bytes_free(&enc);
    bytes_free(&src);
  }
}

/* "zstd" is RFC 8878: a pre-1.0 (legacy v0.5) frame, which Debian's libzstd
 * would decode on its own (these 8 bytes are a complete empty v0.5 frame to
 * it), fails as in Chromium, whatever the slicing and wherever it starts. */
static void test_zstd_legacy_frame_rejected(void **state) {
  static const uint8_t legacy[] = {0x25, 0xb5, 0x2f, 0xfd, 0x04, 0xf3, 0x40, 0x54};
  for (size_t feed = 1; feed <= 8; feed++) {
    bytes in = {0};
    bytes_append(&in, legacy, sizeof(legacy));
    bytes out = {0};
    assert_int_equal(decode_with("zstd", &in, feed, 64, &out), CRONC_ERR_CONTENT_DECODING_FAILED);
    bytes_free(&in);
    /* After a valid v1 magic byte (the fuzzer's case), and after a frame. */
    bytes in2 = {0};
    bytes_append(&in2, "\x28", 1);
    bytes_append(&in2, legacy, sizeof(legacy));
    assert_int_equal(decode_with("zstd", &in2, feed, 64, &out), CRONC_ERR_CONTENT_DECODING_FAILED);
    bytes_free(&in2);
    bytes in3 = zstd_frame_with_window(10);
    bytes_append(&in3, legacy, sizeof(legacy));
    assert_int_equal(decode_with("zstd", &in3, feed, 64, &out), CRONC_ERR_CONTENT_DECODING_FAILED);
    bytes_free(&in3);
    bytes_free(&out);
  }
}

/* 10 MB of output with a 64 KiB read buffer: the heap must not grow with
 * the output (fixed buffers between stages, no output cap). */
static void test_large_output_in_constant_memory(void **state) {
  const size_t total = 10 * 1000 * 1000;
  bytes src = text_sample(total);
  bytes gz = compress_as(CONTENT_CODING_GZIP, &src);
  bytes enc = compress_as(CONTENT_CODING_DEFLATE, &gz); /* "gzip, deflate" */
  content_decoder *d = NULL;
  const char *h = "gzip, deflate";
  assert_int_equal(content_decoder_new_for_header(h, strlen(h), &d), CRONC_OK);
  uint8_t *buf = malloc(65536);
  /* Warm up (zlib allocates its windows on first use), then measure. */
  size_t pos = 0, used, n, got = 0;
  assert_int_equal(content_decoder_decode(d, enc.p, 4096, &used, buf, 65536, &n), CRONC_OK);
  assert_memory_equal(buf, src.p, n);
  pos += used;
  got += n;
  size_t before = mallinfo2().uordblks;
  size_t peak = before;
  while (pos < enc.n || n == 65536) {
    size_t feed = enc.n - pos < 16384 ? enc.n - pos : 16384;
    assert_int_equal(content_decoder_decode(d, enc.p + pos, feed, &used, buf, 65536, &n), CRONC_OK);
    assert_true(got + n <= src.n);
    assert_memory_equal(buf, src.p + got, n);
    pos += used;
    got += n;
    size_t now = mallinfo2().uordblks;
    if (now > peak)
      peak = now;
  }
  assert_int_equal(got, total);
  assert_int_equal(content_decoder_finish(d), CRONC_OK);
  assert_true(peak - before < 64 * 1024);
  content_decoder_free(d);
  free(buf);
  bytes_free(&enc);
  bytes_free(&gz);
  bytes_free(&src);
}

static void test_zero_output_room_makes_no_progress_but_no_error(void **state) {
  bytes src = text_sample(1000);
  bytes enc = compress_as(CONTENT_CODING_DEFLATE, &src);
  content_decoder *d = NULL;
  assert_int_equal(content_decoder_new_for_header("deflate", 7, &d), CRONC_OK);
  size_t used = 99, n = 99;
  uint8_t b[1];
  assert_int_equal(content_decoder_decode(d, enc.p, enc.n, &used, b, 0, &n), CRONC_OK);
  assert_int_equal(n, 0);
  /* finish before draining: not clean */
  assert_int_equal(content_decoder_finish(d), CRONC_ERR_CONTENT_DECODING_FAILED);
  bytes out = {0};
  bytes rest = {enc.p + used, enc.n - used, 0};
  assert_int_equal(decode_all(d, &rest, 10, 10, &out), CRONC_OK);
  assert_bytes_equal(&out, &src);
  bytes_free(&out);
  content_decoder_free(d);
  bytes_free(&enc);
  bytes_free(&src);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_known_codings_case_insensitive),
      cmocka_unit_test(test_parse_list_keeps_order_across_fields),
      cmocka_unit_test(test_unknown_identity_or_empty_element_passes_body_through),
      cmocka_unit_test(test_no_coding_gives_no_decoder),
      cmocka_unit_test(test_chain_longer_than_max_is_rejected),
      cmocka_unit_test(test_accept_encoding_matches_chromium),
      cmocka_unit_test(test_gzip_round_trip),
      cmocka_unit_test(test_gzip_from_gzip_tool_with_file_name),
      cmocka_unit_test(test_gzip_header_with_all_flags),
      cmocka_unit_test(test_deflate_zlib_wrapped_and_raw),
      cmocka_unit_test(test_deflate_adler32_checked_when_present),
      cmocka_unit_test(test_br_round_trip),
      cmocka_unit_test(test_zstd_round_trip),
      cmocka_unit_test(test_every_coding_byte_at_a_time_into_one_byte_buffer),
      cmocka_unit_test(test_chain_gzip_then_br),
      cmocka_unit_test(test_chain_of_all_four_codings),
      cmocka_unit_test(test_empty_body_is_clean_for_every_coding),
      cmocka_unit_test(test_truncated_stream_fails_at_finish),
      cmocka_unit_test(test_gzip_missing_footer_accepted_and_trailing_data_ignored),
      cmocka_unit_test(test_gzip_footer_crc_not_checked),
      cmocka_unit_test(test_br_trailing_data_ignored),
      cmocka_unit_test(test_zstd_concatenated_frames_decoded_garbage_after_fails),
      cmocka_unit_test(test_corrupt_data_fails_for_every_coding),
      cmocka_unit_test(test_not_compressed_body_fails),
      cmocka_unit_test(test_zstd_window_above_8_mib_rejected),
      cmocka_unit_test(test_zstd_legacy_frame_rejected),
      cmocka_unit_test(test_large_output_in_constant_memory),
      cmocka_unit_test(test_zero_output_room_makes_no_progress_but_no_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
