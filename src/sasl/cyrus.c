/* The libsasl2 mechanism driver: one sasl_conn_t per mechanism tried, with
 * callbacks that fetch credentials from the session when a plugin asks. */
#include "sasl_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

/* libsasl2 stores every callback as int (*)(void); void (*)(void) in
 * between keeps -Wcast-function-type quiet about it. */
#define PROC(f) ((int (*)(void))(void (*)(void))(f))

static int cb_simple(void *ctx, int id, const char **result, unsigned *len)
{
    posta_sasl *s = ((struct posta__sasl_cbs *)ctx)->s;
    const char *v;
    size_t n;
    if (!s || !result)
        return SASL_FAIL;
    posta_sasl_credential what = id == SASL_CB_AUTHNAME ? POSTA_SASL_AUTHCID : POSTA_SASL_AUTHZID;
    if (posta__sasl_cred(s, what, &v, &n) < 0)
        return SASL_FAIL;
    *result = v;
    if (len)
        *len = (unsigned)n;
    return SASL_OK;
}

static void free_secret(posta_sasl *s)
{
    if (s->secret) {
        OPENSSL_cleanse(s->secret, s->secret_size);
        free(s->secret);
    }
    s->secret = NULL;
    s->secret_size = 0;
}

/* The password as a sasl_secret_t that lives (wiped at the end) in the
 * session, as libsasl2 expects the callback's memory to outlive the call. */
static int cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
    posta_sasl *s = ((struct posta__sasl_cbs *)ctx)->s;
    const char *v;
    size_t n;
    if (!s || !psecret || posta__sasl_cred(s, POSTA_SASL_PASSWORD, &v, &n) < 0)
        return SASL_FAIL;
    free_secret(s);
    s->secret_size = sizeof(sasl_secret_t) + n + 1;
    if (!(s->secret = malloc(s->secret_size)))
        return SASL_NOMEM;
    s->secret->len = n;
    memcpy(s->secret->data, v, n);
    s->secret->data[n] = '\0';
    *psecret = s->secret;
    return SASL_OK;
}

/* The caller's realm, or the server's first (DIGEST-MD5). */
static int cb_realm(void *ctx, int id, const char **avail, const char **result)
{
    posta_sasl *s = ((struct posta__sasl_cbs *)ctx)->s;
    const char *v = "";
    size_t n = 0;
    if (!s || !result || posta__sasl_cred(s, POSTA_SASL_REALM, &v, &n) < 0)
        return SASL_FAIL;
    *result = n ? v : (avail && avail[0]) ? avail[0] : "";
    return SASL_OK;
}

static int cb_log(void *ctx, int level, const char *message)
{
    return SASL_OK;
}

