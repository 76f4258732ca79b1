/* The SMTP engine against scripted peers: the exact bytes of every
 * extension, pipelined groups, 4xx and 5xx at each stage, hang-ups,
 * replies out of step, 421, STARTTLS and AUTH rules, LMTP, LIMITS, ETRN,
 * timeouts, the caller's event loop, and freeing inside callbacks. */
#include <posta/smtp.h>

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peer.h"
#include "t.h"

/* --- harness ------------------------------------------------------------------- */

static char mon_log[1 << 16];
static char ev_log[1 << 14];

static void on_monitor(posta_smtp *h, const char *d, size_t n, int dir, void *user)
{
    (void)h, (void)user;
    size_t l = strlen(mon_log);
    snprintf(mon_log + l, sizeof(mon_log) - l, "%c[%.*s]", "RWH"[dir], (int)n, d);
}

static int quit_on_extna;
static int free_on_sent;

static void on_event(posta_smtp *h, const posta_smtp_event *ev, void *user)
{
    (void)user;
    size_t l = strlen(ev_log);
    snprintf(ev_log + l, sizeof(ev_log) - l, "%d:%s:%d;", ev->type, ev->name ? ev->name : "",
             ev->status ? ev->status->code : ev->error);
    if (ev->type == POSTA_SMTP_EV_EXTNA && quit_on_extna && ev->quit)
        *ev->quit = 1;
    if (ev->type == POSTA_SMTP_EV_MESSAGESENT && free_on_sent)
        posta_smtp_free(h);
}

static struct peer *start_peer(const char *script, int tls)
{
    struct peer *p = NULL;
    struct peer_opts o = {.timeout_ms = 5000};
    if (tls) {
        o.cert = t_env("SERVER_CERT");
        o.key = t_env("SERVER_KEY");
    }
    if (peer_start(&p, script, &o) != 0) {
        fprintf(stderr, "peer_start failed\n");
        exit(1);
    }
    return p;
}

static posta_smtp *session(struct peer *p, posta_smtp_tls tls)
{
    posta_smtp *h;
    posta_smtp_callbacks cb = {on_event, on_monitor};
    mon_log[0] = ev_log[0] = '\0';
    quit_on_extna = free_on_sent = 0;
    T_EQ_INT(posta_smtp_new(&h, &cb, NULL), 0);
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%d", peer_port(p));
    T_EQ_INT(posta_smtp_set_server(h, target), 0);
    T_EQ_INT(posta_smtp_set_hostname(h, "client.example"), 0);
    T_EQ_INT(posta_smtp_set_tls(h, tls), 0);
    for (int w = POSTA_SMTP_TIMEOUT_CONNECT; w <= POSTA_SMTP_TIMEOUT_COMMAND; w++)
        posta_smtp_set_timeout(h, (posta_smtp_timeout)w, 8000);
    if (tls != POSTA_SMTP_TLS_DISABLED)
        T_EQ_INT(posta_stream_set_ca(posta_smtp_stream(h), t_env("CA_FILE"), NULL), 0);
    return h;
}

/* A message sent as given (header processing off), to these recipients. */
static posta_smtp_message *add(posta_smtp *h, const char *from, const char *data, ...)
{
    posta_smtp_message *m;
    T_EQ_INT(posta_smtp_add_message(h, &m), 0);
    T_EQ_INT(posta_smtp_message_set_reverse_path(m, from), 0);
    T_EQ_INT(posta_smtp_message_set_buffer(m, data, strlen(data)), 0);
    posta_smtp_message_set_header_processing(m, 0);
    va_list ap;
    va_start(ap, data);
    for (const char *r; (r = va_arg(ap, const char *));)
        T_EQ_INT(posta_smtp_add_recipient(m, r, NULL), 0);
    va_end(ap);
    return m;
}

static posta_smtp_recipient *rcpt(posta_smtp_message *m, int i)
{
    posta_smtp_recipient *r = posta_smtp_first_recipient(m);
    while (i-- > 0 && r)
        r = posta_smtp_next_recipient(r);
    return r;
}

static int mcode(const posta_smtp_message *m)
{
    return posta_smtp_message_status(m)->code;
}

static int rcode(posta_smtp_message *m, int i)
{
    return posta_smtp_recipient_status(rcpt(m, i))->code;
}

#define GREET "S: 220 peer.example ESMTP\nC: EHLO client.example\n"
#define QUIT "C: QUIT\nS: 221 bye\n"
#define BODY1 "Subject: one\r\n\r\nbody\r\n"
#define DATA1 "C: Subject: one\nC: \nC: body\nC: .\n"

/* --- pipelining -------------------------------------------------------------------- */

