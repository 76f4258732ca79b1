/* The libESMTP API of posta-esmtp against real servers: smtp-sink for
 * headers (Hdr_OVERRIDE, Hdr_PROHIBIT, Bcc), DSN and 8BITMIME parameters,
 * events and the monitor; Dovecot submission for STARTTLS with the test CA
 * (found as libESMTP finds it, in ~/.authenticate), AUTH through
 * auth-client, and the certificate events; a TLS server of our own for SNI
 * and the refusal of TLS below 1.2. */
#include <auth-client.h>
#include <libesmtp.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "etest.h"
#include "t.h"

static char *server(const char *port_key)
{
    static char buf[64];
    snprintf(buf, sizeof(buf), "%s:%s", t_env("HOST"), t_env(port_key));
    return buf;
}

static smtp_message_t message_to(smtp_session_t s, const char *body, const char *rcpt)
{
    smtp_message_t m = smtp_add_message(s);
    smtp_set_reverse_path(m, "sender@example.org");
    smtp_set_message_str(m, body);
    if (rcpt)
        smtp_add_recipient(m, rcpt);
    return m;
}

/* --- smtp-sink --------------------------------------------------------------------- */

static void test_headers(void)
{
    char body[512];
    const char *token = etest_token();
    snprintf(body, sizeof(body),
             "Return-Path: <bounce@example.org>\r\nSubject: from the message\r\n"
             "Bcc: hidden@example.org\r\nX-Token: %s\r\n\r\nbody line\r\n", token);
    smtp_session_t s = smtp_create_session();
    smtp_set_server(s, server("SINK_PORT"));
    smtp_message_t m = message_to(s, body, "rcpt@example.org");
    time_t when = 1000000000;   /* 2001-09-09 */
    T_EQ_INT(smtp_set_header(m, "Subject", "from the API"), 1);
    T_EQ_INT(smtp_set_header_option(m, "Subject", Hdr_OVERRIDE, 1), 1);
    T_EQ_INT(smtp_set_header_option(m, "Message-Id", Hdr_PROHIBIT, 1), 1);
    T_EQ_INT(smtp_set_header_option(m, "Message-Id", Hdr_OVERRIDE, 1), 0);
    T_EQ_INT(smtp_set_header(m, "Date", &when), 1);
    T_EQ_INT(smtp_set_header(m, "To", "Rcpt One", "rcpt@example.org"), 1);
    T_EQ_INT(smtp_set_header(m, "To", NULL, "two@example.org"), 1);
    T_EQ_INT(smtp_set_header(m, "Bcc", NULL, "secret@example.org"), 1);
    T_EQ_INT(smtp_set_header(m, "X-Api", "set through the API"), 1);
    T_EQ_INT(smtp_set_header(m, "Disposition-Notification-To", NULL, NULL), 1);
    T_EQ_INT(smtp_start_session(s), 1);
    T_EQ_INT(smtp_message_transfer_status(m)->code, 250);
    char *got = etest_sink_find(token);
    T_ASSERT(got != NULL);
    if (got) {
        T_CONTAINS(got, "\nSubject: from the API\n");
        T_ASSERT(!strstr(got, "from the message"));
        T_ASSERT(!strstr(got, "Message-Id:") && !strstr(got, "Message-ID:"));
        T_ASSERT(!strstr(got, "Return-Path:"));
        T_ASSERT(!strstr(got, "Bcc") && !strstr(got, "hidden@") && !strstr(got, "secret@"));
        T_CONTAINS(got, "2001");
        T_CONTAINS(got, "To: Rcpt One <rcpt@example.org>, two@example.org\n");
        T_CONTAINS(got, "\nX-Api: set through the API\n");
        T_CONTAINS(got, "\nDisposition-Notification-To: sender@example.org\n");
        T_CONTAINS(got, "\nFrom: sender@example.org\n");
        T_CONTAINS(got, "\n\nbody line\n");
    }
    free(got);
    smtp_destroy_session(s);
}

