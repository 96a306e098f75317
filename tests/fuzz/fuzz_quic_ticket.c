/* Fuzzes quic_ticket_decode (0-RTT ticket blobs read back from the store):
 * any input must be rejected or decoded without a crash, and whatever
 * decodes must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quic/quic_ticket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  quic_ticket t;
  if (quic_ticket_decode(data, size, &t) != 0)
    return 0;
  uint8_t *blob = NULL;
  size_t len = 0;
  if (quic_ticket_encode(&t, &blob, &len) != 0)
    abort();
  if (len != size || memcmp(blob, data, size) != 0)
    abort();
  free(blob);
  return 0;
}
