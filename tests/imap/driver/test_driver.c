/* The IMAP connection driver against scripted peers: pipelining, literals,
 * IDLE, BYE, hang-ups, STARTTLS rules, timeouts, freeing in callbacks, and
 * the caller's own event loop. */
#include <posta/imap.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer.h"
#include "t.h"

static struct peer *peer_tls(const char *script, int tls)
{
    struct peer *p = NULL;
    struct peer_opts o = {.timeout_ms = 3000};
    if (tls) {
        o.cert = t_env("SERVER_CERT");
        o.key = t_env("SERVER_KEY");
    }
    /* Unless the script hangs up itself, the client ends the conversation:
     * a peer that ran out of script would otherwise half-close. */
    char full[8192];
    int ends = strstr(script, "!close") || strstr(script, "!expect-close");
    snprintf(full, sizeof(full), "%s%s", script, ends ? "" : "!expect-close\n");
    if (peer_start(&p, full, &o) != 0) {
        fprintf(stderr, "peer_start failed\n");
        exit(1);
    }
    return p;
}

static struct peer *peer(const char *script)
{
    return peer_tls(script, 0);
}

static const char *target(struct peer *p)
{
    static char buf[64];
    snprintf(buf, sizeof(buf), "127.0.0.1:%d", peer_port(p));
    return buf;
}

/* A cleartext connection to a peer (TLS_NONE). */
static posta_imap *open_plain(struct peer *p, const posta_imap_callbacks *cb, void *user)
{
    posta_imap *h;
    T_EQ_INT(posta_imap_new(&h, cb, NULL, user), 0);
    posta_imap_set_tls(h, POSTA_IMAP_TLS_NONE);
    posta_imap_set_timeouts(h, 3000, 3000);
    int rc = posta_imap_connect(h, target(p));
    if (rc != 0)
        t_fail(__FILE__, __LINE__, "connect: %s", posta_imap_errmsg(h));
    return h;
}

/* Completion records. */
struct done_rec {
    int calls;
    int error;
    char text[256];
};

static void record_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    struct done_rec *d = user;
    (void)h;
    d->calls++;
    d->error = r->error;
    snprintf(d->text, sizeof(d->text), "%.*s", (int)r->text_len, r->text);
}

static void run_until_calls(posta_imap *h, const int *calls, int want)
{
    for (int i = 0; i < 500 && *calls < want && posta_imap_get_state(h) != POSTA_IMAP_STATE_DISCONNECTED; i++)
        posta_imap_process(h, 20);
}

