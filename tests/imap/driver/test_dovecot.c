/* The IMAP driver in real sessions with the loopback Dovecot: STARTTLS and
 * implicit TLS, LOGIN, SELECT, APPEND, FETCH into a sink, pipelining, IDLE
 * woken by a second connection, mailbox names that need encoding. */
#include <posta/imap.h>
#include <posta/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"

static char target_buf[64];

static const char *target(const char *host_key, const char *port_key)
{
    snprintf(target_buf, sizeof(target_buf), "%s:%s", t_env(host_key), t_env(port_key));
    return target_buf;
}

/* A verified connection, logged in as user. */
static posta_imap *session(posta_imap_tls mode, const char *user, const char *pass)
{
    posta_imap *h;
    T_EQ_INT(posta_imap_new(&h, NULL, NULL, NULL), 0);
    posta_imap_set_tls(h, mode);
    T_EQ_INT(posta_stream_set_ca(posta_imap_stream(h), t_env("CA_FILE"), NULL), 0);
    int rc = posta_imap_connect(h, target("HOST", mode == POSTA_IMAP_TLS_IMPLICIT ? "IMAPS_PORT" : "IMAP_PORT"));
    if (rc != 0) {
        t_fail(__FILE__, __LINE__, "connect: %s", posta_imap_errmsg(h));
        exit(1);
    }
    if (user && (rc = posta_imap_login(h, user, pass)) != 0)
        t_fail(__FILE__, __LINE__, "login: %s", posta_imap_errmsg(h));
    return h;
}

/* A mailbox name of our own, so parallel tests do not meet. */
static const char *mbox(const char *what)
{
    static char buf[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "posta-%s-%ld", what, (long)getpid());
    return buf[i];
}

static void test_starttls_login_select(void)
{
    posta_imap *h = session(POSTA_IMAP_TLS_STARTTLS, NULL, NULL);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_NOT_AUTHENTICATED);
    T_EQ_INT(posta_stream_tls_verified(posta_imap_stream(h)), 1);
    T_EQ_INT(posta_imap_has_capability(h, "STARTTLS"), 0); /* asked again after TLS */
    T_EQ_INT(posta_imap_has_capability(h, "AUTH=PLAIN"), 1);
    T_EQ_INT(posta_imap_login(h, t_env("USER1"), t_env("PASS1")), 0);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_AUTHENTICATED);
    T_EQ_INT(posta_imap_has_capability(h, "IDLE"), 1);
    T_EQ_INT(posta_imap_select(h, "INBOX", 0), 0);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_SELECTED);
    T_EQ_INT(posta_imap_logout(h), 0);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_DISCONNECTED);
    posta_imap_free(h);
}

static void test_implicit_tls_password_with_spaces(void)
{
    posta_imap *h = session(POSTA_IMAP_TLS_IMPLICIT, t_env("USER3"), t_env("PASS3"));
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_AUTHENTICATED);
    posta_imap_free(h);
}

static void test_wrong_password(void)
{
    posta_imap *h = session(POSTA_IMAP_TLS_IMPLICIT, NULL, NULL);
    T_EQ_INT(posta_imap_login(h, t_env("USER1"), "wrong"), POSTA_ENO);
    T_CONTAINS(posta_imap_errmsg(h), "[AUTHENTICATIONFAILED]");
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_NOT_AUTHENTICATED);
    posta_imap_free(h);
}

static void test_logindisabled_obeyed(void)
{
    /* Dovecot shows LOGINDISABLED on 127.0.0.2 without TLS. */
    posta_imap *h;
    T_EQ_INT(posta_imap_new(&h, NULL, NULL, NULL), 0);
    posta_imap_set_tls(h, POSTA_IMAP_TLS_NONE);
    T_EQ_INT(posta_imap_connect(h, target("HOST2", "IMAP_PORT")), 0);
    T_EQ_INT(posta_imap_has_capability(h, "LOGINDISABLED"), 1);
    T_EQ_INT(posta_imap_login(h, t_env("USER1"), t_env("PASS1")), POSTA_EPOLICY);
    posta_imap_free(h);
}

/* Collect a fetched body. */
struct body {
    char data[8192];
    size_t len;
};

