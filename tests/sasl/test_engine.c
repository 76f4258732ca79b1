/* The posta_sasl exchange engine without any I/O: command shapes and limits
 * per protocol, automatic choice, policy, credentials, channel-binding
 * flags, the built-in OAuth messages, RFC test vectors and APOP. */
#include <posta/sasl.h>
#include <posta/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

static posta_sasl *new_session(posta_sasl_proto proto, int encrypted)
{
    posta_sasl *s = NULL;
    T_EQ_INT(posta_sasl_new(&s, proto, "imap", "mail.example"), 0);
    posta_sasl_set_tls(s, encrypted, encrypted ? 256 : 0, 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, "alice", 5), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_PASSWORD, "alicepw", 7), 0);
    return s;
}

static int start(posta_sasl *s, const char *offered, const char **line, size_t *n)
{
    return posta_sasl_start(s, offered, offered ? strlen(offered) : 0, line, n);
}

/* The line as a C string for comparisons. */
static const char *str(const char *line, size_t n)
{
    static char buf[4096];
    snprintf(buf, sizeof(buf), "%.*s", (int)n, line);
    return buf;
}

/* Decode the base64 argument after the last space of a line (or the whole
 * line) into a static buffer. */
static const char *decoded(const char *line, size_t n)
{
    static char out[4096];
    unsigned char *d = NULL;
    size_t dn = 0;
    const char *p = line, *sp = memchr(line, ' ', n);
    while (sp) {
        p = sp + 1;
        sp = memchr(p, ' ', n - (size_t)(p - line));
    }
    size_t len = n - (size_t)(p - line) - 2;  /* CRLF */
    T_EQ_INT(posta_base64_decode(p, len, &d, &dn, NULL), 0);
    if (dn >= sizeof(out))
        dn = sizeof(out) - 1;
    for (size_t i = 0; i < dn; i++)
        out[i] = d[i] ? (char)d[i] : '|';  /* NUL shown as | for comparisons */
    out[dn] = '\0';
    free(d);
    return out;
}

static void test_parse_continuation(void)
{
    const char *t;
    size_t n;
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_IMAP, "+ YWJj\r\n", 8, &t, &n), 1);
    T_EQ_MEM(t, n, "YWJj", 4);
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_IMAP, "+", 1, &t, &n), 1);
    T_EQ_INT(n, 0);
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_IMAP, "+ ", 2, &t, &n), 1);
    T_EQ_INT(n, 0);
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_POP3, "+OK done", 8, &t, &n), 0);
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_POP3, "+ PDE+\r\n", 8, &t, &n), 1);
    T_EQ_MEM(t, n, "PDE+", 4);
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_SMTP, "334 VXNlcm5hbWU6", 16, &t, &n), 1);
    T_EQ_MEM(t, n, "VXNlcm5hbWU6", 12);
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_SMTP, "334\r\n", 5, &t, &n), 1);
    T_EQ_INT(n, 0);
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_SMTP, "3345", 4, &t, &n), 0);
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_SMTP, "334-x", 5, &t, &n), 0);
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_SMTP, "235 ok", 6, &t, &n), 0);
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_IMAP, "* OK", 4, &t, &n), 0);
    T_EQ_INT(posta_sasl_parse_continuation(POSTA_SASL_IMAP, "", 0, &t, &n), 0);
    T_EQ_INT(posta_sasl_parse_continuation((posta_sasl_proto)9, "+", 1, &t, &n), 0);
}

