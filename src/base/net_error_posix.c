#include "base/net_error_posix.h"

#include <errno.h>
#include <uv.h>

#include "cronc/cronc.h"

int base_map_system_error(int os_error) {
  switch (os_error) {
  case 0:
    return CRONC_OK;
  case EAGAIN:
#if EWOULDBLOCK != EAGAIN
  case EWOULDBLOCK:
#endif
  case EINPROGRESS:
    return CRONC_ERR_IO_PENDING;
  case EACCES:
  case EPERM:
  case EROFS:
  case EISDIR:
    return CRONC_ERR_ACCESS_DENIED;
  case ENETDOWN:
    return CRONC_ERR_INTERNET_DISCONNECTED;
  case ETIMEDOUT:
    return CRONC_ERR_TIMED_OUT;
  case ECONNRESET:
  case ENETRESET:
  case EPIPE:
    return CRONC_ERR_CONNECTION_RESET;
  case ECONNABORTED:
    return CRONC_ERR_CONNECTION_ABORTED;
  case ECONNREFUSED:
    return CRONC_ERR_CONNECTION_REFUSED;
  case EHOSTUNREACH:
  case EHOSTDOWN:
  case ENETUNREACH:
  case EAFNOSUPPORT:
    return CRONC_ERR_ADDRESS_UNREACHABLE;
  case EADDRNOTAVAIL:
    return CRONC_ERR_ADDRESS_INVALID;
  case EADDRINUSE:
    return CRONC_ERR_ADDRESS_IN_USE;
  case EMSGSIZE:
    return CRONC_ERR_MSG_TOO_BIG;
  case ENOTCONN:
    return CRONC_ERR_SOCKET_NOT_CONNECTED;
  case EISCONN:
    return CRONC_ERR_SOCKET_IS_CONNECTED;
  case EINVAL:
    return CRONC_ERR_INVALID_ARGUMENT;
  case ENOBUFS:
    return CRONC_ERR_NO_BUFFER_SPACE;
  case EBADF:
    return CRONC_ERR_INVALID_HANDLE;
  case EMFILE:
  case ENFILE:
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  case ENOMEM:
    return CRONC_ERR_OUT_OF_MEMORY;
  case ENOENT:
  case ENOTDIR:
    return CRONC_ERR_FILE_NOT_FOUND;
  case ENAMETOOLONG:
    return CRONC_ERR_FILE_PATH_TOO_LONG;
  case ENOSPC:
  case EDQUOT:
    return CRONC_ERR_FILE_NO_SPACE;
  case EFBIG:
    return CRONC_ERR_FILE_TOO_BIG;
  case EEXIST:
    return CRONC_ERR_FILE_EXISTS;
  case ENOSYS:
  case EOPNOTSUPP:
    return CRONC_ERR_NOT_IMPLEMENTED;
  case ECANCELED:
    return CRONC_ERR_ABORTED;
  default:
    return CRONC_ERR_FAILED;
  }
}

int base_map_uv_error(int uv_result) {
  if (uv_result >= 0)
    return CRONC_OK;
  if (uv_result == UV_EOF)
    return CRONC_ERR_CONNECTION_CLOSED;
  if (uv_result == UV_ECANCELED)
    return CRONC_ERR_ABORTED;
  return base_map_system_error(-uv_result); /* libuv on POSIX: -errno */
}
