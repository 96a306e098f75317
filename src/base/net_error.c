/* Names for Chromium's net error codes, generated from the one list. */
#include "cronc/cronc.h"

CRONC_EXPORT const char *cronc_error_name(int error) {
  switch (error) {
  case 0:
    return "OK";
#define NET_ERROR(name, value)                                                                     \
  case (value):                                                                                    \
    return "ERR_" #name;
#include "cronc/net_error_list.h"
#undef NET_ERROR
  default:
    return "ERR_UNKNOWN";
  }
}

CRONC_EXPORT const char *cronc_version(void) { return CRONC_VERSION_STRING; }
