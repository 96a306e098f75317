/* tests/support/tcp_delay_proxy: a loopback TCP relay that adds latency.
 *
 * Listens on 127.0.0.1:<free port> (tcp_delay_proxy_port()); for each
 * accepted connection it connects to 127.0.0.1:<target_port> and relays
 * bytes both ways, every chunk held for delay_ms before it is written on
 * (order kept, per direction). A FIN is delayed like data (half-close is
 * propagated: the other side gets its FIN once everything before it has
 * been written). When both directions are finished the connection is
 * closed on both sides; a read or write error on one side (reset, or the
 * target refusing the connection) closes both, the other with a RST.
 *
 * The kernel completes the client's TCP handshake at once on loopback, so
 * the handshake round trip cannot be delayed as such. With
 * emulate_tcp_handshake (the default) the proxy makes up for it: bytes from
 * the client reach the target no earlier than 3 * delay after the accept,
 * which is when the first client data would arrive on a real path with this
 * RTT (SYN, SYN-ACK, then data). So with 25 ms each way, a TCP + TLS 1.3
 * connect and one request/response cost ~3 RTT = ~150 ms end to end, as on
 * a real 50 ms path. (The client's connect() itself still returns at once.)
 *
 * Memory is bounded: a side is not read while more than max_queued_bytes
 * are queued toward the other side (TCP flow control does the rest).
 *
 * Runs on its own pthread (a ppoll loop on CLOCK_MONOTONIC deadlines, no busy
 * loop), many connections at once. new/free on the test's thread; counters
 * from any thread. For tests and benches only. */
#ifndef CRONC_TESTS_SUPPORT_TCP_DELAY_PROXY_H
#define CRONC_TESTS_SUPPORT_TCP_DELAY_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tcp_delay_proxy_options {
  unsigned delay_ms_each_way; /* 0 = relay at once */
  bool emulate_tcp_handshake; /* see above; default true */
  size_t max_queued_bytes;    /* per direction; default 4 MB */
} tcp_delay_proxy_options;

/* Fills the defaults: no delay, emulate_tcp_handshake, 4 MB. */
void tcp_delay_proxy_options_init(tcp_delay_proxy_options *o);

typedef struct tcp_delay_proxy tcp_delay_proxy;

/* Starts a proxy toward 127.0.0.1:target_port with the default options and
 * delay_ms_each_way. NULL on failure (target_port 0, socket/thread failure).
 * Nothing is checked about the target until a client connects. */
tcp_delay_proxy *tcp_delay_proxy_new(uint16_t target_port, unsigned delay_ms_each_way);
/* Same with explicit options (NULL = defaults). */
tcp_delay_proxy *tcp_delay_proxy_new_ex(uint16_t target_port, const tcp_delay_proxy_options *o);

/* The listening port on 127.0.0.1. */
uint16_t tcp_delay_proxy_port(const tcp_delay_proxy *p);
/* Connections accepted so far. */
uint64_t tcp_delay_proxy_connections(const tcp_delay_proxy *p);
/* Connections currently open (accepted and not yet closed on both sides). */
uint64_t tcp_delay_proxy_open_connections(const tcp_delay_proxy *p);
/* Bytes relayed so far (written on, both directions). */
uint64_t tcp_delay_proxy_bytes(const tcp_delay_proxy *p);

/* Stops the thread, closes every connection and the listener. NULL: no-op. */
void tcp_delay_proxy_free(tcp_delay_proxy *p);

#endif /* CRONC_TESTS_SUPPORT_TCP_DELAY_PROXY_H */
