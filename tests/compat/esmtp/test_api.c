/* The libESMTP API of posta-esmtp without real servers: handles and their
 * enumeration, application data, timeouts, smtp_errno() per thread and
 * smtp_strerror(), input that must be refused (CR/LF injection), and
 * scripted peers for the exact bytes: events in order, statuses after a
 * run, a second run for the incomplete recipients only, ETRN, missing
 * extensions, no early end of data, Bcc never sent, pipelined MAIL. */
#define LIBESMTP_ENABLE_DEPRECATED_SYMBOLS 1
#include <auth-client.h>
#include <libesmtp.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etest.h"
#include "t.h"

/* --- versions and errors ----------------------------------------------------- */

static void test_version(void)
{
    char buf[32];
    T_EQ_INT(smtp_version(buf, sizeof(buf), Ver_VERSION), 1);
    T_EQ_STR(buf, "1.1.0");
    T_EQ_INT(smtp_version(buf, sizeof(buf), Ver_SO_VERSION), 1);
    T_EQ_STR(buf, "6.2.0");
    T_EQ_INT(smtp_version(buf, 3, Ver_VERSION), 0);
    T_EQ_INT(smtp_errno(), SMTP_ERR_INVAL);
    T_EQ_INT(smtp_version(buf, sizeof(buf), 7), 0);
}

static void test_strerror(void)
{
    char buf[128];
    T_CONTAINS(smtp_strerror(SMTP_ERR_INVAL, buf, sizeof(buf)), "invalid argument");
    T_CONTAINS(smtp_strerror(SMTP_ERR_NOTHING_TO_DO, buf, sizeof(buf)), "nothing to do");
    T_CONTAINS(smtp_strerror(-ECONNREFUSED, buf, sizeof(buf)), "refused");
    T_ASSERT(strlen(smtp_strerror(SMTP_ERR_EAI_NONAME, buf, sizeof(buf))) > 0);
    T_EQ_STR(smtp_strerror(999, buf, sizeof(buf)), "Error 999");
    /* Truncated to the buffer, always terminated. */
    T_EQ_INT(strlen(smtp_strerror(SMTP_ERR_INVAL, buf, 8)), 7);
    T_ASSERT(smtp_strerror(SMTP_ERR_INVAL, NULL, 0) == NULL);
}

static void *other_thread(void *arg)
{
    (void)arg;
    char buf[4];
    smtp_version(buf, sizeof(buf), Ver_VERSION);   /* SMTP_ERR_INVAL here */
    return (void *)(long)smtp_errno();
}

/* smtp_errno() belongs to the thread that made the failing call. */
static void test_errno_per_thread(void)
{
    smtp_session_t s = smtp_create_session();
    T_EQ_INT(smtp_start_session(s), 0);   /* no server set */
    T_EQ_INT(smtp_errno(), SMTP_ERR_INVAL);
    T_EQ_INT(smtp_set_server(s, "127.0.0.1:1"), 1);
    T_EQ_INT(smtp_start_session(s), 0);   /* no message */
    T_EQ_INT(smtp_errno(), SMTP_ERR_NOTHING_TO_DO);
    pthread_t t;
    void *res;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, &res);
    T_EQ_INT((long)res, SMTP_ERR_INVAL);
    T_EQ_INT(smtp_errno(), SMTP_ERR_NOTHING_TO_DO);
    smtp_destroy_session(s);
}

static void test_connect_errors(void)
{
    smtp_session_t s = smtp_create_session();
    smtp_message_t m = smtp_add_message(s);
    smtp_set_message_str(m, "Subject: x\r\n\r\nx\r\n");
    smtp_set_reverse_path(m, "a@example.org");
    smtp_add_recipient(m, "b@example.org");
    smtp_set_server(s, "127.0.0.1:1");
    T_EQ_INT(smtp_start_session(s), 0);
    T_EQ_INT(smtp_errno(), -ECONNREFUSED);
    smtp_set_server(s, "no-such-host.invalid:25");
    T_EQ_INT(smtp_start_session(s), 0);
    T_EQ_INT(smtp_errno(), SMTP_ERR_EAI_NONAME);
    /* A message without a callback cannot be started. */
    smtp_add_message(s);
    T_EQ_INT(smtp_start_session(s), 0);
    T_EQ_INT(smtp_errno(), SMTP_ERR_INVAL);
    smtp_destroy_session(s);
}

