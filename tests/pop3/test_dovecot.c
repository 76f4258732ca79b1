/* The POP3 client against Dovecot: STLS and POP3S, every login path (USER/PASS,
 * APOP, SASL mechanisms), and the commands on messages delivered by LMTP,
 * including that DELE+QUIT deletes and DELE+hang-up does not. */
#include <posta/pop3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "t.h"

/* The messages here go to carol (password with spaces); each run marks its
 * own with a token so that other mail in the box never confuses a check. */
static char token[64];

static const char *target(const char *port_key)
{
    static char buf[128];
    snprintf(buf, sizeof(buf), "%s:%s", t_env("HOST"), t_env(port_key));
    return buf;
}

static posta_pop3 *make(posta_pop3_tls mode)
{
    posta_pop3 *h = NULL;
    T_EQ_INT(posta_pop3_new(&h, NULL, NULL, NULL), 0);
    posta_pop3_set_tls(h, mode);
    T_EQ_INT(posta_stream_set_ca(posta_pop3_stream(h), t_env("CA_FILE"), NULL), 0);
    return h;
}

static posta_pop3 *connected(void)
{
    posta_pop3 *h = make(POSTA_POP3_TLS_AUTO);
    int rc = posta_pop3_connect(h, target("POP3_PORT"));
    if (rc != 0)
        t_fail(__FILE__, __LINE__, "connect: %s", posta_pop3_errmsg(h));
    return h;
}

static posta_pop3 *logged_in(void)
{
    posta_pop3 *h = connected();
    int rc = posta_pop3_login(h, t_env("USER3"), t_env("PASS3"));
    if (rc != 0)
        t_fail(__FILE__, __LINE__, "login: %s", posta_pop3_errmsg(h));
    return h;
}

/* --- delivery by LMTP ------------------------------------------------------ */

static void lmtp_reply(posta_stream *s, const char *want)
{
    char line[1024];
    for (;;) {
        size_t n = 0;
        while (n + 1 < sizeof(line)) {
            long r = posta_stream_read_blocking(s, line + n, 1);
            if (r <= 0) {
                t_fail(__FILE__, __LINE__, "LMTP read: %s", posta_stream_errmsg(s));
                return;
            }
            if (line[n++] == '\n')
                break;
        }
        line[n] = '\0';
        if (n >= 4 && line[3] == '-')
            continue;
        if (strncmp(line, want, 3) != 0)
            t_fail(__FILE__, __LINE__, "LMTP said %s, expected %s", line, want);
        return;
    }
}

static void lmtp_send(posta_stream *s, const char *text, const char *want)
{
    T_EQ_INT(posta_stream_write_all(s, text, strlen(text)), 0);
    if (want)
        lmtp_reply(s, want);
}

/* Deliver body (CRLF lines, already dot-stuffed) with subject "<token>-<n>". */
static void deliver(int n, const char *body)
{
    posta_stream *s = NULL;
    char buf[8192];
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_connect(s, target("LMTP_PORT"), NULL), 0);
    lmtp_reply(s, "220");
    lmtp_send(s, "LHLO posta-test\r\n", "250");
    lmtp_send(s, "MAIL FROM:<test@posta.example>\r\n", "250");
    snprintf(buf, sizeof(buf), "RCPT TO:<%s>\r\n", t_env("USER3"));
    lmtp_send(s, buf, "250");
    lmtp_send(s, "DATA\r\n", "354");
    snprintf(buf, sizeof(buf),
             "From: test@posta.example\r\nTo: %s\r\nSubject: %s-%d\r\n\r\n%s.\r\n", t_env("USER3"),
             token, n, body);
    lmtp_send(s, buf, "250");
    lmtp_send(s, "QUIT\r\n", "221");
    posta_stream_free(s);
}

/* --- finding our messages --------------------------------------------------- */

struct grab {
    char data[16384];
    size_t len;
};

static int grab(posta_pop3 *h, const void *d, size_t n, void *user)
{
    struct grab *g = user;
    if (g->len + n < sizeof(g->data)) {
        memcpy(g->data + g->len, d, n);
        g->len += n;
        g->data[g->len] = '\0';
    }
    return 0;
}