static void test_dsn_and_body(void)
{
    char body[256];
    const char *token = etest_token();
    snprintf(body, sizeof(body), "Subject: %s\r\n\r\ncaf\xc3\xa9\r\n", token);
    smtp_session_t s = smtp_create_session();
    smtp_set_server(s, server("SINK_PORT"));
    smtp_message_t m = message_to(s, body, NULL);
    smtp_recipient_t r = smtp_add_recipient(m, "rcpt@example.org");
    T_EQ_INT(smtp_dsn_set_ret(m, Ret_HDRS), 1);
    T_EQ_INT(smtp_dsn_set_envid(m, "env+id=1"), 1);
    T_EQ_INT(smtp_dsn_set_notify(r, Notify_SUCCESS | Notify_DELAY), 1);
    T_EQ_INT(smtp_dsn_set_orcpt(r, "rfc822", "orig@example.org"), 1);
    T_EQ_INT(smtp_8bitmime_set_body(m, E8bitmime_8BITMIME), 1);
    T_EQ_INT(smtp_size_set_estimate(m, 4096), 1);
    smtp_recipient_t never = smtp_add_recipient(m, "never@example.org");
    T_EQ_INT(smtp_dsn_set_notify(never, Notify_NEVER), 1);
    T_EQ_INT(smtp_start_session(s), 1);
    char *got = etest_sink_find(token);
    T_ASSERT(got != NULL);
    if (got) {
        T_CONTAINS(got, "X-Mail-Args: <sender@example.org>");
        T_CONTAINS(got, "RET=HDRS");
        T_CONTAINS(got, "ENVID=env+2Bid+3D1");
        T_CONTAINS(got, "BODY=8BITMIME");
        T_CONTAINS(got, "X-Rcpt-Args: <rcpt@example.org> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;orig@example.org");
        T_CONTAINS(got, "X-Rcpt-Args: <never@example.org> NOTIFY=NEVER");
        T_CONTAINS(got, "caf\xc3\xa9");
    }
    free(got);
    smtp_destroy_session(s);
}

/* The events and monitor output of one ordinary session, in order. */
static void test_events_and_monitor(void)
{
    char body[256];
    const char *token = etest_token();
    snprintf(body, sizeof(body), "Subject: %s\r\n\r\nhello\r\n", token);
    struct etest_events ev = {.quit_extna = -1};
    struct etest_monitor mon = {.wlen = 0};
    smtp_session_t s = smtp_create_session();
    smtp_set_server(s, server("SINK_PORT"));
    smtp_set_eventcb(s, etest_event_cb, &ev);
    smtp_set_monitorcb(s, etest_monitor_cb, &mon, 1);
    smtp_message_t m = message_to(s, body, "one@example.org");
    smtp_add_recipient(m, "two@example.org");
    T_EQ_INT(smtp_start_session(s), 1);
    T_EQ_STR(ev.log, "CONNECT\nMAILSTATUS sender@example.org\nRCPTSTATUS one@example.org\n"
                     "RCPTSTATUS two@example.org\nMESSAGEDATA\nMESSAGESENT\nDISCONNECT\n");
    T_ASSERT(ev.last_message == m);
    T_ASSERT(ev.data_octets > (long long)strlen(body));
    T_CONTAINS(mon.reads, "220 ");
    T_CONTAINS(mon.reads, "250 2.1.5 Ok");
    T_CONTAINS(mon.writes, "EHLO ");
    T_CONTAINS(mon.writes, "MAIL FROM:<sender@example.org>");
    T_CONTAINS(mon.writes, "QUIT");
    T_ASSERT(!strstr(mon.writes, "hello"));   /* the body is not shown */
    T_ASSERT(mon.pipelined);
    T_CONTAINS(mon.headers, "Subject: ");
    T_CONTAINS(mon.headers, "Date: ");
    T_ASSERT(!strstr(mon.headers, "hello"));
    smtp_destroy_session(s);
}

/* STARTTLS required by the application, not offered by the sink. */
static void test_starttls_not_offered(void)
{
    struct etest_events ev = {.quit_extna = -1};
    smtp_session_t s = smtp_create_session();
    smtp_set_server(s, server("SINK_PORT"));
    smtp_set_eventcb(s, etest_event_cb, &ev);
    message_to(s, "Subject: x\r\n\r\nx\r\n", "rcpt@example.org");
    T_EQ_INT(smtp_starttls_enable(s, Starttls_REQUIRED), 1);
    T_EQ_INT(smtp_start_session(s), 0);
    T_EQ_INT(smtp_errno(), SMTP_ERR_EXTENSION_NOT_AVAILABLE);
    T_CONTAINS(ev.log, "EXTNA_STARTTLS\n");
    smtp_destroy_session(s);
}

/* --- Dovecot submission: STARTTLS and AUTH ------------------------------------------ */

