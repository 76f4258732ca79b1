/* imap_mailboxes: log in to an IMAP server and list every mailbox with its
 * message count; the smallest complete use of the IMAP driver.
 *
 *   imap_mailboxes [-s] HOST[:PORT] USER [CAFILE]   (password from $IMAP_PASSWORD)
 *
 * -s: implicit TLS (port 993 by default); without it the connection is
 * upgraded with STARTTLS (port 143 by default).
 */
#include <posta/posta.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print one LIST entry, its name decoded from modified UTF-7. */
static int on_list(posta_imap *h, const posta_imap_response *r, void *user)
{
    char *name = NULL;
    size_t len;
    (void)h;
    (void)user;
    if (r->nargs != 3 || r->args[2].type == POSTA_IMAP_ARG_NIL)
        return 0;
    if (posta_mutf7_decode(r->args[2].str, r->args[2].len, &name, &len, NULL) == 0) {
        printf("%s\n", name);
        free(name);
    } else {
        printf("%.*s (undecodable name)\n", (int)r->args[2].len, r->args[2].str);
    }
    return 1;
}

int main(int argc, char **argv)
{
    posta_imap *h;
    const char *password = getenv("IMAP_PASSWORD");
    int implicit = argc > 1 && strcmp(argv[1], "-s") == 0;

    argv += implicit;
    argc -= implicit;
    if (argc < 3 || argc > 4 || !password) {
        fprintf(stderr, "usage: IMAP_PASSWORD=... imap_mailboxes [-s] HOST[:PORT] USER [CAFILE]\n");
        return 64;
    }
    if (posta_imap_new(&h, NULL, NULL, NULL) != 0)
        return 1;
    if (implicit)
        posta_imap_set_tls(h, POSTA_IMAP_TLS_IMPLICIT);
    /* Give up on a silent server after 15 s rather than the default 2 min. */
    posta_imap_set_timeouts(h, 15000, 15000);
    if (argc == 4)
        posta_stream_set_ca(posta_imap_stream(h), argv[3], NULL);
    if (posta_imap_connect(h, argv[1]) != 0 || posta_imap_login(h, argv[2], password) != 0 ||
        posta_imap_exec(h, on_list, NULL, "LIST \"\" *") != 0) {
        fprintf(stderr, "imap_mailboxes: %s\n", posta_imap_errmsg(h));
        posta_imap_free(h);
        return 1;
    }
    posta_imap_logout(h);
    posta_imap_free(h);
    return 0;
}
