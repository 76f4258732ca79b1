/* The SMTP protocol engine: connection states, replies matched to what they
 * answer, the greeting, EHLO/LHLO/HELO, STARTTLS, AUTH through posta_sasl,
 * ETRN, QUIT, and the pump that moves the work forward.  No I/O: commands
 * go to h->out, replies come from the driver. */
#include "smtp_int.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- states ------------------------------------------------------------------ */

#define B(s) (1u << (s))
/* The moves a connection may make; anything else is an engine bug. */
static const unsigned moves[] = {
    [CS_IDLE] = B(CS_CONNECTING) | B(CS_TLS) | B(CS_GREETING) | B(CS_CLOSED),
    [CS_CONNECTING] = B(CS_TLS) | B(CS_GREETING) | B(CS_CLOSED),
    [CS_TLS] = B(CS_GREETING) | B(CS_HELLO) | B(CS_CLOSED),
    [CS_GREETING] = B(CS_HELLO) | B(CS_QUIT) | B(CS_CLOSED),
    [CS_HELLO] = B(CS_STARTTLS) | B(CS_AUTH) | B(CS_READY) | B(CS_QUIT) | B(CS_CLOSED),
    [CS_STARTTLS] = B(CS_TLS) | B(CS_AUTH) | B(CS_READY) | B(CS_QUIT) | B(CS_CLOSED),
    [CS_AUTH] = B(CS_HELLO) | B(CS_READY) | B(CS_QUIT) | B(CS_CLOSED),
    [CS_READY] = B(CS_QUIT) | B(CS_CLOSED),
    [CS_QUIT] = B(CS_CLOSED),
    [CS_CLOSED] = B(CS_IDLE) | B(CS_CONNECTING) | B(CS_TLS) | B(CS_GREETING),
};
#undef B

void smtp_set_cs(posta_smtp *h, enum smtp_cstate to)
{
    if (h->cs == to)
        return;
    if (!(moves[h->cs] & (1u << to)))
        assert(!"SMTP connection state move not in the table");
    h->cs = to;
}

posta_smtp_state posta_smtp_get_state(const posta_smtp *h)
{
    static const posta_smtp_state pub[] = {
        [CS_IDLE] = POSTA_SMTP_STATE_IDLE,         [CS_CONNECTING] = POSTA_SMTP_STATE_CONNECTING,
        [CS_TLS] = POSTA_SMTP_STATE_HELLO,         [CS_GREETING] = POSTA_SMTP_STATE_GREETING,
        [CS_HELLO] = POSTA_SMTP_STATE_HELLO,       [CS_STARTTLS] = POSTA_SMTP_STATE_HELLO,
        [CS_AUTH] = POSTA_SMTP_STATE_AUTH,         [CS_READY] = POSTA_SMTP_STATE_READY,
        [CS_QUIT] = POSTA_SMTP_STATE_QUIT,         [CS_CLOSED] = POSTA_SMTP_STATE_QUIT,
    };
    if (h->cs == CS_TLS && !h->greeted)
        return POSTA_SMTP_STATE_CONNECTING;
    if (h->cs == CS_READY && h->producer)
        return POSTA_SMTP_STATE_DATA;
    if (h->cs == CS_READY && h->txns)
        return POSTA_SMTP_STATE_ENVELOPE;
    return pub[h->cs];
}

/* --- small helpers --------------------------------------------------------------- */

int smtp_err(posta_smtp *h, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    posta__err_vset(&h->err, code, fmt, ap);
    va_end(ap);
    return code;
}

const char *smtp_peer(const posta_smtp *h)
{
    const char *p = h->stream ? posta_stream_peer(h->stream) : "";
    return p[0] ? p : (h->server ? h->server : "the server");
}

void smtp_emit(posta_smtp *h, posta_smtp_event *ev)
{
    if (h->cb.on_event && !h->free_pending)
        SMTP_CALLBACK(h, h->cb.on_event(h, ev, h->cb_user));
}

void smtp_monitor(posta_smtp *h, const char *data, size_t len, int dir)
{
    if (h->cb.on_monitor && !h->free_pending && len > 0)
        SMTP_CALLBACK(h, h->cb.on_monitor(h, data, len, dir, h->cb_user));
}

static int write_raw(posta_smtp *h, const char *line, size_t len, const char *shown)
{
    int rc = posta__buf_append(&h->out, line, len);
    if (rc == 0 && h->cb.on_monitor) {
        if (shown)
            rc = posta__buf_appendf(&h->mon, "%s\r\n", shown);
        else
            rc = posta__buf_append(&h->mon, line, len);
    }
    return rc;
}

