/* tests/support/json_walk: a small JSON reader for tests that check JSON
 * cronc writes (NetLog files, `cronc --json`). It parses a whole document
 * into a tree of json_value nodes (objects keep member order) so a test can
 * walk it: look members up by name, index arrays, read numbers and
 * strings. Strings are unescaped (\uXXXX to UTF-8); numbers are kept as
 * doubles. Not for production: no streaming, no limits beyond a nesting
 * depth of 128. Pure functions; any thread. */
#ifndef CRONC_TESTS_SUPPORT_JSON_WALK_H
#define CRONC_TESTS_SUPPORT_JSON_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum json_kind {
  JSON_NULL,
  JSON_BOOL,
  JSON_NUMBER,
  JSON_STRING,
  JSON_ARRAY,
  JSON_OBJECT,
} json_kind;

typedef struct json_value json_value;
struct json_value {
  json_kind kind;
  bool boolean;
  double number;
  char *string;       /* JSON_STRING: NUL-terminated, unescaped */
  size_t n;           /* JSON_ARRAY / JSON_OBJECT: number of items */
  json_value **items; /* the items (values) */
  char **keys;        /* JSON_OBJECT: the member names, parallel to items */
};

/* Parses text[0..len) (one value, optional whitespace around it). NULL when
 * the text is not valid JSON or memory runs out. */
json_value *json_walk_parse(const char *text, size_t len);
/* Reads a whole file and parses it; NULL on error. */
json_value *json_walk_parse_file(const char *path);
void json_walk_free(json_value *v);

/* The member `key` of an object (the first one), or NULL (v NULL, not an
 * object, or missing). */
const json_value *json_get(const json_value *v, const char *key);
/* Item i of an array, or NULL. */
const json_value *json_at(const json_value *v, size_t i);
/* A dotted path of member names, e.g. "source_dependency.id". */
const json_value *json_path(const json_value *v, const char *dotted);
/* The string of a JSON_STRING, else NULL. */
const char *json_str(const json_value *v);
/* A number as int64: a JSON number, or a string of digits (the NetLog
 * writes times as strings). def when neither. */
int64_t json_int(const json_value *v, int64_t def);

#endif /* CRONC_TESTS_SUPPORT_JSON_WALK_H */