/* --- handles, enumeration, application data ------------------------------------- */

static int released;
static void release(void *p)
{
    released += *(int *)p;
}

static void count_message(smtp_message_t m, void *arg)
{
    (void)m;
    ++*(int *)arg;
}

static void list_recipient(smtp_recipient_t r, const char *mailbox, void *arg)
{
    (void)r;
    strcat(arg, mailbox);
    strcat(arg, ";");
}

static void list_node(smtp_etrn_node_t n, int option, const char *domain, void *arg)
{
    (void)n;
    char one[64];
    snprintf(one, sizeof(one), "%c%s;", option ? option : '_', domain);
    strcat(arg, one);
}

static void test_enumerate(void)
{
    smtp_session_t s = smtp_create_session();
    smtp_message_t m1 = smtp_add_message(s), m2 = smtp_add_message(s);
    T_ASSERT(m1 && m2 && m1 != m2);
    int n = 0;
    T_EQ_INT(smtp_enumerate_messages(s, count_message, &n), 1);
    T_EQ_INT(n, 2);
    T_ASSERT(smtp_add_recipient(m1, "a@example.org") != NULL);
    T_ASSERT(smtp_add_recipient(m1, "b@example.org") != NULL);
    char list[256] = "";
    T_EQ_INT(smtp_enumerate_recipients(m1, list_recipient, list), 1);
    T_EQ_STR(list, "a@example.org;b@example.org;");
    T_ASSERT(smtp_etrn_add_node(s, '@', "example.org") != NULL);
    T_ASSERT(smtp_etrn_add_node(s, 0, "example.net") != NULL);
    T_ASSERT(smtp_etrn_add_node(s, '#', "queue") == NULL);   /* libESMTP takes 0 or '@' */
    list[0] = '\0';
    T_EQ_INT(smtp_etrn_enumerate_nodes(s, list_node, list), 1);
    T_EQ_STR(list, "@example.org;_example.net;");
    T_EQ_INT(smtp_enumerate_messages(s, NULL, NULL), 0);
    T_EQ_INT(smtp_errno(), SMTP_ERR_INVAL);
    smtp_destroy_session(s);
}

static void test_application_data(void)
{
    static int one = 1, ten = 10, hundred = 100, thousand = 1000;
    released = 0;
    smtp_session_t s = smtp_create_session();
    smtp_message_t m = smtp_add_message(s);
    smtp_recipient_t r = smtp_add_recipient(m, "a@example.org");
    smtp_etrn_node_t n = smtp_etrn_add_node(s, 0, "example.org");
    T_ASSERT(smtp_set_application_data(s, &one) == NULL);
    T_ASSERT(smtp_set_application_data(s, &ten) == &one);
    T_ASSERT(smtp_get_application_data(s) == &ten);
    smtp_set_application_data_release(s, &one, release);
    smtp_set_application_data_release(s, &ten, release);   /* releases one */
    T_EQ_INT(released, 1);
    smtp_message_set_application_data_release(m, &hundred, release);
    T_ASSERT(smtp_message_get_application_data(m) == &hundred);
    T_ASSERT(smtp_recipient_set_application_data(r, &one) == NULL);
    smtp_recipient_set_application_data_release(r, &thousand, release);
    T_ASSERT(smtp_recipient_get_application_data(r) == &thousand);
    T_ASSERT(smtp_etrn_set_application_data(n, &one) == NULL);
    smtp_etrn_set_application_data_release(n, &one, release);
    T_ASSERT(smtp_etrn_get_application_data(n) == &one);
    T_EQ_INT(smtp_destroy_session(s), 1);
    T_EQ_INT(released, 1 + 10 + 100 + 1000 + 1);
}

