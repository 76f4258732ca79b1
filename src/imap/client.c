/* The IMAP connection driver: binds the sans-I/O parser and writer to a
 * posta_stream, with tags, pipelining, literal go-aheads, STARTTLS, IDLE,
 * timeouts, and the three ways of driving a connection. */
#include <posta/imap.h>

#include <ctype.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define READ_CHUNK 16384
#define OUT_HIGH_WATER 65536        /* stop pulling literal data above this */
#define DEFAULT_COMMAND_MS 120000
#define DEFAULT_SILENCE_MS 300000
#define DEFAULT_IDLE_RESTART_MS (29 * 60 * 1000)

/* What a command is to the driver; user commands are KIND_OTHER unless
 * their name says otherwise. */
enum cmd_kind {
    KIND_OTHER = 0,
    KIND_CAPABILITY,
    KIND_STARTTLS,
    KIND_LOGIN,        /* LOGIN, AUTHENTICATE */
    KIND_SELECT,       /* SELECT, EXAMINE */
    KIND_UNSELECT,     /* CLOSE, UNSELECT */
    KIND_LOGOUT,
    KIND_IDLE
};

enum write_state {
    W_QUEUED = 0,   /* not started */
    W_WRITING,      /* pieces being handed out */
    W_WAIT,         /* waiting for a literal go-ahead */
    W_SENT          /* completely written */
};

struct cmd {
    struct cmd *next;
    char tag[16];
    enum cmd_kind kind;
    enum write_state ws;
    int exclusive;          /* nothing is written after it until it completes */
    int in_source;          /* inside a SOURCE piece */
    posta_imap_cmd *w;      /* the formatted command; NULL once written */
    char *trace;            /* redacted rendering for on_trace */
    posta_imap_cmd_opts opts;
    posta_imap_sink sink;
    int64_t deadline;       /* 0: none; set once the command is on the wire */
    int timeout_ms;         /* its own timeout (0: none) */
    int pause_after;        /* stop parsing after its reply (security layers) */
    int internal;           /* issued by the driver itself while connecting */
    int plain_login;        /* LOGIN: the cleartext policy applies */
    int answered;           /* answered while its literal was still going out */
};

/* Where connecting is. */
enum phase {
    PH_IDLE = 0,     /* not connecting (disconnected or ready) */
    PH_TCP,          /* non-blocking connect */
    PH_TLS,          /* implicit TLS handshake */
    PH_GREETING,     /* waiting for the greeting */
    PH_SETUP,        /* CAPABILITY / STARTTLS commands under way */
    PH_STARTTLS_HS   /* handshake after the STARTTLS OK */
};

struct handler {
    struct handler *next;
    char *keyword;
    posta_imap_untagged_fn fn;
    void *user;
};

struct posta_imap {
    posta_stream *s;
    posta_imap_parser *parser;
    posta_imap_writer *writer;
    posta_imap_callbacks cb;
    void *user;
    posta_imap_limits limits;

    posta_imap_state state;
    enum phase phase;
    posta_imap_tls tls_mode;
    posta_imap_literals literals;
    int allow_cleartext;
    int command_ms, silence_ms, idle_restart_ms;

    struct cmd *cmds, *cmds_tail;  /* in submission order */
    struct cmd *wcur;              /* first command not completely written */
    unsigned next_tag;
    struct posta_buf out;
    struct handler *handlers;
    posta_imap_sink default_sink;
    int has_default_sink;
    const posta_imap_sink *lit_sink; /* sink of the literal being streamed */

    char *caps;                    /* " CAP1 CAP2 " upper-cased, or NULL */
    char *caps_text;               /* "CAP1 CAP2", for posta_imap_capabilities */
    unsigned caps_gen;             /* bumped whenever capabilities arrive */
    int logindisabled;
    char greeting[512];
    char bye[512];
    struct posta_err err;

    /* connecting */
    posta_imap_done_fn connect_done;
    void *connect_user;
    struct cmd *starttls_cmd;      /* whose OK paused the parser */
    int parser_paused;             /* 1: at STARTTLS's OK; 2: after a pause_after reply */
    int layer_fresh;               /* a security layer went on during the pause */

    /* IDLE */
    int idling;                    /* the server said "+" to IDLE */
    int idle_restarting;           /* DONE sent by us to re-issue */
    int64_t idle_since;

    int idle_stop;                 /* idle_done() before the server's "+" */
    int dead_code;                 /* why the connection ended (0: cleanly) */

    int64_t last_rx;               /* last progress: bytes in, bytes out, new work */
    int64_t hs_since;              /* a TLS handshake began (PH_TLS, PH_STARTTLS_HS) */
    int depth;                     /* nesting of public calls */
    int holds;                     /* composite blocking calls under way */
    int free_pending;
};

static int fail(posta_imap *h, int code, const char *fmt, ...) POSTA_PRINTF(3, 4);
static int pump(posta_imap *h);
static int login_refused(posta_imap *h);
static void send_done(posta_imap *h);
static void real_free(posta_imap *h);
static void connect_step(posta_imap *h);

/* Every public entry that can run callbacks brackets itself with these, so
 * that a free requested inside a callback happens on the way out. */
#define ENTER(h) ((h)->depth++)
static int leave(posta_imap *h, int rc)
{
    if (--h->depth == 0 && h->holds == 0 && h->free_pending)
        real_free(h);
    return rc;
}

/* A blocking call made of several blocking steps keeps the handle alive
 * between them (a callback of one step may free it); unlike ENTER this
 * does not count as being inside a callback. */
static void hold(posta_imap *h)
{
    h->holds++;
}

static int release(posta_imap *h, int rc)
{
    if (--h->holds == 0 && h->depth == 0 && h->free_pending) {
        real_free(h);
        return POSTA_ECANCELED;
    }
    return rc;
}

/* --- state ------------------------------------------------------------------ */

/* The only way the state changes. */
static void set_state(posta_imap *h, posta_imap_state to)
{
    posta_imap_state from = h->state;
    if (from == to)
        return;
    h->state = to;
    if (h->cb.on_state)
        h->cb.on_state(h, from, to, h->user);
}

/* --- capabilities ----------------------------------------------------------- */

/* The writer's flags from the capabilities and the literal mode; UTF8
 * (from ENABLE) is kept. */
static void update_writer_caps(posta_imap *h)
{
    unsigned wc = posta_imap_writer_caps(h->writer) & POSTA_IMAP_WRITER_UTF8;
    if (posta_imap_has_capability(h, "LITERAL+"))
        wc |= POSTA_IMAP_WRITER_LITERALPLUS;
    if (posta_imap_has_capability(h, "LITERAL-") || posta_imap_has_capability(h, "IMAP4REV2"))
        wc |= POSTA_IMAP_WRITER_LITERALMINUS;
    if (posta_imap_has_capability(h, "BINARY"))
        wc |= POSTA_IMAP_WRITER_BINARY;
    if (h->literals == POSTA_IMAP_LITERALS_SYNC)
        wc &= ~(unsigned)(POSTA_IMAP_WRITER_LITERALPLUS | POSTA_IMAP_WRITER_LITERALMINUS);
    else if (h->literals == POSTA_IMAP_LITERALS_NONSYNC)
        wc |= POSTA_IMAP_WRITER_LITERALPLUS;
    posta_imap_writer_set_caps(h->writer, wc);
}

static void forget_caps(posta_imap *h)
{
    free(h->caps);
    free(h->caps_text);
    h->caps = h->caps_text = NULL;
    h->logindisabled = 0;
    update_writer_caps(h);
}

void posta_imap_set_literals(posta_imap *h, posta_imap_literals mode)
{
    h->literals = mode;
    update_writer_caps(h);
}

int posta_imap_has_capability(const posta_imap *h, const char *cap)
{
    char needle[256];
    if (!h->caps || strlen(cap) + 3 > sizeof(needle))
        return 0;
    snprintf(needle, sizeof(needle), " %s ", cap);
    for (char *p = needle; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return strstr(h->caps, needle) != NULL;
}

const char *posta_imap_capabilities(const posta_imap *h)
{
    return h->caps_text ? h->caps_text : "";
}

/* Take the capability list from atoms (a CAPABILITY response or code). */
static void set_caps(posta_imap *h, const posta_imap_arg *args, size_t n)
{
    struct posta_buf b;
    posta__buf_init(&b, 0);
    int rc = posta__buf_append(&b, " ", 1);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (args[i].type != POSTA_IMAP_ARG_ATOM)
            continue;
        for (size_t j = 0; rc == 0 && j < args[i].len; j++) {
            char c = (char)toupper((unsigned char)args[i].str[j]);
            rc = posta__buf_append(&b, &c, 1);
        }
        if (rc == 0)
            rc = posta__buf_append(&b, " ", 1);
    }
    if (rc == 0)
        rc = posta__buf_append(&b, "", 1);
    if (rc < 0) {
        posta__buf_free(&b);
        return;
    }
    char *text = strdup((char *)b.data + 1);
    if (!text) {
        posta__buf_free(&b);
        return;
    }
    if (text[0])
        text[strlen(text) - 1] = '\0';
    free(h->caps);
    free(h->caps_text);
    h->caps = (char *)b.data;
    h->caps_text = text;
    h->logindisabled = posta_imap_has_capability(h, "LOGINDISABLED");
    update_writer_caps(h);
    h->caps_gen++;
}

