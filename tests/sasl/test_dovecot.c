/* posta_sasl against the loopback Dovecot: every mechanism it offers over
 * IMAP (SASL-IR), POP3 and SMTP submission, proxy authorization, policy on
 * an unencrypted connection, automatic choice and fallback. */
#include <posta/sasl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "driver.h"
#include "net/net.h"
#include "t.h"

struct notices {
    char all[2048];
    int n;
};

static void on_notice(posta_sasl *s, const char *msg, void *user)
{
    struct notices *n = user;
    size_t used = strlen(n->all);
    snprintf(n->all + used, sizeof(n->all) - used, "%s\n", msg);
    n->n++;
}

static void set(posta_sasl *s, posta_sasl_credential what, const char *v)
{
    T_EQ_INT(posta_sasl_set_credential(s, what, v, strlen(v)), 0);
}

static void open_imaps(struct drv *d)
{
    T_EQ_INT(drv_open(d, POSTA_SASL_IMAP, t_env("HOST"), t_env("IMAPS_PORT"), DRV_TLS), 0);
    T_ASSERT(d->sasl_ir);
}

/* Log in over IMAPS with mech (NULL: automatic) as user/pass; returns the
 * result and leaves the session for inspection. */
static int imap_login(struct drv *d, posta_sasl **s_r, const char *mech, const char *user,
                      const char *pass)
{
    open_imaps(d);
    posta_sasl *s = drv_sasl(d, "localhost");
    T_ASSERT(s != NULL);
    if (mech)
        T_EQ_INT(posta_sasl_set_mechanisms(s, mech), 0);
    if (user)
        set(s, POSTA_SASL_AUTHCID, user);
    if (pass)
        set(s, POSTA_SASL_PASSWORD, pass);
    *s_r = s;
    return drv_auth(d, s, NULL);
}

/* Authenticated as expected: the mechanism used and a command that needs a
 * logged-in session. */
static void expect_imap_ok(struct drv *d, posta_sasl *s, int rc, const char *mech)
{
    if (rc != 0)
        fprintf(stderr, "auth failed: %s\n", posta_sasl_errmsg(s));
    T_EQ_INT(rc, 0);
    T_EQ_INT(posta_sasl_authenticated(s), 1);
    T_EQ_STR(posta_sasl_mechanism(s), mech);
    T_EQ_INT(drv_simple(d, "NAMESPACE"), 0);
    /* TLS bits count; no SASL layer over TLS. */
    T_ASSERT(posta_sasl_ssf(s) >= 128);
    T_EQ_INT(posta_sasl_layer_ssf(s), 0);
}

