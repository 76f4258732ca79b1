/* The POP3 driver: binds the engine to a posta_stream (connect, implicit TLS
 * and STLS, reads and writes) and runs it one step at a time, from
 * posta_pop3_process() or the caller's event loop. */
#include "pop3_int.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define RBUF_SIZE (64u * 1024u)
/* Reads per on_readable call: fairness for loops that run many connections;
 * a larger answer continues on the next call. */
#define READS_PER_CALL 32

static const posta_pop3_limits default_limits = {
    .max_line = 64 * 1024,
    .max_capa = 64 * 1024,
    .max_entries = 10000000,
};

/* --- lifetime -------------------------------------------------------------- */

static void destroy(posta_pop3 *h);

void pop3_enter(posta_pop3 *h)
{
    h->depth++;
}

int pop3_leave(posta_pop3 *h, int rc)
{
    if (--h->depth == 0 && h->free_pending)
        destroy(h);
    return rc;
}

int posta_pop3_new(posta_pop3 **h_r, const posta_pop3_callbacks *callbacks,
                   const posta_pop3_limits *limits, void *user)
{
    *h_r = NULL;
    int rc = posta_init();
    if (rc < 0)
        return rc;
    posta_pop3 *h = calloc(1, sizeof(*h));
    if (!h)
        return POSTA_ENOMEM;
    if (callbacks)
        h->cb = *callbacks;
    h->cb_user = user;
    h->limits = default_limits;
    if (limits && limits->max_line)
        h->limits.max_line = limits->max_line;
    if (limits && limits->max_capa)
        h->limits.max_capa = limits->max_capa;
    if (limits && limits->max_entries)
        h->limits.max_entries = limits->max_entries;
    h->command_ms = 120000;
    h->silence_ms = 300000;
    pop3_parser_init(&h->parser, h->limits.max_line);
    posta__buf_init(&h->out, 0);
    posta__buf_init(&h->reply, 0);
    posta__buf_init(&h->capa, 0);
    h->rbuf = malloc(RBUF_SIZE);
    h->rbuf_size = RBUF_SIZE;
    rc = h->rbuf ? posta_stream_new(&h->stream) : POSTA_ENOMEM;
    if (rc == 0)
        rc = posta_stream_set_alpn(h->stream, "pop3");
    if (rc < 0) {
        destroy(h);
        return rc;
    }
    *h_r = h;
    return 0;
}

static void destroy(posta_pop3 *h)
{
    h->depth++;
    h->free_pending = 1;
    if (h->state != POSTA_POP3_STATE_DISCONNECTED || h->inflight.head || h->pending.head ||
        h->job.kind != JOB_NONE) {
        pop3_err(h, POSTA_ECANCELED, "the handle was freed");
        pop3_close(h, POSTA_ECANCELED);
    }
    posta_stream_free(h->stream);
    pop3_parser_free(&h->parser);
    posta__buf_free(&h->out);
    posta__buf_free(&h->reply);
    posta__buf_free(&h->capa);
    pop3_table_clear(h);
    free(h->greeting);
    free(h->timestamp);
    free(h->rbuf);
    free(h);
}

void posta_pop3_free(posta_pop3 *h)
{
    if (!h)
        return;
    if (h->depth > 0) {
        h->free_pending = 1;
        return;
    }
    destroy(h);
}

posta_stream *posta_pop3_stream(posta_pop3 *h)
{
    return h->stream;
}

void posta_pop3_set_tls(posta_pop3 *h, posta_pop3_tls mode)
{
    h->tls_mode = mode;
}

void posta_pop3_set_allow_cleartext(posta_pop3 *h, int allow)
{
    h->allow_cleartext = allow != 0;
}

void posta_pop3_set_timeouts(posta_pop3 *h, int command_ms, int silence_ms)
{
    h->command_ms = command_ms;
    h->silence_ms = silence_ms;
}

/* --- the transport ------------------------------------------------------------ */

void pop3_io_close(posta_pop3 *h)
{
    if (h->stream)
        posta_stream_close(h->stream);
}

static int stream_failed(posta_pop3 *h, int rc)
{
    if (h->state == POSTA_POP3_STATE_DISCONNECTED)
        return rc;
    return pop3_fail(h, rc, "%s", posta_stream_errmsg(h->stream));
}

static int tls_progress(posta_pop3 *h, int rc)
{
    if (rc == POSTA_EAGAIN)
        return 0;
    if (rc < 0)
        return stream_failed(h, rc);
    if (!h->greeting)
        pop3_session_greet(h);   /* implicit TLS: now the server speaks */
    else
        pop3_session_tls_done(h);
    return 0;
}

