/* The sans-I/O POP3 engine: the command queue and pipelining, the state,
 * answers matched to commands, capabilities, timeouts, and failure. */
#include "pop3_int.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTHZ POP3_BIT(POSTA_POP3_STATE_AUTHORIZATION)
#define TRANS POP3_BIT(POSTA_POP3_STATE_TRANSACTION)

/* Which commands a caller may queue in which state, and which may be
 * pipelined.  Commands that change the session's state (STLS, USER, PASS,
 * APOP, AUTH) are queued only by the engine's own sequences. */
const struct pop3_cmd_info pop3_cmd_info[K_COUNT] = {
    [K_GREETING] = {"greeting", 0, 0},
    [K_CAPA] = {"CAPA", AUTHZ | TRANS, 1},
    [K_STLS] = {"STLS", 0, 0},
    [K_UTF8] = {"UTF8", AUTHZ, 0},
    [K_USER] = {"USER", 0, 0},
    [K_PASS] = {"PASS", 0, 0},
    [K_APOP] = {"APOP", 0, 0},
    [K_AUTH] = {"AUTH", 0, 0},
    [K_STAT] = {"STAT", TRANS, 1},
    [K_LIST] = {"LIST", TRANS, 1},
    [K_UIDL] = {"UIDL", TRANS, 1},
    [K_TOP] = {"TOP", TRANS, 1},
    [K_RETR] = {"RETR", TRANS, 1},
    [K_DELE] = {"DELE", TRANS, 1},
    [K_RSET] = {"RSET", TRANS, 1},
    [K_NOOP] = {"NOOP", TRANS, 1},
    [K_QUIT] = {"QUIT", AUTHZ | TRANS, 1},
    [K_RAW] = {"command", AUTHZ | TRANS, 0},
};

/* Pipelined commands stop moving out while this much is unwritten or this
 * many answers are awaited: enough for hundreds of RETR/DELE per write,
 * little enough that a slow server never makes the buffer grow. */
#define PIPE_BYTES (16u * 1024u)
#define PIPE_COMMANDS 512u

/* --- state ----------------------------------------------------------------- */

#define B(s) POP3_BIT(POSTA_POP3_STATE_##s)
/* The moves the protocol allows, from each state (RFC 1939 section 3 plus
 * the connection's own steps); anything else is a bug in the engine. */
static const unsigned moves[] = {
    [POSTA_POP3_STATE_DISCONNECTED] = B(CONNECTING) | B(TLS_HANDSHAKE) | B(GREETING),
    [POSTA_POP3_STATE_CONNECTING] = B(TLS_HANDSHAKE) | B(GREETING) | B(DISCONNECTED),
    [POSTA_POP3_STATE_TLS_HANDSHAKE] = B(GREETING) | B(NEGOTIATING) | B(DISCONNECTED),
    [POSTA_POP3_STATE_GREETING] = B(NEGOTIATING) | B(DISCONNECTED),
    [POSTA_POP3_STATE_NEGOTIATING] = B(TLS_HANDSHAKE) | B(AUTHORIZATION) | B(DISCONNECTED),
    [POSTA_POP3_STATE_AUTHORIZATION] = B(AUTHENTICATING) | B(QUITTING) | B(DISCONNECTED),
    [POSTA_POP3_STATE_AUTHENTICATING] = B(AUTHORIZATION) | B(TRANSACTION) | B(DISCONNECTED),
    [POSTA_POP3_STATE_TRANSACTION] = B(QUITTING) | B(DISCONNECTED),
    [POSTA_POP3_STATE_QUITTING] = B(DISCONNECTED),
};
#undef B

static const char *const state_names[] = {
    "DISCONNECTED", "CONNECTING", "TLS_HANDSHAKE", "GREETING", "NEGOTIATING",
    "AUTHORIZATION", "AUTHENTICATING", "TRANSACTION", "QUITTING",
};

