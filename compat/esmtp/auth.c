/* auth-client.h on posta's SASL engine: a context holds libESMTP's
 * mechanism flags and interaction callback; each SMTP connection gets a
 * posta SASL session asking that callback for the user name and password,
 * and auth_response() runs a stand-alone exchange the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <posta/util.h>

#include "esmtp_int.h"

struct auth_context {
    unsigned flags;
    int min_ssf;
    auth_interact_t interact;
    void *interact_arg;
    char *external_id;
    char mech[24];      /* chosen with auth_set_mechanism(), or last used */
    int ssf;
    /* The answers of the latest interaction: posta asks for the user name
     * and the password separately, libESMTP's callback gives both at once. */
    char *user, *pass;
    int asked;
    /* auth_response(): the stand-alone exchange and its latest response */
    posta_sasl *sasl;
    unsigned char *resp;
};

/* Secrets are wiped before the memory goes back. */
static void wipe_free(char *p)
{
    if (!p)
        return;
    volatile char *v = p;
    while (*v)
        *v++ = 0;
    free(p);
}

static void forget_answers(auth_context_t a)
{
    wipe_free(a->user);
    wipe_free(a->pass);
    a->user = a->pass = NULL;
    a->asked = 0;
}

AUTH_CLIENT_API void auth_client_init(void)
{
    posta_init();
}

AUTH_CLIENT_API void auth_client_exit(void)
{
}

AUTH_CLIENT_API auth_context_t auth_create_context(void)
{
    return calloc(1, sizeof(struct auth_context));
}

static void end_exchange(auth_context_t a)
{
    posta_sasl_free(a->sasl);
    a->sasl = NULL;
    free(a->resp);
    a->resp = NULL;
}

AUTH_CLIENT_API int auth_destroy_context(auth_context_t a)
{
    if (!a)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    end_exchange(a);
    forget_answers(a);
    free(a->external_id);
    free(a);
    return 1;
}

AUTH_CLIENT_API int auth_set_mechanism_flags(auth_context_t a, unsigned set, unsigned clear)
{
    if (!a)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    /* EXTERNAL follows auth_set_external_id() alone. */
    a->flags &= AUTH_PLUGIN_EXTERNAL | ~clear;
    a->flags |= ~(unsigned)AUTH_PLUGIN_EXTERNAL & set;
    return 1;
}

AUTH_CLIENT_API int auth_set_mechanism_ssf(auth_context_t a, int min_ssf)
{
    if (!a)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    a->min_ssf = min_ssf < 0 ? 0 : min_ssf;
    return 1;
}

AUTH_CLIENT_API int auth_set_interact_cb(auth_context_t a, auth_interact_t interact, void *arg)
{
    if (!a)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    a->interact = interact;
    a->interact_arg = arg;
    return 1;
}

AUTH_CLIENT_API int auth_client_enabled(auth_context_t a)
{
    return a && a->interact;
}

AUTH_CLIENT_API int auth_set_external_id(auth_context_t a, const char *identity)
{
    if (!a)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    char *copy = identity ? strdup(identity) : NULL;
    if (identity && !copy)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    free(a->external_id);
    a->external_id = copy;
    if (copy)
        a->flags |= AUTH_PLUGIN_EXTERNAL;
    else
        a->flags &= ~(unsigned)AUTH_PLUGIN_EXTERNAL;
    return 1;
}

/* --- which mechanisms ------------------------------------------------------------ */

/* The mechanisms a context may use, strongest first, and the flag each
 * needs.  DIGEST-MD5 (obsolete, RFC 6331) and GSSAPI are left out: neither
 * was a libESMTP mechanism, and both ask questions its callback cannot
 * answer. */
static const struct {
    const char *name;
    unsigned needs;
} mechanisms[] = {
    {"EXTERNAL", AUTH_PLUGIN_EXTERNAL},
    {"SCRAM-SHA-512-PLUS", 0},
    {"SCRAM-SHA-256-PLUS", 0},
    {"SCRAM-SHA-1-PLUS", 0},
    {"SCRAM-SHA-512", 0},
    {"SCRAM-SHA-256", 0},
    {"SCRAM-SHA-1", 0},
    {"CRAM-MD5", 0},
    {"PLAIN", AUTH_PLUGIN_PLAIN},
    {"LOGIN", AUTH_PLUGIN_PLAIN},
    {"ANONYMOUS", AUTH_PLUGIN_ANONYMOUS},
};