/* Message number k of this run (by its Subject), or 0; its UID in uid_r. */
static uint32_t find(posta_pop3 *h, int k, char *uid_r, size_t uidsz)
{
    char subject[128];
    size_t n;
    snprintf(subject, sizeof(subject), "Subject: %s-%d\r\n", token, k);
    T_EQ_INT(posta_pop3_scan(h), 0);
    const posta_pop3_entry *e = posta_pop3_entries(h, &n);
    for (size_t i = 0; i < n; i++) {
        struct grab g = {.len = 0};
        if (posta_pop3_top(h, e[i].number, 0, grab, &g) != 0)
            continue;
        if (strstr(g.data, subject)) {
            if (uid_r)
                snprintf(uid_r, uidsz, "%s", e[i].uid ? e[i].uid : "");
            return e[i].number;
        }
    }
    return 0;
}

/* --- login paths ------------------------------------------------------------ */

static void test_stls_and_capa(void)
{
    posta_pop3 *h = connected();
    T_ASSERT(posta_pop3_tls_active(h));
    T_ASSERT(posta_stream_tls_verified(posta_pop3_stream(h)));
    T_ASSERT(posta_pop3_capa_known(h));
    T_ASSERT(posta_pop3_has_capa(h, "UIDL"));
    T_ASSERT(posta_pop3_has_capa(h, "PIPELINING"));
    T_ASSERT(posta_pop3_has_capa(h, "RESP-CODES"));
    T_ASSERT(!posta_pop3_has_capa(h, "STLS"));   /* asked again after TLS */
    T_ASSERT(posta_pop3_capa_args(h, "SASL") != NULL);
    T_ASSERT(posta_pop3_apop_timestamp(h) != NULL);
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);
}

static int login_with(posta_pop3 *h, posta_pop3_auth method, const char *mechs, const char *pass)
{
    posta_sasl *s = NULL;
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_POP3, "pop", "localhost"), 0);
    posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, t_env("USER3"), strlen(t_env("USER3")));
    posta_sasl_set_credential(s, POSTA_SASL_PASSWORD, pass, strlen(pass));
    if (mechs)
        T_EQ_INT(posta_sasl_set_mechanisms(s, mechs), 0);
    int rc = posta_pop3_authenticate(h, s, method);
    posta_sasl_free(s);
    return rc;
}

static void test_user_pass(void)
{
    posta_pop3 *h = connected();
    T_EQ_INT(login_with(h, POSTA_POP3_AUTH_USER, NULL, t_env("PASS3")), 0);
    T_EQ_STR(posta_pop3_auth_method(h), "USER");
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_TRANSACTION);
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);
}

static void test_apop_pop3s(void)
{
    /* POP3S on a port other than 995: implicit TLS asked for explicitly. */
    posta_pop3 *h = make(POSTA_POP3_TLS_IMPLICIT);
    T_EQ_INT(posta_pop3_connect(h, target("POP3S_PORT")), 0);
    T_ASSERT(posta_pop3_tls_active(h));
    T_EQ_INT(login_with(h, POSTA_POP3_AUTH_APOP, NULL, t_env("PASS3")), 0);
    T_EQ_STR(posta_pop3_auth_method(h), "APOP");
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);
}

static void test_sasl_mechanisms(void)
{
    static const char *const mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5",
                                        "SCRAM-SHA-1", "SCRAM-SHA-256", "OAUTHBEARER", "XOAUTH2"};
    for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
        posta_pop3 *h = connected();
        posta_sasl *s = NULL;
        T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_POP3, "pop", "localhost"), 0);
        posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, t_env("USER3"), strlen(t_env("USER3")));
        /* Dovecot checks OAuth tokens as the password (no oauth2 passdb). */
        posta_sasl_set_credential(s, strstr(mechs[i], "OAUTH") ? POSTA_SASL_TOKEN
                                                               : POSTA_SASL_PASSWORD,
                                  t_env("PASS3"), strlen(t_env("PASS3")));
        posta_sasl_set_mechanisms(s, mechs[i]);
        int rc = posta_pop3_authenticate(h, s, POSTA_POP3_AUTH_SASL);
        if (rc != 0)
            t_fail(__FILE__, __LINE__, "%s: %s", mechs[i], posta_pop3_errmsg(h));
        else
            T_EQ_STR(posta_pop3_auth_method(h), mechs[i]);
        uint32_t n;
        if (rc == 0)
            T_EQ_INT(posta_pop3_stat(h, &n, NULL), 0);
        posta_sasl_free(s);
        posta_pop3_quit(h);
        posta_pop3_free(h);
    }
}

