/* socket/tls_context: shared TLS state (see tls_context.h). */
#include "socket/tls_context.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cronc/cronc.h"

typedef struct tls_pin_entry {
  char *host;
  bool include_subdomains;
  uint8_t (*hashes)[TLS_SPKI_HASH_SIZE];
  size_t n;
  int64_t expiry_us;
} tls_pin_entry;

typedef struct tls_session_entry {
  char *host;
  uint16_t port;
  gnutls_datum_t data;
  uint64_t last_use;
} tls_session_entry;

struct tls_context {
  gnutls_certificate_credentials_t cred;
  gnutls_priority_t prio;
  tls_context_params params;
  /* SPKI hashes of the extra (local) anchors, for the pin bypass. */
  uint8_t (*local_anchors)[TLS_SPKI_HASH_SIZE];
  size_t n_local_anchors;
  tls_pin_entry *pins;
  size_t n_pins;
  tls_session_entry *sessions;
  size_t n_sessions;
  uint64_t use_counter;
  bool system_trust_loaded; /* loaded on first need (tls_context_verify_peers) */
};

void tls_context_params_init(tls_context_params *p) {
  if (!p)
    return;
  memset(p, 0, sizeof(*p));
  p->use_system_trust = true;
  p->pin_bypass_for_local_anchors = true;
  p->session_cache_size = TLS_DEFAULT_SESSION_CACHE_SIZE;
}

int tls_spki_sha256_from_der(const uint8_t *der, size_t len, uint8_t out[TLS_SPKI_HASH_SIZE]) {
  if (!der || !len || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  gnutls_x509_crt_t crt;
  gnutls_pubkey_t pub;
  if (gnutls_x509_crt_init(&crt) < 0)
    return CRONC_ERR_OUT_OF_MEMORY;
  int result = CRONC_ERR_INVALID_ARGUMENT;
  gnutls_datum_t in = {(unsigned char *)der, (unsigned)len};
  if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_DER) >= 0 && gnutls_pubkey_init(&pub) >= 0) {
    gnutls_datum_t spki = {NULL, 0};
    if (gnutls_pubkey_import_x509(pub, crt, 0) >= 0 &&
        gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki) >= 0) {
      if (gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, out) >= 0)
        result = CRONC_OK;
      gnutls_free(spki.data);
    }
    gnutls_pubkey_deinit(pub);
  }
  gnutls_x509_crt_deinit(crt);
  return result;
}

static int spki_of_crt(gnutls_x509_crt_t crt, uint8_t out[TLS_SPKI_HASH_SIZE]) {
  gnutls_datum_t der = {NULL, 0};
  if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
    return CRONC_ERR_INVALID_ARGUMENT;
  int rc = tls_spki_sha256_from_der(der.data, der.size, out);
  gnutls_free(der.data);
  return rc;
}

int tls_spki_sha256_from_pem(const char *pem, size_t len, uint8_t out[TLS_SPKI_HASH_SIZE]) {
  if (!pem || !len || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  gnutls_x509_crt_t crt;
  if (gnutls_x509_crt_init(&crt) < 0)
    return CRONC_ERR_OUT_OF_MEMORY;
  gnutls_datum_t in = {(unsigned char *)pem, (unsigned)len};
  int rc = CRONC_ERR_INVALID_ARGUMENT;
  if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM) >= 0)
    rc = spki_of_crt(crt, out);
  gnutls_x509_crt_deinit(crt);
  return rc;
}

/* Loads the SPKI hashes of every certificate of a PEM file. */
static int load_local_anchors(tls_context *ctx, const char *file) {
  gnutls_datum_t data = {NULL, 0};
  if (gnutls_load_file(file, &data) < 0)
    return CRONC_ERR_FILE_NOT_FOUND;
  gnutls_x509_crt_t *list = NULL;
  unsigned n = 0;
  int rc = gnutls_x509_crt_list_import2(&list, &n, &data, GNUTLS_X509_FMT_PEM, 0);
  gnutls_free(data.data);
  if (rc < 0 || n == 0)
    return CRONC_ERR_FILE_NOT_FOUND;
  ctx->local_anchors = calloc(n, sizeof(*ctx->local_anchors));
  int result = ctx->local_anchors ? CRONC_OK : CRONC_ERR_OUT_OF_MEMORY;
  for (unsigned i = 0; i < n; i++) {
    if (result == CRONC_OK && spki_of_crt(list[i], ctx->local_anchors[ctx->n_local_anchors]) == 0)
      ctx->n_local_anchors++;
    gnutls_x509_crt_deinit(list[i]);
  }
  gnutls_free(list);
  return result;
}