static void mech_ok(const char *mech)
{
    struct drv d;
    posta_sasl *s;
    int rc = imap_login(&d, &s, mech, t_env("USER1"), t_env("PASS1"));
    expect_imap_ok(&d, s, rc, mech);
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_plain(void)
{
    mech_ok("PLAIN");
}

static void test_plain_ir_bytes(void)
{
    struct drv d;
    posta_sasl *s;
    int rc = imap_login(&d, &s, "PLAIN", t_env("USER1"), t_env("PASS1"));
    T_EQ_INT(rc, 0);
    /* SASL-IR: the whole exchange is one line; "\0alice\0alicepw". */
    T_CONTAINS(d.sent, "A2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n");
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_plain_spaces(void)
{
    struct drv d;
    posta_sasl *s;
    int rc = imap_login(&d, &s, "PLAIN", t_env("USER3"), t_env("PASS3"));
    expect_imap_ok(&d, s, rc, "PLAIN");
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_login(void) { mech_ok("LOGIN"); }
static void test_cram_md5(void) { mech_ok("CRAM-MD5"); }
static void test_digest_md5(void) { mech_ok("DIGEST-MD5"); }
static void test_scram_sha1(void) { mech_ok("SCRAM-SHA-1"); }
static void test_scram_sha256(void) { mech_ok("SCRAM-SHA-256"); }

/* SCRAM's server-final arrives as a continuation, answered with an empty
 * line before the tagged OK. */
static void test_scram_final_empty(void)
{
    struct drv d;
    posta_sasl *s;
    int rc = imap_login(&d, &s, "SCRAM-SHA-256", t_env("USER1"), t_env("PASS1"));
    T_EQ_INT(rc, 0);
    size_t n = strlen(d.sent);
    T_ASSERT(n >= 4 && strcmp(d.sent + n - 4, "=\r\n\r\n") != 0);
    T_ASSERT(n >= 2 && strcmp(d.sent + n - 2, "\r\n") == 0);
    /* the last line sent is empty */
    T_ASSERT(n >= 4 && memcmp(d.sent + n - 4, "\r\n\r\n", 4) == 0);
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_auto_scram256(void)
{
    struct drv d;
    posta_sasl *s;
    int rc = imap_login(&d, &s, NULL, t_env("USER1"), t_env("PASS1"));
    expect_imap_ok(&d, s, rc, "SCRAM-SHA-256");
    posta_sasl_free(s);
    drv_close(&d);
}

static void token_ok(const char *mech)
{
    struct drv d;
    open_imaps(&d);
    posta_sasl *s = drv_sasl(&d, "localhost");
    posta_sasl_set_port(s, (unsigned)atoi(t_env("IMAPS_PORT")));
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_TOKEN, t_env("PASS1"));
    /* A preset token makes automatic choice prefer OAUTHBEARER. */
    if (strcmp(mech, "OAUTHBEARER") != 0)
        T_EQ_INT(posta_sasl_set_mechanisms(s, mech), 0);
    int rc = drv_auth(&d, s, NULL);
    expect_imap_ok(&d, s, rc, mech);
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_xoauth2(void) { token_ok("XOAUTH2"); }
static void test_oauthbearer(void) { token_ok("OAUTHBEARER"); }

/* A refused token: the server's JSON error, the client's %x01, the NO. */
static void test_oauthbearer_bad_token(void)
{
    struct drv d;
    open_imaps(&d);
    posta_sasl *s = drv_sasl(&d, "localhost");
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_TOKEN, "not-the-token");
    T_EQ_INT(posta_sasl_set_mechanisms(s, "OAUTHBEARER"), 0);
    int rc = drv_auth(&d, s, NULL);
    T_EQ_INT(rc, POSTA_EAUTH);
    T_CONTAINS(d.sent, "\r\nAQ==\r\n");
    T_CONTAINS(posta_sasl_errmsg(s), "OAUTHBEARER authentication failed: the token was refused");
    T_CONTAINS(posta_sasl_errmsg(s), "invalid_token");
    T_EQ_INT(posta_sasl_authenticated(s), 0);
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_anonymous(void)
{
    struct drv d;
    posta_sasl *s;
    int rc = imap_login(&d, &s, "ANONYMOUS", "posta@example.org", NULL);
    expect_imap_ok(&d, s, rc, "ANONYMOUS");
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_wrong_password(void)
{
    struct drv d;
    posta_sasl *s;
    struct notices n = {0};
    open_imaps(&d);
    s = drv_sasl(&d, "localhost");
    posta_sasl_set_notice_cb(s, on_notice, &n);
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_PASSWORD, "wrong");
    int rc = drv_auth(&d, s, NULL);
    T_EQ_INT(rc, POSTA_EAUTH);
    T_CONTAINS(posta_sasl_errmsg(s), "SCRAM-SHA-256 authentication failed: [AUTHENTICATIONFAILED]");
    /* Wrong credentials never move on to another mechanism. */
    T_EQ_INT(d.tag, 2);
    T_EQ_INT(n.n, 0);
    T_EQ_INT(drv_simple(&d, "NAMESPACE"), POSTA_ENO);
    posta_sasl_free(s);
    drv_close(&d);
}

/* Proof of identity: a mailbox created now appears under alice's home. */
static void expect_identity(struct drv *d, const char *user)
{
    char cmd[128], path[512];
    struct stat st;
    snprintf(cmd, sizeof(cmd), "CREATE posta-sasl-%ld", (long)getpid());
    T_EQ_INT(drv_simple(d, cmd), 0);
    snprintf(path, sizeof(path), "%s/%s/Maildir/.posta-sasl-%ld", t_env("MAIL_DIR"), user,
             (long)getpid());
    T_EQ_INT(stat(path, &st), 0);
    snprintf(cmd, sizeof(cmd), "DELETE posta-sasl-%ld", (long)getpid());
    T_EQ_INT(drv_simple(d, cmd), 0);
}

/* alice herself sets (or clears) a server annotation that only her own
 * sessions can see: it lives in her home (mail_attribute_dict). */
#define MARK_KEY "/private/vendor/posta/sasl-test"

static void alice_marker(const char *value)
{
    struct drv d;
    posta_sasl *s;
    char cmd[160];
    T_EQ_INT(imap_login(&d, &s, "PLAIN", t_env("USER1"), t_env("PASS1")), 0);
    snprintf(cmd, sizeof(cmd), "SETMETADATA \"\" (" MARK_KEY " %s)", value);
    T_EQ_INT(drv_simple(&d, cmd), 0);
    posta_sasl_free(s);
    drv_close(&d);
}

/* Proxy authorization: authcid master with authzid alice, then proof that
 * the session is alice's.  (The master user gets no rights in her
 * mailboxes from Dovecot's ACL plugin, but her annotations are hers.) */
static void test_proxy(void)
{
    struct drv d;
    char mark[64], quoted[70];
    snprintf(mark, sizeof(mark), "posta-proxy-%ld", (long)getpid());
    snprintf(quoted, sizeof(quoted), "\"%s\"", mark);
    alice_marker(quoted);
    open_imaps(&d);
    posta_sasl *s = drv_sasl(&d, "localhost");
    T_EQ_INT(posta_sasl_set_mechanisms(s, "PLAIN"), 0);
    set(s, POSTA_SASL_AUTHCID, t_env("MASTER_USER"));
    set(s, POSTA_SASL_PASSWORD, t_env("MASTER_PASS"));
    set(s, POSTA_SASL_AUTHZID, t_env("USER1"));
    int rc = drv_auth(&d, s, NULL);
    if (rc)
        fprintf(stderr, "proxy: %s\n", posta_sasl_errmsg(s));
    T_EQ_INT(rc, 0);
    /* "alice\0master\0masterpw" */
    T_CONTAINS(d.sent, "AUTHENTICATE PLAIN YWxpY2UAbWFzdGVyAG1hc3RlcnB3\r\n");
    const char *cmd = "GETMETADATA \"\" " MARK_KEY "\r\n";
    T_EQ_INT(drv_command(&d, cmd, strlen(cmd)), 0);
    int seen = 0;
    while (drv_read_line(&d) == 0 && strncmp(d.line, "A", 1) != 0)
        seen |= strstr(d.line, mark) != NULL;
    T_CONTAINS(d.line, " OK ");
    T_EQ_INT(seen, 1);
    posta_sasl_free(s);
    drv_close(&d);
    alice_marker("NIL");
}

/* An authzid rules out mechanisms that cannot carry one: CRAM-MD5 would log
 * in as the master itself. */
static void test_proxy_refuses_cram(void)
{
    struct drv d;
    posta_sasl *s;
    open_imaps(&d);
    s = drv_sasl(&d, "localhost");
    T_EQ_INT(posta_sasl_set_mechanisms(s, "CRAM-MD5"), 0);
    set(s, POSTA_SASL_AUTHCID, t_env("MASTER_USER"));
    set(s, POSTA_SASL_PASSWORD, t_env("MASTER_PASS"));
    set(s, POSTA_SASL_AUTHZID, t_env("USER1"));
    T_EQ_INT(drv_auth(&d, s, NULL), POSTA_EUNSUPPORTED);
    T_CONTAINS(posta_sasl_errmsg(s), "CRAM-MD5 is not available");
    T_ASSERT(strstr(d.sent, "AUTHENTICATE") == NULL);
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_own_identity(void)
{
    struct drv d;
    posta_sasl *s;
    int rc = imap_login(&d, &s, NULL, t_env("USER2"), t_env("PASS2"));
    T_EQ_INT(rc, 0);
    expect_identity(&d, t_env("USER2"));
    posta_sasl_free(s);
    drv_close(&d);
}

/* 127.0.0.2 without TLS: Dovecot says LOGINDISABLED and hides PLAIN. */
static void test_logindisabled_policy(void)
{
    struct drv d;
    struct notices n = {0};
    T_EQ_INT(drv_open(&d, POSTA_SASL_IMAP, t_env("HOST2"), t_env("IMAP_PORT"), DRV_PLAIN), 0);
    T_ASSERT(strstr(d.caps, "PLAIN") == NULL);
    posta_sasl *s = drv_sasl(&d, "localhost");
    posta_sasl_set_notice_cb(s, on_notice, &n);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "PLAIN"), 0);
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_PASSWORD, t_env("PASS1"));
    /* Even when the offer is unknown, the password stays home. */
    T_EQ_INT(drv_auth(&d, s, ""), POSTA_EPOLICY);
    T_CONTAINS(posta_sasl_errmsg(s), "refusing PLAIN: it would send the password in cleartext "
                                     "over an unencrypted connection");
    T_ASSERT(strstr(d.sent, "AUTHENTICATE") == NULL);
    posta_sasl_free(s);

    /* Allowed: it goes, with a notice, and Dovecot refuses it. */
    s = drv_sasl(&d, "localhost");
    posta_sasl_set_notice_cb(s, on_notice, &n);
    posta_sasl_set_allow_plaintext(s, 1);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "PLAIN"), 0);
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_PASSWORD, t_env("PASS1"));
    T_EQ_INT(drv_auth(&d, s, ""), POSTA_EAUTH);
    T_CONTAINS(n.all, "sending PLAIN credentials in cleartext over an unencrypted connection");
    T_CONTAINS(d.sent, "AUTHENTICATE PLAIN");
    posta_sasl_free(s);

    /* Automatic choice takes SCRAM there: no secret crosses in clear. */
    s = drv_sasl(&d, "localhost");
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_PASSWORD, t_env("PASS1"));
    T_EQ_INT(drv_auth(&d, s, NULL), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "SCRAM-SHA-256");
    T_EQ_INT(posta_sasl_ssf(s), 0);
    posta_sasl_free(s);
    drv_close(&d);
}

