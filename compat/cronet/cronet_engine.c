/* Cronet_Engine on a cronc engine: StartWithParams validates the
 * parameters as Cronet does (result codes in the order Cronet checks them)
 * and starts a cronc engine; Shutdown refuses the network thread; NetLog
 * files and request-finished listeners. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cronet_internal.h"

/* MAJOR.MINOR.BUILD.PATCH, as Cronet's version strings are. */
#define CRONET_VERSION CRONC_VERSION_STRING ".0"

cronet_engine *cronet_engine_of(Cronet_EnginePtr e) { return e ? e->impl : NULL; }

static void engine_destroy(Cronet_EnginePtr self) {
  cronet_engine *e = self->impl;
  if (!e)
    return;
  cronet_impl_Engine_Shutdown(self);
  cronc_engine_free(e->ce); /* requests still alive keep what they need */
  free(e->listeners);
  pthread_mutex_destroy(&e->mu);
  free(e);
  self->impl = NULL;
}

bool cronet_impl_Engine_init(Cronet_EnginePtr self) {
  cronet_engine *e = calloc(1, sizeof *e);
  if (!e)
    return false;
  pthread_mutex_init(&e->mu, NULL);
  e->check_result = true;
  self->impl = e;
  self->impl_destroy = engine_destroy;
  return true;
}

/* Cronet's IsValidHostnameForPkp: no characters that cannot be in a host. */
static bool valid_pkp_host(const char *h) {
  if (strlen(h) > 255)
    return false;
  for (const char *p = h; *p; p++)
    if (strchr(":\\/='\",", *p))
      return false;
  return true;
}

static int b64v(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* "sha256/<base64 of 32 bytes>" into out; false when it is not. */
static bool parse_pin(const char *s, uint8_t out[32]) {
  if (strncmp(s, "sha256/", 7) != 0)
    return false;
  s += 7;
  size_t len = strlen(s);
  if (len != 44 || s[43] != '=' || s[42] == '=')
    return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < 43; i++) {
    int v = b64v(s[i]);
    if (v < 0)
      return false;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o < 32)
        out[o++] = (uint8_t)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  return o == 32 && acc == 0; /* no stray bits in the last character */
}

