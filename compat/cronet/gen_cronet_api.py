#!/usr/bin/env python3
"""Generates cronc's Cronet C API declarations and the mechanical parts of
the implementation (struct accessors, interface objects) from the table
below, which restates the surface listed in shared/CRONET_C_API.md section
1.4 (names, types, enum values). Run from compat/cronet/:
    python3 gen_cronet_api.py && clang-format -i include/cronet.idl_c.h cronet_generated.[ch]
Outputs: include/cronet.idl_c.h, cronet_generated.h, cronet_generated.c.
The hand-written parts (engine, request, buffer, upload sink) live in
cronet_*.c and implement the cronet_impl_* functions declared in
cronet_generated.h."""

ENUMS = [
    ("Cronet_RESULT", [
        ("SUCCESS", 0), ("ILLEGAL_ARGUMENT", -100),
        ("ILLEGAL_ARGUMENT_STORAGE_PATH_MUST_EXIST", -101),
        ("ILLEGAL_ARGUMENT_INVALID_PIN", -102), ("ILLEGAL_ARGUMENT_INVALID_HOSTNAME", -103),
        ("ILLEGAL_ARGUMENT_INVALID_HTTP_METHOD", -104),
        ("ILLEGAL_ARGUMENT_INVALID_HTTP_HEADER", -105), ("ILLEGAL_STATE", -200),
        ("ILLEGAL_STATE_STORAGE_PATH_IN_USE", -201),
        ("ILLEGAL_STATE_CANNOT_SHUTDOWN_ENGINE_FROM_NETWORK_THREAD", -202),
        ("ILLEGAL_STATE_ENGINE_ALREADY_STARTED", -203),
        ("ILLEGAL_STATE_REQUEST_ALREADY_STARTED", -204),
        ("ILLEGAL_STATE_REQUEST_NOT_INITIALIZED", -205),
        ("ILLEGAL_STATE_REQUEST_ALREADY_INITIALIZED", -206),
        ("ILLEGAL_STATE_REQUEST_NOT_STARTED", -207),
        ("ILLEGAL_STATE_UNEXPECTED_REDIRECT", -208), ("ILLEGAL_STATE_UNEXPECTED_READ", -209),
        ("ILLEGAL_STATE_READ_FAILED", -210), ("NULL_POINTER", -300),
        ("NULL_POINTER_HOSTNAME", -301), ("NULL_POINTER_SHA256_PINS", -302),
        ("NULL_POINTER_EXPIRATION_DATE", -303), ("NULL_POINTER_ENGINE", -304),
        ("NULL_POINTER_URL", -305), ("NULL_POINTER_CALLBACK", -306),
        ("NULL_POINTER_EXECUTOR", -307), ("NULL_POINTER_METHOD", -308),
        ("NULL_POINTER_HEADER_NAME", -309), ("NULL_POINTER_HEADER_VALUE", -310),
        ("NULL_POINTER_PARAMS", -311),
        ("NULL_POINTER_REQUEST_FINISHED_INFO_LISTENER_EXECUTOR", -312)]),
    ("Cronet_Error_ERROR_CODE", [
        ("ERROR_CALLBACK", 0), ("ERROR_HOSTNAME_NOT_RESOLVED", 1),
        ("ERROR_INTERNET_DISCONNECTED", 2), ("ERROR_NETWORK_CHANGED", 3),
        ("ERROR_TIMED_OUT", 4), ("ERROR_CONNECTION_CLOSED", 5),
        ("ERROR_CONNECTION_TIMED_OUT", 6), ("ERROR_CONNECTION_REFUSED", 7),
        ("ERROR_CONNECTION_RESET", 8), ("ERROR_ADDRESS_UNREACHABLE", 9),
        ("ERROR_QUIC_PROTOCOL_FAILED", 10), ("ERROR_OTHER", 11)]),
    ("Cronet_EngineParams_HTTP_CACHE_MODE", [
        ("DISABLED", 0), ("IN_MEMORY", 1), ("DISK_NO_HTTP", 2), ("DISK", 3)]),
    ("Cronet_UrlRequestParams_REQUEST_PRIORITY", [
        ("REQUEST_PRIORITY_IDLE", 0), ("REQUEST_PRIORITY_LOWEST", 1),
        ("REQUEST_PRIORITY_LOW", 2), ("REQUEST_PRIORITY_MEDIUM", 3),
        ("REQUEST_PRIORITY_HIGHEST", 4)]),
    ("Cronet_UrlRequestParams_IDEMPOTENCY", [
        ("DEFAULT_IDEMPOTENCY", 0), ("IDEMPOTENT", 1), ("NOT_IDEMPOTENT", 2)]),
    ("Cronet_RequestFinishedInfo_FINISHED_REASON", [
        ("SUCCEEDED", 0), ("FAILED", 1), ("CANCELED", 2)]),
    ("Cronet_UrlRequestStatusListener_Status", [
        ("INVALID", -1), ("IDLE", 0), ("WAITING_FOR_STALLED_SOCKET_POOL", 1),
        ("WAITING_FOR_AVAILABLE_SOCKET", 2), ("WAITING_FOR_DELEGATE", 3),
        ("WAITING_FOR_CACHE", 4), ("DOWNLOADING_PAC_FILE", 5),
        ("RESOLVING_PROXY_FOR_URL", 6), ("RESOLVING_HOST_IN_PAC_FILE", 7),
        ("ESTABLISHING_PROXY_TUNNEL", 8), ("RESOLVING_HOST", 9), ("CONNECTING", 10),
        ("SSL_HANDSHAKE", 11), ("SENDING_REQUEST", 12), ("WAITING_FOR_RESPONSE", 13),
        ("READING_RESPONSE", 14)]),
]