/* The server refuses a mechanism it does not have; the next one works. */
static void test_fallback(void)
{
    struct drv d;
    struct notices n = {0};
    open_imaps(&d);
    posta_sasl *s = drv_sasl(&d, "localhost");
    posta_sasl_set_notice_cb(s, on_notice, &n);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "SCRAM-SHA-512 CRAM-MD5"), 0);
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_PASSWORD, t_env("PASS1"));
    char offer[4200];
    snprintf(offer, sizeof(offer), "%s SCRAM-SHA-512", d.caps);
    int rc = drv_auth(&d, s, offer);
    T_EQ_INT(rc, 0);
    T_EQ_STR(posta_sasl_mechanism(s), "CRAM-MD5");
    T_CONTAINS(d.sent, "A2 AUTHENTICATE SCRAM-SHA-512 ");
    T_CONTAINS(d.sent, "A3 AUTHENTICATE CRAM-MD5\r\n");
    T_CONTAINS(n.all, "SCRAM-SHA-512 authentication failed");
    T_CONTAINS(n.all, "trying CRAM-MD5");
    posta_sasl_free(s);
    drv_close(&d);

    /* With try_next off the first refusal is final. */
    open_imaps(&d);
    s = drv_sasl(&d, "localhost");
    posta_sasl_set_try_next(s, 0);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "SCRAM-SHA-512 CRAM-MD5"), 0);
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_PASSWORD, t_env("PASS1"));
    snprintf(offer, sizeof(offer), "%s SCRAM-SHA-512", d.caps);
    T_EQ_INT(drv_auth(&d, s, offer), POSTA_EAUTH);
    T_ASSERT(strstr(d.sent, "CRAM-MD5") == NULL);
    posta_sasl_free(s);
    drv_close(&d);
}