const char *pop3_state_name(posta_pop3_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

/* The one place the state changes. */
void pop3_set_state(posta_pop3 *h, posta_pop3_state to)
{
    posta_pop3_state from = h->state;
    if (from == to)
        return;
    /* A move not in the table is a bug in the engine: loud in debug builds;
     * a release build carries on rather than crash. */
    if (!(moves[from] & POP3_BIT(to)))
        assert(!"POP3 state move not in the table");
    h->state = to;
    if (h->cb.on_state)
        POP3_CALLBACK(h, h->cb.on_state(h, from, to, h->cb_user));
}

/* --- errors ------------------------------------------------------------------ */

int pop3_err(posta_pop3 *h, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    posta__err_vset(&h->err, code, fmt, ap);
    va_end(ap);
    return code;
}

void pop3_error_result(const posta_pop3 *h, int error, posta_pop3_result *r)
{
    memset(r, 0, sizeof(*r));
    r->error = error;
    r->text = error == h->err.code ? posta__err_msg(&h->err) : posta_strerror(error);
    r->text_len = strlen(r->text);
}

const char *pop3_peer(const posta_pop3 *h)
{
    const char *p = h->stream ? posta_stream_peer(h->stream) : "";
    return p[0] ? p : "the server";
}

int pop3_tls_active(const posta_pop3 *h)
{
    return h->stream && posta_stream_tls_active(h->stream);
}

void pop3_trace(posta_pop3 *h, char dir, const char *line, size_t len)
{
    if (h->cb.on_trace)
        POP3_CALLBACK(h, h->cb.on_trace(h, dir, line, len, h->cb_user));
}

static void trace_command(posta_pop3 *h, const struct pop3_op *op)
{
    char shown[300];
    size_t full = op->line_len - 2;

    if (!h->cb.on_trace)
        return;
    if (op->show_len >= full) {
        pop3_trace(h, 'C', op->line, full);
        return;
    }
    int n = snprintf(shown, sizeof(shown), "%.*s%s<omitted>", (int)op->show_len, op->line,
                     op->show_len ? " " : "");
    pop3_trace(h, 'C', shown, (size_t)n < sizeof(shown) ? (size_t)n : sizeof(shown) - 1);
}

/* --- commands ------------------------------------------------------------------ */

struct pop3_op *pop3_op_new_line(enum pop3_kind kind, const char *line, size_t len,
                                 size_t show_len)
{
    struct pop3_op *op = calloc(1, sizeof(*op));
    if (!op)
        return NULL;
    op->kind = kind;
    op->line = malloc(len + 3);
    if (!op->line) {
        free(op);
        return NULL;
    }
    memcpy(op->line, line, len);
    memcpy(op->line + len, "\r\n", 3);
    op->line_len = len + 2;
    op->show_len = show_len < len ? show_len : len;
    return op;
}

struct pop3_op *pop3_op_new(enum pop3_kind kind, const char *fmt, ...)
{
    char line[300];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line))
        return NULL;
    return pop3_op_new_line(kind, line, (size_t)n, (size_t)n);
}

void pop3_op_free(struct pop3_op *op)
{
    if (!op)
        return;
    if (op->line && op->show_len + 2 < op->line_len)
        memset(op->line, 0, op->line_len);  /* it held a secret */
    free(op->line);
    free(op);
}

static void q_push(struct pop3_queue *q, struct pop3_op *op)
{
    op->next = NULL;
    if (q->tail)
        q->tail->next = op;
    else
        q->head = op;
    q->tail = op;
    q->n++;
}

static struct pop3_op *q_pop(struct pop3_queue *q)
{
    struct pop3_op *op = q->head;
    if (!op)
        return NULL;
    q->head = op->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    op->next = NULL;
    return op;
}

static int pipelining(const posta_pop3 *h)
{
    return posta_pop3_has_capa(h, "PIPELINING") &&
           (h->state == POSTA_POP3_STATE_TRANSACTION || h->state == POSTA_POP3_STATE_QUITTING);
}

