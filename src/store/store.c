/* store/store.c: opening the database, the schema and its migrations, the
 * storage-path lock, and recovery from damaged or foreign files. Loading and
 * saving are in store_props.c. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/net_error_posix.h"
#include "cronc/cronc.h"
#include "store/store_internal.h"

/* Readers (`cronc props show`) may hold the WAL briefly; writers are
 * serialised by the lock file, so a short wait is enough. */
#define STORE_BUSY_TIMEOUT_MS 2000

/* Internal result of the open steps: the file must be moved aside. */
#define STORE_NEEDS_RECOVERY 1

/* ---------------------------------------------------------------------------
 * Schema. k_migrations[i] takes the database from version i to i + 1; all
 * pending steps run in one transaction together with the user_version bump.
 * Never edit a released step: append one, bump STORE_SCHEMA_VERSION and add
 * new tables to k_known_tables.
 * ------------------------------------------------------------------------- */
static const char *const k_migrations[] = {
    /* 0 -> 1: server properties (§1.12), broken services, QUIC worked, and
     * the (empty for now) QUIC session ticket table. position is the LRU
     * order, 0 = least recently used, as Chromium's "servers" list. */
    "CREATE TABLE servers("
    " position INTEGER PRIMARY KEY,"
    " server TEXT NOT NULL,"
    " supports_spdy INTEGER NOT NULL DEFAULT 0,"
    " srtt_us INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE alternative_services("
    " server_position INTEGER NOT NULL,"
    " idx INTEGER NOT NULL,"
    " protocol_str TEXT NOT NULL,"
    " host TEXT NOT NULL DEFAULT '',"
    " port INTEGER NOT NULL,"
    " expiration_us INTEGER NOT NULL,"
    " advertised_alpns TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY(server_position, idx)) WITHOUT ROWID;"
    "CREATE TABLE broken_alternative_services("
    " position INTEGER PRIMARY KEY,"
    " protocol_str TEXT NOT NULL,"
    " host TEXT NOT NULL,"
    " port INTEGER NOT NULL,"
    " broken_count INTEGER NOT NULL DEFAULT 0,"
    " is_broken INTEGER NOT NULL DEFAULT 0,"
    " broken_until_us INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE supports_quic("
    " id INTEGER PRIMARY KEY CHECK(id = 1),"
    " used_quic INTEGER NOT NULL DEFAULT 0,"
    " address TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE quic_server_info("
    " server_id TEXT PRIMARY KEY,"
    " session_ticket BLOB,"
    " transport_params BLOB,"
    " updated_us INTEGER NOT NULL DEFAULT 0);",
    /* 1 -> 2: QUIC state per server id is one blob the quic layer encodes
     * (session ticket + the server's transport parameters, versioned and
     * checked on read). Version 1 never wrote rows here, so nothing is
     * lost by recreating the table. */
    "DROP TABLE quic_server_info;"
    "CREATE TABLE quic_server_info("
    " server_id TEXT PRIMARY KEY,"
    " state BLOB NOT NULL,"
    " updated_us INTEGER NOT NULL) WITHOUT ROWID;",
};
_Static_assert(sizeof k_migrations / sizeof k_migrations[0] == STORE_SCHEMA_VERSION,
               "one migration step per schema version");

/* Every schema object any version of cronc creates (SQLite's own
 * sqlite_autoindex_* are not listed; names starting "sqlite_" are skipped). */
static const char *const k_known_tables[] = {
    "servers",       "alternative_services", "broken_alternative_services",
    "supports_quic", "quic_server_info",
};