static int arg_is(const posta_imap_arg *a, const char *word)
{
    return a->type == POSTA_IMAP_ARG_ATOM && a->len == strlen(word) && strncasecmp(a->str, word, a->len) == 0;
}

/* --- trace and errors --------------------------------------------------------- */

static void trace(posta_imap *h, char dir, const char *data, size_t len)
{
    if (h->cb.on_trace)
        h->cb.on_trace(h, dir, data, len, h->user);
}

/* --- commands: creation, completion ------------------------------------------- */

static void free_cmd(struct cmd *c)
{
    posta_imap_cmd_free(c->w);
    free(c->trace);
    free(c);
}

static void unlink_cmd(posta_imap *h, struct cmd *c)
{
    struct cmd **pp = &h->cmds, *prev = NULL;
    while (*pp && *pp != c) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = c->next;
    if (h->cmds_tail == c)
        h->cmds_tail = prev;
    if (h->wcur == c)
        h->wcur = c->next;
}

/* Run the completion callback exactly once and forget the command. */
static void complete(posta_imap *h, struct cmd *c, int error, const posta_imap_response *resp,
                     const char *text, size_t text_len)
{
    posta_imap_result r = {.error = error, .response = resp, .text = text ? text : "",
                           .text_len = text ? text_len : 0};
    unlink_cmd(h, c);
    if (c->opts.done && !c->answered)
        c->opts.done(h, &r, c->opts.user);
    free_cmd(c);
}

static enum cmd_kind kind_of(const char *name, size_t len)
{
    static const struct {
        const char *name;
        enum cmd_kind kind;
    } table[] = {
        {"CAPABILITY", KIND_CAPABILITY}, {"STARTTLS", KIND_STARTTLS}, {"LOGIN", KIND_LOGIN},
        {"AUTHENTICATE", KIND_LOGIN},    {"SELECT", KIND_SELECT},     {"EXAMINE", KIND_SELECT},
        {"CLOSE", KIND_UNSELECT},        {"UNSELECT", KIND_UNSELECT}, {"LOGOUT", KIND_LOGOUT},
        {"IDLE", KIND_IDLE},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strlen(table[i].name) == len && strncasecmp(table[i].name, name, len) == 0)
            return table[i].kind;
    return KIND_OTHER;
}

static int usable(posta_imap *h)
{
    if (h->state == POSTA_IMAP_STATE_DISCONNECTED)
        return posta__err_set(&h->err, POSTA_ESTATE, "not connected");
    if (h->state == POSTA_IMAP_STATE_LOGOUT)
        return posta__err_set(&h->err, POSTA_ESTATE, "the session is logging out");
    if (h->phase == PH_STARTTLS_HS || h->starttls_cmd)
        return posta__err_set(&h->err, POSTA_ESTATE, "STARTTLS is under way");
    return 0;
}

/* Append c, except that the driver's own commands while connecting go
 * before the caller's: those wait until the connection is ready (TLS up,
 * capabilities known), so nothing of theirs is sent in cleartext first. */
static void insert_cmd(posta_imap *h, struct cmd *c)
{
    struct cmd **pp = &h->cmds;
    while (*pp && (!c->internal || (*pp)->internal || (*pp)->ws != W_QUEUED))
        pp = &(*pp)->next;
    c->next = *pp;
    if (h->wcur == *pp)
        h->wcur = c;
    *pp = c;
    if (!c->next)
        h->cmds_tail = c;
}

/* Format and queue a command; kind decides how its reply changes state. */
static int queue(posta_imap *h, const posta_imap_cmd_opts *opts, int internal, const char *fmt, va_list ap)
{
    struct cmd *c = calloc(1, sizeof(*c));
    if (!c)
        return posta__err_set(&h->err, POSTA_ENOMEM, "out of memory");
    snprintf(c->tag, sizeof(c->tag), "a%04u", ++h->next_tag % 100000);
    int rc = posta_imap_cmd_vnew(h->writer, &c->w, c->tag, fmt, ap);
    if (rc < 0) {
        free(c);
        return posta__err_set(&h->err, rc, "%s", posta_imap_writer_errmsg(h->writer));
    }
    char *text = NULL;
    size_t len = 0;
    if (posta_imap_cmd_render(c->w, POSTA_IMAP_RENDER_REDACT | POSTA_IMAP_RENDER_ELIDE, &text, &len) == 0) {
        /* "tag NAME ..." → kind from NAME; UID FETCH etc. stay OTHER. */
        const char *name = text + strlen(c->tag) + 1;
        size_t nlen = strcspn(name, " \r");
        c->kind = kind_of(name, nlen);
        c->plain_login = nlen == 5 && strncasecmp(name, "LOGIN", 5) == 0;
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        c->trace = text;
    }
    if (opts) {
        c->opts = *opts;
        if (opts->sink)
            c->sink = *opts->sink;
    }
    int ms = c->opts.timeout_ms ? c->opts.timeout_ms : h->command_ms;
    c->timeout_ms = ms > 0 && c->kind != KIND_IDLE ? ms : 0;
    c->internal = internal;
    c->pause_after = c->kind == KIND_LOGIN && c->opts.on_continuation != NULL;
    /* Nothing may follow these on the wire until they complete. */
    c->exclusive = c->kind == KIND_STARTTLS || c->kind == KIND_IDLE || c->opts.on_continuation != NULL;
    if (!h->cmds)
        h->last_rx = posta__now_ms(); /* silence counts from now, not from idle time */
    insert_cmd(h, c);
    return 0;
}

static int submit_internal(posta_imap *h, posta_imap_done_fn done, const char *fmt, ...)
{
    posta_imap_cmd_opts o = {.done = done, .user = h};
    va_list ap;
    va_start(ap, fmt);
    int rc = queue(h, &o, 1, fmt, ap);
    va_end(ap);
    return rc;
}

int posta_imap_vsubmit(posta_imap *h, const posta_imap_cmd_opts *opts, const char *fmt, va_list ap)
{
    int rc = usable(h);
    if (rc < 0)
        return rc;
    ENTER(h);
    rc = queue(h, opts, 0, fmt, ap);
    if (rc == 0 && h->idling && h->cmds_tail->kind != KIND_IDLE) {
        /* A command while idling: end IDLE, run it, then idle again. */
        h->idle_restarting = 1;
        send_done(h);
    }
    if (rc == 0 && h->phase == PH_IDLE && h->state != POSTA_IMAP_STATE_DISCONNECTED)
        pump(h);
    return leave(h, rc);
}

int posta_imap_submit(posta_imap *h, const posta_imap_cmd_opts *opts, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = posta_imap_vsubmit(h, opts, fmt, ap);
    va_end(ap);
    return rc;
}

/* --- the connection dies ------------------------------------------------------- */

/* End the connection: close the stream, complete every command with code,
 * tell the application.  Returns code. */
static int fail(posta_imap *h, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    posta__err_vset(&h->err, code, fmt, ap);
    va_end(ap);
    int closing = h->state != POSTA_IMAP_STATE_DISCONNECTED;
    posta_stream_close(h->s);
    posta__buf_reset(&h->out);
    h->phase = PH_IDLE;
    h->idling = h->idle_restarting = h->idle_stop = 0;
    h->parser_paused = 0;
    h->lit_sink = NULL;
    h->dead_code = code;
    /* The parser is kept (we may be inside its callback); the next session
     * makes a new one, so a partial response never leaks into it. */
    set_state(h, POSTA_IMAP_STATE_DISCONNECTED);
    char msg[sizeof(h->err.msg)];
    snprintf(msg, sizeof(msg), "%s", h->err.msg);
    if (h->connect_done) {
        posta_imap_done_fn done = h->connect_done;
        posta_imap_result r = {.error = code, .text = msg, .text_len = strlen(msg)};
        h->connect_done = NULL;
        done(h, &r, h->connect_user);
    }
    if (h->starttls_cmd) {
        struct cmd *c = h->starttls_cmd;
        h->starttls_cmd = NULL;
        complete(h, c, code, NULL, msg, strlen(msg));
    }
    while (h->cmds)
        complete(h, h->cmds, code, NULL, msg, strlen(msg));
    if (closing && h->cb.on_closed)
        h->cb.on_closed(h, code, msg, h->user);
    return code;
}

/* A clean end after LOGOUT's OK. */
static void closed_cleanly(posta_imap *h)
{
    posta_stream_close(h->s);
    posta__buf_reset(&h->out);
    h->phase = PH_IDLE;
    h->dead_code = 0;
    set_state(h, POSTA_IMAP_STATE_DISCONNECTED);
    while (h->cmds)
        complete(h, h->cmds, POSTA_ECANCELED, NULL, "connection closed after LOGOUT", 30);
    if (h->cb.on_closed)
        h->cb.on_closed(h, 0, "logged out", h->user);
}

/* --- writing -------------------------------------------------------------------- */

