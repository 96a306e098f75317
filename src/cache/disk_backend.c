/* The disk backend: a SQLite index with inline small bodies, and one file
 * per large body (layout and atomicity rules in cache_backend.h). The
 * robustness rules are the store's (store/store.c): WAL, application_id,
 * user_version, defensive mode, a damaged file moved aside with a NetLog
 * event, a lock file so two engines never share a directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/net_error_posix.h"
#include "base/strbuf.h"
#include "cache/cache_backend.h"
#include "cronc/cronc.h"

#define DISK_DB_NAME     "cache.sqlite"
#define DISK_LOCK_NAME   "cache.lock"
#define DISK_BODIES      "bodies"
#define DISK_DEFAULT_MAX (80 * 1024 * 1024)
#define DISK_TOUCH_BATCH 128

enum {
  ST_OPEN,
  ST_TOUCH,
  ST_OLD,
  ST_INSERT,
  ST_DELETE_ID,
  ST_DELETE_KEY,
  ST_LRU_OLDEST,
  ST_UPDATE_META,
  ST_HAS_FILE,
  ST_COUNT
};

static const char *const k_sql[ST_COUNT] = {
    "SELECT id, meta, body_size, in_file FROM entries WHERE key = ?1",
    "UPDATE entries SET last_used = ?2 WHERE id = ?1",
    "SELECT id, in_file, size FROM entries WHERE key = ?1",
    ("INSERT INTO entries (id, key, meta, body, body_size, in_file, size, last_used) "
     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
    "DELETE FROM entries WHERE id = ?1",
    "SELECT id, in_file, size FROM entries WHERE key = ?1",
    "SELECT id, in_file, size, key FROM entries ORDER BY last_used LIMIT 1 OFFSET ?1",
    "UPDATE entries SET meta = ?2, size = size - length(meta) + length(?2) WHERE id = ?1",
    "SELECT 1 FROM entries WHERE id = ?1 AND in_file = 1",
};

static const char k_schema[] = "CREATE TABLE entries ("
                               " id INTEGER PRIMARY KEY,"
                               " key TEXT NOT NULL UNIQUE,"
                               " meta BLOB NOT NULL,"
                               " body BLOB,"
                               " body_size INTEGER NOT NULL,"
                               " in_file INTEGER NOT NULL,"
                               " size INTEGER NOT NULL,"
                               " last_used INTEGER NOT NULL);"
                               "CREATE INDEX entries_lru ON entries (last_used);";

typedef struct disk_backend {
  cache_backend base;
  char *dir;
  char *db_path;
  char *bodies;
  int lock_fd;
  sqlite3 *db;
  sqlite3_stmt *st[ST_COUNT];
  netlog *nl;
  netlog_source src;
  int64_t max_size;
  int64_t size;
  int64_t count;
  int64_t next_id;
  int64_t use_seq;
  /* LRU touches of hits, written in one transaction per DISK_TOUCH_BATCH
   * (or before an eviction, or at close) instead of one write per hit. */
  int64_t touch_id[DISK_TOUCH_BATCH], touch_seq[DISK_TOUCH_BATCH];
  int n_touch;
  char reason[160];
} disk_backend;

typedef struct disk_entry {
  cache_backend_entry base;
  disk_backend *be;
  char *key;
  int64_t id;
  bool writer;
  bool committed;
  bool in_file;
  uint8_t *meta;
  size_t meta_len;
  int64_t body_size;
  int fd;           /* reader: the body file; writer: tmp file once spilled */
  strbuf body;      /* writer: a body of up to CACHE_DISK_INLINE_MAX */
  bool write_error; /* a writer whose bytes did not all land */
} disk_entry;

/* ---- Helpers -------------------------------------------------------------- */

static char *path_join(const char *a, const char *b) {
  strbuf sb = STRBUF_INIT;
  strbuf_appendf(&sb, "%s/%s", a, b);
  if (strbuf_failed(&sb)) {
    strbuf_free(&sb);
    return NULL;
  }
  return strbuf_detach(&sb, NULL);
}

static void body_path(const disk_backend *b, int64_t id, bool tmp, char *out, size_t size) {
  snprintf(out, size, "%s/%s%016" PRIx64, b->bodies, tmp ? "tmp-" : "", (uint64_t)id);
}

