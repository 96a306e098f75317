/* The Alt-Svc header parser: every example of RFC 7838, the decisions of the
 * issue and quiche, malformed values (each rejected with a reason), JSON
 * output, and reuse of one header across calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "http/altsvc_parse.h"

/* One service as the JSON writer prints it, and a whole non-clear value. */
#define SVC(proto, host, port, ma, persist)                                                        \
  "{\"protocol\":\"" proto "\",\"host\":\"" host "\",\"port\":" #port ",\"max_age\":" #ma          \
  ",\"persist\":" #persist "}"
#define LIST(...)  "{\"clear\":false,\"services\":[" __VA_ARGS__ "]}"
#define CLEAR_JSON "{\"clear\":true,\"services\":[]}"

typedef struct ok_case {
  const char *name;
  const char *value;
  const char *json;
} ok_case;

typedef struct bad_case {
  const char *name;
  const char *value;
  const char *reason;
} bad_case;

/* Parses s (strlen) and returns the JSON (or the error JSON) in a static buffer. */
static const char *parse_to_json(const char *s, size_t len, int *rv_out, const char **reason_out) {
  static char buf[65536];
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason = "unset";
  int rv = altsvc_parse_header(s, len, &h, &reason);
  strbuf sb = STRBUF_INIT;
  if (rv == 0)
    altsvc_header_to_json(&h, &sb);
  else
    altsvc_error_to_json(reason, &sb);
  snprintf(buf, sizeof buf, "%s", strbuf_cstr(&sb));
  strbuf_free(&sb);
  altsvc_header_free(&h);
  if (rv_out)
    *rv_out = rv;
  if (reason_out)
    *reason_out = reason;
  return buf;
}

static int run_ok_cases(const ok_case *cases, size_t n) {
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    int rv;
    const char *got = parse_to_json(cases[i].value, strlen(cases[i].value), &rv, NULL);
    if (rv != 0 || strcmp(got, cases[i].json) != 0) {
      print_error("case '%s': value [%s]\n  want %s\n  got  %s (rv %d)\n", cases[i].name,
                  cases[i].value, cases[i].json, got, rv);
      failures++;
    }
  }
  return failures;
}

static int run_bad_cases(const bad_case *cases, size_t n) {
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    int rv;
    const char *reason;
    const char *got = parse_to_json(cases[i].value, strlen(cases[i].value), &rv, &reason);
    if (rv != CRONC_ERR_INVALID_RESPONSE || !reason || strcmp(reason, cases[i].reason) != 0) {
      print_error("case '%s': value [%s]\n  want error \"%s\"\n  got  %s (rv %d)\n", cases[i].name,
                  cases[i].value, cases[i].reason, got, rv);
      failures++;
    }
  }
  return failures;
}

/* ---- RFC 7838 examples ------------------------------------------------- */

static const ok_case k_rfc_cases[] = {
    {"§3 same host, port 8000", "h2=\":8000\"", LIST(SVC("h2", "", 8000, 86400, false))},
    {"§3 change of host", "h2=\"new.example.org:80\"",
     LIST(SVC("h2", "new.example.org", 80, 86400, false))},
    {"§3 escaping: h2 needs none", "h2=\":443\"", LIST(SVC("h2", "", 443, 86400, false))},
    {"§3 escaping: w=x:y#z", "w%3Dx%3Ay#z=\":443\"", LIST(SVC("w=x:y#z", "", 443, 86400, false))},
    {"§3 escaping: x%y", "x%25y=\":443\"", LIST(SVC("x%y", "", 443, 86400, false))},
    {"§3 escaping: http/1.1", "http%2F1.1=\":443\"", LIST(SVC("http/1.1", "", 443, 86400, false))},
    {"§3 multiple values", "h2=\"alt.example.com:8000\", h2=\":443\"",
     LIST(SVC("h2", "alt.example.com", 8000, 86400, false) "," SVC("h2", "", 443, 86400, false))},
    {"§3.1 ma", "h2=\":443\"; ma=3600", LIST(SVC("h2", "", 443, 3600, false))},
    {"§3.1 ma with host", "h2=\"alt.example.com:443\"; ma=3600",
     LIST(SVC("h2", "alt.example.com", 443, 3600, false))},
    {"§3.1 Age example", "h2=\":8000\"; ma=60", LIST(SVC("h2", "", 8000, 60, false))},
    {"§3.1 persist", "h2=\":443\"; ma=2592000; persist=1", LIST(SVC("h2", "", 443, 2592000, true))},
    {"§3 clear", "clear", CLEAR_JSON},
};