/* Dovecot's list, SCRAM-SHA-256 wins; IMAP without SASL-IR waits for "+". */
static void test_auto_choice(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = new_session(POSTA_SASL_IMAP, 1);
    T_EQ_INT(start(s, "PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256 OAUTHBEARER "
                      "XOAUTH2 ANONYMOUS", &line, &n), 0);
    T_EQ_STR(str(line, n), "AUTHENTICATE SCRAM-SHA-256\r\n");
    T_EQ_STR(posta_sasl_mechanism(s), "SCRAM-SHA-256");
    T_EQ_INT(posta_sasl_on_continuation(s, "", 0, &line, &n), 0);
    T_ASSERT(strncmp(decoded(line, n), "n,,n=alice,r=", 13) == 0);
    T_EQ_INT(start(s, "PLAIN", &line, &n), POSTA_ESTATE);
    posta_sasl_free(s);

    /* IMAP capability words are accepted as they come. */
    s = new_session(POSTA_SASL_IMAP, 1);
    T_EQ_INT(start(s, "AUTH=PLAIN AUTH=CRAM-MD5", &line, &n), 0);
    T_EQ_STR(str(line, n), "AUTHENTICATE CRAM-MD5\r\n");
    posta_sasl_free(s);

    /* Unknown offer (NULL): the strongest the client has. */
    s = new_session(POSTA_SASL_POP3, 1);
    T_EQ_INT(start(s, NULL, &line, &n), 0);
    T_ASSERT(strncmp(str(line, n), "AUTH SCRAM-SHA-512 ", 19) == 0);
    posta_sasl_free(s);

    /* ANONYMOUS only when named; a token brings OAUTHBEARER first. */
    s = new_session(POSTA_SASL_SMTP, 1);
    T_EQ_INT(start(s, "ANONYMOUS", &line, &n), POSTA_EUNSUPPORTED);
    T_CONTAINS(posta_sasl_errmsg(s), "no SASL mechanism in common: the server offers ANONYMOUS");
    posta_sasl_free(s);
    s = new_session(POSTA_SASL_SMTP, 1);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_TOKEN, "tok", 3), 0);
    T_EQ_INT(start(s, "PLAIN XOAUTH2 OAUTHBEARER SCRAM-SHA-256", &line, &n), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "OAUTHBEARER");
    posta_sasl_free(s);
}

static void test_no_common(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = new_session(POSTA_SASL_IMAP, 1);
    T_EQ_INT(start(s, "", &line, &n), POSTA_EUNSUPPORTED);
    T_EQ_STR(posta_sasl_errmsg(s), "the server offers no SASL mechanism");
    posta_sasl_free(s);
    s = new_session(POSTA_SASL_IMAP, 1);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "SCRAM-SHA-256, CRAM-MD5"), 0);
    T_EQ_INT(start(s, "PLAIN X-FOO", &line, &n), POSTA_EUNSUPPORTED);
    T_EQ_STR(posta_sasl_errmsg(s), "the server offers none of SCRAM-SHA-256, CRAM-MD5 (it offers "
                                   "PLAIN X-FOO)");
    posta_sasl_free(s);
}

static void test_mech_list_validation(void)
{
    posta_sasl *s = new_session(POSTA_SASL_IMAP, 1);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "PLAIN\r\nA1 LOGOUT"), POSTA_EINVAL);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "SCRAM-SHA-256-PLUS-PLUS-PLUS"), POSTA_EINVAL);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "plain,login"), 0);
    T_EQ_INT(posta_sasl_set_mechanisms(s, ""), 0);
    T_EQ_INT(posta_sasl_set_mechanisms(s, NULL), 0);
    posta_sasl_free(s);
    posta_sasl *x = NULL;
    T_EQ_INT(posta_sasl_new(&x, (posta_sasl_proto)0, "imap", NULL), POSTA_EINVAL);
    T_EQ_INT(posta_sasl_new(&x, POSTA_SASL_IMAP, "", NULL), POSTA_EINVAL);
    posta_sasl_free(NULL);
}

/* Cleartext secrets never leave on an unencrypted connection by default. */
static int notices;
static char last_notice[512];
static void on_notice(posta_sasl *s, const char *msg, void *user)
{
    notices++;
    snprintf(last_notice, sizeof(last_notice), "%s", msg);
}