static bool is_directory(const char *path) {
  struct stat st;
  return path && *path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

Cronet_RESULT cronet_impl_Engine_StartWithParams(Cronet_EnginePtr self,
                                                 Cronet_EngineParamsPtr params) {
  cronet_engine *e = self->impl;
  if (!params)
    return cronet_check(e, Cronet_RESULT_NULL_POINTER_PARAMS, "Cronet_Engine_StartWithParams");
  pthread_mutex_lock(&e->mu);
  e->check_result = params->enable_check_result;
  Cronet_RESULT rv = Cronet_RESULT_SUCCESS;
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  cronc_quic_hint *hints = NULL;
  cronc_public_key_pins *pins = NULL;
  uint8_t(*hashes)[32] = NULL;
  char **hosts = NULL;
  size_t n_hashes = 0;
  if (e->started) {
    rv = Cronet_RESULT_ILLEGAL_STATE_ENGINE_ALREADY_STARTED;
    goto out;
  }
  switch (params->http_cache_mode) {
  case Cronet_EngineParams_HTTP_CACHE_MODE_IN_MEMORY:
    p.http_cache_mode = CRONC_HTTP_CACHE_IN_MEMORY;
    break;
  case Cronet_EngineParams_HTTP_CACHE_MODE_DISK:
    if (!is_directory(params->storage_path)) {
      rv = Cronet_RESULT_ILLEGAL_ARGUMENT_STORAGE_PATH_MUST_EXIST;
      goto out;
    }
    p.http_cache_mode = CRONC_HTTP_CACHE_DISK;
    break;
  default: /* DISK_NO_HTTP too: Cronet's switch has no case for it */
    p.http_cache_mode = CRONC_HTTP_CACHE_DISABLED;
    break;
  }
  p.http_cache_max_bytes = params->http_cache_max_size;
  if (params->proxy_rules && *params->proxy_rules) {
    fprintf(stderr, "cronet: proxy rules \"%s\" are not supported by cronc yet\n",
            params->proxy_rules);
    rv = Cronet_RESULT_ILLEGAL_ARGUMENT;
    goto out;
  }
  /* Pins, in Cronet's order of checks. */
  size_t total = 0;
  for (uint32_t i = 0; i < params->n_public_key_pins; i++)
    total += params->public_key_pins[i].n_pins_sha256;
  pins = params->n_public_key_pins ? calloc(params->n_public_key_pins, sizeof *pins) : NULL;
  hashes = total ? calloc(total, sizeof *hashes) : NULL;
  hosts = params->n_public_key_pins ? calloc(params->n_public_key_pins, sizeof *hosts) : NULL;
  if ((params->n_public_key_pins && (!pins || !hosts)) || (total && !hashes)) {
    rv = Cronet_RESULT_ILLEGAL_STATE;
    goto out;
  }
  for (uint32_t i = 0; i < params->n_public_key_pins; i++) {
    Cronet_PublicKeyPins *k = &params->public_key_pins[i];
    if (!k->host || !*k->host) {
      rv = Cronet_RESULT_NULL_POINTER_HOSTNAME;
      goto out;
    }
    if (!valid_pkp_host(k->host)) {
      rv = Cronet_RESULT_ILLEGAL_ARGUMENT_INVALID_HOSTNAME;
      goto out;
    }
    if (!k->n_pins_sha256) {
      rv = Cronet_RESULT_NULL_POINTER_SHA256_PINS;
      goto out;
    }
    pins[i].sha256 = (const uint8_t(*)[32])hashes[n_hashes];
    for (uint32_t j = 0; j < k->n_pins_sha256; j++) {
      if (!parse_pin(k->pins_sha256[j], hashes[n_hashes++])) {
        rv = Cronet_RESULT_ILLEGAL_ARGUMENT_INVALID_PIN;
        goto out;
      }
    }
    /* cronc wants the canonical (lower-case) form. */
    if (!(hosts[i] = strdup(k->host))) {
      rv = Cronet_RESULT_ILLEGAL_STATE;
      goto out;
    }
    for (char *c = hosts[i]; *c; c++)
      *c = (char)tolower((unsigned char)*c);
    pins[i].host = hosts[i];
    pins[i].n_sha256 = k->n_pins_sha256;
    pins[i].include_subdomains = k->include_subdomains;
    pins[i].expiration_ms = k->expiration_date > 0 ? k->expiration_date : 0;
  }
  p.public_key_pins = pins;
  p.n_public_key_pins = params->n_public_key_pins;
  /* QUIC hints are not validated here: invalid ones are skipped (and
   * logged) when the engine starts, as Cronet does. */
  hints = params->n_quic_hints ? calloc(params->n_quic_hints, sizeof *hints) : NULL;
  for (uint32_t i = 0; hints && i < params->n_quic_hints; i++)
    hints[i] = (cronc_quic_hint){params->quic_hints[i].host ? params->quic_hints[i].host : "",
                                 params->quic_hints[i].port, params->quic_hints[i].alternate_port};
  p.quic_hints = hints;
  p.n_quic_hints = hints ? params->n_quic_hints : 0;
  p.user_agent = params->user_agent ? params->user_agent : "";
  p.accept_language = params->accept_language;
  p.storage_path = params->storage_path && *params->storage_path ? params->storage_path : NULL;
  p.enable_quic = params->enable_quic;
  p.enable_http2 = params->enable_http2;
  p.enable_brotli = params->enable_brotli;
  p.pin_bypass_for_local_trust_anchors =
      params->enable_public_key_pinning_bypass_for_local_trust_anchors;
  /* Cronet (release builds) logs experimental options that are not a JSON
   * object and goes on without them. */
  if (cronc_experimental_options_check(params->experimental_options) == CRONC_OK)
    p.experimental_options = params->experimental_options;
  else
    fprintf(stderr, "cronet: experimental options are not a JSON object; ignored\n");
  int crv = cronc_engine_new(&p, &e->ce);
  if (crv == CRONC_ERR_ACCESS_DENIED)
    rv = Cronet_RESULT_ILLEGAL_STATE_STORAGE_PATH_IN_USE;
  else if (crv == CRONC_ERR_INVALID_ARGUMENT)
    rv = Cronet_RESULT_ILLEGAL_ARGUMENT;
  else if (crv != CRONC_OK)
    rv = Cronet_RESULT_ILLEGAL_STATE;
  else
    e->started = true;
out:
  pthread_mutex_unlock(&e->mu);
  free(hints);
  free(pins);
  free(hashes);
  for (uint32_t i = 0; hosts && i < params->n_public_key_pins; i++)
    free(hosts[i]);
  free(hosts);
  return cronet_check(e, rv, "Cronet_Engine_StartWithParams");
}

bool cronet_impl_Engine_StartNetLogToFile(Cronet_EnginePtr self, Cronet_String file_name,
                                          bool log_all) {
  cronet_engine *e = self->impl;
  pthread_mutex_lock(&e->mu);
  bool ok = false;
  if (e->started && !e->shut_down && !e->netlog_on && file_name)
    ok = e->netlog_on = cronc_engine_start_netlog(e->ce, file_name) == CRONC_OK;
  pthread_mutex_unlock(&e->mu);
  return ok;
}

void cronet_impl_Engine_StopNetLog(Cronet_EnginePtr self) {
  cronet_engine *e = self->impl;
  pthread_mutex_lock(&e->mu);
  if (e->netlog_on && e->ce)
    cronc_engine_stop_netlog(e->ce);
  e->netlog_on = false;
  pthread_mutex_unlock(&e->mu);
}

Cronet_RESULT cronet_impl_Engine_Shutdown(Cronet_EnginePtr self) {
  cronet_engine *e = self->impl;
  pthread_mutex_lock(&e->mu);
  bool running = e->started && !e->shut_down;
  cronc_engine *ce = e->ce;
  pthread_mutex_unlock(&e->mu);
  if (!running)
    return Cronet_RESULT_SUCCESS;
  cronet_impl_Engine_StopNetLog(self);
  if (cronc_engine_on_network_thread(ce))
    return cronet_check(e, Cronet_RESULT_ILLEGAL_STATE_CANNOT_SHUTDOWN_ENGINE_FROM_NETWORK_THREAD,
                        "Cronet_Engine_Shutdown");
  /* Running requests are cancelled first (each gets OnCanceled). Not
   * under the mutex: their last callbacks may call back into the engine. */
  if (cronc_engine_shutdown(ce) != CRONC_OK)
    return cronet_check(e, Cronet_RESULT_ILLEGAL_STATE, "Cronet_Engine_Shutdown");
  pthread_mutex_lock(&e->mu);
  e->shut_down = true;
  pthread_mutex_unlock(&e->mu);
  return Cronet_RESULT_SUCCESS;
}

Cronet_String cronet_impl_Engine_GetVersionString(Cronet_EnginePtr self) { return CRONET_VERSION; }

Cronet_String cronet_impl_Engine_GetDefaultUserAgent(Cronet_EnginePtr self) {
  return "cronc/" CRONET_VERSION;
}

void cronet_impl_Engine_AddRequestFinishedListener(Cronet_EnginePtr self,
                                                   Cronet_RequestFinishedInfoListenerPtr listener,
                                                   Cronet_ExecutorPtr executor) {
  cronet_engine *e = self->impl;
  if (!listener || !executor) {
    fprintf(stderr, "cronet: AddRequestFinishedListener needs a listener and an executor\n");
    return;
  }
  pthread_mutex_lock(&e->mu);
  for (size_t i = 0; i < e->n_listeners; i++) {
    if (e->listeners[i].listener == listener) {
      pthread_mutex_unlock(&e->mu);
      fprintf(stderr, "cronet: request finished listener added twice\n");
      return;
    }
  }
  if (e->n_listeners == e->cap_listeners) {
    size_t cap = e->cap_listeners ? e->cap_listeners * 2 : 4;
    cronet_listener *l = realloc(e->listeners, cap * sizeof *l);
    if (!l) {
      pthread_mutex_unlock(&e->mu);
      return;
    }
    e->listeners = l;
    e->cap_listeners = cap;
  }
  e->listeners[e->n_listeners++] = (cronet_listener){listener, executor};
  pthread_mutex_unlock(&e->mu);
}

void cronet_impl_Engine_RemoveRequestFinishedListener(
    Cronet_EnginePtr self, Cronet_RequestFinishedInfoListenerPtr listener) {
  cronet_engine *e = self->impl;
  pthread_mutex_lock(&e->mu);
  for (size_t i = 0; i < e->n_listeners; i++) {
    if (e->listeners[i].listener == listener) {
      e->listeners[i] = e->listeners[--e->n_listeners];
      pthread_mutex_unlock(&e->mu);
      return;
    }
  }
  pthread_mutex_unlock(&e->mu);
  fprintf(stderr, "cronet: removing a request finished listener that was not added\n");
}

cronet_listener *cronet_engine_listeners(cronet_engine *e, size_t *n) {
  pthread_mutex_lock(&e->mu);
  cronet_listener *copy = e->n_listeners ? malloc(e->n_listeners * sizeof *copy) : NULL;
  *n = copy ? e->n_listeners : 0;
  if (copy)
    memcpy(copy, e->listeners, e->n_listeners * sizeof *copy);
  pthread_mutex_unlock(&e->mu);
  return copy;
}

CRONET_EXPORT void Cronet_Engine_SetMockCertVerifierForTesting(Cronet_EnginePtr engine,
                                                               void *raw_mock_cert_verifier) {
  (void)engine;
  (void)raw_mock_cert_verifier;
}

CRONET_EXPORT stream_engine *Cronet_Engine_GetStreamEngine(Cronet_EnginePtr engine) {
  (void)engine;
  return NULL;
}

CRONET_EXPORT void Cronet_EngineParams_proxy_rules_set(Cronet_EngineParamsPtr self,
                                                       const Cronet_String proxy_rules) {
  if (!self)
    return;
  char *c = strdup(proxy_rules ? proxy_rules : "");
  if (!c)
    return;
  free(self->proxy_rules);
  self->proxy_rules = c;
}

CRONET_EXPORT Cronet_String Cronet_EngineParams_proxy_rules_get(const Cronet_EngineParamsPtr self) {
  return self && self->proxy_rules ? self->proxy_rules : "";
}
