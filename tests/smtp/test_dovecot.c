/* Against Dovecot: submission with STARTTLS and AUTH through posta_sasl
 * (relayed to smtp-sink), implicit TLS on the submissions port, and LMTP
 * delivery seen afterwards over IMAP. */
#include <posta/imap.h>
#include <posta/smtp.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"

static char ev_log[8192];

static void on_event(posta_smtp *h, const posta_smtp_event *ev, void *user)
{
    (void)h, (void)user;
    size_t l = strlen(ev_log);
    snprintf(ev_log + l, sizeof(ev_log) - l, "%d:%s:%d;", ev->type, ev->name ? ev->name : "",
             ev->status ? ev->status->code : ev->error);
}

static posta_smtp *session(const char *port_key, posta_smtp_tls tls)
{
    posta_smtp *h;
    posta_smtp_callbacks cb = {on_event, NULL};
    char target[128];
    ev_log[0] = '\0';
    T_EQ_INT(posta_smtp_new(&h, &cb, NULL), 0);
    snprintf(target, sizeof(target), "%s:%s", t_env("HOST"), t_env(port_key));
    T_EQ_INT(posta_smtp_set_server(h, target), 0);
    T_EQ_INT(posta_smtp_set_tls(h, tls), 0);
    T_EQ_INT(posta_stream_set_ca(posta_smtp_stream(h), t_env("CA_FILE"), NULL), 0);
    /* Dovecot 2.3 submission aborts when the next transaction's RCPTs
     * arrive while it relays the previous message (see smtp.h). */
    posta_smtp_set_pipeline_transactions(h, 0);
    return h;
}

static posta_smtp_message *add(posta_smtp *h, const char *token, const char *rcpt)
{
    char *msg = malloc(256);
    snprintf(msg, 256, "X-Token: %s\nSubject: dovecot test\n\nhello\n.\nbye\n", token);
    posta_smtp_message *m;
    T_EQ_INT(posta_smtp_add_message(h, &m), 0);
    T_EQ_INT(posta_smtp_message_set_reverse_path(m, "alice@example.org"), 0);
    T_EQ_INT(posta_smtp_add_recipient(m, rcpt, NULL), 0);
    T_EQ_INT(posta_smtp_message_set_buffer(m, msg, strlen(msg)), 0);
    posta_smtp_message_set_user(m, msg);   /* freed by the test */
    return m;
}

static void free_session(posta_smtp *h)
{
    for (posta_smtp_message *m = posta_smtp_first_message(h); m; m = posta_smtp_next_message(m))
        free(posta_smtp_message_get_user(m));
    posta_smtp_free(h);
}

static int sink_has(const char *token)
{
    const char *dir = t_env("SINK_DIR");
    for (int tries = 0; tries < 100; tries++) {
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            char path[1024];
            size_t n;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            char *text = e->d_name[0] == '.' ? NULL : t_read_file(path, &n);
            int hit = text && strstr(text, token) && strstr(text, "\n.\nbye\n");
            free(text);
            if (hit) {
                closedir(d);
                return 1;
            }
        }
        if (d)
            closedir(d);
        usleep(50000);
    }
    return 0;
}

static void token(char *buf, size_t n, const char *what)
{
    snprintf(buf, n, "%s-%d-%ld", what, (int)getpid(), random());
}

/* --- submission ------------------------------------------------------------------------ */

static void test_starttls_scram_relay(void)
{
    char tok[5][64];
    posta_smtp *h = session("SUBMISSION_PORT", POSTA_SMTP_TLS_REQUIRED);
    T_EQ_INT(posta_smtp_set_auth(h, t_env("USER1"), t_env("PASS1"), NULL), 0);
    for (int i = 0; i < 5; i++) {
        token(tok[i], sizeof(tok[i]), "sub");
        add(h, tok[i], "someone@example.org");
    }
    T_EQ_INT(posta_smtp_run(h), 0);
    T_CONTAINS(ev_log, "11:");                    /* STARTTLS_OK */
    T_CONTAINS(ev_log, "14:SCRAM-SHA-256:235;");  /* the strongest offered */
    for (posta_smtp_message *m = posta_smtp_first_message(h); m; m = posta_smtp_next_message(m))
        T_EQ_INT(posta_smtp_message_status(m)->code, 250);
    for (int i = 0; i < 5; i++)
        T_ASSERT(sink_has(tok[i]));
    free_session(h);
}