static void rfc7838_examples_parse(void **state) {
  (void)state;
  assert_int_equal(run_ok_cases(k_rfc_cases, sizeof k_rfc_cases / sizeof k_rfc_cases[0]), 0);
}

/* ---- accepted values: the and quiche's decisions ----------------- */

static const ok_case k_ok_cases[] = {
    {"percent-decoded draft id", "h3%2D29=\":443\"", LIST(SVC("h3-29", "", 443, 86400, false))},
    {"lower-case hex accepted (quiche)", "h3%2d29=\":443\"",
     LIST(SVC("h3-29", "", 443, 86400, false))},
    {"unknown protocol kept", "h3-Q050=\":443\"; ma=2592000",
     LIST(SVC("h3-Q050", "", 443, 2592000, false))},
    {"ma=0 allowed", "h3=\":443\"; ma=0", LIST(SVC("h3", "", 443, 0, false))},
    {"ma saturates", "h3=\":443\"; ma=99999999999999", LIST(SVC("h3", "", 443, 4294967295, false))},
    {"ma max exact", "h3=\":443\"; ma=4294967295", LIST(SVC("h3", "", 443, 4294967295, false))},
    {"ma max + 1 saturates", "h3=\":443\"; ma=4294967296",
     LIST(SVC("h3", "", 443, 4294967295, false))},
    {"ma 40 digits saturates", "h3=\":443\"; ma=1234567890123456789012345678901234567890",
     LIST(SVC("h3", "", 443, 4294967295, false))},
    {"ma leading zeros", "h3=\":443\"; ma=000060", LIST(SVC("h3", "", 443, 60, false))},
    {"quoted ma (RFC 7838 §3)", "h3=\":443\"; ma=\"180\"", LIST(SVC("h3", "", 443, 180, false))},
    {"quoted ma with escapes", "h3=\":443\"; ma=\"1\\80\"", LIST(SVC("h3", "", 443, 180, false))},
    {"MA upper case", "h3=\":443\"; MA=60", LIST(SVC("h3", "", 443, 60, false))},
    {"Ma mixed case", "h3=\":443\"; Ma=61", LIST(SVC("h3", "", 443, 61, false))},
    {"duplicate ma: later wins", "h3=\":443\"; ma=3600; ma=60",
     LIST(SVC("h3", "", 443, 60, false))},
    {"PERSIST upper case", "h3=\":443\"; PERSIST=1", LIST(SVC("h3", "", 443, 86400, true))},
    {"quoted persist", "h3=\":443\"; persist=\"1\"", LIST(SVC("h3", "", 443, 86400, true))},
    {"persist=0 ignored", "h3=\":443\"; persist=0", LIST(SVC("h3", "", 443, 86400, false))},
    {"persist=2 ignored", "h3=\":443\"; persist=2", LIST(SVC("h3", "", 443, 86400, false))},
    {"persist=01 ignored", "h3=\":443\"; persist=01", LIST(SVC("h3", "", 443, 86400, false))},
    {"persist=yes ignored", "h3=\":443\"; persist=yes", LIST(SVC("h3", "", 443, 86400, false))},
    {"duplicate persist: later wins", "h3=\":443\"; persist=1; persist=0",
     LIST(SVC("h3", "", 443, 86400, false))},
    {"params per entry", "h3=\":443\"; ma=10; persist=1, h2=\":443\"",
     LIST(SVC("h3", "", 443, 10, true) "," SVC("h2", "", 443, 86400, false))},
    {"unknown token param ignored", "h3=\":443\"; foo=bar; ma=5",
     LIST(SVC("h3", "", 443, 5, false))},
    {"unknown quoted param: any chars", "h3=\":443\"; foo=\"a,b;c d=\\\"e\\\"\"; ma=7",
     LIST(SVC("h3", "", 443, 7, false))},
    {"unknown quoted param: obs-text", "h3=\":443\"; foo=\"\xc3\xa9\"",
     LIST(SVC("h3", "", 443, 86400, false))},
    {"gQUIC v= ignored", "quic=\":443\"; ma=2592000; v=\"46,43\"",
     LIST(SVC("quic", "", 443, 2592000, false))},
    {"malformed v= ignored on h3 (not quiche)", "h3=\":443\"; v=\"h3\"",
     LIST(SVC("h3", "", 443, 86400, false))},
    {"hq quic= ignored", "hq=\":443\"; quic=51303433", LIST(SVC("hq", "", 443, 86400, false))},
    {"trailing comma", "h3=\":443\",", LIST(SVC("h3", "", 443, 86400, false))},
    {"trailing semicolon", "h3=\":443\";", LIST(SVC("h3", "", 443, 86400, false))},
    {"trailing semicolon after param", "h3=\":443\"; ma=5;", LIST(SVC("h3", "", 443, 5, false))},
    {"trailing semicolon then entry", "h3=\":443\"; , h2=\":444\"",
     LIST(SVC("h3", "", 443, 86400, false) "," SVC("h2", "", 444, 86400, false))},
    {"extra commas skipped", "h3=\":443\",,h2=\":443\"",
     LIST(SVC("h3", "", 443, 86400, false) "," SVC("h2", "", 443, 86400, false))},
    {"leading commas skipped", ", ,h3=\":443\"", LIST(SVC("h3", "", 443, 86400, false))},
    {"no space after comma", "h3=\":443\",h2=\":443\"",
     LIST(SVC("h3", "", 443, 86400, false) "," SVC("h2", "", 443, 86400, false))},
    {"whitespace everywhere", " \t h3 = \":443\" ; ma = 60 ;\tpersist\t=\t1 , \t h2=\":8443\" \t",
     LIST(SVC("h3", "", 443, 60, true) "," SVC("h2", "", 8443, 86400, false))},
    {"no whitespace", "h3=\":443\";ma=60;persist=1", LIST(SVC("h3", "", 443, 60, true))},
    {"whitespace around clear", " \tclear\t ", CLEAR_JSON},
    {"IPv6 literal keeps brackets", "h3=\"[2001:db8::1]:443\"",
     LIST(SVC("h3", "[2001:db8::1]", 443, 86400, false))},
    {"IPv6 loopback", "h2=\"[::1]:8443\"; persist=1", LIST(SVC("h2", "[::1]", 8443, 86400, true))},
    {"escaped quote in authority", "h3=\"a\\\"b:443\"",
     LIST(SVC("h3", "a\\\"b", 443, 86400, false))},
    {"escaped ordinary chars", "h3=\"alt\\.example\\.com:4\\43\"",
     LIST(SVC("h3", "alt.example.com", 443, 86400, false))},
    {"escaped colon is the separator", "h3=\"host\\:443\"",
     LIST(SVC("h3", "host", 443, 86400, false))},
    {"host kept as written", "h3=\"ALT.Example.COM:443\"",
     LIST(SVC("h3", "ALT.Example.COM", 443, 86400, false))},
    {"IPv4 host", "h3=\"192.0.2.1:443\"", LIST(SVC("h3", "192.0.2.1", 443, 86400, false))},
    {"leading zeros in port", "h3=\":0443\"", LIST(SVC("h3", "", 443, 86400, false))},
    {"many leading zeros in port", "h3=\":000000000000443\"",
     LIST(SVC("h3", "", 443, 86400, false))},
    {"port 1", "h3=\":1\"", LIST(SVC("h3", "", 1, 86400, false))},
    {"port 65535", "h3=\":65535\"", LIST(SVC("h3", "", 65535, 86400, false))},
    {"Google's header", "h3=\":443\"; ma=2592000,h3-29=\":443\"; ma=2592000",
     LIST(SVC("h3", "", 443, 2592000, false) "," SVC("h3-29", "", 443, 2592000, false))},
    {"Google's legacy header",
     "h3-Q050=\":443\"; ma=2592000,h3-29=\":443\"; ma=2592000,h3-T051=\":443\"; "
     "ma=2592000,quic=\":443\"; ma=2592000; v=\"46,43\"",
     LIST(SVC("h3-Q050", "", 443, 2592000, false) "," SVC("h3-29", "", 443, 2592000, false) "," SVC(
         "h3-T051", "", 443, 2592000, false) "," SVC("quic", "", 443, 2592000, false))},
    {"same entry twice kept", "h3=\":443\", h3=\":443\"",
     LIST(SVC("h3", "", 443, 86400, false) "," SVC("h3", "", 443, 86400, false))},
};

