/* The stored-entry codec: a round trip keeps everything, and every kind of
 * damage (truncation at any length, a flipped byte, another version,
 * trailing bytes, bad field syntax) is ERR_CACHE_READ_FAILURE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cache/cache_entry.h"
#include "cronc/cronc.h"

static void sample(cache_entry_meta *m) {
  cache_entry_meta_init(m);
  cache_headers_set_reason(&m->head, "OK", 2);
  m->head.status = 200;
  m->head.http_minor = 1;
  h1_headers_add(&m->head, "Content-Type", 12, "text/plain", 10);
  h1_headers_add(&m->head, "ETag", 4, "\"x\"", 3);
  cache_vary_add(&m->vary, "Accept-Encoding", 15, true, "gzip", 4);
  cache_vary_add(&m->vary, "X-None", 6, false, "", 0);
  m->request_time_us = 111;
  m->response_time_us = 222;
  m->body_size = 12345;
  strcpy(m->protocol, "h2");
}

static void round_trip_keeps_everything(void **state) {
  cache_entry_meta m, d;
  sample(&m);
  strbuf b = STRBUF_INIT;
  assert_int_equal(cache_entry_encode(&m, &b), 0);
  cache_entry_meta_init(&d);
  assert_int_equal(cache_entry_decode((const uint8_t *)b.data, b.len, &d), 0);
  assert_int_equal(d.head.status, 200);
  assert_int_equal(d.head.http_minor, 1);
  size_t rl;
  const char *r = h1_headers_reason(&d.head, &rl);
  assert_int_equal(rl, 2);
  assert_memory_equal(r, "OK", 2);
  assert_int_equal(h1_headers_count(&d.head), 2);
  assert_true(h1_headers_has(&d.head, "etag"));
  assert_int_equal(d.vary.count, 2);
  assert_string_equal(d.vary.fields[0].name, "accept-encoding");
  assert_string_equal(d.vary.fields[0].value, "gzip");
  assert_false(d.vary.fields[1].present);
  assert_int_equal(d.request_time_us, 111);
  assert_int_equal(d.response_time_us, 222);
  assert_int_equal(d.body_size, 12345);
  assert_string_equal(d.protocol, "h2");
  cache_entry_meta_free(&m);
  cache_entry_meta_free(&d);
  strbuf_free(&b);
}

static void every_truncation_is_a_read_failure(void **state) {
  cache_entry_meta m, d;
  sample(&m);
  strbuf b = STRBUF_INIT;
  assert_int_equal(cache_entry_encode(&m, &b), 0);
  cache_entry_meta_init(&d);
  for (size_t n = 0; n < b.len; n++)
    assert_int_equal(cache_entry_decode((const uint8_t *)b.data, n, &d),
                     CRONC_ERR_CACHE_READ_FAILURE);
  assert_int_equal(h1_headers_count(&d.head), 0);
  cache_entry_meta_free(&m);
  cache_entry_meta_free(&d);
  strbuf_free(&b);
}

static void a_flipped_byte_is_a_read_failure(void **state) {
  cache_entry_meta m, d;
  sample(&m);
  strbuf b = STRBUF_INIT;
  assert_int_equal(cache_entry_encode(&m, &b), 0);
  cache_entry_meta_init(&d);
  for (size_t i = 0; i < b.len; i++) {
    b.data[i] ^= 0x20;
    assert_int_equal(cache_entry_decode((const uint8_t *)b.data, b.len, &d),
                     CRONC_ERR_CACHE_READ_FAILURE);
    b.data[i] ^= 0x20;
  }
  cache_entry_meta_free(&m);
  cache_entry_meta_free(&d);
  strbuf_free(&b);
}

/* Re-seals bytes with a valid checksum, so the structural checks are hit. */
static void reseal(strbuf *b) {
  uint32_t c = cache_entry_checksum((const uint8_t *)b->data, b->len - 4);
  uint8_t *p = (uint8_t *)b->data + b->len - 4;
  p[0] = (uint8_t)c;
  p[1] = (uint8_t)(c >> 8);
  p[2] = (uint8_t)(c >> 16);
  p[3] = (uint8_t)(c >> 24);
}

static void structural_damage_is_refused_even_with_a_valid_checksum(void **state) {
  cache_entry_meta m, d;
  sample(&m);
  strbuf b = STRBUF_INIT;
  assert_int_equal(cache_entry_encode(&m, &b), 0);
  cache_entry_meta_init(&d);
  /* Another version. */
  b.data[4] = 2;
  reseal(&b);
  assert_int_equal(cache_entry_decode((const uint8_t *)b.data, b.len, &d),
                   CRONC_ERR_CACHE_READ_FAILURE);
  b.data[4] = 1;
  reseal(&b);
  assert_int_equal(cache_entry_decode((const uint8_t *)b.data, b.len, &d), 0);
  /* A CR inside a header value ("text/plain" is in the record). */
  char *v = memmem(b.data, b.len, "text/plain", 10);
  assert_non_null(v);
  v[4] = '\r';
  reseal(&b);
  assert_int_equal(cache_entry_decode((const uint8_t *)b.data, b.len, &d),
                   CRONC_ERR_CACHE_READ_FAILURE);
  v[4] = '/';
  /* A space inside a field name. */
  char *n = memmem(b.data, b.len, "Content-Type", 12);
  n[3] = ' ';
  reseal(&b);
  assert_int_equal(cache_entry_decode((const uint8_t *)b.data, b.len, &d),
                   CRONC_ERR_CACHE_READ_FAILURE);
  n[3] = 't';
  /* Trailing bytes. */
  strbuf_append(&b, "\0\0\0\0", 4);
  reseal(&b);
  assert_int_equal(cache_entry_decode((const uint8_t *)b.data, b.len, &d),
                   CRONC_ERR_CACHE_READ_FAILURE);
  cache_entry_meta_free(&m);
  cache_entry_meta_free(&d);
  strbuf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip_keeps_everything),
      cmocka_unit_test(every_truncation_is_a_read_failure),
      cmocka_unit_test(a_flipped_byte_is_a_read_failure),
      cmocka_unit_test(structural_damage_is_refused_even_with_a_valid_checksum),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
