/* The imclient compatibility library against the loopback Dovecot: mailbox
 * names that need quoting created and listed back exactly, a value sent as
 * a literal and read back, authentication through the descriptors, STARTTLS
 * with the test CA, and a select(2) loop of the caller's. */
#include <cyrus/imclient.h>
#include <cyrus/sasl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "itest.h"
#include "t.h"

static struct imclient *open_dovecot(void)
{
    struct imclient *im = NULL;
    int rc = imclient_connect(&im, t_env("HOST"), t_env("IMAP_PORT"));
    if (rc != 0) {
        t_fail(__FILE__, __LINE__, "imclient_connect: %d", rc);
        exit(1);
    }
    return im;
}

/* The password procedure: rock is the password. */
static int give_password(struct imclient *im, void *rock, const char *mech, const char *user, char *buf,
                         size_t size)
{
    (void)im, (void)mech, (void)user;
    snprintf(buf, size, "%s", (const char *)rock);
    return 0;
}

static struct imclient *login(const char *user, const char *pass)
{
    struct imclient *im = open_dovecot();
    struct sasl_client *mechs[] = {&scram_sha_256_sasl_client, NULL};
    imclient_setpasswordproc(im, give_password, (void *)pass);
    T_EQ_INT(imclient_authenticate(im, mechs, "imap", user, SASL_PROT_ANY), 0);
    return im;
}

/* Send a command and wait for its completion; returns the keyword. */
static const char *run(struct imclient *im, struct rec *r, const char *fmt, const char *arg)
{
    memset(r, 0, sizeof(*r));
    imclient_send(im, rec_proc, r, fmt, arg);
    run_until(im, &r->calls, 1);
    return r->keyword;
}

/* --- mailbox names ------------------------------------------------------------ */

/* Copy the astring at *pp (quoted and unescaped, a literal, or an atom)
 * into out, and move *pp past it. */
static void astring(const char **pp, char *out, size_t size)
{
    const char *p = *pp;
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (n + 1 < size)
                out[n++] = *p;
        }
        p += *p == '"';
    } else if (*p == '{') {
        char *end;
        long len = strtol(p + 1, &end, 10);
        p = strchr(end, '\n');
        for (p = p ? p + 1 : end; len-- > 0 && *p; p++)
            if (n + 1 < size)
                out[n++] = *p;
    } else {
        for (; *p && *p != ' '; p++)
            if (n + 1 < size)
                out[n++] = *p;
    }
    out[n] = '\0';
    *pp = p;
}

/* The mailbox name of a LIST reply's text: (attributes) delimiter name. */
static void list_name(const char *text, char *out, size_t size)
{
    char delim[8];
    const char *p = strchr(text, ')');
    p = p ? p + 1 : text;
    while (*p == ' ')
        p++;
    astring(&p, delim, sizeof(delim));
    while (*p == ' ')
        p++;
    astring(&p, out, size);
}

struct listing {
    int calls;
    char names[16][256];
};

static void on_list(struct imclient *im, void *rock, struct imclient_reply *reply)
{
    struct listing *l = rock;
    (void)im;
    if (l->calls < 16)
        list_name(reply->text, l->names[l->calls], sizeof(l->names[0]));
    l->calls++;
}

static int listed(const struct listing *l, const char *name)
{
    for (int i = 0; i < l->calls && i < 16; i++)
        if (strcmp(l->names[i], name) == 0)
            return 1;
    return 0;
}

static void test_mailbox_names(void)
{
    static const char *const suffixes[] = {"with space", "q\"uote", "back\\slash", "per%cent", "st*ar",
                                           "{br}ace", "{5}", "tail\\"};
    const size_t n = sizeof(suffixes) / sizeof(suffixes[0]);
    char names[8][128], pattern[64];
    struct imclient *im = login(t_env("USER2"), t_env("PASS2"));
    struct listing l = {0};
    struct rec r;
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "imc%d %s", (int)getpid(), suffixes[i]);
        if (strcmp(run(im, &r, "CREATE %s", names[i]), "OK") != 0)
            t_fail(__FILE__, __LINE__, "CREATE %s: %s %s", names[i], r.keyword, r.text);
    }
    imclient_addcallback(im, "LIST", 0, on_list, &l, NULL);
    snprintf(pattern, sizeof(pattern), "imc%d *", (int)getpid());
    T_EQ_STR(run(im, &r, "LIST \"\" %s", pattern), "OK");
    T_EQ_INT(l.calls, (int)n);
    for (size_t i = 0; i < n; i++) {
        if (!listed(&l, names[i]))
            t_fail(__FILE__, __LINE__, "\"%s\" not listed back", names[i]);
        T_EQ_STR(run(im, &r, "DELETE %s", names[i]), "OK");
    }
    imclient_close(im);
}

