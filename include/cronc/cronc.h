/* cronc: a Cronet-class HTTP network stack in C.
 *
 * This is the umbrella public header. Everything declared here is prefixed
 * cronc_ / CRONC_; everything under src/ is internal and never installed.
 * Errors are Chromium's net error codes (negative ints, 0 = OK); see
 * cronc_error_name(). Thread-safety is stated per function. */
#ifndef CRONC_CRONC_H
#define CRONC_CRONC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CRONC_BUILDING_LIBRARY)
#define CRONC_EXPORT __attribute__((visibility("default")))
#else
#define CRONC_EXPORT
#endif

#define CRONC_VERSION_MAJOR 0
#define CRONC_VERSION_MINOR 1
#define CRONC_VERSION_PATCH 0
#define CRONC_VERSION_STRING "0.1.0"

/* Chromium's net error codes: CRONC_OK = 0, CRONC_ERR_IO_PENDING = -1, ... */
typedef enum cronc_error {
  CRONC_OK = 0,
#define NET_ERROR(name, value) CRONC_ERR_##name = (value),
#include "cronc/net_error_list.h"
#undef NET_ERROR
} cronc_error;

/* The runtime library version, e.g. "0.1.0". Any thread. */
CRONC_EXPORT const char *cronc_version(void);

/* Chromium's name for an error code without the "net::" prefix, e.g.
 * cronc_error_name(-105) == "ERR_NAME_NOT_RESOLVED", cronc_error_name(0) ==
 * "OK". Unknown codes give "ERR_UNKNOWN". The string is static. Any thread. */
CRONC_EXPORT const char *cronc_error_name(int error);

#ifdef __cplusplus
}
#endif

#endif /* CRONC_CRONC_H */
