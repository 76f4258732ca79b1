/* imclient_authenticate(): each mechanism descriptor in turn, posta's own
 * through its SASL engine and the application's through their start() and
 * auth() functions, with the man page's return codes 0, 1 and 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>

#include <posta/util.h>

#include "imclient_int.h"

#define TRY_NEXT (-1)

/* One AUTHENTICATE command and what came of it. */
struct exchange {
    struct imclient *im;
    int done;
    posta_imap_status status; /* of the tagged reply; NONE when none came */
    int canceled;             /* the client answered "*" */
    int verdict;              /* after OK: 0 trusted, 2 not */
    posta_sasl *sasl;         /* posta's engine, or */
    const struct sasl_client *mech; /* the application's mechanism */
    void *state;
    int last;                 /* its last auth() result */
};

/* --- answers to the server's challenges ------------------------------------- */

static void answer_posta(struct exchange *x, const char *text, size_t len)
{
    const char *line;
    size_t n;
    if (posta_sasl_on_continuation(x->sasl, text, len, &line, &n) < 0) {
        line = "*";
        n = 1;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (n == 1 && line[0] == '*')
        x->canceled = 1;
    posta_imap_continue(x->im->h, line, n);
}

/* Run the application's auth() on the decoded challenge; the base64
 * answer (malloc'd), or NULL to give up. */
static char *step_foreign(struct exchange *x, const char *text, size_t len)
{
    unsigned char *in = NULL;
    size_t inlen = 0;
    if (posta_base64_decode(text, len, &in, &inlen, NULL) < 0 || inlen > 0x7fffffff)
        return NULL;
    int outlen = 0;
    char *out = NULL;
    x->im->in_callback++;
    x->last = x->mech->auth(x->state, (int)inlen, (char *)in, &outlen, &out);
    x->im->in_callback--;
    free(in);
    char *b64 = NULL;
    size_t n;
    if ((x->last != 0 && x->last != SASL_DONE) || outlen < 0 || (outlen > 0 && !out) ||
        posta_base64_encode(out, (size_t)outlen, &b64, &n) < 0)
        return NULL;
    return b64;
}

static void answer_foreign(struct exchange *x, const char *text, size_t len)
{
    char *b64 = step_foreign(x, text, len);
    if (!b64)
        x->canceled = 1;
    posta_imap_continue(x->im->h, b64 ? b64 : "*", b64 ? strlen(b64) : 1);
    free(b64);
}

static void on_continuation(posta_imap *h, const char *text, size_t len, void *user)
{
    struct exchange *x = user;
    (void)h;
    if (x->sasl)
        answer_posta(x, text, len);
    else
        answer_foreign(x, text, len);
}

/* --- the outcome ---------------------------------------------------------------- */

/* After OK: did the mechanism complete, and can the connection be trusted? */
static int judge_ok(struct exchange *x, posta_imap *h)
{
    if (x->sasl) {
        int rc = posta_sasl_on_success(x->sasl, NULL, 0);
        if (rc == 0)
            rc = posta_sasl_install_layer(x->sasl, posta_imap_stream(h));
        return rc == 0 ? 0 : 2;
    }
    if (x->last != SASL_DONE)
        return 2; /* a premature OK */
    sasl_encodefunc_t *enc = NULL;
    sasl_decodefunc_t *dec = NULL;
    if (x->mech->query_state) {
        char *who = NULL;
        int prot = SASL_PROT_NONE, maxplain = 0;
        x->im->in_callback++;
        x->mech->query_state(x->state, &who, &prot, &enc, &dec, &maxplain);
        x->im->in_callback--;
    }
    /* Only SASL_PROT_NONE was offered: a layer now is one we cannot run. */
    return enc || dec ? 2 : 0;
}

static void on_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    struct exchange *x = user;
    x->done = 1;
    x->status = r->response ? r->response->status : POSTA_IMAP_STATUS_NONE;
    if (r->response)
        imc_deliver_tagged(x->im, NULL, NULL, r->response);
    /* Here, before the driver reads on: a security layer starts right
     * after the OK. */
    if (x->status == POSTA_IMAP_STATUS_OK)
        x->verdict = judge_ok(x, h);
}

