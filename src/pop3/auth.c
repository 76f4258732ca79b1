/* Logging in to POP3: AUTH through a posta_sasl session (RFC 5034), APOP and
 * USER/PASS (RFC 1939), the UTF8 step they need for non-ASCII names (RFC
 * 6856), and the choice among them. */
#include "pop3_int.h"

#include <posta/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/net.h"

static int send_method(posta_pop3 *h, posta_pop3_auth m);

static const char *method_name(posta_pop3_auth m)
{
    return m == POSTA_POP3_AUTH_SASL ? "AUTH" : m == POSTA_POP3_AUTH_APOP ? "APOP" : "USER/PASS";
}

void pop3_login_cleanup(posta_pop3 *h)
{
    if (h->job.kind == JOB_LOGIN && h->job.own_sasl)
        posta_sasl_free(h->job.sasl);
    h->job.sasl = NULL;
}

static void logged_in(posta_pop3 *h, const char *method)
{
    snprintf(h->mech, sizeof(h->mech), "%s", method);
    h->auth_method = h->mech;
    pop3_set_state(h, POSTA_POP3_STATE_TRANSACTION);
    pop3_job_finish(h, 0);
}

static void login_failed(posta_pop3 *h, int code)
{
    pop3_set_state(h, POSTA_POP3_STATE_AUTHORIZATION);
    pop3_job_finish(h, code);
}

/* RFC 2449 section 8.1: [IN-USE], [LOGIN-DELAY] and [SYS/...] say the
 * credentials were fine; [AUTH] or no code means they were not. */
static int refusal_code(const posta_pop3 *h)
{
    const char *c = h->srv_code;
    if (strcmp(c, "IN-USE") == 0 || strcmp(c, "LOGIN-DELAY") == 0 || strncmp(c, "SYS/", 4) == 0)
        return POSTA_ENO;
    return POSTA_EAUTH;
}

static void refused(posta_pop3 *h, const char *what)
{
    int code = refusal_code(h);
    pop3_err(h, code, "%s refused by %s: %s%s%s%s", what, pop3_peer(h), h->srv_code[0] ? "[" : "",
             h->srv_code, h->srv_code[0] ? "] " : "", h->srv_text);
    login_failed(h, code);
}

/* --- AUTH -------------------------------------------------------------------- */

static void on_auth(posta_pop3 *h, struct pop3_op *op, const posta_pop3_result *r);

static int queue_auth(posta_pop3 *h, const char *line, size_t len)
{
    /* Show "AUTH MECH", never the initial response. */
    size_t n = len >= 2 ? len - 2 : 0, show = 5;
    while (show < n && line[show] != ' ')
        show++;
    struct pop3_op *op = pop3_op_new_line(K_AUTH, line, n, show);
    if (!op)
        return pop3_err(h, POSTA_ENOMEM, "out of memory");
    op->internal = on_auth;
    pop3_queue_op(h, op);
    return 0;
}

int pop3_auth_continuation(posta_pop3 *h, const char *text, size_t len)
{
    const char *line;
    size_t n;
    if (h->job.kind != JOB_LOGIN || !h->job.sasl)
        return pop3_err(h, POSTA_EPROTO, "%s sent an AUTH challenge out of turn", pop3_peer(h));
    int rc = posta_sasl_on_continuation(h->job.sasl, text, len, &line, &n);
    if (rc < 0)
        return pop3_err(h, rc, "%s", posta_sasl_errmsg(h->job.sasl));
    h->inflight.head->due = posta__now_ms();
    return pop3_send_continuation(h, line, n);
}

static void auth_ok(posta_pop3 *h)
{
    posta_sasl *s = h->job.sasl;
    /* The server says yes; the client must agree (SCRAM's server proof). */
    int rc = posta_sasl_on_success(s, NULL, 0);
    if (rc < 0) {
        pop3_fail(h, rc, "%s; closing the connection", posta_sasl_errmsg(s));
        return;
    }
    if (posta_sasl_layer_ssf(s) > 0 && h->stream && posta_stream_fd(h->stream) >= 0) {
        h->pause_layer = 1;   /* the driver installs it before the next byte */
        return;
    }
    logged_in(h, posta_sasl_mechanism(s));
}