static void test_policy(void)
{
    const char *line = NULL;
    size_t n = 0;
    posta_sasl *s = new_session(POSTA_SASL_IMAP, 0);
    posta_sasl_set_notice_cb(s, on_notice, NULL);
    notices = 0;
    T_EQ_INT(start(s, "PLAIN LOGIN", &line, &n), POSTA_EPOLICY);
    T_EQ_STR(posta_sasl_errmsg(s), "refusing PLAIN: it would send the password in cleartext over "
             "an unencrypted connection (use TLS, or allow plaintext explicitly); refusing LOGIN: "
             "it would send the password in cleartext over an unencrypted connection (use TLS, "
             "or allow plaintext explicitly)");
    T_EQ_INT(notices, 1);  /* the RFC 2595 warning about the offer itself */
    T_CONTAINS(last_notice, "the server offers PLAIN on an unencrypted connection");
    posta_sasl_free(s);

    s = new_session(POSTA_SASL_IMAP, 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_TOKEN, "t", 1), 0);
    T_EQ_INT(start(s, "OAUTHBEARER", &line, &n), POSTA_EPOLICY);
    T_CONTAINS(posta_sasl_errmsg(s), "refusing OAUTHBEARER: it would send the token in cleartext");
    posta_sasl_free(s);

    s = new_session(POSTA_SASL_IMAP, 0);
    posta_sasl_set_notice_cb(s, on_notice, NULL);
    posta_sasl_set_allow_plaintext(s, 1);
    notices = 0;
    T_EQ_INT(start(s, "PLAIN", &line, &n), 0);
    T_EQ_STR(last_notice, "sending PLAIN credentials in cleartext over an unencrypted connection, "
                          "as allowed");
    posta_sasl_free(s);

    /* Unencrypted but not cleartext: SCRAM goes without a word. */
    s = new_session(POSTA_SASL_IMAP, 0);
    T_EQ_INT(start(s, "PLAIN SCRAM-SHA-1", &line, &n), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "SCRAM-SHA-1");
    posta_sasl_free(s);
}

/* Initial responses: SASL-IR, "=", and the per-protocol line limits. */
static void test_initial_response(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = new_session(POSTA_SASL_IMAP, 1);
    posta_sasl_set_initial_response(s, 1);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "PLAIN"), 0);
    T_EQ_INT(start(s, "PLAIN", &line, &n), 0);
    T_EQ_STR(str(line, n), "AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\n");
    posta_sasl_free(s);

    /* EXTERNAL without an authzid: an empty initial response is "=". */
    s = new_session(POSTA_SASL_SMTP, 1);
    posta_sasl_set_tls(s, 1, 256, 1);
    T_EQ_INT(start(s, "EXTERNAL PLAIN", &line, &n), 0);
    T_EQ_STR(str(line, n), "AUTH EXTERNAL =\r\n");
    posta_sasl_free(s);

    /* ... and without SASL-IR an empty line after the go-ahead. */
    s = new_session(POSTA_SASL_IMAP, 1);
    posta_sasl_set_tls(s, 1, 256, 1);
    T_EQ_INT(start(s, "EXTERNAL", &line, &n), 0);
    T_EQ_STR(str(line, n), "AUTHENTICATE EXTERNAL\r\n");
    T_EQ_INT(posta_sasl_on_continuation(s, "", 0, &line, &n), 0);
    T_EQ_STR(str(line, n), "\r\n");
    T_EQ_INT(posta_sasl_on_success(s, NULL, 0), 0);
    posta_sasl_free(s);
}

/* XOAUTH2 with a token of tlen bytes: "user=a^Aauth=Bearer T^A^A" is
 * 21 + tlen bytes. */
static size_t ir_line(posta_sasl_proto proto, size_t tlen, char *first, size_t firstsz)
{
    char tok[2000];
    const char *line;
    size_t n;
    posta_sasl *s = NULL;
    memset(tok, 'x', tlen);
    T_EQ_INT(posta_sasl_new(&s, proto, "smtp", NULL), 0);
    posta_sasl_set_tls(s, 1, 256, 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, "a", 1), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_TOKEN, tok, tlen), 0);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "XOAUTH2"), 0);
    T_EQ_INT(start(s, "XOAUTH2", &line, &n), 0);
    snprintf(first, firstsz, "%.*s", (int)n, line);
    if (n < 20) {  /* held back: it comes after an empty challenge */
        T_EQ_INT(posta_sasl_on_continuation(s, "", 0, &line, &n), 0);
        T_EQ_INT(strlen(decoded(line, n)), 21 + tlen);
    }
    posta_sasl_free(s);
    return strlen(first);
}

