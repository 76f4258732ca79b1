/* The POP3 engine without a transport: scripted server bytes in, the exact
 * client bytes out, and every callback counted. */
#include <posta/pop3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pop3/pop3_int.h"
#include "t.h"

/* What one completion callback saw. */
struct res {
    int calls;
    int error;
    char code[64];
    char text[512];
    uint32_t count, number;
    uint64_t size;
    char uid[128];
};

static void done_cb(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    struct res *x = user;
    x->calls++;
    x->error = r->error;
    snprintf(x->code, sizeof(x->code), "%.*s", (int)r->code_len, r->code ? r->code : "");
    snprintf(x->text, sizeof(x->text), "%.*s", (int)r->text_len, r->text);
    x->count = r->count;
    x->number = r->number;
    x->size = r->size;
    snprintf(x->uid, sizeof(x->uid), "%s", r->uid ? r->uid : "");
}

/* Message bytes and listing lines, collected. */
struct sinkbuf {
    char data[4096];
    size_t len;
    int pieces;
    int stop_after;   /* return POSTA_ECANCELED on this piece (1-based) */
};

static int sink_cb(posta_pop3 *h, const void *data, size_t len, void *user)
{
    struct sinkbuf *s = user;
    s->pieces++;
    if (s->stop_after && s->pieces >= s->stop_after)
        return POSTA_ECANCELED;
    if (s->len + len < sizeof(s->data)) {
        memcpy(s->data + s->len, data, len);
        s->len += len;
        s->data[s->len] = '\0';
    }
    return 0;
}

static int entry_cb(posta_pop3 *h, const posta_pop3_entry *e, void *user)
{
    struct sinkbuf *s = user;
    s->len += (size_t)snprintf(s->data + s->len, sizeof(s->data) - s->len, "%u:%llu:%s ",
                               (unsigned)e->number, (unsigned long long)e->size,
                               e->uid ? e->uid : "-");
    return 0;
}

/* The transcript, for redaction checks. */
static char trace_log[8192];

static void trace_cb(posta_pop3 *h, char dir, const char *line, size_t len, void *user)
{
    size_t n = strlen(trace_log);
    snprintf(trace_log + n, sizeof(trace_log) - n, "%c: %.*s\n", dir, (int)len, line);
}

static int closed_calls, closed_error;

static void closed_cb(posta_pop3 *h, int error, const char *why, void *user)
{
    closed_calls++;
    closed_error = error;
}

static void feed(posta_pop3 *h, const char *s)
{
    T_EQ_INT(posta__pop3_feed(h, s, strlen(s)), (long)strlen(s));
}

static void expect_out(posta_pop3 *h, const char *want)
{
    size_t n;
    const unsigned char *p = posta__pop3_output(h, &n);
    if (n != strlen(want) || memcmp(p, want, n) != 0)
        t_fail(__FILE__, __LINE__, "client sent \"%.*s\", expected \"%s\"", (int)n, (const char *)p,
               want);
    posta__pop3_output_consume(h, n);
}

static posta_pop3 *make(int cleartext)
{
    posta_pop3 *h = NULL;
    posta_pop3_callbacks cb = {.on_trace = trace_cb, .on_closed = closed_cb};
    T_EQ_INT(posta_pop3_new(&h, &cb, NULL, NULL), 0);
    posta_pop3_set_tls(h, POSTA_POP3_TLS_NONE);
    posta_pop3_set_allow_cleartext(h, cleartext);
    trace_log[0] = '\0';
    closed_calls = closed_error = 0;
    return h;
}

/* Greeting and CAPA: the handle ends in AUTHORIZATION. */
static void open_session(posta_pop3 *h, const char *greeting, const char *capa)
{
    struct res r = {0};
    T_EQ_INT(posta__pop3_open_detached(h, done_cb, &r), 0);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_GREETING);
    feed(h, greeting);
    expect_out(h, "CAPA\r\n");
    feed(h, capa);
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, 0);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_AUTHORIZATION);
}

static const char *const CAPA_PIPE = "+OK\r\nUSER\r\nUIDL\r\nTOP\r\nPIPELINING\r\n.\r\n";
static const char *const CAPA_PLAIN = "+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n";

/* USER/PASS into TRANSACTION. */
static posta_pop3 *logged_in(const char *capa)
{
    struct res r = {0};
    posta_pop3 *h = make(1);
    open_session(h, "+OK ready\r\n", capa);
    T_EQ_INT(posta_pop3_login_start(h, "alice", "pw", done_cb, &r), 0);
    expect_out(h, "USER alice\r\n");
    feed(h, "+OK\r\n");
    expect_out(h, "PASS pw\r\n");
    feed(h, "+OK maildrop locked\r\n");
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, 0);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_TRANSACTION);
    T_EQ_STR(posta_pop3_auth_method(h), "USER");
    return h;
}