/* The client gives up on mechanisms it cannot do before sending anything
 * (no token; GSSAPI without a plugin or ticket) and goes on. */
static int no_token(posta_sasl *s, posta_sasl_credential what, const char *mech, void *user)
{
    int *asked = user;
    (*asked)++;
    if (what == POSTA_SASL_TOKEN)
        return POSTA_ENOTFOUND;
    if (what == POSTA_SASL_PASSWORD)
        return posta_sasl_set_credential(s, what, t_env("PASS1"), strlen(t_env("PASS1")));
    if (what == POSTA_SASL_AUTHCID)
        return posta_sasl_set_credential(s, what, t_env("USER1"), strlen(t_env("USER1")));
    return 0;
}

static void test_client_skips(void)
{
    struct drv d;
    int asked = 0;
    open_imaps(&d);
    posta_sasl *s = drv_sasl(&d, "localhost");
    posta_sasl_set_credential_cb(s, no_token, &asked);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "GSSAPI OAUTHBEARER SCRAM-SHA-1"), 0);
    char offer[4200];
    snprintf(offer, sizeof(offer), "GSSAPI %s", d.caps);
    T_EQ_INT(drv_auth(&d, s, offer), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "SCRAM-SHA-1");
    T_ASSERT(strstr(d.sent, "GSSAPI") == NULL && strstr(d.sent, "OAUTHBEARER") == NULL);
    T_ASSERT(asked >= 3);
    posta_sasl_free(s);
    drv_close(&d);
}