int smtp_write_cmd(posta_smtp *h, const char *shown, const char *fmt, ...)
{
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small) - 2, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(small) - 2)
        return POSTA_ELIMIT;
    memcpy(small + n, "\r\n", 2);
    return write_raw(h, small, (size_t)n + 2, shown);
}

int smtp_expect(posta_smtp *h, enum smtp_xk kind, struct smtp_txn *t, posta_smtp_recipient *r,
                posta_smtp_etrn *n)
{
    if (h->exp_n == h->exp_cap) {
        size_t ncap = h->exp_cap ? h->exp_cap * 2 : 16;
        struct smtp_exp *ne = malloc(ncap * sizeof(*ne));
        if (!ne)
            return POSTA_ENOMEM;
        for (size_t i = 0; i < h->exp_n; i++)
            ne[i] = h->exp[(h->exp_head + i) % h->exp_cap];
        free(h->exp);
        h->exp = ne;
        h->exp_cap = ncap;
        h->exp_head = 0;
    }
    h->exp[(h->exp_head + h->exp_n) % h->exp_cap] = (struct smtp_exp){kind, t, r, n};
    h->exp_n++;
    if (t)
        t->pending++;
    return 0;
}

static struct smtp_exp pop_exp(posta_smtp *h)
{
    struct smtp_exp e = h->exp[h->exp_head];
    h->exp_head = (h->exp_head + 1) % h->exp_cap;
    h->exp_n--;
    if (e.t)
        e.t->pending--;
    return e;
}

/* Record the first error of the run and end the session politely: QUIT goes
 * out as soon as nothing would make the server read it as message data. */
static void quit_with(posta_smtp *h, int code, const char *fmt, ...) POSTA_PRINTF(3, 4);
static void quit_with(posta_smtp *h, int code, const char *fmt, ...)
{
    if (!h->run_error) {
        va_list ap;
        va_start(ap, fmt);
        posta__err_vset(&h->err, code, fmt, ap);
        va_end(ap);
        h->run_error = code;
    }
    h->quit_req = 1;
}

static void send_quit(posta_smtp *h)
{
    if (h->cs == CS_QUIT || h->cs == CS_CLOSED || h->cs == CS_IDLE)
        return;
    smtp_set_cs(h, CS_QUIT);
    if (smtp_write_cmd(h, NULL, "QUIT") < 0 || smtp_expect(h, XK_QUIT, NULL, NULL, NULL) < 0)
        smtp_conn_end(h, POSTA_ENOMEM, "out of memory");
}

/* --- server facts ------------------------------------------------------------------ */

static const struct {
    const char *kw;
    unsigned bit;
} ext_names[] = {
    {"PIPELINING", POSTA_SMTP_EXT_PIPELINING},   {"SIZE", POSTA_SMTP_EXT_SIZE},
    {"8BITMIME", POSTA_SMTP_EXT_8BITMIME},       {"SMTPUTF8", POSTA_SMTP_EXT_SMTPUTF8},
    {"BINARYMIME", POSTA_SMTP_EXT_BINARYMIME},   {"CHUNKING", POSTA_SMTP_EXT_CHUNKING},
    {"DSN", POSTA_SMTP_EXT_DSN},                 {"DELIVERBY", POSTA_SMTP_EXT_DELIVERBY},
    {"ENHANCEDSTATUSCODES", POSTA_SMTP_EXT_ENHANCEDSTATUSCODES},
    {"REQUIRETLS", POSTA_SMTP_EXT_REQUIRETLS},   {"ETRN", POSTA_SMTP_EXT_ETRN},
    {"MT-PRIORITY", POSTA_SMTP_EXT_MTPRIORITY},  {"FUTURERELEASE", POSTA_SMTP_EXT_FUTURERELEASE},
    {"LIMITS", POSTA_SMTP_EXT_LIMITS},           {"STARTTLS", POSTA_SMTP_EXT_STARTTLS},
    {"AUTH", POSTA_SMTP_EXT_AUTH},
};

static void forget_server(posta_smtp *h)
{
    h->esmtp = 0;
    h->ext = 0;
    posta__buf_reset(&h->ehlo);
    h->size_limit = 0;
    h->rcptmax = h->mailmax = 0;
    h->by_min = 0;
    h->fr_interval = 0;
}

const char *posta_smtp_extension_params(const posta_smtp *h, const char *keyword)
{
    const char *p = (const char *)posta__buf_head(&h->ehlo);
    const char *end = p + posta__buf_used(&h->ehlo);
    while (p && p < end) {
        const char *params = p + strlen(p) + 1;
        if (strcasecmp(p, keyword) == 0)
            return params;
        p = params + strlen(params) + 1;
    }
    return NULL;
}

unsigned posta_smtp_extensions(const posta_smtp *h)
{
    return h->ext;
}