# Interfaces: (name, concrete?, [(method, return type, [(type, name)])])
IFACES = [
    ("Buffer", True, [
        ("InitWithDataAndCallback", "void", [("Cronet_RawDataPtr", "data"), ("uint64_t", "size"),
                                             ("Cronet_BufferCallbackPtr", "callback")]),
        ("InitWithAlloc", "void", [("uint64_t", "size")]),
        ("GetSize", "uint64_t", []),
        ("GetData", "Cronet_RawDataPtr", [])]),
    ("BufferCallback", False, [("OnDestroy", "void", [("Cronet_BufferPtr", "buffer")])]),
    ("Runnable", False, [("Run", "void", [])]),
    ("Executor", False, [("Execute", "void", [("Cronet_RunnablePtr", "command")])]),
    ("Engine", True, [
        ("StartWithParams", "Cronet_RESULT", [("Cronet_EngineParamsPtr", "params")]),
        ("StartNetLogToFile", "bool", [("Cronet_String", "file_name"), ("bool", "log_all")]),
        ("StopNetLog", "void", []),
        ("Shutdown", "Cronet_RESULT", []),
        ("GetVersionString", "Cronet_String", []),
        ("GetDefaultUserAgent", "Cronet_String", []),
        ("AddRequestFinishedListener", "void", [("Cronet_RequestFinishedInfoListenerPtr", "listener"),
                                                ("Cronet_ExecutorPtr", "executor")]),
        ("RemoveRequestFinishedListener", "void", [("Cronet_RequestFinishedInfoListenerPtr", "listener")])]),
    ("UrlRequestStatusListener", False, [
        ("OnStatus", "void", [("Cronet_UrlRequestStatusListener_Status", "status")])]),
    ("UrlRequestCallback", False, [
        ("OnRedirectReceived", "void", [("Cronet_UrlRequestPtr", "request"), ("Cronet_UrlResponseInfoPtr", "info"),
                                        ("Cronet_String", "new_location_url")]),
        ("OnResponseStarted", "void", [("Cronet_UrlRequestPtr", "request"), ("Cronet_UrlResponseInfoPtr", "info")]),
        ("OnReadCompleted", "void", [("Cronet_UrlRequestPtr", "request"), ("Cronet_UrlResponseInfoPtr", "info"),
                                     ("Cronet_BufferPtr", "buffer"), ("uint64_t", "bytes_read")]),
        ("OnSucceeded", "void", [("Cronet_UrlRequestPtr", "request"), ("Cronet_UrlResponseInfoPtr", "info")]),
        ("OnFailed", "void", [("Cronet_UrlRequestPtr", "request"), ("Cronet_UrlResponseInfoPtr", "info"),
                              ("Cronet_ErrorPtr", "error")]),
        ("OnCanceled", "void", [("Cronet_UrlRequestPtr", "request"), ("Cronet_UrlResponseInfoPtr", "info")])]),
    ("UploadDataSink", True, [
        ("OnReadSucceeded", "void", [("uint64_t", "bytes_read"), ("bool", "final_chunk")]),
        ("OnReadError", "void", [("Cronet_String", "error_message")]),
        ("OnRewindSucceeded", "void", []),
        ("OnRewindError", "void", [("Cronet_String", "error_message")])]),
    ("UploadDataProvider", False, [
        ("GetLength", "int64_t", []),
        ("Read", "void", [("Cronet_UploadDataSinkPtr", "upload_data_sink"), ("Cronet_BufferPtr", "buffer")]),
        ("Rewind", "void", [("Cronet_UploadDataSinkPtr", "upload_data_sink")]),
        ("Close", "void", [])]),
    ("UrlRequest", True, [
        ("InitWithParams", "Cronet_RESULT", [("Cronet_EnginePtr", "engine"), ("Cronet_String", "url"),
                                             ("Cronet_UrlRequestParamsPtr", "params"),
                                             ("Cronet_UrlRequestCallbackPtr", "callback"),
                                             ("Cronet_ExecutorPtr", "executor")]),
        ("Start", "Cronet_RESULT", []),
        ("FollowRedirect", "Cronet_RESULT", []),
        ("Read", "Cronet_RESULT", [("Cronet_BufferPtr", "buffer")]),
        ("Cancel", "void", []),
        ("IsDone", "bool", []),
        ("GetStatus", "void", [("Cronet_UrlRequestStatusListenerPtr", "listener")])]),
    ("RequestFinishedInfoListener", False, [
        ("OnRequestFinished", "void", [("Cronet_RequestFinishedInfoPtr", "request_info"),
                                       ("Cronet_UrlResponseInfoPtr", "response_info"),
                                       ("Cronet_ErrorPtr", "error")])]),
]

