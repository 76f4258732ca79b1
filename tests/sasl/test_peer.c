/* posta_sasl through the test driver against scripted servers: the exact
 * bytes of each exchange for IMAP, SMTP and POP3, and the odd servers. */
#include <posta/sasl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "peer.h"
#include "t.h"

#define IMAP_HELLO                                                                        \
    "S: * OK ready\n"                                                                     \
    "C: A1 CAPABILITY\n"

#define SMTP_HELLO                                                                        \
    "S: 220 peer ESMTP\n"                                                                 \
    "C: EHLO posta.test\n"

#define POP3_HELLO                                                                        \
    "S: +OK ready <1896.697170952@dbc.mtview.ca.us>\n"                                    \
    "C: CAPA\n"                                                                           \
    "S: +OK\n"

struct run {
    struct peer *p;
    struct drv d;
    posta_sasl *s;
};

/* Start the peer, connect, read its capabilities, make a session that
 * believes the connection is encrypted (the bytes are what is checked). */
static void open_run(struct run *r, posta_sasl_proto proto, const char *script)
{
    char port[16];
    struct peer_opts o = {.timeout_ms = 5000};
    if (peer_start(&r->p, script, &o) != 0) {
        t_fail(__FILE__, __LINE__, "peer_start failed");
        exit(1);
    }
    snprintf(port, sizeof(port), "%d", peer_port(r->p));
    T_EQ_INT(drv_open(&r->d, proto, "127.0.0.1", port, DRV_PLAIN), 0);
    r->s = drv_sasl(&r->d, "peer.example");
    posta_sasl_set_tls(r->s, 1, 256, 0);
    T_EQ_INT(posta_sasl_set_credential(r->s, POSTA_SASL_AUTHCID, "alice", 5), 0);
    T_EQ_INT(posta_sasl_set_credential(r->s, POSTA_SASL_PASSWORD, "alicepw", 7), 0);
}

static void close_run(struct run *r)
{
    char *msg = NULL;
    posta_sasl_free(r->s);
    drv_close(&r->d);
    if (peer_finish(r->p, &msg) != 0) {
        t_fail(__FILE__, __LINE__, "peer: %s", msg ? msg : "failed");
        free(msg);
    }
}

static void expect_auth(struct run *r, const char *mechs, int want)
{
    if (mechs)
        T_EQ_INT(posta_sasl_set_mechanisms(r->s, mechs), 0);
    int rc = drv_auth(&r->d, r->s, NULL);
    if (rc != want)
        fprintf(stderr, "auth: %s\n", posta_sasl_errmsg(r->s));
    T_EQ_INT(rc, want);
}

/* --- IMAP --------------------------------------------------------------- */

static void test_imap_sasl_ir(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_IMAP, IMAP_HELLO
             "S: * CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\n"
             "S: A1 OK done\n"
             "C: A2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\n"
             "S: A2 OK logged in\n");
    expect_auth(&r, NULL, 0);
    close_run(&r);
}

static void test_imap_no_sasl_ir(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_IMAP, IMAP_HELLO
             "S: * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"
             "S: A1 OK done\n"
             "C: A2 AUTHENTICATE PLAIN\n"
             "S: +\n"
             "C: AGFsaWNlAGFsaWNlcHc=\n"
             "S: A2 OK logged in\n");
    expect_auth(&r, NULL, 0);
    close_run(&r);
}

/* EXTERNAL with no authzid: "=" as the empty initial response. */
static void test_imap_empty_ir(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_IMAP, IMAP_HELLO
             "S: * CAPABILITY IMAP4rev1 SASL-IR AUTH=EXTERNAL AUTH=PLAIN\n"
             "S: A1 OK done\n"
             "C: A2 AUTHENTICATE EXTERNAL =\n"
             "S: A2 OK [CAPABILITY IMAP4rev1] logged in\n");
    posta_sasl_set_tls(r.s, 1, 256, 1);
    expect_auth(&r, NULL, 0);
    close_run(&r);
}

static void test_imap_login_mech(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_IMAP, IMAP_HELLO
             "S: * CAPABILITY IMAP4rev1 SASL-IR AUTH=LOGIN\n"
             "S: A1 OK done\n"
             "C: A2 AUTHENTICATE LOGIN\n"
             "S: + VXNlcm5hbWU6\n"
             "C: YWxpY2U=\n"
             "S: + UGFzc3dvcmQ6\n"
             "C: YWxpY2Vwdw==\n"
             "S: A2 OK logged in\n");
    expect_auth(&r, NULL, 0);
    close_run(&r);
}