/* STARTTLS on the IMAP port: channel-binding data is there (tls-exporter),
 * Dovecot 2.3 has no -PLUS, so SCRAM says "y" and succeeds. */
static void test_starttls_scram_y(void)
{
    struct drv d;
    T_EQ_INT(drv_open(&d, POSTA_SASL_IMAP, t_env("HOST"), t_env("IMAP_PORT"), DRV_STARTTLS), 0);
    posta_sasl *s = drv_sasl(&d, "localhost");
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_PASSWORD, t_env("PASS1"));
    T_EQ_INT(drv_auth(&d, s, NULL), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "SCRAM-SHA-256");
    /* "y,," base64-encoded starts the client-first message. */
    T_CONTAINS(d.sent, "AUTHENTICATE SCRAM-SHA-256 eSws");
    posta_sasl_free(s);
    drv_close(&d);
}

/* The channel-binding data posta takes from a TLS stream. */
static void test_channel_binding_data(void)
{
    struct drv d;
    char type[32];
    unsigned char cb[64], want[64];
    size_t n = 0;
    unsigned wn = 0;
    open_imaps(&d);
    T_EQ_STR(posta_stream_tls_version(d.st), "TLSv1.3");
    T_EQ_INT(posta__tls_channel_binding(d.st, NULL, type, cb, sizeof(cb), &n), 0);
    T_EQ_STR(type, "tls-exporter");
    T_EQ_INT(n, 32);
    /* RFC 8446 C.5: no tls-unique with TLS 1.3. */
    T_EQ_INT(posta__tls_channel_binding(d.st, "tls-unique", type, cb, sizeof(cb), &n),
             POSTA_EUNSUPPORTED);
    /* tls-server-end-point: SHA-256 of the certificate (signed with SHA-256). */
    T_EQ_INT(posta__tls_channel_binding(d.st, "tls-server-end-point", type, cb, sizeof(cb), &n), 0);
    FILE *f = fopen(t_env("SERVER_CERT"), "r");
    T_ASSERT(f != NULL);
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    T_ASSERT(cert && X509_digest(cert, EVP_sha256(), want, &wn) == 1);
    T_EQ_MEM(cb, n, want, wn);
    X509_free(cert);
    drv_close(&d);

    /* No TLS, no channel binding. */
    T_EQ_INT(drv_open(&d, POSTA_SASL_IMAP, t_env("HOST"), t_env("IMAP_PORT"), DRV_PLAIN), 0);
    T_EQ_INT(posta__tls_channel_binding(d.st, NULL, type, cb, sizeof(cb), &n), POSTA_ESTATE);
    drv_close(&d);
}