static void accepted_values_parse(void **state) {
  (void)state;
  assert_int_equal(run_ok_cases(k_ok_cases, sizeof k_ok_cases / sizeof k_ok_cases[0]), 0);
}

/* ---- malformed values: each rejected with its reason --------------------- */

static const bad_case k_bad_cases[] = {
    {"empty value", "", "empty value"},
    {"only whitespace", " \t ", "empty value"},
    {"only commas", " , ,, ", "no alternatives"},
    {"truncated escape %2", "h3%2=\":443\"", "bad percent-encoding in protocol-id"},
    {"non-hex escape %zz", "h3%zz=\":443\"", "bad percent-encoding in protocol-id"},
    {"escape at end %", "h3%", "bad percent-encoding in protocol-id"},
    {"escape one hex digit", "h%3", "bad percent-encoding in protocol-id"},
    {"escaped NUL", "h%003=\":443\"", "percent-encoded NUL in protocol-id"},
    {"empty protocol-id", "=\":443\"", "empty protocol-id"},
    {"quoted protocol-id", "\"h3\"=\":443\"", "expected protocol-id"},
    {"protocol-id only", "h3", "expected '=' after protocol-id"},
    {"space inside protocol-id", "h 3=\":443\"", "expected '=' after protocol-id"},
    {"non-token in protocol-id", "h3/1=\":443\"", "expected '=' after protocol-id"},
    {"Clear is not clear", "Clear", "expected '=' after protocol-id"},
    {"CLEAR is not clear", "CLEAR", "expected '=' after protocol-id"},
    {"clear then alternative", "clear, h3=\":443\"", "'clear' must be the whole value"},
    {"alternative then clear", "h3=\":443\", clear", "'clear' must be the whole value"},
    {"clear with param", "clear; ma=5", "'clear' must be the whole value"},
    {"missing authority", "h3=", "alt-authority is not a quoted string"},
    {"missing quote", "h3=:443", "alt-authority is not a quoted string"},
    {"token authority", "h3=example.com:443", "alt-authority is not a quoted string"},
    {"unterminated authority", "h3=\":443", "unterminated quoted string"},
    {"backslash at end", "h3=\":443\\", "unterminated quoted string"},
    {"empty authority", "h3=\"\"", "missing port"},
    {"missing port", "h3=\"example.com\"", "missing port"},
    {"empty port", "h3=\"example.com:\"", "missing port"},
    {"port 0", "h3=\":0\"", "port out of range"},
    {"port 00000", "h3=\":00000\"", "port out of range"},
    {"port 65536", "h3=\":65536\"", "port out of range"},
    {"port 99999999999", "h3=\":99999999999\"", "port out of range"},
    {"non-digit port", "h3=\":44a\"", "non-digit in port"},
    {"negative port", "h3=\":-1\"", "non-digit in port"},
    {"space after port", "h3=\":443 \"", "non-digit in port"},
    {"unbracketed IPv6", "h3=\"2001:db8::1:443\"", "':' in host needs brackets (IPv6 literal)"},
    {"unbracketed ::1", "h3=\"::1:443\"", "':' in host needs brackets (IPv6 literal)"},
    {"two ports", "h3=\"a:1:2\"", "':' in host needs brackets (IPv6 literal)"},
    {"unterminated IPv6", "h3=\"[2001:db8::1:443\"", "unterminated IPv6 literal"},
    {"junk after IPv6", "h3=\"[::1]x:443\"", "junk after IPv6 literal"},
    {"IPv6 without port", "h3=\"[::1]\"", "missing port"},
    {"space in host", "h3=\"a b:443\"", "invalid character in host"},
    {"control char in host",
     "h3=\"a\x01"
     "b:443\"",
     "invalid character in host"},
    {"junk after authority", "h3=\":443\"x", "expected ';' or ','"},
    {"entries without comma", "h3=\":443\" h2=\":443\"", "expected ';' or ','"},
    {"junk after param", "h3=\":443\"; ma=5 6", "expected ';' or ','"},
    {"quote after token value", "h3=\":443\"; ma=5\"x\"", "expected ';' or ','"},
    {"ma=-1", "h3=\":443\"; ma=-1", "ma is not delta-seconds"},
    {"ma=1.5", "h3=\":443\"; ma=1.5", "ma is not delta-seconds"},
    {"ma=abc", "h3=\":443\"; ma=abc", "ma is not delta-seconds"},
    {"ma=+5", "h3=\":443\"; ma=+5", "ma is not delta-seconds"},
    {"ma=0x10", "h3=\":443\"; ma=0x10", "ma is not delta-seconds"},
    {"quoted ma with space", "h3=\":443\"; ma=\"1 8\"", "ma is not delta-seconds"},
    {"bad ma in second entry", "h3=\":443\", h2=\":443\"; ma=x", "ma is not delta-seconds"},
    {"ma= at end", "h3=\":443\"; ma=", "empty parameter value"},
    {"ma= then ;", "h3=\":443\"; ma=; persist=1", "empty parameter value"},
    {"ma= then ,", "h3=\":443\"; ma=, h2=\":443\"", "empty parameter value"},
    {"ma=\"\"", "h3=\":443\"; ma=\"\"", "empty parameter value"},
    {"unknown =\"\"", "h3=\":443\"; foo=\"\"", "empty parameter value"},
    {"param without value", "h3=\":443\"; foo", "parameter without value"},
    {"param without value then ;", "h3=\":443\"; foo; ma=5", "parameter without value"},
    {"param without value then ,", "h3=\":443\"; persist, h2=\":443\"", "parameter without value"},
    {"param name then junk", "h3=\":443\"; ma:5", "expected '=' after parameter name"},
    {"param name then space junk", "h3=\":443\"; ma 5", "expected '=' after parameter name"},
    {"param without name", "h3=\":443\"; =5", "bad parameter name"},
    {"double semicolon", "h3=\":443\";;ma=5", "bad parameter name"},
    {"unterminated param quote", "h3=\":443\"; foo=\"bar", "unterminated quoted string"},
    {"param backslash at end", "h3=\":443\"; foo=\"bar\\", "unterminated quoted string"},
    {"good entry then bad entry", "h3=\":443\", h2=\":0\"", "port out of range"},
};