/* A home whose ~/.authenticate/ca.pem is the test CA, as libESMTP reads it. */
static void use_home_with_ca(int with_ca)
{
    char dir[2048], path[4096];
    snprintf(dir, sizeof(dir), "%s/home%d", t_tmpdir(), with_ca);
    mkdir(dir, 0700);
    setenv("HOME", dir, 1);
    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");
    if (!with_ca)
        return;
    snprintf(path, sizeof(path), "%s/.authenticate", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/.authenticate/ca.pem", dir);
    size_t n;
    char *ca = t_read_file(t_env("CA_FILE"), &n);
    FILE *f = fopen(path, "w");
    if (f && ca)
        fwrite(ca, 1, n, f);
    if (f)
        fclose(f);
    chmod(path, 0600);
    free(ca);
}

struct creds {
    const char *user, *pass;
    int calls, fields;
    unsigned flags0, flags1;
    const char *name0, *name1;
};

static int interact(auth_client_request_t req, char **result, int fields, void *arg)
{
    struct creds *c = arg;
    c->calls++;
    c->fields = fields;
    c->flags0 = req[0].flags;
    c->name0 = req[0].name;
    if (fields > 1) {
        c->flags1 = req[1].flags;
        c->name1 = req[1].name;
    }
    for (int i = 0; i < fields; i++)
        result[i] = (char *)((req[i].flags & AUTH_PASS) ? c->pass : c->user);
    return 1;
}

/* One message to Dovecot submission with STARTTLS required and AUTH; 1 when
 * smtp_start_session() said so.  *token_r names the message. */
static int submit(struct creds *c, struct etest_events *ev, auth_context_t *ctx_r,
                  const char **token_r)
{
    static char body[256];
    *token_r = etest_token();
    snprintf(body, sizeof(body), "Subject: %s\r\n\r\nvia submission\r\n", *token_r);
    auth_context_t ctx = auth_create_context();
    auth_set_mechanism_flags(ctx, AUTH_PLUGIN_PLAIN, 0);
    auth_set_interact_cb(ctx, interact, c);
    smtp_session_t s = smtp_create_session();
    smtp_set_server(s, server("SUBMISSION_PORT"));
    smtp_set_eventcb(s, etest_event_cb, ev);
    smtp_starttls_enable(s, Starttls_REQUIRED);
    smtp_auth_set_context(s, ctx);
    smtp_message_t m = message_to(s, body, "rcpt@example.org");
    int ok = smtp_start_session(s);
    if (ok)
        T_EQ_INT(smtp_message_transfer_status(m)->code, 250);
    smtp_destroy_session(s);
    *ctx_r = ctx;
    return ok;
}

static void test_starttls_auth(void)
{
    use_home_with_ca(1);
    struct creds c = {.user = t_env("USER1"), .pass = t_env("PASS1")};
    struct etest_events ev = {.quit_extna = -1};
    auth_context_t ctx;
    const char *token;
    T_EQ_INT(submit(&c, &ev, &ctx, &token), 1);
    T_CONTAINS(ev.log, "STARTTLS_OK\n");
    T_ASSERT(ev.bits >= 128 && ev.cipher[0]);
    T_EQ_INT(c.calls, 1);
    T_EQ_INT(c.fields, 2);
    T_EQ_STR(c.name0, "user");
    T_EQ_STR(c.name1, "passphrase");
    T_ASSERT((c.flags0 & AUTH_USER) && (c.flags1 & AUTH_PASS));
    T_ASSERT(auth_mechanism_name(ctx) != NULL);
    if (auth_mechanism_name(ctx))
        T_CONTAINS(auth_mechanism_name(ctx), "SCRAM-SHA-");
    char *got = etest_sink_find(token);
    T_ASSERT(got != NULL);
    free(got);
    auth_destroy_context(ctx);
}

static void test_auth_wrong_password(void)
{
    use_home_with_ca(1);
    struct creds c = {.user = t_env("USER1"), .pass = "wrong"};
    struct etest_events ev = {.quit_extna = -1};
    auth_context_t ctx;
    const char *token;
    T_EQ_INT(submit(&c, &ev, &ctx, &token), 0);
    T_EQ_INT(smtp_errno(), SMTP_ERR_CLIENT_ERROR);
    auth_destroy_context(ctx);
}

/* Without the test CA the certificate is refused and the application asked,
 * as libESMTP does; a yes carries on (the application's decision). */
static void test_certificate_events(void)
{
    use_home_with_ca(0);
    struct creds c = {.user = t_env("USER1"), .pass = t_env("PASS1")};
    struct etest_events ev = {.quit_extna = -1, .ok_certificate = 0};
    auth_context_t ctx;
    const char *token;
    T_EQ_INT(submit(&c, &ev, &ctx, &token), 0);
    T_CONTAINS(ev.log, "INVALID_PEER_CERTIFICATE 20\n");   /* unable to get local issuer */
    T_EQ_INT(c.calls, 0);
    auth_destroy_context(ctx);

    struct etest_events yes = {.quit_extna = -1, .ok_certificate = 1};
    T_EQ_INT(submit(&c, &yes, &ctx, &token), 1);
    T_CONTAINS(yes.log, "INVALID_PEER_CERTIFICATE 20\n");
    T_CONTAINS(yes.log, "STARTTLS_OK\n");
    auth_destroy_context(ctx);
    use_home_with_ca(1);
}

/* --- our own TLS server: SNI and protocol versions ------------------------------------ */

struct tls_server {
    int listen_fd, port;
    int max_version;      /* TLS1_1_VERSION to offer only old protocols */
    char sni[256];
    int version;          /* negotiated, 0 when the handshake failed */
    pthread_t thread;
};

static int sni_cb(SSL *ssl, int *alert, void *arg)
{
    struct tls_server *ts = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    (void)alert;
    snprintf(ts->sni, sizeof(ts->sni), "%s", name ? name : "");
    return SSL_TLSEXT_ERR_OK;
}

static void say(int fd, const char *s)
{
    if (write(fd, s, strlen(s)) < 0)
        return;
}

static void read_line(int fd)
{
    char c;
    while (read(fd, &c, 1) == 1 && c != '\n')
        ;
}

static SSL_CTX *server_ctx(struct tls_server *ts)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(ctx, t_env("SERVER_CERT"));
    SSL_CTX_use_PrivateKey_file(ctx, t_env("SERVER_KEY"), SSL_FILETYPE_PEM);
    SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
    SSL_CTX_set_tlsext_servername_arg(ctx, ts);
    if (ts->max_version) {
        SSL_CTX_set_security_level(ctx, 0);
        SSL_CTX_set_cipher_list(ctx, "DEFAULT@SECLEVEL=0");
        SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx, ts->max_version);
    }
    return ctx;
}

