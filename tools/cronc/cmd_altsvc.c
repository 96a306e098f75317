/* cronc alt-svc parse VALUE: exactly one line of JSON; exit 0, or 1 with
 * {"error":"<reason>"} for a malformed value. */
#include <stdio.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "cronc_tool.h"
#include "http/altsvc_parse.h"

int cmd_alt_svc(int argc, char **argv) {
  if (argc != 2 || strcmp(argv[0], "parse") != 0) {
    fprintf(stderr, "usage: cronc alt-svc parse VALUE\n");
    return 2;
  }
  const char *value = argv[1];
  altsvc_header h;
  altsvc_header_init(&h);
  const char *reason = NULL;
  strbuf out = STRBUF_INIT;
  int rv = altsvc_parse_header(value, strlen(value), &h, &reason);
  if (rv == CRONC_OK)
    altsvc_header_to_json(&h, &out);
  else
    altsvc_error_to_json(reason ? reason : cronc_error_name(rv), &out);
  altsvc_header_free(&h);
  if (strbuf_failed(&out)) {
    strbuf_free(&out);
    fprintf(stderr, "cronc: out of memory\n");
    return 1;
  }
  printf("%s\n", strbuf_cstr(&out));
  strbuf_free(&out);
  return rv == CRONC_OK ? 0 : 1;
}