static void malformed_values_rejected_with_reason(void **state) {
  (void)state;
  assert_int_equal(run_bad_cases(k_bad_cases, sizeof k_bad_cases / sizeof k_bad_cases[0]), 0);
}

/* ---- lengths ------------------------------------------------------------- */

static void protocol_id_of_63_bytes_accepted_64_rejected(void **state) {
  (void)state;
  char buf[512];
  char id[80];
  memset(id, 'a', 63);
  id[63] = '\0';
  snprintf(buf, sizeof buf, "%s=\":443\"", id);
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason;
  assert_int_equal(altsvc_parse_header(buf, strlen(buf), &h, &reason), 0);
  assert_string_equal(h.entries[0].protocol_id, id);

  /* 63 decoded bytes written as escapes are fine too. */
  char enc[256] = "";
  for (int i = 0; i < 63; i++)
    strcat(enc, "%2D");
  snprintf(buf, sizeof buf, "%s=\":443\"", enc);
  assert_int_equal(altsvc_parse_header(buf, strlen(buf), &h, &reason), 0);
  assert_int_equal(strlen(h.entries[0].protocol_id), 63);

  memset(id, 'a', 64);
  id[64] = '\0';
  snprintf(buf, sizeof buf, "%s=\":443\"", id);
  assert_int_equal(altsvc_parse_header(buf, strlen(buf), &h, &reason), CRONC_ERR_INVALID_RESPONSE);
  assert_string_equal(reason, "protocol-id too long");
  assert_int_equal(h.count, 0);
  altsvc_header_free(&h);
}