static unsigned long num_after(const char *params, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = params; p && *p;) {
        while (*p == ' ')
            p++;
        if (strncasecmp(p, key, kl) == 0 && p[kl] == '=')
            return strtoul(p + kl + 1, NULL, 10);
        p = strchr(p, ' ');
    }
    return 0;
}

static void learn_keyword(posta_smtp *h, const char *kw, const char *params)
{
    for (size_t i = 0; i < sizeof(ext_names) / sizeof(ext_names[0]); i++)
        if (strcasecmp(kw, ext_names[i].kw) == 0)
            h->ext |= ext_names[i].bit;
    if (strcasecmp(kw, "SIZE") == 0)
        h->size_limit = strtoull(params, NULL, 10);
    else if (strcasecmp(kw, "DELIVERBY") == 0)
        h->by_min = strtol(params, NULL, 10);
    else if (strcasecmp(kw, "FUTURERELEASE") == 0)
        h->fr_interval = strtol(params, NULL, 10);
    else if (strcasecmp(kw, "LIMITS") == 0) {
        h->rcptmax = num_after(params, "RCPTMAX");
        h->mailmax = num_after(params, "MAILMAX");
    }
}

static void learn_ehlo(posta_smtp *h, const struct smtp_reply *r)
{
    forget_server(h);
    h->esmtp = 1;
    for (size_t i = 1; i < r->nlines; i++) {
        const char *l;
        size_t n;
        char kw[64];
        smtp_reply_line(r, i, &l, &n);
        size_t k = 0;
        while (k < n && k < sizeof(kw) - 1 && l[k] != ' ' && l[k] != '=') {
            kw[k] = l[k];
            k++;
        }
        kw[k] = '\0';
        if (k == 0)
            continue;
        const char *params = k < n ? l + k + 1 : l + n;
        size_t plen = (size_t)(l + n - params);
        if (posta__buf_append(&h->ehlo, kw, k + 1) < 0 ||
            posta__buf_append(&h->ehlo, params, plen) < 0 ||
            posta__buf_append(&h->ehlo, "", 1) < 0)
            return;   /* out of memory: fewer extensions known, still safe */
        char *pz = (char *)posta__buf_head(&h->ehlo) + posta__buf_used(&h->ehlo) - plen - 1;
        learn_keyword(h, kw, pz);
    }
}

/* --- hello, STARTTLS, AUTH ------------------------------------------------------------ */

static void send_hello(posta_smtp *h, int helo)
{
    smtp_set_cs(h, CS_HELLO);
    const char *verb = helo ? "HELO" : h->lmtp ? "LHLO" : "EHLO";
    if (smtp_write_cmd(h, NULL, "%s %s", verb, h->ehlo_name) < 0 ||
        smtp_expect(h, helo ? XK_HELO : XK_EHLO, NULL, NULL, NULL) < 0)
        smtp_conn_end(h, POSTA_ENOMEM, "out of memory");
}

static int auth_configured(const posta_smtp *h)
{
    return h->sasl_fn || h->auth_user;
}

static int make_sasl(posta_smtp *h, posta_sasl **s_r)
{
    const char *host = posta_stream_peer(h->stream);
    char name[256];
    /* The name the user gave, not the address, is what GSSAPI and
     * DIGEST-MD5 want. */
    snprintf(name, sizeof(name), "%s", h->server ? h->server : host);
    char *colon = name[0] == '[' ? NULL : strrchr(name, ':');
    if (colon && strchr(name, ':') == colon)
        *colon = '\0';
    if (h->sasl_fn) {
        int rc;
        SMTP_CALLBACK(h, rc = h->sasl_fn(h, name, s_r, h->sasl_user));
        if (rc == 0 && !*s_r)
            rc = POSTA_EINVAL;
        return rc;
    }
    int rc = posta_sasl_new(s_r, POSTA_SASL_SMTP, "smtp", name);
    if (rc == 0)
        rc = posta_sasl_set_credential(*s_r, POSTA_SASL_AUTHCID, h->auth_user, strlen(h->auth_user));
    if (rc == 0 && h->auth_pass)
        rc = posta_sasl_set_credential(*s_r, POSTA_SASL_PASSWORD, h->auth_pass, strlen(h->auth_pass));
    if (rc == 0 && h->auth_mechs)
        rc = posta_sasl_set_mechanisms(*s_r, h->auth_mechs);
    return rc;
}