static int may_send(const posta_pop3 *h, const struct pop3_op *op)
{
    if (h->pause_tls || h->pause_layer)
        return 0;
    if (!h->inflight.head)
        return 1;
    return pipelining(h) && pop3_cmd_info[op->kind].pipe &&
           pop3_cmd_info[h->inflight.tail->kind].pipe && posta__buf_used(&h->out) < PIPE_BYTES &&
           h->inflight.n < PIPE_COMMANDS;
}

static void head_changed(posta_pop3 *h)
{
    struct pop3_op *head = h->inflight.head;
    if (head && !head->due)
        head->due = posta__now_ms();
    h->parser.allow_cont = head && head->kind == K_AUTH;
}

void pop3_pump(posta_pop3 *h)
{
    while (h->pending.head && may_send(h, h->pending.head)) {
        struct pop3_op *op = h->pending.head;
        if (op->line && posta__buf_append(&h->out, op->line, op->line_len) < 0) {
            pop3_fail(h, POSTA_ENOMEM, "out of memory queueing %s", pop3_cmd_info[op->kind].name);
            return;
        }
        q_pop(&h->pending);
        trace_command(h, op);
        q_push(&h->inflight, op);
        head_changed(h);
    }
}

void pop3_queue_op(posta_pop3 *h, struct pop3_op *op)
{
    q_push(&h->pending, op);
    pop3_pump(h);
}

int pop3_send_continuation(posta_pop3 *h, const char *line, size_t len)
{
    int rc = posta__buf_append(&h->out, line, len);
    if (rc < 0)
        return pop3_err(h, rc, "out of memory answering an AUTH challenge");
    /* Only the cancel "*" is worth showing; the rest is credentials. */
    if (len == 3 && line[0] == '*')
        pop3_trace(h, 'C', "*", 1);
    else
        pop3_trace(h, 'C', "<omitted>", 9);
    return 0;
}

void pop3_expect_greeting(posta_pop3 *h, pop3_op_fn on_greeting)
{
    struct pop3_op *op = calloc(1, sizeof(*op));
    if (!op) {
        pop3_fail(h, POSTA_ENOMEM, "out of memory");
        return;
    }
    op->kind = K_GREETING;
    op->internal = on_greeting;
    q_push(&h->inflight, op);
    head_changed(h);
}

/* --- capabilities ----------------------------------------------------------------- */

void pop3_capa_reset(posta_pop3 *h)
{
    posta__buf_reset(&h->capa);
    h->capa_known = 0;
}

int pop3_capa_add(posta_pop3 *h, const char *line, size_t len)
{
    if (posta__buf_used(&h->capa) + len + 1 > h->limits.max_capa)
        return pop3_err(h, POSTA_ELIMIT, "%s sent more than %zu bytes of capabilities",
                        pop3_peer(h), h->limits.max_capa);
    int rc = posta__buf_append(&h->capa, line, len);
    if (rc == 0)
        rc = posta__buf_append(&h->capa, "", 1);
    return rc < 0 ? pop3_err(h, rc, "out of memory") : 0;
}

/* The capability line whose first word is name, or NULL. */
static const char *capa_find(const posta_pop3 *h, const char *name)
{
    const char *p = (const char *)posta__buf_head(&h->capa);
    const char *end = p + posta__buf_used(&h->capa);
    size_t n = strlen(name);

    while (p && p < end) {
        if (strncasecmp(p, name, n) == 0 && (p[n] == '\0' || p[n] == ' '))
            return p;
        p += strlen(p) + 1;
    }
    return NULL;
}

int posta_pop3_has_capa(const posta_pop3 *h, const char *name)
{
    return h && name && capa_find(h, name) != NULL;
}

const char *posta_pop3_capa_args(const posta_pop3 *h, const char *name)
{
    const char *line = h && name ? capa_find(h, name) : NULL;
    if (!line)
        return NULL;
    line += strlen(name);
    while (*line == ' ')
        line++;
    return line;
}

int posta_pop3_capa_known(const posta_pop3 *h)
{
    return h->capa_known;
}

/* --- answers ------------------------------------------------------------------------ */