static void host_of_255_bytes_accepted_256_rejected(void **state) {
  (void)state;
  char host[URL_MAX_HOST + 2];
  char buf[512];
  memset(host, 'h', URL_MAX_HOST);
  host[URL_MAX_HOST] = '\0';
  snprintf(buf, sizeof buf, "h3=\"%s:443\"", host);
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason;
  assert_int_equal(altsvc_parse_header(buf, strlen(buf), &h, &reason), 0);
  assert_string_equal(h.entries[0].host, host);
  assert_int_equal(h.entries[0].port, 443);

  memset(host, 'h', URL_MAX_HOST + 1);
  host[URL_MAX_HOST + 1] = '\0';
  snprintf(buf, sizeof buf, "h3=\"%s:443\"", host);
  assert_int_equal(altsvc_parse_header(buf, strlen(buf), &h, &reason), CRONC_ERR_INVALID_RESPONSE);
  assert_string_equal(reason, "host too long");
  altsvc_header_free(&h);
}

static void many_entries_are_all_kept_in_order(void **state) {
  (void)state;
  strbuf sb = STRBUF_INIT;
  for (unsigned i = 1; i <= 1000; i++)
    strbuf_appendf(&sb, "%sh3=\"host%u.example:%u\"; ma=%u", i > 1 ? ", " : "", i, i, i * 10);
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason;
  assert_int_equal(altsvc_parse_header(sb.data, sb.len, &h, &reason), 0);
  assert_null(reason);
  assert_int_equal(h.count, 1000);
  assert_true(h.cap >= 1000);
  for (unsigned i = 0; i < 1000; i++) {
    char want[64];
    snprintf(want, sizeof want, "host%u.example", i + 1);
    assert_string_equal(h.entries[i].host, want);
    assert_int_equal(h.entries[i].port, i + 1);
    assert_int_equal(h.entries[i].max_age, (i + 1) * 10);
  }
  altsvc_header_free(&h);
  strbuf_free(&sb);
}