static void test_greeting_and_capa(void)
{
    posta_pop3 *h = make(0);
    open_session(h, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
                 "+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL PLAIN SCRAM-SHA-256\r\n"
                 "RESP-CODES\r\nPIPELINING\r\nUIDL\r\nIMPLEMENTATION Shlemazle-Plotz-v302\r\n.\r\n");
    T_EQ_STR(posta_pop3_greeting(h), "POP3 server ready <1896.697170952@dbc.mtview.ca.us>");
    T_EQ_STR(posta_pop3_apop_timestamp(h), "<1896.697170952@dbc.mtview.ca.us>");
    T_ASSERT(posta_pop3_capa_known(h));
    T_ASSERT(posta_pop3_has_capa(h, "pipelining"));
    T_ASSERT(!posta_pop3_has_capa(h, "STLS"));
    T_ASSERT(!posta_pop3_has_capa(h, "SAS"));
    T_EQ_STR(posta_pop3_capa_args(h, "SASL"), "PLAIN SCRAM-SHA-256");
    T_EQ_STR(posta_pop3_capa_args(h, "UIDL"), "");
    T_ASSERT(posta_pop3_capa_args(h, "STLS") == NULL);
    T_EQ_STR(posta_pop3_capa_args(h, "IMPLEMENTATION"), "Shlemazle-Plotz-v302");
    posta_pop3_free(h);
}

static void test_old_server_without_capa(void)
{
    posta_pop3 *h = make(1);
    open_session(h, "+OK hello\r\n", "-ERR unknown command\r\n");
    T_ASSERT(!posta_pop3_capa_known(h));
    /* USER/PASS is assumed on a server that cannot say. */
    struct res r = {0};
    T_EQ_INT(posta_pop3_login_start(h, "bob", "x", done_cb, &r), 0);
    expect_out(h, "USER bob\r\n");
    posta_pop3_free(h);
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, POSTA_ECANCELED);
}

static void test_bad_greeting(void)
{
    struct res r = {0};
    posta_pop3 *h = make(0);
    T_EQ_INT(posta__pop3_open_detached(h, done_cb, &r), 0);
    T_EQ_INT(posta__pop3_feed(h, "-ERR [SYS/TEMP] too busy\r\n", 26), 26);
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, POSTA_EBYE);
    T_CONTAINS(posta_pop3_errmsg(h), "refused the session: [SYS/TEMP] too busy");
    T_EQ_STR(posta_pop3_server_code(h), "SYS/TEMP");
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    T_EQ_INT(closed_calls, 1);
    posta_pop3_free(h);

    /* Not POP3 at all. */
    memset(&r, 0, sizeof(r));
    h = make(0);
    T_EQ_INT(posta__pop3_open_detached(h, done_cb, &r), 0);
    T_ASSERT(posta__pop3_feed(h, "* OK IMAP4rev1\r\n", 16) == POSTA_EPROTO);
    T_EQ_INT(r.error, POSTA_EPROTO);
    T_CONTAINS(posta_pop3_errmsg(h), "expected +OK or -ERR");
    posta_pop3_free(h);
}

static void test_apop_rfc1939_example(void)
{
    struct res r = {0};
    posta_pop3 *h = make(0);
    open_session(h, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
                 "+OK\r\nTOP\r\nUIDL\r\n.\r\n");
    /* No SASL, no USER in CAPA, no TLS: APOP is what is left. */
    T_EQ_INT(posta_pop3_login_start(h, "mrose", "tanstaaf", done_cb, &r), 0);
    expect_out(h, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
    feed(h, "+OK maildrop has 1 message (369 octets)\r\n");
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, 0);
    T_EQ_STR(posta_pop3_auth_method(h), "APOP");
    T_CONTAINS(trace_log, "C: APOP mrose <omitted>\n");
    T_ASSERT(!strstr(trace_log, "c4c9334b"));
    posta_pop3_free(h);
}

static void test_user_pass_and_trace(void)
{
    posta_pop3 *h = logged_in(CAPA_PLAIN);
    T_CONTAINS(trace_log, "C: USER alice\n");
    T_CONTAINS(trace_log, "C: PASS <omitted>\n");
    T_ASSERT(!strstr(trace_log, "PASS pw"));
    posta_pop3_free(h);
}