static void auth_failed(posta_smtp *h, int rc, const struct smtp_reply *r)
{
    struct smtp_st st = {.text = NULL};
    st_clear(&st);
    if (r)
        st_set_reply(&st, r);
    const char *why = h->sasl ? posta_sasl_errmsg(h->sasl) : posta_strerror(rc);
    posta_smtp_event ev = {.type = POSTA_SMTP_EV_AUTH_FAILED, .error = rc,
                           .status = r ? &st.pub : NULL,
                           .name = h->sasl ? posta_sasl_mechanism(h->sasl) : NULL};
    smtp_emit(h, &ev);
    st_clear(&st);
    quit_with(h, rc, "authentication with %s failed: %s", smtp_peer(h), why);
}

/* What the monitor shows of an AUTH line: the verb and mechanism only. */
static void write_auth_line(posta_smtp *h, const char *line, size_t len, int first)
{
    char shown[64];
    if (first) {
        size_t k = 0, spaces = 0;
        while (k < len && line[k] != '\r' && (line[k] != ' ' || ++spaces < 2))
            k++;
        snprintf(shown, sizeof(shown), "%.*s%s", (int)(k < 40 ? k : 40), line,
                 spaces >= 2 ? " <omitted>" : "");
    } else {
        snprintf(shown, sizeof(shown), "%s", len > 2 && line[0] == '*' ? "*" : "<omitted>");
    }
    if (write_raw(h, line, len, shown) < 0 || smtp_expect(h, XK_AUTH, NULL, NULL, NULL) < 0)
        smtp_conn_end(h, POSTA_ENOMEM, "out of memory");
}

static void start_auth(posta_smtp *h)
{
    if (!(h->ext & POSTA_SMTP_EXT_AUTH)) {
        if (h->auth_required)
            quit_with(h, POSTA_EUNSUPPORTED, "%s does not offer AUTH, and authentication was "
                      "asked for", smtp_peer(h));
        else
            smtp_set_cs(h, CS_READY);
        return;
    }
    smtp_set_cs(h, CS_AUTH);
    int rc = make_sasl(h, &h->sasl);
    if (rc == 0)
        rc = posta_sasl_use_stream(h->sasl, h->stream);
    if (rc == 0 && (h->local || h->allow_cleartext_auth))
        posta_sasl_set_allow_plaintext(h->sasl, 1);
    const char *line = NULL;
    size_t len = 0;
    if (rc == 0) {
        const char *mechs = posta_smtp_extension_params(h, "AUTH");
        rc = posta_sasl_start(h->sasl, mechs, strlen(mechs), &line, &len);
    }
    if (rc < 0) {
        auth_failed(h, rc, NULL);
        return;
    }
    write_auth_line(h, line, len, 1);
}

static void ready_or_auth(posta_smtp *h)
{
    if (auth_configured(h) && !h->authed)
        start_auth(h);
    else
        smtp_set_cs(h, CS_READY);
}

static int tls_wanted(const posta_smtp *h)
{
    return !h->local && !h->did_tls && !h->tls_refused &&
           (h->tls == POSTA_SMTP_TLS_REQUIRED || h->tls == POSTA_SMTP_TLS_ENABLED);
}

static void after_hello(posta_smtp *h)
{
    if (tls_wanted(h)) {
        if (h->ext & POSTA_SMTP_EXT_STARTTLS) {
            smtp_set_cs(h, CS_STARTTLS);
            if (smtp_write_cmd(h, NULL, "STARTTLS") < 0 ||
                smtp_expect(h, XK_STARTTLS, NULL, NULL, NULL) < 0)
                smtp_conn_end(h, POSTA_ENOMEM, "out of memory");
            return;
        }
        if (h->tls == POSTA_SMTP_TLS_REQUIRED) {
            posta_smtp_event ev = {.type = POSTA_SMTP_EV_EXTNA, .name = "STARTTLS",
                                   .extension = POSTA_SMTP_EXT_STARTTLS};
            smtp_emit(h, &ev);
            quit_with(h, POSTA_EPOLICY, "%s does not offer STARTTLS and TLS is required "
                      "(posta_smtp_set_tls to allow cleartext)", smtp_peer(h));
            return;
        }
    }
    ready_or_auth(h);
}

void smtp_begin_session(posta_smtp *h)
{
    smtp_set_cs(h, CS_GREETING);
    h->io_mark = posta__now_ms();
    if (smtp_expect(h, XK_GREETING, NULL, NULL, NULL) < 0)
        smtp_conn_end(h, POSTA_ENOMEM, "out of memory");
}