/* ---- the header object ---------------------------------------------------- */

static void header_is_reused_without_reallocation(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  assert_null(h.entries);
  const char *reason;
  const char *big =
      "a=\":1\",b=\":2\",c=\":3\",d=\":4\",e=\":5\",f=\":6\",g=\":7\",h=\":8\",i=\":9\"";
  assert_int_equal(altsvc_parse_header(big, strlen(big), &h, &reason), 0);
  assert_int_equal(h.count, 9);
  altsvc_entry *entries = h.entries;
  size_t cap = h.cap;
  for (int round = 0; round < 100; round++) {
    const char *v = round % 3 == 0 ? "h3=\":443\"; ma=60" : round % 3 == 1 ? "clear" : "h3=\":443";
    int rv = altsvc_parse_header(v, strlen(v), &h, &reason);
    if (round % 3 == 0) {
      assert_int_equal(rv, 0);
      assert_int_equal(h.count, 1);
      assert_int_equal(h.entries[0].max_age, 60);
    } else if (round % 3 == 1) {
      assert_int_equal(rv, 0);
      assert_true(h.clear);
      assert_int_equal(h.count, 0);
    } else {
      assert_int_equal(rv, CRONC_ERR_INVALID_RESPONSE);
    }
    assert_ptr_equal(h.entries, entries);
    assert_int_equal(h.cap, cap);
  }
  /* A value with the same number of entries as before still fits. */
  assert_int_equal(altsvc_parse_header(big, strlen(big), &h, &reason), 0);
  assert_ptr_equal(h.entries, entries);
  assert_string_equal(h.entries[8].protocol_id, "i");
  altsvc_header_free(&h);
  assert_null(h.entries);
  assert_int_equal(h.cap, 0);
  assert_int_equal(h.count, 0);
}

static void error_leaves_header_empty_after_success(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason;
  assert_int_equal(altsvc_parse_header("h3=\":443\", h2=\":443\"", 20, &h, &reason), 0);
  assert_int_equal(h.count, 2);
  /* The first entry is good, the second is not: nothing is kept. */
  const char *v = "h3=\":443\", h2=\":99999\"";
  assert_int_equal(altsvc_parse_header(v, strlen(v), &h, &reason), CRONC_ERR_INVALID_RESPONSE);
  assert_int_equal(h.count, 0);
  assert_false(h.clear);
  altsvc_header_free(&h);
}

static void error_leaves_header_not_clear_after_clear(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason;
  assert_int_equal(altsvc_parse_header("clear", 5, &h, &reason), 0);
  assert_true(h.clear);
  assert_int_equal(altsvc_parse_header("clear,", 6, &h, &reason), CRONC_ERR_INVALID_RESPONSE);
  assert_false(h.clear);
  assert_int_equal(h.count, 0);
  altsvc_header_free(&h);
}

static void success_clears_reason_and_clear_flag(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason = "stale";
  assert_int_equal(altsvc_parse_header("clear", 5, &h, &reason), 0);
  assert_null(reason);
  reason = "stale";
  assert_int_equal(altsvc_parse_header("h3=\":443\"", 9, &h, &reason), 0);
  assert_null(reason);
  assert_false(h.clear);
  assert_int_equal(h.count, 1);
  altsvc_header_free(&h);
}

static void reason_pointer_may_be_null(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  assert_int_equal(altsvc_parse_header("h3=\":0\"", 7, &h, NULL), CRONC_ERR_INVALID_RESPONSE);
  assert_int_equal(altsvc_parse_header("h3=\":1\"", 7, &h, NULL), 0);
  altsvc_header_free(&h);
}