static int start_tls(posta_pop3 *h)
{
    pop3_set_state(h, POSTA_POP3_STATE_TLS_HANDSHAKE);
    h->hs_start = posta__now_ms();
    return tls_progress(h, posta_stream_tls_start(h->stream));
}

static int transport_ready(posta_pop3 *h)
{
    if (h->implicit && !posta_stream_tls_active(h->stream))
        return start_tls(h);
    pop3_session_greet(h);
    return 0;
}

static int connect_step(posta_pop3 *h)
{
    int rc = posta_stream_connect_continue(h->stream);
    if (rc == POSTA_EAGAIN)
        return 0;
    if (rc < 0)
        return stream_failed(h, rc);
    return transport_ready(h);
}

/* Bytes past STLS's +OK (or AUTH's, when a security layer follows) were not
 * sent by the server we are about to trust: refuse them. */
static int transport_switch(posta_pop3 *h, size_t left)
{
    const char *what = h->pause_tls ? "STLS" : "AUTH";
    size_t extra = left + posta_stream_pending(h->stream);
    if (extra > 0)
        return pop3_fail(h, POSTA_EPROTO,
                         "%s sent %zu bytes after %s's +OK, before the %s began: injected data "
                         "(or a broken server); refusing to continue",
                         pop3_peer(h), extra, what,
                         h->pause_tls ? "TLS handshake" : "security layer");
    return h->pause_tls ? start_tls(h) : pop3_login_layer(h);
}

static int do_read(posta_pop3 *h)
{
    for (int i = 0; i < READS_PER_CALL; i++) {
        long n = posta_stream_read(h->stream, h->rbuf, h->rbuf_size);
        if (n == POSTA_EAGAIN)
            return 0;
        if (n < 0)
            return stream_failed(h, (int)n);
        long used = pop3_feed(h, h->rbuf, (size_t)n);
        if (used < 0)
            return (int)used;
        if (h->free_pending || h->state == POSTA_POP3_STATE_DISCONNECTED)
            return 0;
        if (h->pause_tls || h->pause_layer)
            return transport_switch(h, (size_t)(n - used));
    }
    return 0;
}

static int do_write(posta_pop3 *h)
{
    while (posta__buf_used(&h->out) > 0) {
        long n = posta_stream_write(h->stream, posta__buf_head(&h->out), posta__buf_used(&h->out));
        if (n == POSTA_EAGAIN)
            return 0;
        if (n < 0)
            return stream_failed(h, (int)n);
        posta__buf_consume(&h->out, (size_t)n);
    }
    int rc = posta_stream_flush(h->stream);
    return rc == POSTA_EAGAIN || rc == 0 ? 0 : stream_failed(h, rc);
}

/* Past the TCP and TLS set-up: POP3 bytes flow. */
static int talking(const posta_pop3 *h)
{
    return h->state >= POSTA_POP3_STATE_GREETING;
}

/* --- connecting ---------------------------------------------------------------- */

/* The port part of "host:port", "[v6]:port"; NULL when there is none. */
static const char *target_port(const char *t)
{
    const char *c = t[0] == '[' ? strchr(t, ']') : t;
    if (!c)
        return NULL;
    c = strrchr(c, ':');
    if (!c || (t[0] != '[' && strchr(t, ':') != c))
        return NULL;   /* a bare IPv6 address has several colons */
    return c + 1;
}

static int begin(posta_pop3 *h, posta_pop3_done_fn done, void *user)
{
    /* Inside a callback the old connection is still being taken down by
     * the code that called it; a new one started there would be caught in
     * that teardown.  Reconnect after the callback returns. */
    if (h->cb_depth > 0)
        return pop3_err(h, POSTA_ESTATE, "cannot connect from inside a callback; do it after the "
                                         "callback returns");
    if (h->free_pending || h->state != POSTA_POP3_STATE_DISCONNECTED || h->job.kind != JOB_NONE)
        return pop3_err(h, POSTA_ESTATE, "already connected");
    pop3_session_reset(h);
    h->job = (struct pop3_job){.kind = JOB_CONNECT, .done = done, .user = user};
    return 0;
}

