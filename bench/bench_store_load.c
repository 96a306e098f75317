/* Benchmark: the store at engine start and at a batched write. A store
 * holding 10,000 origins (1-2 alternatives each, 1,000 broken services) is
 * timed for store_open + store_load_props (what engine start costs, the
 * quick_check included), store_save_props (one whole-snapshot transaction),
 * and props_apply_snapshot of the loaded snapshot into a fresh server
 * properties object (capacity 500: the most recent 500 are kept). Medians of
 * several runs, in milliseconds, and origins per second. Exits non-zero if an
 * operation fails; no assertions on time. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cronc/cronc.h"
#include "http/server_properties.h"
#include "store/store.h"

#define N_ORIGINS 10000
#define N_BROKEN  1000
#define RUNS      7

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int fail(const char *what, int rc) {
  fprintf(stderr, "bench_store_load: %s failed: %s\n", what, cronc_error_name(rc));
  return 1;
}

static int build_snapshot(props_snapshot *snap, int64_t now_us) {
  props_snapshot_init(snap);
  snap->servers = calloc(N_ORIGINS, sizeof *snap->servers);
  snap->broken = calloc(N_BROKEN, sizeof *snap->broken);
  if (!snap->servers || !snap->broken)
    return CRONC_ERR_OUT_OF_MEMORY;
  for (int i = 0; i < N_ORIGINS; i++) {
    props_snapshot_server *srv = &snap->servers[snap->n_servers++];
    char host[64];
    int len = snprintf(host, sizeof host, "host%d.example%d.com", i, i % 97);
    int rc = url_origin_init(&srv->origin, URL_SCHEME_HTTPS, host, (size_t)len,
                             i % 10 == 0 ? (uint16_t)(8000 + i % 1000) : 0);
    if (rc != CRONC_OK)
      return rc;
    srv->supports_spdy = i % 3 == 0;
    srv->srtt_us = 1000 + i;
    srv->n_alts = 1 + (size_t)(i % 2);
    srv->alts = calloc(srv->n_alts, sizeof *srv->alts);
    if (!srv->alts)
      return CRONC_ERR_OUT_OF_MEMORY;
    altsvc_info *q = &srv->alts[0];
    q->service.protocol = ALTSVC_PROTO_QUIC;
    q->service.port = 443;
    q->expiration_us = now_us + 86400 * BASE_US_PER_SEC;
    q->n_alpns = 1;
    strcpy(q->alpns[0], "h3");
    if (srv->n_alts == 2) {
      altsvc_info *h = &srv->alts[1];
      h->service.protocol = ALTSVC_PROTO_HTTP2;
      h->service.port = 8443;
      snprintf(h->service.host, sizeof h->service.host, "alt.%s", host);
      h->expiration_us = BASE_TIME_MAX;
    }
  }
  for (int i = 0; i < N_BROKEN; i++) {
    props_snapshot_broken *b = &snap->broken[snap->n_broken++];
    b->service.protocol = ALTSVC_PROTO_QUIC;
    b->service.port = 443;
    snprintf(b->service.host, sizeof b->service.host, "host%d.example%d.com", i * 7, i * 7 % 97);
    b->broken_count = 1 + i % 5;
    b->is_broken = i % 2 == 0;
    b->broken_until_us = b->is_broken ? now_us + 300 * BASE_US_PER_SEC : 0;
  }
  snap->quic_worked = true;
  strcpy(snap->quic_worked_address, "192.0.2.1");
  return CRONC_OK;
}

int main(void) {
  char dir[] = "/tmp/cronc-bench-store-XXXXXX";
  if (!mkdtemp(dir))
    return fail("mkdtemp", CRONC_ERR_FAILED);
  int64_t now_us = base_clock_now(base_clock_system());
  props_snapshot snap;
  int rc = build_snapshot(&snap, now_us);
  if (rc != CRONC_OK)
    return fail("building the snapshot", rc);

  double save_ms[RUNS], load_ms[RUNS], open_ms[RUNS], apply_ms[RUNS];
  size_t n_alts = 0;
  store *s = NULL;
  rc = store_open(dir, STORE_OPEN_READ_WRITE, NULL, &s);
  if (rc != CRONC_OK)
    return fail("store_open", rc);
  for (int r = 0; r < RUNS; r++) {
    double t0 = now_ms();
    rc = store_save_props(s, &snap);
    save_ms[r] = now_ms() - t0;
    if (rc != CRONC_OK)
      return fail("store_save_props", rc);
  }
  store_close(s);
  struct stat st;
  char db[128];
  snprintf(db, sizeof db, "%s/%s", dir, STORE_DB_NAME);
  long long db_size = stat(db, &st) == 0 ? (long long)st.st_size : -1;

  props_snapshot loaded;
  props_snapshot_init(&loaded);
  for (int r = 0; r < RUNS; r++) {
    props_snapshot_free(&loaded);
    double t0 = now_ms();
    rc = store_open(dir, STORE_OPEN_READ_WRITE, NULL, &s);
    double t1 = now_ms();
    if (rc == CRONC_OK)
      rc = store_load_props(s, &loaded);
    double t2 = now_ms();
    if (rc != CRONC_OK)
      return fail("store_open + store_load_props", rc);
    open_ms[r] = t1 - t0;
    load_ms[r] = t2 - t0;
    store_close(s);
  }
  if (loaded.n_servers != N_ORIGINS || loaded.n_broken != N_BROKEN)
    return fail("loading everything back", CRONC_ERR_UNEXPECTED);
  for (size_t i = 0; i < loaded.n_servers; i++)
    n_alts += loaded.servers[i].n_alts;

  size_t kept = 0;
  for (int r = 0; r < RUNS; r++) {
    props_params params;
    props_params_init(&params); /* capacity 500 */
    props *p = props_new(&params);
    if (!p)
      return fail("props_new", CRONC_ERR_OUT_OF_MEMORY);
    double t0 = now_ms();
    rc = props_apply_snapshot(p, &loaded);
    apply_ms[r] = now_ms() - t0;
    kept = props_server_count(p);
    props_free(p);
    if (rc != CRONC_OK)
      return fail("props_apply_snapshot", rc);
  }

  double m_save = median(save_ms, RUNS), m_load = median(load_ms, RUNS),
         m_open = median(open_ms, RUNS), m_apply = median(apply_ms, RUNS);
  printf("store: %d origins, %zu alternatives, %d broken; database %lld bytes\n", N_ORIGINS, n_alts,
         N_BROKEN, db_size);
  printf("store_open + store_load_props: %8.2f ms median of %d (%.0f origins/s; open alone "
         "%.2f ms)\n",
         m_load, RUNS, N_ORIGINS / (m_load / 1e3), m_open);
  printf("store_save_props:              %8.2f ms median of %d (%.0f origins/s)\n", m_save, RUNS,
         N_ORIGINS / (m_save / 1e3));
  printf("props_apply_snapshot (cap %d): %8.2f ms median of %d (%.0f origins/s; %zu kept)\n",
         PROPS_MAX_SERVER_INFO_ENTRIES, m_apply, RUNS, N_ORIGINS / (m_apply / 1e3), kept);

  props_snapshot_free(&loaded);
  props_snapshot_free(&snap);
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}