static const char *const k_stmt_sql[STORE_STMT_COUNT] = {
    [STORE_STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STORE_STMT_COMMIT] = "COMMIT",
    [STORE_STMT_ROLLBACK] = "ROLLBACK",
    [STORE_STMT_DEL_SERVERS] = "DELETE FROM servers",
    [STORE_STMT_DEL_ALTS] = "DELETE FROM alternative_services",
    [STORE_STMT_DEL_BROKEN] = "DELETE FROM broken_alternative_services",
    [STORE_STMT_DEL_SUPPORTS_QUIC] = "DELETE FROM supports_quic",
    [STORE_STMT_DEL_QUIC_SERVERS] = "DELETE FROM quic_server_info",
    [STORE_STMT_INS_SERVER] =
        "INSERT INTO servers(position, server, supports_spdy, srtt_us) VALUES(?1, ?2, ?3, ?4)",
    [STORE_STMT_INS_ALT] = ("INSERT INTO alternative_services(server_position, idx, protocol_str,"
                            " host, port, expiration_us, advertised_alpns)"
                            " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
    [STORE_STMT_INS_BROKEN] = ("INSERT INTO broken_alternative_services(position, protocol_str,"
                               " host, port, broken_count, is_broken, broken_until_us)"
                               " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
    [STORE_STMT_INS_SUPPORTS_QUIC] =
        "INSERT INTO supports_quic(id, used_quic, address) VALUES(1, ?1, ?2)",
    [STORE_STMT_SEL_SERVERS] =
        "SELECT position, server, supports_spdy, srtt_us FROM servers ORDER BY position",
    [STORE_STMT_SEL_ALTS] = ("SELECT server_position, idx, protocol_str, host, port,"
                             " expiration_us, advertised_alpns FROM alternative_services"
                             " ORDER BY server_position, idx"),
    [STORE_STMT_SEL_BROKEN] = ("SELECT position, protocol_str, host, port, broken_count,"
                               " is_broken, broken_until_us FROM broken_alternative_services"
                               " ORDER BY position"),
    [STORE_STMT_SEL_SUPPORTS_QUIC] = "SELECT used_quic, address FROM supports_quic WHERE id = 1",
    [STORE_STMT_SEL_QUIC_SERVERS] =
        "SELECT server_id, state, updated_us FROM quic_server_info ORDER BY updated_us",
    [STORE_STMT_PUT_QUIC_SERVER] =
        "INSERT OR REPLACE INTO quic_server_info(server_id, state, updated_us) VALUES(?1, ?2, ?3)",
    [STORE_STMT_DEL_QUIC_SERVER] = "DELETE FROM quic_server_info WHERE server_id = ?1",
};

/* ---------------------------------------------------------------------------
 * Errors and NetLog.
 * ------------------------------------------------------------------------- */

int store_error_from_sqlite(sqlite3 *db, int rc) {
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_ROW:
  case SQLITE_DONE:
    return CRONC_OK;
  case SQLITE_FULL:
    return CRONC_ERR_FILE_NO_SPACE;
  case SQLITE_PERM:
  case SQLITE_READONLY:
  case SQLITE_AUTH:
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return CRONC_ERR_ACCESS_DENIED;
  case SQLITE_NOMEM:
    return CRONC_ERR_OUT_OF_MEMORY;
  case SQLITE_TOOBIG:
    return CRONC_ERR_FILE_TOO_BIG;
  case SQLITE_CANTOPEN:
  case SQLITE_IOERR: {
    int e = db ? sqlite3_system_errno(db) : 0;
    int mapped = e ? base_map_system_error(e) : CRONC_ERR_FAILED;
    return mapped;
  }
  default:
    return CRONC_ERR_FAILED;
  }
}

bool store_rc_is_corruption(int rc) {
  return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

static void store_set_reason(store *s, const char *what, const char *detail) {
  snprintf(s->reason, sizeof s->reason, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

void store_log_write_failed(store *s, const char *operation, int error) {
  if (!netlog_is_capturing(s->nl))
    return;
  strbuf sb = STRBUF_INIT;
  strbuf_appendf(&sb, "{\"net_error\":%d,\"operation\":", error);
  strbuf_json_cstr(&sb, operation);
  strbuf_append_str(&sb, ",\"sqlite_error\":");
  strbuf_json_cstr(&sb, s->db ? sqlite3_errmsg(s->db) : "");
  strbuf_append_char(&sb, '}');
  if (!strbuf_failed(&sb))
    netlog_add_event(s->nl, s->src, NETLOG_TYPE_CRONC_STORE_WRITE_FAILED, strbuf_cstr(&sb));
  strbuf_free(&sb);
}

void store_log_row_skipped(store *s, const char *table, int64_t row, const char *reason) {
  if (!netlog_is_capturing(s->nl))
    return;
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"path\":");
  strbuf_json_cstr(&sb, s->db_path);
  strbuf_append_str(&sb, ",\"scope\":\"row\",\"table\":");
  strbuf_json_cstr(&sb, table);
  strbuf_appendf(&sb, ",\"row\":%lld,\"reason\":", (long long)row);
  strbuf_json_cstr(&sb, reason);
  strbuf_append_char(&sb, '}');
  if (!strbuf_failed(&sb))
    netlog_add_event(s->nl, s->src, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, strbuf_cstr(&sb));
  strbuf_free(&sb);
}

static void store_log_open(store *s, int error, bool created) {
  if (!netlog_is_capturing(s->nl))
    return;
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"path\":");
  strbuf_json_cstr(&sb, s->db_path);
  strbuf_appendf(&sb,
                 ",\"mode\":\"%s\",\"net_error\":%d,\"schema_version\":%d,\"created\":%s,"
                 "\"writable\":%s",
                 s->mode == STORE_OPEN_READ_ONLY ? "read_only" : "read_write", error,
                 s->schema_version, created ? "true" : "false", s->writable ? "true" : "false");
  if (error != CRONC_OK && s->reason[0]) {
    strbuf_append_str(&sb, ",\"reason\":");
    strbuf_json_cstr(&sb, s->reason);
  }
  strbuf_append_char(&sb, '}');
  if (!strbuf_failed(&sb))
    netlog_add_event(s->nl, s->src, NETLOG_TYPE_CRONC_STORE_OPEN, strbuf_cstr(&sb));
  strbuf_free(&sb);
}

/* ---------------------------------------------------------------------------
 * Files: paths, the storage directory, the lock.
 * ------------------------------------------------------------------------- */

static char *store_path_join(const char *dir, const char *name) {
  size_t dl = strlen(dir), nl = strlen(name);
  char *p = malloc(dl + 1 + nl + 1);
  if (!p)
    return NULL;
  memcpy(p, dir, dl);
  p[dl] = '/';
  memcpy(p + dl + 1, name, nl);
  p[dl + 1 + nl] = '\0';
  return p;
}

/* mkdir -p with mode 0700: server properties tell where a user has been. */
static int store_mkdir_p(const char *dir) {
  char *p = strdup(dir);
  if (!p)
    return CRONC_ERR_OUT_OF_MEMORY;
  int rc = CRONC_OK;
  for (char *q = p + 1;; q++) {
    if (*q != '/' && *q != '\0')
      continue;
    char saved = *q;
    *q = '\0';
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
      rc = base_map_system_error(errno);
      break;
    }
    *q = saved;
    if (saved == '\0')
      break;
  }
  free(p);
  if (rc != CRONC_OK)
    return rc;
  struct stat st;
  if (stat(dir, &st) != 0)
    return base_map_system_error(errno);
  return S_ISDIR(st.st_mode) ? CRONC_OK : CRONC_ERR_FILE_EXISTS;
}

static int store_take_lock(store *s) {
  char *path = store_path_join(s->dir, STORE_LOCK_NAME);
  if (!path)
    return CRONC_ERR_OUT_OF_MEMORY;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  free(path);
  if (fd < 0)
    return base_map_system_error(errno);
  /* flock() locks belong to the open file description, so a second open in
   * the same process conflicts too. */
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    if (e == EWOULDBLOCK) {
      store_set_reason(s, "storage path in use by another store", NULL);
      return CRONC_ERR_ACCESS_DENIED;
    }
    return base_map_system_error(e);
  }
  s->lock_fd = fd;
  return CRONC_OK;
}