static void on_auth(posta_pop3 *h, struct pop3_op *op, const posta_pop3_result *r)
{
    posta_sasl *s = h->job.sasl;
    const char *line;
    size_t n;

    if (r->error == 0) {
        auth_ok(h);
        return;
    }
    if (r->error != POSTA_ENO)
        return;   /* the connection ended; closing finishes the login */
    posta_sasl_failure kind = strcmp(h->srv_code, "AUTH") == 0 ? POSTA_SASL_CREDENTIALS
                                                               : POSTA_SASL_REJECTED;
    if (refusal_code(h) == POSTA_ENO) {
        refused(h, "AUTH");
        return;
    }
    int rc = posta_sasl_on_failure(s, kind, r->text, r->text_len, &line, &n);
    if (rc == 0 && queue_auth(h, line, n) == 0)
        return;
    if (rc == POSTA_EAUTH || rc == 0) {
        char what[64];
        snprintf(what, sizeof(what), "AUTH %s", posta_sasl_mechanism(s) ? posta_sasl_mechanism(s) : "");
        refused(h, what);
        return;
    }
    pop3_err(h, rc, "%s", posta_sasl_errmsg(s));
    login_failed(h, rc);
}

static int send_auth(posta_pop3 *h)
{
    const char *offered = posta_pop3_capa_args(h, "SASL");
    const char *line;
    size_t n;

    if (!offered && h->job.method == POSTA_POP3_AUTH_ANY) {
        h->job.not_offered = 1;
        return pop3_err(h, POSTA_EUNSUPPORTED, "%s offers no SASL mechanisms", pop3_peer(h));
    }
    /* No CAPA at all: let the session try its candidates blindly. */
    if (!offered && h->capa_known)
        offered = "";
    int rc = posta_sasl_start(h->job.sasl, offered, offered ? strlen(offered) : 0, &line, &n);
    if (rc < 0)
        return pop3_err(h, rc, "%s", posta_sasl_errmsg(h->job.sasl));
    return queue_auth(h, line, n);
}

/* --- APOP and USER/PASS ---------------------------------------------------------- */

static void on_simple(posta_pop3 *h, struct pop3_op *op, const posta_pop3_result *r)
{
    const char *what = op->kind == K_APOP ? "APOP" : "USER";
    if (r->error == 0)
        logged_in(h, what);
    else if (r->error == POSTA_ENO)
        refused(h, op->kind == K_APOP ? "APOP" : "PASS");
}

static int queue_secret(posta_pop3 *h, enum pop3_kind kind, const char *line, size_t len,
                        size_t show, pop3_op_fn fn)
{
    if (len > 255)
        return pop3_err(h, POSTA_EINVAL, "%s line longer than 255 octets (RFC 2449 section 4)",
                        pop3_cmd_info[kind].name);
    struct pop3_op *op = pop3_op_new_line(kind, line, len >= 2 ? len - 2 : 0, show);
    if (!op)
        return pop3_err(h, POSTA_ENOMEM, "out of memory");
    op->internal = fn;
    pop3_queue_op(h, op);
    return 0;
}

static void on_user(posta_pop3 *h, struct pop3_op *op, const posta_pop3_result *r)
{
    const char *line;
    size_t n;
    if (r->error == POSTA_ENO) {
        refused(h, "USER");
        return;
    }
    if (r->error)
        return;
    int rc = posta_sasl_pass_command(h->job.sasl, &line, &n);
    if (rc == 0)
        rc = queue_secret(h, K_PASS, line, n, 4, on_simple);
    else
        pop3_err(h, rc, "%s", posta_sasl_errmsg(h->job.sasl));
    if (rc < 0)
        login_failed(h, rc);
}

static int send_user(posta_pop3 *h)
{
    const char *line;
    size_t n;
    int rc = posta_sasl_user_command(h->job.sasl, &line, &n);
    if (rc < 0)
        return pop3_err(h, rc, "%s", posta_sasl_errmsg(h->job.sasl));
    return queue_secret(h, K_USER, line, n, n - 2, on_user);
}

static int send_apop(posta_pop3 *h)
{
    const char *line;
    size_t n;
    if (!h->timestamp)
        return pop3_err(h, POSTA_EUNSUPPORTED, "%s's greeting has no APOP timestamp", pop3_peer(h));
    int rc = posta_sasl_apop_command(h->job.sasl, h->greeting, strlen(h->greeting), &line, &n);
    if (rc < 0)
        return pop3_err(h, rc, "%s", posta_sasl_errmsg(h->job.sasl));
    /* "APOP name digest": the digest is as good as a password for a replay
     * against the same timestamp, so it stays out of traces. */
    size_t show = n - 2;
    while (show > 0 && line[show] != ' ')
        show--;
    return queue_secret(h, K_APOP, line, n, show, on_simple);
}

/* --- UTF-8 names (RFC 6856 section 3.1) --------------------------------------------- */

static int non_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 1;
    return 0;
}

