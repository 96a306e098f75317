/* Tests of quic/quic_ticket: the 0-RTT ticket blob codec (round trip and
 * rejection of every kind of malformed input read back from disk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "quic/quic_ticket.h"

static const uint8_t k_session[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};

static quic_ticket sample(void) {
  quic_ticket t = {
      .params =
          {
              .initial_max_data = 1048576,
              .initial_max_stream_data_bidi_local = 524288,
              .initial_max_stream_data_bidi_remote = 524288,
              .initial_max_stream_data_uni = 524288,
              .initial_max_streams_bidi = 100,
              .initial_max_streams_uni = 3,
              .active_connection_id_limit = 4,
              .max_idle_timeout_ms = 30000,
              .max_udp_payload_size = 1452,
              .max_datagram_frame_size = 0,
          },
      .session = k_session,
      .session_len = sizeof k_session,
  };
  return t;
}

static void encode_sample(uint8_t **blob, size_t *len) {
  quic_ticket t = sample();
  assert_int_equal(quic_ticket_encode(&t, blob, len), 0);
}

static void test_round_trip_keeps_every_field(void **state) {
  uint8_t *blob;
  size_t len;
  encode_sample(&blob, &len);
  quic_ticket t = sample(), d;
  assert_int_equal(quic_ticket_decode(blob, len, &d), 0);
  assert_memory_equal(&d.params, &t.params, sizeof t.params);
  assert_int_equal(d.session_len, sizeof k_session);
  assert_memory_equal(d.session, k_session, sizeof k_session);
  assert_true(d.session >= blob && d.session + d.session_len == blob + len); /* a slice */
  free(blob);
}

static void test_every_truncation_is_rejected(void **state) {
  uint8_t *blob;
  size_t len;
  encode_sample(&blob, &len);
  quic_ticket d;
  for (size_t l = 0; l < len; l++)
    assert_int_equal(quic_ticket_decode(blob, l, &d), CRONC_ERR_INVALID_ARGUMENT);
  free(blob);
}

static void test_trailing_bytes_are_rejected(void **state) {
  uint8_t *blob;
  size_t len;
  encode_sample(&blob, &len);
  uint8_t *longer = malloc(len + 1);
  memcpy(longer, blob, len);
  longer[len] = 0;
  quic_ticket d;
  assert_int_equal(quic_ticket_decode(longer, len + 1, &d), CRONC_ERR_INVALID_ARGUMENT);
  free(longer);
  free(blob);
}

static void test_bad_magic_version_or_count_rejected(void **state) {
  uint8_t *blob;
  size_t len;
  encode_sample(&blob, &len);
  quic_ticket d;
  for (size_t i = 0; i < 6; i++) {
    blob[i] ^= 0x40;
    assert_int_equal(quic_ticket_decode(blob, len, &d), CRONC_ERR_INVALID_ARGUMENT);
    blob[i] ^= 0x40;
  }
  assert_int_equal(quic_ticket_decode(blob, len, &d), 0);
  free(blob);
}

static void test_out_of_range_values_rejected(void **state) {
  uint8_t *blob;
  size_t len;
  encode_sample(&blob, &len);
  quic_ticket d;
  /* initial_max_streams_bidi (5th value) above 2^60 */
  uint8_t *p = blob + 6 + 4 * 8;
  uint8_t saved[8];
  memcpy(saved, p, 8);
  memset(p, 0, 8);
  p[0] = 0x20; /* 2^61 */
  assert_int_equal(quic_ticket_decode(blob, len, &d), CRONC_ERR_INVALID_ARGUMENT);
  memcpy(p, saved, 8);
  /* any value above the varint maximum */
  memset(blob + 6, 0xff, 8);
  assert_int_equal(quic_ticket_decode(blob, len, &d), CRONC_ERR_INVALID_ARGUMENT);
  free(blob);
}

static void test_session_length_mismatch_rejected(void **state) {
  uint8_t *blob;
  size_t len;
  encode_sample(&blob, &len);
  quic_ticket d;
  uint8_t *sl = blob + 6 + 10 * 8;
  sl[3] += 1; /* claims one byte more than there is */
  assert_int_equal(quic_ticket_decode(blob, len, &d), CRONC_ERR_INVALID_ARGUMENT);
  sl[3] -= 2; /* one byte less */
  assert_int_equal(quic_ticket_decode(blob, len, &d), CRONC_ERR_INVALID_ARGUMENT);
  sl[0] = 0xff; /* huge */
  assert_int_equal(quic_ticket_decode(blob, len, &d), CRONC_ERR_INVALID_ARGUMENT);
  free(blob);
}

static void test_encode_refuses_bad_input(void **state) {
  uint8_t *blob = NULL;
  size_t len = 0;
  quic_ticket t = sample();
  t.session_len = 0;
  assert_int_equal(quic_ticket_encode(&t, &blob, &len), CRONC_ERR_INVALID_ARGUMENT);
  t = sample();
  t.session = NULL;
  assert_int_equal(quic_ticket_encode(&t, &blob, &len), CRONC_ERR_INVALID_ARGUMENT);
  t = sample();
  t.session_len = QUIC_TICKET_MAX_SESSION + 1;
  assert_int_equal(quic_ticket_encode(&t, &blob, &len), CRONC_ERR_INVALID_ARGUMENT);
  t = sample();
  t.params.initial_max_data = QUIC_TICKET_MAX_VARINT + 1;
  assert_int_equal(quic_ticket_encode(&t, &blob, &len), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(quic_ticket_encode(NULL, &blob, &len), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(blob);
}

static void test_decode_null_and_garbage(void **state) {
  quic_ticket d;
  assert_int_equal(quic_ticket_decode(NULL, 0, &d), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(quic_ticket_decode((const uint8_t *)"x", 1, NULL), CRONC_ERR_INVALID_ARGUMENT);
  uint8_t junk[200];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 37 + 11);
  assert_int_equal(quic_ticket_decode(junk, sizeof junk, &d), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(d.session);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_keeps_every_field),
      cmocka_unit_test(test_every_truncation_is_rejected),
      cmocka_unit_test(test_trailing_bytes_are_rejected),
      cmocka_unit_test(test_bad_magic_version_or_count_rejected),
      cmocka_unit_test(test_out_of_range_values_rejected),
      cmocka_unit_test(test_session_length_mismatch_rejected),
      cmocka_unit_test(test_encode_refuses_bad_input),
      cmocka_unit_test(test_decode_null_and_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