static void test_greeting_caps(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 IDLE LITERAL+] hello\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_NOT_AUTHENTICATED);
    T_EQ_INT(posta_imap_has_capability(h, "idle"), 1);
    T_EQ_INT(posta_imap_has_capability(h, "LITERAL+"), 1);
    T_EQ_INT(posta_imap_has_capability(h, "STARTTLS"), 0);
    T_EQ_STR(posta_imap_greeting(h), "hello");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_capability_asked(void)
{
    struct peer *p = peer("S: * OK hello\nC: a0001 CAPABILITY\nS: * CAPABILITY IMAP4rev1 ID  \nS: a0001 OK done\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    T_EQ_INT(posta_imap_has_capability(h, "ID"), 1);
    T_EQ_STR(posta_imap_capabilities(h), "IMAP4REV1 ID");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_pipelining_out_of_order(void)
{
    /* All three commands are on the wire before any answer; the answers
     * come in reverse order and each completion runs once. */
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\n"
                          "C: a0001 NOOP\nC: a0002 CHECK\nC: a0003 NOOP\n"
                          "S: a0003 OK three\nS: a0002 NO two\nS: a0001 BAD one\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct done_rec d[3] = {{0}};
    posta_imap_cmd_opts o[3] = {{.done = record_done, .user = &d[0]},
                                {.done = record_done, .user = &d[1]},
                                {.done = record_done, .user = &d[2]}};
    T_EQ_INT(posta_imap_submit(h, &o[0], "NOOP"), 0);
    T_EQ_INT(posta_imap_submit(h, &o[1], "CHECK"), 0);
    T_EQ_INT(posta_imap_submit(h, &o[2], "NOOP"), 0);
    T_EQ_INT(posta_imap_pending(h), 3);
    run_until_calls(h, &d[0].calls, 1);
    T_EQ_INT(d[0].calls, 1);
    T_EQ_INT(d[1].calls, 1);
    T_EQ_INT(d[2].calls, 1);
    T_EQ_INT(d[0].error, POSTA_EBAD);
    T_EQ_INT(d[1].error, POSTA_ENO);
    T_EQ_INT(d[2].error, 0);
    T_EQ_STR(d[1].text, "two");
    T_EQ_INT(posta_imap_pending(h), 0);
    posta_imap_free(h);
    peer_ok(p);
}

static int count_untagged(posta_imap *h, const posta_imap_response *r, void *user)
{
    (void)h;
    (void)r;
    (*(int *)user)++;
    return 0;
}

static void test_sync_literal_waits(void)
{
    /* The literal's data and the next command wait for the go-ahead;
     * unsolicited responses between go-ahead and tagged reply are routed. */
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\n"
                          "C: a0001 LOGIN alice {10}\n"
                          "!sleep 150\n"
                          "S: + go ahead\n"
                          "S: * OK [ALERT] unsolicited\n"
                          "C+ pass\\r\\nword\\r\\n\n"
                          "C: a0002 NOOP\n"
                          "S: * 4 EXISTS\n"
                          "S: a0001 OK logged in\nS: a0002 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    int seen = 0;
    T_EQ_INT(posta_imap_add_handler(h, "OK", count_untagged, &seen), 0);
    T_EQ_INT(posta_imap_add_handler(h, "EXISTS", count_untagged, &seen), 0);
    struct done_rec d1 = {0}, d2 = {0};
    posta_imap_cmd_opts o1 = {.done = record_done, .user = &d1}, o2 = {.done = record_done, .user = &d2};
    T_EQ_INT(posta_imap_submit(h, &o1, "LOGIN %s %p", "alice", "pass\r\nword"), 0);
    T_EQ_INT(posta_imap_submit(h, &o2, "NOOP"), 0);
    run_until_calls(h, &d2.calls, 1);
    T_EQ_INT(d1.error, 0);
    T_EQ_INT(d2.error, 0);
    T_EQ_INT(seen, 2);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_AUTHENTICATED);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_literal_refused(void)
{
    /* NO instead of the go-ahead: the literal is never sent, the next
     * command follows. */
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\n"
                          "C: a0001 APPEND INBOX {5}\n"
                          "S: a0001 NO [TOOBIG] too big\n"
                          "C: a0002 NOOP\nS: a0002 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct done_rec d1 = {0}, d2 = {0};
    posta_imap_cmd_opts o1 = {.done = record_done, .user = &d1}, o2 = {.done = record_done, .user = &d2};
    posta_imap_literal lit = {.size = 5, .data = "hello"};
    T_EQ_INT(posta_imap_submit(h, &o1, "APPEND INBOX %L", &lit), 0);
    T_EQ_INT(posta_imap_submit(h, &o2, "NOOP"), 0);
    run_until_calls(h, &d2.calls, 1);
    T_EQ_INT(d1.error, POSTA_ENO);
    T_EQ_STR(d1.text, "too big");
    T_EQ_INT(d2.error, 0);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_literal_plus(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 LITERAL+] hi\n"
                          "C: a0001 APPEND INBOX {5+}\nC+ hello\\r\\n\nS: a0001 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    posta_imap_literal lit = {.size = 5, .data = "hello"};
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "APPEND INBOX %L", &lit), 0);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_literal_modes(void)
{
    /* SYNC waits even under LITERAL+; NONSYNC does not wait without it. */
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 LITERAL+] hi\n"
                          "C: a0001 APPEND INBOX {2}\nS: + go\nC+ hi\\r\\n\nS: a0001 OK\n"
                          "C: a0002 APPEND INBOX {2+}\nC+ hi\\r\\n\nS: a0002 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    posta_imap_literal lit = {.size = 2, .data = "hi"};
    posta_imap_set_literals(h, POSTA_IMAP_LITERALS_SYNC);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "APPEND INBOX %L", &lit), 0);
    posta_imap_set_literals(h, POSTA_IMAP_LITERALS_AUTO);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "APPEND INBOX %L", &lit), 0);
    posta_imap_free(h);
    peer_ok(p);

    p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 APPEND INBOX {2+}\nC+ hi\\r\\n\nS: a0001 OK\n");
    h = open_plain(p, NULL, NULL);
    posta_imap_set_literals(h, POSTA_IMAP_LITERALS_NONSYNC);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "APPEND INBOX %L", &lit), 0);
    posta_imap_free(h);
    peer_ok(p);
}

/* A literal source that hands out a generated message in small pieces. */
struct gen {
    uint64_t size, off;
};

static long gen_read(posta_imap_cmd *cmd, void *buf, size_t cap, void *user)
{
    struct gen *g = user;
    (void)cmd;
    size_t n = cap < 1000 ? cap : 1000;
    if (n > g->size - g->off)
        n = (size_t)(g->size - g->off);
    memset(buf, 'x', n);
    g->off += n;
    return (long)n;
}

