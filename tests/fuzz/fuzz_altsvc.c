/* Fuzz target for the Alt-Svc header parser (http/altsvc_parse). Parses the
 * input twice into one reused header (the hot-path usage) and, on success,
 * checks the invariants the callers rely on, then re-serialises to JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_check.h"
#include "cronc/cronc.h"
#include "http/altsvc_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const altsvc_header *h, int rv, const char *reason) {
  if (rv != 0) {
    if ((rv != CRONC_ERR_INVALID_RESPONSE && rv != CRONC_ERR_OUT_OF_MEMORY) || !reason ||
        !reason[0] || h->count != 0 || h->clear)
      abort();
    strbuf sb = STRBUF_INIT;
    altsvc_error_to_json(reason, &sb);
    if (!strbuf_failed(&sb) && !base_json_is_object(sb.data, sb.len))
      abort();
    strbuf_free(&sb);
    return;
  }
  if (reason)
    abort();
  if (h->clear && h->count != 0)
    abort();
  if (!h->clear && h->count == 0)
    abort();
  if (h->count > h->cap)
    abort();
  for (size_t i = 0; i < h->count; i++) {
    const altsvc_entry *e = &h->entries[i];
    if (e->port == 0) /* uint16_t: <= 65535 by type */
      abort();
    size_t plen = strnlen(e->protocol_id, sizeof e->protocol_id);
    if (plen == 0 || plen > ALTSVC_MAX_PROTOCOL_ID)
      abort();
    size_t hlen = strnlen(e->host, sizeof e->host);
    if (hlen > URL_MAX_HOST)
      abort();
    for (size_t j = 0; j < hlen; j++) {
      unsigned char c = (unsigned char)e->host[j];
      if (c <= 0x20 || c == 0x7f)
        abort();
    }
  }
  strbuf sb = STRBUF_INIT;
  altsvc_header_to_json(h, &sb);
  if (!strbuf_failed(&sb) && !base_json_is_object(sb.data, sb.len))
    abort();
  strbuf_free(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Copy into an exact-size heap buffer so ASan catches any read past len. */
  char *buf = malloc(size ? size : 1);
  if (!buf)
    return 0;
  if (size)
    memcpy(buf, data, size);
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason = NULL;
  int rv = altsvc_parse_header(buf, size, &h, &reason);
  check(&h, rv, reason);
  /* Parsing the same bytes again into the reused header gives the same result. */
  size_t count = h.count;
  bool clear = h.clear;
  const char *reason2 = NULL;
  int rv2 = altsvc_parse_header(buf, size, &h, &reason2);
  if (rv2 != rv || h.count != count || h.clear != clear || reason2 != reason)
    abort();
  altsvc_header_free(&h);
  free(buf);
  return 0;
}
