/* cronet_c.h: Cronet's native C API as implemented by cronc's
 * libcronet.so (a drop-in for Cronet's library: same names, types, enum
 * values, result codes, callback order and buffer ownership).
 *
 * Threads: Engine and UrlRequest functions may be called from any thread,
 * also from inside callbacks; they post work to the engine's network thread
 * and never wait for the application. Every UrlRequestCallback method,
 * status listener, upload provider call and request-finished report reaches
 * the application as a Cronet_Runnable handed to its Cronet_Executor
 * (Cronet_Executor_Execute); the executor runs it with Cronet_Runnable_Run
 * and then destroys it with Cronet_Runnable_Destroy (or destroys it unrun
 * when shutting down). An executor that runs the runnable inside Execute
 * runs callbacks on the network thread: then Cronet_Engine_Shutdown from a
 * callback returns
 * Cronet_RESULT_ILLEGAL_STATE_CANNOT_SHUTDOWN_ENGINE_FROM_NETWORK_THREAD.
 *
 * Callback order per request: OnRedirectReceived* (each waits for
 * Cronet_UrlRequest_FollowRedirect or Cancel), OnResponseStarted, one
 * OnReadCompleted per Cronet_UrlRequest_Read (bytes_read > 0; the end of
 * the body is OnSucceeded), then exactly one of OnSucceeded, OnFailed,
 * OnCanceled. After Cancel, only OnCanceled is delivered (unless the
 * request had already ended).
 *
 * Buffers: a buffer given to Cronet_UrlRequest_Read belongs to the request
 * until it comes back in OnReadCompleted; if the request ends meanwhile the
 * request destroys it. The UrlResponseInfo and Error passed to callbacks
 * belong to the request and stay valid until Cronet_UrlRequest_Destroy.
 *
 * Differences from Chromium's library (see docs/API.md): results other than
 * SUCCESS never abort the process (enable_check_result only adds a log line
 * on stderr); there is no bidirectional-stream engine
 * (Cronet_Engine_GetStreamEngine returns NULL); non-empty proxy rules are
 * refused at start until cronc has proxy support. */
#ifndef COMPONENTS_CRONET_NATIVE_INCLUDE_CRONET_C_H_
#define COMPONENTS_CRONET_NATIVE_INCLUDE_CRONET_C_H_

#include "cronet_export.h"

#include "cronet.idl_c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The gRPC bidirectional-stream engine (bidirectional_stream_c.h). */
typedef struct stream_engine stream_engine;

/* Chromium takes a net::CertVerifier (a C++ object) here; cronc has none:
 * the call is accepted and ignored (the pointer is not used or freed). */
CRONET_EXPORT void Cronet_Engine_SetMockCertVerifierForTesting(Cronet_EnginePtr engine,
                                                               void *raw_mock_cert_verifier);
/* Always NULL: cronc does not provide the bidirectional-stream API. */
CRONET_EXPORT stream_engine *Cronet_Engine_GetStreamEngine(Cronet_EnginePtr engine);

/* Extension of patched Cronet builds that some bindings resolve at load
 * time: proxy rules in Chromium's ProxyRules syntax. cronc has no proxy
 * support yet: Cronet_Engine_StartWithParams refuses non-empty rules with
 * Cronet_RESULT_ILLEGAL_ARGUMENT and a line on stderr (never ignored). */
CRONET_EXPORT void Cronet_EngineParams_proxy_rules_set(Cronet_EngineParamsPtr self,
                                                       const Cronet_String proxy_rules);
CRONET_EXPORT Cronet_String Cronet_EngineParams_proxy_rules_get(const Cronet_EngineParamsPtr self);

#ifdef __cplusplus
}
#endif

#endif /* COMPONENTS_CRONET_NATIVE_INCLUDE_CRONET_C_H_ */