static void test_login_any(void)
{
    posta_pop3 *h = logged_in();
    /* The strongest on offer; SCRAM never shows the password. */
    T_EQ_STR(posta_pop3_auth_method(h), "SCRAM-SHA-256");
    posta_pop3_free(h);
}

static void test_wrong_password(void)
{
    posta_pop3 *h = connected();
    T_EQ_INT(posta_pop3_login(h, t_env("USER3"), "wrong"), POSTA_EAUTH);
    T_CONTAINS(posta_pop3_errmsg(h), "refused by 127.0.0.1:");
    T_EQ_STR(posta_pop3_server_code(h), "AUTH");
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_AUTHORIZATION);
    T_EQ_INT(login_with(h, POSTA_POP3_AUTH_USER, NULL, "wrong"), POSTA_EAUTH);
    T_EQ_INT(login_with(h, POSTA_POP3_AUTH_APOP, NULL, "wrong"), POSTA_EAUTH);
    /* Still usable: the right password works after the failures. */
    T_EQ_INT(login_with(h, POSTA_POP3_AUTH_USER, NULL, t_env("PASS3")), 0);
    posta_pop3_free(h);
}

static void test_cleartext_policy(void)
{
    /* No TLS at all: USER/PASS and PLAIN stay home; SCRAM may go. */
    posta_pop3 *h = make(POSTA_POP3_TLS_NONE);
    T_EQ_INT(posta_pop3_connect(h, target("POP3_PORT")), 0);
    T_ASSERT(!posta_pop3_tls_active(h));
    T_EQ_INT(login_with(h, POSTA_POP3_AUTH_USER, NULL, t_env("PASS3")), POSTA_EPOLICY);
    T_EQ_INT(login_with(h, POSTA_POP3_AUTH_SASL, "PLAIN", t_env("PASS3")), POSTA_EPOLICY);
    T_EQ_INT(login_with(h, POSTA_POP3_AUTH_SASL, "SCRAM-SHA-256", t_env("PASS3")), 0);
    posta_pop3_free(h);

    /* Allowed explicitly. */
    h = make(POSTA_POP3_TLS_NONE);
    posta_pop3_set_allow_cleartext(h, 1);
    T_EQ_INT(posta_pop3_connect(h, target("POP3_PORT")), 0);
    T_EQ_INT(login_with(h, POSTA_POP3_AUTH_USER, NULL, t_env("PASS3")), 0);
    posta_pop3_free(h);
}

/* --- the commands on delivered messages ---------------------------------------- */

static void test_commands(void)
{
    deliver(1, "first body\r\n..hidden line that starts with a dot\r\n...\r\nend\r\n");
    deliver(2, "second\r\n");
    posta_pop3 *h = logged_in();
    char uid1[128], uid2[128];
    uint32_t m1 = find(h, 1, uid1, sizeof(uid1));
    uint32_t m2 = find(h, 2, uid2, sizeof(uid2));
    T_ASSERT(m1 && m2 && m1 != m2);
    T_ASSERT(uid1[0] && strcmp(uid1, uid2) != 0);

    uint32_t count = 0;
    uint64_t total = 0;
    T_EQ_INT(posta_pop3_stat(h, &count, &total), 0);
    T_ASSERT(count >= 2);

    /* LIST n and RETR agree on the size; the dots came back unstuffed. */
    struct grab g = {.len = 0};
    T_EQ_INT(posta_pop3_retr(h, m1, grab, &g), 0);
    T_CONTAINS(g.data, "\r\n\r\nfirst body\r\n.hidden line that starts with a dot\r\n..\r\nend\r\n");
    size_t n;
    const posta_pop3_entry *e = posta_pop3_entries(h, &n);
    const posta_pop3_entry *me = posta_pop3_find_uid(h, uid1);
    T_ASSERT(me && me->number == m1);
    T_EQ_INT(me->size, g.len);
    (void)e;

    /* TOP n 0: the header and the blank line. */
    struct grab t = {.len = 0};
    T_EQ_INT(posta_pop3_top(h, m2, 0, grab, &t), 0);
    T_CONTAINS(t.data, "-2\r\n");
    T_ASSERT(t.len >= 2 && strcmp(t.data + t.len - 4, "\r\n\r\n") == 0);
    T_ASSERT(!strstr(t.data, "second"));

    /* DELE then RSET: nothing is marked any more. */
    T_EQ_INT(posta_pop3_dele(h, m1), 0);
    T_ASSERT(posta_pop3_find_uid(h, uid1)->deleted);
    T_EQ_INT(posta_pop3_retr(h, m1, NULL, NULL), POSTA_ENO);   /* marked: refused */
    T_EQ_INT(posta_pop3_rset(h), 0);
    T_ASSERT(!posta_pop3_find_uid(h, uid1)->deleted);
    T_EQ_INT(posta_pop3_noop(h), 0);
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);

    h = logged_in();
    T_EQ_INT(find(h, 1, NULL, 0), find(h, 1, NULL, 0));
    T_ASSERT(find(h, 1, NULL, 0) != 0);
    posta_pop3_free(h);
}

