/* Fuzz target for http/h2_session: arbitrary bytes as the server's output to
 * a client session with two open streams (a GET and a POST with a body).
 * An empty server SETTINGS frame is fed first so the fuzzer reaches frame
 * processing; the input's first byte picks the chunk size the rest is fed
 * in, and output is pulled between chunks. ALTSVC frames reach a callback
 * that parses their value as the engine would, with a capturing NetLog so
 * the frame's log entries are built too. Must never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/netlog.h"
#include "http/altsvc_parse.h"
#include "http/h2_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_read_body(h2_stream *st, size_t max, h2_slice *out, bool *eof, void *ud) {
  static const uint8_t body[3000];
  size_t *off = ud;
  size_t n = sizeof(body) - *off;
  if (n > max)
    n = max;
  out->base = body + *off;
  out->len = n;
  *off += n;
  *eof = *off == sizeof(body);
  return H2_BODY_OK;
}

static void fz_on_data(h2_stream *st, const uint8_t *d, size_t len, void *ud) {
  h2_stream_consumed(st, len);
}

static void fz_on_close(h2_stream *st, int error, bool unprocessed, void *ud) {}

static const char *fz_on_altsvc(h2_session *s, h2_stream *st, h2_slice origin, h2_slice value,
                                void *ud) {
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason = NULL;
  altsvc_parse_header((const char *)value.base, value.len, &h, &reason);
  altsvc_header_free(&h);
  return origin.len > 200 ? "long origin" : NULL;
}

static void fz_observe(const netlog_entry *e, void *ud) {}

static void drain(h2_session *s) {
  h2_slice sl[8];
  for (int i = 0; i < 64 && h2_session_send_next(s, sl, 8) > 0; i++) {
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static netlog *nl;
  if (!nl) {
    nl = netlog_new(NULL);
    netlog_add_observer(nl, fz_observe, NULL);
  }
  static const h2_session_callbacks scb = {.on_altsvc = fz_on_altsvc};
  h2_session *s = h2_session_new(NULL, &scb, NULL, nl);
  if (!s)
    return 0;
  h2_stream_callbacks cb = {.on_data = fz_on_data, .on_close = fz_on_close};
  h2_request req = {.method = {(const uint8_t *)"GET", 3},
                    .scheme = {(const uint8_t *)"https", 5},
                    .authority = {(const uint8_t *)"a.test", 6},
                    .path = {(const uint8_t *)"/", 1},
                    .priority = H2_PRIORITY_MEDIUM};
  h2_stream *st;
  h2_session_submit(s, &req, &cb, NULL, &st);
  size_t off = 0;
  h2_stream_callbacks pcb = cb;
  pcb.read_body = fz_read_body;
  req.method = (h2_slice){(const uint8_t *)"POST", 4};
  h2_session_submit(s, &req, &pcb, &off, &st);
  drain(s);
  static const uint8_t settings[] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
  h2_session_receive(s, settings, sizeof(settings));
  size_t chunk = size ? (size_t)data[0] * 7 + 1 : 1;
  if (size) {
    data++;
    size--;
  }
  while (size > 0) {
    size_t n = size < chunk ? size : chunk;
    if (h2_session_receive(s, data, n) != 0)
      break;
    drain(s);
    data += n;
    size -= n;
  }
  drain(s);
  h2_session_free(s);
  return 0;
}