static void test_literal_source_streamed(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\n"
                          "C: a0001 APPEND INBOX {300000}\nS: + ok\n!recv 300000\nC: \nS: a0001 OK done\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct gen g = {300000, 0};
    posta_imap_literal lit = {.size = g.size, .read = gen_read, .user = &g};
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "APPEND INBOX %L", &lit), 0);
    T_EQ_INT(g.off, 300000);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_idle(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 IDLE] hi\n"
                          "C: a0001 IDLE\nS: + idling\nS: * 3 EXISTS\n"
                          "C: DONE\nS: a0001 OK IDLE done\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    int exists = 0;
    struct done_rec d = {0};
    posta_imap_add_handler(h, "EXISTS", count_untagged, &exists);
    T_EQ_INT(posta_imap_idle(h, record_done, &d), 0);
    T_EQ_INT(posta_imap_idle(h, record_done, &d), POSTA_ESTATE);
    run_until_calls(h, &exists, 1);
    T_EQ_INT(posta_imap_idling(h), 1);
    T_EQ_INT(exists, 1);
    T_EQ_INT(posta_imap_idle_done(h), 0);
    run_until_calls(h, &d.calls, 1);
    T_EQ_INT(d.calls, 1);
    T_EQ_INT(d.error, 0);
    T_EQ_INT(posta_imap_idling(h), 0);
    posta_imap_free(h);
    peer_ok(p);
}

static void count_idle_trace(posta_imap *h, char dir, const char *data, size_t len, void *user)
{
    (void)h;
    if (dir == 'C' && len >= 4 && memcmp(data + len - 4, "IDLE", 4) == 0)
        (*(int *)user)++;
}

static void test_idle_restart(void)
{
    /* IDLE is ended and re-issued after the restart interval; the caller's
     * completion runs once, at the end. */
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 IDLE] hi\n"
                          "C: a0001 IDLE\nS: + idling\n"
                          "C: DONE\nS: a0001 OK\n"
                          "C: a0002 IDLE\nS: + idling again\n"
                          "C: DONE\nS: a0002 OK\n"
                          "C: a0003 IDLE\nS: + third\n"
                          "C: DONE\nS: a0003 OK bye\n");
    int idles = 0;
    posta_imap_callbacks cb = {.on_trace = count_idle_trace};
    posta_imap *h = open_plain(p, &cb, &idles);
    struct done_rec d = {0};
    posta_imap_set_idle_restart(h, 150);
    T_EQ_INT(posta_imap_idle(h, record_done, &d), 0);
    for (int i = 0; i < 200 && d.calls == 0; i++) {
        posta_imap_process(h, 20);
        if (idles == 3 && posta_imap_idling(h))
            T_EQ_INT(posta_imap_idle_done(h), 0);
    }
    T_EQ_INT(idles, 3);
    T_EQ_INT(d.calls, 1);
    T_EQ_INT(d.error, 0);
    T_EQ_STR(d.text, "bye");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_command_interrupts_idle(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 IDLE] hi\n"
                          "C: a0001 IDLE\nS: + idling\n"
                          "C: DONE\nS: a0001 OK\n"
                          "C: a0002 NOOP\nS: a0002 OK noop\n"
                          "C: a0003 IDLE\nS: + again\n"
                          "C: DONE\nS: a0003 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct done_rec idle = {0}, noop = {0};
    posta_imap_cmd_opts o = {.done = record_done, .user = &noop};
    T_EQ_INT(posta_imap_idle(h, record_done, &idle), 0);
    for (int i = 0; i < 50 && !posta_imap_idling(h); i++)
        posta_imap_process(h, 20);
    T_EQ_INT(posta_imap_submit(h, &o, "NOOP"), 0);
    run_until_calls(h, &noop.calls, 1);
    T_EQ_STR(noop.text, "noop");
    for (int i = 0; i < 50 && !posta_imap_idling(h); i++)
        posta_imap_process(h, 20);
    T_EQ_INT(posta_imap_idling(h), 1);
    T_EQ_INT(idle.calls, 0);
    T_EQ_INT(posta_imap_idle_done(h), 0);
    run_until_calls(h, &idle.calls, 1);
    T_EQ_INT(idle.error, 0);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_bye_fails_pending(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 NOOP\n"
                          "S: * BYE server shutting down\n!close\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct done_rec d = {0};
    posta_imap_cmd_opts o = {.done = record_done, .user = &d};
    T_EQ_INT(posta_imap_submit(h, &o, "NOOP"), 0);
    run_until_calls(h, &d.calls, 1);
    T_EQ_INT(d.calls, 1);
    T_EQ_INT(d.error, POSTA_EBYE);
    T_CONTAINS(d.text, "server shutting down");
    T_EQ_STR(posta_imap_bye_text(h), "server shutting down");
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_DISCONNECTED);
    T_EQ_INT(posta_imap_submit(h, &o, "NOOP"), POSTA_ESTATE);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_hangup_in_literal(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 FETCH 1 BODY[]\n"
                          "S+ * 1 FETCH (BODY[] {100}\\r\\nabc\n!close\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct done_rec d = {0};
    posta_imap_cmd_opts o = {.done = record_done, .user = &d};
    T_EQ_INT(posta_imap_submit(h, &o, "FETCH 1 BODY[]"), 0);
    run_until_calls(h, &d.calls, 1);
    T_EQ_INT(d.calls, 1);
    T_EQ_INT(d.error, POSTA_ECLOSED);
    posta_imap_free(h);
    peer_ok(p);
}