static int usable(const auth_context_t a, size_t i)
{
    /* None of these adds a security layer, so a minimum SSF rules all out. */
    return a->min_ssf <= 0 && (a->flags & mechanisms[i].needs) == mechanisms[i].needs;
}

/* "SCRAM-SHA-256 CRAM-MD5 ..." for posta_sasl_set_mechanisms(). */
static void mechanism_list(const auth_context_t a, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++) {
        if (!usable(a, i))
            continue;
        size_t used = strlen(out);
        snprintf(out + used, n - used, "%s%s", used ? " " : "", mechanisms[i].name);
    }
}

AUTH_CLIENT_API int auth_set_mechanism(auth_context_t a, const char *name)
{
    if (!a || !name)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    end_exchange(a);
    for (size_t i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++)
        if (strcasecmp(name, mechanisms[i].name) == 0) {
            if (!usable(a, i))
                return 0;
            snprintf(a->mech, sizeof(a->mech), "%s", mechanisms[i].name);
            return 1;
        }
    return 0;
}

AUTH_CLIENT_API const char *auth_mechanism_name(auth_context_t a)
{
    if (!a || !a->mech[0])
        return esmtp_fail_null(SMTP_ERR_INVAL);
    return a->mech;
}

AUTH_CLIENT_API int auth_get_ssf(auth_context_t a)
{
    if (!a || !a->mech[0])
        return esmtp_fail(SMTP_ERR_INVAL, -1);
    return a->ssf;
}

/* --- credentials ------------------------------------------------------------------ */

static int cleartext(const char *mech)
{
    return mech && (strcasecmp(mech, "PLAIN") == 0 || strcasecmp(mech, "LOGIN") == 0);
}

/* One call of the application's callback for the user name and password,
 * as libESMTP's mechanisms make it. */
static int interact(auth_context_t a, const char *mech)
{
    unsigned clear = cleartext(mech) ? AUTH_CLEARTEXT : 0;
    struct auth_client_request req[2] = {
        {"user", AUTH_USER | clear, "User name", 0},
        {"passphrase", AUTH_PASS | clear, "Pass phrase", 0},
    };
    char *result[2] = {NULL, NULL};
    a->asked = 1;
    if (!a->interact || !a->interact(req, result, 2, a->interact_arg))
        return POSTA_ENOTFOUND;
    a->user = strdup(result[0] ? result[0] : "");
    a->pass = strdup(result[1] ? result[1] : "");
    return a->user && a->pass ? 0 : POSTA_ENOMEM;
}

static int give(posta_sasl *s, posta_sasl_credential what, const char *value)
{
    return value ? posta_sasl_set_credential(s, what, value, strlen(value)) : POSTA_ENOTFOUND;
}

static int credential(posta_sasl *s, posta_sasl_credential what, const char *mech, void *user)
{
    auth_context_t a = user;
    if (what == POSTA_SASL_AUTHZID)
        return a->external_id && mech && strcasecmp(mech, "EXTERNAL") == 0
                   ? give(s, what, a->external_id) : 0;
    if (what != POSTA_SASL_AUTHCID && what != POSTA_SASL_PASSWORD)
        return POSTA_ENOTFOUND;
    if (!a->asked) {
        int rc = interact(a, mech);
        if (rc < 0)
            return rc;
    }
    return give(s, what, what == POSTA_SASL_AUTHCID ? a->user : a->pass);
}

static int configure(auth_context_t a, posta_sasl *s, const char *mechs)
{
    posta_sasl_set_credential_cb(s, credential, a);
    posta_sasl_set_ssf(s, (unsigned)a->min_ssf, 256);
    return posta_sasl_set_mechanisms(s, mechs);
}

/* --- the SMTP session's side --------------------------------------------------------- */

static int make_sasl(posta_smtp *h, const char *host, posta_sasl **s_r, void *user)
{
    smtp_session_t s = user;
    auth_context_t a = s->auth;
    char mechs[256];
    (void)h;
    forget_answers(a);
    mechanism_list(a, mechs, sizeof(mechs));
    if (!mechs[0])
        return POSTA_EUNSUPPORTED;
    posta_sasl *sasl;
    int rc = posta_sasl_new(&sasl, POSTA_SASL_SMTP, "smtp", host);
    if (rc == 0 && (rc = configure(a, sasl, mechs)) < 0)
        posta_sasl_free(sasl);
    if (rc == 0)
        *s_r = sasl;
    return rc;
}

