/* The opening of a POP3 session: the greeting and its APOP timestamp, CAPA,
 * STLS as the TLS mode demands, and CAPA again once TLS is up. */
#include "pop3_int.h"

#include <stdlib.h>
#include <string.h>

static void on_capa(posta_pop3 *h, struct pop3_op *op, const posta_pop3_result *r);

void pop3_session_reset(posta_pop3 *h)
{
    free(h->greeting);
    free(h->timestamp);
    h->greeting = h->timestamp = NULL;
    pop3_capa_reset(h);
    h->utf8_on = 0;
    h->auth_method = NULL;
    h->pause_tls = h->pause_layer = 0;
    h->quit_queued = 0;
    h->close_code = 0;
    h->srv_code[0] = h->srv_text[0] = '\0';
    posta__err_clear(&h->err);
    pop3_table_clear(h);
    posta__buf_reset(&h->out);
    /* A parser that failed on the last connection refuses to go on. */
    size_t max_line = h->limits.max_line;
    pop3_parser_free(&h->parser);
    pop3_parser_init(&h->parser, max_line);
}

static void queue_internal(posta_pop3 *h, struct pop3_op *op, pop3_op_fn fn, enum pop3_mode multi)
{
    if (!op) {
        pop3_fail(h, POSTA_ENOMEM, "out of memory");
        return;
    }
    op->internal = fn;
    op->multi = multi;
    pop3_queue_op(h, op);
}

static void ready(posta_pop3 *h)
{
    pop3_set_state(h, POSTA_POP3_STATE_AUTHORIZATION);
    pop3_job_finish(h, 0);
}

/* RFC 1939 section 7: the greeting's "<process-ID.clock@hostname>", kept with
 * its brackets.  Anything that could not be a msg-id is ignored. */
static char *find_timestamp(const char *t, size_t n)
{
    const char *lt = memchr(t, '<', n);
    if (!lt)
        return NULL;
    const char *gt = memchr(lt, '>', n - (size_t)(lt - t));
    if (!gt || gt - lt < 2 || gt - lt > 254)
        return NULL;
    for (const char *p = lt + 1; p < gt; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '<')
            return NULL;
    size_t len = (size_t)(gt - lt) + 1;
    char *ts = malloc(len + 1);
    if (ts) {
        memcpy(ts, lt, len);
        ts[len] = '\0';
    }
    return ts;
}

static void on_greeting(posta_pop3 *h, struct pop3_op *op, const posta_pop3_result *r)
{
    if (r->error == POSTA_ENO) {
        pop3_fail(h, POSTA_EBYE, "%s refused the session: %s%s%s%.*s", pop3_peer(h),
                  r->code ? "[" : "", h->srv_code, r->code ? "] " : "", (int)r->text_len, r->text);
        return;
    }
    if (r->error)
        return;   /* the connection ended; closing finishes the job */
    h->greeting = malloc(r->text_len + 1);
    if (!h->greeting) {
        pop3_fail(h, POSTA_ENOMEM, "out of memory");
        return;
    }
    memcpy(h->greeting, r->text, r->text_len);
    h->greeting[r->text_len] = '\0';
    h->timestamp = find_timestamp(r->text, r->text_len);
    pop3_set_state(h, POSTA_POP3_STATE_NEGOTIATING);
    queue_internal(h, pop3_op_new(K_CAPA, "CAPA"), on_capa, POP3_MODE_LINES);
}

void pop3_session_greet(posta_pop3 *h)
{
    pop3_set_state(h, POSTA_POP3_STATE_GREETING);
    pop3_expect_greeting(h, on_greeting);
}

static void on_stls(posta_pop3 *h, struct pop3_op *op, const posta_pop3_result *r)
{
    if (r->error == POSTA_ENO) {
        if (h->tls_mode == POSTA_POP3_TLS_OPTIONAL) {
            ready(h);
            return;
        }
        pop3_fail(h, POSTA_EPOLICY, "%s refused STLS (%.*s); refusing to continue without TLS",
                  pop3_peer(h), (int)r->text_len, r->text);
        return;
    }
    if (r->error)
        return;
    /* The driver makes sure nothing follows the +OK, then shakes hands. */
    h->pause_tls = 1;
}

static int stls_wanted(const posta_pop3 *h)
{
    return !pop3_tls_active(h) && h->tls_mode != POSTA_POP3_TLS_NONE;
}

static void on_capa(posta_pop3 *h, struct pop3_op *op, const posta_pop3_result *r)
{
    /* -ERR is an RFC 1939 server without CAPA: no capabilities known. */
    if (r->error && r->error != POSTA_ENO)
        return;
    if (!stls_wanted(h)) {
        ready(h);
        return;
    }
    if (posta_pop3_has_capa(h, "STLS")) {
        queue_internal(h, pop3_op_new(K_STLS, "STLS"), on_stls, POP3_MODE_STATUS);
        return;
    }
    if (h->tls_mode == POSTA_POP3_TLS_OPTIONAL) {
        ready(h);
        return;
    }
    pop3_fail(h, POSTA_EPOLICY,
              "%s does not offer STLS%s; refusing to continue without TLS "
              "(POSTA_POP3_TLS_OPTIONAL or POSTA_POP3_TLS_NONE allow cleartext)",
              pop3_peer(h), h->capa_known ? "" : " (it does not answer CAPA)");
}

void pop3_session_tls_done(posta_pop3 *h)
{
    h->pause_tls = 0;
    /* RFC 2595 section 4: forget what was learned before TLS, ask again. */
    pop3_capa_reset(h);
    pop3_parser_reset(&h->parser);
    pop3_set_state(h, POSTA_POP3_STATE_NEGOTIATING);
    queue_internal(h, pop3_op_new(K_CAPA, "CAPA"), on_capa, POP3_MODE_LINES);
}