static int flush_out(posta_imap *h)
{
    while (posta__buf_used(&h->out) > 0) {
        long n = posta_stream_write(h->s, posta__buf_head(&h->out), posta__buf_used(&h->out));
        if (n == POSTA_EAGAIN)
            return POSTA_EAGAIN;
        if (n < 0)
            return fail(h, (int)n, "%s", posta_stream_errmsg(h->s));
        posta__buf_consume(&h->out, (size_t)n);
        h->last_rx = posta__now_ms(); /* progress: an upload is not silence */
    }
    int rc = posta_stream_flush(h->s);
    if (rc < 0 && rc != POSTA_EAGAIN)
        return fail(h, rc, "%s", posta_stream_errmsg(h->s));
    return rc;
}

/* Pull literal data from the current command's source into out. */
static int fill_source(posta_imap *h, struct cmd *c)
{
    while (posta__buf_used(&h->out) < OUT_HIGH_WATER) {
        int rc = posta__buf_reserve(&h->out, READ_CHUNK);
        if (rc < 0)
            return fail(h, rc, "out of memory");
        long n = posta_imap_cmd_read(c->w, h->out.data + h->out.len, READ_CHUNK);
        if (n == 0) {
            c->in_source = 0;
            return 0;
        }
        if (n == POSTA_EAGAIN)
            return POSTA_EAGAIN;
        if (n < 0)
            return fail(h, (int)n, "literal of %s: %s", c->tag, posta_imap_cmd_errmsg(c->w));
        h->out.len += (size_t)n;
    }
    return POSTA_EAGAIN;
}

/* Hand the pieces of the current command to out until it is written, it
 * waits for a go-ahead, or out is full. */
static int write_pieces(posta_imap *h, struct cmd *c)
{
    if (c->ws == W_QUEUED) {
        c->ws = W_WRITING;
        if (c->trace)
            trace(h, 'C', c->trace, strlen(c->trace));
    }
    while (c->ws == W_WRITING && posta__buf_used(&h->out) < OUT_HIGH_WATER) {
        if (c->in_source) {
            int rc = fill_source(h, c);
            if (rc < 0)
                return rc;
            continue;
        }
        posta_imap_piece p;
        int rc = posta_imap_cmd_next(c->w, &p);
        if (rc < 0)
            return fail(h, rc, "%s", posta_imap_cmd_errmsg(c->w));
        switch (p.kind) {
        case POSTA_IMAP_PIECE_BYTES:
            if ((rc = posta__buf_append(&h->out, p.data, p.len)) < 0)
                return fail(h, rc, "out of memory");
            break;
        case POSTA_IMAP_PIECE_WAIT:
            c->ws = W_WAIT;
            break;
        case POSTA_IMAP_PIECE_SOURCE:
            c->in_source = 1;
            break;
        case POSTA_IMAP_PIECE_END:
            c->ws = W_SENT;
            posta_imap_cmd_free(c->w);
            c->w = NULL;
            /* Its time to answer starts now, not when it was queued
             * behind others or while its literal was uploading. */
            if (c->timeout_ms > 0)
                c->deadline = posta__now_ms() + c->timeout_ms;
            break;
        }
    }
    return 0;
}

/* Move output along: write what is buffered, then more commands, in order,
 * stopping at a go-ahead wait or an exclusive command still in flight. */
static int pump(posta_imap *h)
{
    for (;;) {
        if (h->state == POSTA_IMAP_STATE_DISCONNECTED || h->phase == PH_TCP || h->phase == PH_TLS ||
            h->phase == PH_STARTTLS_HS || h->parser_paused)
            return 0;
        int rc = flush_out(h);
        if (rc == POSTA_EAGAIN)
            return 0;
        if (rc < 0)
            return rc;
        struct cmd *c = h->wcur;
        if (!c || c->ws == W_WAIT)
            return 0;
        /* The caller's commands wait until the connection is ready. */
        if (!c->internal && h->phase != PH_IDLE)
            return 0;
        /* A command after an exclusive one waits until that completes. */
        for (struct cmd *e = h->cmds; e && e != c; e = e->next)
            if (e->exclusive)
                return 0;
        if (c->ws == W_SENT) {
            h->wcur = c->next;
            if (c->answered) {
                /* Its literal is out; its completion already ran. */
                unlink_cmd(h, c);
                free_cmd(c);
            }
            continue;
        }
        if (c->ws == W_QUEUED && c->plain_login && (rc = login_refused(h)) < 0) {
            complete(h, c, rc, NULL, h->err.msg, strlen(h->err.msg));
            if (h->free_pending || h->state == POSTA_IMAP_STATE_DISCONNECTED)
                return 0;
            continue;
        }
        rc = write_pieces(h, c);
        if (rc < 0 && rc != POSTA_EAGAIN)
            return rc;
        /* Nothing buffered and still writing: the literal source has no
         * data yet; posta_imap_on_writable() resumes it. */
        if (posta__buf_used(&h->out) == 0 && c->ws == W_WRITING)
            return 0;
    }
}

/* The LOGIN policy for any LOGIN command, checked when it is about to be
 * written (after STARTTLS, when the facts are known).  0 or the error. */
static int login_refused(posta_imap *h)
{
    if (!h->allow_cleartext && !posta_stream_tls_active(h->s))
        return posta__err_set(&h->err, POSTA_EPOLICY,
                              "refusing to send the password in cleartext: the connection is not "
                              "encrypted (allow cleartext to do it anyway)");
    if (h->logindisabled)
        return posta__err_set(&h->err, POSTA_EPOLICY,
                              "the server announced LOGINDISABLED: it does not accept LOGIN on this "
                              "connection (use TLS, or AUTHENTICATE)");
    return 0;
}

int posta_imap_continue(posta_imap *h, const void *line, size_t len)
{
    struct cmd *c = h->cmds;
    while (c && !(c->opts.on_continuation && c->ws == W_SENT))
        c = c->next;
    if (!c)
        return posta__err_set(&h->err, POSTA_ESTATE, "no command waits for a continuation answer");
    if (memchr(line, '\r', len) || memchr(line, '\n', len) || memchr(line, '\0', len))
        return posta__err_set(&h->err, POSTA_EINVAL, "a continuation answer must not hold CR, LF or NUL");
    ENTER(h);
    int rc = posta__buf_append(&h->out, line, len);
    if (rc == 0)
        rc = posta__buf_append(&h->out, "\r\n", 2);
    if (rc < 0)
        return leave(h, fail(h, rc, "out of memory"));
    trace(h, 'C', "<omitted>", 9);
    rc = pump(h);
    return leave(h, rc);
}

/* --- reading: dispatch of responses ------------------------------------------------ */

static struct cmd *find_tag(posta_imap *h, const char *tag, size_t len)
{
    for (struct cmd *c = h->cmds; c; c = c->next)
        if (!c->answered && strlen(c->tag) == len && memcmp(c->tag, tag, len) == 0)
            return c;
    return NULL;
}

static void copy_text(char *dst, size_t dstsz, const char *text, size_t len)
{
    if (len >= dstsz)
        len = dstsz - 1;
    memcpy(dst, text ? text : "", text ? len : 0);
    dst[text ? len : 0] = '\0';
}

static int error_for(posta_imap_status st)
{
    return st == POSTA_IMAP_STATUS_OK ? 0 : st == POSTA_IMAP_STATUS_NO ? POSTA_ENO : POSTA_EBAD;
}

static void code_caps(posta_imap *h, const posta_imap_response *r)
{
    if (r->code && r->code_len == 10 && strncasecmp(r->code, "CAPABILITY", 10) == 0)
        set_caps(h, r->code_args, r->code_nargs);
}

/* The state a completed command leads to. */
static void apply_kind(posta_imap *h, struct cmd *c, posta_imap_status st)
{
    switch (c->kind) {
    case KIND_LOGIN:
        if (st == POSTA_IMAP_STATUS_OK)
            set_state(h, POSTA_IMAP_STATE_AUTHENTICATED);
        break;
    case KIND_SELECT:
        /* A failed SELECT still closes the mailbox that was selected. */
        set_state(h, st == POSTA_IMAP_STATUS_OK ? POSTA_IMAP_STATE_SELECTED : POSTA_IMAP_STATE_AUTHENTICATED);
        break;
    case KIND_UNSELECT:
        if (st == POSTA_IMAP_STATUS_OK)
            set_state(h, POSTA_IMAP_STATE_AUTHENTICATED);
        break;
    default:
        break;
    }
}

static void submit_idle_again(posta_imap *h, struct cmd *old);

/* A NO or BAD becomes the handle's sentence, with the server's code and
 * words: "a0002 NO: [NONEXISTENT] no such mailbox". */
static void note_refusal(posta_imap *h, const struct cmd *c, const posta_imap_response *r)
{
    if (r->status == POSTA_IMAP_STATUS_OK)
        return;
    posta__err_set(&h->err, error_for(r->status), "%s %s: %s%.*s%s%.*s", c->tag,
                   r->status == POSTA_IMAP_STATUS_NO ? "NO" : "BAD", r->code_raw ? "[" : "",
                   r->code_raw ? (int)r->code_raw_len : 0, r->code_raw ? r->code_raw : "",
                   r->code_raw ? "] " : "", (int)r->text_len, r->text);
}

