/* The cronc command's subcommands. Each returns the process exit status:
 * 0 success, 1 a failure the command reports (bad input, an error from the
 * stack), 2 a usage error. */
#ifndef CRONC_TOOL_H
#define CRONC_TOOL_H

int cmd_alt_svc(int argc, char **argv);
int cmd_props(int argc, char **argv);
int cmd_fetch(int argc, char **argv);

#endif
