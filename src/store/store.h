/* store/store: cronc's on-disk state, one SQLite database per storage path.
 * Chromium: HttpServerPropertiesManager, with SQLite in place of the JSON
 * prefs file (CHROMIUM_ALTSVC.md §1.12).
 *
 * The store persists a props_snapshot (servers with their alternative
 * services, broken services, whether QUIC worked) and holds an empty table,
 * ready for the next schema version, for per-server QUIC session tickets and
 * transport parameters. It does no timing of its own: the engine loads once
 * at start, batches changes behind a short timer, and flushes at shutdown;
 * each save replaces every props row in one transaction.
 *
 * Files under the storage path `dir`:
 *   cronc.sqlite (+ -wal, -shm)  the database (WAL, synchronous=NORMAL, 0600)
 *   cronc.lock                   flock()ed by a READ_WRITE store while open
 *   cronc.sqlite.corrupt-<unix time>[.<n>] (+ -wal, -shm)
 *                                a damaged or foreign database moved aside
 *
 * Schema: PRAGMA application_id = STORE_APPLICATION_ID marks the file as
 * cronc's, PRAGMA user_version holds the schema version, and an ordered array
 * of migration steps in store.c brings an older file up to date in one
 * transaction.
 *
 * What counts as damage, and what happens to it:
 *  - a file SQLite cannot read (SQLITE_NOTADB, SQLITE_CORRUPT), a failing
 *    PRAGMA quick_check, a database that is not cronc's (another
 *    application_id, schema objects that are not ours, our tables with the
 *    wrong columns): READ_WRITE moves it aside and starts empty, with a
 *    CRONC_STORE_CORRUPTION_RECOVERED event {path, moved_to, reason};
 *    READ_ONLY fails with ERR_FAILED and moves nothing.
 *  - a database from a newer cronc (user_version > STORE_SCHEMA_VERSION) is
 *    never moved or changed: the open succeeds, loads give an empty
 *    snapshot, and every write fails with ERR_ACCESS_DENIED (and
 *    CRONC_STORE_WRITE_FAILED). Moving it aside would make the newer cronc
 *    lose its state the next time it runs; refusing writes loses nothing.
 *    store_is_writable() tells the engine not to schedule saves.
 *  - a bad row (port 70000, unknown protocol, unparsable origin, negative
 *    count, wrong column type, ...) is skipped with a
 *    CRONC_STORE_CORRUPTION_RECOVERED event {path, scope:"row", table, row,
 *    reason}; as in Chromium, one malformed alternative drops that server's
 *    whole alternative list (the server itself is kept). Nothing else is
 *    judged here: expiry, https-only and canonical-suffix rules belong to
 *    server properties when the snapshot is applied.
 *
 * Threads: a store is not thread-safe. Use it from one thread at a time (the
 * network thread, or a worker it hands the store to with proper ordering).
 * Every function accepts a NULL netlog (given at open). */
#ifndef CRONC_STORE_STORE_H
#define CRONC_STORE_STORE_H

#include <stdbool.h>

#include "base/netlog.h"
#include "base/strbuf.h"
#include "http/props_snapshot.h"

#define STORE_SCHEMA_VERSION 2
#define STORE_APPLICATION_ID 0x63726e63 /* "crnc" */
#define STORE_DB_NAME        "cronc.sqlite"
#define STORE_LOCK_NAME      "cronc.lock"

typedef struct store store;

typedef enum store_open_mode {
  STORE_OPEN_READ_WRITE = 0,
  STORE_OPEN_READ_ONLY = 1,
} store_open_mode;

/* Opens the store in `dir`.
 *
 * READ_WRITE creates `dir` (mode 0700, parents too) and the database if
 * missing, as Cronet needs its storage path to exist; takes an exclusive
 * advisory lock on <dir>/cronc.lock so that two engines never share a storage
 * path (a second READ_WRITE open, from this process or another, fails with
 * ERR_ACCESS_DENIED until the first is closed); recovers from damage as
 * described above; brings an older schema up to date.
 *
 * READ_ONLY (for `cronc props show`) takes no lock, creates nothing and moves
 * nothing: a missing database gives ERR_FILE_NOT_FOUND, a damaged or foreign
 * one ERR_FAILED. It may run while an engine has the store open.
 *
 * Returns 0 and *out, or a net error (ERR_INVALID_ARGUMENT, ERR_ACCESS_DENIED,
 * ERR_FILE_NOT_FOUND, ERR_FILE_NO_SPACE, ERR_FILE_PATH_TOO_LONG,
 * ERR_OUT_OF_MEMORY, ERR_FAILED); *out is NULL on error. Logs CRONC_STORE_OPEN
 * {path, mode, net_error, schema_version, created, writable}. */