# Struct fields: (name, kind, type, default). kinds: scalar, string, array_struct,
# array_string, array_raw, nullable (struct held by value, may be absent), ptr.
STRUCTS = [
    ("Error", [("error_code", "scalar", "Cronet_Error_ERROR_CODE", "Cronet_Error_ERROR_CODE_ERROR_CALLBACK"),
               ("message", "string", None, None),
               ("internal_error_code", "scalar", "int32_t", "0"),
               ("immediately_retryable", "scalar", "bool", "false"),
               ("quic_detailed_error_code", "scalar", "int32_t", "0")]),
    ("QuicHint", [("host", "string", None, None), ("port", "scalar", "int32_t", "0"),
                  ("alternate_port", "scalar", "int32_t", "0")]),
    ("PublicKeyPins", [("host", "string", None, None), ("pins_sha256", "array_string", None, None),
                       ("include_subdomains", "scalar", "bool", "false"),
                       ("expiration_date", "scalar", "int64_t", "0")]),
    ("EngineParams", [("enable_check_result", "scalar", "bool", "true"),
                      ("user_agent", "string", None, None),
                      ("accept_language", "string", None, None),
                      ("storage_path", "string", None, None),
                      ("enable_quic", "scalar", "bool", "true"),
                      ("enable_http2", "scalar", "bool", "true"),
                      ("enable_brotli", "scalar", "bool", "true"),
                      ("http_cache_mode", "scalar", "Cronet_EngineParams_HTTP_CACHE_MODE",
                       "Cronet_EngineParams_HTTP_CACHE_MODE_DISABLED"),
                      ("http_cache_max_size", "scalar", "int64_t", "0"),
                      ("quic_hints", "array_struct", "QuicHint", None),
                      ("public_key_pins", "array_struct", "PublicKeyPins", None),
                      ("enable_public_key_pinning_bypass_for_local_trust_anchors", "scalar", "bool", "true"),
                      ("network_thread_priority", "scalar", "double", "NAN"),
                      ("experimental_options", "string", None, None)]),
    ("HttpHeader", [("name", "string", None, None), ("value", "string", None, None)]),
    ("UrlResponseInfo", [("url", "string", None, None), ("url_chain", "array_string", None, None),
                         ("http_status_code", "scalar", "int32_t", "0"),
                         ("http_status_text", "string", None, None),
                         ("all_headers_list", "array_struct", "HttpHeader", None),
                         ("was_cached", "scalar", "bool", "false"),
                         ("negotiated_protocol", "string", None, None),
                         ("proxy_server", "string", None, None),
                         ("received_byte_count", "scalar", "int64_t", "0")]),
    ("UrlRequestParams", [("http_method", "string", None, None),
                          ("request_headers", "array_struct", "HttpHeader", None),
                          ("disable_cache", "scalar", "bool", "false"),
                          ("priority", "scalar", "Cronet_UrlRequestParams_REQUEST_PRIORITY",
                           "Cronet_UrlRequestParams_REQUEST_PRIORITY_REQUEST_PRIORITY_MEDIUM"),
                          ("upload_data_provider", "ptr", "Cronet_UploadDataProviderPtr", "NULL"),
                          ("upload_data_provider_executor", "ptr", "Cronet_ExecutorPtr", "NULL"),
                          ("allow_direct_executor", "scalar", "bool", "false"),
                          ("annotations", "array_raw", None, None),
                          ("request_finished_listener", "ptr", "Cronet_RequestFinishedInfoListenerPtr", "NULL"),
                          ("request_finished_executor", "ptr", "Cronet_ExecutorPtr", "NULL"),
                          ("idempotency", "scalar", "Cronet_UrlRequestParams_IDEMPOTENCY",
                           "Cronet_UrlRequestParams_IDEMPOTENCY_DEFAULT_IDEMPOTENCY")]),
    ("DateTime", [("value", "scalar", "int64_t", "0")]),
    ("Metrics", [(n, "nullable", "DateTime", None) for n in
                 ["request_start", "dns_start", "dns_end", "connect_start", "connect_end", "ssl_start",
                  "ssl_end", "sending_start", "sending_end", "push_start", "push_end",
                  "response_start", "request_end"]] +
                [("socket_reused", "scalar", "bool", "false"),
                 ("sent_byte_count", "scalar", "int64_t", "-1"),
                 ("received_byte_count", "scalar", "int64_t", "-1")]),
    ("RequestFinishedInfo", [("metrics", "nullable", "Metrics", None),
                             ("annotations", "array_raw", None, None),
                             ("finished_reason", "scalar", "Cronet_RequestFinishedInfo_FINISHED_REASON",
                              "Cronet_RequestFinishedInfo_FINISHED_REASON_SUCCEEDED")]),
]

