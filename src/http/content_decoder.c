/* http/content_decoder: see content_decoder.h. */
#include "http/content_decoder.h"

#include <stdlib.h>
#include <string.h>

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "cronc/cronc.h"

/* ---------------------------------------------------------------------------
 * Content-Encoding parsing
 * ------------------------------------------------------------------------- */

void content_encoding_list_init(content_encoding_list *l) { memset(l, 0, sizeof(*l)); }

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static bool token_eq(const char *s, size_t len, const char *lower) {
  size_t n = strlen(lower);
  if (len != n)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (c != lower[i])
      return false;
  }
  return true;
}

/* 0 when the token is not a coding we decode. */
static content_coding coding_from_token(const char *s, size_t len) {
  if (token_eq(s, len, "gzip") || token_eq(s, len, "x-gzip"))
    return CONTENT_CODING_GZIP;
  if (token_eq(s, len, "deflate"))
    return CONTENT_CODING_DEFLATE;
  if (token_eq(s, len, "br"))
    return CONTENT_CODING_BR;
  if (token_eq(s, len, "zstd"))
    return CONTENT_CODING_ZSTD;
  return (content_coding)0;
}

void content_encoding_list_add(content_encoding_list *l, const char *value, size_t len) {
  if (!value)
    value = "";
  size_t pos = 0;
  /* Every comma-separated element counts, empty ones included: Chromium keeps
   * empty values when it splits a field, and an empty one means "no coding". */
  for (;;) {
    size_t start = pos;
    while (pos < len && value[pos] != ',')
      pos++;
    size_t end = pos;
    while (start < end && is_ows(value[start]))
      start++;
    while (end > start && is_ows(value[end - 1]))
      end--;
    content_coding c = coding_from_token(value + start, end - start);
    if (c == 0) {
      l->passthrough = true;
    } else {
      if (l->count < CONTENT_DECODER_MAX_CHAIN)
        l->codings[l->count] = c;
      if (l->count < SIZE_MAX)
        l->count++;
    }
    if (pos >= len)
      break;
    pos++; /* the comma */
  }
}

bool content_encoding_list_too_long(const content_encoding_list *l) {
  return l->count > CONTENT_DECODER_MAX_CHAIN;
}

const char *content_coding_name(content_coding c) {
  switch (c) {
  case CONTENT_CODING_GZIP:
    return "gzip";
  case CONTENT_CODING_DEFLATE:
    return "deflate";
  case CONTENT_CODING_BR:
    return "br";
  case CONTENT_CODING_ZSTD:
    return "zstd";
  }
  return "unknown";
}

const char *content_decoder_accept_encoding(bool secure_or_localhost, bool has_range) {
  if (has_range)
    return "identity";
  return secure_or_localhost ? "gzip, deflate, br, zstd" : "gzip, deflate";
}

/* ---------------------------------------------------------------------------
 * Stages
 * ------------------------------------------------------------------------- */

/* Where a gzip or deflate stage is. The gzip header states come in wire order. */
enum {
  ZS_GZ_ID1,
  ZS_GZ_ID2,
  ZS_GZ_CM,
  ZS_GZ_FLG,
  ZS_GZ_FIXED, /* MTIME(4) XFL OS: 6 bytes, counted in `skip` */
  ZS_GZ_XLEN,  /* 2 bytes */
  ZS_GZ_EXTRA, /* `skip` bytes */
  ZS_GZ_NAME,  /* up to NUL */
  ZS_GZ_COMMENT,
  ZS_GZ_HCRC, /* `skip` bytes */
  ZS_DEFLATE_SNIFF,
  ZS_BODY,    /* raw inflate */
  ZS_TRAILER, /* gzip footer (skipped) or deflate Adler-32 (checked) */
  ZS_DONE,    /* stream complete: the rest is ignored */
};

#define GZ_FHCRC    0x02
#define GZ_FEXTRA   0x04
#define GZ_FNAME    0x08
#define GZ_FCOMMENT 0x10