static void test_ir_limits(void)
{
    char first[4096];
    /* SMTP: "AUTH XOAUTH2 " + base64 + CRLF <= 512: 372 bytes encode to 496. */
    T_EQ_INT(ir_line(POSTA_SASL_SMTP, 351, first, sizeof(first)), 511);
    T_EQ_INT(ir_line(POSTA_SASL_SMTP, 352, first, sizeof(first)), 14);
    T_EQ_STR(first, "AUTH XOAUTH2\r\n");
    /* POP3: 255 octets; 180 bytes encode to 240, line 255. */
    T_EQ_INT(ir_line(POSTA_SASL_POP3, 159, first, sizeof(first)), 255);
    T_EQ_INT(ir_line(POSTA_SASL_POP3, 160, first, sizeof(first)), 14);
    /* IMAP: long tokens fit (8000). */
    posta_sasl *s = NULL;
    const char *line;
    size_t n;
    char tok[1500];
    memset(tok, 'y', sizeof(tok));
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_IMAP, "imap", NULL), 0);
    posta_sasl_set_tls(s, 1, 256, 0);
    posta_sasl_set_initial_response(s, 1);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, "a", 1), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_TOKEN, tok, sizeof(tok)), 0);
    T_EQ_INT(start(s, "XOAUTH2", &line, &n), 0);
    T_ASSERT(n > 2000);
    posta_sasl_free(s);
}

static void test_oauth_messages(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = NULL;
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_IMAP, "imap", "mail.example"), 0);
    posta_sasl_set_tls(s, 1, 256, 0);
    posta_sasl_set_initial_response(s, 1);
    posta_sasl_set_port(s, 993);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHZID, "a,b=c", 5), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_TOKEN, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", 42), 0);
    T_EQ_INT(start(s, "OAUTHBEARER", &line, &n), 0);
    T_EQ_STR(decoded(line, n), "n,a=a=2Cb=3Dc,\001host=mail.example\001port=993\001auth=Bearer "
                               "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\001\001");
    /* RFC 7628 3.2.2: the error challenge is answered with %x01 alone. */
    const char *err = "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIn0=";
    T_EQ_INT(posta_sasl_on_continuation(s, err, strlen(err), &line, &n), 0);
    T_EQ_STR(str(line, n), "AQ==\r\n");
    T_EQ_INT(posta_sasl_on_failure(s, POSTA_SASL_REJECTED, "NO failed", 9, &line, &n), POSTA_EAUTH);
    T_EQ_STR(posta_sasl_errmsg(s), "OAUTHBEARER authentication failed: the token was refused "
                                   "(status \"invalid_token\"; server: NO failed)");
    posta_sasl_free(s);

    /* No authzid: the user name stands in; no host, no port. */
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_SMTP, "smtp", NULL), 0);
    posta_sasl_set_tls(s, 1, 256, 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, "alice", 5), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_TOKEN, "t0k", 3), 0);
    T_EQ_INT(start(s, "OAUTHBEARER", &line, &n), 0);
    T_EQ_STR(decoded(line, n), "n,a=alice,\001auth=Bearer t0k\001\001");
    /* A success without the error flow completes it. */
    T_EQ_INT(posta_sasl_on_success(s, NULL, 0), 0);
    T_EQ_INT(posta_sasl_authenticated(s), 1);
    posta_sasl_free(s);

    /* XOAUTH2: its error challenge gets an empty response. */
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_SMTP, "smtp", NULL), 0);
    posta_sasl_set_tls(s, 1, 256, 0);
    /* Google's documented example. */
    const char *user = "someuser@example.com", *tok = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg";
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, user, strlen(user)), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_TOKEN, tok, strlen(tok)), 0);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "XOAUTH2"), 0);
    T_EQ_INT(start(s, "XOAUTH2", &line, &n), 0);
    T_EQ_STR(str(line, n), "AUTH XOAUTH2 dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==\r\n");
    const char *gerr = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==";
    T_EQ_INT(posta_sasl_on_continuation(s, gerr, strlen(gerr), &line, &n), 0);
    T_EQ_STR(str(line, n), "\r\n");
    /* A second challenge is a protocol error: cancel. */
    T_EQ_INT(posta_sasl_on_continuation(s, gerr, strlen(gerr), &line, &n), 0);
    T_EQ_STR(str(line, n), "*\r\n");
    T_EQ_INT(posta_sasl_on_failure(s, POSTA_SASL_REJECTED, "5.7.8 nope", 10, &line, &n), POSTA_EAUTH);
    T_CONTAINS(posta_sasl_errmsg(s), "XOAUTH2 was canceled by the client: XOAUTH2: the server sent "
                                     "a second challenge (server: 5.7.8 nope)");
    posta_sasl_free(s);
}