static int on_tagged(posta_imap *h, const posta_imap_response *r)
{
    struct cmd *c = find_tag(h, r->tag, r->tag_len);
    if (!c)
        return fail(h, POSTA_EPROTO, "IMAP protocol error at byte %llu: the server answered tag %.*s, "
                                     "which no command has",
                    (unsigned long long)r->offset, (int)r->tag_len, r->tag);
    if (r->status == POSTA_IMAP_STATUS_NONE || r->status == POSTA_IMAP_STATUS_PREAUTH ||
        r->status == POSTA_IMAP_STATUS_BYE)
        return fail(h, POSTA_EPROTO, "IMAP protocol error at byte %llu: tagged response is not OK, NO or BAD",
                    (unsigned long long)r->offset);
    code_caps(h, r);
    if (c->ws == W_WAIT) {
        /* Refused before its synchronizing literal: the server expects no
         * more of it, so the rest is dropped. */
        if (h->wcur == c)
            h->wcur = c->next;
        c->ws = W_SENT;
    } else if (c->ws != W_SENT) {
        /* Answered while a non-synchronizing literal is still going out:
         * the server reads the announced octets anyway, so they must be
         * sent.  Report now; the record goes once the bytes are out. */
        apply_kind(h, c, r->status);
        note_refusal(h, c, r);
        posta_imap_result res = {.error = error_for(r->status), .response = r, .text = r->text,
                                 .text_len = r->text_len};
        c->answered = 1;
        c->deadline = 0;
        if (c->opts.done)
            c->opts.done(h, &res, c->opts.user);
        c->opts.done = NULL;
        return 0;
    }
    apply_kind(h, c, r->status);
    if (c->kind == KIND_STARTTLS && r->status == POSTA_IMAP_STATUS_OK) {
        /* Stop parsing here: what follows must be TLS, not IMAP.  The
         * command completes once TLS is up and capabilities are known. */
        unlink_cmd(h, c);
        h->starttls_cmd = c;
        h->parser_paused = 1;
        return POSTA_EAGAIN;
    }
    if (c->kind == KIND_IDLE) {
        h->idling = 0;
        h->idle_stop = 0;
        if (h->idle_restarting && r->status == POSTA_IMAP_STATUS_OK) {
            h->idle_restarting = 0;
            submit_idle_again(h, c);
            return 0;
        }
        h->idle_restarting = 0;
    }
    note_refusal(h, c, r);
    int logout = c->kind == KIND_LOGOUT && r->status == POSTA_IMAP_STATUS_OK;
    int pause = c->pause_after;
    complete(h, c, error_for(r->status), r, r->text, r->text_len);
    if (logout)
        closed_cleanly(h);
    if (pause && h->state != POSTA_IMAP_STATE_DISCONNECTED) {
        /* Bytes after this reply may belong to a security layer that the
         * completion just installed: look at them before parsing on. */
        h->parser_paused = 2;
        return POSTA_EAGAIN;
    }
    return 0;
}

/* Offer an untagged response to commands, keyword handlers, the default. */
static void route_untagged(posta_imap *h, const posta_imap_response *r)
{
    for (struct cmd *c = h->cmds; c && !h->free_pending; c = c->next) {
        if (c->ws == W_QUEUED || !c->opts.on_untagged)
            continue;
        int claimed = c->opts.on_untagged(h, r, c->opts.user);
        /* The callback may have ended the connection (freeing c) or
         * queued work; either way stop walking the list it changed. */
        if (claimed || h->free_pending || h->state == POSTA_IMAP_STATE_DISCONNECTED)
            return;
    }
    static const char *const status_words[] = {NULL, "OK", "NO", "BAD", "PREAUTH", "BYE"};
    const char *kw = r->keyword;
    size_t kwlen = r->keyword_len;
    if (!kw && r->status != POSTA_IMAP_STATUS_NONE) {
        kw = status_words[r->status];
        kwlen = strlen(kw);
    }
    for (struct handler *hd = h->handlers; hd && kw; hd = hd->next)
        if (strlen(hd->keyword) == kwlen && strncasecmp(hd->keyword, kw, kwlen) == 0) {
            if (hd->fn(h, r, hd->user) || h->free_pending || h->state == POSTA_IMAP_STATE_DISCONNECTED)
                return;
            break;
        }
    if (h->cb.on_untagged)
        h->cb.on_untagged(h, r, h->user);
}

static int on_untagged(posta_imap *h, const posta_imap_response *r)
{
    code_caps(h, r);
    if (r->keyword && r->keyword_len == 10 && strncasecmp(r->keyword, "CAPABILITY", 10) == 0 &&
        r->status == POSTA_IMAP_STATUS_NONE)
        set_caps(h, r->args, r->nargs);
    if (r->keyword && r->keyword_len == 7 && strncasecmp(r->keyword, "ENABLED", 7) == 0)
        for (size_t i = 0; i < r->nargs; i++)
            if (arg_is(&r->args[i], "UTF8=ACCEPT") || arg_is(&r->args[i], "IMAP4REV2"))
                posta_imap_writer_set_caps(h->writer, posta_imap_writer_caps(h->writer) | POSTA_IMAP_WRITER_UTF8);
    if (r->status == POSTA_IMAP_STATUS_BYE) {
        copy_text(h->bye, sizeof(h->bye), r->text, r->text_len);
        set_state(h, POSTA_IMAP_STATE_LOGOUT);
    }
    route_untagged(h, r);
    return 0;
}

static int on_continuation(posta_imap *h, const posta_imap_response *r)
{
    struct cmd *c = h->wcur;
    if (c && c->ws == W_WAIT) {
        c->ws = W_WRITING;
        return 0;
    }
    /* A command that takes continuations and has been sent completely. */
    for (c = h->cmds; c; c = c->next) {
        if (c->ws != W_SENT)
            continue;
        if (c->kind == KIND_IDLE && !h->idling) {
            h->idling = 1;
            h->idle_since = posta__now_ms();
            if (h->idle_stop) {
                h->idle_stop = 0;
                send_done(h);
            } else if (c->next) {
                /* Commands queued behind IDLE: pause it for them. */
                h->idle_restarting = 1;
                send_done(h);
            }
            return 0;
        }
        if (c->opts.on_continuation) {
            c->opts.on_continuation(h, r->text, r->text_len, c->opts.user);
            return 0;
        }
    }
    /* Some servers send a stray "+"; nothing waits for it, so ignore it. */
    return 0;
}

static int on_greeting(posta_imap *h, const posta_imap_response *r)
{
    if (r->kind != POSTA_IMAP_RESP_UNTAGGED || r->status == POSTA_IMAP_STATUS_NONE)
        return fail(h, POSTA_EPROTO, "IMAP protocol error at byte 0: the server's first line is not a greeting");
    copy_text(h->greeting, sizeof(h->greeting), r->text, r->text_len);
    code_caps(h, r);
    route_untagged(h, r);
    switch (r->status) {
    case POSTA_IMAP_STATUS_OK:
        set_state(h, POSTA_IMAP_STATE_NOT_AUTHENTICATED);
        break;
    case POSTA_IMAP_STATUS_PREAUTH:
        if (h->tls_mode == POSTA_IMAP_TLS_STARTTLS && !posta_stream_tls_active(h->s))
            return fail(h, POSTA_EPOLICY, "the server greeted with PREAUTH on an unencrypted connection, "
                                          "so STARTTLS is impossible; refusing to continue");
        set_state(h, POSTA_IMAP_STATE_AUTHENTICATED);
        break;
    case POSTA_IMAP_STATUS_BYE:
        copy_text(h->bye, sizeof(h->bye), r->text, r->text_len);
        return fail(h, POSTA_EBYE, "the server refused the connection: %.*s", (int)r->text_len, r->text);
    default:
        return fail(h, POSTA_EPROTO, "IMAP protocol error at byte 0: the greeting is not OK, PREAUTH or BYE");
    }
    h->phase = PH_SETUP;
    connect_step(h);
    return 0;
}

static int parser_on_response(posta_imap_parser *p, const posta_imap_response *r, void *user)
{
    posta_imap *h = user;
    (void)p;
    if (h->free_pending || h->state == POSTA_IMAP_STATE_DISCONNECTED)
        return POSTA_ECANCELED;
    if (h->phase == PH_GREETING)
        return on_greeting(h, r);
    switch (r->kind) {
    case POSTA_IMAP_RESP_TAGGED:
        return on_tagged(h, r);
    case POSTA_IMAP_RESP_CONTINUATION:
        return on_continuation(h, r);
    case POSTA_IMAP_RESP_UNTAGGED:
        return on_untagged(h, r);
    }
    return 0;
}

/* Streamed literals go to the oldest in-flight command with a sink, else
 * the default sink, else nowhere. */
static int parser_on_literal_begin(posta_imap_parser *p, const posta_imap_literal_info *info, void *user)
{
    posta_imap *h = user;
    (void)p;
    h->lit_sink = NULL;
    for (struct cmd *c = h->cmds; c; c = c->next)
        if (c->ws != W_QUEUED && c->sink.data) {
            h->lit_sink = &c->sink;
            break;
        }
    if (!h->lit_sink && h->has_default_sink)
        h->lit_sink = &h->default_sink;
    if (h->lit_sink && h->lit_sink->begin)
        return h->lit_sink->begin(h, info, h->lit_sink->user);
    return 0;
}