/* Greeting, EHLO with STARTTLS, the handshake, then 421 to whatever comes. */
static void *tls_serve(void *arg)
{
    struct tls_server *ts = arg;
    int fd = accept(ts->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    say(fd, "220 tls-test ESMTP\r\n");
    read_line(fd);
    say(fd, "250-tls-test\r\n250 STARTTLS\r\n");
    read_line(fd);
    say(fd, "220 go ahead\r\n");
    SSL_CTX *ctx = server_ctx(ts);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
        ts->version = SSL_version(ssl);
        char buf[512];
        SSL_read(ssl, buf, sizeof(buf));
        SSL_write(ssl, "421 4.3.0 test over\r\n", 21);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return NULL;
}

static void tls_server_start(struct tls_server *ts)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    ts->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    bind(ts->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
    listen(ts->listen_fd, 4);
    getsockname(ts->listen_fd, (struct sockaddr *)&sa, &len);
    ts->port = ntohs(sa.sin_port);
    pthread_create(&ts->thread, NULL, tls_serve, ts);
}

static void run_against(struct tls_server *ts)
{
    char target[64];
    tls_server_start(ts);
    snprintf(target, sizeof(target), "localhost:%d", ts->port);
    smtp_session_t s = smtp_create_session();
    smtp_set_server(s, target);
    smtp_starttls_enable(s, Starttls_REQUIRED);
    message_to(s, "Subject: x\r\n\r\nx\r\n", "rcpt@example.org");
    T_EQ_INT(smtp_start_session(s), 0);
    pthread_join(ts->thread, NULL);
    close(ts->listen_fd);
    smtp_destroy_session(s);
}

static void test_sni(void)
{
    use_home_with_ca(1);
    struct tls_server ts = {.max_version = 0};
    run_against(&ts);
    T_EQ_STR(ts.sni, "localhost");
    T_ASSERT(ts.version >= TLS1_2_VERSION);
}

static void test_no_old_tls(void)
{
    use_home_with_ca(1);
    struct tls_server ts = {.max_version = TLS1_1_VERSION};
    run_against(&ts);
    T_EQ_INT(ts.version, 0);
}

static const struct t_case cases[] = {
    {"headers", test_headers},
    {"dsn_and_body", test_dsn_and_body},
    {"events_and_monitor", test_events_and_monitor},
    {"starttls_not_offered", test_starttls_not_offered},
    {"starttls_auth", test_starttls_auth},
    {"auth_wrong_password", test_auth_wrong_password},
    {"certificate_events", test_certificate_events},
    {"sni", test_sni},
    {"no_old_tls", test_no_old_tls},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return t_main(argc, argv, cases);
}