/* RFC 2195 2: tim / tanstaaftanstaaf. */
static void test_cram_md5_vector(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = NULL;
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_IMAP, "imap", "postoffice.reston.mci.net"), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, "tim", 3), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_PASSWORD, "tanstaaftanstaaf", 16), 0);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "CRAM-MD5"), 0);
    T_EQ_INT(start(s, "CRAM-MD5", &line, &n), 0);
    const char *ch = "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+";
    T_EQ_INT(posta_sasl_on_continuation(s, ch, strlen(ch), &line, &n), 0);
    T_EQ_STR(str(line, n), "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n");
    T_EQ_INT(posta_sasl_on_success(s, NULL, 0), 0);
    T_EQ_INT(posta_sasl_ssf(s), 0);
    T_EQ_INT(posta_sasl_install_layer(s, NULL), 0);  /* nothing to install */
    posta_sasl_free(s);
}

/* A server that says OK before the exchange is over proves nothing. */
static void test_premature_success(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = new_session(POSTA_SASL_IMAP, 1);
    T_EQ_INT(start(s, "CRAM-MD5", &line, &n), 0);
    T_EQ_INT(posta_sasl_on_success(s, NULL, 0), POSTA_EAUTH);
    T_CONTAINS(posta_sasl_errmsg(s), "the server reported success before the CRAM-MD5 exchange "
                                     "was complete");
    T_EQ_INT(posta_sasl_authenticated(s), 0);
    T_EQ_INT(posta_sasl_on_continuation(s, "", 0, &line, &n), POSTA_ESTATE);
    posta_sasl_free(s);

    /* SCRAM: success before server-final. */
    s = new_session(POSTA_SASL_SMTP, 1);
    T_EQ_INT(start(s, "SCRAM-SHA-1", &line, &n), 0);
    T_EQ_INT(posta_sasl_on_success(s, NULL, 0), POSTA_EAUTH);
    posta_sasl_free(s);
}

static void test_bad_challenge(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = new_session(POSTA_SASL_IMAP, 1);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "CRAM-MD5 PLAIN"), 0);
    T_EQ_INT(start(s, "CRAM-MD5 PLAIN", &line, &n), 0);
    T_EQ_INT(posta_sasl_on_continuation(s, "not base64!", 11, &line, &n), 0);
    T_EQ_STR(str(line, n), "*\r\n");
    /* More from the server after "*" gets "*" again. */
    T_EQ_INT(posta_sasl_on_continuation(s, "", 0, &line, &n), 0);
    T_EQ_STR(str(line, n), "*\r\n");
    /* The cancel acknowledged: the next mechanism. */
    T_EQ_INT(posta_sasl_on_failure(s, POSTA_SASL_REJECTED, "BAD canceled", 12, &line, &n), 0);
    T_EQ_STR(str(line, n), "AUTHENTICATE PLAIN\r\n");
    posta_sasl_free(s);
}

static void test_app_cancel(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = new_session(POSTA_SASL_IMAP, 1);
    T_EQ_INT(posta_sasl_cancel(s, &line, &n), POSTA_ESTATE);
    T_EQ_INT(start(s, "CRAM-MD5 PLAIN", &line, &n), 0);
    T_EQ_INT(posta_sasl_cancel(s, &line, &n), 0);
    T_EQ_STR(str(line, n), "*\r\n");
    /* The application's cancel is final. */
    T_EQ_INT(posta_sasl_on_failure(s, POSTA_SASL_REJECTED, "BAD canceled", 12, &line, &n),
             POSTA_EAUTH);
    T_CONTAINS(posta_sasl_errmsg(s), "CRAM-MD5 was canceled by the client: the application "
                                     "canceled (server: BAD canceled)");
    posta_sasl_free(s);
}

/* --- credentials ----------------------------------------------------------- */

struct asked {
    int n[8];
    int answer;  /* what to return for the password */
};