int store_open(const char *dir, store_open_mode mode, netlog *nl, store **out);
/* Closes the database and releases the lock. NULL is allowed. */
void store_close(store *s);

/* Reads everything into *out (initialised here; free with
 * props_snapshot_free(), also after an error). Servers come back least
 * recently used first and alternatives, broken entries in the order they were
 * saved. Logs HTTP_SERVER_PROPERTIES_INITIALIZATION begin/end, the end with
 * counts {servers, alternative_services, broken_alternative_services,
 * skipped_rows, net_error}. If the database turns out to be damaged while
 * reading, a READ_WRITE store recovers (moves it aside) and returns 0 with an
 * empty snapshot. */
int store_load_props(store *s, props_snapshot *out);

/* Replaces every props row (servers, alternatives, broken services,
 * supports_quic) with `snap` in one transaction; QUIC tickets are untouched.
 * Strings are read within their fixed-size fields, n_alpns is capped at
 * ALTSVC_MAX_ALPNS, and ALPNs that could not be read back (empty, a ',' or a
 * non-printable byte) are left out; nothing else is filtered. Returns 0 or
 * ERR_ACCESS_DENIED (read-only store, newer schema), ERR_FILE_NO_SPACE,
 * ERR_OUT_OF_MEMORY, ERR_FAILED; on error the previous contents are kept and
 * CRONC_STORE_WRITE_FAILED {net_error, operation, sqlite_error} is logged. On
 * success logs HTTP_SERVER_PROPERTIES_UPDATE_PREFS with counts. */
int store_save_props(store *s, const props_snapshot *snap);

/* Empties every table (props, broken, supports_quic, QUIC server info) in one
 * transaction. Same errors and failure event as store_save_props(). */
/* QUIC state per server id (session ticket and transport parameters for
 * 0-RTT), as opaque blobs the quic layer encodes and checks. */
typedef struct store_quic_state {
  const char *server_id; /* "https://host:port", "/private" appended in privacy mode */
  const uint8_t *state;
  size_t len;
  int64_t updated_us; /* wall clock */
} store_quic_state;
/* Called per stored row, oldest first; the pointers are valid during the
 * call only. Unreadable rows are skipped with a NetLog event. */
typedef void (*store_quic_state_fn)(void *user_data, const store_quic_state *state);
int store_load_quic_states(store *s, store_quic_state_fn fn, void *user_data);
/* Writes (replacing) put[] and deletes del[] in one transaction. */
int store_save_quic_states(store *s, const store_quic_state *put, size_t n_put,
                           const char *const *del, size_t n_del);

int store_clear(store *s);

/* Appends everything stored as one JSON object (what store_load_props()
 * reads, so skipped rows do not appear). Field names follow Chromium's prefs
 * (§1.12) except that times are integers of µs since the Unix epoch:
 * {"path":"...","version":1,"writable":true,
 *  "servers":[{"server":"https://example.com","supports_spdy":false,
 *              "network_stats":{"srtt":0},
 *              "alternative_service":[{"protocol_str":"quic","host":"",
 *                 "port":443,"expiration_us":1700000000000000,
 *                 "advertised_alpns":["h3"]}]}],
 *  "broken_alternative_services":[{"protocol_str":"h2","host":"a.example",
 *     "port":443,"broken_count":1,"is_broken":true,"broken_until_us":...}],
 *  "supports_quic":{"used_quic":true,"address":"192.0.2.1"},
 *  "quic_servers":[{"server_id":"https://example.com","session_ticket_bytes":0,
 *     "transport_params_bytes":0,"updated_us":0}]}
 * A never-expiring alternative has expiration_us 9223372036854775807. Ticket
 * contents are secrets and are never printed, only their sizes. A database
 * from a newer cronc shows "version":<its version> and empty lists.
 * Returns 0, ERR_OUT_OF_MEMORY or a load error. */
int store_to_json(store *s, strbuf *out);

/* <dir>/cronc.sqlite. */
const char *store_db_path(const store *s);
/* False for READ_ONLY stores and for databases from a newer cronc. */
bool store_is_writable(const store *s);
/* The schema version found on disk (after migration when writable). */
int store_schema_version(const store *s);

#endif /* CRONC_STORE_STORE_H */