/* ---------------------------------------------------------------------------
 * The database connection.
 * ------------------------------------------------------------------------- */

static void store_close_db(store *s) {
  for (int i = 0; i < STORE_STMT_COUNT; i++) {
    sqlite3_finalize(s->stmt[i]);
    s->stmt[i] = NULL;
  }
  if (s->db)
    sqlite3_close_v2(s->db);
  s->db = NULL;
  s->has_schema = false;
}

/* Closes a connection to a file about to be moved aside without letting
 * SQLite checkpoint into it or delete its -wal: the evidence moves intact. */
static void store_close_db_preserving(store *s) {
  if (s->db) {
    int one = 1;
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
  }
  store_close_db(s);
}

/* Runs a statement that returns one integer (PRAGMA user_version, ...). */
static int store_query_int(store *s, const char *sql, int64_t *out) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      *out = sqlite3_column_int64(st, 0);
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      *out = 0;
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  return rc;
}

/* Maps a failed SQLite step during open: damage asks for recovery (reason
 * recorded), anything else (permissions, I/O, locks) is an error as such. */
static int store_open_failure(store *s, int rc, const char *what) {
  store_set_reason(s, what, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
  if (store_rc_is_corruption(rc))
    return STORE_NEEDS_RECOVERY;
  return store_error_from_sqlite(s->db, rc);
}

static bool store_is_known_table(const char *name) {
  for (size_t i = 0; i < sizeof k_known_tables / sizeof k_known_tables[0]; i++)
    if (strcmp(name, k_known_tables[i]) == 0)
      return true;
  return false;
}

/* Decides whether the open file is an empty database (*fresh), cronc's
 * (current, older or newer: s->schema_version), or something to move aside.
 * Reads only: nothing is written before the file is known to be ours. */
static int store_inspect(store *s, bool *fresh) {
  int64_t app_id = 0, version = 0;
  int rc = store_query_int(s, "PRAGMA application_id", &app_id);
  if (rc != SQLITE_OK)
    return store_open_failure(s, rc, "cannot read the database header");
  rc = store_query_int(s, "PRAGMA user_version", &version);
  if (rc != SQLITE_OK)
    return store_open_failure(s, rc, "cannot read the schema version");

  /* Schema objects that are not SQLite's own. */
  sqlite3_stmt *st = NULL;
  rc = sqlite3_prepare_v2(s->db,
                          "SELECT type, name FROM sqlite_master"
                          " WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                          -1, &st, NULL);
  if (rc != SQLITE_OK)
    return store_open_failure(s, rc, "cannot read the schema");
  int n_objects = 0;
  char foreign[128] = "";
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *type = (const char *)sqlite3_column_text(st, 0);
    const char *name = (const char *)sqlite3_column_text(st, 1);
    n_objects++;
    if (!foreign[0] &&
        (!type || !name || strcmp(type, "table") != 0 || !store_is_known_table(name)))
      snprintf(foreign, sizeof foreign, "%s %s", type ? type : "?", name ? name : "?");
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return store_open_failure(s, rc, "cannot read the schema");

  *fresh = false;
  if (app_id == 0 && version == 0 && n_objects == 0) {
    *fresh = true;
    s->schema_version = 0;
    return CRONC_OK;
  }
  if (app_id != STORE_APPLICATION_ID) {
    char detail[64];
    snprintf(detail, sizeof detail, "application_id %lld", (long long)app_id);
    store_set_reason(s, "foreign database", detail);
    return STORE_NEEDS_RECOVERY;
  }
  if (version > STORE_SCHEMA_VERSION) {
    /* A newer cronc's file: leave it alone (see store.h). */
    s->schema_version = version > INT_MAX ? INT_MAX : (int)version;
    return CRONC_OK;
  }
  if (version < 1) {
    store_set_reason(s, "cronc database without a schema version", NULL);
    return STORE_NEEDS_RECOVERY;
  }
  if (foreign[0]) {
    store_set_reason(s, "foreign schema object", foreign);
    return STORE_NEEDS_RECOVERY;
  }
  s->schema_version = (int)version;

  /* quick_check reads every page (but not index contents): O(size), a few
   * milliseconds for tens of thousands of servers. */
  rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
  if (rc != SQLITE_OK)
    return store_open_failure(s, rc, "quick_check failed");
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const char *res = (const char *)sqlite3_column_text(st, 0);
    if (!res || strcmp(res, "ok") != 0) {
      store_set_reason(s, "quick_check", res ? res : "no result");
      sqlite3_finalize(st);
      return STORE_NEEDS_RECOVERY;
    }
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_OK)
    return store_open_failure(s, rc, "quick_check failed");
  return CRONC_OK;
}

/* Runs the pending migration steps and sets user_version, in one
 * transaction: a crash leaves the old version intact. */
static int store_migrate(store *s) {
  char *err = NULL;
  int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return store_open_failure(s, rc, "cannot start the migration");
  char sql[96];
  if (s->schema_version == 0) {
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d", (int)STORE_APPLICATION_ID);
    rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
  }
  for (int v = s->schema_version; rc == SQLITE_OK && v < STORE_SCHEMA_VERSION; v++)
    rc = sqlite3_exec(s->db, k_migrations[v], NULL, NULL, &err);
  if (rc == SQLITE_OK) {
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
    rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, &err);
  if (rc != SQLITE_OK) {
    /* An older file our steps cannot apply to (say, a table already there
     * with other columns) is damage; other failures are plain errors. */
    bool damage = (rc & 0xff) == SQLITE_ERROR || store_rc_is_corruption(rc);
    int error = store_error_from_sqlite(s->db, rc);
    store_set_reason(s, "migration failed", err ? err : sqlite3_errmsg(s->db));
    sqlite3_free(err);
    if (!sqlite3_get_autocommit(s->db))
      sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return damage ? STORE_NEEDS_RECOVERY : error;
  }
  s->schema_version = STORE_SCHEMA_VERSION;
  return CRONC_OK;
}

static int store_prepare_all(store *s) {
  for (int i = 0; i < STORE_STMT_COUNT; i++) {
    int rc =
        sqlite3_prepare_v3(s->db, k_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
    if (rc != SQLITE_OK) {
      /* SQLITE_ERROR here is "no such table/column": our application_id
       * and version over someone else's tables. */
      store_set_reason(s, "schema mismatch", sqlite3_errmsg(s->db));
      if ((rc & 0xff) == SQLITE_ERROR || store_rc_is_corruption(rc))
        return STORE_NEEDS_RECOVERY;
      return store_error_from_sqlite(s->db, rc);
    }
  }
  return CRONC_OK;
}

/* One attempt at opening <dir>/cronc.sqlite. Returns 0, a net error, or
 * STORE_NEEDS_RECOVERY (s->reason says why). */
static int store_try_open(store *s, bool *created) {
  *created = false;
  s->reason[0] = '\0';
  s->writable = false;
  s->has_schema = false;
  s->schema_version = 0;
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (s->mode == STORE_OPEN_READ_WRITE) {
    /* Created here rather than by SQLite so that it is private (0600). */
    int fd = open(s->db_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      return base_map_system_error(errno);
    close(fd);
    flags |= SQLITE_OPEN_READWRITE;
  } else {
    flags |= SQLITE_OPEN_READONLY;
  }
  int rc = sqlite3_open_v2(s->db_path, &s->db, flags, NULL);
  if (rc != SQLITE_OK) {
    int ret = store_open_failure(s, rc, "cannot open");
    store_close_db_preserving(s);
    return ret;
  }
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
  /* A file from disk is untrusted: no schema tricks, no functions called
   * from its schema. */
  sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
  sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);

  bool fresh = false;
  int ret = store_inspect(s, &fresh);
  if (ret != CRONC_OK)
    goto fail;
  bool newer = s->schema_version > STORE_SCHEMA_VERSION;
  if (s->mode == STORE_OPEN_READ_ONLY) {
    if (fresh || newer) /* an empty file or a newer schema: nothing to read */
      return CRONC_OK;
    ret = store_prepare_all(s);
    if (ret != CRONC_OK)
      goto fail;
    s->has_schema = true;
    return CRONC_OK;
  }
  if (newer)
    return CRONC_OK; /* opened, but never written: see store.h */

  /* WAL: a save does not block `cronc props show`, and NORMAL sync loses at
   * most the last transactions on power loss, never consistency. */
  sqlite3_stmt *st = NULL;
  rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    ret = store_open_failure(s, rc, "cannot set WAL mode");
    goto fail;
  }
  rc = sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    ret = store_open_failure(s, rc, "cannot set synchronous");
    goto fail;
  }
  if (s->schema_version < STORE_SCHEMA_VERSION) {
    *created = fresh;
    ret = store_migrate(s);
    if (ret != CRONC_OK)
      goto fail;
  }
  ret = store_prepare_all(s);
  if (ret != CRONC_OK)
    goto fail;
  s->has_schema = true;
  s->writable = true;
  return CRONC_OK;

fail:
  if (ret == STORE_NEEDS_RECOVERY)
    store_close_db_preserving(s);
  else
    store_close_db(s);
  s->writable = false;
  return ret;
}