static void test_each_mechanism(void)
{
    static const char *const mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1"};
    for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
        char tok[64];
        token(tok, sizeof(tok), mechs[i]);
        posta_smtp *h = session("SUBMISSION_PORT", POSTA_SMTP_TLS_REQUIRED);
        T_EQ_INT(posta_smtp_set_auth(h, t_env("USER3"), t_env("PASS3"), mechs[i]), 0);
        posta_smtp_message *m = add(h, tok, "x@example.org");
        int rc = posta_smtp_run(h);
        if (rc != 0)
            t_fail(__FILE__, __LINE__, "%s: %s", mechs[i], posta_smtp_errmsg(h));
        T_EQ_INT(posta_smtp_message_status(m)->code, 250);
        T_ASSERT(sink_has(tok));
        free_session(h);
    }
}

static void test_wrong_password(void)
{
    posta_smtp *h = session("SUBMISSION_PORT", POSTA_SMTP_TLS_REQUIRED);
    T_EQ_INT(posta_smtp_set_auth(h, t_env("USER1"), "wrong", NULL), 0);
    posta_smtp_message *m = add(h, "never", "x@example.org");
    T_EQ_INT(posta_smtp_run(h), POSTA_EAUTH);
    T_CONTAINS(ev_log, "15:");
    T_EQ_INT(posta_smtp_message_status(m)->code, 0);
    free_session(h);
}

static void test_plain_refused_in_cleartext(void)
{
    posta_smtp *h = session("SUBMISSION_PORT", POSTA_SMTP_TLS_DISABLED);
    T_EQ_INT(posta_smtp_set_auth(h, t_env("USER1"), t_env("PASS1"), "PLAIN"), 0);
    add(h, "never", "x@example.org");
    T_EQ_INT(posta_smtp_run(h), POSTA_EPOLICY);
    free_session(h);
}

static void test_implicit_tls(void)
{
    char tok[64];
    token(tok, sizeof(tok), "smtps");
    posta_smtp *h = session("SUBMISSIONS_PORT", POSTA_SMTP_TLS_IMPLICIT);
    T_EQ_INT(posta_smtp_set_auth(h, t_env("USER2"), t_env("PASS2"), NULL), 0);
    posta_smtp_message *m = add(h, tok, "y@example.org");
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(posta_smtp_message_status(m)->code, 250);
    T_ASSERT(sink_has(tok));
    free_session(h);
}

static void test_chunking_and_data(void)
{
    /* Dovecot offers CHUNKING: BDAT by default, DATA when turned off. */
    for (int chunking = 0; chunking < 2; chunking++) {
        char tok[64];
        token(tok, sizeof(tok), chunking ? "bdat" : "data");
        posta_smtp *h = session("SUBMISSION_PORT", POSTA_SMTP_TLS_REQUIRED);
        posta_smtp_set_chunking(h, chunking);
        T_EQ_INT(posta_smtp_set_auth(h, t_env("USER1"), t_env("PASS1"), NULL), 0);
        posta_smtp_message *m = add(h, tok, "z@example.org");
        T_EQ_INT(posta_smtp_run(h), 0);
        T_EQ_INT(posta_smtp_message_status(m)->code, 250);
        T_ASSERT(sink_has(tok));
        free_session(h);
    }
}

/* --- LMTP, seen over IMAP ---------------------------------------------------------------- */

struct found {
    long exists;
    int hits;
};

static int on_untagged(posta_imap *h, const posta_imap_response *r, void *user)
{
    (void)h;
    struct found *f = user;
    if (r->keyword && r->keyword_len == 6 && memcmp(r->keyword, "EXISTS", 6) == 0)
        f->exists = r->number;
    if (r->keyword && r->keyword_len == 6 && memcmp(r->keyword, "SEARCH", 6) == 0)
        f->hits += (int)r->nargs;
    return 0;
}

