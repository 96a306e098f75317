/* Fuzzes the store's loader: whatever is on disk, store_open +
 * store_load_props + store_to_json never crash, every NetLog params object
 * is valid JSON, the dump is valid JSON, and what a writable store loads
 * saves and reloads unchanged.
 *
 * The first input byte picks the mode:
 *   even: (a) the rest is written as cronc.sqlite; bit 1 set opens it
 *         READ_ONLY, else READ_WRITE.
 *   odd:  (b) a valid empty store is created, then the rest drives INSERTs
 *         of ints, huge values, text, blobs, reals and NULLs into its tables
 *         through prepared statements, and the store is opened and loaded.
 * One temp directory per process (on /dev/shm when there is one), emptied
 * before each input. */
#include <dirent.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json_check.h"
#include "base/netlog.h"
#include "cronc/cronc.h"
#include "http/props_snapshot.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[64];
static char g_db[128];
static netlog *g_nl;

static void observe(const netlog_entry *e, void *user_data) {
  (void)user_data;
  if (e->params && !base_json_is_object(e->params, strlen(e->params))) {
    fprintf(stderr, "invalid NetLog params: %s\n", e->params);
    abort();
  }
}

static void empty_dir(void) {
  DIR *d = opendir(g_dir);
  struct dirent *de;
  char path[512];
  while (d && (de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", g_dir, de->d_name);
    unlink(path);
  }
  if (d)
    closedir(d);
}

static void cleanup(void) {
  empty_dir();
  rmdir(g_dir);
}

static void init_once(void) {
  if (g_dir[0])
    return;
  const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(g_dir, sizeof g_dir, "%s/cronc-fuzz-store-XXXXXX", base);
  if (!mkdtemp(g_dir))
    abort();
  snprintf(g_db, sizeof g_db, "%s/%s", g_dir, STORE_DB_NAME);
  g_nl = netlog_new(NULL);
  if (!g_nl || !netlog_add_observer(g_nl, observe, NULL))
    abort();
  atexit(cleanup);
}

static bool snapshots_equal(const props_snapshot *a, const props_snapshot *b) {
  if (a->n_servers != b->n_servers || a->n_broken != b->n_broken ||
      a->quic_worked != b->quic_worked ||
      strcmp(a->quic_worked_address, b->quic_worked_address) != 0)
    return false;
  for (size_t i = 0; i < a->n_servers; i++) {
    const props_snapshot_server *x = &a->servers[i], *y = &b->servers[i];
    if (!url_origin_equal(&x->origin, &y->origin) || x->supports_spdy != y->supports_spdy ||
        x->srtt_us != y->srtt_us || x->n_alts != y->n_alts)
      return false;
    for (size_t j = 0; j < x->n_alts; j++)
      if (!altsvc_info_equal(&x->alts[j], &y->alts[j]))
        return false;
  }
  for (size_t i = 0; i < a->n_broken; i++) {
    const props_snapshot_broken *x = &a->broken[i], *y = &b->broken[i];
    if (!altsvc_service_equal(&x->service, &y->service) || x->broken_count != y->broken_count ||
        x->is_broken != y->is_broken || x->broken_until_us != y->broken_until_us)
      return false;
  }
  return true;
}

static void exercise(store_open_mode mode) {
  store *s = NULL;
  if (store_open(g_dir, mode, g_nl, &s) != CRONC_OK)
    return;
  props_snapshot snap;
  int rc = store_load_props(s, &snap);
  strbuf sb = STRBUF_INIT;
  if (store_to_json(s, &sb) == CRONC_OK && !base_json_is_object(strbuf_cstr(&sb), sb.len)) {
    fprintf(stderr, "invalid dump: %s\n", strbuf_cstr(&sb));
    abort();
  }
  strbuf_free(&sb);
  if (rc == CRONC_OK && store_is_writable(s)) {
    props_snapshot again;
    if (store_save_props(s, &snap) == CRONC_OK && store_load_props(s, &again) == CRONC_OK &&
        !snapshots_equal(&snap, &again)) {
      fprintf(stderr, "loaded data does not survive a save\n");
      abort();
    }
    props_snapshot_free(&again);
  }
  props_snapshot_free(&snap);
  store_close(s);
}

/* ---- mode (b): rows from the input ------------------------------------ */

typedef struct reader {
  const uint8_t *p;
  size_t n;
} reader;

static uint8_t take_byte(reader *r) {
  if (!r->n)
    return 0;
  r->n--;
  return *r->p++;
}

static int64_t take_i64(reader *r) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | take_byte(r);
  return (int64_t)v;
}

