/* posta_sasl sessions: creation, options, credentials (copied, wiped) and
 * the error and notice plumbing every other file of the layer uses. */
#include "sasl_int.h"
#include "net/net.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define DEFAULT_MAXBUF 65536
#define LINE_CAP (1024 * 1024)

int posta_sasl_new(posta_sasl **s_r, posta_sasl_proto proto, const char *service,
                   const char *host)
{
    int rc = posta_init();
    if (rc < 0)
        return rc;
    if (proto < POSTA_SASL_IMAP || proto > POSTA_SASL_POP3 || !service || !*service)
        return POSTA_EINVAL;
    posta_sasl *s = calloc(1, sizeof(*s));
    if (!s)
        return POSTA_ENOMEM;
    s->proto = proto;
    s->service = strdup(service);
    s->host = strdup(host ? host : "");
    if (!s->service || !s->host) {
        posta_sasl_free(s);
        return POSTA_ENOMEM;
    }
    s->try_next = 1;
    s->max_ssf = 256;
    s->maxbuf = DEFAULT_MAXBUF;
    s->ir_ok = proto != POSTA_SASL_IMAP;
    posta__buf_init(&s->line, LINE_CAP);
    *s_r = s;
    return 0;
}

static void wipe_free(void *p, size_t len)
{
    if (p) {
        OPENSSL_cleanse(p, len);
        free(p);
    }
}

static void cred_clear(struct cred *c)
{
    wipe_free(c->value, c->len + 1);
    memset(c, 0, sizeof(*c));
}

static void line_wipe(posta_sasl *s)
{
    if (s->line.data)
        OPENSSL_cleanse(s->line.data, s->line.size);
    posta__buf_reset(&s->line);
}

void posta_sasl_free(posta_sasl *s)
{
    if (!s)
        return;
    if (s->driver && s->driver->end)
        s->driver->end(s);
    posta__sasl_cyrus_free(s);
    for (size_t i = 0; i < sizeof(s->creds) / sizeof(s->creds[0]); i++)
        cred_clear(&s->creds[i]);
    wipe_free(s->ir, s->ir_len);
    wipe_free(s->oauth_buf, s->oauth_len);
    line_wipe(s);
    posta__buf_free(&s->line);
    free(s->cb_data);
    free(s->mech_list);
    free(s->service);
    free(s->host);
    free(s);
}

const char *posta_sasl_errmsg(const posta_sasl *s)
{
    return posta__err_msg(&s->err);
}

int posta__sasl_error(posta_sasl *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    posta__err_vset(&s->err, code, fmt, ap);
    va_end(ap);
    return code;
}

void posta__sasl_notice(posta_sasl *s, const char *fmt, ...)
{
    char msg[640];
    va_list ap;
    if (!s->notice_cb)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->notice_cb(s, msg, s->notice_user);
}

/* --- options ------------------------------------------------------------ */

static int mech_char(int c)
{
    return isupper(c) || isdigit(c) || c == '-' || c == '_' || islower(c);
}

/* Check a list of names separated by spaces or commas. */
static int valid_mech_list(const char *list)
{
    const char *p = list;
    while (*p) {
        size_t n = 0;
        while (*p == ' ' || *p == ',')
            p++;
        while (p[n] && mech_char((unsigned char)p[n]))
            n++;
        if (p[n] && p[n] != ' ' && p[n] != ',')
            return 0;
        if (n > MECH_NAME_MAX)
            return 0;
        p += n;
    }
    return 1;
}

int posta_sasl_set_mechanisms(posta_sasl *s, const char *list)
{
    if (s->state != SASL_ST_NEW)
        return posta__sasl_error(s, POSTA_ESTATE, "mechanisms cannot change once started");
    if (list && !valid_mech_list(list))
        return posta__sasl_error(s, POSTA_EINVAL,
                                 "bad SASL mechanism list \"%.200s\": names are 1 to 20 "
                                 "characters of A-Z 0-9 - _", list);
    char *copy = NULL;
    if (list && *list && !(copy = strdup(list)))
        return POSTA_ENOMEM;
    free(s->mech_list);
    s->mech_list = copy;
    return 0;
}

void posta_sasl_set_try_next(posta_sasl *s, int on) { s->try_next = on != 0; }
void posta_sasl_set_allow_plaintext(posta_sasl *s, int allow) { s->allow_plain = allow != 0; }
void posta_sasl_set_gssapi(posta_sasl *s, int on) { s->gssapi = on != 0; }
void posta_sasl_set_initial_response(posta_sasl *s, int on) { s->ir_ok = on != 0; }
void posta_sasl_set_port(posta_sasl *s, unsigned port) { s->port = port; }

void posta_sasl_set_ssf(posta_sasl *s, unsigned min_ssf, unsigned max_ssf)
{
    s->min_ssf = min_ssf;
    s->max_ssf = max_ssf < min_ssf ? min_ssf : max_ssf;
}

void posta_sasl_set_maxbuf(posta_sasl *s, unsigned maxbuf)
{
    s->maxbuf = maxbuf < 1024 ? 1024 : maxbuf;
}

void posta_sasl_set_tls(posta_sasl *s, int encrypted, unsigned ssf, int client_cert)
{
    s->encrypted = encrypted != 0;
    s->ext_ssf = ssf;
    s->client_cert = client_cert != 0;
}

/* The registered channel-binding types (RFC 5929, RFC 9266), as static
 * strings: libsasl2 keeps pointing at the name. */