/* A sink that checks the bytes against the peer's !sendbig data. */
struct check_sink {
    uint64_t got;
    int bad, begun, ended;
    char item[64];
};

static int sink_begin(posta_imap *h, const posta_imap_literal_info *info, void *user)
{
    struct check_sink *c = user;
    (void)h;
    c->begun++;
    snprintf(c->item, sizeof(c->item), "%.*s", (int)info->item_len, info->item);
    return 0;
}

static int sink_data(posta_imap *h, const void *buf, size_t len, void *user)
{
    struct check_sink *c = user;
    char want[4096];
    (void)h;
    for (size_t off = 0; off < len;) {
        size_t n = len - off < sizeof(want) ? len - off : sizeof(want);
        peer_bigdata(c->got, want, n);
        if (memcmp(want, (const char *)buf + off, n) != 0)
            c->bad = 1;
        off += n;
        c->got += n;
    }
    return 0;
}

static int sink_end(posta_imap *h, void *user)
{
    (void)h;
    ((struct check_sink *)user)->ended++;
    return 0;
}

static void test_streamed_literal_to_sink(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 FETCH 1 BODY[]\n"
                          "S+ * 1 FETCH (UID 7 BODY[] {4000000}\\r\\n\n!sendbig 4000000\nS: )\n"
                          "S: a0001 OK fetched\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct check_sink c = {0};
    posta_imap_sink sink = {sink_begin, sink_data, sink_end, &c};
    struct done_rec d = {0};
    posta_imap_cmd_opts o = {.done = record_done, .user = &d, .sink = &sink};
    T_EQ_INT(posta_imap_submit(h, &o, "FETCH 1 BODY[]"), 0);
    run_until_calls(h, &d.calls, 1);
    T_EQ_INT(d.error, 0);
    T_EQ_INT(c.begun, 1);
    T_EQ_INT(c.ended, 1);
    T_EQ_INT(c.got, 4000000);
    T_EQ_INT(c.bad, 0);
    T_EQ_STR(c.item, "BODY[]");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_bad_argument_refused(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0002 NOOP\nS: a0002 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct done_rec d = {0};
    posta_imap_cmd_opts o = {.done = record_done, .user = &d};
    T_EQ_INT(posta_imap_submit(h, &o, "SELECT %a", "two words"), POSTA_EINVAL);
    T_ASSERT(strlen(posta_imap_errmsg(h)) > 0);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "NOOP"), 0);
    T_EQ_INT(d.calls, 0);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_unknown_tag(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 NOOP\nS: zz99 OK what\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "NOOP"), POSTA_EPROTO);
    T_CONTAINS(posta_imap_errmsg(h), "tag zz99");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_parse_error_offset(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 NOOP\nS: * 1 FETCH (BODY[] {-5}\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "NOOP"), POSTA_EPROTO);
    T_CONTAINS(posta_imap_errmsg(h), "byte");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_silent_server_times_out(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 NOOP\n!sleep 1500\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    posta_imap_set_timeouts(h, 5000, 300);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "NOOP"), POSTA_ETIMEDOUT);
    T_CONTAINS(posta_imap_errmsg(h), "sent nothing for 300 ms");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_command_timeout(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 NOOP\n"
                          "S: * OK still here\n!sleep 150\nS: * OK still here\n!sleep 150\n"
                          "S: * OK still here\n!sleep 600\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    posta_imap_cmd_opts o = {.timeout_ms = 350};
    struct done_rec d = {0};
    o.done = record_done;
    o.user = &d;
    T_EQ_INT(posta_imap_submit(h, &o, "NOOP"), 0);
    run_until_calls(h, &d.calls, 1);
    T_EQ_INT(d.error, POSTA_ETIMEDOUT);
    T_CONTAINS(d.text, "a0001 NOOP: no answer from 127.0.0.1:");
    T_CONTAINS(d.text, "within 350 ms");
    posta_imap_free(h);
    peer_ok(p);
}

static void free_in_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    struct done_rec *d = user;
    record_done(h, r, user);
    if (d->calls == 1 && r->error == 0)
        posta_imap_free(h);
}