static const char *const k_words[] = {
    "quic",
    "h2",
    "hq",
    "h3",
    "https://example.com",
    "http://a.b:8",
    "[::1]",
    "h3,h3-29",
    "example.com",
    "https://[2001:db8::1]:8443",
    "",
    "ALT.EX",
    "xn--nxasmq6b",
    "a,b,c,d,e",
    "https://x.example:0",
};

static void bind_value(sqlite3_stmt *st, int col, reader *r) {
  uint8_t kind = take_byte(r);
  switch (kind % 9) {
  case 0:
    sqlite3_bind_null(st, col);
    break;
  case 1:
    sqlite3_bind_int64(st, col, (int8_t)take_byte(r));
    break;
  case 2:
    sqlite3_bind_int64(st, col, take_i64(r));
    break;
  case 3: {
    static const int64_t huge[] = {INT64_MIN, INT64_MAX, 65535, 65536, 70000, -1, 0, 1, 443};
    sqlite3_bind_int64(st, col, huge[take_byte(r) % 9]);
    break;
  }
  case 4:
  case 5: {
    size_t len = take_byte(r);
    if (len > r->n)
      len = r->n;
    sqlite3_bind_text(st, col, (const char *)r->p, (int)len, SQLITE_TRANSIENT);
    r->p += len;
    r->n -= len;
    break;
  }
  case 6: {
    size_t len = take_byte(r);
    if (len > r->n)
      len = r->n;
    sqlite3_bind_blob(st, col, r->p, (int)len, SQLITE_TRANSIENT);
    r->p += len;
    r->n -= len;
    break;
  }
  case 7: {
    int64_t bits = take_i64(r);
    double d;
    memcpy(&d, &bits, sizeof d);
    sqlite3_bind_double(st, col, d);
    break;
  }
  default: {
    const char *w = k_words[take_byte(r) % (sizeof k_words / sizeof k_words[0])];
    sqlite3_bind_text(st, col, w, -1, SQLITE_STATIC);
    break;
  }
  }
}

static void fill_rows(reader *r) {
  static const struct {
    const char *sql;
    int cols;
  } k_tables[] = {
      {"INSERT OR REPLACE INTO servers VALUES(?,?,?,?)", 4},
      {"INSERT OR REPLACE INTO alternative_services VALUES(?,?,?,?,?,?,?)", 7},
      {"INSERT OR REPLACE INTO broken_alternative_services VALUES(?,?,?,?,?,?,?)", 7},
      {"INSERT OR REPLACE INTO supports_quic VALUES(?,?,?)", 3},
      {"INSERT OR REPLACE INTO quic_server_info VALUES(?,?,?,?)", 4},
  };
  enum { N_TABLES = sizeof k_tables / sizeof k_tables[0] };
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(g_db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    return;
  }
  sqlite3_stmt *st[N_TABLES] = {0};
  for (int i = 0; i < N_TABLES; i++)
    sqlite3_prepare_v2(db, k_tables[i].sql, -1, &st[i], NULL);
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  for (int rows = 0; r->n > 0 && rows < 256; rows++) {
    int t = take_byte(r) % N_TABLES;
    if (!st[t])
      continue;
    for (int c = 1; c <= k_tables[t].cols; c++)
      bind_value(st[t], c, r);
    sqlite3_step(st[t]); /* constraint failures are part of the game */
    sqlite3_reset(st[t]);
    sqlite3_clear_bindings(st[t]);
  }
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  for (int i = 0; i < N_TABLES; i++)
    sqlite3_finalize(st[i]);
  sqlite3_close(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  init_once();
  empty_dir();
  uint8_t mode = data[0];
  data++;
  size--;
  if ((mode & 1) == 0) {
    FILE *fp = fopen(g_db, "wb");
    if (!fp)
      abort();
    if (size)
      fwrite(data, 1, size, fp);
    fclose(fp);
    exercise(mode & 2 ? STORE_OPEN_READ_ONLY : STORE_OPEN_READ_WRITE);
    return 0;
  }
  store *s = NULL;
  if (store_open(g_dir, STORE_OPEN_READ_WRITE, NULL, &s) != CRONC_OK)
    abort(); /* an empty directory must always give a store */
  store_close(s);
  reader r = {data, size};
  fill_rows(&r);
  exercise(STORE_OPEN_READ_WRITE);
  return 0;
}