typedef struct cd_stage {
  content_coding coding;
  bool started; /* received a byte */
  bool failed;
  /* zlib (gzip, deflate) */
  z_stream z;
  bool z_ready;
  int zstate;
  uint8_t flags; /* gzip FLG bits still to process */
  uint32_t skip; /* bytes left in a fixed-size header part / XLEN bytes seen */
  uint8_t sniff[2];
  uint8_t sniff_len;
  uint32_t adler; /* deflate: Adler-32 of the output */
  uint32_t trailer;
  uint8_t trailer_len;
  /* brotli */
  BrotliDecoderState *br;
  bool br_done;
  /* zstd */
  ZSTD_DCtx *zstd;
  bool zstd_in_frame;
  size_t zstd_frame_pos; /* bytes of the current frame given to libzstd */
  /* Output toward the next stage (NULL for the last stage). */
  uint8_t *buf;
  size_t buf_start, buf_end;
} cd_stage;

struct content_decoder {
  size_t n;
  int error;           /* first error met, 0 if none */
  bool error_reported; /* returned to the caller: the decoder is dead */
  cd_stage stages[CONTENT_DECODER_MAX_CHAIN];
};

/* Runs inflate on in -> out; returns CRONC_OK or an error; *ended on Z_STREAM_END. */
static int stage_inflate(cd_stage *s, const uint8_t *in, size_t in_len, size_t *consumed,
                         uint8_t *out, size_t out_cap, size_t *produced, bool *ended) {
  *ended = false;
  *consumed = 0;
  *produced = 0;
  if (out_cap == 0)
    return CRONC_OK;
  /* zlib counts in uInt: feed at most UINT_MAX at a time, the caller loops. */
  uInt in_n = in_len > UINT32_MAX ? UINT32_MAX : (uInt)in_len;
  uInt out_n = out_cap > UINT32_MAX ? UINT32_MAX : (uInt)out_cap;
  s->z.next_in = (Bytef *)(uintptr_t)in; /* zlib does not write through next_in */
  s->z.avail_in = in_n;
  s->z.next_out = out;
  s->z.avail_out = out_n;
  int ret = inflate(&s->z, Z_NO_FLUSH);
  *consumed = in_n - s->z.avail_in;
  *produced = out_n - s->z.avail_out;
  s->z.next_in = NULL;
  s->z.next_out = NULL;
  switch (ret) {
  case Z_OK:
  case Z_BUF_ERROR: /* no progress possible: not an error */
    return CRONC_OK;
  case Z_STREAM_END:
    *ended = true;
    return CRONC_OK;
  case Z_MEM_ERROR:
    return CRONC_ERR_OUT_OF_MEMORY;
  default: /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
    return CRONC_ERR_CONTENT_DECODING_FAILED;
  }
}

static bool zlib_header_valid(uint8_t cmf, uint8_t flg) {
  /* RFC 1950: method 8, window <= 32K, check bits, no preset dictionary. */
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (((unsigned)cmf << 8) | flg) % 31 == 0 &&
         (flg & 0x20) == 0;
}

/* gzip and deflate. Header, footer and trailer states consume input without
 * needing output room; the body needs both. */