static void test_free_inside_callback(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 NOOP\nC: a0002 NOOP\n"
                          "S: a0001 OK\nS: a0002 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct done_rec d1 = {0}, d2 = {0};
    posta_imap_cmd_opts o1 = {.done = free_in_done, .user = &d1}, o2 = {.done = record_done, .user = &d2};
    T_EQ_INT(posta_imap_submit(h, &o1, "NOOP"), 0);
    T_EQ_INT(posta_imap_submit(h, &o2, "NOOP"), 0);
    /* Drive until the first completion frees the handle. */
    for (int i = 0; i < 200 && d1.calls == 0; i++)
        posta_imap_process(h, 20);
    T_EQ_INT(d1.calls, 1);
    T_EQ_INT(d2.calls, 1);
    T_ASSERT(d2.error == 0 || d2.error == POSTA_ECANCELED);
    peer_ok(p);
}

static void test_free_cancels(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 NOOP\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct done_rec d = {0};
    posta_imap_cmd_opts o = {.done = record_done, .user = &d};
    T_EQ_INT(posta_imap_submit(h, &o, "NOOP"), 0);
    for (int i = 0; i < 5; i++)
        posta_imap_process(h, 20);
    posta_imap_free(h);
    T_EQ_INT(d.calls, 1);
    T_EQ_INT(d.error, POSTA_ECANCELED);
    peer_ok(p);
}