static struct posta__sasl_cbs *make_cbs(posta_sasl *s)
{
    struct posta__sasl_cbs *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    const sasl_callback_t list[] = {
        {SASL_CB_AUTHNAME, PROC(cb_simple), c},
        {SASL_CB_USER, PROC(cb_simple), c},
        {SASL_CB_PASS, PROC(cb_pass), c},
        {SASL_CB_GETREALM, PROC(cb_realm), c},
        {SASL_CB_LOG, PROC(cb_log), c},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    memcpy(c->list, list, sizeof(list));
    c->s = s;
    return c;
}

void posta__sasl_cyrus_free(posta_sasl *s)
{
    if (s->conn)
        sasl_dispose(&s->conn);
    s->conn = NULL;
    free(s->cbs);
    s->cbs = NULL;
    free_secret(s);
}

/* A libsasl2 result as a posta code with a sentence. */
static int map_result(posta_sasl *s, int r, const char *name)
{
    const char *detail = s->conn ? sasl_errdetail(s->conn) : sasl_errstring(r, NULL, NULL);
    if (s->abort_code)
        return s->abort_code;
    if (s->cred_missing)
        return POSTA_ENOTFOUND;
    switch (r) {
    case SASL_NOMEM:
        return posta__sasl_error(s, POSTA_ENOMEM, "out of memory");
    case SASL_NOMECH:
        return posta__sasl_error(s, POSTA_EUNSUPPORTED, "%s is not available to this client "
                                 "with the requested security (%s)", name, detail);
    case SASL_TOOWEAK:
    case SASL_ENCRYPT:
        return posta__sasl_error(s, POSTA_EUNSUPPORTED, "%s cannot give the required security "
                                 "strength (%s)", name, detail);
    case SASL_BADSERV:
        s->no_next = 1;  /* an impostor must not get a weaker mechanism next */
        return posta__sasl_error(s, POSTA_EAUTH, "%s: the server failed mutual "
                                 "authentication (%s)", name, detail);
    default:
        return posta__sasl_error(s, POSTA_EAUTH, "%s: %s", name, detail);
    }
}

static int set_props(posta_sasl *s, const char *name)
{
    sasl_security_properties_t sp = {0};
    sasl_ssf_t ext = s->ext_ssf;
    sp.min_ssf = s->min_ssf;
    sp.max_ssf = s->max_ssf;
    sp.maxbufsize = s->maxbuf;
    /* Belt and braces for plugins posta has no table entry for. */
    if (!s->encrypted && !s->allow_plain)
        sp.security_flags = SASL_SEC_NOPLAINTEXT;
    if (sasl_setprop(s->conn, SASL_SEC_PROPS, &sp) != SASL_OK ||
        sasl_setprop(s->conn, SASL_SSF_EXTERNAL, &ext) != SASL_OK)
        return SASL_FAIL;
    if (s->client_cert || strcasecmp(name, "EXTERNAL") == 0) {
        /* EXTERNAL wants to know that an outside identity exists; the
         * client never sends it. */
        const char *id = s->creds[POSTA_SASL_AUTHCID].set ? s->creds[POSTA_SASL_AUTHCID].value
                                                           : "client certificate";
        if (sasl_setprop(s->conn, SASL_AUTH_EXTERNAL, id) != SASL_OK)
            return SASL_FAIL;
    }
    return SASL_OK;
}

/*
 * libsasl2 decides the gs2 channel-binding flag from the list it is given:
 * "X-PLUS" binds ("p="); "X X" with binding data but no -PLUS offered says
 * the client could have ("y", so a server that does offer -PLUS detects the
 * downgrade); "X" alone without data says the client cannot ("n").
 */
static int set_binding(posta_sasl *s, const char *name, char *list, size_t listsz)
{
    size_t n = strlen(name);
    int plus = n > 5 && strcasecmp(name + n - 5, "-PLUS") == 0;
    char with_plus[MECH_NAME_MAX + 6];
    snprintf(with_plus, sizeof(with_plus), "%s-PLUS", name);
    int scram = strncasecmp(name, "SCRAM-", 6) == 0;
    int say_y = scram && !plus && s->cb_len && !posta__sasl_offered(s, with_plus);

    snprintf(list, listsz, say_y ? "%s %s" : "%s", name, name);
    if (!plus && !say_y)
        return SASL_OK;
    struct posta__sasl_cbs *c = s->cbs;
    memcpy(c->cb_data, s->cb_data, s->cb_len);
    c->binding.name = s->cb_type;  /* static: see session.c */
    c->binding.critical = 0;
    c->binding.len = s->cb_len;
    c->binding.data = c->cb_data;
    return sasl_setprop(s->conn, SASL_CHANNEL_BINDING, &c->binding);
}

static int cyrus_begin(posta_sasl *s, const char *name, struct mech_out *out)
{
    const char *authz, *o = NULL, *used = NULL;
    size_t an;
    unsigned olen = 0;
    char list[2 * (MECH_NAME_MAX + 1) + 1];

    if (posta__sasl_init() < 0)
        return posta__sasl_error(s, POSTA_EUNSUPPORTED, "%s: libsasl2 could not be initialised",
                                 name);
    /* Asked first: with an authzid, mechanisms that cannot carry one (CRAM-MD5,
     * LOGIN) must be refused, not run as the wrong identity. */
    int rc = posta__sasl_cred(s, POSTA_SASL_AUTHZID, &authz, &an);
    if (rc < 0)
        return rc;
    if (!(s->cbs = make_cbs(s)))
        return POSTA_ENOMEM;
    int r = sasl_client_new(s->service, s->host[0] ? s->host : NULL, NULL, NULL, s->cbs->list,
                            an ? SASL_NEED_PROXY : 0, &s->conn);
    if (r == SASL_OK)
        r = set_props(s, name);
    if (r == SASL_OK)
        r = set_binding(s, name, list, sizeof(list));
    const struct mech_info *m = posta__sasl_mech_find(name);
    int server_first = m && (m->flags & M_SERVER_FIRST);
    if (r == SASL_OK)
        r = sasl_client_start(s->conn, list, NULL, server_first ? NULL : &o,
                              server_first ? NULL : &olen, &used);
    if (r != SASL_OK && r != SASL_CONTINUE)
        return map_result(s, r, name);
    out->present = o != NULL;
    out->data = (const unsigned char *)o;
    out->len = olen;
    return r == SASL_OK ? MECH_DONE : MECH_CONTINUE;
}

static int cyrus_step(posta_sasl *s, const unsigned char *in, size_t len, struct mech_out *out)
{
    const char *o = NULL;
    unsigned olen = 0;
    if (!s->conn || len > 0xffffffffu)
        return posta__sasl_error(s, POSTA_EAUTH, "%s: unexpected challenge", s->mech);
    if (s->mech_done)
        return posta__sasl_error(s, POSTA_EAUTH, "%s: the server sent a challenge after the "
                                 "exchange was complete", s->mech);
    /* The decoder NUL-terminates its output, as sasl_client_step requires. */
    int r = sasl_client_step(s->conn, (const char *)in, (unsigned)len, NULL, &o, &olen);
    if (r != SASL_OK && r != SASL_CONTINUE)
        return map_result(s, r, s->mech);
    out->present = 1;
    out->data = (const unsigned char *)(o ? o : "");
    out->len = o ? olen : 0;
    return r == SASL_OK ? MECH_DONE : MECH_CONTINUE;
}

static int cyrus_finish(posta_sasl *s)
{
    const void *ssf = NULL, *maxout = NULL;
    if (sasl_getprop(s->conn, SASL_SSF, &ssf) != SASL_OK ||
        sasl_getprop(s->conn, SASL_MAXOUTBUF, &maxout) != SASL_OK)
        return posta__sasl_error(s, POSTA_EAUTH, "%s: cannot read the negotiated security "
                                 "layer", s->mech);
    s->layer_ssf = *(const sasl_ssf_t *)ssf;
    s->maxout = *(const unsigned *)maxout;
    return 0;
}

/* Keep the connection after success: the security layer needs it. */
static void cyrus_end(posta_sasl *s)
{
    if (s->state != SASL_ST_DONE)
        posta__sasl_cyrus_free(s);
}

const struct mech_driver posta__sasl_cyrus_driver = {
    cyrus_begin, cyrus_step, cyrus_finish, cyrus_end,
};

int posta_sasl_install_layer(posta_sasl *s, posta_stream *st)
{
    if (s->state != SASL_ST_DONE || s->layer_installed)
        return posta__sasl_error(s, POSTA_ESTATE, s->layer_installed
                                 ? "the security layer is already installed"
                                 : "not authenticated");
    if (s->layer_ssf == 0 || !s->conn)
        return 0;
    sasl_conn_t *conn = s->conn;
    struct posta__sasl_cbs *cbs = s->cbs;
    s->conn = NULL;
    s->cbs = NULL;
    cbs->s = NULL;
    free_secret(s);
    s->layer_installed = 1;
    int rc = posta__sasl_push_layer(st, conn, cbs, s->maxout);
    if (rc < 0)
        return posta__sasl_error(s, rc, "cannot install the %s security layer: %s", s->mech,
                                 posta_stream_errmsg(st));
    return 0;
}