TYPES = [n for n, _, _ in IFACES] + [n for n, _ in STRUCTS]
X = "CRONET_EXPORT "


def params_decl(self_t, args, self_const=False):
    ps = [("const " if self_const else "") + self_t + " self"] + [f"{t} {n}" for t, n in args]
    return ", ".join(ps)


def gen_header():
    o = []
    w = o.append
    w("""/* cronet.idl_c.h: Cronet's native C API (types, enums, functions) as
 * cronc's libcronet.so implements it. Written for cronc from the API's
 * public description (names, types and values are Cronet's, so programs
 * and bindings written for Cronet compile and link unchanged); generated by
 * compat/cronet/gen_cronet_api.py.
 *
 * Conventions: every type X has an opaque struct X and XPtr. Interfaces
 * implemented by Cronet (Buffer, Engine, UploadDataSink, UrlRequest) have
 * X_Create(); interfaces implemented by the application (Executor,
 * Runnable, UrlRequestCallback, ...) are made with X_CreateWith(function
 * pointers) and their method functions forward to those pointers. Structs
 * have X_Create/X_Destroy and field accessors: X_f_set copies, X_f_get
 * returns a pointer valid until the next set or X_Destroy; array fields
 * have _add (copies), _size, _at (a pointer into the array), _clear. See
 * cronet_c.h for the threading rules and docs/API.md for cronc's notes. */
#ifndef COMPONENTS_CRONET_NATIVE_GENERATED_CRONET_IDL_C_H_
#define COMPONENTS_CRONET_NATIVE_GENERATED_CRONET_IDL_C_H_

#include "cronet_export.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef const char* Cronet_String;
typedef void* Cronet_RawDataPtr;
typedef void* Cronet_ClientContext;
""")
    for t in TYPES:
        w(f"typedef struct Cronet_{t} Cronet_{t};\ntypedef struct Cronet_{t}* Cronet_{t}Ptr;")
    w("")
    for name, vals in ENUMS:
        w(f"typedef enum {name} {{")
        for v, n in vals:
            w(f"  {name}_{v} = {n},")
        w(f"}} {name};\n")
    for name, concrete, methods in IFACES:
        T = f"Cronet_{name}"
        w(f"/* ---- {name} ({'implemented by Cronet' if concrete else 'implemented by the app'}) ---- */")
        if concrete:
            w(f"{X}{T}Ptr {T}_Create(void);")
        w(f"{X}void {T}_Destroy({T}Ptr self);")
        w(f"{X}void {T}_SetClientContext({T}Ptr self, Cronet_ClientContext client_context);")
        w(f"{X}Cronet_ClientContext {T}_GetClientContext({T}Ptr self);")
        for m, rt, args in methods:
            w(f"{X}{rt} {T}_{m}({params_decl(T + 'Ptr', args)});")
        for m, rt, args in methods:
            w(f"typedef {rt} (*{T}_{m}Func)({params_decl(T + 'Ptr', args)});")
        fargs = ", ".join(f"{T}_{m}Func {m}Func" for m, _, _ in methods)
        w(f"{X}{T}Ptr {T}_CreateWith({fargs});\n")
    for name, fields in STRUCTS:
        T = f"Cronet_{name}"
        P = T + "Ptr"
        w(f"/* ---- {name} (struct) ---- */")
        w(f"{X}{P} {T}_Create(void);")
        w(f"{X}void {T}_Destroy({P} self);")
        for f, kind, ty, _ in fields:
            if kind == "scalar":
                w(f"{X}void {T}_{f}_set({P} self, const {ty} {f});")
            elif kind == "string":
                w(f"{X}void {T}_{f}_set({P} self, const Cronet_String {f});")
            elif kind == "ptr":
                w(f"{X}void {T}_{f}_set({P} self, const {ty} {f});")
            elif kind == "nullable":
                w(f"{X}void {T}_{f}_set({P} self, const Cronet_{ty}Ptr {f});")
                w(f"/* Not exported (as in Cronet's header). */")
                w(f"void {T}_{f}_move({P} self, Cronet_{ty}Ptr {f});")
            elif kind == "array_struct":
                w(f"{X}void {T}_{f}_add({P} self, const Cronet_{ty}Ptr element);")
            elif kind == "array_string":
                w(f"{X}void {T}_{f}_add({P} self, const Cronet_String element);")
            elif kind == "array_raw":
                w(f"{X}void {T}_{f}_add({P} self, const Cronet_RawDataPtr element);")
        for f, kind, ty, _ in fields:
            if kind == "scalar":
                w(f"{X}{ty} {T}_{f}_get(const {P} self);")
            elif kind == "string":
                w(f"{X}Cronet_String {T}_{f}_get(const {P} self);")
            elif kind == "ptr":
                w(f"{X}{ty} {T}_{f}_get(const {P} self);")
            elif kind == "nullable":
                w(f"{X}Cronet_{ty}Ptr {T}_{f}_get(const {P} self);")
            else:
                et = {"array_struct": f"Cronet_{ty}Ptr", "array_string": "Cronet_String",
                      "array_raw": "Cronet_RawDataPtr"}[kind]
                w(f"{X}uint32_t {T}_{f}_size(const {P} self);")
                w(f"{X}{et} {T}_{f}_at(const {P} self, uint32_t index);")
                w(f"{X}void {T}_{f}_clear({P} self);")
        w("")
    w("""#ifdef __cplusplus
}
#endif

#endif /* COMPONENTS_CRONET_NATIVE_GENERATED_CRONET_IDL_C_H_ */""")
    return "\n".join(o) + "\n"


