/* smtp_send: submit the message on standard input to an SMTP (or LMTP)
 * server and report, per recipient, what the server said.
 *
 *   smtp_send [options] -f from rcpt...  < message
 *
 *   -s host[:port]  the server (default localhost:587; port 465 means
 *                   implicit TLS)
 *   -c cafile       trust anchors for TLS verification
 *   -t mode         TLS: required (default), enabled, disabled, implicit
 *   -u user         authenticate as user; the password comes from
 *                   $SMTP_PASSWORD
 *   -m mechanisms   SASL mechanisms to use, e.g. "SCRAM-SHA-256 PLAIN"
 *   -L              LMTP instead of SMTP
 *   -S subject      set a Subject: when the message has none
 *   -v              print the protocol transcript on stderr
 *
 * The message is streamed from standard input; header processing adds
 * Date, Message-Id, From and To when missing.  Exit status 0 when the
 * message was accepted for every recipient, 1 otherwise. */
#include <posta/smtp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void monitor(posta_smtp *h, const char *data, size_t len, int dir, void *user)
{
    (void)h;
    (void)user;
    const char *who = dir == POSTA_SMTP_MON_READ ? "S" : dir == POSTA_SMTP_MON_WRITE ? "C" : "H";
    /* One callback may hold several lines: prefix each. */
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) + 1 : len;
        fprintf(stderr, "%s: %.*s%s", who, (int)n, data, nl ? "" : "\n");
        data += n;
        len -= n;
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: smtp_send [-s host[:port]] [-c cafile] [-t mode] [-u user] "
                    "[-m mechs] [-L] [-S subject] [-v] -f from rcpt... < message\n");
    return 1;
}

static int tls_mode(const char *s, posta_smtp_tls *mode)
{
    static const struct {
        const char *name;
        posta_smtp_tls mode;
    } modes[] = {{"required", POSTA_SMTP_TLS_REQUIRED}, {"enabled", POSTA_SMTP_TLS_ENABLED},
                 {"disabled", POSTA_SMTP_TLS_DISABLED}, {"implicit", POSTA_SMTP_TLS_IMPLICIT}};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(s, modes[i].name) == 0) {
            *mode = modes[i].mode;
            return 0;
        }
    return -1;
}

static void print_status(const char *what, const posta_smtp_status *st)
{
    printf("%s: %d", what, st->code);
    if (st->enh_class)
        printf(" %d.%d.%d", st->enh_class, st->enh_subject, st->enh_detail);
    printf(" %s%s\n", st->text, st->local ? " (posta)" : "");
}

int main(int argc, char **argv)
{
    const char *server = NULL, *cafile = NULL, *user = NULL, *mechs = NULL, *from = NULL,
               *subject = NULL;
    posta_smtp_tls mode = POSTA_SMTP_TLS_REQUIRED;
    int lmtp = 0, verbose = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        if (strcmp(o, "-L") == 0)
            lmtp = 1;
        else if (strcmp(o, "-v") == 0)
            verbose = 1;
        else if (i + 1 >= argc)
            return usage();
        else if (strcmp(o, "-s") == 0)
            server = argv[++i];
        else if (strcmp(o, "-c") == 0)
            cafile = argv[++i];
        else if (strcmp(o, "-u") == 0)
            user = argv[++i];
        else if (strcmp(o, "-m") == 0)
            mechs = argv[++i];
        else if (strcmp(o, "-f") == 0)
            from = argv[++i];
        else if (strcmp(o, "-S") == 0)
            subject = argv[++i];
        else if (strcmp(o, "-t") == 0) {
            if (tls_mode(argv[++i], &mode) < 0)
                return usage();
        } else
            return usage();
    }
    if (!from || i >= argc)
        return usage();

    posta_smtp_callbacks cb = {NULL, verbose ? monitor : NULL};
    posta_smtp *h;
    posta_smtp_message *m;
    if (posta_smtp_new(&h, &cb, NULL) < 0 || posta_smtp_add_message(h, &m) < 0) {
        fprintf(stderr, "smtp_send: out of memory\n");
        return 1;
    }
    int rc = 0;
    if (server)
        rc = posta_smtp_set_server(h, server);
    if (rc == 0)
        rc = posta_smtp_set_lmtp(h, lmtp);
    if (rc == 0)
        rc = posta_smtp_set_tls(h, mode);
    if (rc == 0 && cafile)
        rc = posta_stream_set_ca(posta_smtp_stream(h), cafile, NULL);
    if (rc == 0 && user)
        rc = posta_smtp_set_auth(h, user, getenv("SMTP_PASSWORD"), mechs);
    if (rc == 0)
        rc = posta_smtp_message_set_reverse_path(m, from);
    for (; rc == 0 && i < argc; i++)
        rc = posta_smtp_add_recipient(m, argv[i], NULL);
    if (rc == 0 && subject)
        rc = posta_smtp_message_set_header(m, "Subject", subject);
    if (rc == 0)
        rc = posta_smtp_message_set_file(m, stdin);
    if (rc == 0)
        rc = posta_smtp_run(h);
    if (rc < 0 && rc != POSTA_ENOTFOUND)
        fprintf(stderr, "smtp_send: %s\n", posta_smtp_errmsg(h));

    int all = posta_smtp_message_sent(m);
    print_status("message", posta_smtp_message_status(m));
    for (posta_smtp_recipient *r = posta_smtp_first_recipient(m); r; r = posta_smtp_next_recipient(r)) {
        const posta_smtp_status *st = posta_smtp_recipient_status(r);
        print_status(posta_smtp_recipient_mailbox(r), st);
        all = all && st->code >= 200 && st->code < 300;
    }
    posta_smtp_free(h);
    return rc == 0 && all ? 0 : 1;
}