static int outcome(const struct exchange *x)
{
    switch (x->status) {
    case POSTA_IMAP_STATUS_OK:
        return x->verdict;
    case POSTA_IMAP_STATUS_NO:
        return TRY_NEXT;
    case POSTA_IMAP_STATUS_BAD:
        /* Cyrus stops at BAD, unless it answers the client's own "*". */
        return x->canceled ? TRY_NEXT : 1;
    default:
        return 1; /* no answer: the connection ended */
    }
}

static void wait_done(struct exchange *x)
{
    while (!x->done && posta_imap_get_state(x->im->h) != POSTA_IMAP_STATE_DISCONNECTED)
        posta_imap_process(x->im->h, -1);
}

/* --- posta's descriptors --------------------------------------------------------- */

struct cred {
    struct imclient *im;
    const char *user;   /* as given; NULL: the current user */
    int authz_is_user;  /* Kerberos, EXTERNAL: user is who to act as */
};

static int set_cred(posta_sasl *s, posta_sasl_credential what, const char *v)
{
    return posta_sasl_set_credential(s, what, v, strlen(v));
}

static int cred_cb(posta_sasl *s, posta_sasl_credential what, const char *mech, void *user)
{
    struct cred *c = user;
    char name[256], secret[1024];
    const char *who = c->user ? c->user : imc_current_user(name, sizeof(name));
    int rc;
    switch (what) {
    case POSTA_SASL_AUTHCID:
        return who ? set_cred(s, what, who) : POSTA_ENOTFOUND;
    case POSTA_SASL_AUTHZID:
        return c->authz_is_user && c->user ? set_cred(s, what, c->user) : POSTA_ENOTFOUND;
    case POSTA_SASL_PASSWORD:
    case POSTA_SASL_TOKEN:
        if (imc_get_secret(c->im, mech, who, secret, sizeof(secret)) < 0)
            return POSTA_ENOTFOUND;
        rc = set_cred(s, what, secret);
        explicit_bzero(secret, sizeof(secret));
        return rc;
    default:
        return POSTA_ENOTFOUND;
    }
}

/* The server's AUTH= mechanisms, space-separated, into buf. */
static void offered(const char *caps, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const char *c = caps; (c = strstr(c, "AUTH=")) != NULL; c += 5) {
        if (c != caps && c[-1] != ' ')
            continue;
        size_t l = strcspn(c + 5, " ");
        if (n + l + 2 > size)
            break;
        memcpy(buf + n, c + 5, l);
        n += l;
        buf[n++] = ' ';
        buf[n] = '\0';
    }
}

static void prot_to_ssf(int prot, unsigned *min, unsigned *max)
{
    *min = (prot & SASL_PROT_NONE) ? 0 : (prot & SASL_PROT_INTEGRITY) ? 1 : 2;
    *max = (prot & SASL_PROT_PRIVACY) ? 256 : (prot & SASL_PROT_INTEGRITY) ? 1 : 0;
}

static posta_sasl *new_session(struct imclient *im, const struct sasl_client *m, const char *service,
                               struct cred *c, int prot)
{
    posta_sasl *s = NULL;
    unsigned min, max;
    if (posta_sasl_new(&s, POSTA_SASL_IMAP, service, im->servername) < 0)
        return NULL;
    if (posta_sasl_set_mechanisms(s, m->auth_type) < 0 || posta_sasl_use_stream(s, posta_imap_stream(im->h)) < 0) {
        posta_sasl_free(s);
        return NULL;
    }
    posta_sasl_set_try_next(s, 0);
    prot_to_ssf(prot, &min, &max);
    posta_sasl_set_ssf(s, min, max);
    posta_sasl_set_allow_plaintext(s, (im->flags & IMCLIENT_CONN_PLAINTEXT) != 0);
    posta_sasl_set_gssapi(s, 1);
    posta_sasl_set_initial_response(s, m->can_send_initial_response &&
                                           (posta_imap_has_capability(im->h, "SASL-IR") ||
                                            (im->flags & IMCLIENT_CONN_INITIALRESPONSE)));
    posta_sasl_set_credential_cb(s, cred_cb, c);
    return s;
}

