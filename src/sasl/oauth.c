/* The built-in OAuth 2.0 mechanisms: OAUTHBEARER (RFC 7628) and Google's
 * XOAUTH2, both a single client message, with the servers' JSON error flow. */
#include "sasl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* Control characters would end a key/value pair (%x01) or a line. */
static int clean(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return 0;
    return 1;
}

static void oauth_free(posta_sasl *s)
{
    if (s->oauth_buf) {
        OPENSSL_cleanse(s->oauth_buf, s->oauth_len);
        free(s->oauth_buf);
    }
    s->oauth_buf = NULL;
    s->oauth_len = 0;
}

static int append(struct posta_buf *b, const char *p, size_t n)
{
    return posta__buf_append(b, p, n);
}

/* The gs2 saslname (RFC 5801): "=" and "," escaped as =3D and =2C. */
static int append_saslname(struct posta_buf *b, const char *v, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (v[i] == '=')
            rc = append(b, "=3D", 3);
        else if (v[i] == ',')
            rc = append(b, "=2C", 3);
        else
            rc = append(b, v + i, 1);
    }
    return rc;
}

/* Keep the built message in the session (wiped later) and hand it out. */
static int finish_ir(posta_sasl *s, struct posta_buf *b, int rc, struct mech_out *out)
{
    if (rc < 0) {
        if (b->data)
            OPENSSL_cleanse(b->data, b->size);
        posta__buf_free(b);
        return POSTA_ENOMEM;
    }
    oauth_free(s);
    s->oauth_len = posta__buf_used(b);
    s->oauth_buf = b->data;  /* off is 0: nothing was consumed */
    out->present = 1;
    out->data = s->oauth_buf;
    out->len = s->oauth_len;
    return MECH_DONE;
}

static int get_token(posta_sasl *s, const char **tok, size_t *tn)
{
    int rc = posta__sasl_cred(s, POSTA_SASL_TOKEN, tok, tn);
    if (rc == 0 && !clean(*tok, *tn))
        return posta__sasl_error(s, POSTA_EUNSUPPORTED, "%s: the token contains control "
                                 "characters", s->mech);
    return rc;
}

/* "n,a=authzid,^Ahost=H^Aport=P^Aauth=Bearer T^A^A".  Servers such as
 * Dovecot need a=; without an authzid the user name stands in for it. */
static int bearer_begin(posta_sasl *s, const char *name, struct mech_out *out)
{
    const char *tok, *who = "";
    size_t tn, wn = 0;
    int rc = get_token(s, &tok, &tn);
    if (rc == 0)
        rc = posta__sasl_cred(s, POSTA_SASL_AUTHZID, &who, &wn);
    if (rc == 0 && wn == 0 && posta__sasl_cred(s, POSTA_SASL_AUTHCID, &who, &wn) < 0) {
        if (s->abort_code)
            return s->abort_code;
        who = "", wn = 0, s->cred_missing = 0;  /* optional */
    }
    if (rc < 0)
        return rc;

    struct posta_buf b;
    char num[16];
    posta__buf_init(&b, 0);
    /* Sized once: growing would leave copies of the token in freed memory. */
    rc = posta__buf_reserve(&b, 64 + strlen(s->host) + 3 * wn + tn);
    if (rc == 0)
        rc = append(&b, "n,", 2);
    if (rc == 0 && wn)
        rc = append(&b, "a=", 2) < 0 || append_saslname(&b, who, wn) < 0 ? POSTA_ENOMEM : 0;
    if (rc == 0)
        rc = append(&b, ",", 1);
    if (rc == 0 && s->host[0])
        rc = posta__buf_appendf(&b, "\001host=%s", s->host);
    if (rc == 0 && s->port) {
        snprintf(num, sizeof(num), "%u", s->port);
        rc = posta__buf_appendf(&b, "\001port=%s", num);
    }
    if (rc == 0)
        rc = append(&b, "\001auth=Bearer ", 13);
    if (rc == 0)
        rc = append(&b, tok, tn);
    if (rc == 0)
        rc = append(&b, "\001\001", 2);
    return finish_ir(s, &b, rc, out);
}

/* "user=U^Aauth=Bearer T^A^A" */
static int xoauth2_begin(posta_sasl *s, const char *name, struct mech_out *out)
{
    const char *tok, *user;
    size_t tn, un;
    int rc = get_token(s, &tok, &tn);
    if (rc == 0)
        rc = posta__sasl_cred(s, POSTA_SASL_AUTHCID, &user, &un);
    if (rc < 0)
        return rc;
    if (!clean(user, un))
        return posta__sasl_error(s, POSTA_EUNSUPPORTED, "%s: the user name contains control "
                                 "characters", name);
    struct posta_buf b;
    posta__buf_init(&b, 0);
    rc = posta__buf_reserve(&b, 32 + un + tn);
    if (rc == 0)
        rc = append(&b, "user=", 5);
    if (rc == 0)
        rc = append(&b, user, un);
    if (rc == 0)
        rc = append(&b, "\001auth=Bearer ", 13);
    if (rc == 0)
        rc = append(&b, tok, tn);
    if (rc == 0)
        rc = append(&b, "\001\001", 2);
    return finish_ir(s, &b, rc, out);
}

/* The "status" member of the server's JSON error, loosely: enough for the
 * sentence, never trusted further. */
static void json_status(const unsigned char *in, size_t len, char *out, size_t outsz)
{
    const char *key = "\"status\"";
    size_t kn = strlen(key), i = 0, j = 0;
    out[0] = '\0';
    while (i + kn <= len && memcmp(in + i, key, kn) != 0)
        i++;
    if (i + kn > len)
        return;
    for (i += kn; i < len && (in[i] == ' ' || in[i] == ':' || in[i] == '\t'); i++)
        ;
    if (i >= len || in[i] != '"')
        return;
    for (i++; i < len && in[i] != '"' && j + 1 < outsz; i++)
        out[j++] = (in[i] >= 0x20 && in[i] < 0x7f) ? (char)in[i] : '?';
    out[j] = '\0';
}

/*
 * A challenge after the client's message is the server's JSON error.
 * OAUTHBEARER answers it with the single byte %x01 (RFC 7628 3.2.3), XOAUTH2
 * with an empty response; the server then fails the exchange.  The
 * mechanism is not complete after that, so a "success" would be refused.
 */
static int oauth_error(posta_sasl *s, const unsigned char *in, size_t len, struct mech_out *out,
                       int bearer)
{
    if (s->oauth_errors++ > 0)
        return posta__sasl_error(s, POSTA_EAUTH, "%s: the server sent a second challenge",
                                 s->mech);
    json_status(in, len, s->oauth_status, sizeof(s->oauth_status));
    if (!s->oauth_status[0])
        snprintf(s->oauth_status, sizeof(s->oauth_status), "unknown");
    out->present = 1;
    out->data = (const unsigned char *)(bearer ? "\001" : "");
    out->len = bearer ? 1 : 0;
    return MECH_CONTINUE;
}

static int bearer_step(posta_sasl *s, const unsigned char *in, size_t len, struct mech_out *out)
{
    return oauth_error(s, in, len, out, 1);
}

static int xoauth2_step(posta_sasl *s, const unsigned char *in, size_t len, struct mech_out *out)
{
    return oauth_error(s, in, len, out, 0);
}

const struct mech_driver posta__sasl_oauthbearer_driver = {
    bearer_begin, bearer_step, NULL, oauth_free,
};

const struct mech_driver posta__sasl_xoauth2_driver = {
    xoauth2_begin, xoauth2_step, NULL, oauth_free,
};
