/* http/quic_hints: Cronet's QUIC hint validation and storage. See
 * quic_hints.h. */
#include "http/quic_hints.h"

#include <ctype.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"

/* Chromium's IsCanonicalizedHostCompliant (net/base/url_util.cc). */
static bool host_compliant(const char *host) {
  size_t len = strlen(host);
  if (len == 0 || len > 254 || (len == 254 && host[len - 1] != '.'))
    return false;
  bool in_label = false, last_label_alnum = false;
  size_t label = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)host[i];
    if (!in_label) {
      last_label_alnum = isalnum(c) != 0;
      if (!last_label_alnum && c != '-' && c != '_')
        return false;
      in_label = true;
      label = 1;
    } else if (c == '.') {
      if (label > 63)
        return false;
      in_label = false;
    } else {
      if (!isalnum(c) && c != '-' && c != '_')
        return false;
      label++;
    }
  }
  return label <= 63 && last_label_alnum;
}

int props_quic_hint_validate(const char *host, int32_t port, int32_t alternate_port,
                             char *canon_host, size_t canon_size, const char **reason) {
  const char *why = NULL;
  char canon[URL_MAX_HOST + 1];
  url_host_kind kind = URL_HOST_NAME;
  if (!host || host[0] == '\0')
    why = "empty host";
  else if (strchr(host, '/'))
    why = "host contains '/'";
  else if (url_canon_host(host, strlen(host), canon, sizeof canon, &kind) != CRONC_OK ||
           (kind == URL_HOST_NAME && !host_compliant(canon)))
    why = "invalid host";
  else if (port <= 0 || port > 65535)
    why = "invalid port";
  else if (alternate_port <= 0 || alternate_port > 65535)
    why = "invalid alternate port";
  if (reason)
    *reason = why;
  if (why)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (canon_host) {
    if (canon_size <= strlen(canon))
      return CRONC_ERR_INVALID_ARGUMENT;
    strcpy(canon_host, canon);
  }
  return CRONC_OK;
}

static void log_hint(props *p, netlog_event_type type, const char *host, int32_t port,
                     int32_t alternate_port, const char *reason) {
  netlog *nl = props_netlog(p);
  if (!netlog_is_capturing(nl))
    return;
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"host\":");
  strbuf_json_cstr(&sb, host ? host : "");
  strbuf_appendf(&sb, ",\"port\":%ld,\"alternate_port\":%ld", (long)port, (long)alternate_port);
  if (reason) {
    strbuf_append_str(&sb, ",\"reason\":");
    strbuf_json_cstr(&sb, reason);
  }
  strbuf_append_char(&sb, '}');
  if (!strbuf_failed(&sb))
    netlog_add_event(nl, props_netlog_source(p), type, sb.data);
  strbuf_free(&sb);
}

int props_add_quic_hint(props *p, const char *host, int32_t port, int32_t alternate_port) {
  if (!p)
    return CRONC_ERR_INVALID_ARGUMENT;
  char canon[URL_MAX_HOST + 1];
  const char *reason = NULL;
  int rv = props_quic_hint_validate(host, port, alternate_port, canon, sizeof canon, &reason);
  if (rv != CRONC_OK) {
    log_hint(p, NETLOG_TYPE_CRONC_QUIC_HINT_INVALID, host, port, alternate_port, reason);
    return rv;
  }
  url_origin origin = {0};
  origin.scheme = URL_SCHEME_HTTPS;
  origin.port = (uint16_t)port;
  memcpy(origin.host, canon, strlen(canon) + 1);
  altsvc_service alt = {0};
  alt.protocol = ALTSVC_PROTO_QUIC;
  alt.port = (uint16_t)alternate_port;
  rv = props_set_quic_alternative_service(p, &origin, &alt, BASE_TIME_MAX, NULL, 0);
  if (rv < 0)
    return rv;
  log_hint(p, NETLOG_TYPE_CRONC_QUIC_HINT_ADDED, canon, port, alternate_port, NULL);
  return CRONC_OK;
}
