/* The error list: Chromium's names and numbers, and the name lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cronc/cronc.h"

static void names_match_chromium(void **state) {
  (void)state;
  assert_string_equal(cronc_error_name(0), "OK");
  assert_string_equal(cronc_error_name(-1), "ERR_IO_PENDING");
  assert_string_equal(cronc_error_name(-105), "ERR_NAME_NOT_RESOLVED");
  assert_string_equal(cronc_error_name(-200), "ERR_CERT_COMMON_NAME_INVALID");
  assert_string_equal(cronc_error_name(-356), "ERR_QUIC_PROTOCOL_ERROR");
  assert_string_equal(cronc_error_name(-400), "ERR_CACHE_MISS");
  assert_string_equal(cronc_error_name(-12345), "ERR_UNKNOWN");
}

static void numbers_match_chromium(void **state) {
  (void)state;
  assert_int_equal(CRONC_ERR_CONNECTION_REFUSED, -102);
  assert_int_equal(CRONC_ERR_NETWORK_IO_SUSPENDED, -331);
  assert_int_equal(CRONC_ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN, -150);
  assert_int_equal(CRONC_ERR_DNS_NO_MATCHING_SUPPORTED_ALPN, -811);
}

static void version_is_set(void **state) {
  (void)state;
  assert_string_equal(cronc_version(), CRONC_VERSION_STRING);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(names_match_chromium),
      cmocka_unit_test(numbers_match_chromium),
      cmocka_unit_test(version_is_set),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