static const char *cb_types[] = {"tls-exporter", "tls-unique", "tls-server-end-point"};

int posta_sasl_set_channel_binding(posta_sasl *s, const char *type, const void *data, size_t len)
{
    const char *known = NULL;
    free(s->cb_data);
    s->cb_data = NULL;
    s->cb_len = 0;
    s->cb_type = NULL;
    if (!type)
        return 0;
    for (size_t i = 0; i < sizeof(cb_types) / sizeof(cb_types[0]); i++)
        if (strcmp(type, cb_types[i]) == 0)
            known = cb_types[i];
    if (!known || len == 0 || len > CB_DATA_MAX || !data)
        return posta__sasl_error(s, POSTA_EINVAL, "bad channel-binding data (type \"%.40s\", "
                                 "%zu bytes)", type, len);
    if (!(s->cb_data = malloc(len)))
        return POSTA_ENOMEM;
    memcpy(s->cb_data, data, len);
    s->cb_len = len;
    s->cb_type = known;
    return 0;
}

int posta_sasl_use_stream(posta_sasl *s, posta_stream *st)
{
    char type[32];
    unsigned char cb[64];
    size_t n = 0;
    int up = posta_stream_tls_active(st);
    int bits = posta_stream_tls_bits(st);

    posta_sasl_set_tls(s, up, up && bits > 0 ? (unsigned)bits : 0, up && st->certfile != NULL);
    if (up && posta__tls_channel_binding(st, NULL, type, cb, sizeof(cb), &n) == 0)
        return posta_sasl_set_channel_binding(s, type, cb, n);
    return posta_sasl_set_channel_binding(s, NULL, NULL, 0);
}

/* --- credentials --------------------------------------------------------- */

void posta_sasl_set_credential_cb(posta_sasl *s, posta_sasl_credential_cb cb, void *user)
{
    s->cred_cb = cb;
    s->cred_user = user;
}

void posta_sasl_set_notice_cb(posta_sasl *s, posta_sasl_notice_cb cb, void *user)
{
    s->notice_cb = cb;
    s->notice_user = user;
}

static int valid_cred(posta_sasl_credential what)
{
    return what >= POSTA_SASL_AUTHCID && what <= POSTA_SASL_TOKEN;
}

int posta_sasl_set_credential(posta_sasl *s, posta_sasl_credential what, const char *value,
                              size_t len)
{
    if (!valid_cred(what))
        return posta__sasl_error(s, POSTA_EINVAL, "unknown credential %d", (int)what);
    struct cred *c = &s->creds[what];
    if (!value) {
        cred_clear(c);
        return 0;
    }
    /* NUL would split PLAIN's fields; CR and LF would split commands. */
    for (size_t i = 0; i < len; i++)
        if (value[i] == '\0' || value[i] == '\r' || value[i] == '\n')
            return posta__sasl_error(s, POSTA_EINVAL, "credentials may not contain NUL, CR or LF");
    char *copy = malloc(len + 1);
    if (!copy)
        return POSTA_ENOMEM;
    memcpy(copy, value, len);
    copy[len] = '\0';
    cred_clear(c);
    c->value = copy;
    c->len = len;
    c->set = 1;
    return 0;
}

/* Fetch a credential, asking the callback once.  Unset authzid and realm
 * are empty rather than missing. */
int posta__sasl_cred(posta_sasl *s, posta_sasl_credential what, const char **v_r, size_t *len_r)
{
    struct cred *c = &s->creds[what];
    if (!c->set && !c->refused && s->cred_cb) {
        int rc = s->cred_cb(s, what, s->mech[0] ? s->mech : "", s->cred_user);
        if (rc == POSTA_ENOTFOUND)
            c->refused = 1;
        else if (rc < 0)
            return s->abort_code = rc;
        else if (!c->set && posta_sasl_set_credential(s, what, "", 0) < 0)
            return POSTA_ENOMEM;
    }
    if (!c->set && (what == POSTA_SASL_AUTHZID || what == POSTA_SASL_REALM)) {
        *v_r = "";
        *len_r = 0;
        return 0;
    }
    if (!c->set) {
        s->cred_missing = (int)what;
        return POSTA_ENOTFOUND;
    }
    *v_r = c->value;
    *len_r = c->len;
    return 0;
}

int posta_sasl_get_credential(posta_sasl *s, posta_sasl_credential what, const char **value_r,
                              size_t *len_r)
{
    if (!valid_cred(what))
        return posta__sasl_error(s, POSTA_EINVAL, "unknown credential %d", (int)what);
    int rc = posta__sasl_cred(s, what, value_r, len_r);
    if (rc == POSTA_ENOTFOUND)
        return posta__sasl_error(s, rc, "no %s available",
                                 what == POSTA_SASL_PASSWORD ? "password" :
                                 what == POSTA_SASL_TOKEN ? "token" : "user name");
    return rc;
}

/* --- facts ----------------------------------------------------------------- */

int posta_sasl_authenticated(const posta_sasl *s) { return s->state == SASL_ST_DONE; }

const char *posta_sasl_mechanism(const posta_sasl *s) { return s->mech[0] ? s->mech : NULL; }

unsigned posta_sasl_layer_ssf(const posta_sasl *s) { return s->layer_ssf; }

unsigned posta_sasl_ssf(const posta_sasl *s) { return s->ext_ssf + s->layer_ssf; }
