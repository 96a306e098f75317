/* engine/quic_states: the QUIC 0-RTT state of each server id (session
 * ticket and the server's transport parameters, as blobs quic/ encodes),
 * held in memory for the QUIC session pool and written to store/ with the
 * engine's batched writes (Chromium's QuicServerInfo in
 * HttpServerProperties, persisted by HttpServerPropertiesManager).
 *
 * Bounded: at most ENGINE_QUIC_STATES_MAX server ids, the least recently
 * updated dropped first (and deleted from the store at the next flush).
 * Network thread only. */
#ifndef CRONC_ENGINE_QUIC_STATES_H
#define CRONC_ENGINE_QUIC_STATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "quic/quic_session_pool.h"
#include "store/store.h"

#define ENGINE_QUIC_STATES_MAX 100

typedef struct engine_quic_states engine_quic_states;

/* changed(ud) runs after each save so the owner can schedule a write. */
engine_quic_states *engine_quic_states_new(const base_clock *clock, void (*changed)(void *ud),
                                           void *ud);
void engine_quic_states_free(engine_quic_states *q);

/* Reads every stored state (oldest first). */
int engine_quic_states_load(engine_quic_states *q, store *s);
/* Writes changed states and deletes dropped ones; OK when nothing to do. */
int engine_quic_states_flush(engine_quic_states *q, store *s);
bool engine_quic_states_dirty(const engine_quic_states *q);
size_t engine_quic_states_count(const engine_quic_states *q);

/* The quic_ticket_store the QUIC session pool reads and writes. */
quic_ticket_store engine_quic_states_ticket_store(engine_quic_states *q);

/* "https://host:port", "/private" appended in privacy mode (Chromium's
 * QuicServerId::ToString). Returns false when it does not fit. */
bool engine_quic_server_id(const char *host, uint16_t port, bool privacy, char *out,
                           size_t out_size);

#endif /* CRONC_ENGINE_QUIC_STATES_H */