static void test_pipelined_groups(void)
{
    /* Every client line of a group is expected before any reply: a client
     * that waited would stall the script. */
    struct peer *p = start_peer(GREET
        "S: 250-peer.example\nS: 250 PIPELINING\n"
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: RCPT TO:<c@x>\nC: DATA\n"
        "S: 250 2.1.0 ok\nS: 250 2.1.5 ok\nS: 250 2.1.5 ok\nS: 354 go\n"
        DATA1
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<d@x>\nC: DATA\n"
        "S: 250 2.0.0 queued as 1\nS: 250 ok\nS: 250 ok\nS: 354 go\n"
        "C: Subject: two\nC: \nC: body\nC: .\nC: QUIT\n"
        "S: 250 2.0.0 queued as 2\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m1 = add(h, "a@x", BODY1, "b@x", "c@x", NULL);
    posta_smtp_message *m2 = add(h, "a@x", "Subject: two\n\nbody\n", "d@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m1), 250);
    T_EQ_STR(posta_smtp_message_status(m1)->text, "queued as 1");
    T_EQ_INT(posta_smtp_message_status(m1)->enh_class, 2);
    T_EQ_INT(mcode(m2), 250);
    T_ASSERT(posta_smtp_message_sent(m2));
    T_EQ_INT(rcode(m1, 1), 250);
    /* one write per group, the next envelope right behind the dot */
    T_CONTAINS(mon_log, "W[MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nRCPT TO:<c@x>\r\nDATA\r\n]");
    T_CONTAINS(mon_log, "W[.\r\nMAIL FROM:<a@x>\r\nRCPT TO:<d@x>\r\nDATA\r\n]");
    T_CONTAINS(mon_log, "W[.\r\nQUIT\r\n]");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_no_pipelining_lockstep(void)
{
    struct peer *p = start_peer(GREET "S: 250 peer.example\n"
        "C: MAIL FROM:<a@x>\nS: 250 ok\nC: RCPT TO:<b@x>\nS: 250 ok\nC: RCPT TO:<c@x>\nS: 250 ok\n"
        "C: DATA\nS: 354 go\n" DATA1 "S: 250 ok\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", "c@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    /* each command waited for the reply before it */
    T_CONTAINS(mon_log, "W[MAIL FROM:<a@x>\r\n]R[250 ok\r\n]W[RCPT TO:<b@x>\r\n]R[250 ok\r\n]"
                        "W[RCPT TO:<c@x>\r\n]R[250 ok\r\n]W[DATA\r\n]R[354 go\r\n]");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_no_cross_pipelining(void)
{
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 PIPELINING\n"
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n"
        DATA1 "S: 250 ok\n"
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n"
        DATA1 "C: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_set_pipeline_transactions(h, 0);
    add(h, "a@x", BODY1, "b@x", NULL);
    add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_CONTAINS(mon_log, "W[.\r\n]R[250 ok\r\n]W[MAIL FROM");
    posta_smtp_free(h);
    peer_ok(p);
}

/* --- parameters ----------------------------------------------------------------------- */

static void test_mail_and_rcpt_params(void)
{
    struct peer *p = start_peer(GREET
        "S: 250-peer\nS: 250-PIPELINING\nS: 250-SIZE 100000\nS: 250-8BITMIME\nS: 250-SMTPUTF8\n"
        "S: 250-DSN\nS: 250-DELIVERBY 60\nS: 250-MT-PRIORITY MIXER\n"
        "S: 250 FUTURERELEASE 604800 2030-01-01T00:00:00Z\n"
        "C: MAIL FROM:<jürgen@x> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=a+2Bb+3Dc+20d "
        "BY=3600;RT MT-PRIORITY=3 HOLDFOR=600 X-FOO=1\n"
        "C: RCPT TO:<b@x> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bc@x X-R=2\n"
        "C: RCPT TO:<c@x> NOTIFY=NEVER\n"
        "C: DATA\n"
        "S: 250 ok\nS: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1 "C: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "jürgen@x", BODY1, "b@x", "c@x", NULL);
    posta_smtp_message_set_size(m, 1234);
    T_EQ_INT(posta_smtp_message_set_body(m, POSTA_SMTP_BODY_8BITMIME), 0);
    T_EQ_INT(posta_smtp_message_set_dsn_ret(m, POSTA_SMTP_RET_HDRS), 0);
    T_EQ_INT(posta_smtp_message_set_dsn_envid(m, "a+b=c d"), 0);
    T_EQ_INT(posta_smtp_message_set_deliverby(m, 3600, POSTA_SMTP_BY_RETURN, 1), 0);
    T_EQ_INT(posta_smtp_message_set_priority(m, 3), 0);
    T_EQ_INT(posta_smtp_message_set_holdfor(m, 600), 0);
    T_EQ_INT(posta_smtp_message_add_mail_param(m, "X-FOO=1"), 0);
    T_EQ_INT(posta_smtp_recipient_set_dsn_notify(rcpt(m, 0), POSTA_SMTP_NOTIFY_SUCCESS |
                                                 POSTA_SMTP_NOTIFY_FAILURE), 0);
    T_EQ_INT(posta_smtp_recipient_set_dsn_orcpt(rcpt(m, 0), "rfc822", "b+c@x"), 0);
    T_EQ_INT(posta_smtp_recipient_add_param(rcpt(m, 0), "X-R=2"), 0);
    T_EQ_INT(posta_smtp_recipient_set_dsn_notify(rcpt(m, 1), POSTA_SMTP_NOTIFY_NEVER), 0);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    T_ASSERT(posta_smtp_extensions(h) & POSTA_SMTP_EXT_FUTURERELEASE);
    T_EQ_STR(posta_smtp_extension_params(h, "size"), "100000");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_deliverby_expired_and_holduntil(void)
{
    /* The by-time is below the server's minimum: the event says by how
     * much; HOLDUNTIL goes out in UTC. */
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250-DELIVERBY 7200\n"
        "S: 250-FUTURERELEASE 604800 2040-01-01T00:00:00Z\nS: 250 PIPELINING\n"
        "C~ MAIL FROM:<a@x> BY=3600;N HOLDUNTIL=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\n"
        "C: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1
        "C: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_message_set_deliverby(m, 3600, POSTA_SMTP_BY_NOTIFY, 0), 0);
    T_EQ_INT(posta_smtp_message_set_holduntil(m, time(NULL) + 86400), 0);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    T_CONTAINS(ev_log, "10::0;");
    posta_smtp_free(h);
    peer_ok(p);
    /* A release time beyond the server's limit fails the message. */
    p = start_peer(GREET "S: 250-peer\nS: 250 FUTURERELEASE 60 2040-01-01T00:00:00Z\n" QUIT, 0);
    h = session(p, POSTA_SMTP_TLS_DISABLED);
    m = add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_message_set_holdfor(m, 3600), 0);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 554);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_advisory_extensions_missing(void)
{
    /* DSN, 8BITMIME, MT-PRIORITY not offered: EXTNA events, parameters left
     * out, the message still goes. */
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 PIPELINING\n"
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\n"
        "S: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1 "C: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    posta_smtp_message_set_dsn_ret(m, POSTA_SMTP_RET_FULL);
    posta_smtp_message_set_body(m, POSTA_SMTP_BODY_8BITMIME);
    posta_smtp_message_set_priority(m, -2);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    T_CONTAINS(ev_log, "9:DSN:");
    T_CONTAINS(ev_log, "9:8BITMIME:");
    T_CONTAINS(ev_log, "9:MT-PRIORITY:");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_extna_quit(void)
{
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 PIPELINING\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    posta_smtp_message_set_dsn_ret(m, POSTA_SMTP_RET_FULL);
    quit_on_extna = 1;
    T_EQ_INT(posta_smtp_run(h), POSTA_ECANCELED);
    T_EQ_INT(mcode(m), 0);   /* untouched: a later run sends it */
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_needed_extensions_missing(void)
{
    /* SMTPUTF8, BINARYMIME, REQUIRETLS needed but not offered: those
     * messages fail before MAIL; the plain one goes. */
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250-CHUNKING\nS: 250 PIPELINING\n"
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nS: 250 ok\nS: 250 ok\n"
        "C: BDAT 22 LAST\nC: Subject: one\nC: \nC: body\nC: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *u = add(h, "a@x", BODY1, "bü@x", NULL);
    posta_smtp_message *b = add(h, "a@x", BODY1, "b@x", NULL);
    posta_smtp_message_set_body(b, POSTA_SMTP_BODY_BINARYMIME);
    posta_smtp_message *r = add(h, "a@x", BODY1, "b@x", NULL);
    posta_smtp_message_set_requiretls(r, 1);
    posta_smtp_message *ok = add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(u), 554);
    T_EQ_INT(posta_smtp_message_status(u)->local, 1);
    T_EQ_INT(posta_smtp_message_status(u)->error, POSTA_EUNSUPPORTED);
    T_EQ_INT(mcode(b), 554);
    T_EQ_INT(mcode(r), 554);
    T_EQ_INT(posta_smtp_message_status(r)->enh_detail, 10);
    T_EQ_INT(mcode(ok), 250);
    T_CONTAINS(ev_log, "9:SMTPUTF8:");
    T_CONTAINS(ev_log, "9:BINARYMIME:");
    T_CONTAINS(ev_log, "9:REQUIRETLS:");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_size_limit(void)
{
    char big[600];
    memset(big, 'x', sizeof(big));
    memcpy(big, "Subject: big\r\n\r\n", 16);
    big[sizeof(big) - 1] = '\0';
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250-SIZE 400\nS: 250 PIPELINING\n"
        "C: MAIL FROM:<a@x> SIZE=77\nC: RCPT TO:<b@x>\nC: DATA\n"
        "S: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1 "C: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m1 = add(h, "a@x", big, "b@x", NULL);
    posta_smtp_message *m2 = add(h, "a@x", BODY1, "b@x", NULL);
    posta_smtp_message_set_size(m2, 77);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m1), 552);
    T_EQ_INT(posta_smtp_message_status(m1)->error, POSTA_ELIMIT);
    T_EQ_INT(rcode(m1, 0), 552);   /* the recipients share the message's fate */
    T_EQ_INT(mcode(m2), 250);
    posta_smtp_free(h);
    peer_ok(p);
}

/* --- BDAT ---------------------------------------------------------------------------- */

static void test_bdat_chunks(void)
{
    /* 20 lines of 64 octets: chunks of 512 land on line boundaries. */
    char msg[20 * 64 + 1] = "";
    char script[8192];
    for (int i = 0; i < 20; i++)
        snprintf(msg + i * 64, 65, "line %02d %-54s\r\n", i, "abcdefghijklmnopqrstuvwxyz");
    int o = snprintf(script, sizeof(script), GREET "S: 250-peer\nS: 250-CHUNKING\n"
                     "S: 250 PIPELINING\nC: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\n"
                     "S: 250 ok\nS: 250 ok\n");
    for (int i = 0; i < 20; i++) {
        if (i % 8 == 0)
            o += snprintf(script + o, sizeof(script) - (size_t)o, "C: BDAT %s\n",
                          i == 16 ? "256 LAST" : "512");
        o += snprintf(script + o, sizeof(script) - (size_t)o, "C: %.62s\n", msg + i * 64);
    }
    snprintf(script + o, sizeof(script) - (size_t)o,
             "C: QUIT\nS: 250 2.0.0 chunk 1\nS: 250 2.0.0 chunk 2\nS: 250 2.0.0 all\nS: 221 bye\n");
    struct peer *p = start_peer(script, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    T_EQ_INT(posta_smtp_set_chunk_size(h, 512), 0);
    posta_smtp_message *m = add(h, "a@x", msg, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    T_EQ_STR(posta_smtp_message_status(m)->text, "all");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_bdat_refused_midway(void)
{
    /* Without PIPELINING each chunk waits for its reply; a refused chunk
     * stops the message and RSET clears the transaction. */
    char msg[32 * 64 + 1];
    for (int i = 0; i < 32; i++)
        snprintf(msg + i * 64, 65, "%-62s\r\n", "0123456789012345678901234567890123456789");
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 CHUNKING\n"
        "C: MAIL FROM:<a@x>\nS: 250 ok\nC: RCPT TO:<b@x>\nS: 250 ok\n"
        "C: BDAT 512\n!recv 512\nS: 552 5.3.4 too big\nC: RSET\nS: 250 ok\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_set_chunk_size(h, 512);
    posta_smtp_message *m = add(h, "a@x", msg, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 552);
    T_EQ_INT(rcode(m, 0), 552);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_binarymime(void)
{
    static const char msg[] = "Subject: bin\n\n\x01\x02\nraw\rbytes\r\n.\r\n\xff";
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250-CHUNKING\nS: 250-BINARYMIME\n"
        "S: 250 PIPELINING\nC: MAIL FROM:<a@x> BODY=BINARYMIME\nC: RCPT TO:<b@x>\n"
        "S: 250 ok\nS: 250 ok\n"
        "C+ BDAT 34 LAST\\r\\nSubject: bin\\r\\n\\r\\n\\x01\\x02\\nraw\\rbytes\\r\\n.\\r\\n\\xff\n"
        "C: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", msg, "b@x", NULL);
    posta_smtp_message_set_body(m, POSTA_SMTP_BODY_BINARYMIME);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    posta_smtp_free(h);
    peer_ok(p);
}

/* --- data safety ------------------------------------------------------------------------ */

static void test_smuggling_on_the_wire(void)
{
    /* Every end-of-data look-alike in the input arrives dot-stuffed. */
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 PIPELINING\n"
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n"
        "C: A: b\nC: \nC: x\nC: ..\nC: y\nC: ..\nC: z\nC: ..\nC: w\nC: ...\nC: v\nC: ..\nC: end\n"
        "C: .\nC: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    add(h, "a@x", "A: b\r\n\r\nx\n.\ny\r\n.\r\nz\r.\rw\n..\nv\n.\r\nend", "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_long_line_refused_reconnects(void)
{
    char big[2100];
    memset(big, 'a', sizeof(big));
    memcpy(big, "Subject: long\r\n\r\n", 17);
    big[sizeof(big) - 1] = '\0';
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 PIPELINING\n"
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n"
        "!expect-close\n!accept\n" GREET "S: 250-peer\nS: 250 PIPELINING\n"
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n"
        DATA1 "C: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m1 = add(h, "a@x", big, "b@x", NULL);
    posta_smtp_message *m2 = add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m1), 554);
    T_EQ_INT(posta_smtp_message_status(m1)->error, POSTA_ELIMIT);
    T_EQ_INT(rcode(m1, 0), 554);
    T_EQ_INT(mcode(m2), 250);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_long_line_folded(void)
{
    char big[1100];
    memset(big, 'a', sizeof(big));
    memcpy(big, "S: l\r\n\r\n", 8);
    big[sizeof(big) - 1] = '\0';   /* 1091 octets of body */
    char script[4096];
    snprintf(script, sizeof(script), GREET "S: 250-peer\nS: 250 PIPELINING\n"
             "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n"
             "C: S: l\nC: \nC: %.998s\nC: %.93s\nC: .\nC: QUIT\nS: 250 ok\nS: 221 bye\n",
             big + 8, big + 8);
    struct peer *p = start_peer(script, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", big, "b@x", NULL);
    posta_smtp_message_set_long_lines(m, POSTA_SMTP_LONG_FOLD);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    posta_smtp_free(h);
    peer_ok(p);
}

/* --- failures at each stage ------------------------------------------------------------ */

static void test_greeting_refused(void)
{
    struct peer *p = start_peer("S: 554 5.7.1 go away\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_ENO);
    T_CONTAINS(posta_smtp_errmsg(h), "go away");
    T_EQ_INT(mcode(m), 0);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_greeting_421(void)
{
    struct peer *p = start_peer("S: 421 4.3.2 busy\n!close\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_EBYE);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_helo_fallback(void)
{
    struct peer *p = start_peer(GREET "S: 502 5.5.1 what\nC: HELO client.example\nS: 250 hi\n"
        "C: MAIL FROM:<a@x>\nS: 250 ok\nC: RCPT TO:<b@x>\nS: 250 ok\nC: DATA\nS: 354 go\n"
        DATA1 "S: 250 ok\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    T_EQ_INT(posta_smtp_extensions(h), 0);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_ehlo_and_helo_refused(void)
{
    struct peer *p = start_peer(GREET "S: 500 no\nC: HELO client.example\nS: 501 no either\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_ENO);
    T_CONTAINS(posta_smtp_errmsg(h), "no either");
    posta_smtp_free(h);
    peer_ok(p);
}

#define EHLO_PIPE "S: 250-peer\nS: 250 PIPELINING\n"
#define ENV1 "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: RCPT TO:<c@x>\nC: DATA\n"

static void test_mail_refused(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE ENV1
        "S: 451 4.3.0 try later\nS: 503 5.5.1 no MAIL\nS: 503 5.5.1 no MAIL\nS: 503 5.5.1 no MAIL\n"
        QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", "c@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 451);
    T_EQ_INT(posta_smtp_message_mail_status(m)->code, 451);
    T_EQ_INT(rcode(m, 0), 0);   /* not judged: a later run tries them */
    T_ASSERT(!strstr(mon_log, "RSET"));
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_some_recipients_refused(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE ENV1
        "S: 250 ok\nS: 250 ok\nS: 550 5.1.1 unknown\nS: 354 go\n" DATA1 "C: QUIT\n"
        "S: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", "c@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    T_EQ_INT(rcode(m, 0), 250);
    T_EQ_INT(rcode(m, 1), 550);
    T_EQ_STR(posta_smtp_recipient_status(rcpt(m, 1))->text, "unknown");
    T_ASSERT(posta_smtp_recipient_complete(rcpt(m, 1)));
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_all_recipients_refused(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE ENV1
        "S: 250 ok\nS: 550 no\nS: 550 no\nS: 554 5.5.1 no valid recipients\n"
        "C: RSET\nS: 250 ok\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", "c@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 554);
    T_EQ_INT(posta_smtp_message_status(m)->local, 1);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_recipients_temporarily_refused(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE ENV1
        "S: 250 ok\nS: 450 busy\nS: 451 busy\nS: 554 no valid recipients\nC: RSET\nS: 250 ok\n"
        QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", "c@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 451);   /* temporary: a later run tries again */
    T_ASSERT(!posta_smtp_recipient_complete(rcpt(m, 0)));
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_data_refused(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE ENV1
        "S: 250 ok\nS: 250 ok\nS: 250 ok\nS: 451 4.3.0 no data now\nC: RSET\nS: 250 ok\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", "c@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 451);
    T_EQ_INT(rcode(m, 0), 451);
    T_EQ_INT(rcode(m, 1), 451);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_dot_refused(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE ENV1
        "S: 250 ok\nS: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1 "C: QUIT\n"
        "S: 554 5.7.1 spam\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", "c@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 554);
    T_EQ_INT(posta_smtp_message_status(m)->enh_detail, 1);
    T_EQ_INT(rcode(m, 0), 554);
    T_ASSERT(!posta_smtp_message_sent(m));
    T_CONTAINS(ev_log, "5::554;");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_require_all_recipients(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: RCPT TO:<c@x>\n"
        "S: 250 ok\nS: 250 ok\nS: 550 no\nC: RSET\nS: 250 ok\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_set_require_all_recipients(h, 1);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", "c@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 554);
    T_EQ_INT(rcode(m, 0), 554);   /* accepted, but no data came */
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_second_run_sends_what_is_left(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE ENV1
        "S: 250 ok\nS: 250 ok\nS: 450 4.2.1 later\nS: 354 go\n" DATA1 "C: QUIT\nS: 250 ok\n"
        "S: 221 bye\n!accept\n" GREET EHLO_PIPE
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<c@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1
        "C: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", "c@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(rcode(m, 1), 450);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(rcode(m, 1), 250);
    T_EQ_INT(posta_smtp_run(h), POSTA_ENOTFOUND);   /* everything is complete */
    posta_smtp_free(h);
    peer_ok(p);
}

/* --- hang-ups ----------------------------------------------------------------------------- */

static void hangup_case(const char *script, int want_rc, int want_mcode, int want_r0)
{
    struct peer *p = start_peer(script, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    int rc = posta_smtp_run(h);
    /* A hang-up with our data unread may reach us as a reset. */
    if (!(rc == want_rc || (want_rc == POSTA_ECLOSED && rc == POSTA_EIO)))
        t_fail(__FILE__, __LINE__, "run: %d (%s), expected %d", rc, posta_smtp_errmsg(h), want_rc);
    T_EQ_INT(mcode(m), want_mcode);
    T_EQ_INT(rcode(m, 0), want_r0);
    if (want_mcode && want_mcode != 250)
        T_EQ_INT(posta_smtp_message_status(m)->local, 1);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_hangups(void)
{
    hangup_case("!close\n", POSTA_ECLOSED, 0, 0);
    hangup_case(GREET "!close\n", POSTA_ECLOSED, 0, 0);
    hangup_case(GREET EHLO_PIPE "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\n!close\n",
                POSTA_ECLOSED, 451, 0);
    hangup_case(GREET EHLO_PIPE "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\n"
                "S: 250 ok\nS: 250 ok\nS: 354 go\n!recv 5\n!close\n", POSTA_ECLOSED, 451, 451);
    hangup_case(GREET EHLO_PIPE "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\n"
                "S: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1 "C: QUIT\n!close\n",
                POSTA_ECLOSED, 451, 451);
    /* a hang-up right after QUIT is answered is a clean end */
    hangup_case(GREET EHLO_PIPE "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\n"
                "S: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1 "C: QUIT\nS: 250 ok\n!close\n", 0, 250, 250);
}

static void test_421_mid_session(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<c@x>\nC: DATA\n"
        "S: 250 ok\nS: 421 4.3.2 shutting down\n!close\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m1 = add(h, "a@x", BODY1, "b@x", NULL);
    posta_smtp_message *m2 = add(h, "a@x", BODY1, "c@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_EBYE);
    T_EQ_INT(mcode(m1), 250);
    T_EQ_INT(mcode(m2), 421);
    T_EQ_INT(rcode(m2, 0), 0);
    T_CONTAINS(posta_smtp_errmsg(h), "shutting down");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_replies_out_of_step(void)
{
    /* A 250 where the DATA go-ahead belongs. */
    struct peer *p = start_peer(GREET EHLO_PIPE "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\n"
        "S: 250 ok\nS: 250 ok\nS: 250 ok\n!expect-close\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_EPROTO);
    T_CONTAINS(posta_smtp_errmsg(h), "out of step");
    T_EQ_INT(mcode(m), 451);
    posta_smtp_free(h);
    peer_ok(p);
    /* Continuation lines with another code. */
    p = start_peer(GREET "S: 250-peer\nS: 251 PIPELINING\n!expect-close\n", 0);
    h = session(p, POSTA_SMTP_TLS_DISABLED);
    add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_EPROTO);
    posta_smtp_free(h);
    peer_ok(p);
    /* Garbage instead of a reply. */
    p = start_peer("S: hello there\n!expect-close\n", 0);
    h = session(p, POSTA_SMTP_TLS_DISABLED);
    add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_EPROTO);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_timeout(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\n"
        "S: 250 ok\n!expect-close\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_set_timeout(h, POSTA_SMTP_TIMEOUT_RCPT, 200);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_ETIMEDOUT);
    T_CONTAINS(posta_smtp_errmsg(h), "RCPT");
    T_EQ_INT(mcode(m), 451);
    posta_smtp_free(h);
    peer_ok(p);
}

/* --- STARTTLS and AUTH ---------------------------------------------------------------------- */

static void test_starttls_and_auth(void)
{
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250-STARTTLS\nS: 250 AUTH PLAIN\n"
        "C: STARTTLS\nS: 220 go\n!starttls\nC: EHLO client.example\n"
        "S: 250-peer\nS: 250-PIPELINING\nS: 250-REQUIRETLS\nS: 250 AUTH PLAIN LOGIN\n"
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==\nS: 235 2.7.0 ok\n"
        "C: MAIL FROM:<a@x> REQUIRETLS\nC: RCPT TO:<b@x>\nC: DATA\n"
        "S: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1 "C: QUIT\nS: 250 ok\nS: 221 bye\n", 1);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_REQUIRED);
    T_EQ_INT(posta_smtp_set_auth(h, "alice", "secret", "PLAIN"), 0);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    posta_smtp_message_set_requiretls(m, 1);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    T_CONTAINS(mon_log, "W[AUTH PLAIN <omitted>\r\n]");
    T_ASSERT(!strstr(mon_log, "AGFsaWNl"));
    T_CONTAINS(ev_log, "11:");   /* STARTTLS_OK */
    T_CONTAINS(ev_log, "14:PLAIN:235;");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_starttls_injection(void)
{
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 STARTTLS\n"
        "C: STARTTLS\nS+ 220 go\\r\\n250-injected\\r\\n\n!expect-close\n", 1);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_REQUIRED);
    add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_EPROTO);
    T_CONTAINS(posta_smtp_errmsg(h), "injected");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_starttls_required_but_missing(void)
{
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 PIPELINING\n" QUIT, 1);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_REQUIRED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_EPOLICY);
    T_CONTAINS(ev_log, "9:STARTTLS:");
    T_EQ_INT(mcode(m), 0);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_starttls_enabled_falls_back(void)
{
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250-STARTTLS\nS: 250 PIPELINING\n"
        "C: STARTTLS\nS: 454 4.7.0 TLS not available\n"
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1
        "C: QUIT\nS: 250 ok\nS: 221 bye\n", 1);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_ENABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_implicit_tls(void)
{
    struct peer *p = start_peer("!tls\n" GREET EHLO_PIPE
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1
        "C: QUIT\nS: 250 ok\nS: 221 bye\n", 1);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_IMPLICIT);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_tls_verify_failure(void)
{
    /* The peer's certificate is not signed by the CA we trust. */
    struct peer *p = NULL;
    struct peer_opts o = {.timeout_ms = 5000, .cert = t_env("SELFSIGNED_CERT"),
                          .key = t_env("SELFSIGNED_KEY")};
    T_EQ_INT(peer_start(&p, "!tls-abort\n", &o), 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_IMPLICIT);
    add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_EVERIFY);
    T_CONTAINS(ev_log, "12:");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_cleartext_auth_policy(void)
{
    /* refused without TLS */
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 AUTH PLAIN LOGIN\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_set_auth(h, "alice", "secret", NULL);
    add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_EPOLICY);
    T_ASSERT(!strstr(mon_log, "W[AUTH"));
    posta_smtp_free(h);
    peer_ok(p);
    /* allowed explicitly */
    p = start_peer(GREET "S: 250-peer\nS: 250 AUTH PLAIN\nC: AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"
        "S: 535 5.7.8 bad credentials\n" QUIT, 0);
    h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_set_auth(h, "alice", "secret", NULL);
    posta_smtp_set_allow_cleartext_auth(h, 1);
    add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_EAUTH);
    T_CONTAINS(ev_log, "15:PLAIN:535;");
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_auth_not_offered(void)
{
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 PIPELINING\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_set_auth(h, "alice", "secret", NULL);
    add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), POSTA_EUNSUPPORTED);
    posta_smtp_free(h);
    peer_ok(p);
    p = start_peer(GREET "S: 250-peer\nS: 250 PIPELINING\n"
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1
        "C: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_set_auth(h, "alice", "secret", NULL);
    posta_smtp_set_auth_required(h, 0);
    add(h, "a@x", BODY1, "b@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    posta_smtp_free(h);
    peer_ok(p);
}

/* --- LMTP, LIMITS, ETRN ---------------------------------------------------------------------- */

static void test_lmtp(void)
{
    struct peer *p = start_peer("S: 220 lmtp ready\nC: LHLO client.example\nS: 250-lmtp\n"
        "S: 250 PIPELINING\nC: MAIL FROM:<a@x>\nC: RCPT TO:<bob>\nC: RCPT TO:<nobody>\n"
        "C: RCPT TO:<carol>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 550 5.1.1 no such user\n"
        "S: 250 ok\nS: 354 go\n" DATA1 "C: QUIT\n"
        "S: 250 2.0.0 <bob> saved\nS: 452 4.2.2 <carol> over quota\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    T_EQ_INT(posta_smtp_set_lmtp(h, 1), 0);
    posta_smtp_message *m = add(h, "a@x", BODY1, "bob", "nobody", "carol", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(rcode(m, 0), 250);
    T_EQ_INT(rcode(m, 1), 550);
    T_EQ_INT(rcode(m, 2), 452);
    T_EQ_STR(posta_smtp_recipient_status(rcpt(m, 2))->text, "<carol> over quota");
    T_EQ_INT(mcode(m), 250);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_rcptmax(void)
{
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 LIMITS RCPTMAX=2 MAILMAX=10\n"
        "C: MAIL FROM:<a@x>\nS: 250 ok\nC: RCPT TO:<r1@x>\nS: 250 ok\nC: RCPT TO:<r2@x>\nS: 250 ok\n"
        "C: DATA\nS: 354 go\n" DATA1 "S: 250 ok\n"
        "C: MAIL FROM:<a@x>\nS: 250 ok\nC: RCPT TO:<r3@x>\nS: 250 ok\nC: RCPT TO:<r4@x>\nS: 250 ok\n"
        "C: DATA\nS: 354 go\n" DATA1 "S: 250 ok\n"
        "C: MAIL FROM:<a@x>\nS: 250 ok\nC: RCPT TO:<r5@x>\nS: 250 ok\n"
        "C: DATA\nS: 354 go\n" DATA1 "S: 250 ok\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "r1@x", "r2@x", "r3@x", "r4@x", "r5@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m), 250);
    for (int i = 0; i < 5; i++)
        T_EQ_INT(rcode(m, i), 250);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_mailmax_reconnects(void)
{
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 LIMITS MAILMAX=1\n"
        "C: MAIL FROM:<a@x>\nS: 250 ok\nC: RCPT TO:<b@x>\nS: 250 ok\nC: DATA\nS: 354 go\n" DATA1
        "S: 250 ok\n" QUIT "!accept\n" GREET "S: 250-peer\nS: 250 LIMITS MAILMAX=1\n"
        "C: MAIL FROM:<a@x>\nS: 250 ok\nC: RCPT TO:<c@x>\nS: 250 ok\nC: DATA\nS: 354 go\n" DATA1
        "S: 250 ok\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m1 = add(h, "a@x", BODY1, "b@x", NULL);
    posta_smtp_message *m2 = add(h, "a@x", BODY1, "c@x", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(mcode(m1), 250);
    T_EQ_INT(mcode(m2), 250);
    T_CONTAINS(ev_log, "6:QUIT:0;1:");   /* disconnect, then a new connection */
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_etrn(void)
{
    struct peer *p = start_peer(GREET "S: 250-peer\nS: 250 ETRN\nC: ETRN @example.org\n"
        "S: 250 queuing started\nC: ETRN #queue1\nS: 458 cannot\n" QUIT, 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_etrn *n1, *n2;
    T_EQ_INT(posta_smtp_add_etrn(h, '@', "example.org", &n1), 0);
    T_EQ_INT(posta_smtp_add_etrn(h, '#', "queue1", &n2), 0);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(posta_smtp_etrn_status(n1)->code, 250);
    T_EQ_INT(posta_smtp_etrn_status(n2)->code, 458);
    T_CONTAINS(ev_log, "8:example.org:250;");
    posta_smtp_free(h);
    peer_ok(p);
}

/* --- driving ----------------------------------------------------------------------------------- */

struct done {
    int n;
    int code;
};

static void on_done(posta_smtp *h, int error, void *user)
{
    (void)h;
    struct done *d = user;
    d->n++;
    d->code = error;
}

static void test_own_event_loop(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1
        "C: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_message *m = add(h, "a@x", BODY1, "b@x", NULL);
    struct done d = {0, 0};
    T_EQ_INT(posta_smtp_run_start(h, on_done, &d), 0);
    T_EQ_INT(d.n, 0);
    for (int guard = 0; d.n == 0 && guard < 10000; guard++) {
        struct pollfd pfd = {.fd = posta_smtp_fd(h), .events = POLLIN};
        if (posta_smtp_wants_write(h))
            pfd.events |= POLLOUT;
        int n = poll(&pfd, 1, posta_smtp_next_timeout_ms(h));
        if (n == 0)
            posta_smtp_on_timeout(h);
        if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
            posta_smtp_on_readable(h);
        if (n > 0 && (pfd.revents & POLLOUT) && d.n == 0)
            posta_smtp_on_writable(h);
    }
    T_EQ_INT(d.n, 1);
    T_EQ_INT(d.code, 0);
    T_EQ_INT(mcode(m), 250);
    T_EQ_INT(posta_smtp_fd(h), -1);
    posta_smtp_free(h);
    peer_ok(p);
}

static void test_free_inside_callback(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n" DATA1
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<c@x>\nC: DATA\nS: 250 ok\n!expect-close\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    add(h, "a@x", BODY1, "b@x", NULL);
    add(h, "a@x", BODY1, "c@x", NULL);
    struct done d = {0, 0};
    T_EQ_INT(posta_smtp_run_start(h, on_done, &d), 0);
    free_on_sent = 1;
    while (d.n == 0)
        posta_smtp_process(h, 1000);
    T_EQ_INT(d.n, 1);
    T_EQ_INT(d.code, POSTA_ECANCELED);
    peer_ok(p);
}

static void test_free_while_running(void)
{
    struct peer *p = start_peer(GREET "!expect-close\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    add(h, "a@x", BODY1, "b@x", NULL);
    struct done d = {0, 0};
    T_EQ_INT(posta_smtp_run_start(h, on_done, &d), 0);
    while (!strstr(mon_log, "EHLO"))
        posta_smtp_process(h, 1000);
    posta_smtp_free(h);
    T_EQ_INT(d.n, 1);
    T_EQ_INT(d.code, POSTA_ECANCELED);
    peer_ok(p);
}

static void test_header_monitor(void)
{
    struct peer *p = start_peer(GREET EHLO_PIPE
        "C: MAIL FROM:<a@x>\nC: RCPT TO:<b@x>\nC: DATA\nS: 250 ok\nS: 250 ok\nS: 354 go\n"
        "C: Subject: one\nC: X-Two: a\nC:  b\nC: Date: now\nC: Message-Id: <i@x>\nC: From: a@x\n"
        "C: \nC: body\nC: .\nC: QUIT\nS: 250 ok\nS: 221 bye\n", 0);
    posta_smtp *h = session(p, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_set_monitor_headers(h, 1);
    posta_smtp_message *m = add(h, "a@x", "Subject: one\nX-Two: a\n b\nDate: now\n"
                                "Message-Id: <i@x>\nFrom: a@x\nBcc: hidden@x\n\nbody\n", "b@x", NULL);
    posta_smtp_message_set_header_processing(m, 1);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_CONTAINS(mon_log, "H[Subject: one\r\n]H[X-Two: a\r\n b\r\n]H[Date: now\r\n]");
    T_CONTAINS(mon_log, "H[From: a@x\r\n]");
    T_ASSERT(!strstr(mon_log, "hidden"));
    posta_smtp_free(h);
    peer_ok(p);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"pipelined_groups", test_pipelined_groups},
        {"no_pipelining_lockstep", test_no_pipelining_lockstep},
        {"no_cross_pipelining", test_no_cross_pipelining},
        {"mail_and_rcpt_params", test_mail_and_rcpt_params},
        {"deliverby_expired_and_holduntil", test_deliverby_expired_and_holduntil},
        {"advisory_extensions_missing", test_advisory_extensions_missing},
        {"extna_quit", test_extna_quit},
        {"needed_extensions_missing", test_needed_extensions_missing},
        {"size_limit", test_size_limit},
        {"bdat_chunks", test_bdat_chunks},
        {"bdat_refused_midway", test_bdat_refused_midway},
        {"binarymime", test_binarymime},
        {"smuggling_on_the_wire", test_smuggling_on_the_wire},
        {"long_line_refused_reconnects", test_long_line_refused_reconnects},
        {"long_line_folded", test_long_line_folded},
        {"greeting_refused", test_greeting_refused},
        {"greeting_421", test_greeting_421},
        {"helo_fallback", test_helo_fallback},
        {"ehlo_and_helo_refused", test_ehlo_and_helo_refused},
        {"mail_refused", test_mail_refused},
        {"some_recipients_refused", test_some_recipients_refused},
        {"all_recipients_refused", test_all_recipients_refused},
        {"recipients_temporarily_refused", test_recipients_temporarily_refused},
        {"data_refused", test_data_refused},
        {"dot_refused", test_dot_refused},
        {"require_all_recipients", test_require_all_recipients},
        {"second_run_sends_what_is_left", test_second_run_sends_what_is_left},
        {"hangups", test_hangups},
        {"421_mid_session", test_421_mid_session},
        {"replies_out_of_step", test_replies_out_of_step},
        {"timeout", test_timeout},
        {"starttls_and_auth", test_starttls_and_auth},
        {"starttls_injection", test_starttls_injection},
        {"starttls_required_but_missing", test_starttls_required_but_missing},
        {"starttls_enabled_falls_back", test_starttls_enabled_falls_back},
        {"implicit_tls", test_implicit_tls},
        {"tls_verify_failure", test_tls_verify_failure},
        {"cleartext_auth_policy", test_cleartext_auth_policy},
        {"auth_not_offered", test_auth_not_offered},
        {"lmtp", test_lmtp},
        {"rcptmax", test_rcptmax},
        {"mailmax_reconnects", test_mailmax_reconnects},
        {"etrn", test_etrn},
        {"own_event_loop", test_own_event_loop},
        {"free_inside_callback", test_free_inside_callback},
        {"free_while_running", test_free_while_running},
        {"header_monitor", test_header_monitor},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