static int parser_on_literal_data(posta_imap_parser *p, const void *data, size_t len, void *user)
{
    posta_imap *h = user;
    (void)p;
    h->last_rx = posta__now_ms();
    if (h->lit_sink && h->lit_sink->data)
        return h->lit_sink->data(h, data, len, h->lit_sink->user);
    return 0;
}

static int parser_on_literal_end(posta_imap_parser *p, void *user)
{
    posta_imap *h = user;
    (void)p;
    const posta_imap_sink *s = h->lit_sink;
    h->lit_sink = NULL;
    if (s && s->end)
        return s->end(h, s->user);
    return 0;
}

static int new_parser(posta_imap *h)
{
    static const posta_imap_parser_callbacks pcb = {
        .on_response = parser_on_response,
        .on_literal_begin = parser_on_literal_begin,
        .on_literal_data = parser_on_literal_data,
        .on_literal_end = parser_on_literal_end,
    };
    posta_imap_parser_free(h->parser);
    h->parser = NULL;
    return posta_imap_parser_new(&h->parser, &pcb, &h->limits, h);
}

/* --- STARTTLS ------------------------------------------------------------------------ */

static void starttls_capa_done(posta_imap *h, const posta_imap_result *r, void *user);

/* The handshake after STARTTLS's OK finished (rc 0) or failed. */
static void starttls_finished(posta_imap *h, int rc)
{
    struct cmd *c = h->starttls_cmd;
    if (rc < 0) {
        fail(h, rc, "%s", posta_stream_errmsg(h->s));
        return;
    }
    h->phase = h->connect_done ? PH_SETUP : PH_IDLE;
    /* The capabilities from before TLS may have been forged. */
    forget_caps(h);
    if (submit_internal(h, starttls_capa_done, "CAPABILITY") < 0) {
        fail(h, h->err.code, "%s", h->err.msg);
        return;
    }
    /* STARTTLS completes once the new capabilities are known. */
    (void)c;
    pump(h);
}

static void starttls_capa_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    (void)user;
    struct cmd *c = h->starttls_cmd;
    h->starttls_cmd = NULL;
    if (c)
        complete(h, c, r->error, NULL, r->text, r->text_len);
    if (h->connect_done && h->state != POSTA_IMAP_STATE_DISCONNECTED)
        connect_step(h);
}

/* After the parser paused at STARTTLS's OK: refuse leftovers, then TLS. */
static int begin_starttls_handshake(posta_imap *h, size_t leftover)
{
    if (leftover > 0)
        return fail(h, POSTA_EPROTO, "%s sent %zu bytes after the STARTTLS OK and before the TLS handshake; "
                                     "refusing to continue (possible injection attack)",
                    posta_stream_peer(h->s), leftover);
    h->parser_paused = 0;
    h->phase = PH_STARTTLS_HS;
    h->hs_since = posta__now_ms();
    if (posta_stream_tls_active(h->s))
        return fail(h, POSTA_EPROTO, "STARTTLS succeeded on a connection that already uses TLS");
    int rc = new_parser(h);
    if (rc < 0)
        return fail(h, rc, "out of memory");
    rc = posta_stream_tls_start(h->s);
    if (rc == POSTA_EAGAIN)
        return 0;
    starttls_finished(h, rc);
    return rc < 0 ? rc : 0;
}

/* --- input ------------------------------------------------------------------------------ */

static int read_input(posta_imap *h)
{
    unsigned char buf[READ_CHUNK];
    for (int rounds = 0; rounds < 64 && !h->free_pending; rounds++) {
        if (h->state == POSTA_IMAP_STATE_DISCONNECTED || h->phase == PH_TCP || h->phase == PH_TLS ||
            h->phase == PH_STARTTLS_HS)
            return 0;
        long n = posta_stream_read(h->s, buf, sizeof(buf));
        if (n == POSTA_EAGAIN)
            return 0;
        if (n < 0) {
            if (n == POSTA_ECLOSED && h->bye[0])
                return fail(h, POSTA_EBYE, "the server ended the session: %s", h->bye);
            return fail(h, (int)n, "%s", posta_stream_errmsg(h->s));
        }
        h->last_rx = posta__now_ms();
        trace(h, 'S', (const char *)buf, (size_t)n);
        long used = posta_imap_parser_feed(h->parser, buf, (size_t)n);
        if (h->state == POSTA_IMAP_STATE_DISCONNECTED)
            return h->dead_code;
        if (h->free_pending)
            return 0;
        if (h->parser_paused == 1)
            return begin_starttls_handshake(h, (size_t)n - (size_t)(used < 0 ? 0 : used));
        if (h->parser_paused == 2) {
            size_t rest = (size_t)n - (size_t)(used < 0 ? 0 : used);
            h->parser_paused = 0;
            if (rest > 0 && h->layer_fresh)
                return fail(h, POSTA_EPROTO, "%s sent %zu bytes after authenticating, before the "
                                             "security layer; refusing them",
                            posta_stream_peer(h->s), rest);
            h->layer_fresh = 0;
            if (rest > 0 && posta_imap_parser_feed(h->parser, buf + used, rest) < 0 &&
                h->state != POSTA_IMAP_STATE_DISCONNECTED && !h->parser_paused)
                return fail(h, POSTA_EPROTO, "%s", posta_imap_parser_errmsg(h->parser));
            continue;
        }
        if (used < 0) {
            int code = (int)used;
            return fail(h, code, "%s", posta_imap_parser_errmsg(h->parser));
        }
    }
    return 0;
}

/* --- connecting ---------------------------------------------------------------------------- */

static void setup_capa_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    (void)user;
    if (r->error == 0)
        connect_step(h);
    else if (r->error != POSTA_ECANCELED && h->state != POSTA_IMAP_STATE_DISCONNECTED)
        fail(h, r->error, "CAPABILITY failed: %.*s", (int)r->text_len, r->text);
}

static void setup_starttls_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    (void)user;
    if (r->error != 0 && r->error != POSTA_ECANCELED && h->state != POSTA_IMAP_STATE_DISCONNECTED)
        fail(h, r->error == POSTA_ENO || r->error == POSTA_EBAD ? POSTA_EPOLICY : r->error,
             "the server refused STARTTLS: %.*s", (int)r->text_len, r->text);
}

/* After each milestone of connecting, decide what comes next. */
static void connect_step(posta_imap *h)
{
    if (h->phase != PH_SETUP || h->state == POSTA_IMAP_STATE_DISCONNECTED)
        return;
    int need_tls = h->tls_mode == POSTA_IMAP_TLS_STARTTLS && !posta_stream_tls_active(h->s);
    if (!h->caps) {
        if (submit_internal(h, setup_capa_done, "CAPABILITY") < 0)
            fail(h, h->err.code, "%s", h->err.msg);
        pump(h);
        return;
    }
    if (need_tls) {
        if (!posta_imap_has_capability(h, "STARTTLS")) {
            fail(h, POSTA_EPOLICY, "the server does not offer STARTTLS, and TLS is required "
                                   "(allow cleartext to connect anyway)");
            return;
        }
        if (submit_internal(h, setup_starttls_done, "STARTTLS") < 0)
            fail(h, h->err.code, "%s", h->err.msg);
        pump(h);
        return;
    }
    h->phase = PH_IDLE;
    if (h->connect_done) {
        posta_imap_done_fn done = h->connect_done;
        posta_imap_result r = {.error = 0, .text = h->greeting, .text_len = strlen(h->greeting)};
        h->connect_done = NULL;
        done(h, &r, h->connect_user);
    }
    pump(h);
}

/* The stream is connected (and TLS is up when implicit): await the greeting. */
static int stream_ready(posta_imap *h)
{
    int rc = new_parser(h);
    if (rc < 0)
        return fail(h, rc, "out of memory");
    h->phase = PH_GREETING;
    h->last_rx = posta__now_ms();
    return 0;
}

static int advance_transport(posta_imap *h)
{
    int rc;
    switch (h->phase) {
    case PH_TCP:
        rc = posta_stream_connect_continue(h->s);
        if (rc == POSTA_EAGAIN)
            return 0;
        if (rc < 0)
            return fail(h, rc, "%s", posta_stream_errmsg(h->s));
        if (h->tls_mode == POSTA_IMAP_TLS_IMPLICIT) {
            h->phase = PH_TLS;
            h->hs_since = posta__now_ms();
            rc = posta_stream_tls_start(h->s);
            if (rc == POSTA_EAGAIN)
                return 0;
            if (rc < 0)
                return fail(h, rc, "%s", posta_stream_errmsg(h->s));
        }
        return stream_ready(h);
    case PH_TLS:
        rc = posta_stream_tls_continue(h->s);
        if (rc == POSTA_EAGAIN)
            return 0;
        if (rc < 0)
            return fail(h, rc, "%s", posta_stream_errmsg(h->s));
        return stream_ready(h);
    case PH_STARTTLS_HS:
        rc = posta_stream_tls_continue(h->s);
        if (rc == POSTA_EAGAIN)
            return 0;
        starttls_finished(h, rc);
        return rc;
    default:
        return 0;
    }
}

