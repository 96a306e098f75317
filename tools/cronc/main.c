/* cronc: the command-line face of cronc. Today it exposes the
 * alternative-service core (Alt-Svc parsing, server properties and their
 * store); fetching URLs arrives with the transport layers. */
#include <stdio.h>
#include <string.h>

#include "cronc/cronc.h"
#include "cronc_tool.h"

static void usage(FILE *f) {
  fprintf(f, "usage: cronc [options] URL...     fetch (see cronc -h fetch options below)\n"
             "       cronc COMMAND ...\n"
             "\n"
             "  fetch options: -o FILE, -H 'Name: value', -X METHOD, --data-binary @FILE,\n"
             "    --cacert FILE, --host-rules RULES, --storage DIR, --http1.1, --netlog FILE,\n"
             "    -v (protocol and timing on stderr), --json (one JSON line per request)\n"
             "\n"
             "  alt-svc parse VALUE            parse an Alt-Svc field value, print JSON\n"
             "  props show   --storage DIR     print the stored server properties as JSON\n"
             "  props clear  --storage DIR     empty the store\n"
             "  props learn  --storage DIR ORIGIN VALUE\n"
             "                                 process an Alt-Svc value received from ORIGIN\n"
             "  props select --storage DIR URL [--enable-http2-alt] [--user-ports]\n"
             "                                 which alternative service a request would use\n"
             "  props mark-broken --storage DIR ORIGIN PROTOCOL HOST:PORT\n"
             "                                 mark an alternative service broken (backoff)\n"
             "  props confirm --storage DIR ORIGIN PROTOCOL HOST:PORT\n"
             "                                 clear its brokenness\n"
             "\n"
             "  props commands also take --netlog FILE (write a NetLog JSON file).\n"
             "  --version, --help\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("cronc %s\n", cronc_version());
    return 0;
  }
  if (strcmp(cmd, "alt-svc") == 0)
    return cmd_alt_svc(argc - 2, argv + 2);
  if (strcmp(cmd, "props") == 0)
    return cmd_props(argc - 2, argv + 2);
  return cmd_fetch(argc - 1, argv + 1); /* cronc [options] URL... */
}