static void test_cleartext_refused(void)
{
    struct res r = {0};
    posta_pop3 *h = make(0);
    open_session(h, "+OK ready\r\n", CAPA_PLAIN);
    T_EQ_INT(posta_pop3_login_start(h, "alice", "pw", done_cb, &r), POSTA_EPOLICY);
    T_CONTAINS(posta_pop3_errmsg(h), "cleartext");
    size_t n;
    posta__pop3_output(h, &n);
    T_EQ_INT(n, 0);
    T_EQ_INT(r.calls, 0);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_AUTHORIZATION);
    /* SASL PLAIN is refused the same way. */
    posta_pop3_free(h);
    h = make(0);
    open_session(h, "+OK ready\r\n", "+OK\r\nSASL PLAIN LOGIN\r\n.\r\n");
    T_EQ_INT(posta_pop3_login_start(h, "alice", "pw", done_cb, &r), POSTA_EPOLICY);
    posta__pop3_output(h, &n);
    T_EQ_INT(n, 0);
    T_EQ_INT(r.calls, 0);
    posta_pop3_free(h);
}

static void test_login_refused(void)
{
    struct res r = {0};
    posta_pop3 *h = make(1);
    open_session(h, "+OK ready\r\n", CAPA_PLAIN);
    T_EQ_INT(posta_pop3_login_start(h, "alice", "bad", done_cb, &r), 0);
    expect_out(h, "USER alice\r\n");
    feed(h, "+OK\r\n");
    expect_out(h, "PASS bad\r\n");
    feed(h, "-ERR [AUTH] Authentication failed.\r\n");
    T_EQ_INT(r.error, POSTA_EAUTH);
    T_EQ_STR(r.code, "AUTH");
    T_EQ_STR(r.text, "Authentication failed.");
    T_CONTAINS(posta_pop3_errmsg(h), "PASS refused by the server: [AUTH] Authentication failed.");
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_AUTHORIZATION);

    /* [IN-USE]: the password was right, the maildrop is busy. */
    memset(&r, 0, sizeof(r));
    T_EQ_INT(posta_pop3_login_start(h, "alice", "pw", done_cb, &r), 0);
    expect_out(h, "USER alice\r\n");
    feed(h, "+OK\r\n");
    expect_out(h, "PASS pw\r\n");
    feed(h, "-ERR [IN-USE] mailbox locked\r\n");
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, POSTA_ENO);
    T_EQ_STR(posta_pop3_server_code(h), "IN-USE");
    T_EQ_STR(posta_pop3_server_text(h), "mailbox locked");
    T_CONTAINS(posta_pop3_errmsg(h), "[IN-USE] mailbox locked");
    posta_pop3_free(h);
}

static void test_sasl_plain_and_login(void)
{
    struct res r = {0};
    posta_pop3 *h = make(1);
    open_session(h, "+OK ready\r\n", "+OK\r\nSASL PLAIN\r\nUSER\r\n.\r\n");
    T_EQ_INT(posta_pop3_login_start(h, "alice", "pw", done_cb, &r), 0);
    /* base64("\0alice\0pw") */
    expect_out(h, "AUTH PLAIN AGFsaWNlAHB3\r\n");
    T_CONTAINS(trace_log, "C: AUTH PLAIN <omitted>\n");
    feed(h, "+OK Logged in.\r\n");
    T_EQ_INT(r.error, 0);
    T_EQ_STR(posta_pop3_auth_method(h), "PLAIN");
    posta_pop3_free(h);

    /* LOGIN goes through continuations. */
    memset(&r, 0, sizeof(r));
    h = make(1);
    open_session(h, "+OK ready\r\n", "+OK\r\nSASL LOGIN\r\n.\r\n");
    posta_sasl *s = NULL;
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_POP3, "pop", "localhost"), 0);
    posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, "alice", 5);
    posta_sasl_set_credential(s, POSTA_SASL_PASSWORD, "pw", 2);
    T_EQ_INT(posta_pop3_authenticate_start(h, s, POSTA_POP3_AUTH_SASL, done_cb, &r), 0);
    expect_out(h, "AUTH LOGIN\r\n");
    feed(h, "+ VXNlcm5hbWU6\r\n");
    expect_out(h, "YWxpY2U=\r\n");
    feed(h, "+ UGFzc3dvcmQ6\r\n");
    expect_out(h, "cHc=\r\n");
    T_CONTAINS(trace_log, "C: <omitted>\n");
    feed(h, "+OK\r\n");
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, 0);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_TRANSACTION);
    posta_pop3_free(h);
    posta_sasl_free(s);
}

static void test_sasl_rejected(void)
{
    struct res r = {0};
    posta_pop3 *h = make(1);
    open_session(h, "+OK ready\r\n", "+OK\r\nSASL PLAIN\r\n.\r\n");
    T_EQ_INT(posta_pop3_login_start(h, "alice", "bad", done_cb, &r), 0);
    expect_out(h, "AUTH PLAIN AGFsaWNlAGJhZA==\r\n");
    feed(h, "-ERR [AUTH] Authentication failed.\r\n");
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, POSTA_EAUTH);
    T_EQ_STR(r.text, "Authentication failed.");
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_AUTHORIZATION);
    size_t n;
    posta__pop3_output(h, &n);
    T_EQ_INT(n, 0);   /* no other method tried after a refusal */
    posta_pop3_free(h);
}

