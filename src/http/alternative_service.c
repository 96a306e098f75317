#include "http/alternative_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "http/props_snapshot.h"

const char *altsvc_protocol_name(altsvc_protocol p) {
  switch (p) {
  case ALTSVC_PROTO_HTTP2:
    return "h2";
  case ALTSVC_PROTO_QUIC:
    return "quic";
  default:
    return "unknown";
  }
}

altsvc_protocol altsvc_protocol_from_string(const char *s) {
  if (!s)
    return ALTSVC_PROTO_UNKNOWN;
  if (strcmp(s, "h2") == 0)
    return ALTSVC_PROTO_HTTP2;
  if (strcmp(s, "quic") == 0 || strcmp(s, "hq") == 0)
    return ALTSVC_PROTO_QUIC;
  return ALTSVC_PROTO_UNKNOWN;
}

bool altsvc_service_equal(const altsvc_service *a, const altsvc_service *b) {
  return a->protocol == b->protocol && a->port == b->port && strcmp(a->host, b->host) == 0;
}

bool altsvc_info_equal(const altsvc_info *a, const altsvc_info *b) {
  if (!altsvc_service_equal(&a->service, &b->service) || a->expiration_us != b->expiration_us ||
      a->n_alpns != b->n_alpns)
    return false;
  for (unsigned i = 0; i < a->n_alpns; i++)
    if (strcmp(a->alpns[i], b->alpns[i]) != 0)
      return false;
  return true;
}

int altsvc_service_to_string(const altsvc_service *s, char *buf, size_t size) {
  int n = snprintf(buf, size, "%s %s:%u", altsvc_protocol_name(s->protocol), s->host,
                   (unsigned)s->port);
  return (n < 0 || (size_t)n >= size) ? -1 : n;
}

void altsvc_info_append_json(strbuf *sb, const altsvc_info *info) {
  strbuf_append_str(sb, "{\"protocol_str\":");
  strbuf_json_cstr(sb, altsvc_protocol_name(info->service.protocol));
  strbuf_append_str(sb, ",\"host\":");
  strbuf_json_string(sb, info->service.host,
                     strnlen(info->service.host, sizeof info->service.host));
  strbuf_appendf(sb, ",\"port\":%u,\"expiration_us\":%lld,\"advertised_alpns\":[",
                 (unsigned)info->service.port, (long long)info->expiration_us);
  for (unsigned i = 0; i < info->n_alpns && i < ALTSVC_MAX_ALPNS; i++) {
    if (i)
      strbuf_append_char(sb, ',');
    strbuf_json_string(sb, info->alpns[i], strnlen(info->alpns[i], sizeof info->alpns[i]));
  }
  strbuf_append_str(sb, "]}");
}

void altsvc_info_list_init(altsvc_info_list *l) { *l = (altsvc_info_list){0}; }

void altsvc_info_list_free(altsvc_info_list *l) {
  free(l->items);
  altsvc_info_list_init(l);
}

void altsvc_info_list_clear(altsvc_info_list *l) { l->count = 0; }

int altsvc_info_list_push(altsvc_info_list *l, const altsvc_info *info) {
  if (l->count == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 4;
    altsvc_info *p = realloc(l->items, cap * sizeof *p);
    if (!p)
      return CRONC_ERR_OUT_OF_MEMORY;
    l->items = p;
    l->cap = cap;
  }
  l->items[l->count++] = *info;
  return CRONC_OK;
}

void props_snapshot_free(props_snapshot *s) {
  for (size_t i = 0; i < s->n_servers; i++)
    free(s->servers[i].alts);
  free(s->servers);
  free(s->broken);
  props_snapshot_init(s);
}
