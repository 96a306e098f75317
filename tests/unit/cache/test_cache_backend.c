/* The backends behind cache_backend.h, memory and disk alike: a committed
 * entry reads back, an uncommitted one is invisible, replacement and doom,
 * LRU eviction to the size limit; disk only: reopen, a corrupt index moved
 * aside and rebuilt (NetLog event), a damaged body file, orphan cleanup, the
 * directory lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache_backend.h"
#include "cronc/cronc.h"
#include "support/net_test_util.h"

typedef struct fx {
  char dir[256];
  bool disk;
} fx;

static cache_backend *open_be(fx *f, int64_t max, netlog *nl) {
  if (!f->disk)
    return cache_mem_backend_new(max);
  cache_backend *b = NULL;
  assert_int_equal(cache_disk_backend_new(f->dir, max, nl, &b), 0);
  return b;
}

static int setup_mem(void **state) {
  fx *f = calloc(1, sizeof *f);
  *state = f;
  return 0;
}

static int setup_disk(void **state) {
  fx *f = calloc(1, sizeof *f);
  f->disk = true;
  assert_true(test_make_temp_dir("cronc-cbe", f->dir, sizeof f->dir));
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  if (f->disk)
    test_remove_tree(f->dir);
  free(f);
  return 0;
}

static void put(cache_backend *b, const char *key, const char *meta, const uint8_t *body,
                size_t len) {
  cache_backend_entry *w = NULL;
  assert_int_equal(b->vt->create_entry(b, key, &w, NULL, NULL), 0);
  for (size_t off = 0; off < len;) {
    size_t n = len - off < 7000 ? len - off : 7000;
    assert_int_equal(w->vt->append_body(w, body + off, n, NULL, NULL), (int)n);
    off += n;
  }
  assert_int_equal(w->vt->set_meta(w, (const uint8_t *)meta, strlen(meta), NULL, NULL), 0);
  assert_int_equal(w->vt->commit(w, NULL, NULL), 0);
  w->vt->close(w);
}

static void expect(cache_backend *b, const char *key, const char *meta, const uint8_t *body,
                   size_t len) {
  cache_backend_entry *e = NULL;
  assert_int_equal(b->vt->open_entry(b, key, &e, NULL, NULL), 0);
  size_t ml;
  const uint8_t *m = e->vt->meta(e, &ml);
  assert_int_equal(ml, strlen(meta));
  assert_memory_equal(m, meta, ml);
  assert_int_equal(e->vt->body_size(e), (int64_t)len);
  uint8_t *got = malloc(len + 1);
  size_t off = 0;
  for (;;) {
    int rv = e->vt->read_body(e, off, got + off, len + 1 - off, NULL, NULL);
    assert_true(rv >= 0);
    if (rv == 0)
      break;
    off += (size_t)rv;
  }
  assert_int_equal(off, len);
  if (len)
    assert_memory_equal(got, body, len);
  free(got);
  e->vt->close(e);
}

static void committed_entry_reads_back(void **state) {
  fx *f = *state;
  cache_backend *b = open_be(f, 1 << 20, NULL);
  uint8_t small[100], big[40000];
  memset(small, 's', sizeof small);
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (uint8_t)i;
  put(b, "k-small", "meta-small", small, sizeof small);
  put(b, "k-big", "meta-big", big, sizeof big);
  put(b, "k-empty", "meta-empty", NULL, 0);
  expect(b, "k-small", "meta-small", small, sizeof small);
  expect(b, "k-big", "meta-big", big, sizeof big);
  expect(b, "k-empty", "meta-empty", NULL, 0);
  assert_int_equal(b->vt->count(b), 3);
  assert_true(b->vt->size(b) > (int64_t)(sizeof small + sizeof big));
  b->vt->free(b);
}

static void uncommitted_writer_is_invisible_and_discarded(void **state) {
  fx *f = *state;
  cache_backend *b = open_be(f, 1 << 20, NULL);
  uint8_t body[30000] = {1};
  put(b, "k", "old", body, 10);
  cache_backend_entry *w = NULL;
  assert_int_equal(b->vt->create_entry(b, "k", &w, NULL, NULL), 0);
  assert_int_equal(w->vt->append_body(w, body, sizeof body, NULL, NULL), (int)sizeof body);
  assert_int_equal(w->vt->set_meta(w, (const uint8_t *)"new", 3, NULL, NULL), 0);
  expect(b, "k", "old", body, 10); /* still the old one */
  w->vt->close(w);                 /* a crash-like abandon */
  expect(b, "k", "old", body, 10);
  assert_int_equal(b->vt->count(b), 1);
  b->vt->free(b);
}