static void test_server_and_timeouts(void)
{
    smtp_session_t s = smtp_create_session();
    T_EQ_INT(smtp_set_server(s, "mail.example.org:submission"), 1);
    T_EQ_STR(smtp_get_server_name(s), "mail.example.org");
    T_EQ_INT(smtp_set_server(s, "[2001:db8::1]:25"), 1);
    T_EQ_STR(smtp_get_server_name(s), "2001:db8::1");
    T_EQ_INT(smtp_set_hostname(s, "client.example.org"), 1);
    T_EQ_INT(smtp_set_hostname(s, "bad name"), 0);
    T_EQ_INT(smtp_set_hostname(s, NULL), 1);
    /* RFC 5321 4.5.3.2 minima unless overridden (then one second). */
    T_EQ_INT(smtp_set_timeout(s, Timeout_GREETING, 1000), 300000);
    T_EQ_INT(smtp_set_timeout(s, Timeout_ENVELOPE, 10), 300000);
    T_EQ_INT(smtp_set_timeout(s, Timeout_DATA, 1), 120000);
    T_EQ_INT(smtp_set_timeout(s, Timeout_TRANSFER, 400000), 400000);
    T_EQ_INT(smtp_set_timeout(s, Timeout_DATA2, 5), 600000);
    T_EQ_INT(smtp_set_timeout(s, Timeout_DATA2 | Timeout_OVERRIDE_RFC2822_MINIMUM, 5), 1000);
    T_EQ_INT(smtp_set_timeout(s, Timeout_DATA | Timeout_OVERRIDE_RFC2822_MINIMUM, 2500), 2500);
    T_EQ_INT(smtp_set_timeout(s, 9, 5000), 0);
    T_EQ_INT(smtp_errno(), SMTP_ERR_INVAL);
    T_EQ_INT(smtp_set_timeout(s, Timeout_DATA, 0), 0);
    T_EQ_INT(smtp_option_require_all_recipients(s, 1), 1);
    T_EQ_INT(smtp_starttls_enable(s, Starttls_REQUIRED), 1);
    T_EQ_INT(smtp_starttls_enable(s, (enum starttls_option)7), 0);
    smtp_destroy_session(s);
}

/* --- what must be refused -------------------------------------------------------- */

/* libESMTP wrote recipients, senders and header values into the protocol as
 * given, so CR LF could add commands or headers; posta refuses them. */
static void test_injection_refused(void)
{
    smtp_session_t s = smtp_create_session();
    smtp_message_t m = smtp_add_message(s);
    T_ASSERT(smtp_add_recipient(m, "a@example.org>\r\nRCPT TO:<evil@example.org") == NULL);
    T_EQ_INT(smtp_errno(), SMTP_ERR_INVAL);
    T_ASSERT(smtp_add_recipient(m, "a@example.org\nDATA") == NULL);
    T_ASSERT(smtp_add_recipient(m, "<a@example.org>") == NULL);
    T_EQ_INT(smtp_set_reverse_path(m, "a@example.org>\r\nRSET"), 0);
    T_EQ_INT(smtp_errno(), SMTP_ERR_INVAL);
    T_EQ_INT(smtp_set_header(m, "Subject", "hi\r\nBcc: evil@example.org"), 0);
    T_EQ_INT(smtp_set_header(m, "X-Note", "a\nb"), 0);
    T_EQ_INT(smtp_set_header(m, "To", "Name\r\nBcc: x", "a@example.org"), 0);
    T_EQ_INT(smtp_set_header(m, "Cc", NULL, "a@example.org\r\nX: y"), 0);
    T_EQ_INT(smtp_set_header(m, "Bad Name", "x"), 0);
    T_EQ_INT(smtp_dsn_set_envid(m, "id\r\nRSET"), 0);
    T_ASSERT(smtp_etrn_add_node(s, 0, "example.org\r\nQUIT") == NULL);
    smtp_recipient_t r = smtp_add_recipient(m, "ok@example.org");
    T_EQ_INT(smtp_dsn_set_orcpt(r, "rfc822", "x@example.org\r\nRSET"), 0);
    T_EQ_INT(smtp_set_hostname(s, "client\r\nMAIL FROM:<x>"), 0);
    /* MIME and delivery headers are the message's own. */
    T_EQ_INT(smtp_set_header(m, "Content-Type", "text/plain"), 0);
    T_EQ_INT(smtp_set_header(m, "Return-Path", "x@example.org"), 0);
    T_EQ_INT(smtp_set_header_option(m, "MIME-Version", Hdr_OVERRIDE, 1), 0);
    /* Required headers cannot be prohibited. */
    T_EQ_INT(smtp_set_header_option(m, "Date", Hdr_PROHIBIT, 1), 0);
    T_EQ_INT(smtp_set_header_option(m, "From", Hdr_PROHIBIT, 1), 0);
    T_EQ_INT(smtp_set_header_option(m, "Message-Id", Hdr_PROHIBIT, 1), 1);
    /* A single-valued header takes one value. */
    T_EQ_INT(smtp_set_header(m, "Subject", "one"), 1);
    T_EQ_INT(smtp_set_header(m, "Subject", "two"), 0);
    smtp_destroy_session(s);
}

