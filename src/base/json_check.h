/* base/json_check: a strict, allocation-free JSON well-formedness check
 * (RFC 8259). It answers "is this text one JSON value?" without building
 * anything: the NetLog file writer uses it to keep its file valid whatever
 * params a caller hands in, and tests use it to check the JSON cronc writes.
 * Nesting deeper than BASE_JSON_MAX_DEPTH is rejected, so hostile input
 * cannot exhaust the stack. Pure function of its input; any thread. */
#ifndef CRONC_BASE_JSON_CHECK_H
#define CRONC_BASE_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#define BASE_JSON_MAX_DEPTH 64

/* True when s[0..len) is exactly one JSON value, optionally surrounded by
 * whitespace. Strings must be valid UTF-8 (no surrogates, no overlongs). */
bool base_json_is_valid(const char *s, size_t len);
/* The same, and the value is an object ("{...}"). */
bool base_json_is_object(const char *s, size_t len);

#endif /* CRONC_BASE_JSON_CHECK_H */
