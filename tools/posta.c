/* The posta command: dispatches to one subcommand per mail task. */
#include <posta/posta.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"connect", cmd_connect, "connect to a server, upgrade to TLS, show the certificate verdict"},
    {"parse", cmd_parse, "parse a server's byte stream and print each response as JSON"},
    {"send", cmd_send, "send a message from standard input, as sendmail does"},
    {"imtest", cmd_imtest, "Cyrus imtest: log in to an IMAP server and type commands"},
    {"pop3test", cmd_pop3test, "Cyrus pop3test: log in to a POP3 server and type commands"},
    {"smtptest", cmd_smtptest, "Cyrus smtptest: EHLO, STARTTLS, AUTH, then type commands"},
    {"lmtptest", cmd_lmtptest, "Cyrus lmtptest: LHLO, STARTTLS, AUTH, then type commands"},
};

void tool_err(const char *sub, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "posta %s: ", sub);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: posta <command> [options] [arguments]\n"
               "       posta --version | --help\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'posta <command> --help' describes one command; man posta has them all.\n");
}

/* Installed as imtest, pop3test, smtptest or lmtptest (a symlink to posta),
 * run that tool, as Cyrus's one binary does by its name. */
static int by_name(const char *argv0, int argc, char **argv, int *status)
{
    static const char *const names[] = {"imtest", "pop3test", "smtptest", "lmtptest"};
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
        if (strcmp(base, names[n]) != 0)
            continue;
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
            if (strcmp(commands[i].name, base) == 0) {
                *status = commands[i].fn(argc, argv);
                return 1;
            }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int status;
    signal(SIGPIPE, SIG_IGN);
    if (argc > 0 && by_name(argv[0], argc, argv, &status))
        return status;
    if (argc < 2) {
        usage(stderr);
        return 64;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("posta %s\n", posta_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "posta: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 64;
}