static void test_starttls_flow(void)
{
    struct peer *p = peer_tls("S: * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\n"
                              "C: a0001 STARTTLS\nS: a0001 OK begin\n!starttls\n"
                              "C: a0002 CAPABILITY\nS: * CAPABILITY IMAP4rev1 AUTH=PLAIN\nS: a0002 OK\n"
                              "C: a0003 LOGIN alice secret\nS: a0003 OK [CAPABILITY IMAP4rev1 IDLE] in\n",
                              1);
    posta_imap *h;
    T_EQ_INT(posta_imap_new(&h, NULL, NULL, NULL), 0);
    T_EQ_INT(posta_stream_set_ca(posta_imap_stream(h), t_env("CA_FILE"), NULL), 0);
    T_EQ_INT(posta_imap_connect(h, target(p)), 0);
    T_EQ_INT(posta_stream_tls_verified(posta_imap_stream(h)), 1);
    T_EQ_INT(posta_imap_has_capability(h, "STARTTLS"), 0);
    T_EQ_INT(posta_imap_has_capability(h, "AUTH=PLAIN"), 1);
    T_EQ_INT(posta_imap_login(h, "alice", "secret"), 0);
    T_EQ_INT(posta_imap_has_capability(h, "IDLE"), 1);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_AUTHENTICATED);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_starttls_injection(void)
{
    struct peer *p = peer_tls("S: * OK [CAPABILITY IMAP4rev1 STARTTLS] hi\n"
                              "C: a0001 STARTTLS\nS+ a0001 OK begin\\r\\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] x\\r\\n\n"
                              "!expect-close\n",
                              1);
    posta_imap *h;
    T_EQ_INT(posta_imap_new(&h, NULL, NULL, NULL), 0);
    T_EQ_INT(posta_stream_set_ca(posta_imap_stream(h), t_env("CA_FILE"), NULL), 0);
    int rc = posta_imap_connect(h, target(p));
    T_EQ_INT(rc, POSTA_EPROTO);
    T_CONTAINS(posta_imap_errmsg(h), "before the TLS handshake");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_starttls_required(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\n!expect-close\n");
    posta_imap *h;
    T_EQ_INT(posta_imap_new(&h, NULL, NULL, NULL), 0);
    T_EQ_INT(posta_imap_connect(h, target(p)), POSTA_EPOLICY);
    T_CONTAINS(posta_imap_errmsg(h), "does not offer STARTTLS");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_preauth_refused_without_tls(void)
{
    struct peer *p = peer("S: * PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome\n!expect-close\n");
    posta_imap *h;
    T_EQ_INT(posta_imap_new(&h, NULL, NULL, NULL), 0);
    T_EQ_INT(posta_imap_connect(h, target(p)), POSTA_EPOLICY);
    T_CONTAINS(posta_imap_errmsg(h), "PREAUTH");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_preauth_allowed_in_cleartext_mode(void)
{
    struct peer *p = peer("S: * PREAUTH [CAPABILITY IMAP4rev1] welcome\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_AUTHENTICATED);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_bye_greeting(void)
{
    struct peer *p = peer("S: * BYE too many connections\n");
    posta_imap *h;
    T_EQ_INT(posta_imap_new(&h, NULL, NULL, NULL), 0);
    posta_imap_set_tls(h, POSTA_IMAP_TLS_NONE);
    T_EQ_INT(posta_imap_connect(h, target(p)), POSTA_EBYE);
    T_CONTAINS(posta_imap_errmsg(h), "too many connections");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_login_policy(void)
{
    /* Implicit-TLS mode on a plain socket: nothing encrypts, so LOGIN is
     * refused before anything is sent; LOGINDISABLED refuses it always. */
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hi\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    T_EQ_INT(posta_imap_login(h, "alice", "pw"), POSTA_EPOLICY);
    T_CONTAINS(posta_imap_errmsg(h), "LOGINDISABLED");
    posta_imap_set_allow_cleartext(h, 0);
    T_EQ_INT(posta_imap_login(h, "alice", "pw"), POSTA_EPOLICY);
    T_CONTAINS(posta_imap_errmsg(h), "cleartext");
    posta_imap_free(h);
    peer_ok(p);
}

static void test_select_states(void)
{
    struct peer *p = peer("S: * PREAUTH [CAPABILITY IMAP4rev1] hi\n"
                          "C: a0001 SELECT INBOX\nS: * 3 EXISTS\nS: a0001 OK [READ-WRITE] ok\n"
                          "C: a0002 SELECT nosuch\nS: a0002 NO [NONEXISTENT] no\n"
                          "C: a0003 EXAMINE &ZeVnLIqe-\nS: a0003 OK [READ-ONLY] ok\n"
                          "C: a0004 CLOSE\nS: a0004 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    T_EQ_INT(posta_imap_select(h, "INBOX", 0), 0);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_SELECTED);
    T_EQ_INT(posta_imap_select(h, "nosuch", 0), POSTA_ENO);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_AUTHENTICATED);
    T_CONTAINS(posta_imap_errmsg(h), "a0002 NO: [NONEXISTENT] no");
    T_EQ_INT(posta_imap_select(h, "日本語", 1), 0);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_SELECTED);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "CLOSE"), 0);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_AUTHENTICATED);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_logout(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 LOGOUT\nS: * BYE bye\nS: a0001 OK done\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    T_EQ_INT(posta_imap_logout(h), 0);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_DISCONNECTED);
    posta_imap_free(h);
    peer_ok(p);
}

/* The caller's own loop: fd, wants_write, on_readable/on_writable, timeouts. */
static void event_loop_connected(posta_imap *h, const posta_imap_result *r, void *user)
{
    (void)h;
    *(int *)user = r->error == 0 ? 1 : -1;
}

static void test_own_event_loop(void)
{
    struct peer *p = peer("S: * OK hello\nC: a0001 CAPABILITY\nS: * CAPABILITY IMAP4rev1\nS: a0001 OK\n"
                          "C: a0002 NOOP\nS: a0002 OK\n");
    posta_imap *h;
    int connected = 0;
    struct done_rec d = {0};
    T_EQ_INT(posta_imap_new(&h, NULL, NULL, NULL), 0);
    posta_imap_set_tls(h, POSTA_IMAP_TLS_NONE);
    T_EQ_INT(posta_imap_connect_start(h, target(p), event_loop_connected, &connected), 0);
    for (int i = 0; i < 500 && d.calls == 0; i++) {
        if (connected == 1 && posta_imap_pending(h) == 0) {
            posta_imap_cmd_opts o = {.done = record_done, .user = &d};
            T_EQ_INT(posta_imap_submit(h, &o, "NOOP"), 0);
            connected = 2;
        }
        struct pollfd pfd = {.fd = posta_imap_fd(h), .events = POLLIN};
        if (posta_imap_wants_write(h))
            pfd.events |= POLLOUT;
        int t = posta_imap_next_timeout_ms(h);
        int n = poll(&pfd, 1, t < 0 || t > 50 ? 50 : t);
        if (n > 0 && (pfd.revents & POLLOUT))
            posta_imap_on_writable(h);
        if (n > 0 && (pfd.revents & (POLLIN | POLLHUP)))
            posta_imap_on_readable(h);
        if (n == 0)
            posta_imap_on_timeout(h);
    }
    T_EQ_INT(connected, 2);
    T_EQ_INT(d.calls, 1);
    T_EQ_INT(d.error, 0);
    posta_imap_free(h);
    peer_ok(p);
}

struct trace_rec {
    char text[2048];
};

static void on_trace(posta_imap *h, char dir, const char *data, size_t len, void *user)
{
    struct trace_rec *t = user;
    size_t used = strlen(t->text);
    (void)h;
    snprintf(t->text + used, sizeof(t->text) - used, "%c: %.*s\n", dir, (int)len, data);
}

static void test_trace_redacts_password(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 LOGIN alice \"pass word\"\nS: a0001 OK [CAPABILITY IMAP4rev1] in\n");
    struct trace_rec t = {""};
    posta_imap_callbacks cb = {.on_trace = on_trace};
    posta_imap *h = open_plain(p, &cb, &t);
    T_EQ_INT(posta_imap_login(h, "alice", "pass word"), 0);
    T_CONTAINS(t.text, "C: a0001 LOGIN alice <omitted>");
    T_ASSERT(strstr(t.text, "pass word") == NULL);
    posta_imap_free(h);
    peer_ok(p);
}

/* --- regressions from review ------------------------------------------------------------ */

static void test_commands_wait_for_starttls(void)
{
    /* A LOGIN submitted right after connect_start must not go out before
     * STARTTLS: it waits until TLS is up and capabilities are known. */
    struct peer *p = peer_tls("S: * OK [CAPABILITY IMAP4rev1 STARTTLS] hi\n"
                              "C: a0002 STARTTLS\nS: a0002 OK go\n!starttls\n"
                              "C: a0003 CAPABILITY\nS: * CAPABILITY IMAP4rev1\nS: a0003 OK\n"
                              "C: a0001 LOGIN alice secret\nS: a0001 OK in\n",
                              1);
    posta_imap *h;
    struct done_rec d = {0};
    int connected = 0;
    T_EQ_INT(posta_imap_new(&h, NULL, NULL, NULL), 0);
    T_EQ_INT(posta_stream_set_ca(posta_imap_stream(h), t_env("CA_FILE"), NULL), 0);
    T_EQ_INT(posta_imap_connect_start(h, target(p), event_loop_connected, &connected), 0);
    posta_imap_cmd_opts o = {.done = record_done, .user = &d};
    T_EQ_INT(posta_imap_submit(h, &o, "LOGIN %s %p", "alice", "secret"), 0);
    run_until_calls(h, &d.calls, 1);
    T_EQ_INT(connected, 1);
    T_EQ_INT(d.error, 0);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_AUTHENTICATED);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_login_command_policy(void)
{
    /* Any LOGIN command, not only posta_imap_login(), obeys LOGINDISABLED. */
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hi\nC: a0002 NOOP\nS: a0002 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "LOGIN %s %p", "alice", "pw"), POSTA_EPOLICY);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "NOOP"), 0);
    posta_imap_free(h);
    peer_ok(p);
}

