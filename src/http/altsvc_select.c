/* http/altsvc_select: Chromium's GetAlternativeServiceInfoInternal. See
 * altsvc_select.h for the rules. */
#include "http/altsvc_select.h"

#include <ctype.h>
#include <string.h>

#include "cronc/cronc.h"

static const char *const kDefaultQuicAlpns[] = {"h3"};

void altsvc_select_params_init(altsvc_select_params *params) {
  if (!params)
    return;
  *params = (altsvc_select_params){0};
  params->enable_quic = true;
  params->enable_http2_alternative_service = false;
  params->enable_user_alternate_protocol_ports = false;
  params->allow_remote_alt_svc = true;
  params->disable_bidirectional_streams = false;
}

void altsvc_select_request_init(altsvc_select_request *req, const url_origin *origin) {
  if (!req)
    return;
  *req = (altsvc_select_request){0};
  if (origin)
    req->origin = *origin;
  req->enable_alternative_services = true;
}

altsvc_usage_type altsvc_usage_classify(const url_origin *origin, const altsvc_info *chosen) {
  if (!origin || !chosen)
    return ALTSVC_USAGE_NO_ALTERNATIVE_SERVICE;
  const altsvc_service *s = &chosen->service;
  bool same = s->host[0] == '\0' || strcmp(s->host, origin->host) == 0;
  switch (s->protocol) {
  case ALTSVC_PROTO_QUIC:
    return same ? ALTSVC_USAGE_QUIC_SAME_DESTINATION : ALTSVC_USAGE_QUIC_DIFFERENT_DESTINATION;
  case ALTSVC_PROTO_HTTP2:
    return same ? ALTSVC_USAGE_NOT_QUIC_SAME_DESTINATION
                : ALTSVC_USAGE_NOT_QUIC_DIFFERENT_DESTINATION;
  default:
    return ALTSVC_USAGE_NO_ALTERNATIVE_SERVICE;
  }
}

const char *altsvc_usage_name(altsvc_usage_type t) {
  switch (t) {
  case ALTSVC_USAGE_NO_ALTERNATIVE_SERVICE:
    return "NO_ALTERNATIVE_SERVICE";
  case ALTSVC_USAGE_QUIC_SAME_DESTINATION:
    return "QUIC_SAME_DESTINATION";
  case ALTSVC_USAGE_QUIC_DIFFERENT_DESTINATION:
    return "QUIC_DIFFERENT_DESTINATION";
  case ALTSVC_USAGE_NOT_QUIC_SAME_DESTINATION:
    return "NOT_QUIC_SAME_DESTINATION";
  case ALTSVC_USAGE_NOT_QUIC_DIFFERENT_DESTINATION:
    return "NOT_QUIC_DIFFERENT_DESTINATION";
  default:
    return "UNKNOWN";
  }
}

/* Chromium's SelectQuicVersion on ALPNs: none advertised -> the first
 * supported; else the first advertised one that is supported (server order
 * wins). NULL when none is. */
static const char *select_quic_alpn(const altsvc_select_params *params, const altsvc_info *info) {
  const char *const *sup = params->supported_quic_alpns;
  size_t n_sup = params->n_supported_quic_alpns;
  if (!sup) {
    sup = kDefaultQuicAlpns;
    n_sup = 1;
  }
  if (n_sup == 0)
    return NULL;
  if (info->n_alpns == 0)
    return sup[0];
  for (unsigned i = 0; i < info->n_alpns && i < ALTSVC_MAX_ALPNS; i++)
    for (size_t j = 0; j < n_sup; j++)
      if (sup[j] && strcmp(info->alpns[i], sup[j]) == 0)
        return sup[j];
  return NULL;
}

static bool port_quic_disabled(const altsvc_select_params *params, uint16_t port) {
  for (size_t i = 0; i < params->n_quic_disabled_ports; i++)
    if (params->quic_disabled_ports && params->quic_disabled_ports[i] == port)
      return true;
  return false;
}

/* Chromium's IsQuicAllowedForHost: an empty allowlist allows every host;
 * otherwise the lower-cased host must be in it. */
