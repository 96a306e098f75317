/* The hosts table: entries in file order, names in one arena, and an
 * open-addressing index over (name, family) for lookups. Ad-blocking hosts
 * files hold 100k+ lines, so lookups are O(1) and parsing allocates in
 * bulk. */
#include "dns/hosts_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cronc/cronc.h"
#include "dns/host_util.h"
#include "url/url.h"

typedef struct hosts_entry {
  size_t name_off; /* into arena */
  uint32_t name_len;
  uint8_t family; /* 4 or 6 */
  uint8_t addr[16];
} hosts_entry;

struct dns_hosts {
  hosts_entry *entries;
  size_t count, cap;
  char *arena;
  size_t arena_len, arena_cap;
  uint32_t *index;  /* entry + 1; 0 = empty */
  size_t index_cap; /* power of two, > 2 * count */
};

bool dns_host_is_compliant(const char *host, size_t len) {
  if (!host || len == 0)
    return false;
  bool in_label = false, last_started_alnum = false;
  for (size_t i = 0; i < len; i++) {
    char c = host[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!in_label) {
      last_started_alnum = alnum;
      if (!alnum && c != '-' && c != '_')
        return false;
      in_label = true;
    } else if (c == '.') {
      in_label = false;
    } else if (!alnum && c != '-' && c != '_') {
      return false;
    }
  }
  return last_started_alnum;
}

static uint64_t hash_key(const char *name, size_t len, int family) {
  uint64_t h = 1469598103934665603ULL ^ (uint64_t)family;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)name[i];
    h *= 1099511628211ULL;
  }
  return h;
}

static int fam_tag(int family) { return family == AF_INET6 ? 6 : 4; }

/* Index slot for (name, family): the matching entry's slot or the empty slot
 * where it would go. */
static size_t find_slot(const dns_hosts *h, const char *name, size_t len, int tag) {
  size_t mask = h->index_cap - 1;
  size_t i = (size_t)hash_key(name, len, tag) & mask;
  for (;;) {
    uint32_t e = h->index[i];
    if (e == 0)
      return i;
    const hosts_entry *he = &h->entries[e - 1];
    if (he->family == tag && he->name_len == len && memcmp(h->arena + he->name_off, name, len) == 0)
      return i;
    i = (i + 1) & mask;
  }
}

static bool rehash(dns_hosts *h, size_t ncap) {
  uint32_t *idx = calloc(ncap, sizeof(*idx));
  if (!idx)
    return false;
  free(h->index);
  h->index = idx;
  h->index_cap = ncap;
  for (size_t k = 0; k < h->count; k++) {
    const hosts_entry *he = &h->entries[k];
    size_t s = find_slot(h, h->arena + he->name_off, he->name_len, he->family);
    h->index[s] = (uint32_t)(k + 1);
  }
  return true;
}

/* Adds (name, family) -> addr unless present (first line wins). */
static int add_entry(dns_hosts *h, const char *name, size_t len, int tag, const uint8_t *addr) {
  if (h->count >= UINT32_MAX - 1 || len > UINT32_MAX)
    return CRONC_OK; /* absurd size: ignore the rest */
  if ((h->count + 1) * 2 > h->index_cap && !rehash(h, h->index_cap ? h->index_cap * 2 : 64))
    return CRONC_ERR_OUT_OF_MEMORY;
  size_t slot = find_slot(h, name, len, tag);
  if (h->index[slot] != 0)
    return CRONC_OK;
  if (h->count == h->cap) {
    size_t ncap = h->cap ? h->cap * 2 : 32;
    hosts_entry *e = realloc(h->entries, ncap * sizeof(*e));
    if (!e)
      return CRONC_ERR_OUT_OF_MEMORY;
    h->entries = e;
    h->cap = ncap;
  }
  if (h->arena_len + len + 1 > h->arena_cap) {
    size_t ncap = h->arena_cap ? h->arena_cap : 1024;
    while (ncap < h->arena_len + len + 1)
      ncap *= 2;
    char *a = realloc(h->arena, ncap);
    if (!a)
      return CRONC_ERR_OUT_OF_MEMORY;
    h->arena = a;
    h->arena_cap = ncap;
  }
  hosts_entry *he = &h->entries[h->count];
  he->name_off = h->arena_len;
  he->name_len = (uint32_t)len;
  he->family = (uint8_t)tag;
  memset(he->addr, 0, sizeof(he->addr));
  memcpy(he->addr, addr, tag == 6 ? 16 : 4);
  memcpy(h->arena + h->arena_len, name, len);
  h->arena[h->arena_len + len] = '\0';
  h->arena_len += len + 1;
  h->index[slot] = (uint32_t)(h->count + 1);
  h->count++;
  return CRONC_OK;
}

/* IPAddress::AssignFromIPLiteral: IPv6 without brackets (a ':' makes it
 * IPv6), otherwise an IPv4 address in any form the URL parser accepts; no
 * percent-escapes, no zone. *tag gets 4 or 6. */
static bool parse_ip(const char *tok, size_t len, uint8_t addr[16], int *tag) {
  if (len == 0 || len > URL_MAX_HOST)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (tok[i] == '%' || tok[i] == '[' || tok[i] == ']')
      return false;
  }
  char canon[URL_MAX_HOST + 1];
  url_host_kind kind;
  if (dns_canon_host(tok, len, canon, &kind) != CRONC_OK)
    return false;
  bool has_colon = memchr(tok, ':', len) != NULL;
  if (kind == URL_HOST_IPV4 && !has_colon) {
    *tag = 4;
    return inet_pton(AF_INET, canon, addr) == 1;
  }
  if (kind == URL_HOST_IPV6 && has_colon) {
    size_t cl = strlen(canon); /* "[...]" */
    if (cl < 3)
      return false;
    canon[cl - 1] = '\0';
    *tag = 6;
    return inet_pton(AF_INET6, canon + 1, addr) == 1;
  }
  return false;
}

