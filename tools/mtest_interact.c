/* The interactive phase of the mail test tools: what the user types (or
 * the -f file, or a -x client) goes to the server as typed, what the server
 * sends is shown as sent; an IMAP literal typed by the user waits for the
 * server's go-ahead before its data is sent. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mtest.h"

#define IN_CAP 65536            /* input not yet sent */
#define OUT_HIGH 262144         /* stop taking input while this much waits */
#define LOGOUT_QUIET_MS 60000   /* after our LOGOUT, a silent server is dropped */
#define ACCEPT_MS 600000        /* -x: how long to wait for a client, as Cyrus */

struct ix {
    struct mt *m;
    int in_fd, out_fd, listen_fd;  /* out_fd -1: stdout */
    struct mt_edit *edit;
    int echo;                      /* -f: show what is sent */
    char in[IN_CAP];
    size_t in_len;
    int in_eof, client_quit;
    char *out;                     /* bytes for the server */
    size_t out_len, out_cap;
    int need_flush;
    char wire[IN_CAP + 2];
    /* the user's side of IMAP literals */
    uint64_t lit_left;             /* literal octets still to pass unread */
    int wait_cont;                 /* a synchronizing literal waits for "+" */
    uint64_t wait_n;
    int in_cmd;                    /* a command continues after a literal */
    int in_data;                   /* SMTP DATA */
    char tag[64];
    /* the server's side: lines and literals, to see "+" and the tag */
    uint64_t srv_lit;
    char head[128], tail[32];
    size_t head_len, tail_len;
    int logout_sent;
    int64_t quiet_since;
};

static volatile sig_atomic_t got_sigint;
static int sig_pipe[2] = {-1, -1};  /* wakes poll(): a ^C just before it is not lost */

static void on_sigint(int sig)
{
    (void)sig;
    got_sigint = 1;
    if (sig_pipe[1] >= 0 && write(sig_pipe[1], "", 1) < 0) {
        /* full: poll wakes anyway */
    }
}