/* --- scripted peers ------------------------------------------------------------ */

#define HELLO "S: 220 peer ESMTP\nC~ EHLO .*\n"
#define MSG_HEADERS "From: a@example.org\r\nTo: r1@example.org\r\n" \
    "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-Id: <1@example.org>\r\nSubject: s\r\n\r\n"
#define WIRE_HEADERS "C: From: a@example.org\nC: To: r1@example.org\n" \
    "C: Date: Thu, 01 Jan 2026 00:00:00 +0000\nC: Message-Id: <1@example.org>\nC: Subject: s\nC: \n"

static smtp_session_t session_for(const struct peer *p, struct etest_events *ev)
{
    smtp_session_t s = smtp_create_session();
    smtp_set_server(s, etest_target(p));
    smtp_set_hostname(s, "client.example.org");
    if (ev) {
        ev->quit_extna = -1;
        smtp_set_eventcb(s, etest_event_cb, ev);
    }
    return s;
}

static const char second_run_script[] =
    HELLO "S: 250-peer\nS: 250 PIPELINING\n"
    "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<r1@example.org>\nC: RCPT TO:<r2@example.org>\n"
    "C: RCPT TO:<r3@example.org>\nC: DATA\n"
    "S: 250 sender ok\nS: 250 r1 ok\nS: 550 r2 unknown\nS: 451 r3 try later\nS: 354 go on\n"
    WIRE_HEADERS "C: hi\nC: .\nS: 250 queued as 1\nC: QUIT\nS: 221 bye\n"
    "!accept\n"
    HELLO "S: 250-peer\nS: 250 PIPELINING\n"
    "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<r3@example.org>\nC: DATA\n"
    "S: 250 sender ok\nS: 250 r3 ok now\nS: 354 go on\n"
    WIRE_HEADERS "C: hi\nC: .\nS: 250 queued as 2\nC: QUIT\nS: 221 bye\n";

static void check_status(const smtp_status_t *st, int code, const char *text)
{
    T_ASSERT(st != NULL);
    if (!st)
        return;
    T_EQ_INT(st->code, code);
    if (text)
        T_EQ_STR(st->text, text);
    else
        T_ASSERT(st->text == NULL);
}

/* Statuses after a run; the next run sends only to the recipient that is
 * not complete; then nothing is left to do. */
static void test_statuses_and_second_run(void)
{
    struct peer *p = etest_peer(second_run_script);
    struct etest_events ev = {.len = 0};
    smtp_session_t s = session_for(p, &ev);
    smtp_message_t m = smtp_add_message(s);
    smtp_set_reverse_path(m, "a@example.org");
    smtp_set_message_str(m, MSG_HEADERS "hi\r\n");
    smtp_recipient_t r1 = smtp_add_recipient(m, "r1@example.org");
    smtp_recipient_t r2 = smtp_add_recipient(m, "r2@example.org");
    smtp_recipient_t r3 = smtp_add_recipient(m, "r3@example.org");
    check_status(smtp_message_transfer_status(m), 0, NULL);
    check_status(smtp_recipient_status(r1), 0, NULL);
    T_EQ_INT(smtp_start_session(s), 1);
    T_EQ_STR(ev.log, "CONNECT\nMAILSTATUS a@example.org\nRCPTSTATUS r1@example.org\n"
                     "RCPTSTATUS r2@example.org\nRCPTSTATUS r3@example.org\nMESSAGEDATA\n"
                     "MESSAGESENT\nDISCONNECT\n");
    T_ASSERT(ev.last_message == m);
    T_ASSERT(ev.data_octets > 0);
    check_status(smtp_reverse_path_status(m), 250, "sender ok\r\n");
    check_status(smtp_message_transfer_status(m), 250, "queued as 1\r\n");
    check_status(smtp_recipient_status(r1), 250, "r1 ok\r\n");
    check_status(smtp_recipient_status(r2), 550, "r2 unknown\r\n");
    check_status(smtp_recipient_status(r3), 451, "r3 try later\r\n");
    T_EQ_INT(smtp_recipient_check_complete(r1), 1);
    T_EQ_INT(smtp_recipient_check_complete(r2), 1);
    T_EQ_INT(smtp_recipient_check_complete(r3), 0);
    /* The pointer stays valid while the status does. */
    const smtp_status_t *st1 = smtp_recipient_status(r1);
    T_ASSERT(smtp_recipient_status(r1) == st1 && st1->text == smtp_recipient_status(r1)->text);

    ev.len = 0;
    ev.log[0] = '\0';
    T_EQ_INT(smtp_start_session(s), 1);
    T_ASSERT(ev.last_recipient == r3);
    check_status(smtp_recipient_status(r3), 250, "r3 ok now\r\n");
    check_status(smtp_message_transfer_status(m), 250, "queued as 2\r\n");
    T_EQ_INT(smtp_recipient_check_complete(r3), 1);
    etest_peer_ok(p);

    T_EQ_INT(smtp_start_session(s), 0);
    T_EQ_INT(smtp_errno(), SMTP_ERR_NOTHING_TO_DO);
    T_EQ_INT(smtp_recipient_reset_status(r2), 1);
    check_status(smtp_recipient_status(r2), 0, NULL);
    T_EQ_INT(smtp_recipient_check_complete(r2), 0);
    T_EQ_INT(smtp_message_reset_status(m), 1);
    check_status(smtp_message_transfer_status(m), 0, NULL);
    smtp_destroy_session(s);
}