/* The application cancels mid-exchange: "*", and nothing after. */
static void test_imap_cancel(void)
{
    struct run r;
    const char *line;
    size_t n;
    open_run(&r, POSTA_SASL_IMAP, IMAP_HELLO
             "S: * CAPABILITY IMAP4rev1 AUTH=CRAM-MD5 AUTH=PLAIN\n"
             "S: A1 OK done\n"
             "C: A2 AUTHENTICATE CRAM-MD5\n"
             "S: + PDEyMzQ1QHBlZXIuZXhhbXBsZT4=\n"
             "C: *\n"
             "S: A2 BAD AUTHENTICATE canceled\n"
             "!expect-close\n");
    T_EQ_INT(posta_sasl_start(r.s, r.d.caps, strlen(r.d.caps), &line, &n), 0);
    T_EQ_INT(drv_command(&r.d, line, n), 0);
    T_EQ_INT(drv_read_line(&r.d), 0);
    T_EQ_INT(posta_sasl_cancel(r.s, &line, &n), 0);
    T_EQ_INT(drv_send(&r.d, line, n), 0);
    T_EQ_INT(drv_read_line(&r.d), 0);
    const char *t = r.d.line + 7;
    T_EQ_INT(posta_sasl_on_failure(r.s, POSTA_SASL_REJECTED, t, strlen(t), &line, &n), POSTA_EAUTH);
    T_EQ_STR(posta_sasl_errmsg(r.s), "CRAM-MD5 was canceled by the client: the application "
                                     "canceled (server: AUTHENTICATE canceled)");
    posta_sasl_free(r.s);
    r.s = NULL;
    drv_close(&r.d);
    char *msg = NULL;
    if (peer_finish(r.p, &msg) != 0)
        t_fail(__FILE__, __LINE__, "peer: %s", msg);
    free(msg);
}

/* A bad challenge is canceled; the server's BAD sends us to the next one. */
static void test_imap_bad_challenge_fallback(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_IMAP, IMAP_HELLO
             "S: * CAPABILITY IMAP4rev1 SASL-IR AUTH=CRAM-MD5 AUTH=PLAIN\n"
             "S: A1 OK done\n"
             "C: A2 AUTHENTICATE CRAM-MD5\n"
             "S: + this is not base64\n"
             "C: *\n"
             "S: A2 BAD canceled\n"
             "C: A3 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\n"
             "S: A3 OK logged in\n");
    expect_auth(&r, NULL, 0);
    T_EQ_STR(posta_sasl_mechanism(r.s), "PLAIN");
    close_run(&r);
}

static void test_imap_rejected_fallback(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_IMAP, IMAP_HELLO
             "S: * CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-1 AUTH=PLAIN\n"
             "S: A1 OK done\n"
             "C~ A2 AUTHENTICATE SCRAM-SHA-1 [A-Za-z0-9+/=]+\n"
             "S: A2 NO [CANNOT] mechanism disabled\n"
             "C: A3 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\n"
             "S: A3 OK logged in\n");
    expect_auth(&r, NULL, 0);
    close_run(&r);
}

/* Wrong credentials: no second mechanism, whatever else is offered. */
static void test_imap_credentials_final(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_IMAP, IMAP_HELLO
             "S: * CAPABILITY IMAP4rev1 SASL-IR AUTH=CRAM-MD5 AUTH=PLAIN\n"
             "S: A1 OK done\n"
             "C: A2 AUTHENTICATE CRAM-MD5\n"
             "S: + PDEyMzQ1QHBlZXIuZXhhbXBsZT4=\n"
             "C~ [A-Za-z0-9+/=]+\n"
             "S: A2 NO [AUTHENTICATIONFAILED] Authentication failed.\n"
             "!expect-close\n");
    expect_auth(&r, NULL, POSTA_EAUTH);
    T_EQ_STR(posta_sasl_errmsg(r.s), "CRAM-MD5 authentication failed: [AUTHENTICATIONFAILED] "
                                     "Authentication failed.");
    close_run(&r);
}

/* No encryption, only PLAIN offered: nothing is sent, the client hangs up. */
static void test_imap_cleartext_refused(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_IMAP, IMAP_HELLO
             "S: * CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN\n"
             "S: A1 OK done\n"
             "!expect-close\n");
    posta_sasl_set_tls(r.s, 0, 0, 0);
    expect_auth(&r, NULL, POSTA_EPOLICY);
    T_CONTAINS(posta_sasl_errmsg(r.s), "refusing PLAIN");
    T_EQ_STR(r.d.sent, "A1 CAPABILITY\r\n");
    close_run(&r);
}

