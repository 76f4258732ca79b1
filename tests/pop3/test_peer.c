/* The POP3 client over real sockets against scripted peers: STLS and its
 * injection attack, TLS policy, multi-line edge cases, a 1 GiB message with
 * bounded memory, server refusals, hang-ups, pipelining, and the three ways
 * of driving a handle. */
#include <posta/pop3.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "peer.h"
#include "pop3/pop3_int.h"
#include "t.h"

static struct peer *peer(const char *script)
{
    struct peer *p = NULL;
    struct peer_opts o = {.cert = t_env("SERVER_CERT"), .key = t_env("SERVER_KEY"),
                          .timeout_ms = 10000};
    if (peer_start(&p, script, &o) != 0) {
        t_fail(__FILE__, __LINE__, "peer_start failed");
        exit(1);
    }
    return p;
}

static const char *target(const struct peer *p)
{
    static char buf[64];
    snprintf(buf, sizeof(buf), "127.0.0.1:%d", peer_port(p));
    return buf;
}

static posta_pop3 *make(posta_pop3_tls mode, int cleartext)
{
    posta_pop3 *h = NULL;
    T_EQ_INT(posta_pop3_new(&h, NULL, NULL, NULL), 0);
    posta_pop3_set_tls(h, mode);
    posta_pop3_set_allow_cleartext(h, cleartext);
    posta_stream_set_ca(posta_pop3_stream(h), t_env("CA_FILE"), NULL);
    posta_pop3_set_timeouts(h, 5000, 5000);
    return h;
}

#define GREETING "S: +OK POP3 ready\n"
#define CAPA_STLS "C: CAPA\nS: +OK\nS: USER\nS: STLS\nS: .\n"
#define CAPA_AFTER "C: CAPA\nS: +OK\nS: USER\nS: UIDL\nS: PIPELINING\nS: .\n"
#define LOGIN "C: USER alice\nS: +OK\nC: PASS pw\nS: +OK locked\n"

/* --- STLS ------------------------------------------------------------------- */

static void test_stls(void)
{
    struct peer *p = peer(GREETING CAPA_STLS "C: STLS\nS: +OK Begin TLS\n!starttls\n" CAPA_AFTER
                          LOGIN "C: STAT\nS: +OK 0 0\nC: QUIT\nS: +OK bye\n");
    posta_pop3 *h = make(POSTA_POP3_TLS_AUTO, 0);
    uint32_t n = 9;
    uint64_t sz = 9;
    T_EQ_INT(posta_pop3_connect(h, target(p)), 0);
    T_ASSERT(posta_pop3_tls_active(h));
    /* Capabilities were asked again: the second list is the one kept. */
    T_ASSERT(posta_pop3_has_capa(h, "PIPELINING"));
    T_ASSERT(!posta_pop3_has_capa(h, "STLS"));
    T_EQ_INT(posta_pop3_login(h, "alice", "pw"), 0);
    T_EQ_INT(posta_pop3_stat(h, &n, &sz), 0);
    T_EQ_INT(n, 0);
    T_EQ_INT(posta_pop3_quit(h), 0);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    posta_pop3_free(h);
    peer_ok(p);
}

static void test_stls_injection(void)
{
    /* The attacker's bytes ride in the same segment as the +OK. */
    struct peer *p = peer(GREETING CAPA_STLS
                          "C: STLS\nS+ +OK Begin TLS\\r\\n+OK injected\\r\\n\n!expect-close\n");
    posta_pop3 *h = make(POSTA_POP3_TLS_AUTO, 0);
    T_EQ_INT(posta_pop3_connect(h, target(p)), POSTA_EPROTO);
    T_CONTAINS(posta_pop3_errmsg(h), "bytes after STLS's +OK, before the TLS handshake");
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    posta_pop3_free(h);
    peer_ok(p);
}