static void sigint_catch(int on)
{
    if (on && pipe(sig_pipe) == 0) {
        fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK);
        fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
    }
    got_sigint = 0;
    signal(SIGINT, on ? on_sigint : SIG_DFL);
    if (!on && sig_pipe[0] >= 0) {
        close(sig_pipe[0]);
        close(sig_pipe[1]);
        sig_pipe[0] = sig_pipe[1] = -1;
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_fd(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Local output (the transcript, server bytes) around the line editor. */
static void show(struct ix *x, const char *p, size_t n)
{
    if (x->out_fd >= 0) {
        write_fd(x->out_fd, p, n);
        return;
    }
    mt_edit_hide(x->edit);
    fwrite(p, 1, n, stdout);
    mt_flush();
    /* Redrawn only at a line boundary: a server line arriving in pieces
     * must not be overwritten by the line being typed. */
    if (n > 0 && p[n - 1] == '\n')
        mt_edit_show(x->edit);
}

static int queue(struct ix *x, const char *p, size_t n)
{
    if (x->out_len + n > x->out_cap) {
        size_t cap = (x->out_len + n) * 2;
        char *o = realloc(x->out, cap);
        if (!o)
            return -1;
        x->out = o;
        x->out_cap = cap;
    }
    memcpy(x->out + x->out_len, p, n);
    x->out_len += n;
    return 0;
}

/* "{n}" (1), "{n+}" (2) or nothing (0) before the line end of p. */
static int literal_at_end(const char *p, size_t len, uint64_t *n_r)
{
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    if (len < 3 || p[len - 1] != '}')
        return 0;
    size_t i = len - 1;
    int plus = p[i - 1] == '+';
    if (plus)
        i--;
    size_t end = i;
    while (i > 0 && isdigit((unsigned char)p[i - 1]))
        i--;
    if (i == end || i == 0 || p[i - 1] != '{' || end - i > 18)
        return 0;
    uint64_t n = 0;
    for (size_t k = i; k < end; k++)
        n = n * 10 + (uint64_t)(p[k] - '0');
    *n_r = n;
    return plus ? 2 : 1;
}

/* --- the server's side ------------------------------------------------------ */

static void server_line(struct ix *x)
{
    uint64_t n;
    if (literal_at_end(x->tail, x->tail_len, &n))
        x->srv_lit = n;
    if (!x->wait_cont)
        return;
    size_t tl = strlen(x->tag);
    if (x->head_len > 0 && x->head[0] == '+') {
        x->wait_cont = 0;
        x->lit_left = x->wait_n;
    } else if (tl && x->head_len > tl && memcmp(x->head, x->tag, tl) == 0 && x->head[tl] == ' ') {
        /* Refused instead: what the user types next is a new command. */
        x->wait_cont = x->in_cmd = 0;
    }
}

static void note(struct ix *x, const char *p, size_t n)
{
    size_t room = sizeof(x->head) - x->head_len, k = n < room ? n : room;
    memcpy(x->head + x->head_len, p, k);
    x->head_len += k;
    if (n >= sizeof(x->tail)) {
        memcpy(x->tail, p + n - sizeof(x->tail), sizeof(x->tail));
        x->tail_len = sizeof(x->tail);
        return;
    }
    if (x->tail_len + n > sizeof(x->tail)) {
        size_t drop = x->tail_len + n - sizeof(x->tail);
        memmove(x->tail, x->tail + drop, x->tail_len - drop);
        x->tail_len -= drop;
    }
    memcpy(x->tail + x->tail_len, p, n);
    x->tail_len += n;
}

/* Follow IMAP lines and literals in what the server sends. */
static void scan(struct ix *x, const char *p, size_t n)
{
    while (n > 0) {
        if (x->srv_lit > 0) {
            size_t k = x->srv_lit < n ? (size_t)x->srv_lit : n;
            x->srv_lit -= k;
            p += k;
            n -= k;
            continue;
        }
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) + 1 : n;
        note(x, p, k);
        p += k;
        n -= k;
        if (nl) {
            server_line(x);
            x->head_len = x->tail_len = 0;
        }
    }
}

static void server_bytes(struct ix *x, const char *p, size_t n)
{
    x->quiet_since = now_ms();
    show(x, p, n);
    if (x->m->p->literals)
        scan(x, p, n);
}

/* What the login phase (or a -x reset) read beyond its last line. */
static void leftovers(struct ix *x)
{
    const char *p;
    size_t n = mt_take_buffered(x->m, &p);
    if (n > 0)
        server_bytes(x, p, n);
}

/* Show what the server sent; 1 when the connection ended. */
static int read_server(struct ix *x)
{
    char buf[16384];
    for (int round = 0; round < 64; round++) {
        long r = posta_stream_read(x->m->s, buf, sizeof(buf));
        if (r == POSTA_EAGAIN)
            return 0;
        if (r < 0) {
            if (r != POSTA_ECLOSED)
                mt_err(x->m, "%s", posta_stream_errmsg(x->m->s));
            return 1;
        }
        server_bytes(x, buf, (size_t)r);
    }
    return 0;
}

/* --- the user's side ------------------------------------------------------------ */

/* Text of a command (not literal data); line: it ends a line. */
static int command_text(struct ix *x, const char *t, size_t n, int line)
{
    uint64_t lit;
    if (!x->in_cmd) {
        size_t w = strcspn(t, " \r\n");
        snprintf(x->tag, sizeof(x->tag), "%.*s", (int)(w < n ? w : n), t);
        x->in_cmd = 1;
    }
    if (queue(x, t, n) < 0)
        return -1;
    if (!line)
        return 0;
    int kind = x->m->p->literals ? literal_at_end(t, n, &lit) : 0;
    if (kind == 1) {
        x->wait_cont = 1;
        x->wait_n = lit;
    } else if (kind == 2) {
        x->lit_left = lit;
    } else {
        x->in_cmd = 0;
    }
    return 0;
}

static void track_data(struct ix *x, const char *body, size_t n)
{
    if (x->in_data)
        x->in_data = !(n == 1 && body[0] == '.');
    else
        x->in_data = n == 4 && strncasecmp(body, "DATA", 4) == 0;
}

/* One piece of input: a line (whole) or a chunk of a very long one. */
static int segment(struct ix *x, const char *p, size_t n, int whole)
{
    size_t body = n;
    if (x->echo)
        show(x, p, n);
    if (whole)
        while (body > 0 && (p[body - 1] == '\n' || p[body - 1] == '\r'))
            body--;
    const struct mt_proto *proto = x->m->p;
    if (whole && x->listen_fd >= 0 && !x->in_cmd && !x->lit_left && !x->in_data && proto->is_quit &&
        proto->is_quit(p, n)) {
        x->client_quit = 1;
        return 0;
    }
    if (proto->dot_data && whole)
        track_data(x, p, body);
    /* Line ends go out as CRLF whatever the terminal or file used. */
    memcpy(x->wire, p, body);
    size_t wl = body;
    if (whole) {
        memcpy(x->wire + wl, "\r\n", 2);
        wl += 2;
    }
    size_t off = 0;
    if (x->lit_left > 0) {
        off = x->lit_left < wl ? (size_t)x->lit_left : wl;
        x->lit_left -= off;
        if (queue(x, x->wire, off) < 0)
            return -1;
    }
    return off < wl ? command_text(x, x->wire + off, wl - off, whole) : 0;
}

static int pump_input(struct ix *x)
{
    while (!x->wait_cont && !x->client_quit && x->out_len < OUT_HIGH && x->in_len > 0) {
        char *nl = memchr(x->in, '\n', x->in_len);
        size_t n;
        int whole = 1;
        if (nl)
            n = (size_t)(nl - x->in) + 1;
        else if (x->in_eof || x->in_len == IN_CAP) {
            n = x->in_len;
            whole = x->in_eof;
        } else
            break;
        if (segment(x, x->in, n, whole) < 0)
            return -1;
        memmove(x->in, x->in + n, x->in_len - n);
        x->in_len -= n;
    }
    return 0;
}

static void read_input(struct ix *x)
{
    char buf[4096];
    ssize_t r = read(x->in_fd, buf, sizeof(buf));
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (r <= 0) {
        x->in_eof = 1;
        return;
    }
    if (x->edit) {
        x->in_len += mt_edit_feed(x->edit, buf, (size_t)r, x->in + x->in_len, IN_CAP - x->in_len, &x->in_eof);
        return;
    }
    memcpy(x->in + x->in_len, buf, (size_t)r);
    x->in_len += (size_t)r;
}

/* --- writing ---------------------------------------------------------------------- */

/* Send what is queued without blocking; 1 when the connection failed. */
static int flush_out(struct ix *x)
{
    while (x->out_len > 0) {
        long w = posta_stream_write(x->m->s, x->out, x->out_len);
        if (w == POSTA_EAGAIN)
            return 0;
        if (w < 0) {
            mt_err(x->m, "%s", posta_stream_errmsg(x->m->s));
            return 1;
        }
        memmove(x->out, x->out + w, x->out_len - (size_t)w);
        x->out_len -= (size_t)w;
    }
    int rc = posta_stream_flush(x->m->s);
    x->need_flush = rc == POSTA_EAGAIN;
    if (rc < 0 && rc != POSTA_EAGAIN) {
        mt_err(x->m, "%s", posta_stream_errmsg(x->m->s));
        return 1;
    }
    return 0;
}

static int flush_all(struct ix *x)
{
    int rc = posta_stream_write_all(x->m->s, x->out, x->out_len);
    x->out_len = 0;
    return rc;
}

/* Our own LOGOUT/QUIT, shown as Cyrus shows it. */
static void send_logout(struct ix *x)
{
    char line[128];
    int n = snprintf(line, sizeof(line), "C: %s\r\n", x->m->p->logout);
    show(x, line, (size_t)n);
    queue(x, line + 3, (size_t)n - 3);
    x->logout_sent = 1;
    x->quiet_since = now_ms();
}

/* --- -x: the client socket ---------------------------------------------------------- */

static int listen_on(struct ix *x, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        mt_err(x->m, "socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 5) < 0) {
        mt_err(x->m, "could not listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    x->listen_fd = fd;
    return 0;
}

/* A client left: reset the session for the next one; 1 to end instead. */
static int client_gone(struct ix *x)
{
    close(x->in_fd);
    x->in_fd = x->out_fd = -1;
    x->in_len = 0;
    x->in_eof = x->client_quit = 0;
    if (x->in_cmd || x->lit_left || x->wait_cont || x->in_data || !x->m->p->reset)
        return 1;
    if (flush_all(x) < 0 || x->m->p->reset(x->m) < 0)
        return 1;
    leftovers(x);
    x->quiet_since = now_ms();
    return 0;
}

/* --- the loop ----------------------------------------------------------------------------- */

static int poll_timeout(const struct ix *x)
{
    if (x->logout_sent) {
        int64_t left = LOGOUT_QUIET_MS - (now_ms() - x->quiet_since);
        return left > 0 ? (int)left : 0;
    }
    if (x->listen_fd >= 0 && x->in_fd < 0) {
        int64_t left = ACCEPT_MS - (now_ms() - x->quiet_since);
        return left > 0 ? (int)left : 0;
    }
    return -1;
}

/* Wait for the server, the input or a client; 1 when time is up. */
static int wait_events(struct ix *x)
{
    struct pollfd p[3];
    int n = 0, in_slot = -1;
    posta_stream *s = x->m->s;
    p[n++] = (struct pollfd){.fd = posta_stream_fd(s), .events = POLLIN};
    if (x->out_len || x->need_flush || posta_stream_wants_write(s))
        p[0].events |= POLLOUT;
    int src = x->in_fd >= 0 ? x->in_fd : x->listen_fd;
    if (src >= 0 && !x->in_eof && x->in_len + 8192 <= IN_CAP) {
        in_slot = n;
        p[n++] = (struct pollfd){.fd = src, .events = POLLIN};
    }
    if (sig_pipe[0] >= 0)
        p[n++] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
    int timeout = poll_timeout(x);
    if (timeout == 0)
        return 1;
    mt_flush();
    int r = poll(p, (nfds_t)n, timeout);
    if (r <= 0)
        return r == 0 && timeout > 0;
    if (in_slot < 0 || !(p[in_slot].revents & (POLLIN | POLLHUP | POLLERR)))
        return 0;
    if (x->in_fd >= 0) {
        read_input(x);
    } else {
        x->in_fd = x->out_fd = accept(x->listen_fd, NULL, NULL);
    }
    return 0;
}

/* The input ended: log out (or, with -x, take the next client).  Returns
 * 1 to end the loop at once. */
static int input_ended(struct ix *x)
{
    if (x->listen_fd >= 0)
        return client_gone(x);
    if (x->in_cmd || x->lit_left) {
        mt_err(x->m, "the input ended inside a command; closing the connection");
        return 1;
    }
    send_logout(x);
    return 0;
}

static void loop(struct ix *x)
{
    for (;;) {
        if (got_sigint) {
            send_logout(x);
            flush_all(x);
            return;
        }
        if (read_server(x) || pump_input(x) < 0)
            return;
        int ended = x->client_quit || (x->in_eof && x->in_len == 0 && !x->wait_cont);
        if (ended && !x->logout_sent && input_ended(x))
            break;
        if (flush_out(x) || wait_events(x))
            break;
    }
    if (x->listen_fd >= 0 && !x->logout_sent) {
        send_logout(x);
        flush_all(x);
    }
}

static void setup_input(struct ix *x)
{
    const struct mt_opts *o = x->m->o;
    x->in_fd = 0;
    x->out_fd = x->listen_fd = -1;
    if (o->file) {
        x->in_fd = open(o->file, O_RDONLY);
        x->echo = 1;
    } else if (o->socket) {
        x->in_fd = -1;
        listen_on(x, o->socket);
    } else if (!o->no_edit && isatty(0) && isatty(1)) {
        const char *term = getenv("TERM");
        if (!term || strcmp(term, "dumb") != 0)
            x->edit = mt_edit_open();
    }
}

void mt_interact(struct mt *m)
{
    struct ix *x = calloc(1, sizeof(*x));
    if (!x) {
        mt_err(m, "out of memory");
        return;
    }
    x->m = m;
    x->quiet_since = now_ms();
    setup_input(x);
    leftovers(x);
    if (x->in_fd >= 0 || x->listen_fd >= 0) {
        sigint_catch(1);
        loop(x);
        sigint_catch(0);
    }
    mt_edit_close(x->edit);
    if (x->listen_fd >= 0) {
        close(x->listen_fd);
        unlink(m->o->socket);
    }
    if (x->in_fd > 0)
        close(x->in_fd);
    posta_stream_close(m->s);
    printf("Connection closed.\n");
    free(x->out);
    free(x);
}