static void test_imap_oauthbearer_error(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_IMAP, IMAP_HELLO
             "S: * CAPABILITY IMAP4rev1 SASL-IR AUTH=OAUTHBEARER\n"
             "S: A1 OK done\n"
             /* n,a=alice,^Ahost=peer.example^Aport=143^Aauth=Bearer tok^A^A */
             "C: A2 AUTHENTICATE OAUTHBEARER bixhPWFsaWNlLAFob3N0PXBlZXIuZXhhbXBsZQFwb3J0PTE0MwFhdXRoPUJlYXJlciB0b2sBAQ==\n"
             /* {"status":"invalid_token","scope":"mail"} */
             "S: + eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJtYWlsIn0=\n"
             "C: AQ==\n"
             "S: A2 NO SASL authentication failed\n");
    posta_sasl_set_port(r.s, 143);
    T_EQ_INT(posta_sasl_set_credential(r.s, POSTA_SASL_TOKEN, "tok", 3), 0);
    expect_auth(&r, NULL, POSTA_EAUTH);
    T_CONTAINS(posta_sasl_errmsg(r.s), "status \"invalid_token\"");
    close_run(&r);
}

/* A server that says OK at once proves nothing about a SCRAM exchange. */
static void test_imap_premature_ok(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_IMAP, IMAP_HELLO
             "S: * CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256\n"
             "S: A1 OK done\n"
             "C~ A2 AUTHENTICATE SCRAM-SHA-256 [A-Za-z0-9+/=]+\n"
             "S: A2 OK logged in\n");
    expect_auth(&r, NULL, POSTA_EAUTH);
    T_CONTAINS(posta_sasl_errmsg(r.s), "has not proved its identity");
    close_run(&r);
}

/* --- SMTP ----------------------------------------------------------------- */

static void test_smtp_ir(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_SMTP, SMTP_HELLO
             "S: 250-peer\n"
             "S: 250-AUTH LOGIN PLAIN\n"
             "S: 250 8BITMIME\n"
             "C: AUTH PLAIN AGFsaWNlAGFsaWNlcHc=\n"
             "S: 235 2.7.0 ok\n");
    expect_auth(&r, NULL, 0);
    close_run(&r);
}

/* An initial response that would make the line longer than 512 octets
 * waits for the server's empty 334. */
static void test_smtp_ir_too_long(void)
{
    char script[4096], tok[400];
    memset(tok, 't', 360);
    tok[360] = '\0';
    snprintf(script, sizeof(script), SMTP_HELLO
             "S: 250-peer\n"
             "S: 250 AUTH XOAUTH2\n"
             "C: AUTH XOAUTH2\n"
             "S: 334 \n"
             "C~ dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0dHR0[A-Za-z0-9+/=]{400,}\n"
             "S: 235 2.7.0 ok\n");
    struct run r;
    open_run(&r, POSTA_SASL_SMTP, script);
    T_EQ_INT(posta_sasl_set_credential(r.s, POSTA_SASL_TOKEN, tok, strlen(tok)), 0);
    expect_auth(&r, "XOAUTH2", 0);
    close_run(&r);
}

/* qmail's "334 ok, go on" (UW IMAP FAQ 7.47): the held-back response goes
 * anyway. */
static void test_smtp_qmail_go_on(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_SMTP, SMTP_HELLO
             "S: 250-peer\n"
             "S: 250 AUTH LOGIN PLAIN\n"
             "C: AUTH PLAIN\n"
             "S: 334 ok, go on\n"
             "C: AGFsaWNlAGFsaWNlcHc=\n"
             "S: 235 ok\n");
    posta_sasl_set_initial_response(r.s, 0);
    expect_auth(&r, NULL, 0);
    close_run(&r);
}

static void test_smtp_wrong_password(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_SMTP, SMTP_HELLO
             "S: 250-peer\n"
             "S: 250 AUTH PLAIN LOGIN\n"
             "C: AUTH PLAIN AGFsaWNlAGFsaWNlcHc=\n"
             "S: 535 5.7.8 Authentication credentials invalid\n"
             "!expect-close\n");
    expect_auth(&r, NULL, POSTA_EAUTH);
    T_EQ_STR(posta_sasl_errmsg(r.s), "PLAIN authentication failed: 5.7.8 Authentication "
                                     "credentials invalid");
    close_run(&r);
}

/* Unknown mechanism (504), then the next one. */
static void test_smtp_504_fallback(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_SMTP, SMTP_HELLO
             "S: 250-peer\n"
             "S: 250 AUTH CRAM-MD5 LOGIN\n"
             "C: AUTH CRAM-MD5\n"
             "S: 504 5.5.4 Unrecognized authentication type\n"
             "C: AUTH LOGIN\n"
             "S: 334 VXNlcm5hbWU6\n"
             "C: YWxpY2U=\n"
             "S: 334 UGFzc3dvcmQ6\n"
             "C: YWxpY2Vwdw==\n"
             "S: 235 ok\n");
    expect_auth(&r, NULL, 0);
    close_run(&r);
}

