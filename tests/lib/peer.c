/* The scripted peer behind peer.h: parses a conversation script, then plays
 * the server side of it in a thread over plain TCP or TLS. */
#define _GNU_SOURCE /* accept4, SOCK_CLOEXEC: fds must not leak into clients a test spawns */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum kind {
    K_SEND, K_SEND_RAW, K_EXPECT, K_EXPECT_RAW, K_EXPECT_RE, K_EXPECT_ANY,
    K_TLS, K_STARTTLS, K_TLS_ABORT, K_SLEEP, K_CLOSE, K_RESET, K_SHUTDOWN_WR,
    K_EXPECT_CLOSE, K_EXPECT_CLOSE_NOTIFY, K_ACCEPT, K_SEND_FILE, K_SENDBIG, K_RECV,
};

struct step {
    enum kind kind;
    int line;
    char *arg;              /* text, regex source or path, as written */
    unsigned long long n;   /* !sleep, !sendbig, !recv */
    regex_t re;             /* C~ only */
};

struct buf {
    char *p;
    size_t len, cap;
};

#define NCAPS 10      /* \1..\9; slot 0 unused */
#define NQUOTES 4     /* quoted strings alive at once in one message */
#define QUOTE_MAX 300 /* bytes of data shown before "..." */
#define LINE_MAX_BYTES (64u << 20)

struct peer {
    /* Set by peer_start, read-only afterwards. */
    int lfd, port, timeout_ms, linger, trace;
    int wake[2];
    SSL_CTX *ctx;
    unsigned char alpn[255];
    unsigned char alpnlen;
    struct step *steps;
    size_t nsteps;
    pthread_t thread;
    /* The thread's own. */
    int fd;
    SSL *ssl;
    int tls_dead;           /* the TLS session failed: no close_notify */
    int wr_shut;            /* !shutdown-write done */
    const struct step *cur;
    struct buf in;          /* received, not yet consumed */
    struct buf caps[NCAPS];
    char ioerr[256];
    char *qs[NQUOTES];
    int qi;
    char *err;
};

/* ---- small helpers ---- */

static void *xrealloc(void *q, size_t n)
{
    void *r = realloc(q, n ? n : 1);
    if (!r) {
        fputs("peer: out of memory\n", stderr);
        abort();
    }
    return r;
}

static void buf_reserve(struct buf *b, size_t more)
{
    if (b->cap - b->len >= more)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < more)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