static void test_stls_missing(void)
{
    struct peer *p = peer(GREETING "C: CAPA\nS: +OK\nS: USER\nS: .\n!expect-close\n");
    posta_pop3 *h = make(POSTA_POP3_TLS_AUTO, 1);
    T_EQ_INT(posta_pop3_connect(h, target(p)), POSTA_EPOLICY);
    T_CONTAINS(posta_pop3_errmsg(h), "does not offer STLS; refusing to continue without TLS");
    posta_pop3_free(h);
    peer_ok(p);

    /* Refused by the server: the same. */
    p = peer(GREETING CAPA_STLS "C: STLS\nS: -ERR [SYS/TEMP] no TLS today\n!expect-close\n");
    h = make(POSTA_POP3_TLS_STLS, 1);
    T_EQ_INT(posta_pop3_connect(h, target(p)), POSTA_EPOLICY);
    T_CONTAINS(posta_pop3_errmsg(h), "refused STLS (no TLS today)");
    posta_pop3_free(h);
    peer_ok(p);

    /* Optional: carry on in cleartext, but no password goes out unless allowed. */
    p = peer(GREETING "C: CAPA\nS: +OK\nS: USER\nS: .\nC: QUIT\nS: +OK\n");
    h = make(POSTA_POP3_TLS_OPTIONAL, 0);
    T_EQ_INT(posta_pop3_connect(h, target(p)), 0);
    T_ASSERT(!posta_pop3_tls_active(h));
    T_EQ_INT(posta_pop3_login(h, "alice", "pw"), POSTA_EPOLICY);
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);
    peer_ok(p);
}

static void test_implicit_tls(void)
{
    struct peer *p = peer("!tls\n" GREETING CAPA_AFTER LOGIN "C: QUIT\nS: +OK\n");
    posta_pop3 *h = make(POSTA_POP3_TLS_IMPLICIT, 0);
    T_EQ_INT(posta_pop3_connect(h, target(p)), 0);
    T_ASSERT(posta_pop3_tls_active(h));
    T_ASSERT(posta_stream_tls_verified(posta_pop3_stream(h)));
    T_EQ_INT(posta_pop3_login(h, "alice", "pw"), 0);
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);
    peer_ok(p);
}

/* --- messages ------------------------------------------------------------------ */

static posta_pop3 *session(struct peer *p)
{
    posta_pop3 *h = make(POSTA_POP3_TLS_NONE, 1);
    T_EQ_INT(posta_pop3_connect(h, target(p)), 0);
    T_EQ_INT(posta_pop3_login(h, "alice", "pw"), 0);
    return h;
}

struct collect {
    char data[4096];
    size_t len;
};

static int collect(posta_pop3 *h, const void *d, size_t n, void *user)
{
    struct collect *c = user;
    if (c->len + n < sizeof(c->data)) {
        memcpy(c->data + c->len, d, n);
        c->len += n;
        c->data[c->len] = '\0';
    }
    return 0;
}

static void test_multiline_edges(void)
{
    struct peer *p = peer(GREETING CAPA_AFTER LOGIN
                          "C: RETR 1\nS: +OK\nS: ..leading\nS: ...\nS: ..\nS: middle.\nS: .\n"
                          /* a message whose last line had no CRLF: the server added it */
                          "C: RETR 2\nS: +OK\nS+ no final newline\\r\\n.\\r\\n\n"
                          /* an empty message */
                          "C: RETR 3\nS: +OK\nS: .\n"
                          /* lines that look like responses */
                          "C: TOP 4 0\nS: +OK\nS: +OK fake\nS: -ERR fake\nS: .\n"
                          "C: QUIT\nS: +OK\n");
    posta_pop3 *h = session(p);
    struct collect c = {0};
    T_EQ_INT(posta_pop3_retr(h, 1, collect, &c), 0);
    T_EQ_STR(c.data, ".leading\r\n..\r\n.\r\nmiddle.\r\n");
    memset(&c, 0, sizeof(c));
    T_EQ_INT(posta_pop3_retr(h, 2, collect, &c), 0);
    T_EQ_STR(c.data, "no final newline\r\n");
    memset(&c, 0, sizeof(c));
    T_EQ_INT(posta_pop3_retr(h, 3, collect, &c), 0);
    T_EQ_INT(c.len, 0);
    T_EQ_INT(posta_pop3_top(h, 4, 0, collect, &c), 0);
    T_EQ_STR(c.data, "+OK fake\r\n-ERR fake\r\n");
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);
    peer_ok(p);
}

/* Checks the streamed bytes against !sendbig's as they arrive: the message
 * is !sendbig's first `big` bytes and a CRLF that completes its last line. */