static void test_utf8_user(void)
{
    struct res r = {0};
    posta_pop3 *h = make(1);
    open_session(h, "+OK ready\r\n", "+OK\r\nUSER\r\nUTF8 USER\r\n.\r\n");
    T_EQ_INT(posta_pop3_login_start(h, "j\xc3\xb6rg", "pw", done_cb, &r), 0);
    expect_out(h, "UTF8\r\n");
    feed(h, "+OK UTF8 enabled\r\n");
    expect_out(h, "USER j\xc3\xb6rg\r\n");
    feed(h, "+OK\r\n");
    expect_out(h, "PASS pw\r\n");
    feed(h, "+OK\r\n");
    T_EQ_INT(r.error, 0);
    posta_pop3_free(h);

    /* Without "UTF8 USER" the name cannot be sent. */
    h = make(1);
    open_session(h, "+OK ready\r\n", "+OK\r\nUSER\r\nUTF8\r\n.\r\n");
    T_EQ_INT(posta_pop3_login_start(h, "j\xc3\xb6rg", "pw", done_cb, &r), POSTA_EUNSUPPORTED);
    T_CONTAINS(posta_pop3_errmsg(h), "UTF8 USER");
    posta_pop3_free(h);
}

static void test_commands(void)
{
    posta_pop3 *h = logged_in(CAPA_PLAIN);
    struct res r = {0};
    struct sinkbuf sb = {0};

    T_EQ_INT(posta_pop3_stat_start(h, done_cb, &r), 0);
    expect_out(h, "STAT\r\n");
    feed(h, "+OK 2 320\r\n");
    T_EQ_INT(r.error, 0);
    T_EQ_INT(r.count, 2);
    T_EQ_INT(r.size, 320);

    T_EQ_INT(posta_pop3_list_start(h, 0, entry_cb, NULL, &sb), 0);
    expect_out(h, "LIST\r\n");
    feed(h, "+OK 2 messages (320 octets)\r\n1 120\r\n2 200 extra\r\n.\r\n");
    T_EQ_STR(sb.data, "1:120:- 2:200:- ");

    memset(&sb, 0, sizeof(sb));
    T_EQ_INT(posta_pop3_list_start(h, 2, entry_cb, NULL, &sb), 0);
    expect_out(h, "LIST 2\r\n");
    feed(h, "+OK 2 200\r\n");
    T_EQ_STR(sb.data, "2:200:- ");

    memset(&sb, 0, sizeof(sb));
    T_EQ_INT(posta_pop3_uidl_start(h, 0, entry_cb, NULL, &sb), 0);
    expect_out(h, "UIDL\r\n");
    feed(h, "+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n");
    T_EQ_STR(sb.data, "1:0:whqtswO00WBw418f9t5JxYwZ 2:0:QhdPYR:00WBw1Ph7x7 ");

    memset(&r, 0, sizeof(r));
    T_EQ_INT(posta_pop3_uidl_start(h, 2, NULL, done_cb, &r), 0);
    expect_out(h, "UIDL 2\r\n");
    feed(h, "+OK 2 QhdPYR:00WBw1Ph7x7\r\n");
    T_EQ_INT(r.number, 2);
    T_EQ_STR(r.uid, "QhdPYR:00WBw1Ph7x7");

    memset(&sb, 0, sizeof(sb));
    memset(&r, 0, sizeof(r));
    T_EQ_INT(posta_pop3_retr_start(h, 1, sink_cb, NULL, &sb), 0);
    expect_out(h, "RETR 1\r\n");
    feed(h, "+OK 120 octets\r\nSubject: x\r\n\r\n..dotted\r\nlast\r\n.\r\n");
    T_EQ_STR(sb.data, "Subject: x\r\n\r\n.dotted\r\nlast\r\n");

    memset(&sb, 0, sizeof(sb));
    T_EQ_INT(posta_pop3_top_start(h, 1, 0, sink_cb, NULL, &sb), 0);
    expect_out(h, "TOP 1 0\r\n");
    feed(h, "+OK\r\nSubject: x\r\n\r\n.\r\n");
    T_EQ_STR(sb.data, "Subject: x\r\n\r\n");

    struct res d = {0}, rs = {0}, no = {0}, q = {0};
    T_EQ_INT(posta_pop3_dele_start(h, 1, done_cb, &d), 0);
    expect_out(h, "DELE 1\r\n");
    feed(h, "+OK message 1 deleted\r\n");
    T_EQ_INT(posta_pop3_rset_start(h, done_cb, &rs), 0);
    expect_out(h, "RSET\r\n");
    feed(h, "+OK\r\n");
    T_EQ_INT(posta_pop3_noop_start(h, done_cb, &no), 0);
    expect_out(h, "NOOP\r\n");
    feed(h, "+OK\r\n");
    T_EQ_INT(posta_pop3_quit_start(h, done_cb, &q), 0);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_QUITTING);
    expect_out(h, "QUIT\r\n");
    feed(h, "+OK dewey POP3 server signing off\r\n");
    T_EQ_INT(d.calls + rs.calls + no.calls + q.calls, 4);
    T_EQ_INT(d.error + rs.error + no.error + q.error, 0);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    T_EQ_INT(closed_calls, 1);
    T_EQ_INT(closed_error, 0);
    posta_pop3_free(h);
}