static long failing_source(posta_imap_cmd *cmd, void *buf, size_t cap, void *user)
{
    (void)cmd;
    (void)buf;
    (void)cap;
    (void)user;
    return POSTA_EIO;
}

static int submit_failing(posta_imap *h, const posta_imap_response *r, void *user)
{
    static posta_imap_literal lit = {.size = 10, .read = failing_source};
    (void)r;
    (void)user;
    posta_imap_submit(h, NULL, "APPEND INBOX %L", &lit);
    return 0;
}

static void test_callback_ends_connection_while_routing(void)
{
    /* An untagged callback whose submission ends the connection: the
     * routing loop must not walk the freed command list. */
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 LITERAL+] hi\nC: a0001 NOOP\nC: a0002 NOOP\n"
                          "S: * 3 EXISTS\n!expect-close\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct done_rec d1 = {0}, d2 = {0};
    posta_imap_cmd_opts o1 = {.done = record_done, .on_untagged = submit_failing, .user = &d1};
    posta_imap_cmd_opts o2 = {.done = record_done, .on_untagged = submit_failing, .user = &d2};
    T_EQ_INT(posta_imap_submit(h, &o1, "NOOP"), 0);
    T_EQ_INT(posta_imap_submit(h, &o2, "NOOP"), 0);
    run_until_calls(h, &d2.calls, 1);
    T_EQ_INT(d1.calls, 1);
    T_EQ_INT(d2.calls, 1);
    T_EQ_INT(posta_imap_get_state(h), POSTA_IMAP_STATE_DISCONNECTED);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_silence_counts_from_new_work(void)
{
    /* A quiet period with nothing pending is not server silence. */
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1] hi\nC: a0001 NOOP\n!sleep 150\nS: a0001 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    posta_imap_set_timeouts(h, 5000, 300);
    usleep(500000);
    T_EQ_INT(posta_imap_exec(h, NULL, NULL, "NOOP"), 0);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_starttls_handshake_timeout(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 STARTTLS] hi\nC: a0001 STARTTLS\nS: a0001 OK go\n"
                          "!sleep 1500\n!close\n");
    posta_imap *h;
    T_EQ_INT(posta_imap_new(&h, NULL, NULL, NULL), 0);
    posta_imap_set_timeouts(h, 300, 300);
    T_EQ_INT(posta_imap_connect(h, target(p)), POSTA_ETIMEDOUT);
    T_CONTAINS(posta_imap_errmsg(h), "TLS handshake with 127.0.0.1:");
    posta_imap_free(h);
    peer_ok(p);
}

struct slow {
    int ready;
    int given;
};

