/* store/store_internal: what store.c (opening, schema, recovery) and
 * store_props.c (load, save, dump) share. Not for other modules. */
#ifndef CRONC_STORE_STORE_INTERNAL_H
#define CRONC_STORE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/netlog.h"
#include "store/store.h"

/* Prepared once per open, reused by every load and save. */
typedef enum store_stmt_id {
  STORE_STMT_BEGIN,
  STORE_STMT_COMMIT,
  STORE_STMT_ROLLBACK,
  STORE_STMT_DEL_SERVERS,
  STORE_STMT_DEL_ALTS,
  STORE_STMT_DEL_BROKEN,
  STORE_STMT_DEL_SUPPORTS_QUIC,
  STORE_STMT_DEL_QUIC_SERVERS,
  STORE_STMT_INS_SERVER,
  STORE_STMT_INS_ALT,
  STORE_STMT_INS_BROKEN,
  STORE_STMT_INS_SUPPORTS_QUIC,
  STORE_STMT_SEL_SERVERS,
  STORE_STMT_SEL_ALTS,
  STORE_STMT_SEL_BROKEN,
  STORE_STMT_SEL_SUPPORTS_QUIC,
  STORE_STMT_SEL_QUIC_SERVERS,
  STORE_STMT_PUT_QUIC_SERVER,
  STORE_STMT_DEL_QUIC_SERVER,
  STORE_STMT_COUNT
} store_stmt_id;

struct store {
  sqlite3 *db;
  netlog *nl;
  netlog_source src;
  store_open_mode mode;
  int lock_fd;        /* -1 when not locked (READ_ONLY) */
  int schema_version; /* on disk */
  bool writable;
  bool has_schema; /* false: newer schema, or an empty READ_ONLY file */
  char *dir;
  char *db_path;
  char reason[256]; /* why the last check failed (for recovery events) */
  sqlite3_stmt *stmt[STORE_STMT_COUNT];
};

/* The net error for a SQLite result code (extended codes accepted). */
int store_error_from_sqlite(sqlite3 *db, int rc);
/* SQLITE_CORRUPT or SQLITE_NOTADB: the file itself is damaged. */
bool store_rc_is_corruption(int rc);
/* READ_WRITE only: moves the damaged database aside (reason in s->reason),
 * logs CRONC_STORE_CORRUPTION_RECOVERED and reopens an empty one. Returns 0
 * or a net error (then s->db may be NULL and every call fails cleanly). */
int store_recover(store *s);
/* Logs CRONC_STORE_WRITE_FAILED {net_error, operation, sqlite_error}. */
void store_log_write_failed(store *s, const char *operation, int error);
/* Logs a skipped row (CRONC_STORE_CORRUPTION_RECOVERED, scope "row"). */
void store_log_row_skipped(store *s, const char *table, int64_t row, const char *reason);

#endif /* CRONC_STORE_STORE_INTERNAL_H */
