/* dns/hosts_file: the /etc/hosts table (Chromium's DnsHosts, dns_hosts.cc).
 *
 * Parsing follows Chromium on Linux: a line is an IP literal followed by
 * names, separated by spaces or tabs; '#' starts a comment; '\r' or '\n'
 * ends a line; commas are part of tokens. A line whose first token is not an
 * IP literal (IPv4 in any form the URL parser accepts, IPv6 without
 * brackets or zone) is skipped. Names are canonicalised as URL hosts
 * (lower case, punycode); tokens that are not valid DNS names or that look
 * like IP addresses are skipped. The table maps (name, family) to one
 * address; the first line that names a pair wins.
 *
 * A table is immutable after parsing: lookups are safe from any thread.
 * The parser reads untrusted disk bytes and is fuzzed
 * (tests/fuzz/fuzz_hosts_file.c). */
#ifndef CRONC_DNS_HOSTS_FILE_H
#define CRONC_DNS_HOSTS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dns_hosts dns_hosts;

/* Chromium refuses hosts files larger than this (32 MiB). */
#define DNS_HOSTS_MAX_FILE_SIZE (32 * 1024 * 1024)

/* Parses len bytes (not NUL-terminated; any bytes). Returns 0 or
 * CRONC_ERR_OUT_OF_MEMORY / CRONC_ERR_INVALID_ARGUMENT; on error *out is
 * NULL. Malformed lines are skipped, never an error. */
int dns_hosts_parse(const char *data, size_t len, dns_hosts **out);

/* Reads and parses a file. A missing file is an empty table (0), as in
 * Chromium. Errors: CRONC_ERR_FILE_TOO_BIG (over DNS_HOSTS_MAX_FILE_SIZE),
 * CRONC_ERR_ACCESS_DENIED, CRONC_ERR_FAILED, CRONC_ERR_OUT_OF_MEMORY. Blocking
 * file I/O: small and rare (the resolver rereads only on an mtime change). */
int dns_hosts_read_file(const char *path, dns_hosts **out);

void dns_hosts_free(dns_hosts *h); /* NULL: no-op */

/* Number of (name, family) entries. NULL: 0. */
size_t dns_hosts_count(const dns_hosts *h);

/* Entry i in file order: canonical name (NUL-terminated, owned by h), family
 * (AF_INET or AF_INET6) and address bytes (4 or 16, owned by h). False when
 * i is out of range. */
bool dns_hosts_entry(const dns_hosts *h, size_t i, const char **name, int *family,
                     const uint8_t **addr);

/* Looks up a canonical name for AF_INET or AF_INET6; on a hit copies 4 or
 * 16 bytes into addr_out and returns true. */
bool dns_hosts_lookup(const dns_hosts *h, const char *name, size_t len, int family,
                      uint8_t addr_out[16]);

/* Chromium's IsCanonicalizedHostCompliant on a canonical (lower-case) host:
 * non-empty labels of [a-z0-9_-] separated by '.', an optional trailing dot,
 * the last label starting with a letter or digit. */
bool dns_host_is_compliant(const char *host, size_t len);

#endif /* CRONC_DNS_HOSTS_FILE_H */