static long slow_source(posta_imap_cmd *cmd, void *buf, size_t cap, void *user)
{
    struct slow *sl = user;
    (void)cmd;
    if (!sl->ready)
        return POSTA_EAGAIN;
    if (sl->given || cap < 4)
        return 0;
    memcpy(buf, "data", 4);
    sl->given = 1;
    return 4;
}

static void test_source_eagain_does_not_spin(void)
{
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 LITERAL+] hi\n"
                          "C: a0001 APPEND INBOX {4+}\nC+ data\\r\\n\nS: a0001 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct slow sl = {0, 0};
    struct done_rec d = {0};
    posta_imap_literal lit = {.size = 4, .read = slow_source, .user = &sl};
    posta_imap_cmd_opts o = {.done = record_done, .user = &d};
    T_EQ_INT(posta_imap_submit(h, &o, "APPEND INBOX %L", &lit), 0);
    T_EQ_INT(posta_imap_wants_write(h), 0); /* the source has nothing yet */
    sl.ready = 1;
    T_EQ_INT(posta_imap_on_writable(h), 0);
    run_until_calls(h, &d.calls, 1);
    T_EQ_INT(d.error, 0);
    posta_imap_free(h);
    peer_ok(p);
}

static void test_idle_refused_then_again(void)
{
    /* idle_done() before a "+" that never comes must not end the next IDLE. */
    struct peer *p = peer("S: * OK [CAPABILITY IMAP4rev1 IDLE] hi\nC: a0001 IDLE\nS: a0001 NO not now\n"
                          "C: a0002 IDLE\nS: + idling\nC: DONE\nS: a0002 OK\n");
    posta_imap *h = open_plain(p, NULL, NULL);
    struct done_rec d1 = {0}, d2 = {0};
    T_EQ_INT(posta_imap_idle(h, record_done, &d1), 0);
    T_EQ_INT(posta_imap_idle_done(h), 0);
    run_until_calls(h, &d1.calls, 1);
    T_EQ_INT(d1.error, POSTA_ENO);
    T_EQ_INT(posta_imap_idle(h, record_done, &d2), 0);
    for (int i = 0; i < 100 && !posta_imap_idling(h); i++)
        posta_imap_process(h, 20);
    T_EQ_INT(posta_imap_idling(h), 1);
    T_EQ_INT(d2.calls, 0);
    T_EQ_INT(posta_imap_idle_done(h), 0);
    run_until_calls(h, &d2.calls, 1);
    T_EQ_INT(d2.error, 0);
    posta_imap_free(h);
    peer_ok(p);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"greeting_caps", test_greeting_caps},
        {"capability_asked", test_capability_asked},
        {"pipelining_out_of_order", test_pipelining_out_of_order},
        {"sync_literal_waits", test_sync_literal_waits},
        {"literal_refused", test_literal_refused},
        {"literal_plus", test_literal_plus},
        {"literal_modes", test_literal_modes},
        {"literal_source_streamed", test_literal_source_streamed},
        {"idle", test_idle},
        {"idle_restart", test_idle_restart},
        {"command_interrupts_idle", test_command_interrupts_idle},
        {"bye_fails_pending", test_bye_fails_pending},
        {"hangup_in_literal", test_hangup_in_literal},
        {"streamed_literal_to_sink", test_streamed_literal_to_sink},
        {"bad_argument_refused", test_bad_argument_refused},
        {"unknown_tag", test_unknown_tag},
        {"parse_error_offset", test_parse_error_offset},
        {"silent_server_times_out", test_silent_server_times_out},
        {"command_timeout", test_command_timeout},
        {"free_inside_callback", test_free_inside_callback},
        {"free_cancels", test_free_cancels},
        {"starttls_flow", test_starttls_flow},
        {"starttls_injection", test_starttls_injection},
        {"starttls_required", test_starttls_required},
        {"preauth_refused_without_tls", test_preauth_refused_without_tls},
        {"preauth_allowed_in_cleartext_mode", test_preauth_allowed_in_cleartext_mode},
        {"bye_greeting", test_bye_greeting},
        {"login_policy", test_login_policy},
        {"select_states", test_select_states},
        {"logout", test_logout},
        {"own_event_loop", test_own_event_loop},
        {"trace_redacts_password", test_trace_redacts_password},
        {"commands_wait_for_starttls", test_commands_wait_for_starttls},
        {"login_command_policy", test_login_command_policy},
        {"callback_ends_connection_while_routing", test_callback_ends_connection_while_routing},
        {"silence_counts_from_new_work", test_silence_counts_from_new_work},
        {"starttls_handshake_timeout", test_starttls_handshake_timeout},
        {"source_eagain_does_not_spin", test_source_eagain_does_not_spin},
        {"idle_refused_then_again", test_idle_refused_then_again},
        {NULL, NULL}};
    return t_main(argc, argv, cases);
}
