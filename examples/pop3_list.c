/* pop3_list: connect to a POP3 server over TLS, log in, and print the
 * maildrop's STAT and each message's number, size and unique-id.
 *
 *   pop3_list [-s] [-v] host[:port] cafile user password
 *
 *   -s  implicit TLS (POP3S) whatever the port; otherwise port 995 means
 *       implicit TLS and any other port STLS, which must succeed
 *   -v  print the protocol transcript (passwords omitted) on stderr
 *
 * Exit status 0 on success, 1 on any failure, with the reason on stderr. */
#include <posta/pop3.h>

#include <stdio.h>
#include <string.h>

static void trace(posta_pop3 *h, char dir, const char *line, size_t len, void *user)
{
    (void)h;
    (void)user;
    fprintf(stderr, "%c: %.*s\n", dir, (int)len, line);
}

static int usage(void)
{
    fprintf(stderr, "usage: pop3_list [-s] [-v] host[:port] cafile user password\n");
    return 1;
}

static int fail(posta_pop3 *h, const char *what)
{
    fprintf(stderr, "pop3_list: %s: %s\n", what, posta_pop3_errmsg(h));
    posta_pop3_free(h);
    return 1;
}

int main(int argc, char **argv)
{
    int implicit = 0, verbose = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-s") == 0)
            implicit = 1;
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else
            return usage();
    }
    if (argc - i != 4)
        return usage();
    const char *target = argv[i], *cafile = argv[i + 1], *user = argv[i + 2],
               *password = argv[i + 3];

    posta_pop3_callbacks cb = {.on_trace = verbose ? trace : NULL};
    posta_pop3 *h = NULL;
    if (posta_pop3_new(&h, &cb, NULL, NULL) != 0) {
        fprintf(stderr, "pop3_list: out of memory\n");
        return 1;
    }
    posta_pop3_set_tls(h, implicit ? POSTA_POP3_TLS_IMPLICIT : POSTA_POP3_TLS_AUTO);
    if (posta_stream_set_ca(posta_pop3_stream(h), cafile, NULL) != 0)
        return fail(h, "CA file");

    if (posta_pop3_connect(h, target) != 0)
        return fail(h, "connect");
    if (posta_pop3_login(h, user, password) != 0)
        return fail(h, "login");

    uint32_t count;
    uint64_t size;
    if (posta_pop3_stat(h, &count, &size) != 0)
        return fail(h, "STAT");
    printf("%u messages, %llu octets\n", (unsigned)count, (unsigned long long)size);

    /* LIST and UIDL together, pipelined when the server allows it. */
    if (posta_pop3_scan(h) != 0)
        return fail(h, "LIST/UIDL");
    size_t n;
    const posta_pop3_entry *e = posta_pop3_entries(h, &n);
    for (size_t k = 0; k < n; k++)
        printf("%u %llu %s\n", (unsigned)e[k].number, (unsigned long long)e[k].size,
               e[k].uid ? e[k].uid : "-");

    /* Nothing was marked for deletion, so QUIT removes nothing. */
    if (posta_pop3_quit(h) != 0)
        return fail(h, "QUIT");
    posta_pop3_free(h);
    return 0;
}