static int body_data(posta_imap *h, const void *buf, size_t len, void *user)
{
    struct body *b = user;
    (void)h;
    if (b->len + len > sizeof(b->data))
        return POSTA_ELIMIT;
    memcpy(b->data + b->len, buf, len);
    b->len += len;
    return 0;
}

static int fetch_inline(posta_imap *h, const posta_imap_response *r, void *user)
{
    struct body *b = user;
    (void)h;
    if (!r->keyword || strcmp(r->keyword, "FETCH") != 0 || r->nargs != 1)
        return 0;
    const posta_imap_arg *list = &r->args[0];
    for (size_t i = 0; i + 1 < list->count; i += 2)
        if (list->list[i].len == 6 && memcmp(list->list[i].str, "BODY[]", 6) == 0 &&
            list->list[i + 1].type == POSTA_IMAP_ARG_LITERAL) {
            memcpy(b->data, list->list[i + 1].str, list->list[i + 1].len);
            b->len = list->list[i + 1].len;
        }
    return 1;
}

static void test_append_fetch(void)
{
    posta_imap *h = session(POSTA_IMAP_TLS_IMPLICIT, t_env("USER1"), t_env("PASS1"));
    const char *box = mbox("append");
    const char msg[] = "From: alice@example.org\r\nSubject: posta test\r\n\r\nline one\r\n.dot line\r\n";
    posta_imap_literal lit = {.size = sizeof(msg) - 1, .data = msg};
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "CREATE %m", box), 0);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "APPEND %m (\\Seen) %L", box, &lit), 0);
    T_EQ_INT(posta_imap_select(h, box, 0), 0);
    struct body inl = {{0}, 0};
    T_EQ_INT(posta_imap_exec(h, fetch_inline, &inl, "FETCH 1 BODY.PEEK[]"), 0);
    T_EQ_MEM(inl.data, inl.len, msg, sizeof(msg) - 1);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "DELETE %m", "nonexistent-posta-box"), POSTA_ENO);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "CLOSE"), 0);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "DELETE %m", box), 0);
    posta_imap_free(h);
}

static void test_fetch_streamed_to_sink(void)
{
    /* A body above the inline limit goes to the command's sink. */
    posta_imap_limits lim = {.inline_literal = 16};
    posta_imap *h;
    T_EQ_INT(posta_imap_new(&h, NULL, &lim, NULL), 0);
    posta_imap_set_tls(h, POSTA_IMAP_TLS_IMPLICIT);
    T_EQ_INT(posta_stream_set_ca(posta_imap_stream(h), t_env("CA_FILE"), NULL), 0);
    T_EQ_INT(posta_imap_connect(h, target("HOST", "IMAPS_PORT")), 0);
    T_EQ_INT(posta_imap_login(h, t_env("USER1"), t_env("PASS1")), 0);
    const char *box = mbox("sink");
    const char msg[] = "Subject: streamed\r\n\r\nthis body is longer than sixteen bytes\r\n";
    posta_imap_literal lit = {.size = sizeof(msg) - 1, .data = msg};
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "CREATE %m", box), 0);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "APPEND %m %L", box, &lit), 0);
    T_EQ_INT(posta_imap_select(h, box, 0), 0);
    struct body b = {{0}, 0};
    posta_imap_sink sink = {NULL, body_data, NULL, &b};
    int done = 0, error = -1;
    posta_imap_cmd_opts o = {.sink = &sink};
    T_EQ_INT(posta_imap_submit(h, &o, "FETCH 1 BODY.PEEK[]"), 0);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "NOOP"), 0);
    (void)done;
    (void)error;
    T_EQ_MEM(b.data, b.len, msg, sizeof(msg) - 1);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "CLOSE"), 0);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "DELETE %m", box), 0);
    posta_imap_free(h);
}

struct counter {
    int done, ok;
};

static void count_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    struct counter *c = user;
    (void)h;
    c->done++;
    if (r->error == 0)
        c->ok++;
}

static void test_pipelining(void)
{
    posta_imap *h = session(POSTA_IMAP_TLS_IMPLICIT, t_env("USER1"), t_env("PASS1"));
    struct counter c = {0, 0};
    posta_imap_cmd_opts o = {.done = count_done, .user = &c};
    for (int i = 0; i < 50; i++)
        T_EQ_INT(posta_imap_submit(h, &o, i % 2 ? "NOOP" : "STATUS INBOX (MESSAGES UIDNEXT)"), 0);
    T_EQ_INT(posta_imap_pending(h), 50);
    for (int i = 0; i < 1000 && c.done < 50; i++)
        posta_imap_process(h, 100);
    T_EQ_INT(c.done, 50);
    T_EQ_INT(c.ok, 50);
    posta_imap_free(h);
}

