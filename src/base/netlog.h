/* base/netlog: Chromium's NetLog for cronc.
 *
 * An event has a source (type, id), an event type, a phase (begin, end or
 * none), a time (monotonic ticks from the engine's clock) and optional JSON
 * params. Observers see every event as it is added; the file writer is an
 * observer that streams a JSON file Chrome's netlog viewer loads:
 * {"constants": {...}, "events": [ ... ]}.
 *
 * Thread-safety: adding events and adding/removing observers may happen on
 * any thread (a mutex guards the observer list; observers are called with
 * it held, so an observer must not add events or (un)register observers).
 * Every function accepts a NULL netlog and then does nothing, so modules are
 * tested without one. */
#ifndef CRONC_BASE_NETLOG_H
#define CRONC_BASE_NETLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"

typedef enum netlog_source_type {
#define NETLOG_SOURCE_TYPE(name) NETLOG_SOURCE_##name,
#include "base/netlog_types.h"
#undef NETLOG_SOURCE_TYPE
  NETLOG_SOURCE_TYPE_COUNT
} netlog_source_type;

typedef enum netlog_event_type {
#define NETLOG_EVENT_TYPE(name) NETLOG_TYPE_##name,
#include "base/netlog_types.h"
#undef NETLOG_EVENT_TYPE
  NETLOG_EVENT_TYPE_COUNT
} netlog_event_type;

/* Chromium's values: PHASE_NONE 0, PHASE_BEGIN 1, PHASE_END 2. */
typedef enum netlog_phase {
  NETLOG_PHASE_NONE = 0,
  NETLOG_PHASE_BEGIN = 1,
  NETLOG_PHASE_END = 2,
} netlog_phase;

typedef struct netlog_source {
  netlog_source_type type;
  uint32_t id; /* 0 = no source */
} netlog_source;

typedef struct netlog_entry {
  netlog_event_type type;
  netlog_source source;
  netlog_phase phase;
  int64_t time_ticks_us; /* base_clock_ticks() of the netlog's clock */
  const char *params;    /* a JSON object, or NULL; valid during the call */
} netlog_entry;

typedef struct netlog netlog;
typedef struct netlog_observer netlog_observer;
typedef void (*netlog_observer_fn)(const netlog_entry *entry, void *user_data);

/* clock: NULL = base_clock_system(). Returns NULL on allocation failure. */
netlog *netlog_new(const base_clock *clock);
void netlog_free(netlog *nl);

/* A new source with a fresh id (ids start at 1). With NULL nl: id 0. */
netlog_source netlog_source_new(netlog *nl, netlog_source_type type);

/* True when at least one observer listens; check it before building params. */
bool netlog_is_capturing(const netlog *nl);

/* Adds an event. params: NULL or a complete JSON object such as
 * "{\"net_error\":-105}". */
void netlog_add(netlog *nl, netlog_source source, netlog_event_type type, netlog_phase phase,
                const char *params);
/* Shorthands for an event with no phase. */
void netlog_add_event(netlog *nl, netlog_source source, netlog_event_type type,
                      const char *params);
/* An event whose params are {"net_error": error}. */
void netlog_add_net_error(netlog *nl, netlog_source source, netlog_event_type type, int error);

/* Registers an observer; returns NULL on allocation failure. */
netlog_observer *netlog_add_observer(netlog *nl, netlog_observer_fn fn, void *user_data);
void netlog_remove_observer(netlog *nl, netlog_observer *obs);

const char *netlog_source_type_name(netlog_source_type t); /* e.g. "URL_REQUEST" */
const char *netlog_event_type_name(netlog_event_type t);   /* e.g. "CANCELLED" */

/* The file writer: streams events to `path` as Chrome's netlog viewer JSON.
 * netlog_file_writer_close() (or netlog_free()) finishes the file so it is
 * valid JSON. Returns 0 or a net error (ERR_FILE_NOT_FOUND, ERR_ACCESS_DENIED,
 * ERR_FAILED). */
typedef struct netlog_file_writer netlog_file_writer;
int netlog_file_writer_open(netlog *nl, const char *path, netlog_file_writer **out);
void netlog_file_writer_close(netlog_file_writer *w);

#endif /* CRONC_BASE_NETLOG_H */