/* The command as messages may name it: "RETR 3", "PASS". */
static int label_len(const struct pop3_op *op)
{
    size_t n = op->show_len;
    while (n > 0 && op->line[n - 1] == ' ')
        n--;
    return (int)n;
}

/* "nn mm" at the start of a +OK text (STAT, LIST n); extra words after it
 * are allowed (RFC 1939 section 5). */
static int two_numbers(const char *s, size_t len, uint64_t *a, uint64_t *b)
{
    const char *p = s, *end = s + len;
    if (pop3_parse_u64(&p, end, a) < 0 || p >= end || *p++ != ' ' || pop3_parse_u64(&p, end, b) < 0)
        return -1;
    return p == end || *p == ' ' ? 0 : -1;
}

/* Fields of a single-line +OK: STAT, LIST n, UIDL n. */
static int take_fields(posta_pop3 *h, const struct pop3_op *op, const char *t, size_t n)
{
    uint64_t a = 0, b = 0;
    posta_pop3_entry e;

    switch (op->kind) {
    case K_STAT:
        if (two_numbers(t, n, &a, &b) < 0 || a > UINT32_MAX)
            return pop3_err(h, POSTA_EPROTO, "%s answered STAT with \"%.*s\", not a count and a size",
                            pop3_peer(h), (int)(n < 80 ? n : 80), t);
        h->res.count = (uint32_t)a;
        h->res.size = b;
        return 0;
    case K_LIST:
    case K_UIDL:
        if (!op->msg)
            return 0;
        if (pop3_parse_entry(h, op->kind, t, n, &e) < 0)
            return POSTA_EPROTO;
        h->res.number = e.number;
        h->res.size = e.size;
        if (e.uid) {
            memcpy(h->uidbuf, e.uid, e.uid_len + 1);
            h->res.uid = h->uidbuf;
            h->res.uid_len = e.uid_len;
        }
        return 0;
    default:
        return 0;
    }
}

static void keep_server_words(posta_pop3 *h, const struct pop3_status *st)
{
    snprintf(h->srv_code, sizeof(h->srv_code), "%.*s", (int)st->code_len, st->code ? st->code : "");
    snprintf(h->srv_text, sizeof(h->srv_text), "%.*s", (int)st->text_len, st->text);
}

/* The head's status line into h->res (copied: a multi-line answer's result
 * is handed over after its last line). */
static int take_status(posta_pop3 *h, struct pop3_op *op, const struct pop3_status *st)
{
    struct posta_buf *b = &h->reply;
    posta__buf_reset(b);
    if (posta__buf_reserve(b, st->code_len + st->text_len + 2) < 0)
        return pop3_err(h, POSTA_ENOMEM, "out of memory");
    posta__buf_append(b, st->code ? st->code : "", st->code_len);
    posta__buf_append(b, "", 1);
    posta__buf_append(b, st->text, st->text_len);
    posta__buf_append(b, "", 1);
    memset(&h->res, 0, sizeof(h->res));
    const char *base = (const char *)posta__buf_head(b);
    h->res.code = st->code ? base : NULL;
    h->res.code_len = st->code_len;
    h->res.text = base + st->code_len + 1;
    h->res.text_len = st->text_len;
    if (st->kind == POP3_OK)
        return take_fields(h, op, h->res.text, h->res.text_len);
    keep_server_words(h, st);
    h->res.error = POSTA_ENO;
    pop3_err(h, POSTA_ENO, "%.*s refused by %s: %s%s%s%.*s", label_len(op), op->line ? op->line : "greeting",
             pop3_peer(h), st->code ? "[" : "", h->srv_code, st->code ? "] " : "",
             (int)st->text_len, st->text);
    return 0;
}

static void complete(posta_pop3 *h, struct pop3_op *op, const posta_pop3_result *r)
{
    if (op->internal)
        op->internal(h, op, r);
    else if (op->done)
        POP3_CALLBACK(h, op->done(h, r, op->user));
    pop3_op_free(op);
}

