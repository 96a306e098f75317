/* cronc: the command-line face of cronc: a curl-like fetcher that tells
 * which protocol won, why, and how long each step took (`cronc URL...`),
 * plus the alternative-service core's diagnostics (`alt-svc`, `props`). */
#include <stdio.h>
#include <string.h>

#include "cronc/cronc.h"
#include "cronc_tool.h"

static void usage(FILE *f) {
  cmd_fetch_usage(f);
  fprintf(f, "\n"
             "       cronc COMMAND ...\n"
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
             "  props commands also take --netlog FILE (write a NetLog JSON file).\n"
             "\n"
             "  --version, --help (see also man cronc)\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CRONC_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return CRONC_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("cronc %s\n", cronc_version());
    return CRONC_EXIT_OK;
  }
  if (strcmp(cmd, "alt-svc") == 0)
    return cmd_alt_svc(argc - 2, argv + 2);
  if (strcmp(cmd, "props") == 0)
    return cmd_props(argc - 2, argv + 2);
  return cmd_fetch(argc - 1, argv + 1); /* cronc [options] URL... */
}
