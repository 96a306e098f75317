/* engine/api_params: the public engine parameters (cronc_engine_params,
 * Cronet's experimental options JSON inside them) turned into the internal
 * engine_params that engine_new() reads. Kept apart from cronc_engine_new()
 * so that tests check each field's mapping without starting an engine.
 *
 * Ownership: the engine_params filled here point into memory held by an
 * api_params_owned (copied QUIC hints and pins, the normalised QUIC host
 * allow-list, strings read from the JSON). Keep it until engine_new() has
 * returned (the engine copies what it keeps), then api_params_owned_free().
 *
 * Precedence, as Cronet's: experimental options are applied on top of the
 * fields, so a switch present in the JSON wins over the field (a bool field
 * cannot say "not set"), and QUIC.host_whitelist replaces the field's
 * allow-list. Exception kept from before: host_resolver_rules and
 * extra_ca_file given as fields win over the JSON.
 *
 * Threads: any; no shared state. Not installed. */
#ifndef CRONC_ENGINE_API_PARAMS_H
#define CRONC_ENGINE_API_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "cronc/cronc.h"
#include "engine/engine.h"

/* What api_json_options_parse() allocated. */
typedef struct api_json_owned {
  char *host_resolver_rules; /* HostResolverRules.host_resolver_rules, or NULL */
  char *extra_ca_file;       /* cronc.extra_ca_file, or NULL */
  /* QUIC.host_whitelist split (one block: free() releases the strings). */
  char **quic_host_allowlist;
  size_t n_quic_host_allowlist;
} api_json_owned;

/* Applies the keys cronc maps (cronc.h, experimental_options) to ep. When
 * the JSON has QUIC.host_whitelist, ep->quic_host_allowlist points into own
 * afterwards. A known key with a value of the wrong type is ignored, as
 * Cronet ignores it. Returns CRONC_OK, CRONC_ERR_INVALID_ARGUMENT (json is
 * not an object; nothing applied) or CRONC_ERR_OUT_OF_MEMORY (own is freed
 * and ep's allow-list restored). NULL or "" = {}. */
int api_json_options_parse(const char *json, engine_params *ep, api_json_owned *own);
void api_json_owned_free(api_json_owned *own);

/* Splits a comma-separated host list as Cronet splits host_whitelist
 * (base::SplitString with TRIM_WHITESPACE, SPLIT_WANT_ALL), lower-casing
 * each entry: "" gives no entry; "a.com, ,B.com" gives "a.com", "", "b.com"
 * (an empty entry matches no host, but makes the list non-empty, as in
 * Chromium). *out is one block (free() it); NULL when *n == 0. Returns
 * CRONC_OK or CRONC_ERR_OUT_OF_MEMORY. */
int api_host_list_split(const char *s, size_t len, char ***out, size_t *n);

/* Copies n hosts, trimmed and lower-cased, into one block (free() it).
 * CRONC_ERR_INVALID_ARGUMENT for a NULL array with n > 0 or a NULL entry;
 * CRONC_ERR_OUT_OF_MEMORY. */
int api_host_list_copy(const char *const *hosts, size_t n, char ***out);

/* What api_params_build() allocated. */
typedef struct api_params_owned {
  engine_quic_hint *hints;
  engine_pin *pins;
  char **quic_host_allowlist; /* the field's list, normalised (one block) */
  api_json_owned json;
} api_params_owned;

/* Fills ep from p (engine_params_init() first, so fields p lacks keep the
 * engine's defaults). Returns CRONC_OK, CRONC_ERR_INVALID_ARGUMENT (NULL p,
 * a struct_size too small, an invalid pin, a NULL allow-list entry, bad
 * experimental options) or CRONC_ERR_OUT_OF_MEMORY; on error own holds
 * nothing. Does not read accept_language and enable_brotli (the public
 * engine keeps those itself). */
int api_params_build(const cronc_engine_params *p, engine_params *ep, api_params_owned *own);
void api_params_owned_free(api_params_owned *own);

#endif /* CRONC_ENGINE_API_PARAMS_H */