/* What an answered command changes in the engine's own view. */
static void side_effects(posta_pop3 *h, const struct pop3_op *op, int ok)
{
    switch (op->kind) {
    case K_CAPA:
        h->capa_known = ok;
        if (!ok)
            pop3_capa_reset(h);
        break;
    case K_UTF8:
        h->utf8_on |= ok;
        break;
    case K_DELE:
        if (ok)
            pop3_table_mark(h, op->msg, 1);
        break;
    case K_RSET:
        if (ok)
            pop3_table_mark(h, 0, 0);
        break;
    default:
        break;
    }
}

/* The head command's answer is complete. */
static void finish_head(posta_pop3 *h, int ok)
{
    struct pop3_op *op = q_pop(&h->inflight);
    head_changed(h);
    if (ok && op->error)
        h->res.error = op->error;
    if (op->kind == K_RETR || op->kind == K_TOP || op->kind == K_RAW)
        h->res.size = op->bytes;
    side_effects(h, op, ok);
    int quit = op->kind == K_QUIT;
    complete(h, op, &h->res);
    if (quit) {
        /* Either answer ends the session: the server closes after QUIT. */
        pop3_close(h, 0);
        return;
    }
    pop3_pump(h);
}

/* Stop feeding when the handle is going away, the connection ended, or the
 * transport must change under the next byte (STLS, a SASL layer). */
static int after_event(const posta_pop3 *h)
{
    if (h->free_pending || h->pause_tls || h->pause_layer ||
        h->state == POSTA_POP3_STATE_DISCONNECTED)
        return POP3_PAUSE;
    return 0;
}

static int unsolicited(posta_pop3 *h, const struct pop3_status *st)
{
    if (st->kind == POP3_ERR) {
        keep_server_words(h, st);
        return pop3_err(h, POSTA_EBYE, "%s ended the session: %.*s", pop3_peer(h),
                        (int)st->line_len, st->line);
    }
    return pop3_err(h, POSTA_EPROTO, "%s sent \"%.*s\" when no answer was due", pop3_peer(h),
                    (int)(st->line_len < 80 ? st->line_len : 80), st->line);
}

/* What an entry or sink callback returned: a fatal code ends the
 * connection, any other stops the delivery and becomes the result. */
static int deliver(posta_pop3 *h, struct pop3_op *op, int r)
{
    if (r >= 0)
        return 0;
    if (!posta_error_is_fatal(r)) {
        op->error = r;
        return 0;
    }
    if (h->err.code != r)
        pop3_err(h, r, "%.*s: the callback ended the connection (%s)", label_len(op), op->line,
                 posta_strerror(r));
    return r;
}

static int on_status(void *ctx, const struct pop3_status *st)
{
    posta_pop3 *h = ctx;
    struct pop3_op *op = h->inflight.head;

    pop3_trace(h, 'S', st->line, st->line_len);
    if (h->free_pending)
        return POP3_PAUSE;
    if (!op)
        return unsolicited(h, st);
    if (st->kind == POP3_CONT) {
        int rc = pop3_auth_continuation(h, st->text, st->text_len);
        if (rc < 0)
            return rc;
        pop3_pump(h);
        return after_event(h);
    }
    int rc = take_status(h, op, st);
    if (rc < 0)
        return rc;
    if (st->kind == POP3_OK && op->multi != POP3_MODE_STATUS) {
        if (op->kind == K_CAPA)
            pop3_capa_reset(h);   /* the new list replaces the old */
        op->receiving = 1;
        return op->multi;
    }
    if (st->kind == POP3_OK && op->entry && h->res.number) {
        /* LIST n and UIDL n: the one entry is on the status line. */
        posta_pop3_entry e = {h->res.number, h->res.size, h->res.uid, h->res.uid_len, 0};
        int cr = 0;
        POP3_CALLBACK(h, cr = op->entry(h, &e, op->user));
        rc = deliver(h, op, cr);
        if (rc < 0)
            return rc;
    }
    finish_head(h, st->kind == POP3_OK);
    return after_event(h);
}