static void value_is_bounded_by_len_not_nul(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason;
  /* The bytes after len are junk that would fail the parse. */
  const char buf[] = "h3=\":443\"; ma=60GARBAGE\"";
  assert_int_equal(altsvc_parse_header(buf, 16, &h, &reason), 0);
  assert_int_equal(h.entries[0].max_age, 60);
  /* Cut inside the quoted authority: unterminated. */
  assert_int_equal(altsvc_parse_header(buf, 8, &h, &reason), CRONC_ERR_INVALID_RESPONSE);
  assert_string_equal(reason, "unterminated quoted string");
  /* "clear" followed by more bytes beyond len. */
  assert_int_equal(altsvc_parse_header("clearly", 5, &h, &reason), 0);
  assert_true(h.clear);
  altsvc_header_free(&h);
}

static void embedded_nul_byte_rejected(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason;
  const char v1[] = "h3\0=\":443\"";
  assert_int_equal(altsvc_parse_header(v1, sizeof v1 - 1, &h, &reason), CRONC_ERR_INVALID_RESPONSE);
  assert_string_equal(reason, "expected '=' after protocol-id");
  const char v2[] = "h3=\"a\0b:443\"";
  assert_int_equal(altsvc_parse_header(v2, sizeof v2 - 1, &h, &reason), CRONC_ERR_INVALID_RESPONSE);
  assert_string_equal(reason, "invalid character in host");
  /* Inside an unknown parameter's quoted value any byte is fine. */
  const char v3[] = "h3=\":443\"; foo=\"a\0b\"";
  assert_int_equal(altsvc_parse_header(v3, sizeof v3 - 1, &h, &reason), 0);
  altsvc_header_free(&h);
}

static void null_value_is_empty(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason;
  assert_int_equal(altsvc_parse_header(NULL, 0, &h, &reason), CRONC_ERR_INVALID_RESPONSE);
  assert_string_equal(reason, "empty value");
  altsvc_header_free(&h);
}

