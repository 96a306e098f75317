/* Host cache: a chained hash table for lookups plus a doubly linked list in
 * recency order for eviction. Each entry is one allocation (struct, host,
 * addresses). */
#include "dns/host_cache.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"

typedef struct cache_node {
  dns_host_cache_entry pub;
  struct cache_node *hnext;               /* bucket chain */
  struct cache_node *lru_prev, *lru_next; /* head = most recent */
  uint64_t hash;
  dns_family family;
  size_t host_len;
  char *host;
  struct sockaddr_storage *addrs;
} cache_node;

struct dns_host_cache {
  cache_node **buckets;
  size_t nbuckets; /* power of two */
  size_t size, max;
  cache_node *lru_head, *lru_tail;
};

static uint64_t key_hash(const char *host, size_t len, dns_family f) {
  uint64_t h = 1469598103934665603ULL ^ ((uint64_t)f + 1);
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)host[i];
    h *= 1099511628211ULL;
  }
  return h;
}

dns_host_cache *dns_host_cache_new(size_t max_entries) {
  dns_host_cache *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  c->max = max_entries;
  size_t nb = 16;
  while (nb < max_entries && nb < ((size_t)1 << 24))
    nb *= 2;
  c->buckets = calloc(nb, sizeof(*c->buckets));
  if (!c->buckets) {
    free(c);
    return NULL;
  }
  c->nbuckets = nb;
  return c;
}

static void lru_unlink(dns_host_cache *c, cache_node *n) {
  if (n->lru_prev)
    n->lru_prev->lru_next = n->lru_next;
  else
    c->lru_head = n->lru_next;
  if (n->lru_next)
    n->lru_next->lru_prev = n->lru_prev;
  else
    c->lru_tail = n->lru_prev;
  n->lru_prev = n->lru_next = NULL;
}

static void lru_push_front(dns_host_cache *c, cache_node *n) {
  n->lru_prev = NULL;
  n->lru_next = c->lru_head;
  if (c->lru_head)
    c->lru_head->lru_prev = n;
  c->lru_head = n;
  if (!c->lru_tail)
    c->lru_tail = n;
}

static cache_node **find(dns_host_cache *c, const char *host, size_t len, dns_family f,
                         uint64_t h) {
  cache_node **pp = &c->buckets[h & (c->nbuckets - 1)];
  while (*pp) {
    cache_node *n = *pp;
    if (n->hash == h && n->family == f && n->host_len == len && memcmp(n->host, host, len) == 0)
      return pp;
    pp = &n->hnext;
  }
  return pp;
}

static void remove_node(dns_host_cache *c, cache_node **pp) {
  cache_node *n = *pp;
  *pp = n->hnext;
  lru_unlink(c, n);
  c->size--;
  free(n);
}

const dns_host_cache_entry *dns_host_cache_lookup(dns_host_cache *c, const char *host, size_t len,
                                                  dns_family family, int64_t now_ticks_us) {
  if (!c || !host || c->size == 0)
    return NULL;
  uint64_t h = key_hash(host, len, family);
  cache_node **pp = find(c, host, len, family, h);
  if (!*pp)
    return NULL;
  if ((*pp)->pub.expires_ticks_us <= now_ticks_us) {
    remove_node(c, pp);
    return NULL;
  }
  cache_node *n = *pp;
  lru_unlink(c, n);
  lru_push_front(c, n);
  return &n->pub;
}

int dns_host_cache_set(dns_host_cache *c, const char *host, size_t len, dns_family family,
                       const struct sockaddr_storage *addrs, size_t count, uint32_t ttl_sec,
                       int64_t expires_ticks_us) {
  if (!c || !host || !addrs || count == 0)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (c->max == 0)
    return CRONC_OK;
  if (count > SIZE_MAX / sizeof(*addrs) / 2 || len > SIZE_MAX / 2)
    return CRONC_ERR_OUT_OF_MEMORY;
  /* One block: node, then the address array (aligned), then the host. */
  size_t size = sizeof(cache_node) + count * sizeof(*addrs) + len + 1;
  cache_node *n = malloc(size);
  if (!n)
    return CRONC_ERR_OUT_OF_MEMORY;
  memset(n, 0, sizeof(*n));
  n->addrs = (struct sockaddr_storage *)(void *)(n + 1);
  n->host = (char *)(n->addrs + count);
  memcpy(n->addrs, addrs, count * sizeof(*addrs));
  for (size_t i = 0; i < count; i++) {
    if (n->addrs[i].ss_family == AF_INET)
      ((struct sockaddr_in *)&n->addrs[i])->sin_port = 0;
    else if (n->addrs[i].ss_family == AF_INET6)
      ((struct sockaddr_in6 *)&n->addrs[i])->sin6_port = 0;
  }
  memcpy(n->host, host, len);
  n->host[len] = '\0';
  n->host_len = len;
  n->family = family;
  n->hash = key_hash(host, len, family);
  n->pub.addrs = n->addrs;
  n->pub.count = count;
  n->pub.ttl_sec = ttl_sec;
  n->pub.expires_ticks_us = expires_ticks_us;

  cache_node **pp = find(c, host, len, family, n->hash);
  if (*pp)
    remove_node(c, pp);
  if (c->size >= c->max && c->lru_tail) {
    cache_node *old = c->lru_tail;
    remove_node(c, find(c, old->host, old->host_len, old->family, old->hash));
  }
  cache_node **bucket = &c->buckets[n->hash & (c->nbuckets - 1)];
  n->hnext = *bucket;
  *bucket = n;
  lru_push_front(c, n);
  c->size++;
  return CRONC_OK;
}

void dns_host_cache_clear(dns_host_cache *c) {
  if (!c)
    return;
  cache_node *n = c->lru_head;
  while (n) {
    cache_node *next = n->lru_next;
    free(n);
    n = next;
  }
  memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
  c->lru_head = c->lru_tail = NULL;
  c->size = 0;
}

void dns_host_cache_free(dns_host_cache *c) {
  if (!c)
    return;
  dns_host_cache_clear(c);
  free(c->buckets);
  free(c);
}

size_t dns_host_cache_size(const dns_host_cache *c) { return c ? c->size : 0; }
size_t dns_host_cache_max_size(const dns_host_cache *c) { return c ? c->max : 0; }
