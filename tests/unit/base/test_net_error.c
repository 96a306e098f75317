/* The error list: Chromium's names and numbers, and the name lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <errno.h>
#include <uv.h>

#include "base/net_error_posix.h"
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

static void system_errors_map_as_chromium(void **state) {
  (void)state;
  assert_int_equal(base_map_system_error(0), CRONC_OK);
  assert_int_equal(base_map_system_error(ECONNREFUSED), CRONC_ERR_CONNECTION_REFUSED);
  assert_int_equal(base_map_system_error(ECONNRESET), CRONC_ERR_CONNECTION_RESET);
  assert_int_equal(base_map_system_error(EPIPE), CRONC_ERR_CONNECTION_RESET);
  assert_int_equal(base_map_system_error(ENETUNREACH), CRONC_ERR_ADDRESS_UNREACHABLE);
  assert_int_equal(base_map_system_error(ETIMEDOUT), CRONC_ERR_TIMED_OUT);
  assert_int_equal(base_map_system_error(EAGAIN), CRONC_ERR_IO_PENDING);
  assert_int_equal(base_map_system_error(ENOENT), CRONC_ERR_FILE_NOT_FOUND);
  assert_int_equal(base_map_system_error(EACCES), CRONC_ERR_ACCESS_DENIED);
  assert_int_equal(base_map_system_error(ENOSPC), CRONC_ERR_FILE_NO_SPACE);
  assert_int_equal(base_map_system_error(EMFILE), CRONC_ERR_INSUFFICIENT_RESOURCES);
  assert_int_equal(base_map_system_error(EDOM), CRONC_ERR_FAILED); /* unknown */
}

static void uv_errors_map_through_errno(void **state) {
  (void)state;
  assert_int_equal(base_map_uv_error(0), CRONC_OK);
  assert_int_equal(base_map_uv_error(5), CRONC_OK);
  assert_int_equal(base_map_uv_error(UV_ECONNREFUSED), CRONC_ERR_CONNECTION_REFUSED);
  assert_int_equal(base_map_uv_error(UV_EOF), CRONC_ERR_CONNECTION_CLOSED);
  assert_int_equal(base_map_uv_error(UV_ECANCELED), CRONC_ERR_ABORTED);
}

static void version_is_set(void **state) {
  (void)state;
  assert_string_equal(cronc_version(), CRONC_VERSION_STRING);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(names_match_chromium),
      cmocka_unit_test(numbers_match_chromium),
      cmocka_unit_test(system_errors_map_as_chromium),
      cmocka_unit_test(uv_errors_map_through_errno),
      cmocka_unit_test(version_is_set),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