static void entry_fields_are_set(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason;
  const char *v = "h3%2D29=\"[2001:db8::1]:8443\"; ma=100; persist=1, h2=\"alt.example:443\"";
  assert_int_equal(altsvc_parse_header(v, strlen(v), &h, &reason), 0);
  assert_false(h.clear);
  assert_int_equal(h.count, 2);
  assert_string_equal(h.entries[0].protocol_id, "h3-29");
  assert_string_equal(h.entries[0].host, "[2001:db8::1]");
  assert_int_equal(h.entries[0].port, 8443);
  assert_int_equal(h.entries[0].max_age, 100);
  assert_true(h.entries[0].persist);
  assert_string_equal(h.entries[1].protocol_id, "h2");
  assert_string_equal(h.entries[1].host, "alt.example");
  assert_int_equal(h.entries[1].port, 443);
  assert_int_equal(h.entries[1].max_age, ALTSVC_DEFAULT_MAX_AGE);
  assert_false(h.entries[1].persist);
  altsvc_header_free(&h);
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_of_simple_value_is_exact(void **state) {
  (void)state;
  const char *v = "h3=\":443\"";
  assert_string_equal(
      parse_to_json(v, strlen(v), NULL, NULL),
      "{\"clear\":false,\"services\":[{\"protocol\":\"h3\",\"host\":\"\",\"port\":443,"
      "\"max_age\":86400,\"persist\":false}]}");
}

static void json_of_clear_is_exact(void **state) {
  (void)state;
  assert_string_equal(parse_to_json("clear", 5, NULL, NULL), "{\"clear\":true,\"services\":[]}");
}

static void json_of_two_entries_is_exact(void **state) {
  (void)state;
  const char *v = "h2=\"alt.example.com:8000\"; persist=1, h3=\"[::1]:443\"; ma=0";
  assert_string_equal(
      parse_to_json(v, strlen(v), NULL, NULL),
      "{\"clear\":false,\"services\":[{\"protocol\":\"h2\",\"host\":\"alt.example.com\","
      "\"port\":8000,\"max_age\":86400,\"persist\":true},{\"protocol\":\"h3\",\"host\":\"[::1]\","
      "\"port\":443,\"max_age\":0,\"persist\":false}]}");
}

static void json_escapes_odd_bytes_in_protocol_id(void **state) {
  (void)state;
  /* %01 control, %22 quote, %5C backslash, %7F DEL, %C3%A9 UTF-8 'é'. */
  const char *v = "a%01%22%5C%7F%C3%A9=\":443\"";
  assert_string_equal(
      parse_to_json(v, strlen(v), NULL, NULL),
      "{\"clear\":false,\"services\":[{\"protocol\":\"a\\u0001\\\"\\\\\\u007f\\u00c3"
      "\\u00a9\",\"host\":\"\",\"port\":443,\"max_age\":86400,\"persist\":false}]}");
}

static void json_escapes_odd_bytes_in_host(void **state) {
  (void)state;
  const char *v = "h3=\"a\\\\b\xff:443\"";
  assert_string_equal(
      parse_to_json(v, strlen(v), NULL, NULL),
      "{\"clear\":false,\"services\":[{\"protocol\":\"h3\",\"host\":\"a\\\\b\\u00ff\","
      "\"port\":443,\"max_age\":86400,\"persist\":false}]}");
}

static void json_of_max_values_is_exact(void **state) {
  (void)state;
  const char *v = "h3=\":65535\"; ma=4294967296";
  assert_string_equal(parse_to_json(v, strlen(v), NULL, NULL),
                      "{\"clear\":false,\"services\":[{\"protocol\":\"h3\",\"host\":\"\","
                      "\"port\":65535,\"max_age\":4294967295,\"persist\":false}]}");
}

static void json_of_error_is_exact(void **state) {
  (void)state;
  assert_string_equal(parse_to_json("h3=\":0\"", 7, NULL, NULL),
                      "{\"error\":\"port out of range\"}");
  strbuf sb = STRBUF_INIT;
  altsvc_error_to_json("'clear' \"x\"", &sb);
  assert_string_equal(strbuf_cstr(&sb), "{\"error\":\"'clear' \\\"x\\\"\"}");
  strbuf_reset(&sb);
  altsvc_error_to_json(NULL, &sb);
  assert_string_equal(strbuf_cstr(&sb), "{\"error\":\"\"}");
  strbuf_free(&sb);
}

static void json_appends_to_buffer(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  assert_int_equal(altsvc_parse_header("clear", 5, &h, NULL), 0);
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "x=");
  altsvc_header_to_json(&h, &sb);
  assert_string_equal(strbuf_cstr(&sb), "x={\"clear\":true,\"services\":[]}");
  strbuf_free(&sb);
  altsvc_header_free(&h);
}

static void json_of_empty_header_is_empty_list(void **state) {
  (void)state;
  altsvc_header h;
  altsvc_header_init(&h);
  strbuf sb = STRBUF_INIT;
  altsvc_header_to_json(&h, &sb);
  assert_string_equal(strbuf_cstr(&sb), "{\"clear\":false,\"services\":[]}");
  strbuf_free(&sb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc7838_examples_parse),
      cmocka_unit_test(accepted_values_parse),
      cmocka_unit_test(malformed_values_rejected_with_reason),
      cmocka_unit_test(protocol_id_of_63_bytes_accepted_64_rejected),
      cmocka_unit_test(host_of_255_bytes_accepted_256_rejected),
      cmocka_unit_test(many_entries_are_all_kept_in_order),
      cmocka_unit_test(header_is_reused_without_reallocation),
      cmocka_unit_test(error_leaves_header_empty_after_success),
      cmocka_unit_test(error_leaves_header_not_clear_after_clear),
      cmocka_unit_test(success_clears_reason_and_clear_flag),
      cmocka_unit_test(reason_pointer_may_be_null),
      cmocka_unit_test(value_is_bounded_by_len_not_nul),
      cmocka_unit_test(embedded_nul_byte_rejected),
      cmocka_unit_test(null_value_is_empty),
      cmocka_unit_test(entry_fields_are_set),
      cmocka_unit_test(json_of_simple_value_is_exact),
      cmocka_unit_test(json_of_clear_is_exact),
      cmocka_unit_test(json_of_two_entries_is_exact),
      cmocka_unit_test(json_escapes_odd_bytes_in_protocol_id),
      cmocka_unit_test(json_escapes_odd_bytes_in_host),
      cmocka_unit_test(json_of_max_values_is_exact),
      cmocka_unit_test(json_of_error_is_exact),
      cmocka_unit_test(json_appends_to_buffer),
      cmocka_unit_test(json_of_empty_header_is_empty_list),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