int posta_pop3_connect_start(posta_pop3 *h, const char *target, posta_pop3_done_fn done,
                             void *user)
{
    if (!target || !target[0])
        return pop3_err(h, POSTA_EINVAL, "no server given");
    int rc = begin(h, done, user);
    if (rc < 0)
        return rc;
    const char *port = target_port(target);
    h->implicit = h->tls_mode == POSTA_POP3_TLS_IMPLICIT ||
                  (h->tls_mode == POSTA_POP3_TLS_AUTO && port && strcmp(port, "995") == 0);
    rc = posta_stream_connect_start(h->stream, target, h->implicit ? "995" : "110");
    if (rc < 0 && rc != POSTA_EAGAIN) {
        memset(&h->job, 0, sizeof(h->job));
        return pop3_err(h, rc, "%s", posta_stream_errmsg(h->stream));
    }
    /* Even a connect that finished at once continues from the next step, so
     * that done never runs inside this call. */
    pop3_enter(h);
    pop3_set_state(h, POSTA_POP3_STATE_CONNECTING);
    return pop3_leave(h, 0);
}

int posta_pop3_attach(posta_pop3 *h, posta_stream *s, posta_pop3_done_fn done, void *user)
{
    int rc = s ? begin(h, done, user) : pop3_err(h, POSTA_EINVAL, "no stream given");
    if (rc < 0) {
        posta_stream_free(s);
        return rc;
    }
    posta_stream_free(h->stream);
    h->stream = s;
    h->implicit = h->tls_mode == POSTA_POP3_TLS_IMPLICIT;
    pop3_enter(h);
    pop3_set_state(h, POSTA_POP3_STATE_CONNECTING);
    return pop3_leave(h, 0);
}

/* --- one step -------------------------------------------------------------------- */

static int readable(posta_pop3 *h)
{
    switch (h->state) {
    case POSTA_POP3_STATE_DISCONNECTED:
        return 0;
    case POSTA_POP3_STATE_CONNECTING:
        return connect_step(h);
    case POSTA_POP3_STATE_TLS_HANDSHAKE:
        return tls_progress(h, posta_stream_tls_continue(h->stream));
    default:
        return do_read(h);
    }
}

static int writable(posta_pop3 *h)
{
    switch (h->state) {
    case POSTA_POP3_STATE_DISCONNECTED:
        return 0;
    case POSTA_POP3_STATE_CONNECTING:
        return connect_step(h);
    case POSTA_POP3_STATE_TLS_HANDSHAKE:
        return tls_progress(h, posta_stream_tls_continue(h->stream));
    default:
        return do_write(h);
    }
}

/* After a step: the error that ended the connection in it, or 0. */
static int outcome(const posta_pop3 *h, int was_connected)
{
    if (was_connected && h->state == POSTA_POP3_STATE_DISCONNECTED)
        return h->close_code;
    return 0;
}

static int timeouts(posta_pop3 *h)
{
    if (h->state == POSTA_POP3_STATE_CONNECTING)
        return connect_step(h);   /* the stream moves to the next address itself */
    if (talking(h) && posta_stream_pending(h->stream) > 0)
        return do_read(h);
    return pop3_check_timeouts(h, posta__now_ms());
}

static int step(posta_pop3 *h, int timeout_ms)
{
    if (h->state == POSTA_POP3_STATE_DISCONNECTED)
        return pop3_err(h, POSTA_ESTATE, "not connected");
    int wait = posta_pop3_next_timeout_ms(h);
    if (timeout_ms >= 0 && (wait < 0 || timeout_ms < wait))
        wait = timeout_ms;
    if (talking(h) && posta__buf_used(&h->out) > 0) {
        writable(h);
        if (h->state == POSTA_POP3_STATE_DISCONNECTED || h->free_pending)
            return 0;
    }
    struct pollfd pfd = {.fd = posta_stream_fd(h->stream), .events = POLLIN};
    if (posta_pop3_wants_write(h))
        pfd.events |= POLLOUT;
    if (h->state == POSTA_POP3_STATE_CONNECTING)
        pfd.events = POLLOUT;
    int n = poll(&pfd, 1, wait);
    if (n < 0 && errno != EINTR)
        return pop3_fail(h, POSTA_EIO, "poll: %s", strerror(errno));
    if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
        readable(h);
    if (n > 0 && (pfd.revents & POLLOUT) && !h->free_pending)
        writable(h);
    if (!h->free_pending && h->state != POSTA_POP3_STATE_DISCONNECTED)
        timeouts(h);
    return 0;
}

int posta_pop3_process(posta_pop3 *h, int timeout_ms)
{
    if (h->cb_depth > 0)
        return pop3_err(h, POSTA_ESTATE, "posta_pop3_process called inside a callback");
    pop3_enter(h);
    int was = h->state != POSTA_POP3_STATE_DISCONNECTED;
    int rc = step(h, timeout_ms);
    if (rc == 0)
        rc = outcome(h, was);
    return pop3_leave(h, rc);
}

