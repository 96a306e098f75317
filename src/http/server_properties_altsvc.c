/* http/server_properties_altsvc: the Alt-Svc header path of server
 * properties, Chromium's net::ProcessAlternativeServices and
 * HttpStreamFactory::ProcessAlternativeServices (CHROMIUM_ALTSVC.md §1.2,
 * §1.4, table B). See server_properties.h. */
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "http/server_properties.h"
#include "http/server_properties_internal.h"

/* ---- Alt-Svc header ------------------------------------------------------ */

int props_alt_svc_to_infos(const altsvc_header *h, int64_t now_us, bool enable_http2,
                           bool enable_quic, altsvc_info_list *out) {
  if (!h || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (h->clear)
    return CRONC_OK;
  size_t start = out->count;
  for (size_t i = 0; i < h->count && out->count - start < PROPS_MAX_ALTERNATIVES_PER_ORIGIN; i++) {
    const altsvc_entry *en = &h->entries[i];
    altsvc_info info = {0};
    if (strcmp(en->protocol_id, "h2") == 0) {
      if (!enable_http2)
        continue;
      info.service.protocol = ALTSVC_PROTO_HTTP2;
    } else if (strcmp(en->protocol_id, "h3") == 0) {
      /* The only QUIC version cronc speaks is RFC v1, whose ALPN is "h3";
       * legacy "quic"/"hq" and drafts ("h3-29") are skipped, as Chromium
       * does with its default supported_versions. */
      if (!enable_quic)
        continue;
      info.service.protocol = ALTSVC_PROTO_QUIC;
      strcpy(info.alpns[0], "h3");
      info.n_alpns = 1;
    } else {
      continue;
    }
    size_t hl = strnlen(en->host, sizeof en->host);
    if (hl >= sizeof info.service.host)
      continue;
    memcpy(info.service.host, en->host, hl);
    info.service.port = en->port;
    int64_t ma_us = (int64_t)en->max_age * BASE_US_PER_SEC; /* < 2^63: max_age < 2^32 */
    if (__builtin_add_overflow(now_us, ma_us, &info.expiration_us))
      info.expiration_us = BASE_TIME_MAX;
    int rv = altsvc_info_list_push(out, &info);
    if (rv != CRONC_OK)
      return rv;
  }
  return CRONC_OK;
}

static void log_header_invalid(props *p, const url_origin *key, const char *reason) {
  if (!netlog_is_capturing(p->nl))
    return;
  char o[URL_MAX_HOST + 32];
  if (url_origin_to_string(key, o, sizeof o) < 0)
    o[0] = '\0';
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"origin\":");
  strbuf_json_cstr(&sb, o);
  strbuf_append_str(&sb, ",\"reason\":");
  strbuf_json_cstr(&sb, reason ? reason : "");
  strbuf_append_char(&sb, '}');
  if (!strbuf_failed(&sb))
    netlog_add_event(p->nl, p->source, NETLOG_TYPE_CRONC_ALT_SVC_HEADER_INVALID, sb.data);
  strbuf_free(&sb);
}

static void log_alt_svc_set(props *p, const url_origin *key, const altsvc_info_list *l, int rv) {
  if (!netlog_is_capturing(p->nl))
    return;
  char o[URL_MAX_HOST + 32];
  if (url_origin_to_string(key, o, sizeof o) < 0)
    o[0] = '\0';
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"origin\":");
  strbuf_json_cstr(&sb, o);
  strbuf_append_str(&sb, ",\"alternative_services\":[");
  for (size_t i = 0; i < l->count; i++) {
    char s[URL_MAX_HOST + 32];
    if (altsvc_service_to_string(&l->items[i].service, s, sizeof s) < 0)
      s[0] = '\0';
    if (i)
      strbuf_append_char(&sb, ',');
    strbuf_json_cstr(&sb, s);
  }
  strbuf_appendf(&sb, "],\"changed\":%s}", rv > 0 ? "true" : "false");
  if (!strbuf_failed(&sb))
    netlog_add_event(p->nl, p->source, NETLOG_TYPE_CRONC_ALT_SVC_SET, sb.data);
  strbuf_free(&sb);
}

/* FNV-1a over the value and the two switches that filter it. */
static uint64_t header_hash(const char *value, size_t len, bool enable_http2, bool enable_quic) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (uint8_t)value[i]) * 1099511628211ULL;
  h = (h ^ (uint64_t)(enable_http2 | (enable_quic << 1))) * 1099511628211ULL;
  return h ^ len;
}

/* How long the same Alt-Svc value for an origin is taken as already
 * applied: its expirations move by less than this, far below the factor of
 * two that would make the change worth persisting. */
#define PROPS_SAME_HEADER_US (1 * BASE_US_PER_SEC)

int props_process_alt_svc_header(props *p, const url_origin *origin, const char *value, size_t len,
                                 bool enable_http2, bool enable_quic) {
  url_origin key;
  if (!p || !props_key(origin, &key) || (!value && len))
    return CRONC_ERR_INVALID_ARGUMENT;
  if (key.scheme != URL_SCHEME_HTTPS)
    return 0; /* Alt-Svc is only honoured for secure origins. */
  uint64_t hh = header_hash(value ? value : "", len, enable_http2, enable_quic);
  int64_t now = base_clock_now(p->clock);
  props_entry *seen = props_entry_peek(p, &key);
  if (seen && seen->last_hdr_us && seen->last_hdr_hash == hh && now >= seen->last_hdr_us &&
      now - seen->last_hdr_us < PROPS_SAME_HEADER_US)
    return 0;
  /* Parse into props' scratch header and list: reused across responses. */
  altsvc_header *h = &p->scratch_header;
  const char *reason = NULL;
  int rv = altsvc_parse_header(value ? value : "", len, h, &reason);
  if (rv != CRONC_OK) {
    props_enter(p);
    log_header_invalid(p, &key, reason);
    props_leave(p);
    return rv == CRONC_ERR_OUT_OF_MEMORY ? rv : CRONC_ERR_INVALID_RESPONSE;
  }
  altsvc_info_list *infos = &p->scratch_infos;
  altsvc_info_list_clear(infos);
  rv = props_alt_svc_to_infos(h, base_clock_now(p->clock), enable_http2, enable_quic, infos);
  if (rv == CRONC_OK) {
    props_enter(p);
    rv = props_set_locked(p, &key, infos->items, infos->count);
    if (rv > 0)
      p->dirty = true;
    log_alt_svc_set(p, &key, infos, rv);
    props_entry *e = rv >= 0 ? props_entry_peek(p, &key) : NULL;
    if (e) {
      e->last_hdr_hash = hh;
      e->last_hdr_us = now;
    }
    props_leave(p);
  }
  return rv;
}