struct bigcheck {
    unsigned long long off, big;
    int bad;
    char expect[70000];
};

static int big_sink(posta_pop3 *h, const void *d, size_t n, void *user)
{
    struct bigcheck *b = user;
    const char *p = d;
    size_t from_big = b->off >= b->big ? 0 : b->big - b->off < n ? (size_t)(b->big - b->off) : n;
    if (from_big > sizeof(b->expect)) {
        b->bad = 1;
        return 0;
    }
    peer_bigdata(b->off, b->expect, from_big);
    memcpy(b->expect + from_big, "\r\n", 2);
    if (n > from_big + 2 || memcmp(b->expect, p, n) != 0)
        b->bad = 1;
    b->off += n;
    return 0;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_one_gib(void)
{
    const unsigned long long big = 1ULL << 30;
    char script[1024];
    snprintf(script, sizeof(script),
             GREETING CAPA_AFTER LOGIN "C: RETR 1\nS: +OK %llu octets\n!sendbig %llu\nS: \nS: .\n"
                                       "C: QUIT\nS: +OK\n",
             big + 2, big);
    struct peer *p = peer(script);
    posta_pop3 *h = session(p);
    struct bigcheck *b = calloc(1, sizeof(*b));
    b->big = big;
    long before = maxrss_kb();
    T_EQ_INT(posta_pop3_retr(h, 1, big_sink, b), 0);
    long grew = maxrss_kb() - before;
    T_EQ_INT(b->off, big + 2);
    T_EQ_INT(b->bad, 0);
    /* The engine's buffers stay at their caps; the process barely grows. */
    T_ASSERT(posta__pop3_buffered(h) < 256 * 1024);
    if (grew > 32 * 1024)
        t_fail(__FILE__, __LINE__, "max RSS grew by %ld KiB streaming 1 GiB", grew);
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);
    free(b);
    peer_ok(p);
}

static void test_silent_server(void)
{
    struct peer *p = peer(GREETING CAPA_AFTER LOGIN "C: RETR 1\nS: +OK\nS+ half a line\n!sleep 1500\n");
    posta_pop3 *h = session(p);
    struct collect c = {0};
    posta_pop3_set_timeouts(h, 5000, 300);
    T_EQ_INT(posta_pop3_retr(h, 1, collect, &c), POSTA_ETIMEDOUT);
    T_CONTAINS(posta_pop3_errmsg(h), "RETR 1: 127.0.0.1:");
    T_CONTAINS(posta_pop3_errmsg(h), "stopped sending the answer within");
    T_EQ_STR(c.data, "half a line");
    posta_pop3_free(h);
    peer_ok(p);
}

/* --- refusals and hang-ups ------------------------------------------------------------ */

static void test_in_use(void)
{
    struct peer *p = peer(GREETING CAPA_AFTER
                          "C: USER alice\nS: +OK\nC: PASS pw\nS: -ERR [IN-USE] mailbox locked\n"
                          "C: QUIT\nS: +OK\n");
    posta_pop3 *h = make(POSTA_POP3_TLS_NONE, 1);
    T_EQ_INT(posta_pop3_connect(h, target(p)), 0);
    T_EQ_INT(posta_pop3_login(h, "alice", "pw"), POSTA_ENO);
    T_EQ_STR(posta_pop3_server_code(h), "IN-USE");
    T_EQ_STR(posta_pop3_server_text(h), "mailbox locked");
    T_CONTAINS(posta_pop3_errmsg(h), "PASS refused by 127.0.0.1:");
    T_CONTAINS(posta_pop3_errmsg(h), ": [IN-USE] mailbox locked");
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_AUTHORIZATION);
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);
    peer_ok(p);
}