static int cred_cb(posta_sasl *s, posta_sasl_credential what, const char *mech, void *user)
{
    struct asked *a = user;
    a->n[what]++;
    if (what == POSTA_SASL_AUTHCID)
        return posta_sasl_set_credential(s, what, "bob", 3);
    if (what == POSTA_SASL_PASSWORD && a->answer == 0)
        return posta_sasl_set_credential(s, what, "bobpw", 5);
    if (what == POSTA_SASL_PASSWORD)
        return a->answer;
    return 0;
}

static void test_credentials(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = NULL;
    struct asked a = {{0}, 0};
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_IMAP, "imap", NULL), 0);
    posta_sasl_set_tls(s, 1, 256, 0);
    posta_sasl_set_initial_response(s, 1);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_PASSWORD, "a\0b", 3), POSTA_EINVAL);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, "a\r\nb", 4), POSTA_EINVAL);
    T_EQ_INT(posta_sasl_set_credential(s, (posta_sasl_credential)42, "a", 1), POSTA_EINVAL);
    const char *v;
    size_t vn;
    T_EQ_INT(posta_sasl_get_credential(s, POSTA_SASL_PASSWORD, &v, &vn), POSTA_ENOTFOUND);
    T_EQ_STR(posta_sasl_errmsg(s), "no password available");
    posta_sasl_set_credential_cb(s, cred_cb, &a);
    T_EQ_INT(start(s, "PLAIN", &line, &n), 0);
    T_EQ_STR(decoded(line, n), "|bob|bobpw");
    T_EQ_INT(a.n[POSTA_SASL_AUTHCID], 1);
    T_EQ_INT(a.n[POSTA_SASL_PASSWORD], 1);
    T_EQ_INT(a.n[POSTA_SASL_AUTHZID], 1);
    T_EQ_INT(posta_sasl_get_credential(s, POSTA_SASL_PASSWORD, &v, &vn), 0);
    T_EQ_MEM(v, vn, "bobpw", 5);
    posta_sasl_free(s);

    /* The callback has no password: CRAM-MD5 (tried first) is canceled at
     * its challenge, and PLAIN cannot start. */
    struct asked b = {{0}, POSTA_ENOTFOUND};
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_IMAP, "imap", NULL), 0);
    posta_sasl_set_tls(s, 1, 256, 0);
    posta_sasl_set_credential_cb(s, cred_cb, &b);
    T_EQ_INT(start(s, "PLAIN CRAM-MD5", &line, &n), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "CRAM-MD5");  /* asks at the challenge */
    T_EQ_INT(posta_sasl_on_continuation(s, "PDE+", 4, &line, &n), 0);
    T_EQ_STR(str(line, n), "*\r\n");
    T_EQ_INT(posta_sasl_on_failure(s, POSTA_SASL_REJECTED, "BAD", 3, &line, &n), POSTA_EAUTH);
    T_CONTAINS(posta_sasl_errmsg(s), "CRAM-MD5 was canceled by the client: no password available");
    T_EQ_INT(b.n[POSTA_SASL_PASSWORD], 1);
    posta_sasl_free(s);

    /* The user gave up: that code comes back, nothing else is tried. */
    struct asked c = {{0}, POSTA_ECANCELED};
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_IMAP, "imap", NULL), 0);
    posta_sasl_set_tls(s, 1, 256, 0);
    posta_sasl_set_credential_cb(s, cred_cb, &c);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "PLAIN CRAM-MD5"), 0);
    T_EQ_INT(start(s, "PLAIN CRAM-MD5", &line, &n), POSTA_ECANCELED);
    posta_sasl_free(s);
    struct asked d = {{0}, POSTA_ECANCELED};
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_IMAP, "imap", NULL), 0);
    posta_sasl_set_tls(s, 1, 256, 0);
    posta_sasl_set_credential_cb(s, cred_cb, &d);
    T_EQ_INT(start(s, "CRAM-MD5 PLAIN", &line, &n), 0);
    T_EQ_INT(posta_sasl_on_continuation(s, "PDE+", 4, &line, &n), 0);
    T_EQ_STR(str(line, n), "*\r\n");
    T_EQ_INT(posta_sasl_on_failure(s, POSTA_SASL_REJECTED, "BAD", 3, &line, &n), POSTA_ECANCELED);
    posta_sasl_free(s);
}

