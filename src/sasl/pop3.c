/* Logins outside SASL that share its credentials and policy: POP3 APOP
 * (RFC 1939 7) and USER/PASS, and the cleartext check IMAP LOGIN uses too. */
#include "sasl_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

int posta_sasl_apop_digest(const char *timestamp, size_t tlen, const char *password,
                           size_t plen, char hex_r[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, timestamp, tlen) == 1 &&
             EVP_DigestUpdate(ctx, password, plen) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return POSTA_ENOMEM;
    for (unsigned i = 0; i < 16; i++)
        snprintf(hex_r + 2 * i, 3, "%02x", md[i]);
    OPENSSL_cleanse(md, sizeof(md));
    return 0;
}

/* The "<...>" msg-id in the greeting, brackets included. */
static int find_timestamp(const char *g, size_t len, const char **ts_r, size_t *n_r)
{
    const char *lt = memchr(g, '<', len);
    if (!lt)
        return 0;
    const char *gt = memchr(lt, '>', len - (size_t)(lt - g));
    if (!gt || gt - lt < 2 || memchr(lt, ' ', (size_t)(gt - lt)))
        return 0;
    *ts_r = lt;
    *n_r = (size_t)(gt - lt) + 1;
    return 1;
}

static int line_set(posta_sasl *s, const char *a, const char *b, size_t bn, const char **line_r,
                    size_t *len_r)
{
    if (s->line.data)
        OPENSSL_cleanse(s->line.data, s->line.size);
    posta__buf_reset(&s->line);
    if (posta__buf_reserve(&s->line, strlen(a) + bn + 3) < 0 ||
        posta__buf_append(&s->line, a, strlen(a)) < 0 || posta__buf_append(&s->line, b, bn) < 0 ||
        posta__buf_append(&s->line, "\r\n", 2) < 0)
        return posta__sasl_error(s, POSTA_ENOMEM, "out of memory");
    *line_r = (const char *)posta__buf_head(&s->line);
    *len_r = posta__buf_used(&s->line);
    return 0;
}

int posta_sasl_apop_command(posta_sasl *s, const char *greeting, size_t len,
                            const char **line_r, size_t *len_r)
{
    const char *ts, *user, *pass;
    size_t tn, un, pn;
    char hex[33], arg[600];
    if (!find_timestamp(greeting, len, &ts, &tn))
        return posta__sasl_error(s, POSTA_EUNSUPPORTED, "the server's greeting has no APOP "
                                 "timestamp");
    int rc = posta_sasl_get_credential(s, POSTA_SASL_AUTHCID, &user, &un);
    if (rc == 0)
        rc = posta_sasl_get_credential(s, POSTA_SASL_PASSWORD, &pass, &pn);
    if (rc < 0)
        return rc;
    if (memchr(user, ' ', un) || un + 34 > sizeof(arg))
        return posta__sasl_error(s, POSTA_EINVAL, "APOP cannot carry this user name");
    if ((rc = posta_sasl_apop_digest(ts, tn, pass, pn, hex)) < 0)
        return posta__sasl_error(s, rc, "cannot compute the APOP digest");
    snprintf(s->mech, sizeof(s->mech), "APOP");
    snprintf(arg, sizeof(arg), "%.*s %s", (int)un, user, hex);
    return line_set(s, "APOP ", arg, strlen(arg), line_r, len_r);
}

int posta_sasl_check_cleartext(posta_sasl *s, const char *what)
{
    if (s->encrypted)
        return 0;
    if (!s->allow_plain)
        return posta__sasl_error(s, POSTA_EPOLICY, "refusing %s: it would send the password in "
                                 "cleartext over an unencrypted connection (use TLS, or allow "
                                 "plaintext explicitly)", what);
    posta__sasl_notice(s, "sending %s credentials in cleartext over an unencrypted connection, "
                          "as allowed", what);
    return 0;
}

int posta_sasl_user_command(posta_sasl *s, const char **line_r, size_t *len_r)
{
    const char *user;
    size_t un;
    int rc = posta_sasl_check_cleartext(s, "USER/PASS");
    if (rc == 0)
        rc = posta_sasl_get_credential(s, POSTA_SASL_AUTHCID, &user, &un);
    if (rc < 0)
        return rc;
    snprintf(s->mech, sizeof(s->mech), "USER");
    return line_set(s, "USER ", user, un, line_r, len_r);
}

int posta_sasl_pass_command(posta_sasl *s, const char **line_r, size_t *len_r)
{
    const char *pass;
    size_t pn;
    int rc = s->encrypted || s->allow_plain ? 0 : posta_sasl_check_cleartext(s, "USER/PASS");
    if (rc == 0)
        rc = posta_sasl_get_credential(s, POSTA_SASL_PASSWORD, &pass, &pn);
    if (rc < 0)
        return rc;
    return line_set(s, "PASS ", pass, pn, line_r, len_r);
}
