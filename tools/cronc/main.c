/* The cronc command (placeholder until the subcommands land). */
#include <stdio.h>

#include "cronc/cronc.h"

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("cronc %s\n", cronc_version());
  return 0;
}