static void buf_add(struct buf *b, const void *d, size_t n)
{
    buf_reserve(b, n + 1);
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_consume(struct buf *b, size_t n)
{
    if (n == 0)
        return;
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* data as a C-like string literal with its quotes, cut after QUOTE_MAX bytes. */
static void escape(struct buf *b, const char *s, size_t n)
{
    size_t show = n > QUOTE_MAX ? QUOTE_MAX : n;
    buf_add(b, "\"", 1);
    for (size_t i = 0; i < show; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[8];
        switch (c) {
        case '\r': buf_add(b, "\\r", 2); break;
        case '\n': buf_add(b, "\\n", 2); break;
        case '\t': buf_add(b, "\\t", 2); break;
        case '\\': buf_add(b, "\\\\", 2); break;
        case '"': buf_add(b, "\\\"", 2); break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                buf_add(b, &s[i], 1);
            } else {
                snprintf(e, sizeof(e), "\\x%02x", c);
                buf_add(b, e, 4);
            }
        }
    }
    buf_add(b, "\"", 1);
    if (show < n) {
        char more[64];
        snprintf(more, sizeof(more), "... (%zu bytes)", n);
        buf_add(b, more, strlen(more));
    }
}

/* A quoted, escaped copy of data for a message; it lives in a small ring
 * owned by p so that messages need no frees. */
static const char *quote(struct peer *p, const char *s, size_t n)
{
    struct buf b = {0};
    escape(&b, s, n);
    free(p->qs[p->qi]);
    p->qs[p->qi] = b.p;
    p->qi = (p->qi + 1) % NQUOTES;
    return b.p;
}

/* Lines are shown without their CRLF; anything else shows its line end. */
static const char *quote_line(struct peer *p, const char *s, size_t n)
{
    if (n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n')
        n -= 2;
    return quote(p, s, n);
}

static const char *bare_lf_note(const char *s, size_t n)
{
    if (n >= 1 && s[n - 1] == '\n' && (n < 2 || s[n - 2] != '\r'))
        return " (a bare LF ends it)";
    return "";
}

/* Record the first failure, as a sentence naming the script line. */
__attribute__((format(printf, 2, 3)))
static int fail(struct peer *p, const char *fmt, ...)
{
    if (p->err)
        return -1;
    char head[64];
    va_list ap;
    int hn = snprintf(head, sizeof(head), "peer script line %d: ", p->cur ? p->cur->line : 0);
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    p->err = xrealloc(NULL, (size_t)hn + (size_t)n + 1);
    memcpy(p->err, head, (size_t)hn);
    va_start(ap, fmt);
    vsnprintf(p->err + hn, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return -1;
}

static void trace(struct peer *p, const char *dir, const char *d, size_t n)
{
    if (!p->trace)
        return;
    struct buf b = {0};
    escape(&b, d, n);
    fprintf(stderr, "peer:%d line %d %s %s\n", p->port, p->cur ? p->cur->line : 0, dir, b.p);
    buf_free(&b);
}

__attribute__((format(printf, 2, 3)))
static void trace_note(struct peer *p, const char *fmt, ...)
{
    va_list ap;
    if (!p->trace)
        return;
    fprintf(stderr, "peer:%d line %d (", p->port, p->cur ? p->cur->line : 0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(")\n", stderr);
}

/* ---- script text ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode script text into out, \1..\9 from p's captures (empty when p is
 * NULL, as when checking the script).  Returns NULL or what is wrong. */
static const char *unescape(const struct peer *p, const char *s, struct buf *out)
{
    buf_reserve(out, strlen(s) + 3);
    for (; *s; s++) {
        if (*s != '\\') {
            buf_add(out, s, 1);
            continue;
        }
        char c = *++s, v;
        if (c == 'r' || c == 'n' || c == 't' || c == '\\') {
            v = c == 'r' ? '\r' : c == 'n' ? '\n' : c == 't' ? '\t' : '\\';
            buf_add(out, &v, 1);
        } else if (c == 'x' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            v = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            buf_add(out, &v, 1);
            s += 2;
        } else if (c >= '1' && c <= '9') {
            if (p)
                buf_add(out, p->caps[c - '0'].p, p->caps[c - '0'].len);
        } else {
            return "bad escape (known: \\r \\n \\t \\\\ \\xHH \\1..\\9)";
        }
    }
    return NULL;
}

/* ---- the connection ---- */

/* Wait until fd is ready for events: 1 ready, 0 deadline passed, 2 woken by
 * peer_finish (only when wakeable). */
static int wait_io(struct peer *p, short events, long long deadline, int wakeable)
{
    for (;;) {
        struct pollfd pf[2] = {{p->fd, events, 0}, {p->wake[0], POLLIN, 0}};
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        int r = poll(pf, wakeable ? 2 : 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno != EINTR)
            return 0;
        if (r > 0 && wakeable && pf[1].revents)
            return 2;
        if (r > 0)
            return 1;
    }
}

/* What went wrong in a TLS call: 0 when it was the client hanging up,
 * -1 with p->ioerr set otherwise.  Either way the session is unusable. */
static int tls_error(struct peer *p, int e)
{
    unsigned long code = ERR_peek_error();
    p->tls_dead = 1;
    if (e == SSL_ERROR_SYSCALL && code == 0) {
        if (errno == 0 || errno == ECONNRESET || errno == EPIPE)
            return 0;
        snprintf(p->ioerr, sizeof(p->ioerr), "%s", strerror(errno));
        return -1;
    }
    const char *why = ERR_reason_error_string(code);
    snprintf(p->ioerr, sizeof(p->ioerr), "TLS: %s", why ? why : "unknown error");
    ERR_clear_error();
    return -1;
}

/* Read more of the client's bytes into p->in.  1: some arrived, 0: the
 * client hung up, -1: error (p->ioerr), -2: deadline passed, -3: woken. */
static int fill(struct peer *p, long long deadline, int wakeable)
{
    buf_reserve(&p->in, 16384 + 1);
    for (;;) {
        char *dst = p->in.p + p->in.len;
        size_t room = p->in.cap - p->in.len - 1;
        short ev = POLLIN;
        ssize_t got;
        if (p->ssl) {
            ERR_clear_error();
            int r = SSL_read(p->ssl, dst, room > INT_MAX ? INT_MAX : (int)room);
            int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(p->ssl, r);
            got = r;
            if (e == SSL_ERROR_ZERO_RETURN)
                return 0;
            if (e == SSL_ERROR_WANT_WRITE)
                ev = POLLOUT;
            else if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ)
                return tls_error(p, e);
        } else {
            got = recv(p->fd, dst, room, 0);
            if (got == 0 || (got < 0 && (errno == ECONNRESET || errno == EPIPE)))
                return 0;
            if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                snprintf(p->ioerr, sizeof(p->ioerr), "%s", strerror(errno));
                return -1;
            }
        }
        if (got > 0) {
            trace(p, "<", dst, (size_t)got);
            p->in.len += (size_t)got;
            p->in.p[p->in.len] = '\0';
            return 1;
        }
        int w = wait_io(p, ev, deadline, wakeable);
        if (w != 1)
            return w == 0 ? -2 : -3;
    }
}

/* Send all of d; the deadline moves on whenever bytes move.  1: sent,
 * 0: the client hung up, -1: error (p->ioerr), -2: timed out. */
static int send_all(struct peer *p, const char *d, size_t n)
{
    long long deadline = now_ms() + p->timeout_ms;
    trace(p, ">", d, n);
    while (n > 0) {
        short ev = POLLOUT;
        if (p->ssl) {
            int chunk = n > (1u << 20) ? (1 << 20) : (int)n;
            ERR_clear_error();
            int r = SSL_write(p->ssl, d, chunk);
            if (r > 0) {
                d += r;
                n -= (size_t)r;
                deadline = now_ms() + p->timeout_ms;
                continue;
            }
            int e = SSL_get_error(p->ssl, r);
            if (e == SSL_ERROR_WANT_READ)
                ev = POLLIN;
            else if (e != SSL_ERROR_WANT_WRITE)
                return tls_error(p, e);
        } else {
            ssize_t r = send(p->fd, d, n, MSG_NOSIGNAL);
            if (r > 0) {
                d += r;
                n -= (size_t)r;
                deadline = now_ms() + p->timeout_ms;
                continue;
            }
            if (errno == EPIPE || errno == ECONNRESET)
                return 0;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                snprintf(p->ioerr, sizeof(p->ioerr), "%s", strerror(errno));
                return -1;
            }
        }
        if (wait_io(p, ev, deadline, 0) != 1)
            return -2;
    }
    return 1;
}

static int send_step(struct peer *p, const char *d, size_t n)
{
    int r = send_all(p, d, n);
    if (r == 1)
        return 0;
    if (r == 0)
        return fail(p, "the client closed the connection before the peer could send %s",
                    quote_line(p, d, n));
    if (r == -2)
        return fail(p, "timed out sending %s: the client does not read", quote_line(p, d, n));
    return fail(p, "could not send %s: %s", quote_line(p, d, n), p->ioerr);
}

/* Drop the connection at once: no close_notify unless shutdown_write()
 * sent one before. */
static void conn_close(struct peer *p)
{
    if (p->ssl) {
        SSL_free(p->ssl);
        p->ssl = NULL;
    }
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    p->tls_dead = p->wr_shut = 0;
    p->in.len = 0;
}

static int conn_accept(struct peer *p)
{
    long long deadline = now_ms() + p->timeout_ms;
    for (;;) {
        p->fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (p->fd >= 0) {
            /* Each step leaves at once, in its own segment: S+ pieces
             * really arrive apart, and Nagle adds no delays. */
            int one = 1;
            setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            trace_note(p, "accepted a connection");
            return 0;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
            return fail(p, "accept: %s", strerror(errno));
        struct pollfd pf = {p->lfd, POLLIN, 0};
        long long left = deadline - now_ms();
        if (left <= 0 || (poll(&pf, 1, (int)left) < 0 && errno != EINTR))
            return fail(p, "timed out waiting for a client to connect (%d ms)", p->timeout_ms);
    }
}

/* ---- expectations ---- */

/* Wait until p->in holds a whole line; its length (LF included) in *n.
 * Returns like fill(). */
static int read_line(struct peer *p, long long deadline, size_t *n)
{
    size_t scanned = 0;
    for (;;) {
        char *lf = p->in.len > scanned ? memchr(p->in.p + scanned, '\n', p->in.len - scanned) : NULL;
        if (lf) {
            *n = (size_t)(lf - p->in.p) + 1;
            return 1;
        }
        scanned = p->in.len;
        if (p->in.len > LINE_MAX_BYTES) {
            snprintf(p->ioerr, sizeof(p->ioerr), "a line longer than %u bytes", LINE_MAX_BYTES);
            return -1;
        }
        int r = fill(p, deadline, 0);
        if (r != 1)
            return r;
    }
}

/* The failure for an expectation (what) that did not arrive, after fill()
 * or read_line() said r. */
static int fail_wait(struct peer *p, int r, const char *what)
{
    const char *partial = p->in.len ? quote(p, p->in.p, p->in.len) : NULL;
    if (r == 0)
        return fail(p, "expected %s, but the client closed the connection%s%s", what,
                    partial ? " after sending " : "", partial ? partial : "");
    if (r == -2)
        return fail(p, "timed out waiting for %s (%d ms)%s%s", what, p->timeout_ms,
                    partial ? "; received only " : "", partial ? partial : "");
    return fail(p, "expected %s, got an error: %s", what, p->ioerr);
}

static long long deadline_ms(const struct peer *p)
{
    return now_ms() + p->timeout_ms;
}

static int expect_line(struct peer *p, const struct step *st)
{
    struct buf want = {0};
    size_t n;
    unescape(p, st->arg, &want);
    buf_add(&want, "\r\n", 2);
    int r = read_line(p, deadline_ms(p), &n), rc = 0;
    if (r != 1)
        rc = fail_wait(p, r, quote_line(p, want.p, want.len));
    else if (n != want.len || memcmp(p->in.p, want.p, n) != 0)
        rc = fail(p, "expected %s, got %s%s", quote_line(p, want.p, want.len),
                  quote_line(p, p->in.p, n), bare_lf_note(p->in.p, n));
    else
        buf_consume(&p->in, n);
    buf_free(&want);
    return rc;
}

/* Does the line (with its CRLF) match st's regex?  Saves the groups. */
static int line_matches(struct peer *p, const struct step *st, size_t n)
{
    regmatch_t m[NCAPS + 1];
    if (n < 2 || p->in.p[n - 2] != '\r' || memchr(p->in.p, '\0', n - 2))
        return 0;
    char *text = memcpy(xrealloc(NULL, n - 1), p->in.p, n - 2);
    text[n - 2] = '\0';
    int ok = regexec(&st->re, text, NCAPS + 1, m, 0) == 0;
    /* m[1] is the group the whole regex was wrapped in; the user's \1 is m[2]. */
    for (int i = 1; ok && i < NCAPS; i++) {
        p->caps[i].len = 0;
        if (m[i + 1].rm_so >= 0)
            buf_add(&p->caps[i], text + m[i + 1].rm_so, (size_t)(m[i + 1].rm_eo - m[i + 1].rm_so));
    }
    free(text);
    return ok;
}

static int expect_regex(struct peer *p, const struct step *st)
{
    size_t n;
    char what[QUOTE_MAX + 64];
    if (st->kind == K_EXPECT_ANY)
        snprintf(what, sizeof(what), "a line");
    else
        snprintf(what, sizeof(what), "a line matching /%.*s/", QUOTE_MAX, st->arg);
    int r = read_line(p, deadline_ms(p), &n);
    if (r != 1)
        return fail_wait(p, r, what);
    int ok = st->kind == K_EXPECT_ANY ? n >= 2 && p->in.p[n - 2] == '\r' : line_matches(p, st, n);
    if (!ok)
        return fail(p, "expected %s, got %s%s", what, quote_line(p, p->in.p, n),
                    bare_lf_note(p->in.p, n));
    buf_consume(&p->in, n);
    return 0;
}

static int expect_raw(struct peer *p, const struct step *st)
{
    struct buf want = {0};
    long long deadline = deadline_ms(p);
    int rc = 0;
    unescape(p, st->arg, &want);
    for (;;) {
        size_t have = p->in.len < want.len ? p->in.len : want.len;
        if (memcmp(p->in.p ? p->in.p : "", want.p, have) != 0) {
            rc = fail(p, "expected %s, got %s", quote(p, want.p, want.len), quote(p, p->in.p, have));
            break;
        }
        if (have == want.len) {
            buf_consume(&p->in, have);
            break;
        }
        int r = fill(p, deadline, 0);
        if (r != 1) {
            rc = fail_wait(p, r, quote(p, want.p, want.len));
            break;
        }
    }
    buf_free(&want);
    return rc;
}

static int expect_bytes(struct peer *p, const struct step *st)
{
    unsigned long long left = st->n;
    long long deadline = deadline_ms(p);
    for (;;) {
        size_t take = p->in.len < left ? p->in.len : (size_t)left;
        buf_consume(&p->in, take);
        left -= take;
        if (left == 0)
            return 0;
        int r = fill(p, deadline, 0);
        if (r != 1) {
            char what[128];
            snprintf(what, sizeof(what), "%llu bytes (%llu arrived)", st->n, st->n - left);
            return fail_wait(p, r, what);
        }
        deadline = deadline_ms(p);
    }
}

static int expect_close(struct peer *p)
{
    int r = p->in.len ? 1 : fill(p, deadline_ms(p), 0);
    if (r == 1)
        return fail(p, "expected the client to close the connection, got %s",
                    quote_line(p, p->in.p, p->in.len));
    if (r == -2)
        return fail(p, "timed out waiting for the client to close the connection (%d ms)",
                    p->timeout_ms);
    if (r == -1)
        return fail(p, "expected the client to close the connection, got an error: %s", p->ioerr);
    conn_close(p);
    return 0;
}

/* Like expect_close, but over TLS the client must end with close_notify:
 * a bare TCP close is a failure.  Unexpected EOF is normally tolerated
 * (SSL_OP_IGNORE_UNEXPECTED_EOF), which would hide the difference. */
static int expect_close_notify(struct peer *p)
{
    if (!p->ssl)
        return fail(p, "!expect-close-notify needs TLS");
    SSL_clear_options(p->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
    int r = p->in.len ? 1 : fill(p, deadline_ms(p), 0);
    if (r == 0 && (SSL_get_shutdown(p->ssl) & SSL_RECEIVED_SHUTDOWN)) {
        conn_close(p);
        return 0;
    }
    if (r == 1)
        return fail(p, "expected the client to send close_notify, got %s",
                    quote_line(p, p->in.p, p->in.len));
    if (r == -2)
        return fail(p, "timed out waiting for the client's close_notify (%d ms)", p->timeout_ms);
    return fail(p, "the client closed the connection without a TLS close_notify%s%s",
                r == -1 ? ": " : "", r == -1 ? p->ioerr : "");
}

/* ---- TLS ---- */

/* Server side of a handshake on the current connection.  1: done,
 * 0: failed (p->ioerr), -2: timed out. */
static int handshake(struct peer *p)
{
    long long deadline = deadline_ms(p);
    p->ssl = SSL_new(p->ctx);
    if (!p->ssl || !SSL_set_fd(p->ssl, p->fd)) {
        snprintf(p->ioerr, sizeof(p->ioerr), "cannot set up the TLS session");
        return 0;
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_accept(p->ssl);
        if (r == 1) {
            trace_note(p, "TLS handshake done, %s", SSL_get_version(p->ssl));
            return 1;
        }
        int e = SSL_get_error(p->ssl, r);
        short ev = POLLIN;
        if (e == SSL_ERROR_WANT_WRITE)
            ev = POLLOUT;
        else if (e != SSL_ERROR_WANT_READ) {
            if (tls_error(p, e) == 0)
                snprintf(p->ioerr, sizeof(p->ioerr), "the client closed the connection");
            return 0;
        }
        if (wait_io(p, ev, deadline, 0) != 1)
            return -2;
    }
}

static int start_tls(struct peer *p)
{
    if (p->in.len)
        return fail(p, "the client sent %s before the TLS handshake", quote(p, p->in.p, p->in.len));
    int r = handshake(p);
    if (r == -2)
        return fail(p, "timed out during the TLS handshake (%d ms)", p->timeout_ms);
    if (r == 0)
        return fail(p, "TLS handshake failed: %s", p->ioerr);
    return 0;
}

static int tls_abort(struct peer *p)
{
    int r = handshake(p);
    if (r == -2)
        return fail(p, "timed out waiting for the client to abort the TLS handshake (%d ms)",
                    p->timeout_ms);
    if (r == 1)
        r = fill(p, deadline_ms(p), 0);
    if (r == 1)
        return fail(p, "expected the client to abort the TLS handshake, but it completed it and sent %s",
                    quote_line(p, p->in.p, p->in.len));
    if (r == -2)
        return fail(p, "expected the client to abort the TLS handshake, but it completed it and "
                    "kept the connection open (%d ms)", p->timeout_ms);
    conn_close(p);
    return 0;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    const struct peer *p = arg;
    /* OpenSSL keeps *out after we return: point into the peer, not the stack. */
    *out = p->alpn;
    *outlen = p->alpnlen;
    return SSL_TLSEXT_ERR_OK;
}

/* ---- the other steps ---- */

static int send_text(struct peer *p, const struct step *st)
{
    struct buf out = {0};
    unescape(p, st->arg, &out);
    if (st->kind == K_SEND)
        buf_add(&out, "\r\n", 2);
    int rc = send_step(p, out.p, out.len);
    buf_free(&out);
    return rc;
}

static int send_file(struct peer *p, const struct step *st)
{
    FILE *f = fopen(st->arg, "rb");
    char chunk[16384];
    size_t n;
    int rc = 0;
    if (!f)
        return fail(p, "cannot open %s: %s", st->arg, strerror(errno));
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = send_step(p, chunk, n);
    if (rc == 0 && ferror(f))
        rc = fail(p, "cannot read %s", st->arg);
    fclose(f);
    return rc;
}

void peer_bigdata(unsigned long long off, char *buf, size_t n)
{
    char line[81];
    while (n > 0) {
        unsigned long long k = off / 80;
        size_t col = (size_t)(off % 80), take = 80 - col;
        snprintf(line, sizeof(line), "%010llu", k % 10000000000ULL);
        memset(line + 10, 'a' + (int)(k % 26), 68);
        memcpy(line + 78, "\r\n", 2);
        if (take > n)
            take = n;
        memcpy(buf, line + col, take);
        buf += take;
        off += take;
        n -= take;
    }
}

static int send_big(struct peer *p, const struct step *st)
{
    char chunk[16000]; /* a multiple of 80: each chunk starts a line */
    int trace_was = p->trace;
    p->trace = 0;
    for (unsigned long long off = 0; off < st->n;) {
        size_t n = st->n - off < sizeof(chunk) ? (size_t)(st->n - off) : sizeof(chunk);
        peer_bigdata(off, chunk, n);
        if (send_step(p, chunk, n) != 0)
            break;
        off += n;
    }
    p->trace = trace_was;
    if (p->trace)
        fprintf(stderr, "peer:%d line %d > (%llu bytes of peer_bigdata)\n", p->port, st->line, st->n);
    return p->err ? -1 : 0;
}

static void hang_up_hard(struct peer *p)
{
    struct linger l = {1, 0};
    setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    conn_close(p);
}

static void shutdown_write(struct peer *p)
{
    if (p->wr_shut)
        return;
    p->wr_shut = 1;
    if (p->ssl && !p->tls_dead)
        SSL_shutdown(p->ssl);
    shutdown(p->fd, SHUT_WR);
}

static int sleep_ms(unsigned long long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 0;
}

static int run_step(struct peer *p, const struct step *st)
{
    switch (st->kind) {
    case K_SEND: case K_SEND_RAW: return send_text(p, st);
    case K_EXPECT: return expect_line(p, st);
    case K_EXPECT_RAW: return expect_raw(p, st);
    case K_EXPECT_RE: case K_EXPECT_ANY: return expect_regex(p, st);
    case K_TLS: case K_STARTTLS: return start_tls(p);
    case K_TLS_ABORT: return tls_abort(p);
    case K_SLEEP: return sleep_ms(st->n);
    case K_CLOSE: conn_close(p); return 0;
    case K_RESET: hang_up_hard(p); return 0;
    case K_SHUTDOWN_WR: shutdown_write(p); return 0;
    case K_EXPECT_CLOSE: return expect_close(p);
    case K_EXPECT_CLOSE_NOTIFY: return expect_close_notify(p);
    case K_ACCEPT: conn_close(p); return conn_accept(p);
    case K_SEND_FILE: return send_file(p, st);
    case K_SENDBIG: return send_big(p, st);
    case K_RECV: return expect_bytes(p, st);
    }
    return fail(p, "internal error: step kind %d", (int)st->kind);
}

/* After the last step: close_notify and FIN, then read and ignore what the
 * client still sends until it hangs up, so that closing does not reset the
 * connection under data the client has yet to read. */
static void linger_close(struct peer *p)
{
    long long deadline = deadline_ms(p);
    shutdown_write(p);
    while (fill(p, deadline, !p->linger) == 1)
        p->in.len = 0;
    conn_close(p);
}

static void *peer_thread(void *arg)
{
    struct peer *p = arg;
    sigset_t pipe_only;
    /* A TLS write to a gone client raises SIGPIPE in this thread: blocked,
     * it stays pending and dies with the thread instead of the process. */
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, NULL);
    p->cur = p->nsteps ? &p->steps[0] : NULL;
    if (conn_accept(p) != 0)
        return NULL;
    for (size_t i = 0; i < p->nsteps; i++) {
        p->cur = &p->steps[i];
        if (run_step(p, p->cur) != 0) {
            trace_note(p, "failed: %s", p->err);
            conn_close(p); /* the client should not wait for what will not come */
            return NULL;
        }
    }
    if (p->fd >= 0)
        linger_close(p);
    return NULL;
}

/* ---- the script ---- */

struct parse_state {
    int line, closed, half, tls, fresh, has_cert;
    char err[512];
};

static const struct {
    const char *name;
    enum kind kind;
    char arg; /* 0 none, 'n' number, 'p' path */
} directives[] = {
    {"tls", K_TLS, 0}, {"starttls", K_STARTTLS, 0}, {"tls-abort", K_TLS_ABORT, 0},
    {"sleep", K_SLEEP, 'n'}, {"close", K_CLOSE, 0}, {"reset", K_RESET, 0},
    {"shutdown-write", K_SHUTDOWN_WR, 0}, {"expect-close", K_EXPECT_CLOSE, 0},
    {"expect-close-notify", K_EXPECT_CLOSE_NOTIFY, 0},
    {"accept", K_ACCEPT, 0}, {"send-file", K_SEND_FILE, 'p'}, {"sendbig", K_SENDBIG, 'n'},
    {"recv", K_RECV, 'n'},
};

__attribute__((format(printf, 2, 3)))
static int parse_error(struct parse_state *ps, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(ps->err, sizeof(ps->err), "peer script line %d: ", ps->line);
    va_start(ap, fmt);
    vsnprintf(ps->err + n, sizeof(ps->err) - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_directive(struct parse_state *ps, const char *s, struct step *st)
{
    size_t wl = strcspn(s, " \t");
    const char *arg = s + wl + strspn(s + wl, " \t");
    for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++) {
        if (strlen(directives[i].name) != wl || strncmp(directives[i].name, s, wl) != 0)
            continue;
        st->kind = directives[i].kind;
        st->arg = xstrdup(arg);
        for (size_t n = strlen(st->arg); n && (st->arg[n - 1] == ' ' || st->arg[n - 1] == '\t');)
            st->arg[--n] = '\0';
        arg = st->arg;
        if (directives[i].arg == 0 && *arg)
            return parse_error(ps, "!%s takes no argument", directives[i].name);
        if (directives[i].arg == 'p' && !*arg)
            return parse_error(ps, "!%s needs a file name", directives[i].name);
        if (directives[i].arg == 'n') {
            char *end;
            errno = 0;
            st->n = strtoull(arg, &end, 10);
            if (!*arg || *arg == '-' || end == arg || *end || errno)
                return parse_error(ps, "!%s needs a number, not \"%s\"", directives[i].name, arg);
        }
        return 0;
    }
    return parse_error(ps, "unknown directive !%.*s", (int)wl, s);
}

static int parse_text_step(struct parse_state *ps, const char *s, struct step *st)
{
    static const struct { char c0, c1; enum kind kind; } prefixes[] = {
        {'S', ':', K_SEND}, {'S', '+', K_SEND_RAW}, {'C', ':', K_EXPECT},
        {'C', '+', K_EXPECT_RAW}, {'C', '~', K_EXPECT_RE}, {'C', '*', K_EXPECT_ANY},
    };
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        if (s[0] != prefixes[i].c0 || s[1] != prefixes[i].c1)
            continue;
        const char *arg = s[2] == ' ' ? s + 3 : s + 2;
        st->kind = prefixes[i].kind;
        st->arg = xstrdup(arg);
        return 0;
    }
    return parse_error(ps, "unknown step \"%.40s\" (steps are S:, S+, C:, C+, C~, C*, !directive; "
                       "# starts a comment)", s);
}

static int check_text(struct parse_state *ps, struct step *st)
{
    struct buf scratch = {0};
    const char *why = NULL;
    if (st->kind == K_SEND || st->kind == K_SEND_RAW || st->kind == K_EXPECT
        || st->kind == K_EXPECT_RAW)
        why = unescape(NULL, st->arg, &scratch);
    buf_free(&scratch);
    if (why)
        return parse_error(ps, "%s", why);
    if (st->kind == K_EXPECT_ANY && st->arg[strspn(st->arg, " \t")])
        return parse_error(ps, "C* takes no text (C: for an exact line, C~ for a regex)");
    if (st->kind == K_EXPECT_RAW && !st->arg[0])
        return parse_error(ps, "C+ needs bytes to expect");
    if (st->kind == K_EXPECT_RE) {
        /* Anchored on both ends: the regex must match the whole line. */
        size_t n = strlen(st->arg) + 5;
        char *full = xrealloc(NULL, n);
        snprintf(full, n, "^(%s)$", st->arg);
        int r = regcomp(&st->re, full, REG_EXTENDED);
        free(full);
        if (r != 0) {
            char why_re[200];
            regerror(r, &st->re, why_re, sizeof(why_re));
            st->kind = K_EXPECT_ANY; /* nothing to regfree */
            return parse_error(ps, "bad regex /%s/: %s", st->arg, why_re);
        }
    }
    return 0;
}

/* Can st come now, given what the steps before did to the connection? */
static int check_order(struct parse_state *ps, const struct step *st)
{
    int sends = st->kind == K_SEND || st->kind == K_SEND_RAW || st->kind == K_SEND_FILE
        || st->kind == K_SENDBIG || st->kind == K_STARTTLS || st->kind == K_TLS
        || st->kind == K_TLS_ABORT;
    int tlsy = st->kind == K_TLS || st->kind == K_STARTTLS || st->kind == K_TLS_ABORT;
    if (st->kind == K_ACCEPT || st->kind == K_SLEEP)
        return 0;
    if (ps->closed)
        return parse_error(ps, "the connection is closed here (use !accept for the next one)");
    if (sends && ps->half)
        return parse_error(ps, "the peer cannot send after !shutdown-write");
    if (tlsy && ps->tls)
        return parse_error(ps, "the connection is already TLS");
    if (tlsy && !ps->has_cert)
        return parse_error(ps, "TLS needs a certificate (opts->cert, posta-peer --cert)");
    if (st->kind == K_TLS && !ps->fresh)
        return parse_error(ps, "!tls only starts a connection (use !starttls later on)");
    return 0;
}

static void track_state(struct parse_state *ps, const struct step *st)
{
    ps->fresh = st->kind == K_ACCEPT || (ps->fresh && st->kind == K_SLEEP);
    if (st->kind == K_ACCEPT)
        ps->closed = ps->half = ps->tls = 0;
    if (st->kind == K_CLOSE || st->kind == K_RESET || st->kind == K_EXPECT_CLOSE ||
        st->kind == K_EXPECT_CLOSE_NOTIFY
        || st->kind == K_TLS_ABORT)
        ps->closed = 1;
    if (st->kind == K_SHUTDOWN_WR)
        ps->half = 1;
    if (st->kind == K_TLS || st->kind == K_STARTTLS)
        ps->tls = 1;
}

static int parse_line(struct peer *p, struct parse_state *ps, char *s)
{
    size_t n = strlen(s);
    if (n && s[n - 1] == '\r')
        s[--n] = '\0';
    s += strspn(s, " \t");
    if (!*s || *s == '#')
        return 0;
    p->steps = xrealloc(p->steps, (p->nsteps + 1) * sizeof(*p->steps));
    struct step *st = &p->steps[p->nsteps];
    memset(st, 0, sizeof(*st));
    st->line = ps->line;
    int r = *s == '!' ? parse_directive(ps, s + 1, st) : parse_text_step(ps, s, st);
    if (r == 0)
        p->nsteps++; /* from here on peer_free owns it */
    else
        free(st->arg);
    if (r == 0 && (check_text(ps, st) != 0 || check_order(ps, st) != 0))
        return -1;
    if (r == 0)
        track_state(ps, st);
    return r;
}

static int parse(struct peer *p, const char *script, int has_cert, char *err, size_t errlen)
{
    struct parse_state ps = {.fresh = 1, .has_cert = has_cert};
    char *copy = xstrdup(script), *line = copy;
    int rc = 0;
    /* Not strtok: empty lines still count for line numbers. */
    for (ps.line = 1; rc == 0 && line; ps.line++) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        rc = parse_line(p, &ps, line);
        line = nl ? nl + 1 : NULL;
    }
    free(copy);
    if (rc)
        snprintf(err, errlen, "%s", ps.err);
    return rc;
}

/* ---- set-up and tear-down ---- */

static void peer_free(struct peer *p)
{
    for (size_t i = 0; i < p->nsteps; i++) {
        if (p->steps[i].kind == K_EXPECT_RE)
            regfree(&p->steps[i].re);
        free(p->steps[i].arg);
    }
    free(p->steps);
    for (int i = 0; i < NCAPS; i++)
        buf_free(&p->caps[i]);
    for (int i = 0; i < NQUOTES; i++)
        free(p->qs[i]);
    buf_free(&p->in);
    SSL_CTX_free(p->ctx);
    if (p->lfd >= 0)
        close(p->lfd);
    if (p->wake[0] >= 0)
        close(p->wake[0]);
    if (p->wake[1] >= 0)
        close(p->wake[1]);
    free(p->err);
    free(p);
}

static int setup_tls(struct peer *p, const struct peer_opts *o)
{
    const char *key = o->key ? o->key : o->cert;
    p->ctx = SSL_CTX_new(TLS_server_method());
    if (!p->ctx || SSL_CTX_use_certificate_chain_file(p->ctx, o->cert) != 1
        || SSL_CTX_use_PrivateKey_file(p->ctx, key, SSL_FILETYPE_PEM) != 1
        || SSL_CTX_check_private_key(p->ctx) != 1) {
        unsigned long e = ERR_get_error();
        fprintf(stderr, "peer: cannot use certificate %s / key %s: %s\n", o->cert, key,
                e ? ERR_reason_error_string(e) : "?");
        ERR_clear_error();
        return -1;
    }
    /* No session tickets: nothing is written after the handshake that the
     * script did not ask for. */
    if (o->client_ca) {
        /* Demand a client certificate signed by client_ca. */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->client_ca);
        if (!names || SSL_CTX_load_verify_locations(p->ctx, o->client_ca, NULL) != 1) {
            fprintf(stderr, "peer: cannot use client CA %s\n", o->client_ca);
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            return -1;
        }
        SSL_CTX_set_client_CA_list(p->ctx, names);
        SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    SSL_CTX_set_num_tickets(p->ctx, 0);
    SSL_CTX_set_options(p->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (o->alpn) {
        size_t n = strlen(o->alpn);
        if (n == 0 || n > sizeof(p->alpn)) {
            fprintf(stderr, "peer: ALPN id must be 1 to 255 bytes\n");
            return -1;
        }
        memcpy(p->alpn, o->alpn, n);
        p->alpnlen = (unsigned char)n;
        SSL_CTX_set_alpn_select_cb(p->ctx, alpn_select, p);
    }
    return 0;
}

static int setup_listener(struct peer *p)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof(sin);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0
        || listen(p->lfd, 16) != 0 || getsockname(p->lfd, (struct sockaddr *)&sin, &len) != 0) {
        fprintf(stderr, "peer: cannot listen on 127.0.0.1: %s\n", strerror(errno));
        return -1;
    }
    p->port = ntohs(sin.sin_port);
    if (pipe(p->wake) != 0) {
        fprintf(stderr, "peer: pipe: %s\n", strerror(errno));
        return -1;
    }
    fcntl(p->wake[0], F_SETFD, FD_CLOEXEC);
    fcntl(p->wake[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

int peer_start(struct peer **p_r, const char *script, const struct peer_opts *opts)
{
    static const struct peer_opts none;
    const struct peer_opts *o = opts ? opts : &none;
    struct peer *p = xrealloc(NULL, sizeof(*p));
    char err[600];
    memset(p, 0, sizeof(*p));
    p->lfd = p->fd = p->wake[0] = p->wake[1] = -1;
    p->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
    p->linger = o->linger;
    p->trace = getenv("POSTA_PEER_TRACE") && *getenv("POSTA_PEER_TRACE")
        && strcmp(getenv("POSTA_PEER_TRACE"), "0") != 0;
    *p_r = NULL;
    if (!script || parse(p, script, o->cert != NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", script ? err : "peer: no script");
        peer_free(p);
        return -1;
    }
    if ((o->cert && setup_tls(p, o) != 0) || setup_listener(p) != 0) {
        peer_free(p);
        return -1;
    }
    int e = pthread_create(&p->thread, NULL, peer_thread, p);
    if (e != 0) {
        fprintf(stderr, "peer: pthread_create: %s\n", strerror(e));
        peer_free(p);
        return -1;
    }
    *p_r = p;
    return 0;
}

int peer_port(const struct peer *p)
{
    return p->port;
}

int peer_finish(struct peer *p, char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    if (!p) {
        if (errmsg)
            *errmsg = xstrdup("peer script line 0: the peer was not started");
        return -1;
    }
    if (!p->linger && write(p->wake[1], "", 1) != 1)
        fprintf(stderr, "peer: cannot wake the peer thread: %s\n", strerror(errno));
    pthread_join(p->thread, NULL);
    int rc = p->err ? -1 : 0;
    if (errmsg) {
        *errmsg = p->err;
        p->err = NULL;
    }
    peer_free(p);
    return rc;
}