/* Each command answered -ERR: the result carries the server's words and the
 * session goes on. */
static void test_err_at_each_command(void)
{
    posta_pop3 *h = logged_in(CAPA_PLAIN);
    struct sinkbuf sb = {0};
    static const struct {
        const char *sent;
        const char *why;
    } cmds[] = {
        {"STAT\r\n", "STAT"}, {"LIST\r\n", "LIST"},     {"LIST 9\r\n", "LIST 9"},
        {"UIDL\r\n", "UIDL"}, {"UIDL 9\r\n", "UIDL 9"}, {"RETR 9\r\n", "RETR 9"},
        {"TOP 9 5\r\n", "TOP 9 5"}, {"DELE 9\r\n", "DELE 9"}, {"RSET\r\n", "RSET"},
        {"NOOP\r\n", "NOOP"}, {"CAPA\r\n", "CAPA"},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        struct res r = {0};
        int rc;
        switch (i) {
        case 0: rc = posta_pop3_stat_start(h, done_cb, &r); break;
        case 1: rc = posta_pop3_list_start(h, 0, entry_cb, done_cb, &r); break;
        case 2: rc = posta_pop3_list_start(h, 9, entry_cb, done_cb, &r); break;
        case 3: rc = posta_pop3_uidl_start(h, 0, entry_cb, done_cb, &r); break;
        case 4: rc = posta_pop3_uidl_start(h, 9, entry_cb, done_cb, &r); break;
        case 5: rc = posta_pop3_retr_start(h, 9, sink_cb, done_cb, &r); break;
        case 6: rc = posta_pop3_top_start(h, 9, 5, sink_cb, done_cb, &r); break;
        case 7: rc = posta_pop3_dele_start(h, 9, done_cb, &r); break;
        case 8: rc = posta_pop3_rset_start(h, done_cb, &r); break;
        case 9: rc = posta_pop3_noop_start(h, done_cb, &r); break;
        default: rc = posta_pop3_capa_start(h, done_cb, &r); break;
        }
        T_EQ_INT(rc, 0);
        expect_out(h, cmds[i].sent);
        feed(h, "-ERR [SYS/PERM] no such message\r\n");
        T_EQ_INT(r.calls, 1);
        T_EQ_INT(r.error, POSTA_ENO);
        T_EQ_STR(r.code, "SYS/PERM");
        T_EQ_STR(r.text, "no such message");
        char want[128];
        snprintf(want, sizeof(want), "%s refused by the server: [SYS/PERM] no such message",
                 cmds[i].why);
        T_EQ_STR(posta_pop3_errmsg(h), want);
        T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_TRANSACTION);
    }
    T_EQ_INT(sb.len, 0);
    posta_pop3_free(h);
}

static void test_pipelining(void)
{
    posta_pop3 *h = logged_in(CAPA_PIPE);
    struct sinkbuf m1 = {0}, m2 = {0};
    struct res r1 = {0}, d1 = {0}, r2 = {0}, d2 = {0}, q = {0};

    T_EQ_INT(posta_pop3_retr_start(h, 1, sink_cb, NULL, &m1), 0);
    T_EQ_INT(posta_pop3_dele_start(h, 1, done_cb, &d1), 0);
    T_EQ_INT(posta_pop3_retr_start(h, 2, sink_cb, NULL, &m2), 0);
    T_EQ_INT(posta_pop3_dele_start(h, 2, done_cb, &d2), 0);
    T_EQ_INT(posta_pop3_quit_start(h, done_cb, &q), 0);
    T_EQ_INT(posta_pop3_pending(h), 5);
    /* One buffer, one write. */
    expect_out(h, "RETR 1\r\nDELE 1\r\nRETR 2\r\nDELE 2\r\nQUIT\r\n");
    T_EQ_INT(posta_pop3_noop_start(h, done_cb, &r2), POSTA_ESTATE);   /* after QUIT */
    feed(h, "+OK\r\none\r\n.\r\n+OK\r\n+OK\r\ntwo\r\n.\r\n+OK\r\n+OK bye\r\n");
    T_EQ_STR(m1.data, "one\r\n");
    T_EQ_STR(m2.data, "two\r\n");
    T_EQ_INT(d1.calls + d2.calls + q.calls, 3);
    T_EQ_INT(r1.calls + r2.calls, 0);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    posta_pop3_free(h);
}