/* The message body holds every end-of-data look-alike; none may end the
 * data early, and the Bcc header never reaches the wire.  MAIL, RCPT and
 * DATA go out together under PIPELINING. */
static const char smuggling_script[] =
    HELLO "S: 250-peer\nS: 250-PIPELINING\nS: 250 8BITMIME\n"
    "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<r1@example.org>\nC: DATA\n"
    "S: 250 ok\nS: 250 ok\nS: 354 go on\n"
    "C: From: a@example.org\nC: To: r1@example.org\n"
    "C: Date: Thu, 01 Jan 2026 00:00:00 +0000\nC: Message-Id: <1@example.org>\nC: Subject: s\n"
    "C: \nC: a\nC: ..\nC: b\nC: ..\nC: c\nC: ..\nC: d\nC: ..end\nC: .\n"
    "S: 250 queued\nC: QUIT\nS: 221 bye\n";

static void test_no_early_end_of_data(void)
{
    struct peer *p = etest_peer(smuggling_script);
    struct etest_monitor mon = {.wlen = 0};
    smtp_session_t s = session_for(p, NULL);
    smtp_set_monitorcb(s, etest_monitor_cb, &mon, 0);
    smtp_message_t m = smtp_add_message(s);
    smtp_set_reverse_path(m, "a@example.org");
    smtp_set_message_str(m, "From: a@example.org\r\nTo: r1@example.org\r\nBcc: secret@example.org\r\n"
                            "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-Id: <1@example.org>\r\n"
                            "Subject: s\r\n\r\na\n.\nb\r\n.\r\nc\r.\rd\n.end");
    smtp_add_recipient(m, "r1@example.org");
    T_EQ_INT(smtp_start_session(s), 1);
    check_status(smtp_message_transfer_status(m), 250, "queued\r\n");
    T_ASSERT(mon.pipelined);
    etest_peer_ok(p);
    smtp_destroy_session(s);
}

/* ETRN after the (absent) messages, its event and status. */
static void test_etrn(void)
{
    struct peer *p = etest_peer(HELLO "S: 250-peer\nS: 250 ETRN\n"
                                "C: ETRN @example.org\nS: 250 queuing started\n"
                                "C: QUIT\nS: 221 bye\n");
    struct etest_events ev = {.len = 0};
    smtp_session_t s = session_for(p, &ev);
    smtp_etrn_node_t n = smtp_etrn_add_node(s, '@', "example.org");
    T_EQ_INT(smtp_start_session(s), 1);
    T_CONTAINS(ev.log, "ETRNSTATUS @example.org\n");
    check_status(smtp_etrn_node_status(n), 250, "queuing started\r\n");
    etest_peer_ok(p);
    smtp_destroy_session(s);
}

/* libESMTP ends the session when ETRN is not offered unless the event
 * handler says otherwise. */
