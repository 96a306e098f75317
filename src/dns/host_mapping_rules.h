/* dns/host_mapping_rules: Chromium's --host-resolver-rules (HostMappingRules).
 *
 * A rules string is a comma-separated list of rules:
 *   MAP <pattern> <host>[:<port>]   rewrite a destination matching pattern
 *   EXCLUDE <pattern>               never rewrite a host matching pattern
 * Keywords are case-insensitive; patterns are lower-cased. A pattern is
 * matched with Chromium's base::MatchPattern ('*' any run of characters, '?'
 * zero or one character, '\' escapes the next character) first against the
 * host (IPv6 without brackets), then against "host:port" (IPv6 bracketed), so
 * "*.com:443" selects a port. The first matching MAP rule wins; if the host
 * also matches any EXCLUDE pattern (wherever it appears in the list, matched
 * on the host only) nothing is rewritten. A MAP target without port keeps the
 * original port. Invalid rules are dropped one by one and counted; the valid
 * ones stay (Chromium logs and skips them).
 *
 * The rules apply to a job's destination (where to connect), never to the
 * origin used for certificates, Host and server properties: the stream
 * factory calls dns_host_mapping_rules_rewrite() and hands the resolver the
 * mapped host. A rule whose target is not a valid host ("MAP x ^NOTFOUND")
 * gives DNS_MAPPING_INVALID, which the caller turns into
 * ERR_NAME_NOT_RESOLVED (Chromium's MappedHostResolver).
 *
 * A rules object is immutable after parsing, so it may be shared by threads;
 * every function here is pure (no I/O, no globals). */
#ifndef CRONC_DNS_HOST_MAPPING_RULES_H
#define CRONC_DNS_HOST_MAPPING_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dns_host_mapping_rules dns_host_mapping_rules;

typedef enum dns_mapping_result {
  DNS_MAPPING_NO_MATCH = 0, /* unchanged: no MAP rule matched, or excluded */
  DNS_MAPPING_REWRITTEN,    /* out_host / out_port hold the destination */
  DNS_MAPPING_INVALID,      /* matched, but the target is not a valid host */
} dns_mapping_result;

/* An empty rule set. Returns 0 or CRONC_ERR_OUT_OF_MEMORY /
 * CRONC_ERR_INVALID_ARGUMENT (out NULL); on error *out is NULL. */
int dns_host_mapping_rules_new(dns_host_mapping_rules **out);
void dns_host_mapping_rules_free(dns_host_mapping_rules *rules); /* NULL: no-op */

/* Chromium's AddRuleFromString: adds one rule (surrounding ASCII whitespace
 * ignored; words separated by exactly one space). Returns 0, or
 * CRONC_ERR_INVALID_ARGUMENT for a rule that does not parse (nothing added),
 * or CRONC_ERR_OUT_OF_MEMORY. */
int dns_host_mapping_rules_add(dns_host_mapping_rules *rules, const char *rule, size_t len);

/* Chromium's SetRulesFromString: clears the rules, then adds each
 * comma-separated rule, skipping invalid ones (an empty item counts as
 * invalid, as in Chromium). *rejected (may be NULL) receives the number of
 * rules skipped. Returns 0 or CRONC_ERR_OUT_OF_MEMORY. */
int dns_host_mapping_rules_set(dns_host_mapping_rules *rules, const char *s, size_t len,
                               size_t *rejected);

/* new + set in one call. On error *out is NULL. */
int dns_host_mapping_rules_parse(const char *s, size_t len, dns_host_mapping_rules **out,
                                 size_t *rejected);

size_t dns_host_mapping_rules_count(const dns_host_mapping_rules *rules); /* MAP + EXCLUDE */

/* Rewrites (host, port). host is a canonical host (url_canon_host form;
 * IPv6 bracketed or not). On DNS_MAPPING_REWRITTEN out_host (out_host_size
 * >= URL_MAX_HOST + 1) receives the canonical target host (IPv6 bracketed)
 * and *out_port the port; otherwise both are left untouched. NULL rules: no
 * match. */
dns_mapping_result dns_host_mapping_rules_rewrite(const dns_host_mapping_rules *rules,
                                                  const char *host, size_t host_len, uint16_t port,
                                                  char *out_host, size_t out_host_size,
                                                  uint16_t *out_port);

/* Chromium's base::MatchPattern on bytes (exposed for tests): '*' matches
 * any run, '?' zero or one character, '\' makes the next character literal.
 * Non-ASCII pattern bytes match nothing (hosts are ASCII). */
bool dns_match_pattern(const char *s, size_t slen, const char *pattern, size_t plen);

#endif /* CRONC_DNS_HOST_MAPPING_RULES_H */