static int mkdir_p(const char *dir) {
  char buf[4096];
  size_t n = strlen(dir);
  if (n == 0 || n >= sizeof buf)
    return CRONC_ERR_FILE_PATH_TOO_LONG;
  memcpy(buf, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] == '/' || buf[i] == '\0') {
      char c = buf[i];
      buf[i] = '\0';
      if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return base_map_system_error(errno);
      buf[i] = c;
    }
  }
  return CRONC_OK;
}

static void set_reason(disk_backend *b, const char *what) {
  snprintf(b->reason, sizeof b->reason, "%s: %s", what, b->db ? sqlite3_errmsg(b->db) : "");
}

static void log_write_failed(disk_backend *b, const char *what) {
  if (!netlog_is_capturing(b->nl))
    return;
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"what\":");
  strbuf_json_cstr(&sb, what);
  strbuf_append_str(&sb, ",\"error\":");
  strbuf_json_cstr(&sb, b->db ? sqlite3_errmsg(b->db) : strerror(errno));
  strbuf_append_char(&sb, '}');
  if (!strbuf_failed(&sb))
    netlog_add_event(b->nl, b->src, NETLOG_TYPE_CRONC_STORE_WRITE_FAILED, strbuf_cstr(&sb));
  strbuf_free(&sb);
}

static sqlite3_stmt *stmt(disk_backend *b, int i) {
  sqlite3_stmt *s = b->st[i];
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return s;
}

