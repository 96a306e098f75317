/* tests/support/udp_blackhole: a loopback UDP socket that swallows every
 * datagram (bound, never read, never answers), so a QUIC handshake to it
 * neither succeeds nor fails until a timeout. For tests only.
 * Thread: any. */
#ifndef CRONC_TESTS_SUPPORT_UDP_BLACKHOLE_H
#define CRONC_TESTS_SUPPORT_UDP_BLACKHOLE_H

#include <stdint.h>

typedef struct udp_blackhole udp_blackhole;

/* Binds a UDP socket on 127.0.0.1 (any free port). NULL on failure. */
udp_blackhole *udp_blackhole_new(void);
uint16_t udp_blackhole_port(const udp_blackhole *b);
void udp_blackhole_free(udp_blackhole *b);

#endif /* CRONC_TESTS_SUPPORT_UDP_BLACKHOLE_H */