/* How many messages in user's INBOX carry X-Token: tok. */
static int imap_hits(const char *user, const char *pass, const char *tok)
{
    posta_imap *im;
    struct found f = {0, 0};
    char target[128];
    T_EQ_INT(posta_imap_new(&im, NULL, NULL, NULL), 0);
    posta_imap_set_tls(im, POSTA_IMAP_TLS_IMPLICIT);
    posta_stream_set_ca(posta_imap_stream(im), t_env("CA_FILE"), NULL);
    snprintf(target, sizeof(target), "%s:%s", t_env("HOST"), t_env("IMAPS_PORT"));
    T_EQ_INT(posta_imap_connect(im, target), 0);
    T_EQ_INT(posta_imap_login(im, user, pass), 0);
    T_EQ_INT(posta_imap_exec(im, on_untagged, &f, "SELECT INBOX"), 0);
    T_EQ_INT(posta_imap_exec(im, on_untagged, &f, "SEARCH HEADER X-Token %s", tok), 0);
    posta_imap_logout(im);
    posta_imap_free(im);
    T_ASSERT(f.exists > 0);
    return f.hits;
}

static void lmtp_case(int chunking)
{
    char tok[64];
    token(tok, sizeof(tok), chunking ? "lmtp-bdat" : "lmtp-data");
    posta_smtp *h = session("LMTP_PORT", POSTA_SMTP_TLS_DISABLED);
    T_EQ_INT(posta_smtp_set_lmtp(h, 1), 0);
    posta_smtp_set_chunking(h, chunking);
    posta_smtp_message *m = add(h, tok, t_env("USER2"));
    T_EQ_INT(posta_smtp_add_recipient(m, "nosuchuser", NULL), 0);
    T_EQ_INT(posta_smtp_add_recipient(m, t_env("USER3"), NULL), 0);
    T_EQ_INT(posta_smtp_run(h), 0);
    posta_smtp_recipient *r = posta_smtp_first_recipient(m);
    T_EQ_INT(posta_smtp_recipient_status(r)->code, 250);
    r = posta_smtp_next_recipient(r);
    T_EQ_INT(posta_smtp_recipient_status(r)->code, 550);
    r = posta_smtp_next_recipient(r);
    T_EQ_INT(posta_smtp_recipient_status(r)->code, 250);
    T_EQ_INT(posta_smtp_message_status(m)->code, 250);
    free_session(h);
    T_EQ_INT(imap_hits(t_env("USER2"), t_env("PASS2"), tok), 1);
    T_EQ_INT(imap_hits(t_env("USER3"), t_env("PASS3"), tok), 1);
}

static void test_lmtp_bdat(void)
{
    lmtp_case(1);
}

static void test_lmtp_data(void)
{
    lmtp_case(0);
}

/* Dovecot's default LMTP UNIX socket lives in its base_dir (STATE_DIR/run). */
static void test_lmtp_unix_socket(void)
{
    char path[600], target[620], tok[64];
    snprintf(path, sizeof(path), "%s/run/lmtp", t_env("STATE_DIR"));
    if (access(path, F_OK) != 0) {
        printf("skip: no %s\n", path);
        return;
    }
    snprintf(target, sizeof(target), "unix:%s", path);
    token(tok, sizeof(tok), "lmtp-unix");
    posta_smtp *h = session("LMTP_PORT", POSTA_SMTP_TLS_REQUIRED);
    T_EQ_INT(posta_smtp_set_server(h, target), 0);
    T_EQ_INT(posta_smtp_set_lmtp(h, 1), 0);
    posta_smtp_message *m = add(h, tok, t_env("USER2"));
    /* A local socket needs no TLS even when it is required. */
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(posta_smtp_message_status(m)->code, 250);
    free_session(h);
    T_EQ_INT(imap_hits(t_env("USER2"), t_env("PASS2"), tok), 1);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"starttls_scram_relay", test_starttls_scram_relay},
        {"each_mechanism", test_each_mechanism},
        {"wrong_password", test_wrong_password},
        {"plain_refused_in_cleartext", test_plain_refused_in_cleartext},
        {"implicit_tls", test_implicit_tls},
        {"chunking_and_data", test_chunking_and_data},
        {"lmtp_bdat", test_lmtp_bdat},
        {"lmtp_data", test_lmtp_data},
        {"lmtp_unix_socket", test_lmtp_unix_socket},
        {NULL, NULL},
    };
    srandom((unsigned)getpid());
    return t_main(argc, argv, cases);
}
