/* Allocation-failure loops over the SASL engine without a server: PLAIN
 * (through libsasl2, whose own allocations are not wrapped), XOAUTH2 and
 * OAUTHBEARER (built in), with initial responses, held-back ones, error
 * challenges, a rejected mechanism followed by the next, and success; the
 * POP3 helpers (APOP, USER/PASS) with credentials from the callback. */
#include <posta/sasl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failmalloc.h"

/* Log a line; rc is the call's result. */
static int line(int rc, const char *what, const char *const *l, const size_t *n)
{
    if (rc != 0)
        return rc;
    fm_putf("%s: ", what);
    fm_put(*l, *n);
    return 0;
}

/* A session's end: free it and turn an unexpected code into FM_WRONG. */
static int finish(posta_sasl *s, int rc)
{
    if (rc != 0 && rc != POSTA_ENOMEM)
        fprintf(stderr, "sasl: %d %s\n", rc, s ? posta_sasl_errmsg(s) : "");
    posta_sasl_free(s);
    return rc ? rc : fm_done();
}

static int session(posta_sasl **s_r, posta_sasl_proto proto, const char *user, const char *token)
{
    int rc = posta_sasl_new(s_r, proto, "imap", "mail.example");
    if (rc != 0)
        return rc;
    posta_sasl_set_tls(*s_r, 1, 256, 0);
    if ((rc = posta_sasl_set_credential(*s_r, POSTA_SASL_AUTHCID, user, strlen(user))) != 0)
        return rc;
    if ((rc = posta_sasl_set_credential(*s_r, POSTA_SASL_PASSWORD, "alicepw", 7)) != 0)
        return rc;
    if (token && (rc = posta_sasl_set_credential(*s_r, POSTA_SASL_TOKEN, token, strlen(token))) != 0)
        return rc;
    return 0;
}

/* IMAP PLAIN without SASL-IR: the go-ahead, the response, success. */
static int imap_plain(void)
{
    posta_sasl *s = NULL;
    const char *l;
    size_t n;
    int rc = session(&s, POSTA_SASL_IMAP, "alice", NULL);
    if (rc == 0)
        rc = posta_sasl_set_mechanisms(s, "PLAIN");
    if (rc == 0)
        rc = line(posta_sasl_start(s, "AUTH=PLAIN AUTH=LOGIN", 21, &l, &n), "start", &l, &n);
    if (rc == 0)
        rc = line(posta_sasl_on_continuation(s, "", 0, &l, &n), "cont", &l, &n);
    if (rc == 0)
        rc = posta_sasl_on_success(s, NULL, 0);
    if (rc == 0 && (!posta_sasl_authenticated(s) || strcmp(posta_sasl_mechanism(s), "PLAIN") != 0))
        rc = FM_WRONG;
    return finish(s, rc);
}

/* SMTP with a token: XOAUTH2 first (initial response), its error challenge
 * answered empty, rejected; PLAIN next, with its initial response; success. */
