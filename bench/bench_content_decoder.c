/* Benchmark: response content decoding throughput (http/content_decoder).
 * A 20 MB compressible text (HTML-like words) is made in the bench and
 * compressed once:
 *   - gzip and deflate in-process with zlib's compress2 (gzip = its deflate
 *     data re-wrapped with a gzip header and footer),
 *   - br and zstd with the command-line tools (brotli -q 5, zstd -3) through
 *     files in /tmp; skipped with a message when a tool is missing
 *     (scripts/bootstrap installs them).
 * Each is decoded the way the request layer does: 16 KiB input slices (a few
 * TLS records), a 64 KiB application read buffer. Also the "gzip, br" chain.
 * Reports MB/s of decoded output (best of 3 runs) and the compression ratio.
 * Decoded bytes are compared with the source; a mismatch exits non-zero. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "cronc/cronc.h"
#include "http/content_decoder.h"

#define TEXT_SIZE (20u * 1000u * 1000u)
#define FEED      16384
#define READ_BUF  65536

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct blob {
  uint8_t *p;
  size_t n;
} blob;

static blob make_text(size_t n) {
  static const char *words[] = {"<div class=\"item\">",
                                "network ",
                                "stack ",
                                "alt-svc ",
                                "quic ",
                                "header ",
                                "decoder ",
                                "</div>\n",
                                "chromium ",
                                "cronet ",
                                "1234 ",
                                "href=\"/a/b\" "};
  blob b = {malloc(n), 0};
  if (!b.p)
    exit(1);
  uint32_t x = 42;
  while (b.n < n) {
    x = x * 1103515245u + 12345u;
    const char *w = words[(x >> 16) % 12];
    size_t wl = strlen(w);
    if (wl > n - b.n)
      wl = n - b.n;
    memcpy(b.p + b.n, w, wl);
    b.n += wl;
  }
  return b;
}

static blob zlib_deflate(const blob *src) {
  uLongf n = compressBound(src->n);
  blob out = {malloc(n), 0};
  if (!out.p || compress2(out.p, &n, src->p, src->n, 6) != Z_OK) {
    fprintf(stderr, "compress2 failed\n");
    exit(1);
  }
  out.n = n;
  return out;
}

/* compress2's zlib stream re-wrapped as gzip: header, deflate data, CRC32, ISIZE. */
static blob gzip_from_zlib(const blob *src, const blob *z) {
  blob g = {malloc(z->n + 32), 0};
  static const uint8_t head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
  memcpy(g.p, head, 10);
  g.n = 10;
  memcpy(g.p + g.n, z->p + 2, z->n - 6);
  g.n += z->n - 6;
  uint32_t crc = (uint32_t)crc32(0, src->p, (uInt)src->n);
  uint32_t size = (uint32_t)src->n;
  for (int i = 0; i < 4; i++)
    g.p[g.n++] = (uint8_t)(crc >> (8 * i));
  for (int i = 0; i < 4; i++)
    g.p[g.n++] = (uint8_t)(size >> (8 * i));
  return g;
}

static bool tool_present(const char *tool) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
  return system(cmd) == 0;
}

static bool write_file(const char *path, const blob *b) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return false;
  bool ok = fwrite(b->p, 1, b->n, f) == b->n;
  return fclose(f) == 0 && ok;
}

static bool read_file(const char *path, blob *out) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  out->p = malloc(n > 0 ? (size_t)n : 1);
  out->n = n > 0 ? fread(out->p, 1, (size_t)n, f) : 0;
  fclose(f);
  return n >= 0 && out->n == (size_t)n;
}