def gen_internal():
    o = []
    w = o.append
    w("""/* cronet_generated.h: the layout of the Cronet API objects and the
 * hand-written implementation hooks (cronet_impl_*). Generated by
 * gen_cronet_api.py; internal to libcronet (not installed). */
#ifndef CRONC_COMPAT_CRONET_GENERATED_H
#define CRONC_COMPAT_CRONET_GENERATED_H

#include <stddef.h>

#include "cronet_c.h"
""")
    for name, concrete, methods in IFACES:
        T = f"Cronet_{name}"
        w(f"struct {T} {{\n  Cronet_ClientContext client_context;")
        for m, _, _ in methods:
            w(f"  {T}_{m}Func {m};")
        if concrete or name == "Runnable":
            w("  void *impl; /* the cronc-side object of X_Create(), NULL for CreateWith */")
            w(f"  void (*impl_destroy)({T}Ptr self);")
        w("};")
        if concrete:
            for m, rt, args in methods:
                w(f"{rt} cronet_impl_{name}_{m}({params_decl(T + 'Ptr', args)});")
            w(f"/* Sets up self->impl and impl_destroy; false on allocation failure. */")
            w(f"bool cronet_impl_{name}_init({T}Ptr self);")
        w("")
    for name, fields in STRUCTS:
        T = f"Cronet_{name}"
        w(f"struct {T} {{")
        for f, kind, ty, _ in fields:
            if kind in ("scalar", "ptr"):
                w(f"  {ty} {f};")
            elif kind == "string":
                w(f"  char *{f};")
            elif kind == "nullable":
                w(f"  Cronet_{ty} *{f}; /* NULL = absent */")
            elif kind == "array_struct":
                w(f"  Cronet_{ty} *{f};\n  uint32_t n_{f}, cap_{f};")
            elif kind == "array_string":
                w(f"  char **{f};\n  uint32_t n_{f}, cap_{f};")
            elif kind == "array_raw":
                w(f"  Cronet_RawDataPtr *{f};\n  uint32_t n_{f}, cap_{f};")
        if name == "EngineParams":
            w("  char *proxy_rules; /* extension of patched Cronet builds */")
        w("};")
        w(f"/* Deep copy of src's fields into dst (dst's old fields released). */")
        w(f"void cronet_{name}_copy({T}Ptr dst, const {T} *src);")
        w(f"void cronet_{name}_release({T}Ptr self);")
        w("")
    w("#endif /* CRONC_COMPAT_CRONET_GENERATED_H */")
    return "\n".join(o) + "\n"