void smtp_tls_done(posta_smtp *h)
{
    h->did_tls = 1;
    int bits = posta_stream_tls_bits(h->stream);
    posta_smtp_event ev = {.type = POSTA_SMTP_EV_STARTTLS_OK,
                           .name = posta_stream_tls_cipher(h->stream), .value = bits};
    smtp_emit(h, &ev);
    if (bits < 128) {
        int quit = 0;
        posta_smtp_event w = {.type = POSTA_SMTP_EV_WEAK_CIPHER, .value = bits, .quit = &quit};
        smtp_emit(h, &w);
        if (quit) {
            /* Nothing has been said over this connection yet: hang up. */
            smtp_conn_end(h, POSTA_ECANCELED, "the cipher has only %d bits; the event callback "
                          "ended the session", bits);
            return;
        }
    }
    if (!h->greeted) {
        smtp_begin_session(h);   /* implicit TLS: now the server speaks */
        return;
    }
    /* RFC 3207 4.2: forget what was learned before TLS and ask again. */
    forget_server(h);
    send_hello(h, 0);
}

int smtp_install_layer(posta_smtp *h)
{
    h->pause_layer = 0;
    int rc = posta_sasl_install_layer(h->sasl, h->stream);
    if (rc < 0) {
        smtp_conn_end(h, rc, "cannot install the SASL security layer: %s",
                      posta_sasl_errmsg(h->sasl));
        return rc;
    }
    /* RFC 4954 4: with a security layer, the EHLO answer is asked again. */
    forget_server(h);
    send_hello(h, 0);
    return 0;
}

/* --- replies ----------------------------------------------------------------------------- */

static int is2xx(const struct smtp_reply *r)
{
    return r->code >= 200 && r->code < 300;
}

static const char *rtext(const struct smtp_reply *r)
{
    return r->text.data ? (const char *)posta__buf_head(&r->text) : "";
}

static void on_greeting(posta_smtp *h, const struct smtp_exp *e, const struct smtp_reply *r)
{
    (void)e;
    free(h->greeting);
    h->greeting = strdup(rtext(r));
    h->greeted = 1;
    if (r->code == 421) {
        smtp_conn_end(h, POSTA_EBYE, "%s refused the session: 421 %s", smtp_peer(h), rtext(r));
        return;
    }
    if (r->code != 220) {
        /* RFC 5321 3.1: after a 554 greeting the server waits for QUIT. */
        quit_with(h, POSTA_ENO, "%s refused the session: %d %s", smtp_peer(h), r->code, rtext(r));
        return;
    }
    struct smtp_st st = {.text = NULL};
    st_clear(&st);
    st_set_reply(&st, r);
    posta_smtp_event ev = {.type = POSTA_SMTP_EV_CONNECT, .status = &st.pub};
    smtp_emit(h, &ev);
    st_clear(&st);
    if (!h->free_pending && h->cs == CS_GREETING)
        send_hello(h, 0);
}

static void on_ehlo(posta_smtp *h, const struct smtp_exp *e, const struct smtp_reply *r)
{
    if (is2xx(r)) {
        if (e->kind == XK_EHLO)
            learn_ehlo(h, r);
        else
            forget_server(h);
        after_hello(h);
        return;
    }
    /* RFC 5321 3.2: a server that does not know EHLO gets HELO. */
    if (e->kind == XK_EHLO && !h->lmtp && !h->helo_tried && r->code >= 500 && r->code != 554) {
        h->helo_tried = 1;
        send_hello(h, 1);
        return;
    }
    quit_with(h, POSTA_ENO, "%s refused %s: %d %s", smtp_peer(h),
              e->kind == XK_HELO ? "HELO" : h->lmtp ? "LHLO" : "EHLO", r->code, rtext(r));
}

static void on_starttls(posta_smtp *h, const struct smtp_exp *e, const struct smtp_reply *r)
{
    (void)e;
    if (r->code == 220) {
        h->pause_tls = 1;   /* the driver checks for injected bytes, then shakes hands */
        return;
    }
    if (h->tls == POSTA_SMTP_TLS_REQUIRED) {
        quit_with(h, POSTA_EPOLICY, "%s refused STARTTLS and TLS is required: %d %s",
                  smtp_peer(h), r->code, rtext(r));
        return;
    }
    h->tls_refused = 1;
    ready_or_auth(h);
}

static void on_auth(posta_smtp *h, const struct smtp_exp *e, const struct smtp_reply *r)
{
    (void)e;
    const char *line = NULL;
    size_t len = 0;
    int rc;
    if (r->code == 334) {
        const char *t = rtext(r);
        rc = posta_sasl_on_continuation(h->sasl, t, strlen(t), &line, &len);
        if (rc < 0)
            smtp_conn_end(h, rc, "authentication: %s", posta_sasl_errmsg(h->sasl));
        else
            write_auth_line(h, line, len, 0);
        return;
    }
    if (r->code == 235) {
        rc = posta_sasl_on_success(h->sasl, NULL, 0);
        if (rc < 0) {
            /* The server did not prove itself: do not trust this connection. */
            auth_failed(h, rc, r);
            return;
        }
        h->authed = 1;
        struct smtp_st st = {.text = NULL};
        st_clear(&st);
        st_set_reply(&st, r);
        posta_smtp_event ev = {.type = POSTA_SMTP_EV_AUTH_OK, .status = &st.pub,
                               .name = posta_sasl_mechanism(h->sasl)};
        smtp_emit(h, &ev);
        st_clear(&st);
        if (posta_sasl_layer_ssf(h->sasl) > 0)
            h->pause_layer = 1;
        else
            smtp_set_cs(h, CS_READY);
        return;
    }
    const char *t = rtext(r);
    rc = posta_sasl_on_failure(h->sasl, r->code == 535 ? POSTA_SASL_CREDENTIALS : POSTA_SASL_REJECTED,
                               t, strlen(t), &line, &len);
    if (rc == 0)
        write_auth_line(h, line, len, 1);
    else
        auth_failed(h, rc, r);
}

