/* engine/api_internal: the public engine's internals, for tests and the
 * cronc command's diagnostics only (not installed). */
#ifndef CRONC_ENGINE_API_INTERNAL_H
#define CRONC_ENGINE_API_INTERNAL_H

#include "cronc/cronc.h"
#include "engine/engine.h"

engine *cronc_engine_internal(cronc_engine *ce);

#endif /* CRONC_ENGINE_API_INTERNAL_H */