static void test_err_each_command(void)
{
    struct peer *p = peer(GREETING CAPA_AFTER LOGIN
                          "C: STAT\nS: -ERR [SYS/TEMP] a\nC: LIST\nS: -ERR b\nC: UIDL 1\nS: -ERR c\n"
                          "C: RETR 1\nS: -ERR d\nC: TOP 1 2\nS: -ERR e\nC: DELE 1\nS: -ERR f\n"
                          "C: RSET\nS: -ERR g\nC: NOOP\nS: -ERR h\nC: QUIT\nS: -ERR i\n");
    posta_pop3 *h = session(p);
    T_EQ_INT(posta_pop3_stat(h, NULL, NULL), POSTA_ENO);
    T_EQ_STR(posta_pop3_server_code(h), "SYS/TEMP");
    T_EQ_INT(posta_pop3_list(h, 0, NULL, NULL), POSTA_ENO);
    T_EQ_STR(posta_pop3_server_text(h), "b");
    T_EQ_INT(posta_pop3_uidl(h, 1, NULL, NULL), POSTA_ENO);
    T_EQ_INT(posta_pop3_retr(h, 1, NULL, NULL), POSTA_ENO);
    T_EQ_INT(posta_pop3_top(h, 1, 2, NULL, NULL), POSTA_ENO);
    T_EQ_INT(posta_pop3_dele(h, 1), POSTA_ENO);
    T_EQ_INT(posta_pop3_rset(h), POSTA_ENO);
    T_EQ_INT(posta_pop3_noop(h), POSTA_ENO);
    T_EQ_STR(posta_pop3_server_text(h), "h");
    /* "-ERR some deleted messages not removed" */
    T_EQ_INT(posta_pop3_quit(h), POSTA_ENO);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    posta_pop3_free(h);
    peer_ok(p);
}

static void test_hangup(void)
{
    struct peer *p = peer(GREETING CAPA_AFTER LOGIN "C: DELE 1\nS: +OK\nC: RETR 2\nS: +OK\nS: partial\n!close\n");
    posta_pop3 *h = session(p);
    struct collect c = {0};
    T_EQ_INT(posta_pop3_dele(h, 1), 0);
    T_EQ_INT(posta_pop3_retr(h, 2, collect, &c), POSTA_ECLOSED);
    T_CONTAINS(posta_pop3_errmsg(h), "closed the connection");
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    T_EQ_INT(posta_pop3_noop(h), POSTA_ESTATE);
    posta_pop3_free(h);
    peer_ok(p);

    /* Before the greeting. */
    p = peer("!close\n");
    h = make(POSTA_POP3_TLS_NONE, 1);
    T_EQ_INT(posta_pop3_connect(h, target(p)), POSTA_ECLOSED);
    posta_pop3_free(h);
    peer_ok(p);
}

struct order {
    char log[256];
};

static void log_done(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    struct order *o = user;
    size_t n = strlen(o->log);
    snprintf(o->log + n, sizeof(o->log) - n, "%d,", r->error);
}

static int log_sink(posta_pop3 *h, const void *d, size_t n, void *user)
{
    struct order *o = user;
    size_t l = strlen(o->log);
    snprintf(o->log + l, sizeof(o->log) - l, "%.*s", (int)n, (const char *)d);
    return 0;
}

static void test_pipelined(void)
{
    struct peer *p = peer(GREETING CAPA_AFTER LOGIN
                          "C+ RETR 1\\r\\nDELE 1\\r\\nRETR 2\\r\\nDELE 2\\r\\nQUIT\\r\\n\n"
                          "S+ +OK\\r\\nm1\\r\\n.\\r\\n+OK\\r\\n+OK\\r\\nm2\\r\\n.\\r\\n"
                          "-ERR [SYS/PERM] cannot\\r\\n+OK bye\\r\\n\n");
    posta_pop3 *h = session(p);
    struct order o = {{0}};
    T_EQ_INT(posta_pop3_retr_start(h, 1, log_sink, log_done, &o), 0);
    T_EQ_INT(posta_pop3_dele_start(h, 1, log_done, &o), 0);
    T_EQ_INT(posta_pop3_retr_start(h, 2, log_sink, log_done, &o), 0);
    T_EQ_INT(posta_pop3_dele_start(h, 2, log_done, &o), 0);
    T_EQ_INT(posta_pop3_quit_start(h, log_done, &o), 0);
    T_EQ_INT(posta_pop3_run(h), 0);
    T_EQ_STR(o.log, "m1\r\n0,0,m2\r\n0,-8,0,");
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    posta_pop3_free(h);
    peer_ok(p);
}