static int smtp_xoauth2_then_plain(void)
{
    posta_sasl *s = NULL;
    const char *l;
    size_t n;
    int rc = session(&s, POSTA_SASL_SMTP, "someuser@example.com",
                     "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
    if (rc == 0)
        rc = posta_sasl_set_mechanisms(s, "XOAUTH2 PLAIN");
    if (rc == 0)
        rc = line(posta_sasl_start(s, "PLAIN XOAUTH2", 13, &l, &n), "start", &l, &n);
    const char *gerr = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwu"
                       "Z29vZ2xlLmNvbS8ifQ==";
    if (rc == 0)
        rc = line(posta_sasl_on_continuation(s, gerr, strlen(gerr), &l, &n), "cont", &l, &n);
    if (rc == 0)
        rc = line(posta_sasl_on_failure(s, POSTA_SASL_REJECTED, "535 5.7.8 no", 12, &l, &n),
                  "next", &l, &n);
    if (rc == 0)
        rc = posta_sasl_on_success(s, NULL, 0);
    if (rc == 0 && strcmp(posta_sasl_mechanism(s), "PLAIN") != 0)
        rc = FM_WRONG;
    return finish(s, rc);
}

/* IMAP OAUTHBEARER with SASL-IR, an authzid to escape and a port; the error
 * challenge gets ^A, the failure gives POSTA_EAUTH and the sentence. */
static int imap_oauthbearer_refused(void)
{
    posta_sasl *s = NULL;
    const char *l;
    size_t n;
    int rc = session(&s, POSTA_SASL_IMAP, "alice", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
    if (rc == 0) {
        posta_sasl_set_initial_response(s, 1);
        posta_sasl_set_port(s, 993);
        rc = posta_sasl_set_credential(s, POSTA_SASL_AUTHZID, "a,b=c", 5);
    }
    if (rc == 0)
        rc = line(posta_sasl_start(s, "OAUTHBEARER", 11, &l, &n), "start", &l, &n);
    const char *err = "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIn0=";
    if (rc == 0)
        rc = line(posta_sasl_on_continuation(s, err, strlen(err), &l, &n), "cont", &l, &n);
    if (rc == 0) {
        rc = posta_sasl_on_failure(s, POSTA_SASL_REJECTED, "NO failed", 9, &l, &n);
        if (rc == POSTA_EAUTH) {
            fm_putf("failed: %s\n", posta_sasl_errmsg(s));
            rc = 0;
        } else if (rc == 0) {
            rc = FM_WRONG;
        }
    }
    return finish(s, rc);
}

/* POP3 OAUTHBEARER with a token too long for the initial response: held
 * back until the empty challenge; success. */
static int pop3_oauthbearer_held(void)
{
    char tok[400];
    memset(tok, 't', sizeof(tok) - 1);
    tok[sizeof(tok) - 1] = '\0';
    posta_sasl *s = NULL;
    const char *l;
    size_t n;
    int rc = session(&s, POSTA_SASL_POP3, "alice", tok);
    if (rc == 0)
        rc = line(posta_sasl_start(s, "OAUTHBEARER SCRAM-SHA-256", 25, &l, &n), "start", &l, &n);
    if (rc == 0)
        rc = line(posta_sasl_on_continuation(s, "", 0, &l, &n), "cont", &l, &n);
    if (rc == 0)
        rc = posta_sasl_on_success(s, NULL, 0);
    if (rc == 0 && strcmp(posta_sasl_mechanism(s), "OAUTHBEARER") != 0)
        rc = FM_WRONG;
    return finish(s, rc);
}

/* Credentials asked through the callback, which stores them with
 * posta_sasl_set_credential() (that allocation may fail too: the callback
 * passes the code on). */
static int ask(posta_sasl *s, posta_sasl_credential what, const char *mech, void *user)
{
    fm_putf("asked %d for %s\n", (int)what, mech);
    if (what == POSTA_SASL_AUTHCID)
        return posta_sasl_set_credential(s, what, "mrose", 5);
    if (what == POSTA_SASL_PASSWORD)
        return posta_sasl_set_credential(s, what, "tanstaaf", 8);
    return POSTA_ENOTFOUND;
}

/* The POP3 helpers: APOP, USER and PASS. */
static int pop3_helpers(void)
{
    posta_sasl *s = NULL;
    const char *l;
    size_t n;
    char hex[33];
    int rc = posta_sasl_apop_digest("<1896.697170952@dbc.mtview.ca.us>", 33, "tanstaaf", 8, hex);
    if (rc != 0)
        return rc;
    fm_putf("digest %s\n", hex);
    if ((rc = posta_sasl_new(&s, POSTA_SASL_POP3, "pop", "mail.example")) != 0)
        return rc;
    posta_sasl_set_tls(s, 1, 256, 0);
    posta_sasl_set_credential_cb(s, ask, NULL);
    const char *g = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n";
    rc = posta_sasl_apop_command(s, g, strlen(g), &l, &n);
    if (rc == 0)
        rc = line(rc, "apop", &l, &n);
    if (rc == 0)
        rc = posta_sasl_check_cleartext(s, "USER/PASS");
    if (rc == 0)
        rc = posta_sasl_user_command(s, &l, &n);
    if (rc == 0)
        rc = line(rc, "user", &l, &n);
    if (rc == 0)
        rc = posta_sasl_pass_command(s, &l, &n);
    if (rc == 0)
        rc = line(rc, "pass", &l, &n);
    return finish(s, rc);
}

/* SMTP PLAIN with the credentials from the callback during start. */
static int smtp_plain_asked(void)
{
    posta_sasl *s = NULL;
    const char *l;
    size_t n;
    int rc = posta_sasl_new(&s, POSTA_SASL_SMTP, "smtp", NULL);
    if (rc != 0)
        return rc;
    posta_sasl_set_tls(s, 1, 256, 0);
    posta_sasl_set_credential_cb(s, ask, NULL);
    rc = posta_sasl_set_mechanisms(s, "PLAIN");
    if (rc == 0)
        rc = posta_sasl_start(s, "PLAIN LOGIN", 11, &l, &n);
    if (rc == 0)
        rc = line(rc, "start", &l, &n);
    if (rc == 0)
        rc = posta_sasl_on_success(s, NULL, 0);
    return finish(s, rc);
}

static void test_plain(void)
{
    fm_loop(smtp_plain_asked);
    T_CONTAINS(fm_ref(), "start: AUTH PLAIN AG1yb3NlAHRhbnN0YWFm\r\n");
    fm_loop(imap_plain);
    T_CONTAINS(fm_ref(), "start: AUTHENTICATE PLAIN\r\ncont: AGFsaWNlAGFsaWNlcHc=\r\n");
}

static void test_xoauth2(void)
{
    fm_loop(smtp_xoauth2_then_plain);
    T_CONTAINS(fm_ref(), "start: AUTH XOAUTH2 dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRo");
    T_CONTAINS(fm_ref(), "cont: \r\nnext: AUTH PLAIN ");
}

static void test_oauthbearer(void)
{
    fm_loop(imap_oauthbearer_refused);
    T_CONTAINS(fm_ref(), "cont: AQ==\r\n");
    T_CONTAINS(fm_ref(), "failed: OAUTHBEARER authentication failed: the token was refused");
    fm_loop(pop3_oauthbearer_held);
    T_CONTAINS(fm_ref(), "start: AUTH OAUTHBEARER\r\ncont: ");
}

static void test_pop3(void)
{
    fm_loop(pop3_helpers);
    T_CONTAINS(fm_ref(), "apop: APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
    T_CONTAINS(fm_ref(), "user: USER mrose\r\npass: PASS tanstaaf\r\n");
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"plain", test_plain},
        {"xoauth2", test_xoauth2},
        {"oauthbearer", test_oauthbearer},
        {"pop3", test_pop3},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