static void on_etrn(posta_smtp *h, const struct smtp_exp *e, const struct smtp_reply *r)
{
    st_set_reply(&e->n->st, r);
    posta_smtp_event ev = {.type = POSTA_SMTP_EV_ETRNSTATUS, .etrn = e->n, .status = &e->n->st.pub,
                           .name = e->n->node, .value = e->n->option};
    smtp_emit(h, &ev);
}

static void on_rset(posta_smtp *h, const struct smtp_exp *e, const struct smtp_reply *r)
{
    (void)h, (void)e, (void)r;   /* nothing depends on it; a failure shows in what follows */
}

static void on_quit(posta_smtp *h, const struct smtp_exp *e, const struct smtp_reply *r)
{
    (void)e, (void)r;
    smtp_conn_end(h, h->run_error, NULL);
}

/* What each reply answers: its name, its RFC 5321 4.5.3.2 timeout, and who
 * handles it.  Transaction replies go to txn.c. */
#define C2 (1u << 2)
#define C3 (1u << 3)
#define C45 ((1u << 4) | (1u << 5))
static const struct {
    const char *name;
    posta_smtp_timeout timeout;
    unsigned classes;   /* reply classes that make sense (bit = first digit) */
    void (*fn)(posta_smtp *h, const struct smtp_exp *e, const struct smtp_reply *r);
} kinds[XK_COUNT] = {
    [XK_GREETING] = {"greeting", POSTA_SMTP_TIMEOUT_GREETING, C2 | C45, on_greeting},
    [XK_EHLO] = {"EHLO", POSTA_SMTP_TIMEOUT_COMMAND, C2 | C45, on_ehlo},
    [XK_HELO] = {"HELO", POSTA_SMTP_TIMEOUT_COMMAND, C2 | C45, on_ehlo},
    [XK_STARTTLS] = {"STARTTLS", POSTA_SMTP_TIMEOUT_COMMAND, C2 | C45, on_starttls},
    [XK_AUTH] = {"AUTH", POSTA_SMTP_TIMEOUT_COMMAND, C2 | C3 | C45, on_auth},
    [XK_MAIL] = {"MAIL", POSTA_SMTP_TIMEOUT_MAIL, C2 | C45, smtp_txn_reply},
    [XK_RCPT] = {"RCPT", POSTA_SMTP_TIMEOUT_RCPT, C2 | C45, smtp_txn_reply},
    [XK_DATA] = {"DATA", POSTA_SMTP_TIMEOUT_DATA, C3 | C45, smtp_txn_reply},
    [XK_DOT] = {"end of data", POSTA_SMTP_TIMEOUT_DOT, C2 | C45, smtp_txn_reply},
    [XK_BDAT] = {"BDAT", POSTA_SMTP_TIMEOUT_BLOCK, C2 | C45, smtp_txn_reply},
    [XK_RSET] = {"RSET", POSTA_SMTP_TIMEOUT_COMMAND, C2 | C45, on_rset},
    [XK_ETRN] = {"ETRN", POSTA_SMTP_TIMEOUT_COMMAND, C2 | C45, on_etrn},
    [XK_QUIT] = {"QUIT", POSTA_SMTP_TIMEOUT_COMMAND, C2 | C45, on_quit},
};
#undef C2
#undef C3
#undef C45

int smtp_timeout_of(const posta_smtp *h, enum smtp_xk kind)
{
    return h->timeouts[kinds[kind].timeout];
}