/* Missing credentials everywhere: POSTA_EAUTH naming what is missing. */
static void test_missing(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = NULL;
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_SMTP, "smtp", NULL), 0);
    posta_sasl_set_tls(s, 1, 256, 0);
    T_EQ_INT(start(s, "PLAIN XOAUTH2", &line, &n), POSTA_EAUTH);
    T_EQ_STR(posta_sasl_errmsg(s), "PLAIN: no user name available");
    posta_sasl_free(s);
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_SMTP, "smtp", NULL), 0);
    posta_sasl_set_tls(s, 1, 256, 0);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "XOAUTH2 PLAIN"), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, "u", 1), 0);
    T_EQ_INT(start(s, "PLAIN XOAUTH2", &line, &n), POSTA_EAUTH);
    T_EQ_STR(posta_sasl_errmsg(s), "XOAUTH2: no OAuth token available; PLAIN: no password available");
    posta_sasl_free(s);
}

/* --- channel binding and SSF ------------------------------------------------ */

static posta_sasl *cb_session(int with_cb)
{
    posta_sasl *s = new_session(POSTA_SASL_IMAP, 1);
    posta_sasl_set_initial_response(s, 1);
    if (with_cb)
        T_EQ_INT(posta_sasl_set_channel_binding(s, "tls-exporter", "0123456789abcdef0123456789abcdef", 32), 0);
    return s;
}

static void test_channel_binding_flags(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = cb_session(1);
    T_EQ_INT(start(s, "SCRAM-SHA-256 SCRAM-SHA-256-PLUS", &line, &n), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "SCRAM-SHA-256-PLUS");
    T_ASSERT(strncmp(decoded(line, n), "p=tls-exporter,,n=alice,r=", 26) == 0);
    posta_sasl_free(s);

    s = cb_session(1);
    T_EQ_INT(start(s, "SCRAM-SHA-256", &line, &n), 0);
    T_ASSERT(strncmp(decoded(line, n), "y,,n=alice,r=", 13) == 0);
    posta_sasl_free(s);

    /* Told to use plain SCRAM although -PLUS is offered: "n", not "y". */
    s = cb_session(1);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "SCRAM-SHA-256"), 0);
    T_EQ_INT(start(s, "SCRAM-SHA-256 SCRAM-SHA-256-PLUS", &line, &n), 0);
    T_ASSERT(strncmp(decoded(line, n), "n,,n=alice,r=", 13) == 0);
    posta_sasl_free(s);

    s = cb_session(0);
    T_EQ_INT(start(s, "SCRAM-SHA-256-PLUS SCRAM-SHA-1", &line, &n), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "SCRAM-SHA-1");
    T_ASSERT(strncmp(decoded(line, n), "n,,n=alice,r=", 13) == 0);
    posta_sasl_free(s);

    s = cb_session(0);
    T_EQ_INT(posta_sasl_set_mechanisms(s, "SCRAM-SHA-1-PLUS"), 0);
    T_EQ_INT(start(s, "SCRAM-SHA-1-PLUS", &line, &n), POSTA_EUNSUPPORTED);
    T_EQ_STR(posta_sasl_errmsg(s), "SCRAM-SHA-1-PLUS needs TLS channel-binding data, and there is none");
    posta_sasl_free(s);

    s = cb_session(0);
    T_EQ_INT(posta_sasl_set_channel_binding(s, "", "x", 1), POSTA_EINVAL);
    T_EQ_INT(posta_sasl_set_channel_binding(s, NULL, NULL, 0), 0);
    posta_sasl_free(s);
}

static void test_ssf_limits(void)
{
    const char *line;
    size_t n;
    /* No TLS, integrity required: only DIGEST-MD5 can give it. */
    posta_sasl *s = new_session(POSTA_SASL_IMAP, 0);
    posta_sasl_set_ssf(s, 1, 256);
    T_EQ_INT(start(s, "SCRAM-SHA-256 CRAM-MD5 DIGEST-MD5", &line, &n), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "DIGEST-MD5");
    posta_sasl_free(s);
    s = new_session(POSTA_SASL_IMAP, 0);
    posta_sasl_set_ssf(s, 1, 256);
    T_EQ_INT(start(s, "SCRAM-SHA-256 CRAM-MD5", &line, &n), POSTA_EUNSUPPORTED);
    T_CONTAINS(posta_sasl_errmsg(s), "SCRAM-SHA-256 is not available");
    posta_sasl_free(s);
    /* TLS already gives 256: any mechanism meets min 128. */
    s = new_session(POSTA_SASL_IMAP, 1);
    posta_sasl_set_ssf(s, 128, 256);
    T_EQ_INT(start(s, "SCRAM-SHA-256 CRAM-MD5", &line, &n), 0);
    T_EQ_STR(posta_sasl_mechanism(s), "SCRAM-SHA-256");
    posta_sasl_free(s);
}