static void store_log_recovered(store *s, const char *moved_to) {
  if (!netlog_is_capturing(s->nl))
    return;
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"path\":");
  strbuf_json_cstr(&sb, s->db_path);
  strbuf_append_str(&sb, ",\"moved_to\":");
  strbuf_json_cstr(&sb, moved_to);
  strbuf_append_str(&sb, ",\"scope\":\"file\",\"reason\":");
  strbuf_json_cstr(&sb, s->reason);
  strbuf_append_char(&sb, '}');
  if (!strbuf_failed(&sb))
    netlog_add_event(s->nl, s->src, NETLOG_TYPE_CRONC_STORE_CORRUPTION_RECOVERED, strbuf_cstr(&sb));
  strbuf_free(&sb);
}

/* Renames `from` + suffix to `to` + suffix; a missing source is fine. */
static int store_rename_one(const char *from, const char *to, const char *suffix) {
  char a[PATH_MAX], b[PATH_MAX];
  if (snprintf(a, sizeof a, "%s%s", from, suffix) >= (int)sizeof a ||
      snprintf(b, sizeof b, "%s%s", to, suffix) >= (int)sizeof b)
    return CRONC_ERR_FILE_PATH_TOO_LONG;
  if (rename(a, b) != 0 && errno != ENOENT)
    return base_map_system_error(errno);
  return CRONC_OK;
}

