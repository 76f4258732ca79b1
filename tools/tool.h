/* Shared pieces of the posta command's subcommands. */
#ifndef POSTA_TOOL_H
#define POSTA_TOOL_H

#include <stdio.h>

/* Each subcommand: argv[0] is the subcommand name.  Returns the exit status. */
int cmd_connect(int argc, char **argv);
int cmd_parse(int argc, char **argv);
int cmd_send(int argc, char **argv);
/* Cyrus-compatible test clients (tools/imtest.c, tools/mtest_*.c). */
int cmd_imtest(int argc, char **argv);
int cmd_pop3test(int argc, char **argv);
int cmd_smtptest(int argc, char **argv);
int cmd_lmtptest(int argc, char **argv);

struct posta_imap_response;
/* posta parse imap without --raw: print resp in its typed form and return
 * 1, or return 0 when there is no typed decoder for it (the caller then
 * prints the generic tree); negative on a write error. */
int parse_print_typed(FILE *out, const struct posta_imap_response *r);

/* Write data as a JSON string (tools/json.c): valid UTF-8 as is, other
 * bytes as \udcXX, so the output is valid JSON whatever the input. */
void tool_json_str(FILE *f, const void *data, size_t n);

/* Print "posta <sub>: <message>" to stderr. */
void tool_err(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