def gen_impl():
    o = []
    w = o.append
    w("""/* cronet_generated.c: the mechanical part of cronc's Cronet C API:
 * interface objects (CreateWith, Destroy, client context, method
 * forwarding) and struct accessors. Generated by gen_cronet_api.py. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cronet_generated.h"

static char *dup_str(const char *s) { return strdup(s ? s : ""); }

/* Grows an array to hold one more element; false on allocation failure. */
static bool grow(void **arr, uint32_t n, uint32_t *cap, size_t elem) {
  if (n < *cap)
    return true;
  uint32_t c = *cap ? *cap * 2 : 4;
  void *p = realloc(*arr, (size_t)c * elem);
  if (!p)
    return false;
  *arr = p;
  *cap = c;
  return true;
}
""")
    for name, concrete, methods in IFACES:
        T = f"Cronet_{name}"
        P = T + "Ptr"
        fargs = ", ".join(f"{T}_{m}Func {m}Func" for m, _, _ in methods)
        w(f"CRONET_EXPORT {P} {T}_CreateWith({fargs}) {{")
        w(f"  {P} self = calloc(1, sizeof *self);\n  if (!self)\n    return NULL;")
        for m, _, _ in methods:
            w(f"  self->{m} = {m}Func;")
        w("  return self;\n}\n")
        if concrete:
            impls = ", ".join(f"cronet_impl_{name}_{m}" for m, _, _ in methods)
            w(f"CRONET_EXPORT {P} {T}_Create(void) {{\n  {P} self = {T}_CreateWith({impls});")
            w(f"  if (self && !cronet_impl_{name}_init(self)) {{\n    free(self);\n    return NULL;\n  }}")
            w("  return self;\n}\n")
        w(f"CRONET_EXPORT void {T}_Destroy({P} self) {{\n  if (!self)\n    return;")
        if concrete or name == "Runnable":
            w("  if (self->impl_destroy)\n    self->impl_destroy(self);")
        w("  free(self);\n}\n")
        w(f"CRONET_EXPORT void {T}_SetClientContext({P} self, Cronet_ClientContext client_context) {{")
        w("  if (self)\n    self->client_context = client_context;\n}\n")
        w(f"CRONET_EXPORT Cronet_ClientContext {T}_GetClientContext({P} self) {{")
        w("  return self ? self->client_context : NULL;\n}\n")
        for m, rt, args in methods:
            call = ", ".join(["self"] + [n for _, n in args])
            w(f"CRONET_EXPORT {rt} {T}_{m}({params_decl(P, args)}) {{")
            if rt == "void":
                w(f"  if (self && self->{m})\n    self->{m}({call});\n}}\n")
            else:
                zero = {"Cronet_RESULT": "Cronet_RESULT_NULL_POINTER", "bool": "false"}.get(rt, "0")
                w(f"  return self && self->{m} ? self->{m}({call}) : {zero};\n}}\n")
    for name, fields in STRUCTS:
        T = f"Cronet_{name}"
        P = T + "Ptr"
        # release
        w(f"void cronet_{name}_release({P} self) {{")
        for f, kind, ty, _ in fields:
            if kind == "string":
                w(f"  free(self->{f});\n  self->{f} = NULL;")
            elif kind == "nullable":
                w(f"  if (self->{f}) {{\n    cronet_{ty}_release(self->{f});\n    free(self->{f});\n    self->{f} = NULL;\n  }}")
            elif kind == "array_struct":
                w(f"  for (uint32_t i = 0; i < self->n_{f}; i++)\n    cronet_{ty}_release(&self->{f}[i]);")
                w(f"  free(self->{f});\n  self->{f} = NULL;\n  self->n_{f} = self->cap_{f} = 0;")
            elif kind == "array_string":
                w(f"  for (uint32_t i = 0; i < self->n_{f}; i++)\n    free(self->{f}[i]);")
                w(f"  free(self->{f});\n  self->{f} = NULL;\n  self->n_{f} = self->cap_{f} = 0;")
            elif kind == "array_raw":
                w(f"  free(self->{f});\n  self->{f} = NULL;\n  self->n_{f} = self->cap_{f} = 0;")
        if name == "EngineParams":
            w("  free(self->proxy_rules);\n  self->proxy_rules = NULL;")
        w("}\n")
        # defaults
        w(f"static void {name}_defaults({P} self) {{\n  memset(self, 0, sizeof *self);")
        for f, kind, ty, d in fields:
            if kind in ("scalar", "ptr") and d not in ("0", "false", "NULL"):
                w(f"  self->{f} = {d};")
        w("}\n")
        # copy
        w(f"void cronet_{name}_copy({P} dst, const {T} *src) {{")
        w(f"  if (dst == src)\n    return;\n  cronet_{name}_release(dst);\n  {name}_defaults(dst);")
        for f, kind, ty, _ in fields:
            if kind in ("scalar", "ptr"):
                w(f"  dst->{f} = src->{f};")
            elif kind == "string":
                w(f"  dst->{f} = src->{f} ? strdup(src->{f}) : NULL;")
            elif kind == "nullable":
                w(f"  if (src->{f})\n    {T}_{f}_set(dst, src->{f});")
            elif kind in ("array_struct", "array_string", "array_raw"):
                w(f"  for (uint32_t i = 0; i < src->n_{f}; i++)")
                arg = f"&src->{f}[i]" if kind == "array_struct" else f"src->{f}[i]"
                w(f"    {T}_{f}_add(dst, {arg});")
        if name == "EngineParams":
            w("  dst->proxy_rules = src->proxy_rules ? strdup(src->proxy_rules) : NULL;")
        w("}\n")
        w(f"CRONET_EXPORT {P} {T}_Create(void) {{\n  {P} self = malloc(sizeof *self);")
        w(f"  if (self)\n    {name}_defaults(self);\n  return self;\n}}\n")
        w(f"CRONET_EXPORT void {T}_Destroy({P} self) {{\n  if (!self)\n    return;")
        w(f"  cronet_{name}_release(self);\n  free(self);\n}}\n")
        for f, kind, ty, _ in fields:
            if kind in ("scalar", "ptr"):
                w(f"CRONET_EXPORT void {T}_{f}_set({P} self, const {ty} {f}) {{\n  if (self)\n    self->{f} = {f};\n}}\n")
                w(f"CRONET_EXPORT {ty} {T}_{f}_get(const {P} self) {{")
                w(f"  return self->{f};\n}}\n")
            elif kind == "string":
                w(f"CRONET_EXPORT void {T}_{f}_set({P} self, const Cronet_String {f}) {{")
                w(f"  if (!self)\n    return;\n  char *c = dup_str({f});\n  if (!c)\n    return;")
                w(f"  free(self->{f});\n  self->{f} = c;\n}}\n")
                w(f"CRONET_EXPORT Cronet_String {T}_{f}_get(const {P} self) {{")
                w(f"  return self && self->{f} ? self->{f} : \"\";\n}}\n")
            elif kind == "nullable":
                C = f"Cronet_{ty}"
                w(f"CRONET_EXPORT void {T}_{f}_set({P} self, const {C}Ptr {f}) {{")
                w(f"  if (!self)\n    return;\n  if (!{f}) {{")
                w(f"    if (self->{f}) {{\n      cronet_{ty}_release(self->{f});\n      free(self->{f});\n      self->{f} = NULL;\n    }}\n    return;\n  }}")
                w(f"  if (!self->{f}) {{\n    self->{f} = {C}_Create();\n    if (!self->{f})\n      return;\n  }}")
                w(f"  cronet_{ty}_copy(self->{f}, {f});\n}}\n")
                w(f"void {T}_{f}_move({P} self, {C}Ptr {f}) {{ {T}_{f}_set(self, {f}); }}\n")
                w(f"CRONET_EXPORT {C}Ptr {T}_{f}_get(const {P} self) {{\n  return self ? self->{f} : NULL;\n}}\n")
            else:
                if kind == "array_struct":
                    C = f"Cronet_{ty}"
                    et, etc = f"{C}Ptr", f"const {C}Ptr"
                    store = f"  {ty}_defaults(&self->{f}[self->n_{f}]);\n  cronet_{ty}_copy(&self->{f}[self->n_{f}], element);"
                    at = f"&self->{f}[index]"
                    elem_size = f"sizeof(Cronet_{ty})"
                elif kind == "array_string":
                    et, etc = "Cronet_String", "const Cronet_String"
                    store = f"  char *c = dup_str(element);\n  if (!c)\n    return;\n  self->{f}[self->n_{f}] = c;"
                    at = f"self->{f}[index]"
                    elem_size = "sizeof(char *)"
                else:
                    et, etc = "Cronet_RawDataPtr", "const Cronet_RawDataPtr"
                    store = f"  self->{f}[self->n_{f}] = element;"
                    at = f"self->{f}[index]"
                    elem_size = "sizeof(Cronet_RawDataPtr)"
                w(f"CRONET_EXPORT void {T}_{f}_add({P} self, {etc} element) {{")
                w(f"  if (!self || !grow((void **)&self->{f}, self->n_{f}, &self->cap_{f}, {elem_size}))\n    return;")
                if kind == "array_struct":
                    w(f"  if (!element)\n    return;")
                w(store)
                w(f"  self->n_{f}++;\n}}\n")
                w(f"CRONET_EXPORT uint32_t {T}_{f}_size(const {P} self) {{\n  return self ? self->n_{f} : 0;\n}}\n")
                w(f"CRONET_EXPORT {et} {T}_{f}_at(const {P} self, uint32_t index) {{")
                w(f"  if (!self || index >= self->n_{f})\n    return NULL;\n  return {at};\n}}\n")
                w(f"CRONET_EXPORT void {T}_{f}_clear({P} self) {{")
                if kind == "array_struct":
                    w(f"  if (!self)\n    return;\n  for (uint32_t i = 0; i < self->n_{f}; i++)\n    cronet_{ty}_release(&self->{f}[i]);\n  self->n_{f} = 0;\n}}\n")
                elif kind == "array_string":
                    w(f"  if (!self)\n    return;\n  for (uint32_t i = 0; i < self->n_{f}; i++)\n    free(self->{f}[i]);\n  self->n_{f} = 0;\n}}\n")
                else:
                    w(f"  if (self)\n    self->n_{f} = 0;\n}}\n")
    return "\n".join(o) + "\n"


