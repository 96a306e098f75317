/* cache/cache_backend: where the HTTP cache keeps entries (Chromium's
 * disk_cache::Backend and disk_cache::Entry), behind one small vtable with
 * two implementations: memory (cache_mem_backend_new) and disk
 * (cache_disk_backend_new: a SQLite index plus body files under a
 * directory).
 *
 * An entry is found by its key (the URL, see http_cache.h) and holds two
 * streams: the metadata (cache_entry.h encoding) and the body. A reader
 * (open_entry) sees a complete, committed entry; a writer (create_entry)
 * builds a new entry that nobody sees until commit(), which atomically
 * replaces any older entry of the same key; a writer closed without commit
 * leaves nothing behind (the old entry, if any, stays). Several readers and
 * one writer of a key may be open at once; a reader keeps reading the entry
 * it opened even when that entry is doomed or replaced (memory), or gets
 * ERR_CACHE_READ_FAILURE for the rest of it (disk, inline bodies).
 *
 * Size: the backend counts the bytes of its committed entries and, after
 * each commit, evicts the least recently used entries (an open_entry counts
 * as a use) until the total is within max_size. An entry larger than
 * max_size / 8 (Chromium's per-entry limit) is refused at write time with
 * ERR_CACHE_WRITE_FAILURE.
 *
 * Completion: every operation that may touch the disk returns a result
 * synchronously or CRONC_ERR_IO_PENDING and calls its callback exactly once
 * later (never inside the call), as http_stream.h. Both backends today
 * complete every operation synchronously on the calling (network) thread:
 * each is small and bounded (one SQLite statement or transaction, one
 * read/write of the caller's buffer); callers must still handle
 * IO_PENDING, so a worker thread can be put under the disk backend later
 * without changing them. One thread at a time (the network thread). Close
 * every entry before freeing the backend. */
#ifndef CRONC_CACHE_CACHE_BACKEND_H
#define CRONC_CACHE_CACHE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/netlog.h"

typedef void (*cache_io_cb)(void *user_data, int result);

typedef struct cache_backend cache_backend;
typedef struct cache_backend_entry cache_backend_entry;

typedef struct cache_backend_vtable {
  /* Opens the committed entry of key for reading (and marks it used).
   * OK and *out, ERR_CACHE_MISS, ERR_CACHE_READ_FAILURE (a damaged entry:
   * it has been removed), or IO_PENDING (then *out is set at callback
   * time). */
  int (*open_entry)(cache_backend *b, const char *key, cache_backend_entry **out, cache_io_cb cb,
                    void *ud);
  /* A new, invisible writer for key. OK and *out, or
   * ERR_CACHE_CREATE_FAILURE / ERR_OUT_OF_MEMORY, or IO_PENDING. */
  int (*create_entry)(cache_backend *b, const char *key, cache_backend_entry **out, cache_io_cb cb,
                      void *ud);
  /* Removes the committed entry of key (OK when there was none). cb may be
   * NULL: fire and forget. */
  int (*doom_entry)(cache_backend *b, const char *key, cache_io_cb cb, void *ud);
  /* Bytes and number of committed entries. */
  int64_t (*size)(cache_backend *b);
  int64_t (*count)(cache_backend *b);
  void (*free)(cache_backend *b);
} cache_backend_vtable;

struct cache_backend {
  const cache_backend_vtable *vt;
};

typedef struct cache_backend_entry_vtable {
  /* The metadata bytes (valid until the entry is closed or set_meta). */
  const uint8_t *(*meta)(cache_backend_entry *e, size_t *len);
  /* Bytes of the body (a writer: written so far). */
  int64_t (*body_size)(cache_backend_entry *e);
  /* Reads body bytes at offset straight into buf: > 0, 0 at the end, or
   * ERR_CACHE_READ_FAILURE. */
  int (*read_body)(cache_backend_entry *e, uint64_t offset, uint8_t *buf, size_t len,
                   cache_io_cb cb, void *ud);
  /* Sets the metadata: a writer's for its commit; a reader's replaces the
   * committed entry's metadata in place (a 304 updated the head). OK or
   * ERR_CACHE_WRITE_FAILURE. */
  int (*set_meta)(cache_backend_entry *e, const uint8_t *data, size_t len, cache_io_cb cb,
                  void *ud);
  /* Writer only: appends body bytes. Returns len or ERR_CACHE_WRITE_FAILURE. */
  int (*append_body)(cache_backend_entry *e, const uint8_t *data, size_t len, cache_io_cb cb,
                     void *ud);
  /* Writer only: makes the entry visible, replacing the older one, then
   * evicts to the size limit. OK or ERR_CACHE_WRITE_FAILURE (nothing
   * visible changed). */
  int (*commit)(cache_backend_entry *e, cache_io_cb cb, void *ud);
  /* Closes the handle; an uncommitted writer is discarded. */
  void (*close)(cache_backend_entry *e);
} cache_backend_entry_vtable;

struct cache_backend_entry {
  const cache_backend_entry_vtable *vt;
};

/* ---- Memory backend --------------------------------------------------- */

/* A memory backend bounded by max_size bytes (<= 0: 10 MB). NULL on
 * allocation failure. */
cache_backend *cache_mem_backend_new(int64_t max_size);

/* ---- Disk backend ----------------------------------------------------- */

/* Files under dir (created, mode 0700):
 *   cache.sqlite (+ -wal, -shm)  the index: one row per committed entry
 *                                 (key, metadata, size, last use) and the
 *                                 bodies of up to CACHE_DISK_INLINE_MAX
 *                                 bytes as blobs (one read = one copy into
 *                                 the caller's buffer with incremental blob
 *                                 I/O; no file per small entry);
 *   bodies/<id>                   larger bodies, one file each (read with
 *                                 pread straight into the caller's buffer);
 *   bodies/tmp-<id>               a body being written;
 *   cache.lock                    flock()ed while open (one engine per dir);
 *   cache.sqlite.corrupt-<time>   a damaged index moved aside.
 * Atomicity: a writer buffers a small body in memory, or writes a large one
 * to tmp-<id>, fdatasync()s it and renames it to <id> before the index row
 * is inserted in one SQLite transaction: the row is the commit point. A
 * crash before it leaves at most a file no row names, which the next open
 * deletes; a row whose file is missing or of the wrong size is removed when
 * opened (ERR_CACHE_READ_FAILURE). A damaged index (not a database, failing
 * quick_check, foreign application_id or schema, newer version) is moved
 * aside with a CRONC_STORE_CORRUPTION_RECOVERED event and rebuilt empty.
 * Returns 0, ERR_ACCESS_DENIED (dir in use by another open backend),
 * ERR_CACHE_OPEN_FAILURE, ERR_OUT_OF_MEMORY, or a file error. */
#define CACHE_DISK_INLINE_MAX     (16 * 1024)
#define CACHE_DISK_APPLICATION_ID 0x63726368 /* "crch" */
#define CACHE_DISK_SCHEMA_VERSION 1
int cache_disk_backend_new(const char *dir, int64_t max_size, netlog *nl, cache_backend **out);

#endif /* CRONC_CACHE_CACHE_BACKEND_H */
