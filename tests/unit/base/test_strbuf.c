/* base/strbuf: growth, formatting, JSON escaping, detach, sticky failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_check.h"
#include "base/strbuf.h"

static void append_concatenates_and_stays_nul_terminated(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  strbuf_append(&sb, "ab", 2);
  strbuf_append_str(&sb, "cd");
  strbuf_append_char(&sb, 'e');
  strbuf_append(&sb, "ignored", 0);
  assert_int_equal(sb.len, 5);
  assert_string_equal(strbuf_cstr(&sb), "abcde");
  assert_int_equal(sb.data[sb.len], '\0');
  assert_false(strbuf_failed(&sb));
  strbuf_free(&sb);
  assert_null(sb.data);
  assert_int_equal(sb.len, 0);
}

static void empty_buffer_reads_as_empty_string(void **state) {
  (void)state;
  strbuf sb;
  strbuf_init(&sb);
  assert_string_equal(strbuf_cstr(&sb), "");
  strbuf_reset(&sb); /* no memory yet: still fine */
  assert_int_equal(sb.len, 0);
  strbuf_free(&sb);
}

static void append_grows_across_many_reallocations(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  for (int i = 0; i < 100000; i++)
    strbuf_append_char(&sb, (char)('a' + i % 26));
  assert_int_equal(sb.len, 100000);
  assert_true(sb.cap > sb.len);
  for (int i = 0; i < 100000; i += 9973)
    assert_int_equal(sb.data[i], 'a' + i % 26);
  assert_int_equal(sb.data[100000], '\0');
  strbuf_free(&sb);
}

static void appendf_formats_short_output(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "x=");
  strbuf_appendf(&sb, "%d,%s,%lld", -105, "ERR", (long long)INT64_MAX);
  assert_string_equal(strbuf_cstr(&sb), "x=-105,ERR,9223372036854775807");
  strbuf_free(&sb);
}

static void appendf_formats_output_larger_than_stack_buffer(void **state) {
  (void)state;
  size_t n = 10000;
  char *big = malloc(n + 1);
  assert_non_null(big);
  memset(big, 'q', n);
  big[n] = '\0';
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "<");
  strbuf_appendf(&sb, "%s|%d", big, 42);
  strbuf_append_str(&sb, ">");
  assert_int_equal(sb.len, 1 + n + 3 + 1);
  assert_int_equal(sb.data[0], '<');
  assert_int_equal(sb.data[n], 'q');
  assert_memory_equal(sb.data + 1 + n, "|42>", 4);
  assert_int_equal(sb.data[sb.len], '\0');
  assert_int_equal(strlen(sb.data), sb.len);
  strbuf_free(&sb);
  free(big);
}

static void reset_empties_but_keeps_memory(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "hello world");
  char *mem = sb.data;
  size_t cap = sb.cap;
  strbuf_reset(&sb);
  assert_int_equal(sb.len, 0);
  assert_string_equal(strbuf_cstr(&sb), "");
  assert_ptr_equal(sb.data, mem);
  assert_int_equal(sb.cap, cap);
  strbuf_append_str(&sb, "x");
  assert_string_equal(strbuf_cstr(&sb), "x");
  strbuf_free(&sb);
}

static void json_string_passes_printable_ascii(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  strbuf_json_cstr(&sb, "https://example.org:443/a?b=c d");
  assert_string_equal(strbuf_cstr(&sb), "\"https://example.org:443/a?b=c d\"");
  strbuf_free(&sb);
}

static void json_string_escapes_quote_and_backslash(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  strbuf_json_cstr(&sb, "a\"b\\c");
  assert_string_equal(strbuf_cstr(&sb), "\"a\\\"b\\\\c\"");
  strbuf_free(&sb);
}

static void json_string_escapes_control_characters(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  const char in[] = {'\n', '\r', '\t', 0x01, 0x1f, 0x08, 0x0c, 0x00, 'z'};
  strbuf_json_string(&sb, in, sizeof in);
  assert_string_equal(strbuf_cstr(&sb), "\"\\n\\r\\t\\u0001\\u001f\\u0008\\u000c\\u0000z\"");
  assert_true(base_json_is_valid(sb.data, sb.len));
  strbuf_free(&sb);
}