static int utf8_user_offered(const posta_pop3 *h)
{
    const char *a = posta_pop3_capa_args(h, "UTF8");
    for (const char *p = a; p && *p;) {
        size_t w = strcspn(p, " ");
        if (w == 4 && strncasecmp(p, "USER", 4) == 0)
            return 1;
        p += w;
        p += strspn(p, " ");
    }
    return 0;
}

/* 1 when the name or password is not ASCII and needs UTF8 mode first, 0
 * when it can go as is, or an error (the server cannot take it). */
static int needs_utf8(posta_pop3 *h, const char *what)
{
    const char *u, *p;
    size_t un, pn;
    int rc = posta_sasl_get_credential(h->job.sasl, POSTA_SASL_AUTHCID, &u, &un);
    if (rc == 0)
        rc = posta_sasl_get_credential(h->job.sasl, POSTA_SASL_PASSWORD, &p, &pn);
    if (rc < 0)
        return pop3_err(h, rc, "%s", posta_sasl_errmsg(h->job.sasl));
    if (!non_ascii(u, un) && !non_ascii(p, pn))
        return 0;
    if (posta_utf8_check(u, un, NULL) < 0 || posta_utf8_check(p, pn, NULL) < 0)
        return pop3_err(h, POSTA_EINVAL, "the user name or password is not valid UTF-8");
    if (!utf8_user_offered(h))
        return pop3_err(h, POSTA_EUNSUPPORTED,
                        "%s: %s does not accept UTF-8 user names and passwords (no \"UTF8 USER\" "
                        "capability)", what, pop3_peer(h));
    return !h->utf8_on;
}

static void on_utf8(posta_pop3 *h, struct pop3_op *op, const posta_pop3_result *r)
{
    if (r->error == POSTA_ENO) {
        pop3_err(h, POSTA_ENO, "UTF8 refused by %s: %s", pop3_peer(h), h->srv_text);
        login_failed(h, POSTA_ENO);
        return;
    }
    if (r->error)
        return;
    int rc = send_method(h, h->job.order[h->job.next - 1]);
    if (rc < 0)
        login_failed(h, rc);
}

/* --- choosing ------------------------------------------------------------------------- */

static int send_method(posta_pop3 *h, posta_pop3_auth m)
{
    switch (m) {
    case POSTA_POP3_AUTH_SASL:
        return send_auth(h);
    case POSTA_POP3_AUTH_APOP:
        return send_apop(h);
    default:
        return send_user(h);
    }
}

/* Start method m: queue its first command (or the UTF8 it needs first).
 * Errors mean nothing was queued. */
static int start_method(posta_pop3 *h, posta_pop3_auth m)
{
    if (m == POSTA_POP3_AUTH_SASL)
        return send_auth(h);
    h->job.not_offered = 1;
    if (m == POSTA_POP3_AUTH_USER && h->capa_known && !posta_pop3_has_capa(h, "USER"))
        return pop3_err(h, POSTA_EUNSUPPORTED, "%s does not offer USER/PASS", pop3_peer(h));
    if (m == POSTA_POP3_AUTH_APOP && !h->timestamp)
        return pop3_err(h, POSTA_EUNSUPPORTED, "%s's greeting has no APOP timestamp", pop3_peer(h));
    h->job.not_offered = 0;
    int u = needs_utf8(h, method_name(m));
    if (u < 0)
        return u;
    if (!u)
        return send_method(h, m);
    struct pop3_op *op = pop3_op_new(K_UTF8, "UTF8");
    if (!op)
        return pop3_err(h, POSTA_ENOMEM, "out of memory");
    op->internal = on_utf8;
    pop3_queue_op(h, op);
    return 0;
}

/* Methods that cannot start are skipped, keeping the most telling reason:
 * a policy refusal says more than a method that cannot carry the name,
 * which says more than one the server does not offer. */
static int try_methods(posta_pop3 *h)
{
    struct pop3_job *j = &h->job;
    int best = 0, best_rank = 0;
    char why[sizeof(h->err.msg)] = "";

    while (j->next < j->norder) {
        j->not_offered = 0;
        int rc = start_method(h, j->order[j->next++]);
        if (rc == 0) {
            posta__err_clear(&h->err);
            return 0;
        }
        if (rc != POSTA_EUNSUPPORTED && rc != POSTA_EPOLICY)
            return rc;
        int rank = rc == POSTA_EPOLICY ? 3 : j->not_offered ? 1 : 2;
        if (rank > best_rank) {
            best = rc;
            best_rank = rank;
            snprintf(why, sizeof(why), "%s", h->err.msg);
        }
    }
    if (j->norder > 1 && best_rank == 1)
        return pop3_err(h, best, "no login method in common with %s (%s)", pop3_peer(h), why);
    return pop3_err(h, best, "%s", why);
}