static void commit_replaces_and_doom_removes(void **state) {
  fx *f = *state;
  cache_backend *b = open_be(f, 1 << 20, NULL);
  uint8_t a[20000], c[5];
  memset(a, 'a', sizeof a);
  memset(c, 'c', sizeof c);
  put(b, "k", "one", a, sizeof a);
  put(b, "k", "two", c, sizeof c);
  expect(b, "k", "two", c, sizeof c);
  assert_int_equal(b->vt->count(b), 1);
  assert_int_equal(b->vt->doom_entry(b, "k", NULL, NULL), 0);
  cache_backend_entry *e = NULL;
  assert_int_equal(b->vt->open_entry(b, "k", &e, NULL, NULL), CRONC_ERR_CACHE_MISS);
  assert_int_equal(b->vt->count(b), 0);
  assert_int_equal(b->vt->size(b), 0);
  assert_int_equal(b->vt->doom_entry(b, "absent", NULL, NULL), 0);
  b->vt->free(b);
}

static void set_meta_on_a_reader_updates_in_place(void **state) {
  fx *f = *state;
  cache_backend *b = open_be(f, 1 << 20, NULL);
  uint8_t body[10] = {0};
  put(b, "k", "before", body, sizeof body);
  cache_backend_entry *e = NULL;
  assert_int_equal(b->vt->open_entry(b, "k", &e, NULL, NULL), 0);
  assert_int_equal(e->vt->set_meta(e, (const uint8_t *)"after!", 6, NULL, NULL), 0);
  e->vt->close(e);
  expect(b, "k", "after!", body, sizeof body);
  b->vt->free(b);
}

static void size_limit_evicts_least_recently_used(void **state) {
  fx *f = *state;
  cache_backend *b = open_be(f, 8000, NULL);
  uint8_t body[900];
  memset(body, 'x', sizeof body);
  put(b, "k0", "m", body, sizeof body);
  put(b, "k1", "m", body, sizeof body);
  for (int i = 2; i < 8; i++) {
    char k[8];
    snprintf(k, sizeof k, "k%d", i);
    put(b, k, "m", body, sizeof body);
    expect(b, "k0", "m", body, sizeof body); /* keep k0 recently used */
  }
  put(b, "k8", "m", body, sizeof body);
  assert_true(b->vt->size(b) <= 8000);
  cache_backend_entry *e = NULL;
  assert_int_equal(b->vt->open_entry(b, "k1", &e, NULL, NULL), CRONC_ERR_CACHE_MISS);
  expect(b, "k0", "m", body, sizeof body);
  expect(b, "k8", "m", body, sizeof body);
  /* Larger than max/8: refused. */
  cache_backend_entry *w = NULL;
  assert_int_equal(b->vt->create_entry(b, "huge", &w, NULL, NULL), 0);
  uint8_t huge[1100] = {0};
  assert_int_equal(w->vt->append_body(w, huge, sizeof huge, NULL, NULL),
                   CRONC_ERR_CACHE_WRITE_FAILURE);
  w->vt->close(w);
  b->vt->free(b);
}

static void disk_entries_survive_reopen(void **state) {
  fx *f = *state;
  cache_backend *b = open_be(f, 1 << 20, NULL);
  uint8_t big[50000];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (uint8_t)(i * 7);
  put(b, "big", "mb", big, sizeof big);
  put(b, "small", "ms", big, 10);
  int64_t size = b->vt->size(b);
  b->vt->free(b);
  b = open_be(f, 1 << 20, NULL);
  assert_int_equal(b->vt->count(b), 2);
  assert_int_equal(b->vt->size(b), size);
  expect(b, "big", "mb", big, sizeof big);
  expect(b, "small", "ms", big, 10);
  b->vt->free(b);
}

static void second_open_of_a_directory_is_refused(void **state) {
  fx *f = *state;
  cache_backend *b = open_be(f, 0, NULL);
  cache_backend *c = NULL;
  assert_int_equal(cache_disk_backend_new(f->dir, 0, NULL, &c), CRONC_ERR_ACCESS_DENIED);
  assert_null(c);
  b->vt->free(b);
}

static int recovered_events;
static void count_recovered(const netlog_entry *e, void *ud) {
  if (e->type == NETLOG_TYPE_CRONC_DISK_CACHE_CORRUPTION_RECOVERED)
    recovered_events++;
}

static bool has_file_with_prefix(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  bool found = false;
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL)
    found |= strncmp(de->d_name, prefix, strlen(prefix)) == 0;
  if (d)
    closedir(d);
  return found;
}