static int on_exists(posta_imap *h, const posta_imap_response *r, void *user)
{
    (void)h;
    (void)r;
    (*(int *)user)++;
    return 1;
}

static void test_idle_woken_by_second_connection(void)
{
    posta_imap *h1 = session(POSTA_IMAP_TLS_IMPLICIT, t_env("USER2"), t_env("PASS2"));
    posta_imap *h2 = session(POSTA_IMAP_TLS_STARTTLS, t_env("USER2"), t_env("PASS2"));
    const char *box = mbox("idle");
    T_EQ_INT(posta_imap_exec(h2, NULL, NULL, "CREATE %m", box), 0);
    T_EQ_INT(posta_imap_select(h1, box, 0), 0);
    int exists = 0;
    struct counter idle = {0, 0};
    posta_imap_add_handler(h1, "EXISTS", on_exists, &exists);
    T_EQ_INT(posta_imap_idle(h1, count_done, &idle), 0);
    for (int i = 0; i < 100 && !posta_imap_idling(h1); i++)
        posta_imap_process(h1, 20);
    T_EQ_INT(posta_imap_idling(h1), 1);
    const char msg[] = "Subject: wake up\r\n\r\nhello\r\n";
    posta_imap_literal lit = {.size = sizeof(msg) - 1, .data = msg};
    T_EQ_INT(posta_imap_exec(h2, NULL, NULL, "APPEND %m %L", box, &lit), 0);
    for (int i = 0; i < 200 && !exists; i++)
        posta_imap_process(h1, 20);
    T_EQ_INT(exists, 1);
    T_EQ_INT(posta_imap_idle_done(h1), 0);
    for (int i = 0; i < 200 && !idle.done; i++)
        posta_imap_process(h1, 20);
    T_EQ_INT(idle.ok, 1);
    T_EQ_INT(posta_imap_exec(h1, NULL, NULL, "CLOSE"), 0);
    T_EQ_INT(posta_imap_exec(h2, NULL, NULL, "DELETE %m", box), 0);
    posta_imap_free(h1);
    posta_imap_free(h2);
}

struct listed {
    const char *want;
    int found;
};

static int on_list(posta_imap *h, const posta_imap_response *r, void *user)
{
    struct listed *l = user;
    char *name = NULL;
    size_t len = 0;
    (void)h;
    if (r->nargs == 3 && (r->args[2].type == POSTA_IMAP_ARG_ATOM || r->args[2].type == POSTA_IMAP_ARG_STRING ||
                          r->args[2].type == POSTA_IMAP_ARG_LITERAL) &&
        posta_mutf7_decode(r->args[2].str, r->args[2].len, &name, &len, NULL) == 0) {
        if (strcmp(name, l->want) == 0)
            l->found++;
        free(name);
    }
    return 1;
}

static void test_mailbox_names_round_trip(void)
{
    posta_imap *h = session(POSTA_IMAP_TLS_IMPLICIT, t_env("USER1"), t_env("PASS1"));
    char names[4][160];
    snprintf(names[0], sizeof(names[0]), "Entwürfe & \"Zitat\" %ld", (long)getpid());
    snprintf(names[1], sizeof(names[1]), "back\\slash {braces} %% * %ld", (long)getpid());
    snprintf(names[2], sizeof(names[2]), "日本語 %ld", (long)getpid());
    snprintf(names[3], sizeof(names[3]), "  spaces  %ld", (long)getpid());
    for (int i = 0; i < 4; i++) {
        struct listed l = {names[i], 0};
        T_EQ_INT(posta_imap_exec(h, NULL, NULL, "CREATE %m", names[i]), 0);
        T_EQ_INT(posta_imap_exec(h, on_list, &l, "LIST \"\" %m", names[i]), 0);
        if (l.found != 1)
            t_fail(__FILE__, __LINE__, "mailbox \"%s\" not listed back exactly", names[i]);
        T_EQ_INT(posta_imap_exec(h, NULL, NULL, "DELETE %m", names[i]), 0);
    }
    posta_imap_free(h);
}