static int begin_session(posta_imap *h, posta_imap_done_fn done, void *user)
{
    h->connect_done = done;
    h->connect_user = user;
    h->greeting[0] = h->bye[0] = '\0';
    posta_imap_writer_set_caps(h->writer, 0);
    forget_caps(h);
    posta__err_clear(&h->err);
    set_state(h, POSTA_IMAP_STATE_CONNECTING);
    return 0;
}

int posta_imap_connect_start(posta_imap *h, const char *target, posta_imap_done_fn done, void *user)
{
    if (h->state != POSTA_IMAP_STATE_DISCONNECTED)
        return posta__err_set(&h->err, POSTA_ESTATE, "already connected");
    const char *port = h->tls_mode == POSTA_IMAP_TLS_IMPLICIT ? "993" : "143";
    if (h->tls_mode != POSTA_IMAP_TLS_NONE && !posta_stream_tls_alpn(h->s))
        posta_stream_set_alpn(h->s, "imap");
    ENTER(h);
    begin_session(h, done, user);
    h->phase = PH_TCP;
    int rc = posta_stream_connect_start(h->s, target, port);
    if (rc == POSTA_EAGAIN)
        return leave(h, 0);
    if (rc < 0) {
        /* done is not called for a failure reported here. */
        h->connect_done = NULL;
        fail(h, rc, "%s", posta_stream_errmsg(h->s));
        return leave(h, rc);
    }
    /* A failure right here is returned, so done must not run for it. */
    h->connect_done = NULL;
    rc = advance_transport(h);
    if (rc >= 0)
        h->connect_done = done;
    return leave(h, rc < 0 ? rc : 0);
}

int posta_imap_attach(posta_imap *h, posta_stream *s, posta_imap_done_fn done, void *user)
{
    if (h->state != POSTA_IMAP_STATE_DISCONNECTED)
        return posta__err_set(&h->err, POSTA_ESTATE, "already connected");
    posta_stream_free(h->s);
    h->s = s;
    ENTER(h);
    begin_session(h, done, user);
    int rc = stream_ready(h);
    return leave(h, rc);
}

/* --- blocking helpers ------------------------------------------------------------------ */

struct wait_result {
    int done;
    int error;
};

static void wait_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    struct wait_result *w = user;
    (void)h;
    w->done = 1;
    w->error = r->error;
}

/* Run the connection until w->done. */
static int run_until(posta_imap *h, struct wait_result *w)
{
    while (!w->done && !h->free_pending) {
        int rc = posta_imap_process(h, -1);
        if (rc < 0 && !w->done)
            return rc;
    }
    return h->free_pending && !w->done ? POSTA_ECANCELED : w->error;
}

int posta_imap_connect(posta_imap *h, const char *target)
{
    struct wait_result w = {0, 0};
    if (h->depth > 0)
        return posta__err_set(&h->err, POSTA_ESTATE, "blocking calls are not allowed inside callbacks");
    int rc = posta_imap_connect_start(h, target, wait_done, &w);
    if (rc < 0)
        return rc;
    ENTER(h);
    rc = run_until(h, &w);
    return leave(h, rc);
}

struct exec_ctx {
    struct wait_result w;
    posta_imap_untagged_fn fn;
    void *user;
};

static int exec_untagged(posta_imap *h, const posta_imap_response *r, void *user)
{
    struct exec_ctx *x = user;
    return x->fn ? x->fn(h, r, x->user) : 0;
}

static void exec_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    wait_done(h, r, &((struct exec_ctx *)user)->w);
}

static int vexec(posta_imap *h, posta_imap_untagged_fn fn, void *user, const char *fmt, va_list ap)
{
    struct exec_ctx x = {{0, 0}, fn, user};
    posta_imap_cmd_opts o = {.done = exec_done, .on_untagged = exec_untagged, .user = &x};
    if (h->depth > 0)
        return posta__err_set(&h->err, POSTA_ESTATE, "blocking calls are not allowed inside callbacks");
    int rc = posta_imap_vsubmit(h, &o, fmt, ap);
    if (rc < 0)
        return rc;
    ENTER(h);
    rc = run_until(h, &x.w);
    return leave(h, rc);
}

int posta_imap_exec(posta_imap *h, posta_imap_untagged_fn fn, void *user, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vexec(h, fn, user, fmt, ap);
    va_end(ap);
    return rc;
}