static void corrupt_index_is_moved_aside_and_rebuilt(void **state) {
  fx *f = *state;
  cache_backend *b = open_be(f, 1 << 20, NULL);
  uint8_t big[30000] = {0};
  put(b, "k", "m", big, sizeof big);
  b->vt->free(b);
  char p[512];
  snprintf(p, sizeof p, "%s/cache.sqlite", f->dir);
  static const char junk[8192] = "this is not an SQLite database at all";
  assert_int_equal(test_write_file(p, junk, sizeof junk), 0);
  snprintf(p, sizeof p, "%s/cache.sqlite-wal", f->dir);
  remove(p);
  netlog *nl = netlog_new(NULL);
  recovered_events = 0;
  netlog_observer *o = netlog_add_observer(nl, count_recovered, NULL);
  b = open_be(f, 1 << 20, nl);
  assert_int_equal(recovered_events, 1);
  assert_true(has_file_with_prefix(f->dir, "cache.sqlite.corrupt-"));
  assert_int_equal(b->vt->count(b), 0);
  /* The old body file was an orphan of the lost index: removed. */
  snprintf(p, sizeof p, "%s/bodies", f->dir);
  DIR *d = opendir(p);
  int files = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    files += de->d_name[0] != '.';
  closedir(d);
  assert_int_equal(files, 0);
  /* And it works again. */
  put(b, "k2", "m2", big, 100);
  expect(b, "k2", "m2", big, 100);
  b->vt->free(b);
  netlog_remove_observer(nl, o);
  netlog_free(nl);
}

static void damaged_body_file_is_a_read_failure_and_removed(void **state) {
  fx *f = *state;
  cache_backend *b = open_be(f, 1 << 20, NULL);
  uint8_t big[30000] = {0};
  put(b, "k", "m", big, sizeof big);
  char p[512];
  snprintf(p, sizeof p, "%s/bodies", f->dir);
  DIR *d = opendir(p);
  struct dirent *de;
  char name[1100] = "";
  while ((de = readdir(d)) != NULL)
    if (de->d_name[0] != '.')
      snprintf(name, sizeof name, "%s/%s", p, de->d_name);
  closedir(d);
  assert_true(name[0]);
  assert_int_equal(test_write_file(name, "short", 5), 0); /* a torn write */
  cache_backend_entry *e = NULL;
  assert_int_equal(b->vt->open_entry(b, "k", &e, NULL, NULL), CRONC_ERR_CACHE_READ_FAILURE);
  assert_int_equal(b->vt->open_entry(b, "k", &e, NULL, NULL), CRONC_ERR_CACHE_MISS);
  assert_int_equal(b->vt->count(b), 0);
  b->vt->free(b);
}

static void leftover_tmp_files_are_removed_at_open(void **state) {
  fx *f = *state;
  cache_backend *b = open_be(f, 1 << 20, NULL);
  b->vt->free(b);
  char p[512];
  snprintf(p, sizeof p, "%s/bodies/tmp-00000000000000aa", f->dir);
  assert_int_equal(test_write_file(p, "partial", 7), 0);
  snprintf(p, sizeof p, "%s/bodies/00000000000000bb", f->dir);
  assert_int_equal(test_write_file(p, "orphan", 6), 0);
  b = open_be(f, 1 << 20, NULL);
  struct stat st;
  assert_int_not_equal(stat(p, &st), 0);
  snprintf(p, sizeof p, "%s/bodies/tmp-00000000000000aa", f->dir);
  assert_int_not_equal(stat(p, &st), 0);
  b->vt->free(b);
}

#define BOTH(fn)                                                                                   \
  cmocka_unit_test_setup_teardown(fn, setup_mem, teardown),                                        \
      cmocka_unit_test_setup_teardown(fn, setup_disk, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      BOTH(committed_entry_reads_back),
      BOTH(uncommitted_writer_is_invisible_and_discarded),
      BOTH(commit_replaces_and_doom_removes),
      BOTH(set_meta_on_a_reader_updates_in_place),
      BOTH(size_limit_evicts_least_recently_used),
      cmocka_unit_test_setup_teardown(disk_entries_survive_reopen, setup_disk, teardown),
      cmocka_unit_test_setup_teardown(second_open_of_a_directory_is_refused, setup_disk, teardown),
      cmocka_unit_test_setup_teardown(corrupt_index_is_moved_aside_and_rebuilt, setup_disk,
                                      teardown),
      cmocka_unit_test_setup_teardown(damaged_body_file_is_a_read_failure_and_removed, setup_disk,
                                      teardown),
      cmocka_unit_test_setup_teardown(leftover_tmp_files_are_removed_at_open, setup_disk, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