static void test_not_pipelined(void)
{
    /* Without PIPELINING each command waits for its answer. */
    struct peer *p = peer(GREETING "C: CAPA\nS: +OK\nS: USER\nS: .\n" LOGIN
                          "C: DELE 1\nS: +OK\nC: DELE 2\nS: +OK\nC: QUIT\nS: +OK\n");
    posta_pop3 *h = session(p);
    struct order o = {{0}};
    posta_pop3_dele_start(h, 1, log_done, &o);
    posta_pop3_dele_start(h, 2, log_done, &o);
    posta_pop3_quit_start(h, log_done, &o);
    T_EQ_INT(posta_pop3_run(h), 0);
    T_EQ_STR(o.log, "0,0,0,");
    posta_pop3_free(h);
    peer_ok(p);
}

/* --- the three ways to drive ----------------------------------------------------------------- */

struct chain {
    int step;
    int error;
    uint32_t count;
    int finished;
};

static void chain_next(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    struct chain *c = user;
    if (r->error) {
        c->error = r->error;
        c->finished = 1;
        return;
    }
    switch (c->step++) {
    case 0:
        posta_pop3_login_start(h, "alice", "pw", chain_next, c);
        break;
    case 1:
        posta_pop3_stat_start(h, chain_next, c);
        break;
    case 2:
        c->count = r->count;
        posta_pop3_quit_start(h, chain_next, c);
        break;
    default:
        c->finished = 1;
    }
}

#define CHAIN_SCRIPT GREETING CAPA_STLS "C: STLS\nS: +OK\n!starttls\n" CAPA_AFTER LOGIN \
    "C: STAT\nS: +OK 3 300\nC: QUIT\nS: +OK\n"

static void test_event_loop(void)
{
    struct peer *p = peer(CHAIN_SCRIPT);
    posta_pop3 *h = make(POSTA_POP3_TLS_AUTO, 0);
    struct chain c = {0};
    T_EQ_INT(posta_pop3_connect_start(h, target(p), chain_next, &c), 0);
    int rounds = 0;
    while (!c.finished && rounds++ < 1000) {
        struct pollfd pfd = {.fd = posta_pop3_fd(h), .events = POLLIN};
        if (posta_pop3_wants_write(h))
            pfd.events |= POLLOUT;
        int n = poll(&pfd, 1, posta_pop3_next_timeout_ms(h));
        if (n == 0)
            posta_pop3_on_timeout(h);
        if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
            posta_pop3_on_readable(h);
        if (n > 0 && (pfd.revents & POLLOUT))
            posta_pop3_on_writable(h);
    }
    T_EQ_INT(c.error, 0);
    T_EQ_INT(c.count, 3);
    T_EQ_INT(c.step, 4);
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    T_EQ_INT(posta_pop3_fd(h), -1);
    posta_pop3_free(h);
    peer_ok(p);
}

static void test_process(void)
{
    struct peer *p = peer(CHAIN_SCRIPT);
    posta_pop3 *h = make(POSTA_POP3_TLS_AUTO, 0);
    struct chain c = {0};
    T_EQ_INT(posta_pop3_connect_start(h, target(p), chain_next, &c), 0);
    int rounds = 0;
    while (!c.finished && rounds++ < 1000)
        T_EQ_INT(posta_pop3_process(h, 1000), 0);
    T_EQ_INT(c.error, 0);
    T_EQ_INT(c.count, 3);
    T_EQ_INT(posta_pop3_process(h, 0), POSTA_ESTATE);
    posta_pop3_free(h);
    peer_ok(p);
}

static void free_on_data(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    int *calls = user;
    ++*calls;
    posta_pop3_free(h);
}

static void test_free_in_callback_driver(void)
{
    struct peer *p = peer(GREETING CAPA_AFTER LOGIN "C: NOOP\nS: +OK\n!expect-close\n");
    posta_pop3 *h = session(p);
    int a = 0;
    posta_pop3_noop_start(h, free_on_data, &a);
    for (int i = 0; i < 100 && !a; i++)
        posta_pop3_process(h, 1000);
    T_EQ_INT(a, 1);
    peer_ok(p);
}

static void try_blocking(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    int *rc = user;
    *rc = posta_pop3_noop(h);
}