static int exec_simple(posta_imap *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vexec(h, NULL, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int posta_imap_capability(posta_imap *h)
{
    return exec_simple(h, "CAPABILITY");
}

int posta_imap_login(posta_imap *h, const char *user, const char *password)
{
    /* Checked here too, so that nothing is queued when it would be refused. */
    int rc = login_refused(h);
    if (rc < 0)
        return rc;
    unsigned gen = h->caps_gen;
    hold(h);
    rc = posta_imap_exec(h, NULL, NULL, "LOGIN %s %p", user, password);
    /* Servers often send the new capabilities with the OK; else ask. */
    if (rc == 0 && h->caps_gen == gen && !h->free_pending)
        rc = posta_imap_capability(h);
    return release(h, rc);
}

/* One AUTHENTICATE exchange driven through a SASL session. */
struct auth_ctx {
    posta_sasl *sasl;
    int done;      /* the whole authentication ended */
    int error;
    int again;     /* a new command line is ready in line/len */
    const char *line;
    size_t len;
};

static void auth_continuation(posta_imap *h, const char *text, size_t len, void *user)
{
    struct auth_ctx *a = user;
    const char *line;
    size_t llen;
    int rc = posta_sasl_on_continuation(a->sasl, text, len, &line, &llen);
    if (rc < 0) {
        fail(h, rc, "%s", posta_sasl_errmsg(a->sasl));
        return;
    }
    while (llen > 0 && (line[llen - 1] == '\n' || line[llen - 1] == '\r'))
        llen--;
    posta_imap_continue(h, line, llen);
}

static int is_code(const posta_imap_response *r, const char *code)
{
    return r && r->code && r->code_len == strlen(code) && strncasecmp(r->code, code, r->code_len) == 0;
}

static void auth_done(posta_imap *h, const posta_imap_result *r, void *user)
{
    struct auth_ctx *a = user;
    int rc;
    if (r->error == 0) {
        rc = posta_sasl_on_success(a->sasl, NULL, 0);
        if (rc == 0)
            rc = posta_sasl_install_layer(a->sasl, h->s);
        if (rc == 0 && posta_sasl_layer_ssf(a->sasl) > 0)
            h->layer_fresh = 1;
        if (rc < 0)
            fail(h, rc, "%s", posta_sasl_errmsg(a->sasl));
        a->done = 1;
        a->error = rc;
        return;
    }
    if (r->error != POSTA_ENO && r->error != POSTA_EBAD) {
        a->done = 1;
        a->error = r->error;
        return;
    }
    posta_sasl_failure kind = is_code(r->response, "AUTHENTICATIONFAILED") ||
                                      is_code(r->response, "AUTHORIZATIONFAILED")
                                  ? POSTA_SASL_CREDENTIALS
                                  : POSTA_SASL_REJECTED;
    rc = posta_sasl_on_failure(a->sasl, kind, r->text, r->text_len, &a->line, &a->len);
    if (rc == 0) {
        a->again = 1;
        return;
    }
    posta__err_set(&h->err, rc, "%s", posta_sasl_errmsg(a->sasl));
    a->done = 1;
    a->error = rc;
}

/* Submit "AUTHENTICATE MECH [IR]" from the session's line (the driver
 * adds the tag; the initial response is marked secret for the trace). */
static int submit_auth(posta_imap *h, struct auth_ctx *a)
{
    static const char prefix[] = "AUTHENTICATE ";
    const size_t plen = sizeof(prefix) - 1;
    size_t len = a->len;
    posta_imap_cmd_opts o = {.done = auth_done, .on_continuation = auth_continuation, .user = a};
    while (len > 0 && (a->line[len - 1] == '\n' || a->line[len - 1] == '\r'))
        len--;
    if (len <= plen || memcmp(a->line, prefix, plen) != 0 || len > INT_MAX)
        return posta__err_set(&h->err, POSTA_EINVAL, "unexpected SASL command line");
    const char *mech = a->line + plen;
    size_t rest = len - plen;
    const char *sp = memchr(mech, ' ', rest);
    a->again = 0;
    if (!sp)
        return posta_imap_submit(h, &o, "AUTHENTICATE %.*a", (int)rest, mech);
    return posta_imap_submit(h, &o, "AUTHENTICATE %.*a %.*p", (int)(sp - mech), mech,
                             (int)(rest - (size_t)(sp - mech) - 1), sp + 1);
}

int posta_imap_authenticate(posta_imap *h, posta_sasl *sasl)
{
    struct auth_ctx a = {sasl, 0, 0, 0, NULL, 0};
    struct posta_buf offered;
    int rc;
    if (h->depth > 0)
        return posta__err_set(&h->err, POSTA_ESTATE, "blocking calls are not allowed inside callbacks");
    if (h->state != POSTA_IMAP_STATE_NOT_AUTHENTICATED)
        return posta__err_set(&h->err, POSTA_ESTATE, "AUTHENTICATE is only possible before authentication");
    if ((rc = posta_sasl_use_stream(sasl, h->s)) < 0)
        return posta__err_set(&h->err, rc, "%s", posta_sasl_errmsg(sasl));
    posta_sasl_set_initial_response(sasl, posta_imap_has_capability(h, "SASL-IR"));
    posta__buf_init(&offered, 0);
    for (const char *c = h->caps ? h->caps : ""; (c = strstr(c, " AUTH=")) != NULL; c += 6) {
        size_t l = strcspn(c + 6, " ");
        if (posta__buf_append(&offered, c + 6, l) < 0 || posta__buf_append(&offered, " ", 1) < 0) {
            posta__buf_free(&offered);
            return posta__err_set(&h->err, POSTA_ENOMEM, "out of memory");
        }
    }
    rc = posta_sasl_start(sasl, (const char *)offered.data, posta__buf_used(&offered), &a.line, &a.len);
    posta__buf_free(&offered);
    if (rc < 0)
        return posta__err_set(&h->err, rc, "%s", posta_sasl_errmsg(sasl));
    unsigned gen = h->caps_gen;
    hold(h);
    while (rc == 0 && !a.done) {
        if ((rc = submit_auth(h, &a)) < 0)
            break;
        while (!a.done && !a.again && !h->free_pending && h->state != POSTA_IMAP_STATE_DISCONNECTED)
            posta_imap_process(h, -1);
        if (!a.done && !a.again)
            rc = h->free_pending ? POSTA_ECANCELED : h->dead_code ? h->dead_code : POSTA_ECLOSED;
    }
    if (rc == 0)
        rc = a.error;
    if (rc == 0 && h->caps_gen == gen && h->state != POSTA_IMAP_STATE_DISCONNECTED && !h->free_pending)
        rc = posta_imap_capability(h);
    return release(h, rc);
}

int posta_imap_select(posta_imap *h, const char *mailbox, int readonly)
{
    return exec_simple(h, readonly ? "EXAMINE %m" : "SELECT %m", mailbox);
}

int posta_imap_logout(posta_imap *h)
{
    if (h->state == POSTA_IMAP_STATE_DISCONNECTED)
        return 0;
    hold(h);
    int rc = exec_simple(h, "LOGOUT");
    if (h->free_pending)
        return release(h, POSTA_ECANCELED);
    if (h->state != POSTA_IMAP_STATE_DISCONNECTED) {
        /* No OK came (a server that just hangs up after BYE): close anyway. */
        ENTER(h);
        closed_cleanly(h);
        leave(h, 0);
    }
    return release(h, rc == POSTA_EBYE || rc == POSTA_ECLOSED ? 0 : rc);
}

int posta_imap_starttls(posta_imap *h)
{
    if (posta_stream_tls_active(h->s))
        return posta__err_set(&h->err, POSTA_ESTATE, "TLS is already active");
    if (h->cmds)
        return posta__err_set(&h->err, POSTA_ESTATE, "STARTTLS cannot be pipelined: commands are in flight");
    if (h->state != POSTA_IMAP_STATE_NOT_AUTHENTICATED)
        return posta__err_set(&h->err, POSTA_ESTATE, "STARTTLS is only possible before authentication");
    return exec_simple(h, "STARTTLS");
}

/* --- IDLE -------------------------------------------------------------------------------- */

int posta_imap_idle(posta_imap *h, posta_imap_done_fn done, void *user)
{
    if (!posta_imap_has_capability(h, "IDLE"))
        return posta__err_set(&h->err, POSTA_EUNSUPPORTED, "the server does not offer IDLE");
    for (struct cmd *c = h->cmds; c; c = c->next)
        if (c->kind == KIND_IDLE)
            return posta__err_set(&h->err, POSTA_ESTATE, "already idling");
    posta_imap_cmd_opts o = {.done = done, .user = user, .timeout_ms = -1};
    return posta_imap_submit(h, &o, "IDLE");
}

static void send_done(posta_imap *h)
{
    if (posta__buf_append(&h->out, "DONE\r\n", 6) < 0) {
        fail(h, POSTA_ENOMEM, "out of memory");
        return;
    }
    trace(h, 'C', "DONE", 4);
    h->idling = 0;
    h->last_rx = posta__now_ms(); /* the answer to DONE is awaited from now */
    pump(h);
}

int posta_imap_idle_done(posta_imap *h)
{
    if (!h->idling) {
        for (struct cmd *c = h->cmds; c; c = c->next)
            if (c->kind == KIND_IDLE && c->ws != W_QUEUED && !h->idle_restarting) {
                h->idle_stop = 1; /* DONE goes out when the server's "+" comes */
                return 0;
            }
        for (struct cmd *c = h->cmds; c; c = c->next)
            if (c->kind == KIND_IDLE) {
                if (h->idle_restarting) {
                    /* Paused for other commands: just do not resume it. */
                    h->idle_restarting = 0;
                    return 0;
                }
                h->idle_stop = 1;
                return 0;
            }
        return posta__err_set(&h->err, POSTA_ESTATE, "not idling");
    }
    ENTER(h);
    h->idle_restarting = 0;
    send_done(h);
    return leave(h, h->state == POSTA_IMAP_STATE_DISCONNECTED ? h->err.code : 0);
}

int posta_imap_idling(const posta_imap *h)
{
    return h->idling;
}

/* The server acknowledged our DONE: issue IDLE again for the same caller. */
static void submit_idle_again(posta_imap *h, struct cmd *old)
{
    posta_imap_cmd_opts o = old->opts;
    unlink_cmd(h, old);
    free_cmd(old);
    if (posta_imap_submit(h, &o, "IDLE") < 0) {
        posta_imap_result r = {.error = h->err.code, .text = h->err.msg, .text_len = strlen(h->err.msg)};
        if (o.done)
            o.done(h, &r, o.user);
    }
}

/* --- driving ------------------------------------------------------------------------------- */

int posta_imap_fd(const posta_imap *h)
{
    return posta_stream_fd(h->s);
}

int posta_imap_wants_write(const posta_imap *h)
{
    if (h->state == POSTA_IMAP_STATE_DISCONNECTED)
        return 0;
    if (h->phase == PH_TCP || h->phase == PH_TLS || h->phase == PH_STARTTLS_HS)
        return posta_stream_wants_write(h->s);
    if (posta__buf_used(&h->out) > 0 || posta_stream_wants_write(h->s))
        return 1;
    const struct cmd *c = h->wcur;
    if (!c || c->ws == W_WAIT || (!c->internal && h->phase != PH_IDLE))
        return 0;
    /* A literal source that said POSTA_EAGAIN: the caller calls
     * posta_imap_on_writable() when it has data; polling would spin. */
    if (c->in_source)
        return 0;
    for (const struct cmd *e = h->cmds; e && e != c; e = e->next)
        if (e->exclusive)
            return 0;
    return 1;
}

int posta_imap_on_writable(posta_imap *h)
{
    ENTER(h);
    int rc;
    if (h->phase == PH_TCP || h->phase == PH_TLS || h->phase == PH_STARTTLS_HS) {
        rc = advance_transport(h);
    } else {
        /* TLS may need to write to finish a read (a key update): let the
         * read path run so that the stream's want is cleared. */
        int tls_read_wants = posta__buf_used(&h->out) == 0 && posta_stream_wants_write(h->s);
        rc = tls_read_wants ? read_input(h) : 0;
        if (rc >= 0 && h->state != POSTA_IMAP_STATE_DISCONNECTED && !h->free_pending)
            rc = pump(h);
    }
    return leave(h, rc < 0 ? rc : 0);
}

int posta_imap_on_readable(posta_imap *h)
{
    ENTER(h);
    int rc;
    if (h->phase == PH_TCP || h->phase == PH_TLS || h->phase == PH_STARTTLS_HS)
        rc = advance_transport(h);
    else
        rc = read_input(h);
    if (rc >= 0 && h->state != POSTA_IMAP_STATE_DISCONNECTED && !h->free_pending)
        rc = pump(h);
    return leave(h, rc < 0 && rc != POSTA_EAGAIN ? rc : 0);
}

/* The earliest deadline the connection has, 0 when none. */
static int64_t next_deadline(const posta_imap *h)
{
    int64_t d = 0;
#define EARLIER(x) do { int64_t x_ = (x); if (x_ && (!d || x_ < d)) d = x_; } while (0)
    if (h->state == POSTA_IMAP_STATE_DISCONNECTED)
        return 0;
    for (const struct cmd *c = h->cmds; c; c = c->next)
        EARLIER(c->deadline);
    if (h->idling && h->idle_restart_ms > 0)
        EARLIER(h->idle_since + h->idle_restart_ms);
    if (h->silence_ms > 0 && !h->idling && (h->cmds || h->phase == PH_GREETING))
        EARLIER(h->last_rx + h->silence_ms);
    if (h->phase == PH_GREETING && h->command_ms > 0)
        EARLIER(h->last_rx + h->command_ms);
    if ((h->phase == PH_TLS || h->phase == PH_STARTTLS_HS) && h->command_ms > 0)
        EARLIER(h->hs_since + h->command_ms);
#undef EARLIER
    return d;
}

int posta_imap_next_timeout_ms(const posta_imap *h)
{
    if (h->phase == PH_TCP)
        return 100; /* the stream enforces the per-address connect timeout */
    int64_t d = next_deadline(h);
    if (!d)
        return -1;
    int64_t left = d - posta__now_ms();
    return left < 0 ? 0 : left > 86400000 ? 86400000 : (int)left;
}

int posta_imap_on_timeout(posta_imap *h)
{
    int64_t now = posta__now_ms();
    int rc = 0;
    ENTER(h);
    if (h->phase == PH_TCP) {
        rc = advance_transport(h);
        return leave(h, rc < 0 ? rc : 0);
    }
    if (h->idling && h->idle_restart_ms > 0 && now >= h->idle_since + h->idle_restart_ms) {
        h->idle_restarting = 1;
        send_done(h);
    }
    for (struct cmd *c = h->cmds; c; c = c->next)
        if (c->deadline && now >= c->deadline) {
            /* fail() completes and frees every command, c included. */
            rc = fail(h, POSTA_ETIMEDOUT, "%s: no answer from %s within %d ms",
                      c->trace ? c->trace : c->tag, posta_stream_peer(h->s),
                      c->opts.timeout_ms > 0 ? c->opts.timeout_ms : h->command_ms);
            break;
        }
    if (!rc && h->state != POSTA_IMAP_STATE_DISCONNECTED && h->silence_ms > 0 && !h->idling &&
        (h->cmds || h->phase == PH_GREETING) && now >= h->last_rx + h->silence_ms)
        rc = fail(h, POSTA_ETIMEDOUT, "%s sent nothing for %d ms", posta_stream_peer(h->s), h->silence_ms);
    if (!rc && h->phase == PH_GREETING && h->command_ms > 0 && now >= h->last_rx + h->command_ms)
        rc = fail(h, POSTA_ETIMEDOUT, "%s sent no greeting within %d ms", posta_stream_peer(h->s), h->command_ms);
    if (!rc && (h->phase == PH_TLS || h->phase == PH_STARTTLS_HS) && h->command_ms > 0 &&
        now >= h->hs_since + h->command_ms)
        rc = fail(h, POSTA_ETIMEDOUT, "TLS handshake with %s: no answer within %d ms", posta_stream_peer(h->s),
                  h->command_ms);
    return leave(h, rc);
}

int posta_imap_process(posta_imap *h, int timeout_ms)
{
    if (h->state == POSTA_IMAP_STATE_DISCONNECTED)
        return posta__err_set(&h->err, POSTA_ESTATE, "not connected");
    int wait = posta_imap_next_timeout_ms(h);
    if (timeout_ms >= 0 && (wait < 0 || timeout_ms < wait))
        wait = timeout_ms;
    /* Held across the steps below: a callback in one may free the handle,
     * and the free must wait until the last step is done with it. */
    ENTER(h);
    int rc = 0;
    /* Decrypted bytes waiting inside TLS do not make the socket readable. */
    if (posta_stream_pending(h->s) > 0 && h->phase != PH_TCP && h->phase != PH_TLS &&
        h->phase != PH_STARTTLS_HS) {
        rc = posta_imap_on_readable(h);
        return leave(h, rc);
    }
    struct pollfd pfd = {.fd = posta_imap_fd(h), .events = POLLIN};
    if (posta_imap_wants_write(h))
        pfd.events |= POLLOUT;
    if (h->phase == PH_TCP)
        pfd.events = POLLOUT;
    int n = poll(&pfd, 1, wait);
    if (n < 0)
        return leave(h, 0); /* EINTR: let the caller come back */
    if (n > 0 && (pfd.revents & (POLLOUT | POLLERR | POLLHUP)) && (pfd.events & POLLOUT))
        rc = posta_imap_on_writable(h);
    if (rc == 0 && n > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)) && !h->free_pending &&
        h->state != POSTA_IMAP_STATE_DISCONNECTED)
        rc = posta_imap_on_readable(h);
    if (rc == 0 && !h->free_pending && h->state != POSTA_IMAP_STATE_DISCONNECTED &&
        posta_imap_next_timeout_ms(h) == 0)
        rc = posta_imap_on_timeout(h);
    return leave(h, rc);
}

