/* base/json_check: accepts RFC 8259 JSON, rejects everything else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "base/json_check.h"

static bool valid(const char *s) { return base_json_is_valid(s, strlen(s)); }

static void accepts_well_formed_values(void **state) {
  (void)state;
  const char *ok[] = {"{}",
                      "[]",
                      " {\"a\":1} ",
                      "0",
                      "-0",
                      "1.5e10",
                      "-2E-3",
                      "1e+7",
                      "true",
                      "false",
                      "null",
                      "\"\"",
                      "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\"",
                      "[1,[2,[3,{}]],\"x\"]",
                      "{\"a\":{\"b\":[true,false,null]},\"c\":\"d\"}",
                      "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
                      "\n\t{ \"k\" : [ ] }\r\n"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    if (!valid(ok[i]))
      fail_msg("rejected valid JSON: %s", ok[i]);
  }
}

static void rejects_malformed_values(void **state) {
  (void)state;
  const char *bad[] = {"",
                       " ",
                       "{",
                       "}",
                       "[1,]",
                       "{\"a\":1,}",
                       "{a:1}",
                       "{\"a\" 1}",
                       "{\"a\":}",
                       "[1 2]",
                       "01",
                       "1.",
                       ".5",
                       "-",
                       "1e",
                       "+1",
                       "tru",
                       "nul",
                       "True",
                       "\"unterminated",
                       "\"bad \\x escape\"",
                       "\"\\u12\"",
                       "\"\\u12G4\"",
                       "\"tab\tinside\"",
                       "{} {}",
                       "[] x",
                       "'single'",
                       "\"\xc3\"",             /* truncated UTF-8 */
                       "\"\xc0\xaf\"",         /* overlong */
                       "\"\xed\xa0\x80\"",     /* surrogate */
                       "\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
                       "\"\xff\""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (valid(bad[i]))
      fail_msg("accepted invalid JSON #%zu: %s", i, bad[i]);
  }
}

static void rejects_embedded_nul_and_null_pointer(void **state) {
  (void)state;
  assert_false(base_json_is_valid("{}\0", 3));
  assert_false(base_json_is_valid("\"a\0b\"", 5));
  assert_false(base_json_is_valid(NULL, 0));
  assert_false(base_json_is_object(NULL, 0));
}

static void limits_nesting_depth(void **state) {
  (void)state;
  char deep[2 * (BASE_JSON_MAX_DEPTH + 1) + 1];
  size_t n = 0;
  for (int i = 0; i < BASE_JSON_MAX_DEPTH; i++)
    deep[n++] = '[';
  for (int i = 0; i < BASE_JSON_MAX_DEPTH; i++)
    deep[n++] = ']';
  assert_true(base_json_is_valid(deep, n));
  n = 0;
  for (int i = 0; i < BASE_JSON_MAX_DEPTH + 1; i++)
    deep[n++] = '[';
  for (int i = 0; i < BASE_JSON_MAX_DEPTH + 1; i++)
    deep[n++] = ']';
  assert_false(base_json_is_valid(deep, n));
}

static void object_check_requires_an_object(void **state) {
  (void)state;
  assert_true(base_json_is_object("{\"net_error\":-105}", 18));
  assert_true(base_json_is_object("  {}", 4));
  assert_false(base_json_is_object("[]", 2));
  assert_false(base_json_is_object("\"{}\"", 4));
  assert_false(base_json_is_object("{\"a\":1", 6));
  assert_false(base_json_is_object("", 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(accepts_well_formed_values),
      cmocka_unit_test(rejects_malformed_values),
      cmocka_unit_test(rejects_embedded_nul_and_null_pointer),
      cmocka_unit_test(limits_nesting_depth),
      cmocka_unit_test(object_check_requires_an_object),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
