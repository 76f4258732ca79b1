/* Shared pieces of the posta command's subcommands. */
#ifndef POSTA_TOOL_H
#define POSTA_TOOL_H

#include <stdio.h>

/* Each subcommand: argv[0] is the subcommand name.  Returns the exit status. */
int cmd_connect(int argc, char **argv);
int cmd_parse(int argc, char **argv);

/* Print "posta <sub>: <message>" to stderr. */
void tool_err(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