/* --- POP3 ------------------------------------------------------------------- */

static int pop3_login(struct drv *d, const char *mech, const char *pass, posta_sasl **s_r)
{
    T_EQ_INT(drv_open(d, POSTA_SASL_POP3, t_env("HOST"), t_env("POP3S_PORT"), DRV_TLS), 0);
    posta_sasl *s = drv_sasl(d, "localhost");
    if (mech)
        T_EQ_INT(posta_sasl_set_mechanisms(s, mech), 0);
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_PASSWORD, pass);
    *s_r = s;
    return drv_auth(d, s, NULL);
}

static void test_pop3_mechs(void)
{
    static const char *mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1",
                                  NULL};
    for (int i = 0; mechs[i]; i++) {
        struct drv d;
        posta_sasl *s;
        int rc = pop3_login(&d, mechs[i], t_env("PASS1"), &s);
        if (rc)
            fprintf(stderr, "POP3 %s: %s\n", mechs[i], posta_sasl_errmsg(s));
        T_EQ_INT(rc, 0);
        T_EQ_INT(drv_simple(&d, "STAT"), 0);
        posta_sasl_free(s);
        drv_close(&d);
    }
}

static void test_pop3_auto(void)
{
    struct drv d;
    posta_sasl *s;
    T_EQ_INT(pop3_login(&d, NULL, t_env("PASS1"), &s), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "SCRAM-SHA-256");
    T_CONTAINS(d.sent, "AUTH SCRAM-SHA-256 ");
    T_EQ_INT(drv_simple(&d, "STAT"), 0);
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_pop3_wrong(void)
{
    struct drv d;
    posta_sasl *s;
    T_EQ_INT(pop3_login(&d, "PLAIN", "wrong", &s), POSTA_EAUTH);
    T_CONTAINS(posta_sasl_errmsg(s), "PLAIN authentication failed: [AUTH]");
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_pop3_apop(void)
{
    struct drv d;
    const char *line;
    size_t n;
    T_EQ_INT(drv_open(&d, POSTA_SASL_POP3, t_env("HOST"), t_env("POP3S_PORT"), DRV_TLS), 0);
    T_ASSERT(strchr(d.greeting, '<') != NULL);
    posta_sasl *s = drv_sasl(&d, "localhost");
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_PASSWORD, t_env("PASS1"));
    T_EQ_INT(posta_sasl_apop_command(s, d.greeting, strlen(d.greeting), &line, &n), 0);
    T_EQ_INT(drv_send(&d, line, n), 0);
    T_EQ_INT(drv_read_line(&d), 0);
    T_CONTAINS(d.line, "+OK");
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_pop3_user_pass(void)
{
    struct drv d;
    const char *line;
    size_t n;
    T_EQ_INT(drv_open(&d, POSTA_SASL_POP3, t_env("HOST"), t_env("POP3S_PORT"), DRV_TLS), 0);
    posta_sasl *s = drv_sasl(&d, "localhost");
    set(s, POSTA_SASL_AUTHCID, t_env("USER3"));
    set(s, POSTA_SASL_PASSWORD, t_env("PASS3"));
    T_EQ_INT(posta_sasl_user_command(s, &line, &n), 0);
    T_EQ_INT(drv_send(&d, line, n), 0);
    T_EQ_INT(drv_read_line(&d), 0);
    T_CONTAINS(d.line, "+OK");
    T_EQ_INT(posta_sasl_pass_command(s, &line, &n), 0);
    T_EQ_INT(drv_send(&d, line, n), 0);
    T_EQ_INT(drv_read_line(&d), 0);
    T_CONTAINS(d.line, "+OK");
    posta_sasl_free(s);
    drv_close(&d);

    /* Unencrypted (127.0.0.2): refused before a byte leaves. */
    T_EQ_INT(drv_open(&d, POSTA_SASL_POP3, t_env("HOST2"), t_env("POP3_PORT"), DRV_PLAIN), 0);
    s = drv_sasl(&d, "localhost");
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    T_EQ_INT(posta_sasl_user_command(s, &line, &n), POSTA_EPOLICY);
    T_CONTAINS(posta_sasl_errmsg(s), "refusing USER/PASS");
    posta_sasl_free(s);
    drv_close(&d);
}

/* --- SMTP submission after STARTTLS ---------------------------------------- */

static void smtp(const char *mech, const char *pass, int want)
{
    struct drv d;
    T_EQ_INT(drv_open(&d, POSTA_SASL_SMTP, t_env("HOST"), t_env("SUBMISSION_PORT"),
                      DRV_STARTTLS), 0);
    T_ASSERT(posta_stream_tls_active(d.st));
    posta_sasl *s = drv_sasl(&d, "localhost");
    if (mech)
        T_EQ_INT(posta_sasl_set_mechanisms(s, mech), 0);
    set(s, POSTA_SASL_AUTHCID, t_env("USER1"));
    set(s, POSTA_SASL_PASSWORD, pass);
    set(s, POSTA_SASL_TOKEN, pass);
    int rc = drv_auth(&d, s, NULL);
    if (rc != want)
        fprintf(stderr, "SMTP %s: %s\n", mech ? mech : "auto", posta_sasl_errmsg(s));
    T_EQ_INT(rc, want);
    if (want == 0)
        T_EQ_INT(drv_simple(&d, "MAIL FROM:<alice@localhost>"), 0);
    else
        T_CONTAINS(posta_sasl_errmsg(s), "PLAIN authentication failed: 5.7.8");
    posta_sasl_free(s);
    drv_close(&d);
}

static void test_smtp_mechs(void)
{
    smtp("PLAIN", t_env("PASS1"), 0);
    smtp("LOGIN", t_env("PASS1"), 0);
    smtp("CRAM-MD5", t_env("PASS1"), 0);
    smtp("DIGEST-MD5", t_env("PASS1"), 0);
    smtp("SCRAM-SHA-256", t_env("PASS1"), 0);
    smtp("XOAUTH2", t_env("PASS1"), 0);
    smtp(NULL, t_env("PASS1"), 0);  /* a token is set: OAUTHBEARER */
    smtp("PLAIN", "wrong", POSTA_EAUTH);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"plain", test_plain},
        {"plain_ir_bytes", test_plain_ir_bytes},
        {"plain_spaces", test_plain_spaces},
        {"login", test_login},
        {"cram_md5", test_cram_md5},
        {"digest_md5", test_digest_md5},
        {"scram_sha1", test_scram_sha1},
        {"scram_sha256", test_scram_sha256},
        {"scram_final_empty", test_scram_final_empty},
        {"auto_scram256", test_auto_scram256},
        {"xoauth2", test_xoauth2},
        {"oauthbearer", test_oauthbearer},
        {"oauthbearer_bad_token", test_oauthbearer_bad_token},
        {"anonymous", test_anonymous},
        {"wrong_password", test_wrong_password},
        {"proxy", test_proxy},
        {"proxy_refuses_cram", test_proxy_refuses_cram},
        {"own_identity", test_own_identity},
        {"logindisabled_policy", test_logindisabled_policy},
        {"fallback", test_fallback},
        {"client_skips", test_client_skips},
        {"starttls_scram_y", test_starttls_scram_y},
        {"channel_binding_data", test_channel_binding_data},
        {"pop3_mechs", test_pop3_mechs},
        {"pop3_auto", test_pop3_auto},
        {"pop3_wrong", test_pop3_wrong},
        {"pop3_apop", test_pop3_apop},
        {"pop3_user_pass", test_pop3_user_pass},
        {"smtp_mechs", test_smtp_mechs},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
