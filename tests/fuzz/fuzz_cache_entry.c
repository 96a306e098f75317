/* Fuzzes the stored-entry decoder (cache/cache_entry). The input is sealed
 * with a valid checksum first so that the structural checks, not just the
 * checksum, see arbitrary bytes; the raw input is decoded too. A decoded
 * entry must encode again and decode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_entry.h"
#include "cronc/cronc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cache_entry_meta m;
  cache_entry_meta_init(&m);
  cache_entry_decode(data, size, &m);
  if (size > CACHE_ENTRY_MAX_META)
    size = CACHE_ENTRY_MAX_META;
  uint8_t *sealed = malloc(size + 4);
  if (!sealed) {
    cache_entry_meta_free(&m);
    return 0;
  }
  if (size)
    memcpy(sealed, data, size);
  uint32_t c = cache_entry_checksum(sealed, size);
  sealed[size] = (uint8_t)c;
  sealed[size + 1] = (uint8_t)(c >> 8);
  sealed[size + 2] = (uint8_t)(c >> 16);
  sealed[size + 3] = (uint8_t)(c >> 24);
  if (cache_entry_decode(sealed, size + 4, &m) == CRONC_OK) {
    strbuf b = STRBUF_INIT;
    if (cache_entry_encode(&m, &b) == CRONC_OK) {
      cache_entry_meta again;
      cache_entry_meta_init(&again);
      if (cache_entry_decode((const uint8_t *)b.data, b.len, &again) != CRONC_OK ||
          again.body_size != m.body_size || again.head.status != m.head.status)
        abort();
      cache_entry_meta_free(&again);
    }
    strbuf_free(&b);
  }
  free(sealed);
  cache_entry_meta_free(&m);
  return 0;
}