void smtp_on_reply(posta_smtp *h, const struct smtp_reply *r)
{
    h->io_mark = posta__now_ms();
    if (h->exp_n == 0) {
        if (r->code == 421)
            smtp_conn_end(h, POSTA_EBYE, "%s closed the session: 421 %s", smtp_peer(h), rtext(r));
        else
            smtp_conn_end(h, POSTA_EPROTO, "%s sent a reply nothing asked for: %d %s",
                          smtp_peer(h), r->code, rtext(r));
        return;
    }
    struct smtp_exp e = pop_exp(h);
    /* A success to DATA or a go-ahead to MAIL would shift every later
     * reply onto the wrong command: the exchange is out of step. */
    if (!(kinds[e.kind].classes & (1u << (r->code / 100))) ||
        (r->code / 100 == 3 && r->code != (e.kind == XK_AUTH ? 334 : 354))) {
        smtp_conn_end(h, POSTA_EPROTO, "%s answered %s with \"%d %s\": replies out of step",
                      smtp_peer(h), kinds[e.kind].name, r->code, rtext(r));
        return;
    }
    kinds[e.kind].fn(h, &e, r);
    if (h->free_pending || h->cs == CS_CLOSED || h->cs == CS_IDLE)
        return;
    /* 421 to anything is the server closing the session (RFC 5321 3.8):
     * what it answered took the status above; the rest cannot be sent. */
    if (r->code == 421 && e.kind != XK_QUIT) {
        smtp_conn_end(h, POSTA_EBYE, "%s is closing the session (reply to %s): 421 %s",
                      smtp_peer(h), kinds[e.kind].name, rtext(r));
        return;
    }
    smtp_pump(h);
}

/* --- the pump ------------------------------------------------------------------------ */

static int etrn_pending(posta_smtp *h)
{
    while (h->etrn_cursor && st_final(&h->etrn_cursor->st))
        h->etrn_cursor = h->etrn_cursor->next;
    return h->etrn_cursor != NULL;
}

static void send_etrns(posta_smtp *h)
{
    if (!(h->ext & POSTA_SMTP_EXT_ETRN)) {
        int quit = 0;
        posta_smtp_event ev = {.type = POSTA_SMTP_EV_EXTNA, .name = "ETRN",
                               .extension = POSTA_SMTP_EXT_ETRN, .quit = &quit};
        smtp_emit(h, &ev);
        for (; h->etrn_cursor; h->etrn_cursor = h->etrn_cursor->next)
            st_set_local(&h->etrn_cursor->st, 502, "5.5.1", POSTA_EUNSUPPORTED,
                         "%s does not offer ETRN", smtp_peer(h));
        if (quit)
            quit_with(h, POSTA_ECANCELED, "the event callback ended the session");
        return;
    }
    int pipe = h->pipelining_on && (h->ext & POSTA_SMTP_EXT_PIPELINING);
    while (etrn_pending(h) && (pipe || h->exp_n == 0)) {
        posta_smtp_etrn *n = h->etrn_cursor;
        h->etrn_cursor = n->next;
        char opt[2] = {(char)n->option, 0};
        if (smtp_write_cmd(h, NULL, "ETRN %s%s", opt, n->node) < 0 ||
            smtp_expect(h, XK_ETRN, NULL, NULL, n) < 0) {
            smtp_conn_end(h, POSTA_ENOMEM, "out of memory");
            return;
        }
    }
}

/* Nothing written so far could make the server read QUIT as data, and every
 * reply that decides a status has come or is safely ordered before QUIT. */
static int quit_safe(const posta_smtp *h)
{
    if (h->producer)
        return 0;
    int pipe = h->pipelining_on && (h->ext & POSTA_SMTP_EXT_PIPELINING);
    for (const struct smtp_txn *t = h->txns; t; t = t->next) {
        if (t->state == TX_ENVELOPE && (t->data_in_envelope || t->bdat))
            return 0;
        if (t->state == TX_DATA)
            return 0;
    }
    return pipe || h->exp_n == 0;
}

static int more_messages(posta_smtp *h)
{
    while (h->cursor && !smtp_msg_needs_run(h->cursor))
        h->cursor = h->cursor->next;
    return h->cursor != NULL;
}

void smtp_pump(posta_smtp *h)
{
    if (h->free_pending)
        return;
    if (h->quit_req && h->cs >= CS_GREETING && h->cs <= CS_READY && quit_safe(h)) {
        send_quit(h);
        return;
    }
    if (h->cs != CS_READY || h->quit_req)
        return;
    if (h->producer)
        smtp_txn_produce(h);
    if (h->producer || h->cs != CS_READY)
        return;
    while (!h->quit_req && h->cs == CS_READY && smtp_txn_can_start(h) && more_messages(h)) {
        if (h->mailmax && h->ntxn >= h->mailmax)
            break;
        if (!smtp_txn_next(h))
            break;
        if (h->producer)
            return;
    }
    if (h->cs != CS_READY)
        return;
    if (h->quit_req) {
        smtp_pump(h);
        return;
    }
    if (more_messages(h)) {
        /* RFC 9422 MAILMAX: a new session for the rest, once this one is
         * quiet. */
        if (h->mailmax && h->ntxn >= h->mailmax && h->exp_n == 0 && !h->txns) {
            h->restart = 1;
            send_quit(h);
        }
        return;
    }
    if (h->txns && !(h->pipelining_on && (h->ext & POSTA_SMTP_EXT_PIPELINING)))
        return;
    for (const struct smtp_txn *t = h->txns; t; t = t->next)
        if (t->state != TX_SENT)
            return;
    if (etrn_pending(h)) {
        send_etrns(h);
        if (h->quit_req) {
            smtp_pump(h);   /* the event asked to end: QUIT now */
            return;
        }
        if (etrn_pending(h))
            return;
    }
    if (quit_safe(h))
        send_quit(h);
}