static int stage_run_zlib(cd_stage *s, const uint8_t *in, size_t in_len, size_t *consumed,
                          uint8_t *out, size_t out_cap, size_t *produced) {
  size_t ip = 0, op = 0;
  int rv = CRONC_OK;
  for (;;) {
    size_t avail = in_len - ip;
    if (s->zstate == ZS_BODY) {
      /* Called even without input: inflate may hold output of a match. */
      size_t c, p;
      bool ended;
      rv = stage_inflate(s, in + ip, avail, &c, out + op, out_cap - op, &p, &ended);
      if (s->coding == CONTENT_CODING_DEFLATE && p > 0)
        s->adler = (uint32_t)adler32(s->adler, out + op, (uInt)p);
      ip += c;
      op += p;
      if (rv < 0)
        break;
      if (ended) {
        s->zstate = ZS_TRAILER;
        s->trailer_len = 0;
        continue;
      }
      if (c == 0 && p == 0)
        break; /* needs input or output room */
      continue;
    }
    if (avail == 0)
      break;
    uint8_t b = in[ip];
    switch (s->zstate) {
    case ZS_GZ_ID1:
    case ZS_GZ_ID2:
    case ZS_GZ_CM: {
      static const uint8_t want[3] = {0x1f, 0x8b, 8};
      if (b != want[s->zstate - ZS_GZ_ID1]) {
        rv = CRONC_ERR_CONTENT_DECODING_FAILED;
        goto done;
      }
      ip++;
      s->zstate++;
      break;
    }
    case ZS_GZ_FLG:
      s->flags = b & (GZ_FHCRC | GZ_FEXTRA | GZ_FNAME | GZ_FCOMMENT);
      ip++;
      s->zstate = ZS_GZ_FIXED;
      s->skip = 6;
      break;
    case ZS_GZ_FIXED: {
      size_t n = avail < s->skip ? avail : s->skip;
      ip += n;
      s->skip -= (uint32_t)n;
      if (s->skip == 0) {
        s->zstate = ZS_GZ_XLEN;
        s->skip = 0; /* XLEN bytes seen */
        if (!(s->flags & GZ_FEXTRA))
          s->zstate = ZS_GZ_NAME;
      }
      break;
    }
    case ZS_GZ_XLEN:
      /* little-endian; the low byte is kept in `trailer` meanwhile */
      if (s->skip == 0) {
        s->trailer = b;
        s->skip = 1;
      } else {
        s->skip = s->trailer | ((uint32_t)b << 8);
        s->zstate = ZS_GZ_EXTRA;
      }
      ip++;
      break;
    case ZS_GZ_EXTRA: {
      size_t n = avail < s->skip ? avail : s->skip;
      ip += n;
      s->skip -= (uint32_t)n;
      break;
    }
    case ZS_GZ_NAME:
    case ZS_GZ_COMMENT: {
      uint8_t flag = s->zstate == ZS_GZ_NAME ? GZ_FNAME : GZ_FCOMMENT;
      if (s->flags & flag) {
        const uint8_t *nul = memchr(in + ip, 0, avail);
        if (!nul) {
          ip = in_len;
          break;
        }
        ip = (size_t)(nul - in) + 1;
      }
      s->zstate++;
      if (s->zstate == ZS_GZ_HCRC)
        s->skip = (s->flags & GZ_FHCRC) ? 2 : 0;
      break;
    }
    case ZS_GZ_HCRC: {
      size_t n = avail < s->skip ? avail : s->skip;
      ip += n;
      s->skip -= (uint32_t)n;
      break;
    }
    case ZS_DEFLATE_SNIFF:
      s->sniff[s->sniff_len++] = b;
      ip++;
      if (s->sniff_len == 2) {
        s->zstate = ZS_BODY;
        /* Raw deflate: give the two bytes back to inflate as primed bits
         * (deflate reads bytes LSB first, so this is exact). */
        if (!zlib_header_valid(s->sniff[0], s->sniff[1]) &&
            inflatePrime(&s->z, 16, s->sniff[0] | (s->sniff[1] << 8)) != Z_OK) {
          rv = CRONC_ERR_CONTENT_DECODING_FAILED;
          goto done;
        }
      }
      break;
    case ZS_TRAILER:
      if (s->coding == CONTENT_CODING_GZIP) {
        /* CRC32 and ISIZE: skipped unchecked, as Chromium. */
        size_t n = avail < (size_t)(8 - s->trailer_len) ? avail : (size_t)(8 - s->trailer_len);
        ip += n;
        s->trailer_len = (uint8_t)(s->trailer_len + n);
        if (s->trailer_len == 8)
          s->zstate = ZS_DONE;
      } else {
        s->trailer = (s->trailer << 8) | b;
        s->trailer_len++;
        ip++;
        if (s->trailer_len == 4) {
          if (s->trailer != s->adler) {
            rv = CRONC_ERR_CONTENT_DECODING_FAILED;
            goto done;
          }
          s->zstate = ZS_DONE;
        }
      }
      break;
    case ZS_DONE:
      ip = in_len; /* ignored, as Chromium */
      break;
    }
    /* Header parts that became empty move on (done here so that an empty
     * FEXTRA or a missing FHCRC does not wait for another byte). */
    if (s->zstate == ZS_GZ_EXTRA && s->skip == 0)
      s->zstate = ZS_GZ_NAME;
    if (s->zstate == ZS_GZ_HCRC && s->skip == 0)
      s->zstate = ZS_BODY;
  }
done:
  *consumed = ip;
  *produced = op;
  return rv;
}

