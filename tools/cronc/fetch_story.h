/* tools/cronc/fetch_story: the race story `cronc -v` tells for each
 * request, read from the engine's NetLog as it is written.
 *
 * The response info says which job won; why the other lost, how long the
 * main job was held, whether QUIC was broken and what happened to an
 * orphaned alternative job later are in the NetLog only (the job
 * controller's events). fetch_story registers a NetLog observer on the
 * engine (through engine/api_internal.h, which exists for the command's
 * diagnostics) and keeps a copy of the events it needs; after a request's
 * stream is known, fetch_story_tell() finds the request's URL_REQUEST source
 * by the controller's URL and follows the source ids: controller, its main
 * and alternative jobs, the job bound to the request.
 *
 * Threads: the observer runs on whichever thread adds an event (under the
 * netlog's lock; it only copies under the story's own mutex);
 * fetch_story_tell() and fetch_story_mark() may run on any thread (the
 * command calls them from request callbacks on the network thread). */
#ifndef CRONC_TOOL_FETCH_STORY_H
#define CRONC_TOOL_FETCH_STORY_H

#include <stddef.h>
#include <stdio.h>

#include "cronc/cronc.h"

typedef struct fetch_story fetch_story;

/* Starts recording the engine's NetLog events; NULL when out of memory
 * (the command then tells the story from the response info alone). */
fetch_story *fetch_story_attach(cronc_engine *eng);
/* Stops recording and frees; call before the engine is freed. NULL: no-op. */
void fetch_story_detach(fetch_story *st);

/* A position in the recorded events: pass the value taken just before a
 * request starts to fetch_story_tell(). 0 for NULL. */
size_t fetch_story_mark(fetch_story *st);

/* Per-request progress of the telling (zero it for a new request). */
typedef struct fetch_story_cursor {
  long request_id;         /* the URL_REQUEST source, 0 = not found yet */
  size_t controllers_told; /* controllers (one per stream request) told */
} fetch_story_cursor;

/* Writes to out ("* " lines) what happened since the last call that other
 * requests did not report: Alt-Svc learned, services marked broken by an
 * earlier race, QUIC handshakes confirmed; then, for the request whose
 * stream request for `request_url` started after `mark`, each stream request not
 * told yet: DNS, alternative found or QUIC broken, the jobs that raced,
 * how long the main job was held, which job won and why the other lost,
 * session reuse. */
void fetch_story_tell(fetch_story *st, size_t mark, const char *request_url,
                      fetch_story_cursor *cur, FILE *out);

#endif /* CRONC_TOOL_FETCH_STORY_H */