void esmtp_auth_prepare(smtp_session_t s)
{
    if (auth_client_enabled(s->auth))
        posta_smtp_set_sasl_factory(s->h, make_sasl, s);
    else
        posta_smtp_set_sasl_factory(s->h, NULL, NULL);
}

void esmtp_auth_done(smtp_session_t s, const char *mech, unsigned ssf)
{
    auth_context_t a = s->auth;
    if (!a || !mech)
        return;
    snprintf(a->mech, sizeof(a->mech), "%s", mech);
    posta_sasl *sasl = posta_smtp_sasl(s->h);
    a->ssf = sasl ? (int)posta_sasl_layer_ssf(sasl) : (int)ssf;
    forget_answers(a);
}

/* The answers are wiped when the session ends, whatever happened. */
void esmtp_auth_end(smtp_session_t s)
{
    if (s->auth)
        forget_answers(s->auth);
}

ESMTP_API int smtp_auth_set_context(smtp_session_t s, auth_context_t context)
{
    if (!s)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    s->auth = context;
    return 1;
}

/* --- auth_response(): a stand-alone exchange ------------------------------------------ */

/* The response carried by posta's line (base64 + CRLF, or "AUTH M [IR]" at
 * the start), decoded into a->resp; NULL when there is none or the client
 * gave up ("*"). */
static const char *decode_line(auth_context_t a, const char *line, size_t n, int first, int *len)
{
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    if (first) {
        const char *sp = memchr(line, ' ', n);
        sp = sp ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - line)) : NULL;
        if (!sp)
            return NULL;   /* no initial response */
        n -= (size_t)(sp + 1 - line);
        line = sp + 1;
        if (n == 1 && line[0] == '=')
            n = 0;
    } else if (n == 1 && line[0] == '*') {
        return NULL;
    }
    size_t out_len = 0;
    free(a->resp);
    a->resp = NULL;
    if (posta_base64_decode(line, n, &a->resp, &out_len, NULL) < 0)
        return NULL;
    *len = (int)out_len;
    return a->resp ? (const char *)a->resp : "";
}

static const char *start_exchange(auth_context_t a, int *len)
{
    end_exchange(a);
    forget_answers(a);
    const char *line;
    size_t n;
    /* The caller owns the wire here, so it also decides what may cross it. */
    if (posta_sasl_new(&a->sasl, POSTA_SASL_SMTP, "smtp", NULL) < 0 ||
        configure(a, a->sasl, a->mech) < 0)
        return NULL;
    posta_sasl_set_allow_plaintext(a->sasl, 1);
    if (posta_sasl_start(a->sasl, a->mech, strlen(a->mech), &line, &n) < 0)
        return NULL;
    return decode_line(a, line, n, 1, len);
}

static const char *continue_exchange(auth_context_t a, const char *challenge, int *len)
{
    char *b64 = NULL;
    size_t b64_len = 0, n;
    const char *line;
    if (!a->sasl || *len < 0 || posta_base64_encode(challenge, (size_t)*len, &b64, &b64_len) < 0)
        return NULL;
    int rc = posta_sasl_on_continuation(a->sasl, b64 ? b64 : "", b64_len, &line, &n);
    free(b64);
    return rc < 0 ? NULL : decode_line(a, line, n, 0, len);
}

AUTH_CLIENT_API const char *auth_response(auth_context_t a, const char *challenge, int *len)
{
    if (!a || !a->mech[0] || !len || (!a->interact && !a->external_id))
        return esmtp_fail_null(SMTP_ERR_INVAL);
    return challenge ? continue_exchange(a, challenge, len) : start_exchange(a, len);
}

/* posta installs a negotiated security layer on its own stream; what goes
 * through these is passed as it is. */
AUTH_CLIENT_API void auth_encode(char **dstbuf, int *dstlen, const char *srcbuf, int srclen,
                                 void *arg)
{
    (void)arg;
    *dstbuf = (char *)srcbuf;
    *dstlen = srclen;
}

AUTH_CLIENT_API void auth_decode(char **dstbuf, int *dstlen, const char *srcbuf, int srclen,
                                 void *arg)
{
    (void)arg;
    *dstbuf = (char *)srcbuf;
    *dstlen = srclen;
}