static void json_string_escapes_bytes_from_0x7f_up(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  /* DEL, a UTF-8 "é" (c3 a9), an invalid lone 0x80 and 0xff. */
  const char in[] = {0x7f, (char)0xc3, (char)0xa9, (char)0x80, (char)0xff};
  strbuf_json_string(&sb, in, sizeof in);
  assert_string_equal(strbuf_cstr(&sb), "\"\\u007f\\u00c3\\u00a9\\u0080\\u00ff\"");
  /* The result is plain ASCII and valid JSON whatever the input bytes. */
  for (size_t i = 0; i < sb.len; i++)
    assert_true((unsigned char)sb.data[i] < 0x7f);
  assert_true(base_json_is_valid(sb.data, sb.len));
  strbuf_free(&sb);
}

static void json_string_of_every_byte_is_valid_json(void **state) {
  (void)state;
  char all[256];
  for (int i = 0; i < 256; i++)
    all[i] = (char)i;
  strbuf sb = STRBUF_INIT;
  strbuf_json_string(&sb, all, sizeof all);
  assert_false(strbuf_failed(&sb));
  assert_true(base_json_is_valid(sb.data, sb.len));
  strbuf_free(&sb);
}

static void json_cstr_of_null_is_empty_string(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  strbuf_json_cstr(&sb, NULL);
  strbuf_json_cstr(&sb, "");
  assert_string_equal(strbuf_cstr(&sb), "\"\"\"\"");
  strbuf_free(&sb);
}

static void detach_hands_over_buffer_and_empties(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "payload");
  size_t len = 0;
  char *p = strbuf_detach(&sb, &len);
  assert_non_null(p);
  assert_int_equal(len, 7);
  assert_string_equal(p, "payload");
  assert_null(sb.data);
  assert_int_equal(sb.len, 0);
  free(p);
  /* The strbuf is reusable afterwards. */
  strbuf_append_str(&sb, "again");
  assert_string_equal(strbuf_cstr(&sb), "again");
  strbuf_free(&sb);
}

static void detach_of_empty_buffer_gives_empty_string(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  size_t len = 99;
  char *p = strbuf_detach(&sb, &len);
  assert_non_null(p);
  assert_string_equal(p, "");
  assert_int_equal(len, 0);
  free(p);
  p = strbuf_detach(&sb, NULL); /* len_out is optional */
  assert_non_null(p);
  free(p);
}

static void failure_is_sticky_and_detach_returns_null(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "ok");
  assert_false(strbuf_reserve(&sb, SIZE_MAX)); /* cannot be satisfied */
  assert_true(strbuf_failed(&sb));
  strbuf_append_str(&sb, "more");
  strbuf_appendf(&sb, "%d", 1);
  strbuf_json_cstr(&sb, "x");
  assert_int_equal(sb.len, 2); /* appends after failure are no-ops */
  assert_false(strbuf_reserve(&sb, 1));
  assert_null(strbuf_detach(&sb, NULL));
  assert_null(sb.data); /* detach released the memory */
  strbuf_free(&sb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(append_concatenates_and_stays_nul_terminated),
      cmocka_unit_test(empty_buffer_reads_as_empty_string),
      cmocka_unit_test(append_grows_across_many_reallocations),
      cmocka_unit_test(appendf_formats_short_output),
      cmocka_unit_test(appendf_formats_output_larger_than_stack_buffer),
      cmocka_unit_test(reset_empties_but_keeps_memory),
      cmocka_unit_test(json_string_passes_printable_ascii),
      cmocka_unit_test(json_string_escapes_quote_and_backslash),
      cmocka_unit_test(json_string_escapes_control_characters),
      cmocka_unit_test(json_string_escapes_bytes_from_0x7f_up),
      cmocka_unit_test(json_string_of_every_byte_is_valid_json),
      cmocka_unit_test(json_cstr_of_null_is_empty_string),
      cmocka_unit_test(detach_hands_over_buffer_and_empties),
      cmocka_unit_test(detach_of_empty_buffer_gives_empty_string),
      cmocka_unit_test(failure_is_sticky_and_detach_returns_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