/* "AUTHENTICATE MECH [IR]\r\n" from the engine, submitted with the tag. */
static int submit_line(struct exchange *x, const posta_imap_cmd_opts *o, const char *line, size_t len)
{
    static const char prefix[] = "AUTHENTICATE ";
    const size_t plen = sizeof(prefix) - 1;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len <= plen || memcmp(line, prefix, plen) != 0 || len > 100000)
        return POSTA_EINVAL;
    const char *mech = line + plen;
    size_t rest = len - plen;
    const char *sp = memchr(mech, ' ', rest);
    if (!sp)
        return posta_imap_submit(x->im->h, o, "AUTHENTICATE %.*a", (int)rest, mech);
    return posta_imap_submit(x->im->h, o, "AUTHENTICATE %.*a %.*p", (int)(sp - mech), mech,
                             (int)(rest - (size_t)(sp - mech) - 1), sp + 1);
}

static int auth_posta(struct imclient *im, const struct sasl_client *m, const char *service, const char *user,
                      int prot)
{
    const char *mech = m->auth_type ? m->auth_type : "";
    struct cred c = {im, user, strcmp(mech, "GSSAPI") == 0 || strcmp(mech, "EXTERNAL") == 0};
    struct exchange x = {.im = im};
    char list[2048];
    const char *line;
    size_t len;
    if (!(prot & SASL_PROT_ANY) || !(x.sasl = new_session(im, m, service, &c, prot)))
        return TRY_NEXT;
    offered(posta_imap_capabilities(im->h), list, sizeof(list));
    posta_imap_cmd_opts o = {.done = on_done, .on_continuation = on_continuation, .user = &x};
    int rc = posta_sasl_start(x.sasl, list, strlen(list), &line, &len);
    if (rc == 0)
        rc = submit_line(&x, &o, line, len);
    if (rc == 0)
        wait_done(&x);
    posta_sasl_free(x.sasl);
    return rc == 0 ? outcome(&x) : TRY_NEXT;
}

/* --- the application's descriptors ---------------------------------------------- */

static int auth_foreign(struct imclient *im, const struct sasl_client *m, const char *service, const char *user,
                        int prot)
{
    struct sockaddr_storage la, ra;
    socklen_t ll = sizeof(la), rl = sizeof(ra);
    int fd = posta_imap_fd(im->h);
    int addrs = getsockname(fd, (struct sockaddr *)&la, &ll) == 0 && getpeername(fd, (struct sockaddr *)&ra, &rl) == 0;
    struct exchange x = {.im = im, .mech = m};
    if (!m->auth_type || !m->start || !m->auth || !(prot & SASL_PROT_NONE))
        return TRY_NEXT;
    im->in_callback++;
    int r = m->start(m->rock, service, im->servername, user, SASL_PROT_NONE, 4096,
                     addrs ? (struct sockaddr *)&la : NULL, addrs ? (struct sockaddr *)&ra : NULL, &x.state);
    im->in_callback--;
    if (r != 0)
        return TRY_NEXT;
    posta_imap_cmd_opts o = {.done = on_done, .on_continuation = on_continuation, .user = &x};
    int rc = posta_imap_submit(im->h, &o, "AUTHENTICATE %a", m->auth_type);
    if (rc == 0)
        wait_done(&x);
    if (m->free_state) {
        im->in_callback++;
        m->free_state(x.state);
        im->in_callback--;
    }
    return rc == 0 ? outcome(&x) : TRY_NEXT;
}

/* --- the entry point -------------------------------------------------------------- */

IMC_API int imclient_authenticate(struct imclient *im, struct sasl_client **availmech, const char *service,
                                  const char *user, int protallowed)
{
    if (!im || imc_forbidden(im, "imclient_authenticate"))
        return 1;
    if (!availmech || imc_wait_ready(im) < 0)
        return 1;
    if (!service)
        service = "imap";
    for (struct sasl_client **m = availmech; *m; m++) {
        int r = imc_mech_is_posta(*m) ? auth_posta(im, *m, service, user, protallowed)
                                      : auth_foreign(im, *m, service, user, protallowed);
        if (r != TRY_NEXT)
            return r;
        if (posta_imap_get_state(im->h) == POSTA_IMAP_STATE_DISCONNECTED)
            return 1;
    }
    return 1;
}