static void test_no_pipelining(void)
{
    posta_pop3 *h = logged_in(CAPA_PLAIN);
    struct res a = {0}, b = {0};
    T_EQ_INT(posta_pop3_dele_start(h, 1, done_cb, &a), 0);
    T_EQ_INT(posta_pop3_dele_start(h, 2, done_cb, &b), 0);
    expect_out(h, "DELE 1\r\n");
    expect_out(h, "");
    feed(h, "+OK\r\n");
    expect_out(h, "DELE 2\r\n");
    feed(h, "+OK\r\n");
    T_EQ_INT(a.calls + b.calls, 2);
    posta_pop3_free(h);
}

/* The whole server side fed split at every byte gives the same outcome. */
static void test_split_everywhere(void)
{
    const char *server = "+OK\r\nl1\r\n..l2\r\n.\r\n+OK 1 5\r\n+OK\r\n1 5\r\n.\r\n";
    for (size_t cut = 0; cut <= strlen(server); cut++) {
        posta_pop3 *h = logged_in(CAPA_PIPE);
        struct sinkbuf m = {0}, l = {0};
        struct res s = {0};
        posta_pop3_retr_start(h, 1, sink_cb, NULL, &m);
        posta_pop3_stat_start(h, done_cb, &s);
        posta_pop3_list_start(h, 0, entry_cb, NULL, &l);
        expect_out(h, "RETR 1\r\nSTAT\r\nLIST\r\n");
        T_EQ_INT(posta__pop3_feed(h, server, cut), (long)cut);
        T_EQ_INT(posta__pop3_feed(h, server + cut, strlen(server) - cut), (long)(strlen(server) - cut));
        T_EQ_STR(m.data, "l1\r\n.l2\r\n");
        T_EQ_INT(s.count, 1);
        T_EQ_STR(l.data, "1:5:- ");
        posta_pop3_free(h);
    }
}

static void test_sink_stops(void)
{
    posta_pop3 *h = logged_in(CAPA_PIPE);
    struct sinkbuf m = {.stop_after = 1};
    struct res s = {0};
    T_EQ_INT(posta_pop3_retr_start(h, 1, sink_cb, NULL, &m), 0);
    T_EQ_INT(posta_pop3_stat_start(h, done_cb, &s), 0);
    expect_out(h, "RETR 1\r\nSTAT\r\n");
    feed(h, "+OK\r\nfirst\r\n");
    feed(h, ".second\r\n.\r\n+OK 1 1\r\n");
    T_EQ_INT(m.pieces, 1);   /* nothing more after the stop */
    T_EQ_INT(s.calls, 1);
    T_EQ_INT(s.error, 0);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_TRANSACTION);
    posta_pop3_free(h);
}

static void free_in_done(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    struct res *x = user;
    x->calls++;
    x->error = r->error;
    posta_pop3_free(h);
    posta_pop3_free(h);   /* twice: still deferred, still once */
}

static void test_free_inside_callback(void)
{
    posta_pop3 *h = logged_in(CAPA_PIPE);
    struct res a = {0}, b = {0}, c = {0};
    posta_pop3_noop_start(h, free_in_done, &a);
    posta_pop3_noop_start(h, done_cb, &b);
    posta_pop3_noop_start(h, done_cb, &c);
    expect_out(h, "NOOP\r\nNOOP\r\nNOOP\r\n");
    /* Feeding all three answers: the first callback frees the handle; the
     * feed stops there and the others are canceled. */
    posta__pop3_feed(h, "+OK\r\n+OK\r\n+OK\r\n", 15);
    T_EQ_INT(a.calls, 1);
    T_EQ_INT(a.error, 0);
    T_EQ_INT(b.calls, 1);
    T_EQ_INT(b.error, POSTA_ECANCELED);
    T_EQ_INT(c.calls, 1);
    T_EQ_INT(c.error, POSTA_ECANCELED);
}

static void test_free_cancels_all(void)
{
    posta_pop3 *h = logged_in(CAPA_PIPE);
    struct res a = {0}, b = {0};
    struct sinkbuf m = {0};
    posta_pop3_retr_start(h, 1, sink_cb, NULL, &m);
    posta_pop3_noop_start(h, done_cb, &a);
    posta_pop3_noop_start(h, done_cb, &b);
    feed(h, "+OK\r\npartial");
    posta_pop3_free(h);
    T_EQ_INT(a.calls, 1);
    T_EQ_INT(a.error, POSTA_ECANCELED);
    T_EQ_INT(b.calls, 1);
    T_EQ_INT(b.error, POSTA_ECANCELED);
}