static void test_etrn_not_offered(void)
{
    struct peer *p = etest_peer(HELLO "S: 250-peer\nS: 250 PIPELINING\nC: QUIT\nS: 221 bye\n");
    struct etest_events ev = {.len = 0};
    smtp_session_t s = session_for(p, &ev);
    smtp_etrn_add_node(s, 0, "example.org");
    T_EQ_INT(smtp_start_session(s), 1);
    T_EQ_INT(smtp_errno(), SMTP_ERR_EXTENSION_NOT_AVAILABLE);
    T_CONTAINS(ev.log, "EVENT 2003 quit=1\n");
    etest_peer_ok(p);
    smtp_destroy_session(s);
}

/* An 8-bit body never goes over a 7-bit path: the event, then QUIT. */
static void test_8bitmime_not_offered(void)
{
    struct peer *p = etest_peer(HELLO "S: 250-peer\nS: 250 PIPELINING\nC: QUIT\nS: 221 bye\n");
    struct etest_events ev = {.len = 0};
    smtp_session_t s = session_for(p, &ev);
    smtp_message_t m = smtp_add_message(s);
    smtp_set_reverse_path(m, "a@example.org");
    smtp_set_message_str(m, MSG_HEADERS "caf\xc3\xa9\r\n");
    smtp_add_recipient(m, "r1@example.org");
    T_EQ_INT(smtp_8bitmime_set_body(m, E8bitmime_8BITMIME), 1);
    T_EQ_INT(smtp_start_session(s), 1);
    T_EQ_INT(smtp_errno(), SMTP_ERR_EXTENSION_NOT_AVAILABLE);
    T_CONTAINS(ev.log, "EVENT 2001\n");
    etest_peer_ok(p);
    smtp_destroy_session(s);
}

/* DSN asked for but not offered: the event (quit 0 by default), then the
 * message goes without the parameters; BODY=8BITMIME when offered. */
static void test_dsn_not_offered(void)
{
    struct peer *p = etest_peer(HELLO "S: 250-peer\nS: 250 8BITMIME\n"
                                "C: MAIL FROM:<a@example.org> BODY=8BITMIME\nS: 250 ok\n"
                                "C: RCPT TO:<r1@example.org>\nS: 250 ok\n"
                                "C: DATA\nS: 354 go\n" WIRE_HEADERS "C: hi\nC: .\nS: 250 ok\n"
                                "C: QUIT\nS: 221 bye\n");
    struct etest_events ev = {.len = 0};
    smtp_session_t s = session_for(p, &ev);
    smtp_message_t m = smtp_add_message(s);
    smtp_set_reverse_path(m, "a@example.org");
    smtp_set_message_str(m, MSG_HEADERS "hi\r\n");
    smtp_recipient_t r = smtp_add_recipient(m, "r1@example.org");
    T_EQ_INT(smtp_dsn_set_notify(r, Notify_SUCCESS | Notify_FAILURE), 1);
    T_EQ_INT(smtp_dsn_set_ret(m, Ret_HDRS), 1);
    T_EQ_INT(smtp_8bitmime_set_body(m, E8bitmime_8BITMIME), 1);
    T_EQ_INT(smtp_start_session(s), 1);
    T_CONTAINS(ev.log, "EVENT 2000 quit=0\n");
    check_status(smtp_message_transfer_status(m), 250, "ok\r\n");
    etest_peer_ok(p);
    smtp_destroy_session(s);
}

/* smtp_option_require_all_recipients(): one refusal and the message gets
 * no data. */
static void test_require_all_recipients(void)
{
    struct peer *p = etest_peer(HELLO "S: 250-peer\nS: 250 PIPELINING\n"
                                "C: MAIL FROM:<a@example.org>\nC: RCPT TO:<r1@example.org>\n"
                                "C: RCPT TO:<r2@example.org>\n"
                                "S: 250 ok\nS: 250 ok\nS: 550 no such user\n"
                                "C: RSET\nS: 250 reset\nC: QUIT\nS: 221 bye\n");
    smtp_session_t s = session_for(p, NULL);
    smtp_message_t m = smtp_add_message(s);
    smtp_set_reverse_path(m, "a@example.org");
    smtp_set_message_str(m, MSG_HEADERS "hi\r\n");
    smtp_add_recipient(m, "r1@example.org");
    smtp_recipient_t r2 = smtp_add_recipient(m, "r2@example.org");
    T_EQ_INT(smtp_option_require_all_recipients(s, 1), 1);
    T_EQ_INT(smtp_start_session(s), 1);
    T_EQ_INT(smtp_recipient_status(r2)->code, 550);
    T_ASSERT(smtp_message_transfer_status(m)->code >= 500);
    etest_peer_ok(p);
    smtp_destroy_session(s);
}