/* Runs "tool args < in > out" once; false (with a message) when it cannot. */
static bool compress_with_tool(const char *tool, const char *args, const blob *src, blob *out) {
  if (!tool_present(tool)) {
    printf("%-14s skipped: `%s` not installed (scripts/bootstrap installs it)\n", tool, tool);
    return false;
  }
  char in_path[64], out_path[64], cmd[256];
  snprintf(in_path, sizeof(in_path), "/tmp/cronc_bench_cd_%d.txt", (int)getpid());
  snprintf(out_path, sizeof(out_path), "/tmp/cronc_bench_cd_%d.%s", (int)getpid(), tool);
  bool ok = write_file(in_path, src);
  if (ok) {
    snprintf(cmd, sizeof(cmd), "%s %s < '%s' > '%s'", tool, args, in_path, out_path);
    ok = system(cmd) == 0 && read_file(out_path, out);
  }
  unlink(in_path);
  unlink(out_path);
  if (!ok)
    printf("%-14s skipped: compressing with `%s` failed\n", tool, tool);
  return ok;
}

/* Decodes enc once; returns seconds or a negative number on failure. */
static double decode_once(const char *header, const blob *enc, const blob *src, uint8_t *buf) {
  content_decoder *d = NULL;
  if (content_decoder_new_for_header(header, strlen(header), &d) != CRONC_OK || !d)
    return -1;
  double t0 = now_seconds();
  size_t pos = 0, got = 0;
  bool ok = true;
  for (;;) {
    size_t feed = enc->n - pos < FEED ? enc->n - pos : FEED;
    size_t used, n;
    if (content_decoder_decode(d, enc->p + pos, feed, &used, buf, READ_BUF, &n) != CRONC_OK) {
      ok = false;
      break;
    }
    if (got + n > src->n || memcmp(buf, src->p + got, n) != 0) {
      ok = false;
      break;
    }
    got += n;
    pos += used;
    if (pos == enc->n && n < READ_BUF)
      break;
  }
  double t = now_seconds() - t0;
  if (ok)
    ok = got == src->n && content_decoder_finish(d) == CRONC_OK;
  content_decoder_free(d);
  return ok ? t : -1;
}

static int bench(const char *name, const char *header, const blob *enc, const blob *src,
                 uint8_t *buf) {
  double best = 1e9;
  for (int i = 0; i < 3; i++) {
    double t = decode_once(header, enc, src, buf);
    if (t < 0) {
      printf("%-14s FAILED to decode\n", name);
      return 1;
    }
    if (t < best)
      best = t;
  }
  /* The memcmp check is inside the timed loop; it costs ~1-2% here. */
  printf("%-14s %8.1f MB/s decoded  (%6.2f MB -> %5.2f MB, ratio %5.1f, %.3f s)\n", name,
         (double)src->n / best / 1e6, (double)enc->n / 1e6, (double)src->n / 1e6,
         (double)src->n / (double)enc->n, best);
  return 0;
}

int main(void) {
  blob src = make_text(TEXT_SIZE);
  uint8_t *buf = malloc(READ_BUF);
  int fails = 0;
  printf("content decoding, %u MB text, %d KiB input slices, %d KiB read buffer\n",
         TEXT_SIZE / 1000000u, FEED / 1024, READ_BUF / 1024);

  blob z = zlib_deflate(&src);
  blob g = gzip_from_zlib(&src, &z);
  fails += bench("gzip", "gzip", &g, &src, buf);
  fails += bench("deflate", "deflate", &z, &src, buf);

  blob br = {0}, zs = {0}, chain = {0};
  if (compress_with_tool("brotli", "-c -q 5", &src, &br))
    fails += bench("br", "br", &br, &src, buf);
  if (compress_with_tool("zstd", "-q -c -3", &src, &zs))
    fails += bench("zstd", "zstd", &zs, &src, buf);
  /* "gzip, br": gzip applied first, then br over the gzip bytes. */
  if (compress_with_tool("brotli", "-c -q 5", &g, &chain))
    fails += bench("gzip, br", "gzip, br", &chain, &src, buf);

  free(chain.p);
  free(zs.p);
  free(br.p);
  free(g.p);
  free(z.p);
  free(buf);
  free(src.p);
  return fails ? 1 : 0;
}