static bool exec(disk_backend *b, const char *sql) {
  return sqlite3_exec(b->db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

static bool query_int(disk_backend *b, const char *sql, int64_t *out) {
  sqlite3_stmt *st = NULL;
  bool ok =
      sqlite3_prepare_v2(b->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
  if (ok)
    *out = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return ok;
}

/* ---- Opening, damage and recovery ----------------------------------------- */

#define NEEDS_RECOVERY 1

static void close_db(disk_backend *b) {
  for (int i = 0; i < ST_COUNT; i++) {
    sqlite3_finalize(b->st[i]);
    b->st[i] = NULL;
  }
  if (b->db)
    sqlite3_close_v2(b->db);
  b->db = NULL;
}

/* Checks a database that opened: returns OK (ours, or empty and now
 * created), NEEDS_RECOVERY (b->reason says why) or an error. */
static int inspect_and_prepare(disk_backend *b) {
  int64_t app = 0, ver = 0, objects = 0;
  if (!query_int(b, "PRAGMA application_id", &app) || !query_int(b, "PRAGMA user_version", &ver) ||
      !query_int(b, "SELECT count(*) FROM sqlite_schema", &objects)) {
    set_reason(b, "not a database");
    return NEEDS_RECOVERY;
  }
  if (objects == 0 && app == 0 && ver == 0) {
    if (!exec(b, "PRAGMA journal_mode=WAL") || !exec(b, "PRAGMA synchronous=NORMAL") ||
        !exec(b, "BEGIN IMMEDIATE") || !exec(b, k_schema) ||
        !exec(b, "PRAGMA application_id = 1668440936") || !exec(b, "PRAGMA user_version = 1") ||
        !exec(b, "COMMIT")) {
      set_reason(b, "cannot create the schema");
      exec(b, "ROLLBACK");
      return CRONC_ERR_CACHE_OPEN_FAILURE;
    }
  } else {
    if (app != CACHE_DISK_APPLICATION_ID) {
      snprintf(b->reason, sizeof b->reason, "foreign application_id %" PRId64, app);
      return NEEDS_RECOVERY;
    }
    if (ver != CACHE_DISK_SCHEMA_VERSION) {
      /* A cache is disposable: another version is rebuilt, not migrated. */
      snprintf(b->reason, sizeof b->reason, "schema version %" PRId64, ver);
      return NEEDS_RECOVERY;
    }
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(b->db, "PRAGMA quick_check(1)", -1, &st, NULL) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    if (!ok) {
      set_reason(b, "quick_check failed");
      return NEEDS_RECOVERY;
    }
    if (!exec(b, "PRAGMA journal_mode=WAL") || !exec(b, "PRAGMA synchronous=NORMAL")) {
      set_reason(b, "cannot set WAL mode");
      return NEEDS_RECOVERY;
    }
  }
  for (int i = 0; i < ST_COUNT; i++) {
    if (sqlite3_prepare_v3(b->db, k_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &b->st[i], NULL) !=
        SQLITE_OK) {
      set_reason(b, "schema mismatch");
      return NEEDS_RECOVERY;
    }
  }
  if (!query_int(b, "SELECT coalesce(sum(size), 0) FROM entries", &b->size) ||
      !query_int(b, "SELECT count(*) FROM entries", &b->count) ||
      !query_int(b, "SELECT coalesce(max(id), 0) FROM entries", &b->next_id) ||
      !query_int(b, "SELECT coalesce(max(last_used), 0) FROM entries", &b->use_seq)) {
    set_reason(b, "cannot read the index");
    return NEEDS_RECOVERY;
  }
  b->next_id++;
  return CRONC_OK;
}

static int try_open(disk_backend *b) {
  b->reason[0] = '\0';
  int fd = open(b->db_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return base_map_system_error(errno);
  close(fd);
  int rc =
      sqlite3_open_v2(b->db_path, &b->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
  if (rc != SQLITE_OK) {
    set_reason(b, "cannot open");
    close_db(b);
    return NEEDS_RECOVERY;
  }
  sqlite3_extended_result_codes(b->db, 1);
  sqlite3_busy_timeout(b->db, 1000);
  sqlite3_db_config(b->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
  sqlite3_db_config(b->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
  int rv = inspect_and_prepare(b);
  if (rv != CRONC_OK)
    close_db(b);
  return rv;
}

static void log_recovered(disk_backend *b, const char *moved_to) {
  if (!netlog_is_capturing(b->nl))
    return;
  strbuf sb = STRBUF_INIT;
  strbuf_append_str(&sb, "{\"path\":");
  strbuf_json_cstr(&sb, b->db_path);
  strbuf_append_str(&sb, ",\"moved_to\":");
  strbuf_json_cstr(&sb, moved_to);
  strbuf_append_str(&sb, ",\"reason\":");
  strbuf_json_cstr(&sb, b->reason);
  strbuf_append_str(&sb, ",\"scope\":\"cache_index\"}");
  if (!strbuf_failed(&sb))
    netlog_add_event(b->nl, b->src, NETLOG_TYPE_CRONC_DISK_CACHE_CORRUPTION_RECOVERED, strbuf_cstr(&sb));
  strbuf_free(&sb);
}

/* Moves the damaged index (and its -wal, -shm) aside, keeping it for a
 * post-mortem, under a name no later damage overwrites. */
static int move_aside(disk_backend *b) {
  char to[4200];
  for (int n = 0; n < 100; n++) {
    if (n == 0)
      snprintf(to, sizeof to, "%s.corrupt-%lld", b->db_path, (long long)time(NULL));
    else
      snprintf(to, sizeof to, "%s.corrupt-%lld.%d", b->db_path, (long long)time(NULL), n);
    struct stat st;
    if (stat(to, &st) != 0)
      break;
  }
  static const char *const suffix[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char a[4200], c[4220];
    snprintf(a, sizeof a, "%s%s", b->db_path, suffix[i]);
    snprintf(c, sizeof c, "%s%s", to, suffix[i]);
    if (rename(a, c) != 0 && errno != ENOENT)
      return base_map_system_error(errno);
  }
  log_recovered(b, to);
  return CRONC_OK;
}

/* Deletes body files no row names (a crash between the rename and the row,
 * or a rebuilt index) and every unfinished tmp- file. */
static void remove_orphans(disk_backend *b) {
  DIR *d = opendir(b->bodies);
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    bool orphan = true;
    if (strlen(de->d_name) == 16) {
      char *end = NULL;
      uint64_t id = strtoull(de->d_name, &end, 16);
      if (end && *end == '\0') {
        sqlite3_stmt *s = stmt(b, ST_HAS_FILE);
        sqlite3_bind_int64(s, 1, (int64_t)id);
        orphan = sqlite3_step(s) != SQLITE_ROW;
        sqlite3_reset(s);
      }
    }
    if (orphan) {
      char *p = path_join(b->bodies, de->d_name);
      if (p)
        unlink(p);
      free(p);
    }
  }
  closedir(d);
}

/* ---- Index operations ----------------------------------------------------- */

static void remove_file(disk_backend *b, int64_t id) {
  char p[4200];
  body_path(b, id, false, p, sizeof p);
  unlink(p);
}

static bool delete_row(disk_backend *b, int64_t id, bool in_file, int64_t size) {
  sqlite3_stmt *s = stmt(b, ST_DELETE_ID);
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  bool changed = rc == SQLITE_DONE && sqlite3_changes(b->db) > 0;
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) {
    log_write_failed(b, "delete");
    return false;
  }
  if (changed) {
    b->size -= size;
    b->count--;
    if (in_file)
      remove_file(b, id);
  }
  return true;
}

/* Writes the pending LRU touches (losing them costs LRU order, not data). */
static void flush_touches(disk_backend *b) {
  if (b->n_touch == 0 || !b->db)
    return;
  bool ok = exec(b, "BEGIN");
  for (int i = 0; ok && i < b->n_touch; i++) {
    sqlite3_stmt *s = stmt(b, ST_TOUCH);
    sqlite3_bind_int64(s, 1, b->touch_id[i]);
    sqlite3_bind_int64(s, 2, b->touch_seq[i]);
    ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_reset(s);
  }
  if (ok)
    ok = exec(b, "COMMIT");
  if (!ok) {
    log_write_failed(b, "touch");
    exec(b, "ROLLBACK");
  }
  b->n_touch = 0;
}

static void evict(disk_backend *b, int64_t keep_id) {
  int64_t skip = 0;
  if (b->size > b->max_size)
    flush_touches(b);
  while (b->size > b->max_size && b->count > skip) {
    sqlite3_stmt *s = stmt(b, ST_LRU_OLDEST);
    sqlite3_bind_int64(s, 1, skip);
    if (sqlite3_step(s) != SQLITE_ROW) {
      sqlite3_reset(s);
      break;
    }
    int64_t id = sqlite3_column_int64(s, 0);
    bool in_file = sqlite3_column_int(s, 1) != 0;
    int64_t size = sqlite3_column_int64(s, 2);
    sqlite3_reset(s);
    if (id == keep_id) {
      skip++;
      continue;
    }
    if (!delete_row(b, id, in_file, size))
      break;
  }
}

/* ---- Entries -------------------------------------------------------------- */

static const cache_backend_entry_vtable disk_entry_vt;

static disk_entry *entry_new(disk_backend *b, const char *key, bool writer) {
  disk_entry *e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  e->key = strdup(key);
  if (!e->key) {
    free(e);
    return NULL;
  }
  e->base.vt = &disk_entry_vt;
  e->be = b;
  e->writer = writer;
  e->fd = -1;
  strbuf_init(&e->body);
  return e;
}

static void entry_free(disk_entry *e) {
  if (e->fd >= 0)
    close(e->fd);
  strbuf_free(&e->body);
  free(e->meta);
  free(e->key);
  free(e);
}

static const uint8_t *de_meta(cache_backend_entry *be, size_t *len) {
  disk_entry *e = (disk_entry *)be;
  *len = e->meta_len;
  return e->meta;
}

static int64_t de_body_size(cache_backend_entry *be) { return ((disk_entry *)be)->body_size; }

static int de_read_body(cache_backend_entry *be, uint64_t offset, uint8_t *buf, size_t len,
                        cache_io_cb cb, void *ud) {
  disk_entry *e = (disk_entry *)be;
  if (e->writer)
    return CRONC_ERR_CACHE_READ_FAILURE;
  if (offset >= (uint64_t)e->body_size)
    return 0;
  uint64_t left = (uint64_t)e->body_size - offset;
  size_t n = left < len ? (size_t)left : len;
  if (n > INT32_MAX)
    n = INT32_MAX;
  if (e->in_file) {
    ssize_t r;
    do {
      r = pread(e->fd, buf, n, (off_t)offset);
    } while (r < 0 && errno == EINTR);
    /* The file was checked at open; a short read now is damage. */
    return r > 0 ? (int)r : CRONC_ERR_CACHE_READ_FAILURE;
  }
  /* Inline: incremental blob I/O reads the page cache straight into buf. */
  sqlite3_blob *blob = NULL;
  int rc = sqlite3_blob_open(e->be->db, "main", "entries", "body", e->id, 0, &blob);
  if (rc == SQLITE_OK && (uint64_t)sqlite3_blob_bytes(blob) != (uint64_t)e->body_size)
    rc = SQLITE_CORRUPT;
  if (rc == SQLITE_OK)
    rc = sqlite3_blob_read(blob, buf, (int)n, (int)offset);
  sqlite3_blob_close(blob);
  return rc == SQLITE_OK ? (int)n : CRONC_ERR_CACHE_READ_FAILURE;
}

static int de_set_meta(cache_backend_entry *be, const uint8_t *data, size_t len, cache_io_cb cb,
                       void *ud) {
  disk_entry *e = (disk_entry *)be;
  uint8_t *m = malloc(len ? len : 1);
  if (!m)
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  memcpy(m, data, len);
  if (!e->writer) {
    disk_backend *b = e->be;
    sqlite3_stmt *s = stmt(b, ST_UPDATE_META);
    sqlite3_bind_int64(s, 1, e->id);
    sqlite3_bind_blob(s, 2, data, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) {
      log_write_failed(b, "update meta");
      free(m);
      return CRONC_ERR_CACHE_WRITE_FAILURE;
    }
    if (sqlite3_changes(b->db) > 0)
      b->size += (int64_t)len - (int64_t)e->meta_len;
  }
  free(e->meta);
  e->meta = m;
  e->meta_len = len;
  return CRONC_OK;
}

static bool write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

static int de_append_body(cache_backend_entry *be, const uint8_t *data, size_t len, cache_io_cb cb,
                          void *ud) {
  disk_entry *e = (disk_entry *)be;
  disk_backend *b = e->be;
  if (!e->writer || e->committed || e->write_error || len > INT32_MAX)
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  if (e->body_size + (int64_t)len > b->max_size / 8) {
    e->write_error = true;
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  }
  if (e->fd < 0 && e->body.len + len > CACHE_DISK_INLINE_MAX) {
    /* Too big to keep inline: spill to tmp-<id>. */
    char p[4200];
    body_path(b, e->id, true, p, sizeof p);
    e->fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (e->fd < 0 || !write_all(e->fd, (const uint8_t *)e->body.data, e->body.len)) {
      log_write_failed(b, "body file");
      e->write_error = true;
      return CRONC_ERR_CACHE_WRITE_FAILURE;
    }
    strbuf_free(&e->body);
  }
  if (e->fd >= 0) {
    if (!write_all(e->fd, data, len)) {
      log_write_failed(b, "body file");
      e->write_error = true;
      return CRONC_ERR_CACHE_WRITE_FAILURE;
    }
  } else {
    strbuf_append(&e->body, data, len);
    if (strbuf_failed(&e->body)) {
      e->write_error = true;
      return CRONC_ERR_CACHE_WRITE_FAILURE;
    }
  }
  e->body_size += (int64_t)len;
  return (int)len;
}

static void discard_tmp(disk_entry *e) {
  if (e->fd >= 0) {
    close(e->fd);
    e->fd = -1;
    char p[4200];
    body_path(e->be, e->id, true, p, sizeof p);
    unlink(p);
  }
}

static int de_commit(cache_backend_entry *be, cache_io_cb cb, void *ud) {
  disk_entry *e = (disk_entry *)be;
  disk_backend *b = e->be;
  if (!e->writer || e->committed || e->write_error || !e->meta)
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  bool in_file = e->fd >= 0;
  int64_t size = (int64_t)(strlen(e->key) + e->meta_len) + e->body_size;
  if (size > b->max_size / 8)
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  char tmp[4200], final[4200];
  if (in_file) {
    /* The bytes reach the disk before the name does, and the name before
     * the row: a power cut never leaves a row naming a short file. */
    body_path(b, e->id, true, tmp, sizeof tmp);
    body_path(b, e->id, false, final, sizeof final);
    if (fdatasync(e->fd) != 0 || rename(tmp, final) != 0) {
      log_write_failed(b, "body file");
      discard_tmp(e);
      return CRONC_ERR_CACHE_WRITE_FAILURE;
    }
    close(e->fd);
    e->fd = -1;
  }
  bool ok = exec(b, "BEGIN IMMEDIATE");
  int64_t old_id = 0, old_size = 0;
  bool old_in_file = false, had_old = false;
  if (ok) {
    sqlite3_stmt *s = stmt(b, ST_OLD);
    sqlite3_bind_text(s, 1, e->key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      had_old = true;
      old_id = sqlite3_column_int64(s, 0);
      old_in_file = sqlite3_column_int(s, 1) != 0;
      old_size = sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
  }
  if (ok && had_old) {
    sqlite3_stmt *s = stmt(b, ST_DELETE_ID);
    sqlite3_bind_int64(s, 1, old_id);
    ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_reset(s);
  }
  if (ok) {
    sqlite3_stmt *s = stmt(b, ST_INSERT);
    sqlite3_bind_int64(s, 1, e->id);
    sqlite3_bind_text(s, 2, e->key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, e->meta, (int)e->meta_len, SQLITE_STATIC);
    if (in_file)
      sqlite3_bind_null(s, 4);
    else
      sqlite3_bind_blob(s, 4, e->body.data ? e->body.data : "", (int)e->body.len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, e->body_size);
    sqlite3_bind_int(s, 6, in_file ? 1 : 0);
    sqlite3_bind_int64(s, 7, size);
    sqlite3_bind_int64(s, 8, ++b->use_seq);
    ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
  if (ok)
    ok = exec(b, "COMMIT");
  if (!ok) {
    log_write_failed(b, "commit");
    exec(b, "ROLLBACK");
    if (in_file)
      unlink(final);
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  }
  if (had_old) {
    b->size -= old_size;
    b->count--;
    if (old_in_file)
      remove_file(b, old_id);
  }
  b->size += size;
  b->count++;
  e->committed = true;
  strbuf_free(&e->body);
  evict(b, e->id);
  return CRONC_OK;
}

static void de_close(cache_backend_entry *be) {
  disk_entry *e = (disk_entry *)be;
  if (!e)
    return;
  if (e->writer && !e->committed)
    discard_tmp(e);
  entry_free(e);
}

static const cache_backend_entry_vtable disk_entry_vt = {
    de_meta, de_body_size, de_read_body, de_set_meta, de_append_body, de_commit, de_close,
};

/* ---- Backend -------------------------------------------------------------- */

static int db_open_entry(cache_backend *bb, const char *key, cache_backend_entry **out,
                         cache_io_cb cb, void *ud) {
  disk_backend *b = (disk_backend *)bb;
  sqlite3_stmt *s = stmt(b, ST_OPEN);
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(s);
    return CRONC_ERR_CACHE_MISS;
  }
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return CRONC_ERR_CACHE_READ_FAILURE;
  }
  disk_entry *e = entry_new(b, key, false);
  if (!e) {
    sqlite3_reset(s);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  e->id = sqlite3_column_int64(s, 0);
  const void *m = sqlite3_column_blob(s, 1);
  e->meta_len = (size_t)sqlite3_column_bytes(s, 1);
  e->body_size = sqlite3_column_int64(s, 2);
  e->in_file = sqlite3_column_int(s, 3) != 0;
  e->meta = malloc(e->meta_len ? e->meta_len : 1);
  if (e->meta && e->meta_len)
    memcpy(e->meta, m, e->meta_len);
  sqlite3_reset(s);
  int64_t row_size = (int64_t)(strlen(key) + e->meta_len) + e->body_size;
  if (!e->meta) {
    entry_free(e);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  bool damaged = e->body_size < 0;
  if (!damaged && e->in_file) {
    char p[4200];
    body_path(b, e->id, false, p, sizeof p);
    e->fd = open(p, O_RDONLY | O_CLOEXEC);
    struct stat st;
    damaged = e->fd < 0 || fstat(e->fd, &st) != 0 || st.st_size != e->body_size;
  }
  if (damaged) {
    delete_row(b, e->id, e->in_file, row_size);
    entry_free(e);
    return CRONC_ERR_CACHE_READ_FAILURE;
  }
  b->touch_id[b->n_touch] = e->id;
  b->touch_seq[b->n_touch] = ++b->use_seq;
  if (++b->n_touch == DISK_TOUCH_BATCH)
    flush_touches(b);
  e->committed = true;
  *out = &e->base;
  return CRONC_OK;
}

static int db_create_entry(cache_backend *bb, const char *key, cache_backend_entry **out,
                           cache_io_cb cb, void *ud) {
  disk_backend *b = (disk_backend *)bb;
  disk_entry *e = entry_new(b, key, true);
  if (!e)
    return CRONC_ERR_OUT_OF_MEMORY;
  e->id = b->next_id++;
  *out = &e->base;
  return CRONC_OK;
}

static int db_doom(cache_backend *bb, const char *key, cache_io_cb cb, void *ud) {
  disk_backend *b = (disk_backend *)bb;
  sqlite3_stmt *s = stmt(b, ST_DELETE_KEY);
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? CRONC_OK : CRONC_ERR_CACHE_DOOM_FAILURE;
  }
  int64_t id = sqlite3_column_int64(s, 0);
  bool in_file = sqlite3_column_int(s, 1) != 0;
  int64_t size = sqlite3_column_int64(s, 2);
  sqlite3_reset(s);
  return delete_row(b, id, in_file, size) ? CRONC_OK : CRONC_ERR_CACHE_DOOM_FAILURE;
}

static int64_t db_size(cache_backend *bb) { return ((disk_backend *)bb)->size; }
static int64_t db_count(cache_backend *bb) { return ((disk_backend *)bb)->count; }

static void db_free(cache_backend *bb) {
  disk_backend *b = (disk_backend *)bb;
  if (!b)
    return;
  flush_touches(b);
  close_db(b);
  if (b->lock_fd >= 0)
    close(b->lock_fd); /* releases the flock */
  free(b->dir);
  free(b->db_path);
  free(b->bodies);
  free(b);
}

static const cache_backend_vtable disk_vt = {db_open_entry, db_create_entry, db_doom,
                                             db_size,       db_count,        db_free};

int cache_disk_backend_new(const char *dir, int64_t max_size, netlog *nl, cache_backend **out) {
  if (!dir || !*dir || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  int rv = mkdir_p(dir);
  if (rv != CRONC_OK)
    return rv;
  disk_backend *b = calloc(1, sizeof *b);
  if (!b)
    return CRONC_ERR_OUT_OF_MEMORY;
  b->base.vt = &disk_vt;
  b->lock_fd = -1;
  b->nl = nl;
  b->src = netlog_source_new(nl, NETLOG_SOURCE_DISK_CACHE_ENTRY);
  b->max_size = max_size > 0 ? max_size : DISK_DEFAULT_MAX;
  b->dir = strdup(dir);
  b->db_path = path_join(dir, DISK_DB_NAME);
  b->bodies = path_join(dir, DISK_BODIES);
  char *lock = path_join(dir, DISK_LOCK_NAME);
  if (!b->dir || !b->db_path || !b->bodies || !lock) {
    free(lock);
    db_free(&b->base);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  b->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  free(lock);
  if (b->lock_fd < 0) {
    rv = base_map_system_error(errno);
    db_free(&b->base);
    return rv;
  }
  if (flock(b->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    db_free(&b->base);
    return CRONC_ERR_ACCESS_DENIED;
  }
  if ((rv = mkdir_p(b->bodies)) != CRONC_OK) {
    db_free(&b->base);
    return rv;
  }
  rv = try_open(b);
  if (rv == NEEDS_RECOVERY) {
    rv = move_aside(b);
    if (rv == CRONC_OK)
      rv = try_open(b);
    if (rv == NEEDS_RECOVERY)
      rv = CRONC_ERR_CACHE_OPEN_FAILURE;
  }
  if (rv != CRONC_OK) {
    db_free(&b->base);
    return rv;
  }
  remove_orphans(b);
  evict(b, 0); /* a smaller limit than last time */
  *out = &b->base;
  return CRONC_OK;
}
