/* The HTTP/1.1 request writer: the head's exact bytes, Host with and without
 * port, caller fields in order, body framing, every validation error (and
 * that an error leaves the buffer as it was), and the chunk encoder, checked
 * against the response parser's chunked decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "http/h1_parser.h"
#include "http/h1_request.h"

#define FIELD(n, v)                                                                                \
  { (n), sizeof(n) - 1, (v), sizeof(v) - 1 }

static h1_request_head get_req(void) {
  h1_request_head r;
  memset(&r, 0, sizeof r);
  r.method = "GET";
  r.target = "/";
  r.scheme = URL_SCHEME_HTTPS;
  r.host = "example.com";
  r.port = 443;
  return r;
}

static void expect_head(const h1_request_head *r, const char *expect) {
  strbuf sb = STRBUF_INIT;
  assert_int_equal(h1_request_write_head(r, &sb), 0);
  assert_string_equal(strbuf_cstr(&sb), expect);
  strbuf_free(&sb);
}

static void expect_invalid(const h1_request_head *r) {
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "kept");
  assert_int_equal(h1_request_write_head(r, &sb), CRONC_ERR_INVALID_ARGUMENT);
  assert_string_equal(strbuf_cstr(&sb), "kept");
  assert_false(strbuf_failed(&sb));
  strbuf_free(&sb);
}

static void test_get_request_head(void **state) {
  (void)state;
  h1_request_head r = get_req();
  r.target = "/index.html?q=1";
  expect_head(&r, "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
}

static void test_host_gets_port_when_not_default(void **state) {
  (void)state;
  h1_request_head r = get_req();
  r.port = 8443;
  expect_head(&r, "GET / HTTP/1.1\r\nHost: example.com:8443\r\n\r\n");
  r.scheme = URL_SCHEME_HTTP;
  r.port = 80;
  expect_head(&r, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  r.port = 443; /* https's default, but this is http */
  expect_head(&r, "GET / HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  r.port = 0; /* unset: no port */
  expect_head(&r, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
}

static void test_ipv6_host_keeps_brackets(void **state) {
  (void)state;
  h1_request_head r = get_req();
  r.host = "[2001:db8::1]";
  r.port = 8443;
  expect_head(&r, "GET / HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n");
}

static void test_caller_fields_written_in_order(void **state) {
  (void)state;
  h1_request_head r = get_req();
  const h1_field f[] = {FIELD("User-Agent", "cronc/0.1"), FIELD("Accept", "*/*"),
                        FIELD("X-Empty", ""), FIELD("accept", "text/html")};
  r.fields = f;
  r.field_count = 4;
  expect_head(&r, "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: cronc/0.1\r\n"
                  "Accept: */*\r\nX-Empty: \r\naccept: text/html\r\n\r\n");
}

static void test_caller_host_replaces_the_default(void **state) {
  (void)state;
  h1_request_head r = get_req();
  const h1_field f[] = {FIELD("Accept", "*/*"), FIELD("host", "other.example:1")};
  r.fields = f;
  r.field_count = 2;
  expect_head(&r, "GET / HTTP/1.1\r\nhost: other.example:1\r\nAccept: */*\r\n\r\n");
}

static void test_two_caller_hosts_rejected(void **state) {
  (void)state;
  h1_request_head r = get_req();
  const h1_field f[] = {FIELD("Host", "a"), FIELD("HOST", "b")};
  r.fields = f;
  r.field_count = 2;
  expect_invalid(&r);
}

static void test_content_length_body(void **state) {
  (void)state;
  h1_request_head r = get_req();
  r.method = "POST";
  r.target = "/upload";
  r.body = H1_REQUEST_BODY_LENGTH;
  r.content_length = 1234567890123ULL;
  const h1_field f[] = {FIELD("Content-Type", "application/json")};
  r.fields = f;
  r.field_count = 1;
  expect_head(&r, "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Type: "
                  "application/json\r\nContent-Length: 1234567890123\r\n\r\n");
  r.content_length = 0;
  r.fields = NULL;
  r.field_count = 0;
  expect_head(&r, "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n");
}

static void test_chunked_body_head(void **state) {
  (void)state;
  h1_request_head r = get_req();
  r.method = "PUT";
  r.body = H1_REQUEST_BODY_CHUNKED;
  expect_head(&r, "PUT / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n");
}

static void test_connect_authority_target(void **state) {
  (void)state;
  h1_request_head r = get_req();
  r.method = "CONNECT";
  r.target = "example.com:443";
  expect_head(&r, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n");
}

static void test_invalid_method_rejected(void **state) {
  (void)state;
  static const char *const bad[] = {"", "GE T", "GET\r\n", "G(ET", "\xc3\x89"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    h1_request_head r = get_req();
    r.method = bad[i];
    expect_invalid(&r);
  }
  h1_request_head r = get_req();
  r.method = NULL;
  expect_invalid(&r);
}

static void test_invalid_target_rejected(void **state) {
  (void)state;
  static const char *const bad[] = {"", "/a b", "/a\r\nX: y", "/\t", "/\x7f", "/\x01"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    h1_request_head r = get_req();
    r.target = bad[i];
    expect_invalid(&r);
  }
  h1_request_head r = get_req();
  r.target = "/caf\xc3\xa9"; /* obs-text passes (the URL layer percent-encodes anyway) */
  expect_head(&r, "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: example.com\r\n\r\n");
}

static void test_invalid_host_rejected(void **state) {
  (void)state;
  static const char *const bad[] = {"", "a b", "a\r\nX: y", "a/b", "user@a", "a?b", "a#b"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    h1_request_head r = get_req();
    r.host = bad[i];
    expect_invalid(&r);
  }
  h1_request_head r = get_req();
  r.host = NULL;
  expect_invalid(&r);
}

static void test_invalid_field_names_rejected(void **state) {
  (void)state;
  static const char *const bad[] = {"", "Bad Name", "A:B", "A\r\nB", "\xc3\xa9", "A(", "A\"B"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    h1_request_head r = get_req();
    h1_field f = {bad[i], strlen(bad[i]), "v", 1};
    r.fields = &f;
    r.field_count = 1;
    expect_invalid(&r);
  }
  h1_request_head r = get_req();
  r.field_count = 1; /* fields NULL */
  expect_invalid(&r);
}

static void test_invalid_field_values_rejected(void **state) {
  (void)state;
  static const char nul[] = "a\0b";
  const h1_field bad[] = {
      FIELD("A", "x\r\nInjected: 1"), FIELD("A", "x\ny"), FIELD("A", "x\r"), {"A", 1, nul, 3}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    h1_request_head r = get_req();
    r.fields = &bad[i];
    r.field_count = 1;
    expect_invalid(&r);
  }
  assert_true(h1_request_valid_field_value("tab\there \x01\xff", 11));
  assert_true(h1_request_valid_field_value(NULL, 0));
  assert_false(h1_request_valid_field_value(NULL, 1));
  assert_true(h1_request_valid_field_name("X-Custom_!#$%&'*+.^`|~9", 23));
}

static void test_caller_framing_fields_rejected(void **state) {
  (void)state;
  const h1_field bad[] = {FIELD("Content-Length", "5"), FIELD("transfer-ENCODING", "chunked")};
  for (size_t i = 0; i < 2; i++) {
    h1_request_head r = get_req();
    r.body = H1_REQUEST_BODY_LENGTH;
    r.content_length = 5;
    r.fields = &bad[i];
    r.field_count = 1;
    expect_invalid(&r);
  }
  h1_request_head r = get_req();
  r.body = (h1_request_body)7;
  expect_invalid(&r);
}

static void test_head_appends_to_existing_buffer(void **state) {
  (void)state;
  h1_request_head r = get_req();
  strbuf sb = STRBUF_INIT;
  assert_int_equal(h1_request_write_head(&r, &sb), 0);
  size_t one = sb.len;
  assert_int_equal(h1_request_write_head(&r, &sb), 0); /* pipelining two requests */
  assert_int_equal(sb.len, 2 * one);
  assert_memory_equal(sb.data, sb.data + one, one);
  assert_int_equal(h1_request_write_head(NULL, &sb), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(sb.len, 2 * one);
  strbuf_free(&sb);
}

static void test_chunk_header_is_upper_hex(void **state) {
  (void)state;
  uint8_t b[H1_CHUNK_HEADER_MAX];
  size_t n = h1_chunk_header(1, b);
  assert_int_equal(n, 3);
  assert_memory_equal(b, "1\r\n", 3);
  n = h1_chunk_header(0x3fab, b);
  assert_memory_equal(b, "3FAB\r\n", n);
  n = h1_chunk_header(16384, b);
  assert_memory_equal(b, "4000\r\n", n);
  n = h1_chunk_header(UINT64_MAX, b);
  assert_int_equal(n, H1_CHUNK_HEADER_MAX);
  assert_memory_equal(b, "FFFFFFFFFFFFFFFF\r\n", n);
  assert_int_equal(h1_chunk_header(0, b), 0);
}

static void test_chunk_frame_does_not_copy_payload(void **state) {
  (void)state;
  static const uint8_t payload[] = "hello world";
  uint8_t hdr[H1_CHUNK_HEADER_MAX];
  h1_iov iov[3];
  assert_int_equal(h1_chunk_frame(payload, 11, hdr, iov), 3);
  assert_ptr_equal(iov[0].base, hdr);
  assert_int_equal(iov[0].len, 3);
  assert_memory_equal(iov[0].base, "B\r\n", 3);
  assert_ptr_equal(iov[1].base, payload);
  assert_int_equal(iov[1].len, 11);
  assert_int_equal(iov[2].len, 2);
  assert_memory_equal(iov[2].base, "\r\n", 2);
  assert_int_equal(h1_chunk_frame(payload, 0, hdr, iov), 0);
  assert_int_equal(h1_chunk_frame(NULL, 3, hdr, iov), 0);
  h1_iov last = h1_chunk_last();
  assert_int_equal(last.len, 5);
  assert_memory_equal(last.base, "0\r\n\r\n", 5);
}

/* Encodes chunks of several sizes and decodes them with the response
 * parser: the payload comes back intact. */
static void test_chunk_encoder_round_trips_through_parser(void **state) {
  (void)state;
  strbuf wire = STRBUF_INIT;
  strbuf_append_str(&wire, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  static uint8_t payload[140000];
  for (size_t i = 0; i < sizeof payload; i++)
    payload[i] = (uint8_t)(i * 7 + 3);
  static const size_t sizes[] = {1, 15, 16, 255, 256, 4096, 65535, 60000}; /* sum < 140000 */
  size_t off = 0;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    uint8_t hdr[H1_CHUNK_HEADER_MAX];
    h1_iov iov[3];
    assert_int_equal(h1_chunk_frame(payload + off, sizes[i], hdr, iov), 3);
    for (int k = 0; k < 3; k++)
      strbuf_append(&wire, iov[k].base, iov[k].len);
    off += sizes[i];
  }
  h1_iov last = h1_chunk_last();
  strbuf_append(&wire, last.base, last.len);
  assert_false(strbuf_failed(&wire));

  h1_parser *p = h1_parser_new();
  strbuf body = STRBUF_INIT;
  size_t pos = 0;
  bool complete = false;
  while (!complete) {
    size_t n;
    h1_event ev;
    assert_int_equal(
        h1_parser_execute(p, (const uint8_t *)wire.data + pos, wire.len - pos, &n, &ev), 0);
    pos += n;
    if (ev.type == H1_EVENT_BODY)
      strbuf_append(&body, ev.data, ev.len);
    complete = ev.type == H1_EVENT_MESSAGE_COMPLETE;
    assert_true(complete || ev.type != H1_EVENT_NONE);
  }
  assert_int_equal(pos, wire.len);
  assert_int_equal(body.len, off);
  assert_memory_equal(body.data, payload, off);
  h1_parser_free(p);
  strbuf_free(&body);
  strbuf_free(&wire);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_request_head),
      cmocka_unit_test(test_host_gets_port_when_not_default),
      cmocka_unit_test(test_ipv6_host_keeps_brackets),
      cmocka_unit_test(test_caller_fields_written_in_order),
      cmocka_unit_test(test_caller_host_replaces_the_default),
      cmocka_unit_test(test_two_caller_hosts_rejected),
      cmocka_unit_test(test_content_length_body),
      cmocka_unit_test(test_chunked_body_head),
      cmocka_unit_test(test_connect_authority_target),
      cmocka_unit_test(test_invalid_method_rejected),
      cmocka_unit_test(test_invalid_target_rejected),
      cmocka_unit_test(test_invalid_host_rejected),
      cmocka_unit_test(test_invalid_field_names_rejected),
      cmocka_unit_test(test_invalid_field_values_rejected),
      cmocka_unit_test(test_caller_framing_fields_rejected),
      cmocka_unit_test(test_head_appends_to_existing_buffer),
      cmocka_unit_test(test_chunk_header_is_upper_hex),
      cmocka_unit_test(test_chunk_frame_does_not_copy_payload),
      cmocka_unit_test(test_chunk_encoder_round_trips_through_parser),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