static void test_blocking_inside_callback(void)
{
    struct peer *p = peer(GREETING CAPA_AFTER LOGIN "C: NOOP\nS: +OK\nC: QUIT\nS: +OK\n");
    posta_pop3 *h = session(p);
    int rc = 1;
    T_EQ_INT(posta_pop3_noop_start(h, try_blocking, &rc), 0);
    T_EQ_INT(posta_pop3_run(h), 0);
    T_EQ_INT(rc, POSTA_ESTATE);
    T_CONTAINS(posta_pop3_errmsg(h), "inside a callback");
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);
    peer_ok(p);
}

/* A refused greeting's done callback tries to connect again at once. */
static void reconnect_in_done(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    int *rc = user;
    (void)r;
    *rc = posta_pop3_connect_start(h, "127.0.0.1:1", NULL, NULL);
}

static void test_reconnect_inside_callback_refused(void)
{
    struct peer *p = peer("S: -ERR [IN-USE] busy\n");
    posta_pop3 *h = make(POSTA_POP3_TLS_NONE, 1);
    char t[64];
    int rc = 1;
    snprintf(t, sizeof(t), "127.0.0.1:%d", peer_port(p));
    T_EQ_INT(posta_pop3_connect_start(h, t, reconnect_in_done, &rc), 0);
    for (int i = 0; i < 200 && rc == 1; i++)
        posta_pop3_process(h, 20);
    T_EQ_INT(rc, POSTA_ESTATE);
    T_CONTAINS(posta_pop3_errmsg(h), "inside a callback");
    T_EQ_INT(posta_pop3_get_state(h), POSTA_POP3_STATE_DISCONNECTED);
    posta_pop3_free(h);
    peer_ok(p);
}

static void flag_done(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    int *f = user;
    *f = r->error ? r->error : 1;
}

static void test_attach(void)
{
    struct peer *p = peer(GREETING CAPA_AFTER LOGIN "C: QUIT\nS: +OK\n");
    posta_stream *s = NULL;
    T_EQ_INT(posta_stream_new(&s), 0);
    T_EQ_INT(posta_stream_connect(s, target(p), NULL), 0);
    posta_pop3 *h = make(POSTA_POP3_TLS_NONE, 1);
    int ready = 0;
    T_EQ_INT(posta_pop3_attach(h, s, flag_done, &ready), 0);
    T_EQ_INT(posta_pop3_attach(h, NULL, flag_done, &ready), POSTA_EINVAL);
    for (int i = 0; i < 100 && !ready; i++)
        T_EQ_INT(posta_pop3_process(h, 1000), 0);
    T_EQ_INT(ready, 1);
    T_EQ_INT(posta_pop3_login(h, "alice", "pw"), 0);
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);
    peer_ok(p);
}

static void test_long_user_refused(void)
{
    struct peer *p = peer(GREETING CAPA_AFTER "C: QUIT\nS: +OK\n");
    posta_pop3 *h = make(POSTA_POP3_TLS_NONE, 1);
    char name[300];
    memset(name, 'u', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    T_EQ_INT(posta_pop3_connect(h, target(p)), 0);
    T_EQ_INT(posta_pop3_login(h, name, "pw"), POSTA_EINVAL);
    T_CONTAINS(posta_pop3_errmsg(h), "longer than 255 octets");
    T_EQ_INT(posta_pop3_login(h, "a\r\nDELE 1", "pw"), POSTA_EINVAL);
    T_EQ_INT(posta_pop3_quit(h), 0);
    posta_pop3_free(h);
    peer_ok(p);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"stls", test_stls},
        {"stls_injection", test_stls_injection},
        {"stls_missing", test_stls_missing},
        {"implicit_tls", test_implicit_tls},
        {"multiline_edges", test_multiline_edges},
        {"one_gib", test_one_gib},
        {"silent_server", test_silent_server},
        {"in_use", test_in_use},
        {"err_each_command", test_err_each_command},
        {"hangup", test_hangup},
        {"pipelined", test_pipelined},
        {"not_pipelined", test_not_pipelined},
        {"event_loop", test_event_loop},
        {"process", test_process},
        {"free_in_callback_driver", test_free_in_callback_driver},
        {"blocking_inside_callback", test_blocking_inside_callback},
        {"attach", test_attach},
        {"reconnect_inside_callback_refused", test_reconnect_inside_callback_refused},
        {"long_user_refused", test_long_user_refused},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