static bool quic_allowed_for_host(const altsvc_select_params *params, const char *host) {
  if (params->n_quic_host_allowlist == 0 || !params->quic_host_allowlist)
    return true;
  char lower[URL_MAX_HOST + 1];
  size_t n = strnlen(host, URL_MAX_HOST);
  for (size_t i = 0; i < n; i++)
    lower[i] = (char)tolower((unsigned char)host[i]);
  lower[n] = '\0';
  for (size_t i = 0; i < params->n_quic_host_allowlist; i++)
    if (params->quic_host_allowlist[i] && strcmp(params->quic_host_allowlist[i], lower) == 0)
      return true;
  return false;
}

static void set_choice(altsvc_select_result *out, const altsvc_info *info, const char *alpn) {
  out->found = true;
  out->info = *info;
  out->quic_alpn[0] = '\0';
  if (alpn) {
    strncpy(out->quic_alpn, alpn, sizeof out->quic_alpn - 1);
    out->quic_alpn[sizeof out->quic_alpn - 1] = '\0';
  }
}

/* The walk over the origin's alternatives (list already substituted). */
static void choose(props *p, const altsvc_select_params *params, const altsvc_select_request *req,
                   const altsvc_info_list *l, altsvc_select_result *out) {
  bool quic_advertised = false, quic_all_broken = true;
  const url_origin *origin = &req->origin;
  for (size_t i = 0; i < l->count; i++) {
    const altsvc_info *info = &l->items[i];
    const altsvc_service *alt = &info->service;
    if (alt->protocol == ALTSVC_PROTO_QUIC)
      quic_advertised = true;
    if (props_is_alternative_service_broken(p, alt))
      continue;

    /* Users on shared hosts may control ports >= 1024 but not the
     * restricted ones, so no upgrade from a restricted port to theirs. */
    if (!params->enable_user_alternate_protocol_ports &&
        alt->port >= ALTSVC_SELECT_UNRESTRICTED_PORT &&
        origin->port < ALTSVC_SELECT_UNRESTRICTED_PORT)
      continue;

    if (alt->protocol == ALTSVC_PROTO_HTTP2) {
      if (!params->enable_http2_alternative_service)
        continue;
      if (strcmp(alt->host, origin->host) != 0 && params->disallow_remote_h2_alt_svc)
        continue;
      if (!out->found)
        set_choice(out, info, NULL);
      continue;
    }
    if (alt->protocol != ALTSVC_PROTO_QUIC)
      continue;

    quic_all_broken = false;
    if (!params->enable_quic)
      continue;
    if (req->is_bidirectional_stream && params->disable_bidirectional_streams)
      continue;
    if (port_quic_disabled(params, alt->port))
      continue;
    const char *alpn = select_quic_alpn(params, info);
    if (!alpn)
      continue;
    if (strcmp(alt->host, origin->host) != 0 && !params->allow_remote_alt_svc)
      continue;
    if (params->can_use_existing_quic_session &&
        params->can_use_existing_quic_session(params->quic_session_user_data, origin, alt)) {
      set_choice(out, info, alpn);
      out->uses_existing_quic_session = true;
      return; /* quic_broken stays false: a usable QUIC alternative exists */
    }
    if (!quic_allowed_for_host(params, alt->host))
      continue;
    if (!out->found)
      set_choice(out, info, alpn);
  }
  out->quic_broken = quic_advertised && quic_all_broken;
}

int altsvc_select(props *p, const altsvc_select_params *params, const altsvc_select_request *req,
                  altsvc_select_result *out) {
  if (!out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = (altsvc_select_result){0};
  out->usage = ALTSVC_USAGE_NO_ALTERNATIVE_SERVICE;
  if (!p || !params || !req)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (!req->enable_alternative_services)
    return CRONC_OK;
  url_origin origin = req->origin;
  url_origin_normalize(&origin);
  if (origin.scheme != URL_SCHEME_HTTPS)
    return CRONC_OK;

  altsvc_info_list l;
  altsvc_info_list_init(&l);
  int rv = props_get_alternative_service_infos(p, &origin, &l);
  if (rv == CRONC_OK) {
    altsvc_select_request r = *req;
    r.origin = origin;
    choose(p, params, &r, &l, out);
    if (out->found)
      out->usage = altsvc_usage_classify(&origin, &out->info);
  }
  altsvc_info_list_free(&l);
  if (rv != CRONC_OK) {
    *out = (altsvc_select_result){0};
    out->usage = ALTSVC_USAGE_NO_ALTERNATIVE_SERVICE;
  }
  return rv;
}