static void test_state_rules(void)
{
    posta_pop3 *h = make(1);
    struct res r = {0};
    T_EQ_INT(posta_pop3_stat_start(h, done_cb, &r), POSTA_ESTATE);
    open_session(h, "+OK\r\n", CAPA_PLAIN);
    T_EQ_INT(posta_pop3_retr_start(h, 1, NULL, done_cb, &r), POSTA_ESTATE);
    T_CONTAINS(posta_pop3_errmsg(h), "RETR is not allowed in the AUTHORIZATION state");
    T_EQ_INT(posta_pop3_noop_start(h, done_cb, &r), POSTA_ESTATE);
    posta_pop3_free(h);

    h = logged_in(CAPA_PLAIN);
    T_EQ_INT(posta_pop3_retr_start(h, 0, NULL, done_cb, &r), POSTA_EINVAL);
    T_EQ_INT(posta_pop3_dele_start(h, 0, done_cb, &r), POSTA_EINVAL);
    T_EQ_INT(posta_pop3_login_start(h, "a", "b", done_cb, &r), POSTA_ESTATE);
    posta_pop3_cmd_opts o = {.done = done_cb, .user = &r};
    T_EQ_INT(posta_pop3_submit(h, &o, "PASS x"), POSTA_EINVAL);
    T_EQ_INT(posta_pop3_submit(h, &o, "quit"), POSTA_EINVAL);
    T_EQ_INT(posta_pop3_submit(h, &o, "NOOP\r\nDELE 1"), POSTA_EINVAL);
    T_EQ_INT(r.calls, 0);
    T_EQ_INT(posta_pop3_submit(h, &o, "XTND XMIT"), 0);
    expect_out(h, "XTND XMIT\r\n");
    feed(h, "-ERR unknown\r\n");
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, POSTA_ENO);
    /* A multi-line raw command, streamed. */
    struct sinkbuf m = {0};
    posta_pop3_cmd_opts o2 = {.sink = sink_cb, .user = &m, .multiline = 1};
    T_EQ_INT(posta_pop3_submit(h, &o2, "LAST"), 0);
    expect_out(h, "LAST\r\n");
    feed(h, "+OK\r\na\r\n..b\r\n.\r\n");
    T_EQ_STR(m.data, "a\r\n.b\r\n");
    posta_pop3_free(h);
}

static void test_unsolicited(void)
{
    posta_pop3 *h = logged_in(CAPA_PLAIN);
    T_EQ_INT(posta__pop3_feed(h, "-ERR autologout: idle too long\r\n", 32), POSTA_EBYE);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    T_EQ_INT(closed_error, POSTA_EBYE);
    T_CONTAINS(posta_pop3_errmsg(h), "ended the session: -ERR autologout: idle too long");
    posta_pop3_free(h);

    h = logged_in(CAPA_PLAIN);
    T_ASSERT(posta__pop3_feed(h, "+OK surprise\r\n", 14) == POSTA_EPROTO);
    T_EQ_INT(closed_error, POSTA_EPROTO);
    posta_pop3_free(h);
}

static void test_malformed_listing(void)
{
    posta_pop3 *h = logged_in(CAPA_PLAIN);
    struct res r = {0};
    posta_pop3_list_start(h, 0, NULL, done_cb, &r);
    expect_out(h, "LIST\r\n");
    T_ASSERT(posta__pop3_feed(h, "+OK\r\n1 x\r\n.\r\n", 13) == POSTA_EPROTO);
    T_EQ_INT(r.error, POSTA_EPROTO);
    T_CONTAINS(posta_pop3_errmsg(h), "malformed LIST line: \"1 x\"");
    posta_pop3_free(h);

    h = logged_in(CAPA_PLAIN);
    memset(&r, 0, sizeof(r));
    posta_pop3_stat_start(h, done_cb, &r);
    T_ASSERT(posta__pop3_feed(h, "+OK many\r\n", 10) == POSTA_EPROTO);
    T_EQ_INT(r.error, POSTA_EPROTO);
    posta_pop3_free(h);
}

static void test_command_timeout(void)
{
    posta_pop3 *h = logged_in(CAPA_PLAIN);
    struct res r = {0};
    posta_pop3_set_timeouts(h, 30, -1);
    posta_pop3_noop_start(h, done_cb, &r);
    expect_out(h, "NOOP\r\n");
    int t = posta_pop3_next_timeout_ms(h);
    T_ASSERT(t >= 0 && t <= 30);
    usleep(40000);
    T_EQ_INT(posta_pop3_on_timeout(h), POSTA_ETIMEDOUT);
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, POSTA_ETIMEDOUT);
    T_CONTAINS(posta_pop3_errmsg(h), "NOOP: the server did not answer within");
    posta_pop3_free(h);
}