/* A value too long to quote goes as a literal and comes back as one. */
static void test_literal_roundtrip(void)
{
    struct imclient *im = login(t_env("USER2"), t_env("PASS2"));
    struct rec r, meta = {0};
    char value[3000];
    for (size_t i = 0; i < sizeof(value) - 1; i++)
        value[i] = (char)('a' + i % 26);
    value[sizeof(value) - 1] = '\0';
    memcpy(value + 100, "\r\n\"\\%*{", 7);
    imclient_addcallback(im, "METADATA", 0, rec_proc, &meta, NULL);
    T_EQ_STR(run(im, &r, "SETMETADATA INBOX (/private/comment %s)", value), "OK");
    T_EQ_STR(run(im, &r, "GETMETADATA INBOX %s", "/private/comment"), "OK");
    T_EQ_INT(meta.calls, 1);
    const char *lit = strstr(meta.text, "{2999}\r\n");
    T_ASSERT(lit != NULL);
    if (lit)
        T_ASSERT(strncmp(lit + 8, value, sizeof(value) - 1) == 0);
    T_EQ_STR(run(im, &r, "SETMETADATA INBOX (/private/comment %a)", "NIL"), "OK");
    imclient_close(im);
}

/* --- authentication ------------------------------------------------------------- */

static void test_authenticate(void)
{
    struct sasl_client *plain[] = {&krb_sasl_client, &plain_sasl_client, NULL};
    struct sasl_client *scram[] = {&scram_sha_1_sasl_client, NULL};
    struct rec r;

    /* PLAIN in cleartext only with the flag. */
    struct imclient *im = open_dovecot();
    imclient_setpasswordproc(im, give_password, (void *)t_env("PASS1"));
    T_EQ_INT(imclient_authenticate(im, plain, "imap", t_env("USER1"), SASL_PROT_ANY), 1);
    imclient_setflags(im, IMCLIENT_CONN_PLAINTEXT);
    T_EQ_INT(imclient_authenticate(im, plain, "imap", t_env("USER1"), SASL_PROT_ANY), 0);
    T_EQ_STR(run(im, &r, "SELECT %s", "INBOX"), "OK");
    imclient_close(im);

    /* A wrong password: failure, 1. */
    im = open_dovecot();
    imclient_setpasswordproc(im, give_password, (void *)"wrong");
    T_EQ_INT(imclient_authenticate(im, scram, "imap", t_env("USER1"), SASL_PROT_ANY), 1);
    imclient_close(im);

    /* user NULL: the current user, from $LOGNAME. */
    setenv("LOGNAME", t_env("USER1"), 1);
    im = open_dovecot();
    imclient_setpasswordproc(im, give_password, (void *)t_env("PASS1"));
    T_EQ_INT(imclient_authenticate(im, scram, "imap", NULL, SASL_PROT_ANY), 0);
    imclient_close(im);
}

/* --- STARTTLS -------------------------------------------------------------------------- */

struct tls_call {
    struct imclient *im;
    int rc;
};

static void call_starttls(void *arg)
{
    struct tls_call *c = arg;
    c->rc = imclient_starttls(c->im, NULL, NULL, (char *)t_env("CA_FILE"), NULL);
}

static void test_starttls(void)
{
    struct sasl_client *plain[] = {&plain_sasl_client, NULL};
    struct imclient *im = open_dovecot();
    struct tls_call c = {im, -1};
    struct rec r;
    const char *out = capture_stdout(call_starttls, &c);
    T_EQ_INT(c.rc, 0);
    T_EQ_STR(out, "");
    /* Under TLS, PLAIN needs no flag. */
    imclient_setpasswordproc(im, give_password, (void *)t_env("PASS1"));
    T_EQ_INT(imclient_authenticate(im, plain, "imap", t_env("USER1"), SASL_PROT_ANY), 0);
    T_EQ_STR(run(im, &r, "EXAMINE %s", "INBOX"), "OK");
    imclient_close(im);
}

/* --- the caller's own loop ------------------------------------------------------------- */

static void test_select_loop(void)
{
    struct imclient *im = login(t_env("USER2"), t_env("PASS2"));
    struct rec cap = {0}, done[3];
    memset(done, 0, sizeof(done));
    imclient_addcallback(im, "CAPABILITY", 0, rec_proc, &cap, NULL);
    imclient_send(im, rec_proc, &done[0], "CAPABILITY");
    imclient_send(im, rec_proc, &done[1], "NOOP");
    imclient_send(im, rec_proc, &done[2], "STATUS %s (MESSAGES)", "INBOX");
    for (int rounds = 0; done[2].calls == 0 && rounds < 1000; rounds++) {
        int fd, ww;
        fd_set rd, wr;
        struct timeval tv = {10, 0};
        imclient_getselectinfo(im, &fd, &ww);
        FD_ZERO(&rd);
        FD_ZERO(&wr);
        FD_SET(fd, &rd);
        if (ww)
            FD_SET(fd, &wr);
        if (select(fd + 1, &rd, &wr, NULL, &tv) <= 0)
            break;
        imclient_processoneevent(im);
    }
    T_EQ_STR(done[0].keyword, "OK");
    T_EQ_STR(done[1].keyword, "OK");
    T_EQ_STR(done[2].keyword, "OK");
    T_CONTAINS(cap.text, "IMAP4rev1");
    imclient_close(im);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"mailbox_names", test_mailbox_names},
        {"literal_roundtrip", test_literal_roundtrip},
        {"authenticate", test_authenticate},
        {"starttls", test_starttls},
        {"select_loop", test_select_loop},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