static void plan(posta_pop3 *h, posta_pop3_auth method)
{
    struct pop3_job *j = &h->job;
    j->method = method;
    j->next = 0;
    if (method != POSTA_POP3_AUTH_ANY) {
        j->order[0] = method;
        j->norder = 1;
        return;
    }
    /* Without TLS, APOP at least keeps the password off the wire. */
    int tls = pop3_tls_active(h);
    j->order[0] = POSTA_POP3_AUTH_SASL;
    j->order[1] = tls ? POSTA_POP3_AUTH_USER : POSTA_POP3_AUTH_APOP;
    j->order[2] = tls ? POSTA_POP3_AUTH_APOP : POSTA_POP3_AUTH_USER;
    j->norder = 3;
}

int pop3_login_begin(posta_pop3 *h, posta_sasl *s, int own, posta_pop3_auth method,
                     posta_pop3_done_fn done, void *user)
{
    int rc = 0;
    if (h->free_pending || h->job.kind != JOB_NONE || h->quit_queued ||
        h->state != POSTA_POP3_STATE_AUTHORIZATION)
        rc = pop3_err(h, POSTA_ESTATE, "logging in is not possible in the %s state",
                      pop3_state_name(h->state));
    else if (method < POSTA_POP3_AUTH_ANY || method > POSTA_POP3_AUTH_USER)
        rc = pop3_err(h, POSTA_EINVAL, "unknown login method %d", (int)method);
    else if (h->stream && (rc = posta_sasl_use_stream(s, h->stream)) < 0)
        pop3_err(h, rc, "out of memory");
    if (rc < 0) {
        if (own)
            posta_sasl_free(s);
        return rc;
    }
    if (h->allow_cleartext)
        posta_sasl_set_allow_plaintext(s, 1);
    pop3_enter(h);
    h->srv_code[0] = h->srv_text[0] = '\0';
    h->job = (struct pop3_job){.kind = JOB_LOGIN, .done = done, .user = user, .sasl = s,
                               .own_sasl = own};
    plan(h, method);
    pop3_set_state(h, POSTA_POP3_STATE_AUTHENTICATING);
    rc = try_methods(h);
    if (rc < 0) {
        /* Nothing was sent: undo quietly, the caller gets the error. */
        pop3_login_cleanup(h);
        memset(&h->job, 0, sizeof(h->job));
        if (h->state == POSTA_POP3_STATE_AUTHENTICATING)
            pop3_set_state(h, POSTA_POP3_STATE_AUTHORIZATION);
    }
    return pop3_leave(h, rc);
}

int pop3_login_layer(posta_pop3 *h)
{
    posta_sasl *s = h->job.sasl;
    h->pause_layer = 0;
    int rc = posta_sasl_install_layer(s, h->stream);
    if (rc < 0)
        return pop3_fail(h, rc, "cannot install the SASL security layer: %s", posta_sasl_errmsg(s));
    logged_in(h, posta_sasl_mechanism(s));
    return 0;
}

/* --- public -------------------------------------------------------------------------- */

static int new_session(posta_pop3 *h, const char *user, const char *password, posta_sasl **s_r)
{
    posta_sasl *s = NULL;
    const char *host = h->stream && h->stream->host[0] ? h->stream->host : NULL;
    if (!user || !password)
        return pop3_err(h, POSTA_EINVAL, "no user name or password given");
    int rc = posta_sasl_new(&s, POSTA_SASL_POP3, "pop", host);
    if (rc == 0)
        rc = posta_sasl_set_credential(s, POSTA_SASL_AUTHCID, user, strlen(user));
    if (rc == 0)
        rc = posta_sasl_set_credential(s, POSTA_SASL_PASSWORD, password, strlen(password));
    if (rc < 0) {
        posta_sasl_free(s);
        return pop3_err(h, rc, rc == POSTA_EINVAL ? "the user name or password contains CR, LF "
                                                    "or NUL" : "out of memory");
    }
    *s_r = s;
    return 0;
}

int posta_pop3_login_start(posta_pop3 *h, const char *user, const char *password,
                           posta_pop3_done_fn done, void *done_user)
{
    posta_sasl *s = NULL;
    int rc = new_session(h, user, password, &s);
    return rc < 0 ? rc : pop3_login_begin(h, s, 1, POSTA_POP3_AUTH_ANY, done, done_user);
}

int posta_pop3_authenticate_start(posta_pop3 *h, posta_sasl *s, posta_pop3_auth method,
                                  posta_pop3_done_fn done, void *user)
{
    if (!s)
        return pop3_err(h, POSTA_EINVAL, "no SASL session given");
    return pop3_login_begin(h, s, 0, method, done, user);
}