def exported_names():
    names = []
    for name, concrete, methods in IFACES:
        T = f"Cronet_{name}"
        if concrete:
            names.append(f"{T}_Create")
        names += [f"{T}_Destroy", f"{T}_SetClientContext", f"{T}_GetClientContext"]
        names += [f"{T}_{m}" for m, _, _ in methods]
        names.append(f"{T}_CreateWith")
    for name, fields in STRUCTS:
        T = f"Cronet_{name}"
        names += [f"{T}_Create", f"{T}_Destroy"]
        for f, kind, _, _ in fields:
            if kind in ("scalar", "string", "ptr", "nullable"):
                names += [f"{T}_{f}_set", f"{T}_{f}_get"]
            else:
                names += [f"{T}_{f}_add", f"{T}_{f}_size", f"{T}_{f}_at", f"{T}_{f}_clear"]
    names += ["Cronet_Engine_SetMockCertVerifierForTesting", "Cronet_Engine_GetStreamEngine",
              "Cronet_EngineParams_proxy_rules_set", "Cronet_EngineParams_proxy_rules_get"]
    return sorted(names)


if __name__ == "__main__":
    open("include/cronet.idl_c.h", "w").write(gen_header())
    open("cronet_generated.h", "w").write(gen_internal())
    open("cronet_generated.c", "w").write(gen_impl())
    open("tests/exported_symbols.txt", "w").write("\n".join(exported_names()) + "\n")