/* --- timeouts --------------------------------------------------------------------------- */

int64_t smtp_deadline(const posta_smtp *h)
{
    int ms;
    if (h->cs == CS_TLS)
        ms = h->timeouts[POSTA_SMTP_TIMEOUT_COMMAND];
    else if (h->exp_n > 0)
        ms = smtp_timeout_of(h, h->exp[h->exp_head].kind);
    else if (posta__buf_used(&h->out) > 0 || h->producer)
        ms = h->timeouts[POSTA_SMTP_TIMEOUT_BLOCK];
    else
        return 0;
    if (ms < 0)
        return 0;
    /* While data goes out, the block timeout also bounds each write. */
    if (posta__buf_used(&h->out) > 0 && h->timeouts[POSTA_SMTP_TIMEOUT_BLOCK] >= 0 &&
        h->timeouts[POSTA_SMTP_TIMEOUT_BLOCK] > ms)
        ms = h->timeouts[POSTA_SMTP_TIMEOUT_BLOCK];
    return h->io_mark + ms;
}

const char *smtp_waiting_for(const posta_smtp *h)
{
    if (h->cs == CS_TLS)
        return "the TLS handshake";
    if (h->exp_n > 0)
        return kinds[h->exp[h->exp_head].kind].name;
    return "writing";
}

/* --- the end of a connection and of a run ----------------------------------------------- */

int smtp_msg_needs_run(const posta_smtp_message *m)
{
    if (m->st.pub.code >= 500 && m->st.pub.code < 600)
        return 0;
    if (m->nrcpt == 0)
        return m->st.pub.code == 0;
    for (const posta_smtp_recipient *r = m->cursor ? m->cursor : m->rcpts; r; r = r->next)
        if (!st_final(&r->st))
            return 1;
    return 0;
}

int smtp_has_work(posta_smtp *h)
{
    for (posta_smtp_message *m = h->msgs; m; m = m->next)
        if (m->in_run && smtp_msg_needs_run(m))
            return 1;
    for (posta_smtp_etrn *n = h->etrns; n; n = n->next)
        if (!st_final(&n->st))
            return 1;
    return 0;
}

void smtp_run_finish(posta_smtp *h, int code)
{
    if (!h->running)
        return;
    h->running = 0;
    h->finished++;
    h->last_code = code;
    smtp_txn_free_all(h);
    for (posta_smtp_message *m = h->msgs; m; m = m->next)
        m->in_run = 0;
    if (h->cs == CS_CLOSED)
        smtp_set_cs(h, CS_IDLE);
    posta_smtp_done_fn done = h->done;
    h->done = NULL;
    if (done)
        SMTP_CALLBACK(h, done(h, code, h->done_user));
}

void smtp_conn_end(posta_smtp *h, int code, const char *fmt, ...)
{
    if (h->cs == CS_CLOSED || h->cs == CS_IDLE)
        return;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        posta__err_vset(&h->err, code, fmt, ap);
        va_end(ap);
    }
    if (code && !h->run_error && !h->restart)
        h->run_error = code;
    smtp_txn_abandon(h, code ? code : POSTA_ECLOSED, posta__err_msg(&h->err));
    h->exp_n = 0;
    h->exp_head = 0;
    smtp_io_close(h);
    smtp_set_cs(h, CS_CLOSED);
    posta_sasl_free(h->sasl);
    h->sasl = NULL;
    posta_smtp_event ev = {.type = POSTA_SMTP_EV_DISCONNECT, .error = code,
                           .name = code ? posta__err_msg(&h->err) : "QUIT"};
    smtp_emit(h, &ev);
    if (h->free_pending)
        return;
    if (h->restart && !h->run_error) {
        h->restart = 0;
        if (smtp_has_work(h)) {
            int rc = smtp_connect(h);
            if (rc < 0) {
                if (h->cs != CS_CLOSED)
                    smtp_set_cs(h, CS_CLOSED);
                smtp_run_finish(h, rc);
            }
            return;
        }
    }
    smtp_run_finish(h, h->run_error);
}
