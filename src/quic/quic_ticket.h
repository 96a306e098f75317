/* quic/quic_ticket: what a client keeps from one QUIC connection to resume
 * the next with 0-RTT (Chromium's QuicClientSessionCache entry): the TLS
 * session ticket (GnuTLS session data) and the server's transport
 * parameters that early data must respect, in one versioned binary blob
 * written to and read back from disk by the store.
 *
 * Blob layout (all integers big-endian):
 *   "CQTK"            magic
 *   u8  version       QUIC_TICKET_VERSION (1)
 *   u8  tp_count      number of u64 transport parameters (QUIC_TICKET_TP_COUNT)
 *   u64 tp[tp_count]  in the order of quic_ticket_params' fields
 *   u32 session_len   1 .. QUIC_TICKET_MAX_SESSION
 *   u8  session[session_len]
 * and nothing after it. quic_ticket_decode() checks every length and value
 * range and rejects anything else with CRONC_ERR_INVALID_ARGUMENT: it reads
 * bytes from disk, which may be truncated or corrupt.
 *
 * Pure functions, no state, any thread. */
#ifndef CRONC_QUIC_QUIC_TICKET_H
#define CRONC_QUIC_QUIC_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIC_TICKET_VERSION     1
#define QUIC_TICKET_TP_COUNT    10
#define QUIC_TICKET_MAX_SESSION 16384
#define QUIC_TICKET_MAX_VARINT  ((UINT64_C(1) << 62) - 1)

/* The remembered server transport parameters (RFC 9000 §7.4.1 lists what
 * a client must remember for 0-RTT). */
typedef struct quic_ticket_params {
  uint64_t initial_max_data;
  uint64_t initial_max_stream_data_bidi_local;
  uint64_t initial_max_stream_data_bidi_remote;
  uint64_t initial_max_stream_data_uni;
  uint64_t initial_max_streams_bidi; /* <= 2^60 */
  uint64_t initial_max_streams_uni;  /* <= 2^60 */
  uint64_t active_connection_id_limit;
  uint64_t max_idle_timeout_ms;
  uint64_t max_udp_payload_size;
  uint64_t max_datagram_frame_size;
} quic_ticket_params;

typedef struct quic_ticket {
  quic_ticket_params params;
  const uint8_t *session; /* GnuTLS session data; after decode: points into the blob */
  size_t session_len;
} quic_ticket;

/* Encodes t into a new malloc'd blob (*out, *out_len; caller frees).
 * 0, CRONC_ERR_INVALID_ARGUMENT (no or oversized session data, values out
 * of range) or CRONC_ERR_OUT_OF_MEMORY. */
int quic_ticket_encode(const quic_ticket *t, uint8_t **out, size_t *out_len);

/* Decodes a blob. On success fills *out, whose session slice points into
 * blob (keep the blob alive while using it). 0 or CRONC_ERR_INVALID_ARGUMENT
 * for anything malformed (out is then zeroed). */
int quic_ticket_decode(const uint8_t *blob, size_t len, quic_ticket *out);

#endif /* CRONC_QUIC_QUIC_TICKET_H */
