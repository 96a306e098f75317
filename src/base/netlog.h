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
 * it held, so an observer must not add events or (un)register observers:
 * such calls from inside a callback are detected and refused, an added event
 * is dropped, netlog_add_observer() returns NULL, removal does nothing).
 * Observers run in registration order on the thread that adds the event.
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

/* clock: NULL = base_clock_system(). Returns NULL on allocation failure.
 * The clock is read (under the netlog's lock) by whichever thread adds an
 * event, so a manual clock must only be used while one thread logs. */
netlog *netlog_new(const base_clock *clock);
/* Finishes and frees the file writers still open, drops the observers, frees
 * nl. No other thread may use nl during or after the call. */
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
void netlog_add_event(netlog *nl, netlog_source source, netlog_event_type type, const char *params);
/* An event whose params are {"net_error": error}. */
void netlog_add_net_error(netlog *nl, netlog_source source, netlog_event_type type, int error);
/* An event whose params name another source (Chromium's
 * source_dependency: {"source_dependency":{"id":N,"type":T}}), so the
 * viewer links the two. */
void netlog_add_source_dependency(netlog *nl, netlog_source source, netlog_event_type type,
                                  netlog_source dependency);
/* Ends a BEGIN event (Chromium's EndEventWithNetErrorCode): END with
 * {"net_error": error} when error < 0, without params otherwise. */
void netlog_end_net_error(netlog *nl, netlog_source source, netlog_event_type type, int error);

/* Registers an observer; returns NULL on allocation failure. */
netlog_observer *netlog_add_observer(netlog *nl, netlog_observer_fn fn, void *user_data);
void netlog_remove_observer(netlog *nl, netlog_observer *obs);

const char *netlog_source_type_name(netlog_source_type t); /* e.g. "URL_REQUEST" */
const char *netlog_event_type_name(netlog_event_type t);   /* e.g. "CANCELLED" */

/* The clock events are stamped with (never NULL for a non-NULL nl; NULL for
 * a NULL nl). */
const base_clock *netlog_clock(const netlog *nl);

/* The file writer: streams events to `path` as Chrome's netlog viewer JSON
 * (catapult netlog_viewer loads it):
 *   {"constants": {...},
 *   "events": [
 *   {"params":{...},"phase":1,"source":{"id":1,"start_time":"12","type":1},
 *    "time":"12","type":3},
 *   ...
 *   ]}
 * Times are milliseconds of the netlog clock's ticks, as strings (as Chromium
 * writes them); constants.timeTickOffset (wall ms minus ticks ms, read when
 * the file is opened) turns them into wall times. A source's start_time is the
 * time of the first event this writer saw for it.
 *
 * Events are buffered in memory and written in large chunks (from whichever
 * thread adds the event that fills the buffer, under the netlog's lock).
 * Params that are not a well-formed JSON object are replaced by
 * {"cronc_invalid_params": "<the text, escaped>"} so the file stays valid.
 *
 * open returns 0 or a net error: ERR_INVALID_ARGUMENT (NULL nl, path or out),
 * ERR_FILE_NOT_FOUND, ERR_ACCESS_DENIED, ERR_FILE_PATH_TOO_LONG,
 * ERR_FILE_NO_SPACE, ERR_OUT_OF_MEMORY or ERR_FAILED; on error *out is NULL.
 * A later write failure is remembered (netlog_file_writer_error()); writing
 * then stops, and close still tries to end the file.
 *
 * netlog_file_writer_close() (or netlog_free(), for writers still open)
 * flushes, writes the closing "]}" and frees the writer, so the file is valid
 * JSON even with zero events. After netlog_free() the writer pointer is gone:
 * do not close it again. Any thread, but not concurrently with netlog_free(). */
typedef struct netlog_file_writer netlog_file_writer;
int netlog_file_writer_open(netlog *nl, const char *path, netlog_file_writer **out);
void netlog_file_writer_close(netlog_file_writer *w);
/* Like netlog_file_writer_close(), and returns 0 or the first error met while
 * writing (including the final flush). w NULL: ERR_INVALID_ARGUMENT. Called
 * from inside an observer callback of the same netlog it would deadlock, so
 * it returns ERR_INVALID_ARGUMENT and leaves the writer to netlog_free(). */
int netlog_file_writer_finish(netlog_file_writer *w);
/* The first write error so far (0 if none). Any thread. */
int netlog_file_writer_error(netlog_file_writer *w);
/* Number of events accepted so far (for tests and `cronc` diagnostics). */
uint64_t netlog_file_writer_event_count(netlog_file_writer *w);

#endif /* CRONC_BASE_NETLOG_H */
