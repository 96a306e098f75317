/* Fuzz target: Cronet's experimental options JSON (an application's text
 * read at engine start). Any input gives OK or CRONC_ERR_INVALID_ARGUMENT,
 * never a crash, and whatever it maps lands in sane engine parameters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "engine/api_shared.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *json = malloc(size + 1);
  if (!json)
    return 0;
  memcpy(json, data, size);
  json[size] = '\0';
  engine_params ep;
  engine_params_init(&ep);
  char *rules = NULL, *ca = NULL;
  int rv = api_json_options_apply(json, &ep, &rules, &ca);
  if (rv != CRONC_OK && rv != CRONC_ERR_INVALID_ARGUMENT)
    abort();
  if (rv == CRONC_OK && cronc_experimental_options_check(json) != CRONC_OK)
    abort(); /* the public check and the engine agree */
  free(rules);
  free(ca);
  free(json);
  return 0;
}