static posta_sasl *sasl_for(const char *mechs, const char *authcid, const char *authzid, const char *pass)
{
    posta_sasl *s;
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_IMAP, "imap", "localhost"), 0);
    if (mechs)
        T_EQ_INT(posta_sasl_set_mechanisms(s, mechs), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, authcid, strlen(authcid)), 0);
    if (authzid)
        T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHZID, authzid, strlen(authzid)), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_PASSWORD, pass, strlen(pass)), 0);
    return s;
}

static void test_authenticate(void)
{
    static const char *const mechs[] = {"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN", "CRAM-MD5",
                                        "DIGEST-MD5", NULL};
    for (int i = 0; mechs[i]; i++) {
        posta_imap *h = session(POSTA_IMAP_TLS_STARTTLS, NULL, NULL);
        posta_sasl *s = sasl_for(mechs[i], t_env("USER1"), NULL, t_env("PASS1"));
        int rc = posta_imap_authenticate(h, s);
        if (rc != 0)
            t_fail(__FILE__, __LINE__, "%s: %s", mechs[i], posta_imap_errmsg(h));
        T_EQ_STR(posta_sasl_mechanism(s), mechs[i]);
        T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_AUTHENTICATED);
        T_ASSERT(posta_sasl_ssf(s) >= 128); /* TLS counts */
        T_EQ_INT(posta_imap_select(h, "INBOX", 1), 0);
        posta_sasl_free(s);
        posta_imap_free(h);
    }
}

static void test_authenticate_automatic_and_wrong(void)
{
    posta_imap *h = session(POSTA_IMAP_TLS_IMPLICIT, NULL, NULL);
    posta_sasl *s = sasl_for(NULL, t_env("USER3"), NULL, t_env("PASS3"));
    T_EQ_INT(posta_imap_authenticate(h, s), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "SCRAM-SHA-256");
    posta_sasl_free(s);
    posta_imap_free(h);

    h = session(POSTA_IMAP_TLS_IMPLICIT, NULL, NULL);
    s = sasl_for("PLAIN", t_env("USER1"), NULL, "wrong");
    T_EQ_INT(posta_imap_authenticate(h, s), POSTA_EAUTH);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_NOT_AUTHENTICATED);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "NOOP"), 0); /* the session goes on */
    posta_sasl_free(s);
    posta_imap_free(h);
}

static void test_authenticate_proxy(void)
{
    /* The master user acts as alice: alice's own mailbox is visible. */
    posta_imap *ha = session(POSTA_IMAP_TLS_IMPLICIT, t_env("USER1"), t_env("PASS1"));
    const char *box = mbox("proxy");
    T_EQ_INT(posta_imap_exec(ha, NULL, NULL, "CREATE %m", box), 0);
    posta_imap *h = session(POSTA_IMAP_TLS_IMPLICIT, NULL, NULL);
    posta_sasl *s = sasl_for("PLAIN", t_env("MASTER_USER"), t_env("USER1"), t_env("MASTER_PASS"));
    T_EQ_INT(posta_imap_authenticate(h, s), 0);
    if (posta_imap_select(h, box, 1) != 0)
        t_fail(__FILE__, __LINE__, "select as proxy: %s", posta_imap_errmsg(h));
    posta_sasl_free(s);
    posta_imap_free(h);
    T_EQ_INT(posta_imap_exec(ha, NULL, NULL, "DELETE %m", box), 0);
    posta_imap_free(ha);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"starttls_login_select", test_starttls_login_select},
        {"implicit_tls_password_with_spaces", test_implicit_tls_password_with_spaces},
        {"wrong_password", test_wrong_password},
        {"logindisabled_obeyed", test_logindisabled_obeyed},
        {"append_fetch", test_append_fetch},
        {"fetch_streamed_to_sink", test_fetch_streamed_to_sink},
        {"pipelining", test_pipelining},
        {"idle_woken_by_second_connection", test_idle_woken_by_second_connection},
        {"mailbox_names_round_trip", test_mailbox_names_round_trip},
        {"authenticate", test_authenticate},
        {"authenticate_automatic_and_wrong", test_authenticate_automatic_and_wrong},
        {"authenticate_proxy", test_authenticate_proxy},
        {NULL, NULL}};
    return t_main(argc, argv, cases);
}
