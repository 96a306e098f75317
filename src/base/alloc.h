/* base/alloc: zeroed allocation for objects made once per request.
 *
 * glibc before 2.41 serves calloc() without its per-thread cache (tcache):
 * every call walks the arena bins, several hundred instructions, where
 * malloc() of a chunk up to 1032 bytes takes a few dozen from the cache.
 * Objects created for every request use base_zalloc() (malloc + memset) and
 * stay within BASE_TCACHE_MAX; one-off objects keep calloc(). */
#ifndef CRONC_BASE_ALLOC_H
#define CRONC_BASE_ALLOC_H

#include <stdlib.h>
#include <string.h>

/* The largest request glibc's tcache serves (64 bins of 16 bytes). */
#define BASE_TCACHE_MAX 1032

static inline void *base_zalloc(size_t size) {
  void *p = malloc(size);
  /* The empty asm keeps the compiler from fusing malloc + memset back
   * into calloc (GCC does at -O2). */
  __asm__ volatile("" : : "r"(p) : "memory");
  if (p)
    memset(p, 0, size);
  return p;
}

#endif /* CRONC_BASE_ALLOC_H */