/* --- lifetime and options ------------------------------------------------------------------- */

int posta_imap_new(posta_imap **h_r, const posta_imap_callbacks *callbacks, const posta_imap_limits *limits,
                   void *user)
{
    posta_imap *h = calloc(1, sizeof(*h));
    if (!h)
        return POSTA_ENOMEM;
    if (posta_stream_new(&h->s) < 0 || posta_imap_writer_new(&h->writer, NULL) < 0) {
        posta_stream_free(h->s);
        free(h);
        return POSTA_ENOMEM;
    }
    if (callbacks)
        h->cb = *callbacks;
    if (limits)
        h->limits = *limits;
    h->user = user;
    h->command_ms = DEFAULT_COMMAND_MS;
    h->silence_ms = DEFAULT_SILENCE_MS;
    h->idle_restart_ms = DEFAULT_IDLE_RESTART_MS;
    posta__buf_init(&h->out, 0);
    *h_r = h;
    return 0;
}

static void real_free(posta_imap *h)
{
    h->depth++; /* callbacks run below must not free again */
    h->state = POSTA_IMAP_STATE_DISCONNECTED; /* and cannot submit */
    if (h->connect_done) {
        posta_imap_done_fn done = h->connect_done;
        posta_imap_result r = {.error = POSTA_ECANCELED, .text = "canceled: the connection handle was freed",
                               .text_len = 41};
        h->connect_done = NULL;
        done(h, &r, h->connect_user);
    }
    if (h->starttls_cmd) {
        unlink_cmd(h, h->starttls_cmd);
        h->cmds_tail = NULL;
        struct cmd *c = h->starttls_cmd;
        h->starttls_cmd = NULL;
        c->next = h->cmds;
        h->cmds = c;
    }
    while (h->cmds)
        complete(h, h->cmds, POSTA_ECANCELED, NULL, "canceled: the connection handle was freed", 41);
    posta_stream_free(h->s);
    posta_imap_parser_free(h->parser);
    posta_imap_writer_free(h->writer);
    posta__buf_free(&h->out);
    while (h->handlers) {
        struct handler *hd = h->handlers;
        h->handlers = hd->next;
        free(hd->keyword);
        free(hd);
    }
    free(h->caps);
    free(h->caps_text);
    free(h);
}

void posta_imap_free(posta_imap *h)
{
    if (!h)
        return;
    if (h->depth > 0 || h->holds > 0) {
        h->free_pending = 1;
        return;
    }
    real_free(h);
}

posta_stream *posta_imap_stream(posta_imap *h)
{
    return h->s;
}

void posta_imap_set_tls(posta_imap *h, posta_imap_tls mode)
{
    h->tls_mode = mode;
    if (mode == POSTA_IMAP_TLS_NONE)
        h->allow_cleartext = 1;
}

void posta_imap_set_allow_cleartext(posta_imap *h, int allow)
{
    h->allow_cleartext = allow != 0;
}

void posta_imap_set_timeouts(posta_imap *h, int command_ms, int silence_ms)
{
    h->command_ms = command_ms;
    h->silence_ms = silence_ms;
}

void posta_imap_set_idle_restart(posta_imap *h, int ms)
{
    h->idle_restart_ms = ms;
}

int posta_imap_add_handler(posta_imap *h, const char *keyword, posta_imap_untagged_fn fn, void *user)
{
    struct handler **pp = &h->handlers;
    for (; *pp; pp = &(*pp)->next)
        if (strcasecmp((*pp)->keyword, keyword) == 0)
            break;
    if (*pp && !fn) {
        struct handler *gone = *pp;
        *pp = gone->next;
        free(gone->keyword);
        free(gone);
        return 0;
    }
    if (*pp) {
        (*pp)->fn = fn;
        (*pp)->user = user;
        return 0;
    }
    if (!fn)
        return 0;
    struct handler *hd = calloc(1, sizeof(*hd));
    if (!hd || !(hd->keyword = strdup(keyword))) {
        free(hd);
        return posta__err_set(&h->err, POSTA_ENOMEM, "out of memory");
    }
    hd->fn = fn;
    hd->user = user;
    *pp = hd;
    return 0;
}

void posta_imap_set_default_sink(posta_imap *h, const posta_imap_sink *sink)
{
    h->has_default_sink = sink != NULL;
    if (sink)
        h->default_sink = *sink;
}

posta_imap_state posta_imap_get_state(const posta_imap *h)
{
    return h->state;
}

size_t posta_imap_pending(const posta_imap *h)
{
    size_t n = 0;
    for (const struct cmd *c = h->cmds; c; c = c->next)
        n++;
    return n;
}

const char *posta_imap_errmsg(const posta_imap *h)
{
    return posta__err_msg(&h->err);
}

const char *posta_imap_greeting(const posta_imap *h)
{
    return h->greeting;
}

const char *posta_imap_bye_text(const posta_imap *h)
{
    return h->bye;
}