/* The empty answer to a final server-data continuation: DIGEST-MD5's
 * rspauth is checked, then answered with an empty line. */
static void test_smtp_digest_rspauth(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_SMTP, SMTP_HELLO
             "S: 250-peer\n"
             "S: 250 AUTH DIGEST-MD5\n"
             "C: AUTH DIGEST-MD5\n"
             /* realm="peer.example",nonce="OA6MG9tEQGm2hh",qop="auth",charset=utf-8,algorithm=md5-sess */
             "S: 334 cmVhbG09InBlZXIuZXhhbXBsZSIsbm9uY2U9Ik9BNk1HOXRFUUdtMmhoIixxb3A9ImF1dGgiLGNoYXJzZXQ9dXRmLTgsYWxnb3JpdGhtPW1kNS1zZXNz\n"
             "C~ ([A-Za-z0-9+/=]+)\n"
             /* rspauth=0000... is wrong: the client must cancel */
             "S: 334 cnNwYXV0aD0wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA==\n"
             "C: *\n"
             "S: 501 5.5.4 canceled\n"
             "!expect-close\n");
    expect_auth(&r, NULL, POSTA_EAUTH);
    T_CONTAINS(posta_sasl_errmsg(r.s), "DIGEST-MD5 was canceled by the client");
    close_run(&r);
}

/* --- POP3 ------------------------------------------------------------------ */

static void test_pop3_ir_and_limit(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_POP3, POP3_HELLO
             "S: SASL PLAIN\n"
             "S: .\n"
             "C: AUTH PLAIN AGFsaWNlAGFsaWNlcHc=\n"
             "S: +OK maildrop locked\n");
    expect_auth(&r, NULL, 0);
    close_run(&r);

    /* A 200-byte password: the line would pass 255 octets. */
    char pass[201];
    memset(pass, 'p', 200);
    pass[200] = '\0';
    open_run(&r, POSTA_SASL_POP3, POP3_HELLO
             "S: SASL PLAIN\n"
             "S: .\n"
             "C: AUTH PLAIN\n"
             "S: +\n"
             "C~ AGFsaWNlAHBwcH[A-Za-z0-9+/=]{250,}\n"
             "S: +OK maildrop locked\n");
    T_EQ_INT(posta_sasl_set_credential(r.s, POSTA_SASL_PASSWORD, pass, 200), 0);
    expect_auth(&r, NULL, 0);
    close_run(&r);
}

/* "+ " is a continuation, "+OK" the end; [AUTH] means the credentials. */
static void test_pop3_cram(void)
{
    struct run r;
    open_run(&r, POSTA_SASL_POP3, POP3_HELLO
             "S: SASL CRAM-MD5 PLAIN\n"
             "S: .\n"
             "C: AUTH CRAM-MD5\n"
             "S: + PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\n"
             "C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\n"
             "S: -ERR [AUTH] no\n"
             "!expect-close\n");
    T_EQ_INT(posta_sasl_set_credential(r.s, POSTA_SASL_AUTHCID, "tim", 3), 0);
    T_EQ_INT(posta_sasl_set_credential(r.s, POSTA_SASL_PASSWORD, "tanstaaftanstaaf", 16), 0);
    expect_auth(&r, NULL, POSTA_EAUTH);
    T_EQ_STR(posta_sasl_errmsg(r.s), "CRAM-MD5 authentication failed: [AUTH] no");
    close_run(&r);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"imap_sasl_ir", test_imap_sasl_ir},
        {"imap_no_sasl_ir", test_imap_no_sasl_ir},
        {"imap_empty_ir", test_imap_empty_ir},
        {"imap_login_mech", test_imap_login_mech},
        {"imap_cancel", test_imap_cancel},
        {"imap_bad_challenge_fallback", test_imap_bad_challenge_fallback},
        {"imap_rejected_fallback", test_imap_rejected_fallback},
        {"imap_credentials_final", test_imap_credentials_final},
        {"imap_cleartext_refused", test_imap_cleartext_refused},
        {"imap_oauthbearer_error", test_imap_oauthbearer_error},
        {"imap_premature_ok", test_imap_premature_ok},
        {"smtp_ir", test_smtp_ir},
        {"smtp_ir_too_long", test_smtp_ir_too_long},
        {"smtp_qmail_go_on", test_smtp_qmail_go_on},
        {"smtp_wrong_password", test_smtp_wrong_password},
        {"smtp_504_fallback", test_smtp_504_fallback},
        {"smtp_digest_rspauth", test_smtp_digest_rspauth},
        {"pop3_ir_and_limit", test_pop3_ir_and_limit},
        {"pop3_cram", test_pop3_cram},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
