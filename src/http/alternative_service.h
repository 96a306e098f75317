/* http/alternative_service: the value types of alternative services, shared
 * by the Alt-Svc parser's consumers, server properties, the selection rules
 * and the store. Chromium: net/http/alternative_service.h.
 *
 * An alternative service is (protocol, host, port); an empty host means "the
 * origin's host" and is substituted before any brokenness lookup. An info
 * adds the expiration (wall clock, BASE_TIME_MAX = never) and, for QUIC, the
 * advertised ALPNs. Plain values with fixed storage: copy with '='. */
#ifndef CRONC_HTTP_ALTERNATIVE_SERVICE_H
#define CRONC_HTTP_ALTERNATIVE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "url/url.h"

typedef enum altsvc_protocol {
  ALTSVC_PROTO_UNKNOWN = 0,
  ALTSVC_PROTO_HTTP2, /* "h2" */
  ALTSVC_PROTO_QUIC,  /* "h3" (persisted as Chromium's "quic") */
} altsvc_protocol;

#define ALTSVC_MAX_ALPNS 4
#define ALTSVC_MAX_ALPN_LEN 15

typedef struct altsvc_service {
  altsvc_protocol protocol;
  uint16_t port;
  char host[URL_MAX_HOST + 1]; /* "" = the origin's host */
} altsvc_service;

typedef struct altsvc_info {
  altsvc_service service;
  int64_t expiration_us; /* wall clock, µs since the Unix epoch */
  uint8_t n_alpns;       /* advertised ALPNs (QUIC only), e.g. {"h3"} */
  char alpns[ALTSVC_MAX_ALPNS][ALTSVC_MAX_ALPN_LEN + 1];
} altsvc_info;

/* A growable list of infos (heap). */
typedef struct altsvc_info_list {
  altsvc_info *items;
  size_t count;
  size_t cap;
} altsvc_info_list;

/* The protocol's ALPN-ish name as Chromium writes it: "h2", "quic". */
const char *altsvc_protocol_name(altsvc_protocol p);
/* Chromium's NextProtoFromString for the persisted form: "h2" -> HTTP2,
 * "quic" or "hq" -> QUIC, anything else UNKNOWN. */
altsvc_protocol altsvc_protocol_from_string(const char *s);

bool altsvc_service_equal(const altsvc_service *a, const altsvc_service *b);
/* Two infos are equal when service, expiration and ALPNs are. */
bool altsvc_info_equal(const altsvc_info *a, const altsvc_info *b);
/* "quic bar.example:443" style text for logs. Returns bytes written or -1. */
int altsvc_service_to_string(const altsvc_service *s, char *buf, size_t size);

/* Appends the info as JSON in the field names of Chromium's persisted form:
 * {"protocol_str":"quic","host":"","port":443,"expiration_us":N,
 *  "advertised_alpns":["h3"]} (expiration in µs since the Unix epoch). Used
 * by `cronc props` output and the store's dump alike. */
struct strbuf;
void altsvc_info_append_json(struct strbuf *sb, const altsvc_info *info);

void altsvc_info_list_init(altsvc_info_list *l);
void altsvc_info_list_free(altsvc_info_list *l);
void altsvc_info_list_clear(altsvc_info_list *l);
/* Returns 0 or ERR_OUT_OF_MEMORY. */
int altsvc_info_list_push(altsvc_info_list *l, const altsvc_info *info);

#endif /* CRONC_HTTP_ALTERNATIVE_SERVICE_H */