static int on_line(void *ctx, const char *line, size_t len)
{
    posta_pop3 *h = ctx;
    struct pop3_op *op = h->inflight.head;
    posta_pop3_entry e;
    int r = 0;

    pop3_trace(h, 'S', line, len);
    if (op->kind == K_CAPA) {
        int rc = pop3_capa_add(h, line, len);
        return rc < 0 ? rc : after_event(h);
    }
    if (op->kind != K_LIST && op->kind != K_UIDL)
        return after_event(h);
    if (pop3_parse_entry(h, op->kind, line, len, &e) < 0)
        return POSTA_EPROTO;
    if (!op->error && op->entry)
        POP3_CALLBACK(h, r = op->entry(h, &e, op->user));
    r = deliver(h, op, r);
    return r < 0 ? r : after_event(h);
}

static int on_data(void *ctx, const char *p, size_t n)
{
    posta_pop3 *h = ctx;
    struct pop3_op *op = h->inflight.head;
    int r = 0;

    op->bytes += n;
    if (!op->error && op->sink)
        POP3_CALLBACK(h, r = op->sink(h, p, n, op->user));
    r = deliver(h, op, r);
    return r < 0 ? r : after_event(h);
}

static int on_end(void *ctx)
{
    posta_pop3 *h = ctx;
    if (h->free_pending)
        return POP3_PAUSE;
    /* CAPA's lines are the capabilities only when they ended properly. */
    finish_head(h, 1);
    return after_event(h);
}

static const struct pop3_parser_ops parser_ops = {on_status, on_line, on_data, on_end};

long pop3_feed(posta_pop3 *h, const void *data, size_t len)
{
    h->last_rx = posta__now_ms();
    long n = pop3_parser_feed(&h->parser, data, len, &parser_ops, h);
    if (n < 0 && h->state != POSTA_POP3_STATE_DISCONNECTED && !h->free_pending) {
        if (h->parser.err.msg[0])
            pop3_fail(h, (int)n, "%s from %s", h->parser.err.msg, pop3_peer(h));
        else
            pop3_fail(h, (int)n, NULL);
    }
    return n;
}

/* --- timeouts ------------------------------------------------------------------------ */