/* Moves the database and its -wal/-shm to cronc.sqlite.corrupt-<unix
 * time>[.<n>]. Nothing is deleted: the file may be worth a look. */
static int store_move_aside(store *s) {
  store_close_db_preserving(s);
  long long t = (long long)(base_clock_now(base_clock_system()) / BASE_US_PER_SEC);
  char to[PATH_MAX];
  struct stat st;
  int n = 0;
  for (;; n++) {
    int len = n == 0 ? snprintf(to, sizeof to, "%s.corrupt-%lld", s->db_path, t)
                     : snprintf(to, sizeof to, "%s.corrupt-%lld.%d", s->db_path, t, n);
    if (len < 0 || len >= (int)sizeof to)
      return CRONC_ERR_FILE_PATH_TOO_LONG;
    if (lstat(to, &st) != 0)
      break;
    if (n == 1000)
      return CRONC_ERR_FILE_EXISTS;
  }
  int rc = store_rename_one(s->db_path, to, "");
  if (rc == CRONC_OK)
    rc = store_rename_one(s->db_path, to, "-wal");
  if (rc == CRONC_OK)
    rc = store_rename_one(s->db_path, to, "-shm");
  if (rc != CRONC_OK)
    return rc;
  store_log_recovered(s, to);
  return CRONC_OK;
}