int tls_context_new(const tls_context_params *p, tls_context **out) {
  if (!out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  tls_context *ctx = calloc(1, sizeof(*ctx));
  if (!ctx)
    return CRONC_ERR_OUT_OF_MEMORY;
  if (p)
    ctx->params = *p;
  else
    tls_context_params_init(&ctx->params);
  if (!ctx->params.clock)
    ctx->params.clock = base_clock_system();
  ctx->params.extra_ca_file = NULL; /* not kept: the caller's string */
  int result = CRONC_OK;
  if (gnutls_certificate_allocate_credentials(&ctx->cred) < 0) {
    free(ctx);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  /* The system trust store is loaded on first need (tls_context_verify_peers). */
  if (p && p->extra_ca_file) {
    if (gnutls_certificate_set_x509_trust_file(ctx->cred, p->extra_ca_file, GNUTLS_X509_FMT_PEM) <=
        0)
      result = CRONC_ERR_FILE_NOT_FOUND;
    else
      result = load_local_anchors(ctx, p->extra_ca_file);
  }
  const char *prio = ctx->params.priority ? ctx->params.priority : TLS_DEFAULT_PRIORITY;
  ctx->params.priority = NULL;
  if (result == CRONC_OK && gnutls_priority_init(&ctx->prio, prio, NULL) < 0) {
    ctx->prio = NULL;
    result = CRONC_ERR_INVALID_ARGUMENT;
  }
  if (result != CRONC_OK) {
    tls_context_free(ctx);
    return result;
  }
  *out = ctx;
  return CRONC_OK;
}

int tls_context_verify_peers(tls_context *ctx, gnutls_session_t session, const char *host,
                             unsigned *status) {
  gnutls_typed_vdata_st data[2] = {
      {.type = GNUTLS_DT_DNS_HOSTNAME, .data = (unsigned char *)host, .size = 0},
      {.type = GNUTLS_DT_KEY_PURPOSE_OID,
       .data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER,
       .size = 0},
  };
  *status = 0;
  int rc = gnutls_certificate_verify_peers(session, data, 2, status);
  if (rc >= 0 && (*status & GNUTLS_CERT_SIGNER_NOT_FOUND) && ctx->params.use_system_trust &&
      !ctx->system_trust_loaded) {
    ctx->system_trust_loaded = true;
    /* < 0: no system store on this machine; the verdict stands. */
    if (gnutls_certificate_set_x509_system_trust(ctx->cred) > 0) {
      *status = 0;
      rc = gnutls_certificate_verify_peers(session, data, 2, status);
    }
  }
  return rc;
}

bool tls_context_system_trust_loaded(const tls_context *ctx) {
  return ctx && ctx->system_trust_loaded;
}

static void free_pin(tls_pin_entry *e) {
  free(e->host);
  free(e->hashes);
}

void tls_context_clear_pins(tls_context *ctx) {
  if (!ctx)
    return;
  for (size_t i = 0; i < ctx->n_pins; i++)
    free_pin(&ctx->pins[i]);
  free(ctx->pins);
  ctx->pins = NULL;
  ctx->n_pins = 0;
}

void tls_context_clear_sessions(tls_context *ctx) {
  if (!ctx)
    return;
  for (size_t i = 0; i < ctx->n_sessions; i++) {
    free(ctx->sessions[i].host);
    gnutls_free(ctx->sessions[i].data.data);
  }
  free(ctx->sessions);
  ctx->sessions = NULL;
  ctx->n_sessions = 0;
}

void tls_context_free(tls_context *ctx) {
  if (!ctx)
    return;
  tls_context_clear_pins(ctx);
  tls_context_clear_sessions(ctx);
  free(ctx->local_anchors);
  if (ctx->prio)
    gnutls_priority_deinit(ctx->prio);
  gnutls_certificate_free_credentials(ctx->cred);
  free(ctx);
}

gnutls_certificate_credentials_t tls_context_credentials(tls_context *ctx) { return ctx->cred; }
gnutls_priority_t tls_context_priority(tls_context *ctx) { return ctx->prio; }
netlog *tls_context_netlog(tls_context *ctx) { return ctx->params.netlog; }
const base_clock *tls_context_clock(tls_context *ctx) { return ctx->params.clock; }

/* ---- pins ----------------------------------------------------------------- */

int tls_context_add_pins(tls_context *ctx, const char *host, bool include_subdomains,
                         const uint8_t (*hashes)[TLS_SPKI_HASH_SIZE], size_t n, int64_t expiry_us) {
  if (!ctx || !host || !*host || !hashes || n == 0)
    return CRONC_ERR_INVALID_ARGUMENT;
  size_t hl = strlen(host);
  if (host[hl - 1] == '.')
    hl--; /* "example.com." pins example.com */
  if (hl == 0)
    return CRONC_ERR_INVALID_ARGUMENT;
  tls_pin_entry e = {0};
  e.host = strndup(host, hl);
  e.hashes = malloc(n * sizeof(*e.hashes));
  if (!e.host || !e.hashes) {
    free_pin(&e);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  memcpy(e.hashes, hashes, n * sizeof(*e.hashes));
  e.n = n;
  e.include_subdomains = include_subdomains;
  e.expiry_us = expiry_us;
  for (size_t i = 0; i < ctx->n_pins; i++) {
    if (strcasecmp(ctx->pins[i].host, e.host) == 0) {
      free_pin(&ctx->pins[i]);
      ctx->pins[i] = e;
      return CRONC_OK;
    }
  }
  tls_pin_entry *grown = realloc(ctx->pins, (ctx->n_pins + 1) * sizeof(*grown));
  if (!grown) {
    free_pin(&e);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  ctx->pins = grown;
  ctx->pins[ctx->n_pins++] = e;
  return CRONC_OK;
}

/* The pin entry that applies to host: exact match first, then the nearest
 * parent domain whose entry includes subdomains. */
static const tls_pin_entry *find_pins(const tls_context *ctx, const char *host) {
  size_t hl = strlen(host);
  if (hl && host[hl - 1] == '.')
    hl--;
  int64_t now = base_clock_now(ctx->params.clock);
  bool exact = true;
  const char *name = host;
  size_t nl = hl;
  while (nl > 0) {
    for (size_t i = 0; i < ctx->n_pins; i++) {
      const tls_pin_entry *e = &ctx->pins[i];
      if (strlen(e->host) != nl || strncasecmp(e->host, name, nl) != 0)
        continue;
      if (!exact && !e->include_subdomains)
        continue;
      if (e->expiry_us && e->expiry_us <= now)
        continue;
      return e;
    }
    const char *dot = memchr(name, '.', nl);
    if (!dot)
      break;
    nl -= (size_t)(dot + 1 - name);
    name = dot + 1;
    exact = false;
  }
  return NULL;
}

static bool hash_in(const uint8_t (*set)[TLS_SPKI_HASH_SIZE], size_t n,
                    const uint8_t h[TLS_SPKI_HASH_SIZE]) {
  for (size_t i = 0; i < n; i++)
    if (memcmp(set[i], h, TLS_SPKI_HASH_SIZE) == 0)
      return true;
  return false;
}

int tls_context_check_pins(tls_context *ctx, const char *host, gnutls_session_t session) {
  const tls_pin_entry *e = find_pins(ctx, host);
  if (!e)
    return CRONC_OK;
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
  if (!certs || n == 0)
    return CRONC_ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN;
  bool match = false;
  uint8_t h[TLS_SPKI_HASH_SIZE];
  for (unsigned i = 0; i < n && !match; i++)
    if (tls_spki_sha256_from_der(certs[i].data, certs[i].size, h) == 0 &&
        hash_in(e->hashes, e->n, h))
      match = true;
  /* The trust anchor completes the verified chain (servers rarely send it). */
  bool local_anchor = false;
  gnutls_x509_trust_list_t tl = NULL;
  gnutls_x509_crt_t last = NULL, issuer = NULL;
  if (gnutls_certificate_get_trust_list(ctx->cred, &tl), tl && gnutls_x509_crt_init(&last) >= 0) {
    if (gnutls_x509_crt_import(last, &certs[n - 1], GNUTLS_X509_FMT_DER) >= 0 &&
        gnutls_x509_trust_list_get_issuer(tl, last, &issuer, GNUTLS_TL_GET_COPY) >= 0 && issuer) {
      if (spki_of_crt(issuer, h) == 0) {
        match = match || hash_in(e->hashes, e->n, h);
        local_anchor = hash_in((const uint8_t(*)[TLS_SPKI_HASH_SIZE])ctx->local_anchors,
                               ctx->n_local_anchors, h);
      }
      gnutls_x509_crt_deinit(issuer);
    }
    gnutls_x509_crt_deinit(last);
  }
  if (match)
    return CRONC_OK;
  if (local_anchor && ctx->params.pin_bypass_for_local_anchors)
    return CRONC_OK;
  return CRONC_ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN;
}

/* ---- sessions --------------------------------------------------------------- */

static tls_session_entry *find_session(const tls_context *ctx, const char *host, uint16_t port) {
  for (size_t i = 0; i < ctx->n_sessions; i++)
    if (ctx->sessions[i].port == port && strcasecmp(ctx->sessions[i].host, host) == 0)
      return &ctx->sessions[i];
  return NULL;
}

static void remove_session(tls_context *ctx, tls_session_entry *e) {
  free(e->host);
  size_t i = (size_t)(e - ctx->sessions);
  ctx->sessions[i] = ctx->sessions[--ctx->n_sessions];
}

bool tls_context_session_take(tls_context *ctx, const char *host, uint16_t port,
                              gnutls_datum_t *out) {
  tls_session_entry *e = find_session(ctx, host, port);
  if (!e)
    return false;
  *out = e->data; /* ownership moves to the caller */
  remove_session(ctx, e);
  return true;
}

void tls_context_session_put(tls_context *ctx, const char *host, uint16_t port,
                             const gnutls_datum_t *data) {
  if (ctx->params.session_cache_size == 0 || !data || !data->size)
    return;
  gnutls_datum_t copy = {gnutls_malloc(data->size), data->size};
  if (!copy.data)
    return;
  memcpy(copy.data, data->data, data->size);
  tls_session_entry *e = find_session(ctx, host, port);
  if (e) {
    gnutls_free(e->data.data);
    e->data = copy;
    e->last_use = ++ctx->use_counter;
    return;
  }
  if (ctx->n_sessions >= ctx->params.session_cache_size) {
    tls_session_entry *oldest = &ctx->sessions[0];
    for (size_t i = 1; i < ctx->n_sessions; i++)
      if (ctx->sessions[i].last_use < oldest->last_use)
        oldest = &ctx->sessions[i];
    gnutls_free(oldest->data.data);
    remove_session(ctx, oldest);
  }
  if (ctx->n_sessions % 16 == 0) {
    tls_session_entry *grown = realloc(ctx->sessions, (ctx->n_sessions + 16) * sizeof(*grown));
    if (!grown) {
      gnutls_free(copy.data);
      return;
    }
    ctx->sessions = grown;
  }
  char *h = strdup(host);
  if (!h) {
    gnutls_free(copy.data);
    return;
  }
  ctx->sessions[ctx->n_sessions++] =
      (tls_session_entry){.host = h, .port = port, .data = copy, .last_use = ++ctx->use_counter};
}

size_t tls_context_session_count(const tls_context *ctx) { return ctx ? ctx->n_sessions : 0; }

/* ---- certificate status ------------------------------------------------------ */

int tls_map_cert_status(unsigned st) {
  if (st == 0)
    return CRONC_OK;
  bool authority = st & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA |
                         GNUTLS_CERT_SIGNATURE_FAILURE);
  bool name = st & GNUTLS_CERT_UNEXPECTED_OWNER;
  bool date = st & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED);
  bool revoked = st & GNUTLS_CERT_REVOKED;
  bool constraints = st & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
  bool weak = st & GNUTLS_CERT_INSECURE_ALGORITHM;
  /* GNUTLS_CERT_INVALID accompanies every failure; alone (or with flags we
   * do not map, e.g. a purpose mismatch) it means "invalid". */
  unsigned known = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA |
                   GNUTLS_CERT_SIGNATURE_FAILURE | GNUTLS_CERT_UNEXPECTED_OWNER |
                   GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED | GNUTLS_CERT_REVOKED |
                   GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE | GNUTLS_CERT_INSECURE_ALGORITHM;
  bool invalid =
      (st & ~known) != 0 || !(authority || name || date || revoked || constraints || weak);
  /* Chromium's MapCertStatusToNetError order (net/cert/cert_status_flags.cc). */
  if (invalid)
    return CRONC_ERR_CERT_INVALID;
  if (revoked)
    return CRONC_ERR_CERT_REVOKED;
  if (authority)
    return CRONC_ERR_CERT_AUTHORITY_INVALID;
  if (name)
    return CRONC_ERR_CERT_COMMON_NAME_INVALID;
  if (constraints)
    return CRONC_ERR_CERT_NAME_CONSTRAINT_VIOLATION;
  if (weak)
    return CRONC_ERR_CERT_WEAK_SIGNATURE_ALGORITHM;
  return CRONC_ERR_CERT_DATE_INVALID;
}
