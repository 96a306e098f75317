/* base/net_error_posix: operating-system errors to Chromium's net errors
 * (Chromium: net/base/net_errors_posix.cc MapSystemError), one mapping for
 * every layer: files (NetLog writer, store), sockets, libuv results. Pure
 * functions; any thread. */
#ifndef CRONC_BASE_NET_ERROR_POSIX_H
#define CRONC_BASE_NET_ERROR_POSIX_H

/* An errno value (positive; 0 = OK) to a net error. Unknown values give
 * ERR_FAILED. */
int base_map_system_error(int os_error);

/* A libuv result (negative errno on POSIX, UV_EOF, ...; >= 0 = OK) to a net
 * error. UV_EOF becomes ERR_CONNECTION_CLOSED. */
int base_map_uv_error(int uv_result);

#endif /* CRONC_BASE_NET_ERROR_POSIX_H */