int store_recover(store *s) {
  if (s->mode != STORE_OPEN_READ_WRITE)
    return CRONC_ERR_FAILED;
  int rc = store_move_aside(s);
  if (rc != CRONC_OK)
    return rc;
  bool created;
  rc = store_try_open(s, &created);
  return rc == STORE_NEEDS_RECOVERY ? CRONC_ERR_FAILED : rc;
}

/* ---------------------------------------------------------------------------
 * Public API.
 * ------------------------------------------------------------------------- */

int store_open(const char *dir, store_open_mode mode, netlog *nl, store **out) {
  if (out)
    *out = NULL;
  if (!dir || !dir[0] || !out || (mode != STORE_OPEN_READ_WRITE && mode != STORE_OPEN_READ_ONLY))
    return CRONC_ERR_INVALID_ARGUMENT;
  size_t dl = strlen(dir);
  while (dl > 1 && dir[dl - 1] == '/')
    dl--;
  if (dl + sizeof "/" STORE_DB_NAME ".corrupt-00000000000000000000.000-wal" > PATH_MAX)
    return CRONC_ERR_FILE_PATH_TOO_LONG;

  store *s = calloc(1, sizeof *s);
  if (!s)
    return CRONC_ERR_OUT_OF_MEMORY;
  s->nl = nl;
  s->src = netlog_source_new(nl, NETLOG_SOURCE_CRONC_STORE);
  s->mode = mode;
  s->lock_fd = -1;
  s->dir = strndup(dir, dl);
  s->db_path = s->dir ? store_path_join(s->dir, STORE_DB_NAME) : NULL;
  if (!s->db_path) {
    store_close(s);
    return CRONC_ERR_OUT_OF_MEMORY;
  }

  int rc = CRONC_OK;
  bool created = false;
  if (mode == STORE_OPEN_READ_WRITE) {
    rc = store_mkdir_p(s->dir);
    if (rc == CRONC_OK)
      rc = store_take_lock(s);
  } else {
    struct stat st;
    if (stat(s->db_path, &st) != 0) {
      rc = base_map_system_error(errno);
      store_set_reason(s, "no database", NULL);
    }
  }
  if (rc == CRONC_OK) {
    rc = store_try_open(s, &created);
    if (rc == STORE_NEEDS_RECOVERY) {
      if (mode == STORE_OPEN_READ_WRITE) {
        rc = store_move_aside(s);
        if (rc == CRONC_OK)
          rc = store_try_open(s, &created);
      }
      if (rc == STORE_NEEDS_RECOVERY)
        rc = CRONC_ERR_FAILED;
    }
  }
  store_log_open(s, rc, created);
  if (rc != CRONC_OK) {
    store_close(s);
    return rc;
  }
  *out = s;
  return CRONC_OK;
}

void store_close(store *s) {
  if (!s)
    return;
  store_close_db(s);
  if (s->lock_fd >= 0)
    close(s->lock_fd); /* releases the flock */
  free(s->dir);
  free(s->db_path);
  free(s);
}

const char *store_db_path(const store *s) { return s ? s->db_path : NULL; }

bool store_is_writable(const store *s) { return s && s->writable && s->db; }

int store_schema_version(const store *s) { return s ? s->schema_version : 0; }