int posta_pop3_run(posta_pop3 *h)
{
    if (h->cb_depth > 0)
        return pop3_err(h, POSTA_ESTATE, "blocking call inside a callback");
    pop3_enter(h);
    int rc = 0;
    while (!h->free_pending && posta_pop3_pending(h) > 0) {
        if (h->state == POSTA_POP3_STATE_DISCONNECTED) {
            rc = h->close_code;
            break;
        }
        step(h, -1);
    }
    if (!rc && h->state == POSTA_POP3_STATE_DISCONNECTED)
        rc = h->close_code;
    return pop3_leave(h, rc);
}

int pop3_wait(posta_pop3 *h, const int *flag)
{
    while (!*flag && !h->free_pending) {
        if (h->state == POSTA_POP3_STATE_DISCONNECTED)
            return h->close_code ? h->close_code : POSTA_ECLOSED;
        step(h, -1);
    }
    return 0;
}

/* --- the caller's loop ------------------------------------------------------------ */

int posta_pop3_fd(const posta_pop3 *h)
{
    return h->state == POSTA_POP3_STATE_DISCONNECTED ? -1 : posta_stream_fd(h->stream);
}

int posta_pop3_wants_write(const posta_pop3 *h)
{
    switch (h->state) {
    case POSTA_POP3_STATE_DISCONNECTED:
        return 0;
    case POSTA_POP3_STATE_CONNECTING:
        return 1;
    case POSTA_POP3_STATE_TLS_HANDSHAKE:
        return posta_stream_wants_write(h->stream);
    default:
        return posta__buf_used(&h->out) > 0 || posta_stream_wants_write(h->stream);
    }
}

static int loop_call(posta_pop3 *h, int (*fn)(posta_pop3 *))
{
    if (h->cb_depth > 0)
        return pop3_err(h, POSTA_ESTATE, "called inside a callback");
    pop3_enter(h);
    int was = h->state != POSTA_POP3_STATE_DISCONNECTED;
    fn(h);
    /* Commands queued by callbacks go out without waiting for a wakeup. */
    if (talking(h) && !h->free_pending && posta__buf_used(&h->out) > 0)
        writable(h);
    return pop3_leave(h, outcome(h, was));
}

int posta_pop3_on_readable(posta_pop3 *h)
{
    return loop_call(h, readable);
}

int posta_pop3_on_writable(posta_pop3 *h)
{
    return loop_call(h, writable);
}

int posta_pop3_on_timeout(posta_pop3 *h)
{
    return loop_call(h, timeouts);
}

int posta_pop3_next_timeout_ms(const posta_pop3 *h)
{
    int64_t d;
    if (h->state == POSTA_POP3_STATE_DISCONNECTED)
        return -1;
    if (h->state == POSTA_POP3_STATE_CONNECTING) {
        d = h->stream->deadline;
    } else {
        /* Decrypted bytes wait in TLS: no readiness will announce them. */
        if (talking(h) && posta_stream_pending(h->stream) > 0 && !h->pause_tls)
            return 0;
        d = pop3_next_deadline(h);
    }
    if (!d)
        return -1;
    int64_t left = d - posta__now_ms();
    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* --- detached engine, for tests ---------------------------------------------------- */

int posta__pop3_open_detached(posta_pop3 *h, posta_pop3_done_fn done, void *user)
{
    if (h->tls_mode != POSTA_POP3_TLS_NONE)
        return pop3_err(h, POSTA_EINVAL, "a detached engine has no TLS");
    int rc = begin(h, done, user);
    if (rc < 0)
        return rc;
    pop3_enter(h);
    pop3_set_state(h, POSTA_POP3_STATE_CONNECTING);
    pop3_session_greet(h);
    return pop3_leave(h, 0);
}

long posta__pop3_feed(posta_pop3 *h, const void *data, size_t len)
{
    pop3_enter(h);
    long n = pop3_feed(h, data, len);
    pop3_leave(h, 0);
    return n;
}

const unsigned char *posta__pop3_output(const posta_pop3 *h, size_t *len_r)
{
    *len_r = posta__buf_used(&h->out);
    return posta__buf_head(&h->out);
}

void posta__pop3_output_consume(posta_pop3 *h, size_t n)
{
    posta__buf_consume(&h->out, n);
}

size_t posta__pop3_buffered(const posta_pop3 *h)
{
    return h->out.size + h->parser.line.size + h->reply.size + h->capa.size;
}