static void test_scan_table(void)
{
    posta_pop3 *h = logged_in(CAPA_PIPE);
    struct res r = {0}, d = {0};
    size_t n;
    T_EQ_INT(posta_pop3_scan_start(h, done_cb, &r), 0);
    expect_out(h, "LIST\r\nUIDL\r\n");
    feed(h, "+OK\r\n1 100\r\n2 200\r\n3 300\r\n.\r\n+OK\r\n1 u-one\r\n3 u-three\r\n2 u-two\r\n.\r\n");
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, 0);
    T_EQ_INT(r.count, 3);
    const posta_pop3_entry *e = posta_pop3_entries(h, &n);
    T_EQ_INT(n, 3);
    T_EQ_INT(e[2].size, 300);
    T_EQ_STR(e[2].uid, "u-three");
    T_EQ_STR(e[1].uid, "u-two");
    T_ASSERT(posta_pop3_find_uid(h, "u-two") == &e[1]);
    T_ASSERT(posta_pop3_find_uid(h, "nope") == NULL);
    posta_pop3_dele_start(h, 2, done_cb, &d);
    expect_out(h, "DELE 2\r\n");
    feed(h, "+OK\r\n");
    T_ASSERT(e[1].deleted && !e[0].deleted);
    posta_pop3_rset_start(h, NULL, NULL);
    feed(h, "+OK\r\n");
    T_ASSERT(!e[1].deleted);
    posta_pop3_free(h);

    /* No UIDL on the server: sizes only. */
    h = logged_in("+OK\r\nUSER\r\n.\r\n");
    memset(&r, 0, sizeof(r));
    posta_pop3_scan_start(h, done_cb, &r);
    expect_out(h, "LIST\r\n");
    feed(h, "+OK\r\n1 10\r\n.\r\n");
    T_EQ_INT(r.error, 0);
    e = posta_pop3_entries(h, &n);
    T_EQ_INT(n, 1);
    T_ASSERT(e[0].uid == NULL);
    posta_pop3_free(h);
}

static void test_max_entries(void)
{
    posta_pop3 *h = NULL;
    posta_pop3_limits lim = {.max_entries = 2};
    struct res r = {0};
    T_EQ_INT(posta_pop3_new(&h, NULL, &lim, NULL), 0);
    posta_pop3_set_tls(h, POSTA_POP3_TLS_NONE);
    posta_pop3_set_allow_cleartext(h, 1);
    open_session(h, "+OK\r\n", "+OK\r\nUSER\r\n.\r\n");
    posta_pop3_login_start(h, "a", "b", NULL, NULL);
    feed(h, "+OK\r\n+OK\r\n");
    T_EQ_INT(posta_pop3_scan_start(h, done_cb, &r), 0);
    expect_out(h, "USER a\r\nPASS b\r\nLIST\r\n");
    T_ASSERT(posta__pop3_feed(h, "+OK\r\n1 1\r\n2 2\r\n3 3\r\n.\r\n", 25) == POSTA_ELIMIT);
    T_EQ_INT(r.calls, 1);
    T_EQ_INT(r.error, POSTA_ELIMIT);
    T_CONTAINS(posta_pop3_errmsg(h), "more than 2 messages");
    posta_pop3_free(h);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"greeting_and_capa", test_greeting_and_capa},
        {"old_server_without_capa", test_old_server_without_capa},
        {"bad_greeting", test_bad_greeting},
        {"apop_rfc1939_example", test_apop_rfc1939_example},
        {"user_pass_and_trace", test_user_pass_and_trace},
        {"cleartext_refused", test_cleartext_refused},
        {"login_refused", test_login_refused},
        {"sasl_plain_and_login", test_sasl_plain_and_login},
        {"sasl_rejected", test_sasl_rejected},
        {"utf8_user", test_utf8_user},
        {"commands", test_commands},
        {"err_at_each_command", test_err_at_each_command},
        {"pipelining", test_pipelining},
        {"no_pipelining", test_no_pipelining},
        {"split_everywhere", test_split_everywhere},
        {"sink_stops", test_sink_stops},
        {"free_inside_callback", test_free_inside_callback},
        {"free_cancels_all", test_free_cancels_all},
        {"state_rules", test_state_rules},
        {"unsolicited", test_unsolicited},
        {"malformed_listing", test_malformed_listing},
        {"command_timeout", test_command_timeout},
        {"scan_table", test_scan_table},
        {"max_entries", test_max_entries},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