static int stage_run_brotli(cd_stage *s, const uint8_t *in, size_t in_len, size_t *consumed,
                            uint8_t *out, size_t out_cap, size_t *produced) {
  *consumed = 0;
  *produced = 0;
  if (s->br_done) {
    *consumed = in_len; /* ignored, as Chromium */
    return CRONC_OK;
  }
  if (out_cap == 0)
    return CRONC_OK;
  size_t avail_in = in_len, avail_out = out_cap;
  const uint8_t *next_in = in;
  uint8_t *next_out = out;
  BrotliDecoderResult r =
      BrotliDecoderDecompressStream(s->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
  *consumed = in_len - avail_in;
  *produced = out_cap - avail_out;
  switch (r) {
  case BROTLI_DECODER_RESULT_SUCCESS:
    s->br_done = true;
    *consumed = in_len;
    return CRONC_OK;
  case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
  case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
    return CRONC_OK;
  default:
    return CRONC_ERR_CONTENT_DECODING_FAILED;
  }
}

/* The first bytes of each zstd frame go to libzstd one at a time. Debian's
 * libzstd is built with legacy (pre-RFC 8878, v0.5-v0.7) support and, when a
 * frame header fails to parse, looks for a legacy magic at the start of the
 * *current call's* input and decodes a legacy stream from there. Chromium's
 * zstd has no legacy support and "zstd" means RFC 8878 frames, so a call never
 * starts with 4 header bytes: ZSTD_isLegacy() needs 4. 18 bytes covers the
 * largest frame header (ZSTD_FRAMEHEADERSIZE_MAX). */
#define ZSTD_BYTEWISE_PREFIX 18

static int stage_run_zstd(cd_stage *s, const uint8_t *in, size_t in_len, size_t *consumed,
                          uint8_t *out, size_t out_cap, size_t *produced) {
  size_t c = 0, p = 0;
  int rv = CRONC_OK;
  while (p < out_cap) {
    size_t avail = in_len - c;
    bool bytewise = s->zstd_frame_pos < ZSTD_BYTEWISE_PREFIX;
    ZSTD_inBuffer ib = {in + c, bytewise && avail > 1 ? 1 : avail, 0};
    ZSTD_outBuffer ob = {out + p, out_cap - p, 0};
    size_t r = ZSTD_decompressStream(s->zstd, &ob, &ib);
    c += ib.pos;
    p += ob.pos;
    s->zstd_frame_pos += ib.pos;
    if (ZSTD_isError(r)) {
      rv = ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge
               ? CRONC_ERR_ZSTD_WINDOW_SIZE_TOO_BIG
               : CRONC_ERR_CONTENT_DECODING_FAILED;
      break;
    }
    if (r == 0) {
      /* A frame ended and was flushed; the next byte starts a frame. */
      s->zstd_in_frame = false;
      s->zstd_frame_pos = 0;
    } else if (ib.pos > 0) {
      s->zstd_in_frame = true;
    }
    if (!bytewise || (ib.pos == 0 && ob.pos == 0))
      break;
  }
  *consumed = c;
  *produced = p;
  return rv;
}

static int stage_run(cd_stage *s, const uint8_t *in, size_t in_len, size_t *consumed, uint8_t *out,
                     size_t out_cap, size_t *produced) {
  int rv;
  switch (s->coding) {
  case CONTENT_CODING_GZIP:
  case CONTENT_CODING_DEFLATE:
    rv = stage_run_zlib(s, in, in_len, consumed, out, out_cap, produced);
    break;
  case CONTENT_CODING_BR:
    rv = stage_run_brotli(s, in, in_len, consumed, out, out_cap, produced);
    break;
  case CONTENT_CODING_ZSTD:
    rv = stage_run_zstd(s, in, in_len, consumed, out, out_cap, produced);
    break;
  default:
    rv = CRONC_ERR_UNEXPECTED;
    *consumed = *produced = 0;
    break;
  }
  if (*consumed > 0)
    s->started = true;
  return rv;
}

/* Whether the stage's stream ended (or never started). */
static bool stage_complete(const cd_stage *s) {
  if (!s->started)
    return true;
  switch (s->coding) {
  case CONTENT_CODING_GZIP:
  case CONTENT_CODING_DEFLATE:
    /* The deflate data ended; a missing gzip footer or Adler-32 is accepted
     * (Chromium's GzipCorrectnessWithoutFooter). */
    return s->zstate == ZS_TRAILER || s->zstate == ZS_DONE;
  case CONTENT_CODING_BR:
    return s->br_done;
  case CONTENT_CODING_ZSTD:
    return !s->zstd_in_frame;
  }
  return false;
}

static void stage_cleanup(cd_stage *s) {
  if (s->z_ready)
    inflateEnd(&s->z);
  s->z_ready = false;
  if (s->br)
    BrotliDecoderDestroyInstance(s->br);
  s->br = NULL;
  if (s->zstd)
    ZSTD_freeDCtx(s->zstd);
  s->zstd = NULL;
}

static int stage_init(cd_stage *s, content_coding c) {
  s->coding = c;
  switch (c) {
  case CONTENT_CODING_GZIP:
  case CONTENT_CODING_DEFLATE:
    /* Raw inflate for both: the gzip header and the zlib header are ours. */
    if (inflateInit2(&s->z, -MAX_WBITS) != Z_OK)
      return CRONC_ERR_CONTENT_DECODING_INIT_FAILED;
    s->z_ready = true;
    s->zstate = c == CONTENT_CODING_GZIP ? ZS_GZ_ID1 : ZS_DEFLATE_SNIFF;
    s->adler = (uint32_t)adler32(0L, Z_NULL, 0);
    return CRONC_OK;
  case CONTENT_CODING_BR:
    s->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    return s->br ? CRONC_OK : CRONC_ERR_CONTENT_DECODING_INIT_FAILED;
  case CONTENT_CODING_ZSTD:
    s->zstd = ZSTD_createDCtx();
    if (!s->zstd || ZSTD_isError(ZSTD_DCtx_setParameter(s->zstd, ZSTD_d_windowLogMax,
                                                        CONTENT_DECODER_ZSTD_WINDOW_LOG_MAX)))
      return CRONC_ERR_CONTENT_DECODING_INIT_FAILED;
    return CRONC_OK;
  }
  return CRONC_ERR_CONTENT_DECODING_INIT_FAILED;
}

/* ---------------------------------------------------------------------------
 * The chain
 * ------------------------------------------------------------------------- */

int content_decoder_new(const content_encoding_list *l, content_decoder **out) {
  *out = NULL;
  if (l->passthrough || l->count == 0)
    return CRONC_OK;
  if (content_encoding_list_too_long(l))
    return CRONC_ERR_CONTENT_DECODING_FAILED;
  size_t n = l->count;
  /* One allocation: the decoder, then the n-1 buffers between stages. */
  content_decoder *d = calloc(1, sizeof(*d) + (n - 1) * (size_t)CONTENT_DECODER_BUFFER_SIZE);
  if (!d)
    return CRONC_ERR_CONTENT_DECODING_INIT_FAILED;
  uint8_t *bufs = (uint8_t *)(d + 1);
  d->n = n;
  for (size_t i = 0; i < n; i++) {
    /* Stage 0 reads the wire: the coding applied last. */
    cd_stage *s = &d->stages[i];
    int rv = stage_init(s, l->codings[n - 1 - i]);
    if (rv < 0) {
      content_decoder_free(d);
      return rv;
    }
    if (i + 1 < n)
      s->buf = bufs + i * (size_t)CONTENT_DECODER_BUFFER_SIZE;
  }
  *out = d;
  return CRONC_OK;
}

int content_decoder_new_for_header(const char *value, size_t len, content_decoder **out) {
  content_encoding_list l;
  content_encoding_list_init(&l);
  content_encoding_list_add(&l, value, len);
  return content_decoder_new(&l, out);
}

void content_decoder_free(content_decoder *d) {
  if (!d)
    return;
  for (size_t i = 0; i < d->n; i++)
    stage_cleanup(&d->stages[i]);
  free(d);
}

size_t content_decoder_chain_length(const content_decoder *d) { return d ? d->n : 0; }

int content_decoder_decode(content_decoder *d, const uint8_t *in, size_t in_len, size_t *consumed,
                           uint8_t *out, size_t out_cap, size_t *produced) {
  *consumed = 0;
  *produced = 0;
  if (d->error_reported)
    return d->error;
  size_t in_used = 0, out_used = 0;
  for (;;) {
    bool progress = false;
    for (size_t i = 0; i < d->n; i++) {
      cd_stage *s = &d->stages[i];
      if (s->failed)
        continue;
      const uint8_t *src;
      size_t src_len;
      cd_stage *prev = i > 0 ? &d->stages[i - 1] : NULL;
      if (!prev) {
        src = in ? in + in_used : NULL;
        src_len = in_len - in_used;
      } else {
        src = prev->buf + prev->buf_start;
        src_len = prev->buf_end - prev->buf_start;
      }
      static uint8_t no_out[1]; /* never written: dst_cap is 0 with it */
      uint8_t *dst;
      size_t dst_cap;
      if (!s->buf) {
        dst = out ? out + out_used : no_out;
        dst_cap = out_cap - out_used;
      } else {
        if (s->buf_start == s->buf_end) {
          s->buf_start = s->buf_end = 0;
        } else if (s->buf_start >= CONTENT_DECODER_BUFFER_SIZE / 2) {
          /* Compact only once half is consumed: moves stay amortised O(1)
           * per byte even when the next stage takes one byte at a time. */
          memmove(s->buf, s->buf + s->buf_start, s->buf_end - s->buf_start);
          s->buf_end -= s->buf_start;
          s->buf_start = 0;
        }
        dst = s->buf + s->buf_end;
        dst_cap = CONTENT_DECODER_BUFFER_SIZE - s->buf_end;
      }
      static const uint8_t empty[1];
      size_t c = 0, p = 0;
      int rv = stage_run(s, src ? src : empty, src_len, &c, dst, dst_cap, &p);
      if (!prev)
        in_used += c;
      else
        prev->buf_start += c;
      if (!s->buf)
        out_used += p;
      else
        s->buf_end += p;
      if (c > 0 || p > 0)
        progress = true;
      if (rv < 0) {
        /* Stages after this one still drain what they were given. */
        s->failed = true;
        if (d->error == 0)
          d->error = rv;
      }
    }
    if (!progress || out_used == out_cap)
      break;
  }
  *consumed = in_used;
  *produced = out_used;
  if (d->error != 0 && out_used == 0) {
    d->error_reported = true;
    return d->error;
  }
  return CRONC_OK;
}

int content_decoder_finish(const content_decoder *d) {
  if (d->error != 0)
    return d->error;
  for (size_t i = 0; i < d->n; i++) {
    const cd_stage *s = &d->stages[i];
    if (!stage_complete(s) || s->buf_start != s->buf_end)
      return CRONC_ERR_CONTENT_DECODING_FAILED;
  }
  return CRONC_OK;
}