int dns_hosts_parse(const char *data, size_t len, dns_hosts **out) {
  if (!out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!data && len)
    return CRONC_ERR_INVALID_ARGUMENT;
  dns_hosts *h = calloc(1, sizeof(*h));
  if (!h || !rehash(h, 64)) {
    free(h);
    return CRONC_ERR_OUT_OF_MEMORY;
  }

  size_t pos = 0;
  bool next_is_ip = true;
  bool have_ip = false; /* the current line has a valid address */
  const char *ip_text = NULL;
  size_t ip_text_len = 0;
  uint8_t addr[16];
  int tag = 4;
  while (pos < len) {
    char c = data[pos];
    if (c == ' ' || c == '\t') {
      pos++;
      continue;
    }
    if (c == '\r' || c == '\n') {
      next_is_ip = true;
      pos++;
      continue;
    }
    if (c == '#') {
      const char *nl = memchr(data + pos, '\n', len - pos);
      pos = nl ? (size_t)(nl - data) : len;
      continue;
    }
    size_t start = pos;
    while (pos < len && data[pos] != ' ' && data[pos] != '\t' && data[pos] != '\n' &&
           data[pos] != '\r' && data[pos] != '#')
      pos++;
    const char *tok = data + start;
    size_t tlen = pos - start;
    if (next_is_ip) {
      next_is_ip = false;
      /* Ad-blocking files repeat one address on thousands of lines. */
      if (have_ip && tlen == ip_text_len && memcmp(tok, ip_text, tlen) == 0)
        continue;
      uint8_t na[16];
      int ntag;
      if (parse_ip(tok, tlen, na, &ntag)) {
        memcpy(addr, na, sizeof(addr));
        tag = ntag;
        ip_text = tok;
        ip_text_len = tlen;
        have_ip = true;
      } else {
        /* Skip the names of this line (Chromium: SkipRestOfLine). */
        const char *nl = memchr(data + pos, '\n', len - pos);
        pos = nl ? (size_t)(nl - data) : len;
      }
      continue;
    }
    if (!have_ip)
      continue;
    char canon[URL_MAX_HOST + 1];
    url_host_kind kind;
    if (url_canon_host(tok, tlen, canon, sizeof(canon), &kind) != CRONC_OK || kind != URL_HOST_NAME)
      continue;
    size_t cl = strlen(canon);
    if (!dns_host_is_compliant(canon, cl))
      continue;
    int rv = add_entry(h, canon, cl, tag, addr);
    if (rv != CRONC_OK) {
      dns_hosts_free(h);
      return rv;
    }
  }
  *out = h;
  return CRONC_OK;
}

int dns_hosts_read_file(const char *path, dns_hosts **out) {
  if (!out || !path)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return dns_hosts_parse("", 0, out);
    return errno == EACCES || errno == EPERM ? CRONC_ERR_ACCESS_DENIED : CRONC_ERR_FAILED;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return CRONC_ERR_FAILED;
  }
  if (st.st_size > DNS_HOSTS_MAX_FILE_SIZE) {
    close(fd);
    return CRONC_ERR_FILE_TOO_BIG;
  }
  size_t cap = (size_t)st.st_size + 1, len = 0;
  char *buf = malloc(cap);
  if (!buf) {
    close(fd);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  /* Read to EOF: the file may have grown since fstat; stop at the limit. */
  for (;;) {
    if (len == cap) {
      if (cap > DNS_HOSTS_MAX_FILE_SIZE) {
        free(buf);
        close(fd);
        return CRONC_ERR_FILE_TOO_BIG;
      }
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        close(fd);
        return CRONC_ERR_OUT_OF_MEMORY;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      free(buf);
      close(fd);
      return CRONC_ERR_FAILED;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  int rv = len > DNS_HOSTS_MAX_FILE_SIZE ? CRONC_ERR_FILE_TOO_BIG : dns_hosts_parse(buf, len, out);
  free(buf);
  return rv;
}

void dns_hosts_free(dns_hosts *h) {
  if (!h)
    return;
  free(h->entries);
  free(h->arena);
  free(h->index);
  free(h);
}

size_t dns_hosts_count(const dns_hosts *h) { return h ? h->count : 0; }

bool dns_hosts_entry(const dns_hosts *h, size_t i, const char **name, int *family,
                     const uint8_t **addr) {
  if (!h || i >= h->count)
    return false;
  const hosts_entry *he = &h->entries[i];
  if (name)
    *name = h->arena + he->name_off;
  if (family)
    *family = he->family == 6 ? AF_INET6 : AF_INET;
  if (addr)
    *addr = he->addr;
  return true;
}

bool dns_hosts_lookup(const dns_hosts *h, const char *name, size_t len, int family,
                      uint8_t addr_out[16]) {
  if (!h || !name || h->count == 0 || (family != AF_INET && family != AF_INET6))
    return false;
  int tag = fam_tag(family);
  uint32_t e = h->index[find_slot(h, name, len, tag)];
  if (e == 0)
    return false;
  memcpy(addr_out, h->entries[e - 1].addr, tag == 6 ? 16 : 4);
  return true;
}
