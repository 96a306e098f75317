#include "quic/quic_ticket.h"

#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"

#define HEADER_LEN     (4 + 1 + 1)
#define BLOB_LEN(sess) (HEADER_LEN + 8 * QUIC_TICKET_TP_COUNT + 4 + (sess))

static const uint8_t magic[4] = {'C', 'Q', 'T', 'K'};

static void params_to_array(const quic_ticket_params *p, uint64_t v[QUIC_TICKET_TP_COUNT]) {
  v[0] = p->initial_max_data;
  v[1] = p->initial_max_stream_data_bidi_local;
  v[2] = p->initial_max_stream_data_bidi_remote;
  v[3] = p->initial_max_stream_data_uni;
  v[4] = p->initial_max_streams_bidi;
  v[5] = p->initial_max_streams_uni;
  v[6] = p->active_connection_id_limit;
  v[7] = p->max_idle_timeout_ms;
  v[8] = p->max_udp_payload_size;
  v[9] = p->max_datagram_frame_size;
}

static void params_from_array(quic_ticket_params *p, const uint64_t v[QUIC_TICKET_TP_COUNT]) {
  p->initial_max_data = v[0];
  p->initial_max_stream_data_bidi_local = v[1];
  p->initial_max_stream_data_bidi_remote = v[2];
  p->initial_max_stream_data_uni = v[3];
  p->initial_max_streams_bidi = v[4];
  p->initial_max_streams_uni = v[5];
  p->active_connection_id_limit = v[6];
  p->max_idle_timeout_ms = v[7];
  p->max_udp_payload_size = v[8];
  p->max_datagram_frame_size = v[9];
}

/* RFC 9000 ranges: every value is a varint; stream counts <= 2^60. */
static bool params_valid(const uint64_t v[QUIC_TICKET_TP_COUNT]) {
  for (int i = 0; i < QUIC_TICKET_TP_COUNT; i++)
    if (v[i] > QUIC_TICKET_MAX_VARINT)
      return false;
  return v[4] <= (UINT64_C(1) << 60) && v[5] <= (UINT64_C(1) << 60);
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    p[i] = (uint8_t)v;
    v >>= 8;
  }
}

static uint64_t get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

int quic_ticket_encode(const quic_ticket *t, uint8_t **out, size_t *out_len) {
  if (!t || !out || !out_len || !t->session || t->session_len == 0 ||
      t->session_len > QUIC_TICKET_MAX_SESSION)
    return CRONC_ERR_INVALID_ARGUMENT;
  uint64_t v[QUIC_TICKET_TP_COUNT];
  params_to_array(&t->params, v);
  if (!params_valid(v))
    return CRONC_ERR_INVALID_ARGUMENT;
  size_t len = BLOB_LEN(t->session_len);
  uint8_t *b = malloc(len);
  if (!b)
    return CRONC_ERR_OUT_OF_MEMORY;
  uint8_t *p = b;
  memcpy(p, magic, 4);
  p += 4;
  *p++ = QUIC_TICKET_VERSION;
  *p++ = QUIC_TICKET_TP_COUNT;
  for (int i = 0; i < QUIC_TICKET_TP_COUNT; i++, p += 8)
    put_u64(p, v[i]);
  uint32_t sl = (uint32_t)t->session_len;
  *p++ = (uint8_t)(sl >> 24);
  *p++ = (uint8_t)(sl >> 16);
  *p++ = (uint8_t)(sl >> 8);
  *p++ = (uint8_t)sl;
  memcpy(p, t->session, t->session_len);
  *out = b;
  *out_len = len;
  return CRONC_OK;
}

int quic_ticket_decode(const uint8_t *blob, size_t len, quic_ticket *out) {
  if (!out)
    return CRONC_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  if (!blob || len < BLOB_LEN(1) || memcmp(blob, magic, 4) != 0 || blob[4] != QUIC_TICKET_VERSION ||
      blob[5] != QUIC_TICKET_TP_COUNT)
    return CRONC_ERR_INVALID_ARGUMENT;
  const uint8_t *p = blob + HEADER_LEN;
  uint64_t v[QUIC_TICKET_TP_COUNT];
  for (int i = 0; i < QUIC_TICKET_TP_COUNT; i++, p += 8)
    v[i] = get_u64(p);
  uint32_t sl = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  p += 4;
  if (!params_valid(v) || sl == 0 || sl > QUIC_TICKET_MAX_SESSION || len != BLOB_LEN((size_t)sl))
    return CRONC_ERR_INVALID_ARGUMENT;
  params_from_array(&out->params, v);
  out->session = p;
  out->session_len = sl;
  return CRONC_OK;
}