/* --- POP3 helpers ------------------------------------------------------------ */

static void test_apop(void)
{
    char hex[33];
    const char *ts = "<1896.697170952@dbc.mtview.ca.us>";
    T_EQ_INT(posta_sasl_apop_digest(ts, strlen(ts), "tanstaaf", 8, hex), 0);
    T_EQ_STR(hex, "c4c9334bac560ecc979e58001b3e22fb");  /* RFC 1939 7 */

    const char *line;
    size_t n;
    posta_sasl *s = NULL;
    T_EQ_INT(posta_sasl_new(&s, POSTA_SASL_POP3, "pop", NULL), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, "mrose", 5), 0);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_PASSWORD, "tanstaaf", 8), 0);
    const char *g = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n";
    T_EQ_INT(posta_sasl_apop_command(s, g, strlen(g), &line, &n), 0);
    T_EQ_STR(str(line, n), "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
    T_EQ_INT(posta_sasl_apop_command(s, "+OK ready", 9, &line, &n), POSTA_EUNSUPPORTED);
    T_EQ_INT(posta_sasl_apop_command(s, "+OK <a b>", 9, &line, &n), POSTA_EUNSUPPORTED);
    T_EQ_INT(posta_sasl_apop_command(s, "+OK <unterminated", 17, &line, &n), POSTA_EUNSUPPORTED);
    T_EQ_INT(posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, "m rose", 6), 0);
    T_EQ_INT(posta_sasl_apop_command(s, g, strlen(g), &line, &n), POSTA_EINVAL);
    posta_sasl_free(s);
}

static void test_user_pass(void)
{
    const char *line;
    size_t n;
    posta_sasl *s = new_session(POSTA_SASL_POP3, 0);
    T_EQ_INT(posta_sasl_user_command(s, &line, &n), POSTA_EPOLICY);
    T_EQ_INT(posta_sasl_pass_command(s, &line, &n), POSTA_EPOLICY);
    T_EQ_INT(posta_sasl_check_cleartext(s, "LOGIN"), POSTA_EPOLICY);
    T_EQ_STR(posta_sasl_errmsg(s), "refusing LOGIN: it would send the password in cleartext over "
                                   "an unencrypted connection (use TLS, or allow plaintext explicitly)");
    posta_sasl_set_allow_plaintext(s, 1);
    posta_sasl_set_notice_cb(s, on_notice, NULL);
    T_EQ_INT(posta_sasl_user_command(s, &line, &n), 0);
    T_EQ_STR(str(line, n), "USER alice\r\n");
    T_CONTAINS(last_notice, "sending USER/PASS credentials in cleartext");
    T_EQ_INT(posta_sasl_pass_command(s, &line, &n), 0);
    T_EQ_STR(str(line, n), "PASS alicepw\r\n");
    posta_sasl_free(s);
    s = new_session(POSTA_SASL_POP3, 1);
    T_EQ_INT(posta_sasl_check_cleartext(s, "LOGIN"), 0);
    posta_sasl_free(s);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"parse_continuation", test_parse_continuation},
        {"auto_choice", test_auto_choice},
        {"no_common", test_no_common},
        {"mech_list_validation", test_mech_list_validation},
        {"policy", test_policy},
        {"initial_response", test_initial_response},
        {"ir_limits", test_ir_limits},
        {"oauth_messages", test_oauth_messages},
        {"cram_md5_vector", test_cram_md5_vector},
        {"premature_success", test_premature_success},
        {"bad_challenge", test_bad_challenge},
        {"app_cancel", test_app_cancel},
        {"credentials", test_credentials},
        {"missing", test_missing},
        {"channel_binding_flags", test_channel_binding_flags},
        {"ssf_limits", test_ssf_limits},
        {"apop", test_apop},
        {"user_pass", test_user_pass},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