static int64_t earliest(int64_t a, int64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

int64_t pop3_next_deadline(const posta_pop3 *h)
{
    const struct pop3_op *op = h->inflight.head;

    if (h->state == POSTA_POP3_STATE_TLS_HANDSHAKE)
        return h->command_ms < 0 ? 0 : h->hs_start + h->command_ms;
    if (!op || h->state == POSTA_POP3_STATE_DISCONNECTED)
        return 0;
    int64_t since = h->last_rx > op->due ? h->last_rx : op->due;
    int64_t silence = h->silence_ms < 0 ? 0 : since + h->silence_ms;
    if (op->receiving)
        return silence;
    int t = op->timeout_ms ? op->timeout_ms : h->command_ms;
    return earliest(t < 0 ? 0 : op->due + t, silence);
}

int pop3_check_timeouts(posta_pop3 *h, int64_t now)
{
    int64_t d = pop3_next_deadline(h);
    if (!d || now < d)
        return 0;
    const struct pop3_op *op = h->inflight.head;
    if (h->state == POSTA_POP3_STATE_TLS_HANDSHAKE || !op)
        return pop3_fail(h, POSTA_ETIMEDOUT, "TLS handshake with %s: no progress within %d ms",
                         pop3_peer(h), h->command_ms);
    if (op->kind == K_GREETING)
        return pop3_fail(h, POSTA_ETIMEDOUT, "%s sent no greeting within %lld ms", pop3_peer(h),
                         (long long)(now - op->due));
    return pop3_fail(h, POSTA_ETIMEDOUT, "%.*s: %s %s within %lld ms", label_len(op), op->line,
                     pop3_peer(h), op->receiving ? "stopped sending the answer" : "did not answer",
                     (long long)(now - (op->receiving ? h->last_rx : op->due)));
}

/* --- the end of a connection ------------------------------------------------------------ */

void pop3_job_finish(posta_pop3 *h, int error)
{
    struct pop3_job j = h->job;
    posta_pop3_result r;

    if (j.kind == JOB_NONE)
        return;
    pop3_login_cleanup(h);
    memset(&h->job, 0, sizeof(h->job));
    pop3_error_result(h, error, &r);
    if (error == 0) {
        r.text = j.kind == JOB_CONNECT && h->greeting ? h->greeting : "ok";
        r.text_len = strlen(r.text);
    } else if ((error == POSTA_ENO || error == POSTA_EAUTH) && h->srv_text[0]) {
        r.code = h->srv_code[0] ? h->srv_code : NULL;
        r.code_len = strlen(h->srv_code);
        r.text = h->srv_text;
        r.text_len = strlen(h->srv_text);
    }
    if (j.done)
        POP3_CALLBACK(h, j.done(h, &r, j.user));
}

void pop3_close(posta_pop3 *h, int code)
{
    if (h->state == POSTA_POP3_STATE_DISCONNECTED && !h->inflight.head && !h->pending.head &&
        h->job.kind == JOB_NONE)
        return;
    h->close_code = code;
    pop3_io_close(h);
    h->pause_tls = h->pause_layer = 0;
    h->quit_queued = 0;
    posta__buf_reset(&h->out);
    pop3_set_state(h, POSTA_POP3_STATE_DISCONNECTED);

    /* Detach first: callbacks may start a new connection on this handle. */
    struct pop3_op *list[2] = {h->inflight.head, h->pending.head};
    memset(&h->inflight, 0, sizeof(h->inflight));
    memset(&h->pending, 0, sizeof(h->pending));
    int first = code != 0;
    for (int i = 0; i < 2; i++) {
        for (struct pop3_op *op = list[i], *next; op; op = next) {
            posta_pop3_result r;
            next = op->next;
            pop3_error_result(h, first ? code : POSTA_ECANCELED, &r);
            first = 0;
            complete(h, op, &r);
        }
    }
    if (h->job.kind != JOB_NONE)
        pop3_job_finish(h, code ? code : POSTA_ECANCELED);
    if (h->cb.on_closed)
        POP3_CALLBACK(h, h->cb.on_closed(h, code, code ? posta__err_msg(&h->err) : "closed",
                                         h->cb_user));
}

int pop3_fail(posta_pop3 *h, int code, const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        posta__err_vset(&h->err, code, fmt, ap);
        va_end(ap);
    } else if (h->err.code != code) {
        h->err.code = code;
    }
    pop3_close(h, code);
    return code;
}

/* --- facts --------------------------------------------------------------------------- */

posta_pop3_state posta_pop3_get_state(const posta_pop3 *h)
{
    return h->state;
}

size_t posta_pop3_pending(const posta_pop3 *h)
{
    size_t n = h->pending.n + h->inflight.n;
    /* The greeting is awaited, not a command. */
    if (h->inflight.head && h->inflight.head->kind == K_GREETING)
        n--;
    return n;
}

const char *posta_pop3_errmsg(const posta_pop3 *h)
{
    return posta__err_msg(&h->err);
}

int posta_pop3_errcode(const posta_pop3 *h)
{
    return h->err.code;
}

const char *posta_pop3_server_code(const posta_pop3 *h)
{
    return h->srv_code;
}

const char *posta_pop3_server_text(const posta_pop3 *h)
{
    return h->srv_text;
}

const char *posta_pop3_greeting(const posta_pop3 *h)
{
    return h->greeting ? h->greeting : "";
}

const char *posta_pop3_apop_timestamp(const posta_pop3 *h)
{
    return h->timestamp;
}

const char *posta_pop3_auth_method(const posta_pop3 *h)
{
    return h->auth_method;
}

int posta_pop3_tls_active(const posta_pop3 *h)
{
    return pop3_tls_active(h);
}