/* A timeout below the RFC minimum needs the override, and then works. */
static void test_greeting_timeout(void)
{
    struct peer *p = etest_peer("!sleep 2500\nS: 220 too late\n");
    smtp_session_t s = session_for(p, NULL);
    smtp_message_t m = smtp_add_message(s);
    smtp_set_reverse_path(m, "a@example.org");
    smtp_set_message_str(m, MSG_HEADERS "hi\r\n");
    smtp_add_recipient(m, "r1@example.org");
    T_EQ_INT(smtp_set_timeout(s, Timeout_GREETING | Timeout_OVERRIDE_RFC2822_MINIMUM, 1000), 1000);
    T_EQ_INT(smtp_start_session(s), 0);
    T_EQ_INT(smtp_errno(), -ETIMEDOUT);
    peer_finish(p, NULL);
    smtp_destroy_session(s);
}

/* --- auth-client on its own ------------------------------------------------------ */

static int interactions;
static int interact(auth_client_request_t req, char **result, int fields, void *arg)
{
    (void)arg;
    interactions++;
    for (int i = 0; i < fields; i++)
        result[i] = (req[i].flags & AUTH_PASS) ? "secret" : "alice";
    return 1;
}

static void test_auth_client(void)
{
    auth_client_init();
    auth_context_t a = auth_create_context();
    T_EQ_INT(auth_client_enabled(a), 0);
    T_EQ_INT(auth_set_interact_cb(a, interact, NULL), 1);
    T_EQ_INT(auth_client_enabled(a), 1);
    /* Plain-text mechanisms need AUTH_PLUGIN_PLAIN. */
    T_EQ_INT(auth_set_mechanism(a, "PLAIN"), 0);
    T_EQ_INT(auth_set_mechanism(a, "NO-SUCH-MECH"), 0);
    T_EQ_INT(auth_set_mechanism_flags(a, AUTH_PLUGIN_PLAIN, 0), 1);
    T_EQ_INT(auth_set_mechanism(a, "plain"), 1);
    T_EQ_STR(auth_mechanism_name(a), "PLAIN");
    T_EQ_INT(auth_get_ssf(a), 0);
    int len = 0;
    interactions = 0;
    const char *resp = auth_response(a, NULL, &len);
    T_EQ_INT(interactions, 1);
    T_EQ_MEM(resp, (size_t)len, "\0alice\0secret", 13);

    T_EQ_INT(auth_set_mechanism(a, "CRAM-MD5"), 1);
    resp = auth_response(a, NULL, &len);
    T_ASSERT(resp == NULL);   /* no initial response */
    const char *challenge = "<1896.697170952@postoffice.example.net>";
    len = (int)strlen(challenge);
    resp = auth_response(a, challenge, &len);
    T_ASSERT(resp != NULL && len == 6 + 32);
    if (resp)
        T_EQ_MEM(resp, 6, "alice ", 6);

    /* A minimum SSF no mechanism here reaches. */
    auth_set_mechanism_ssf(a, 56);
    T_EQ_INT(auth_set_mechanism(a, "CRAM-MD5"), 0);
    char *out = NULL;
    int outlen = 0;
    auth_encode(&out, &outlen, "abc", 3, a);
    T_ASSERT(out && outlen == 3);
    T_EQ_INT(auth_destroy_context(a), 1);
    auth_client_exit();
}

static const struct t_case cases[] = {
    {"version", test_version},
    {"strerror", test_strerror},
    {"errno_per_thread", test_errno_per_thread},
    {"connect_errors", test_connect_errors},
    {"enumerate", test_enumerate},
    {"application_data", test_application_data},
    {"server_and_timeouts", test_server_and_timeouts},
    {"injection_refused", test_injection_refused},
    {"statuses_and_second_run", test_statuses_and_second_run},
    {"no_early_end_of_data", test_no_early_end_of_data},
    {"etrn", test_etrn},
    {"etrn_not_offered", test_etrn_not_offered},
    {"8bitmime_not_offered", test_8bitmime_not_offered},
    {"dsn_not_offered", test_dsn_not_offered},
    {"require_all_recipients", test_require_all_recipients},
    {"greeting_timeout", test_greeting_timeout},
    {"auth_client", test_auth_client},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return t_main(argc, argv, cases);
}