static void test_dele_hangup_keeps(void)
{
    deliver(3, "keep me\r\n");
    posta_pop3 *h = logged_in();
    uint32_t m = find(h, 3, NULL, 0);
    T_ASSERT(m != 0);
    T_EQ_INT(posta_pop3_dele(h, m), 0);
    /* Hang up without QUIT: the server never enters UPDATE. */
    posta_pop3_free(h);

    h = logged_in();
    T_ASSERT(find(h, 3, NULL, 0) != 0);
    posta_pop3_free(h);
}

static void test_dele_quit_deletes(void)
{
    deliver(4, "delete me\r\n");
    posta_pop3 *h = logged_in();
    uint32_t m = find(h, 4, NULL, 0);
    T_ASSERT(m != 0);
    T_EQ_INT(posta_pop3_dele(h, m), 0);
    T_EQ_INT(posta_pop3_quit(h), 0);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    /* The handle can connect again. */
    T_EQ_INT(posta_pop3_connect(h, target("POP3_PORT")), 0);
    T_EQ_INT(posta_pop3_login(h, t_env("USER3"), t_env("PASS3")), 0);
    T_EQ_INT(find(h, 4, NULL, 0), 0);
    posta_pop3_free(h);
}

struct tally {
    int done, errors;
    size_t bytes;
};

static void tally_done(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    struct tally *t = user;
    t->done++;
    t->errors += r->error != 0;
    t->bytes += (size_t)r->size;
}

static void test_pipelined_retr_dele(void)
{
    for (int k = 5; k < 9; k++)
        deliver(k, "pipelined\r\n");
    posta_pop3 *h = logged_in();
    uint32_t m[4];
    for (int k = 0; k < 4; k++) {
        m[k] = find(h, 5 + k, NULL, 0);
        T_ASSERT(m[k] != 0);
    }
    struct tally t = {0};
    for (int k = 0; k < 4; k++) {
        T_EQ_INT(posta_pop3_retr_start(h, m[k], NULL, tally_done, &t), 0);
        T_EQ_INT(posta_pop3_dele_start(h, m[k], tally_done, &t), 0);
    }
    T_EQ_INT(posta_pop3_quit_start(h, tally_done, &t), 0);
    T_EQ_INT(posta_pop3_run(h), 0);
    T_EQ_INT(t.done, 9);
    T_EQ_INT(t.errors, 0);
    T_ASSERT(t.bytes > 4 * strlen("pipelined\r\n"));
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    posta_pop3_free(h);

    h = logged_in();
    for (int k = 5; k < 9; k++)
        T_EQ_INT(find(h, k, NULL, 0), 0);
    posta_pop3_free(h);
}

static void test_utf8(void)
{
    posta_pop3 *h = connected();
    if (posta_pop3_has_capa(h, "UTF8"))
        T_EQ_INT(posta_pop3_utf8(h), 0);
    else
        T_EQ_INT(posta_pop3_utf8(h), POSTA_EUNSUPPORTED);
    posta_pop3_free(h);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"stls_and_capa", test_stls_and_capa},
        {"user_pass", test_user_pass},
        {"apop_pop3s", test_apop_pop3s},
        {"sasl_mechanisms", test_sasl_mechanisms},
        {"login_any", test_login_any},
        {"wrong_password", test_wrong_password},
        {"cleartext_policy", test_cleartext_policy},
        {"commands", test_commands},
        {"dele_hangup_keeps", test_dele_hangup_keeps},
        {"dele_quit_deletes", test_dele_quit_deletes},
        {"pipelined_retr_dele", test_pipelined_retr_dele},
        {"utf8", test_utf8},
        {NULL, NULL},
    };
    snprintf(token, sizeof(token), "posta-pop3-%ld-%d", (long)time(NULL), (int)getpid());
    return t_main(argc, argv, cases);
}
