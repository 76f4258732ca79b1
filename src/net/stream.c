/* posta_stream: resolving, connecting address by address, non-blocking
 * socket I/O, and the blocking helpers built on poll(2). */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_CONNECT_MS 30000
#define DEFAULT_IO_MS 60000

int posta_stream_new(posta_stream **s_r)
{
    int rc = posta_init();
    if (rc < 0)
        return rc;
    posta_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return POSTA_ENOMEM;
    s->fd = -1;
    s->connect_ms = DEFAULT_CONNECT_MS;
    s->io_ms = DEFAULT_IO_MS;
    *s_r = s;
    return 0;
}

static void close_socket(posta_stream *s)
{
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    s->want_read = s->want_write = 0;
}

static void free_filters(posta_stream *s)
{
    while (s->filters) {
        struct posta__filter *f = s->filters;
        s->filters = f->below;
        if (f->ops->free)
            f->ops->free(f->ctx);
        free(f);
    }
}

void posta_stream_close(posta_stream *s)
{
    if (!s)
        return;
    if (s->state == STREAM_OPEN && s->fd >= 0 && s->filters) {
        /* Best effort: hand buffered filter output to the socket. */
        (void)posta_stream_flush(s);
    }
    free_filters(s);
    if (s->tls)
        posta__tls_close(s);
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
    close_socket(s);
    free(s->addrs);
    s->addrs = NULL;
    s->naddrs = s->next_addr = 0;
    if (s->state != STREAM_IDLE)
        s->state = STREAM_CLOSED;
}

void posta_stream_free(posta_stream *s)
{
    if (!s)
        return;
    posta_stream_close(s);
    posta__tls_free(s);
    free(s->cafile);
    free(s->capath);
    free(s->certfile);
    free(s->keyfile);
    free(s->alpn);
    free(s->tls_name);
    free(s);
}

void posta_stream_set_timeouts(posta_stream *s, int connect_ms, int io_ms)
{
    s->connect_ms = connect_ms;
    s->io_ms = io_ms;
}

/* Replace *slot with a copy of value (NULL clears it). */
static int set_string(char **slot, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return POSTA_ENOMEM;
    free(*slot);
    *slot = copy;
    return 0;
}

int posta_stream_set_ca(posta_stream *s, const char *cafile, const char *capath)
{
    int rc = set_string(&s->cafile, cafile);
    return rc < 0 ? rc : set_string(&s->capath, capath);
}

int posta_stream_set_client_cert(posta_stream *s, const char *certfile, const char *keyfile)
{
    int rc = set_string(&s->certfile, certfile);
    return rc < 0 ? rc : set_string(&s->keyfile, keyfile);
}

void posta_stream_set_insecure(posta_stream *s, int insecure)
{
    s->insecure = insecure != 0;
}

int posta_stream_set_alpn(posta_stream *s, const char *proto)
{
    if (proto && (proto[0] == '\0' || strlen(proto) > 255))
        return posta__err_set(&s->err, POSTA_EINVAL, "ALPN protocol id must be 1 to 255 bytes");
    return set_string(&s->alpn, proto);
}

int posta_stream_set_tls_name(posta_stream *s, const char *name)
{
    return set_string(&s->tls_name, name);
}

/*
 * Split "host", "host:port", "[v6]:port", "[v6]" into host and port.
 * A bare IPv6 address without brackets ("::1") has several colons and is
 * taken as a host with no port.
 */
static int split_target(posta_stream *s, const char *target, const char *default_port,
                        char *host, size_t hostsz, char *port, size_t portsz)
{
    const char *h = target, *p = NULL;
    size_t hlen;

    if (target[0] == '[') {
        const char *close = strchr(target, ']');
        if (!close || (close[1] != '\0' && close[1] != ':'))
            return posta__err_set(&s->err, POSTA_EINVAL,
                                  "bad address \"%s\": expected [IPv6]:port", target);
        h = target + 1;
        hlen = (size_t)(close - h);
        if (close[1] == ':')
            p = close + 2;
    } else {
        const char *colon = strchr(target, ':');
        if (colon && !strchr(colon + 1, ':')) {
            hlen = (size_t)(colon - target);
            p = colon + 1;
        } else {
            hlen = strlen(target);
        }
    }
    if (hlen == 0 || hlen >= hostsz)
        return posta__err_set(&s->err, POSTA_EINVAL, "bad address \"%s\": %s", target,
                              hlen ? "host name too long" : "no host");
    if (p && *p == '\0')
        return posta__err_set(&s->err, POSTA_EINVAL, "bad address \"%s\": empty port", target);
    if (!p)
        p = default_port;
    if (!p || !*p)
        return posta__err_set(&s->err, POSTA_EINVAL, "no port given for \"%s\"", target);
    if (strlen(p) >= portsz)
        return posta__err_set(&s->err, POSTA_EINVAL, "bad port \"%s\"", p);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    strcpy(port, p);
    return 0;
}

static void format_addr(const struct sockaddr *sa, char *out, size_t outsz)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        port = ntohs(in6->sin6_port);
        snprintf(out, outsz, "[%s]:%u", ip, port);
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof(ip));
        port = ntohs(in4->sin_port);
        snprintf(out, outsz, "%s:%u", ip, port);
    } else {
        snprintf(out, outsz, "(address family %d)", sa->sa_family);
    }
}

/* "connection refused" rather than strerror's "Connection refused". */
static void errno_words(int e, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s", strerror(e));
    if (out[0] >= 'A' && out[0] <= 'Z' && !(out[1] >= 'A' && out[1] <= 'Z'))
        out[0] = (char)(out[0] - 'A' + 'a');
}

int posta_stream_connect_start(posta_stream *s, const char *target, const char *default_port)
{
    char host[256], port[64];
    struct addrinfo hints, *res = NULL;

    if (!target)
        return posta__err_set(&s->err, POSTA_EINVAL, "no server given");
    if (s->state == STREAM_CONNECTING || s->state == STREAM_OPEN)
        return posta__err_set(&s->err, POSTA_ESTATE, "stream is already connected");
    int rc = split_target(s, target, default_port, host, sizeof(host), port, sizeof(port));
    if (rc < 0)
        return rc;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai == EAI_SERVICE)
        return posta__err_set(&s->err, POSTA_ERESOLVE, "unknown port or service \"%s\"", port);
    if (gai != 0)
        return posta__err_set(&s->err, POSTA_ERESOLVE, "cannot resolve %s: %s", host,
                              gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
    size_t n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        n++;
    struct stream_addr *addrs = calloc(n ? n : 1, sizeof(*addrs));
    if (!addrs) {
        freeaddrinfo(res);
        return posta__err_set(&s->err, POSTA_ENOMEM, "out of memory");
    }
    n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(addrs[n].ss))
            continue;
        memcpy(&addrs[n].ss, ai->ai_addr, ai->ai_addrlen);
        addrs[n].len = ai->ai_addrlen;
        n++;
    }
    freeaddrinfo(res);
    rc = posta__stream_connect_addrs(s, host, addrs, n);
    free(addrs);
    return rc;
}

/* Begin connecting to s->addrs[s->next_addr]; POSTA_EAGAIN while under way. */
static int try_next_address(posta_stream *s);

int posta__stream_connect_addrs(posta_stream *s, const char *host,
                                const struct stream_addr *addrs, size_t n)
{
    if (n == 0)
        return posta__err_set(&s->err, POSTA_ERESOLVE, "%s has no usable address", host);
    free(s->addrs);
    s->addrs = malloc(n * sizeof(*addrs));
    if (!s->addrs)
        return posta__err_set(&s->err, POSTA_ENOMEM, "out of memory");
    memcpy(s->addrs, addrs, n * sizeof(*addrs));
    s->naddrs = n;
    s->next_addr = 0;
    s->first_err[0] = '\0';
    close_socket(s); /* a stream closed by a failure may still hold its fd */
    snprintf(s->host, sizeof(s->host), "%s", host);
    posta__err_clear(&s->err);
    posta__tls_free(s);
    s->state = STREAM_CONNECTING;
    return try_next_address(s);
}

/* Record why the current address failed; the first failure is kept for
 * the final sentence, since it is usually the one the user cares about. */
static void address_failed(posta_stream *s, const char *why)
{
    if (!s->first_err[0])
        snprintf(s->first_err, sizeof(s->first_err), "connect %s: %s", s->peer, why);
    close_socket(s);
}

static int all_addresses_failed(posta_stream *s, int code)
{
    s->state = STREAM_CLOSED;
    if (s->naddrs > 1)
        return posta__err_set(&s->err, code, "%s (and %zu more address%s of %s failed)",
                              s->first_err, s->naddrs - 1, s->naddrs > 2 ? "es" : "", s->host);
    return posta__err_set(&s->err, code, "%s", s->first_err);
}

static int connected(posta_stream *s)
{
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    s->state = STREAM_OPEN;
    s->want_read = s->want_write = 0;
    s->deadline = 0;
    free(s->addrs);
    s->addrs = NULL;
    posta__err_clear(&s->err);
    return 0;
}

static int try_next_address(posta_stream *s)
{
    int last_code = POSTA_ECONNECT;

    while (s->next_addr < s->naddrs) {
        const struct stream_addr *a = &s->addrs[s->next_addr++];
        char why[128];

        format_addr((const struct sockaddr *)&a->ss, s->peer, sizeof(s->peer));
        s->fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s->fd < 0) {
            errno_words(errno, why, sizeof(why));
            address_failed(s, why);
            continue;
        }
        if (connect(s->fd, (const struct sockaddr *)&a->ss, a->len) == 0)
            return connected(s);
        if (errno == EINPROGRESS) {
            s->want_write = 1;
            s->want_read = 0;
            s->deadline = s->connect_ms < 0 ? 0 : posta__now_ms() + s->connect_ms;
            return POSTA_EAGAIN;
        }
        last_code = POSTA_ECONNECT;
        errno_words(errno, why, sizeof(why));
        address_failed(s, why);
    }
    return all_addresses_failed(s, last_code);
}

int posta_stream_connect_continue(posta_stream *s)
{
    if (s->state == STREAM_OPEN)
        return 0;
    if (s->state != STREAM_CONNECTING)
        return posta__err_set(&s->err, POSTA_ESTATE, "no connect in progress");

    struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
    int n = poll(&pfd, 1, 0);
    if (n == 0) {
        if (s->deadline && posta__now_ms() >= s->deadline) {
            char why[128];
            snprintf(why, sizeof(why), "timed out after %d ms", s->connect_ms);
            address_failed(s, why);
            int rc = try_next_address(s);
            /* Only when every address timed out is the result a timeout. */
            if (rc < 0 && rc != POSTA_EAGAIN && strstr(s->first_err, "timed out"))
                s->err.code = rc = POSTA_ETIMEDOUT;
            return rc;
        }
        return POSTA_EAGAIN;
    }
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        soerr = errno;
    if (soerr == 0)
        return connected(s);
    char why[128];
    errno_words(soerr, why, sizeof(why));
    address_failed(s, why);
    return try_next_address(s);
}

int posta__stream_poll(posta_stream *s, int64_t deadline_ms)
{
    for (;;) {
        struct pollfd pfd = {.fd = s->fd, .events = 0};
        if (s->want_read)
            pfd.events |= POLLIN;
        if (s->want_write)
            pfd.events |= POLLOUT;
        if (!pfd.events)
            pfd.events = POLLIN;
        int timeout = -1;
        if (deadline_ms) {
            int64_t left = deadline_ms - posta__now_ms();
            timeout = left <= 0 ? 0 : left > 1000000 ? 1000000 : (int)left;
        }
        int n = poll(&pfd, 1, timeout);
        if (n > 0)
            return 1;
        if (n == 0 && timeout == 0)
            return POSTA_ETIMEDOUT;
        if (n < 0 && errno != EINTR)
            return posta__err_set(&s->err, POSTA_EIO, "poll: %s", strerror(errno));
    }
}

int posta_stream_connect(posta_stream *s, const char *target, const char *default_port)
{
    int rc = posta_stream_connect_start(s, target, default_port);
    while (rc == POSTA_EAGAIN) {
        /* The per-address deadline is enforced by connect_continue. */
        int w = posta__stream_poll(s, s->deadline);
        if (w < 0 && w != POSTA_ETIMEDOUT)
            return w;
        rc = posta_stream_connect_continue(s);
    }
    return rc;
}

int posta_stream_attach_fd(posta_stream *s, int fd, const char *name)
{
    if (s->state == STREAM_CONNECTING || s->state == STREAM_OPEN)
        return posta__err_set(&s->err, POSTA_ESTATE, "stream is already connected");
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return posta__err_set(&s->err, POSTA_EINVAL, "not a usable descriptor: %s", strerror(errno));
    posta__tls_free(s);
    close_socket(s);
    s->fd = fd;
    snprintf(s->host, sizeof(s->host), "%s", name ? name : "");
    snprintf(s->peer, sizeof(s->peer), "%s", name ? name : "");
    return connected(s);
}

const char *posta_stream_peer(const posta_stream *s)
{
    return s->peer;
}

int posta_stream_fd(const posta_stream *s)
{
    return s->fd;
}

int posta_stream_wants_read(const posta_stream *s)
{
    return s->want_read;
}

int posta_stream_wants_write(const posta_stream *s)
{
    return s->want_write;
}

const char *posta_stream_errmsg(const posta_stream *s)
{
    return posta__err_msg(&s->err);
}

int posta_stream_errcode(const posta_stream *s)
{
    return s->err.code;
}

/* A fatal socket error closes the stream and says so in words. */
static long sock_failed(posta_stream *s, const char *op, int e)
{
    char why[128];
    errno_words(e, why, sizeof(why));
    close_socket(s);
    s->state = STREAM_CLOSED;
    return posta__err_set(&s->err, POSTA_EIO, "%s %s: %s", op, s->peer, why);
}

long posta__sock_read(posta_stream *s, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv(s->fd, buf, len, 0);
        if (n > 0) {
            s->want_read = 0;
            return (long)n;
        }
        if (n == 0) {
            s->want_read = 0;
            return posta__err_set(&s->err, POSTA_ECLOSED, "%s closed the connection", s->peer);
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s->want_read = 1;
            return POSTA_EAGAIN;
        }
        if (errno == ECONNRESET)
            return posta__err_set(&s->err, POSTA_ECLOSED, "%s reset the connection", s->peer);
        return sock_failed(s, "read from", errno);
    }
}

long posta__sock_write(posta_stream *s, const void *buf, size_t len)
{
    for (;;) {
        ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) {
            s->want_write = 0;
            return (long)n;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s->want_write = 1;
            return POSTA_EAGAIN;
        }
        if (errno == EPIPE || errno == ECONNRESET)
            return posta__err_set(&s->err, POSTA_ECLOSED, "%s closed the connection", s->peer);
        return sock_failed(s, "write to", errno);
    }
}

static int check_open(posta_stream *s)
{
    if (s->state != STREAM_OPEN || s->fd < 0)
        return posta__err_set(&s->err, POSTA_ESTATE, "stream is not connected");
    return 0;
}

long posta_stream_read(posta_stream *s, void *buf, size_t len)
{
    int rc = check_open(s);
    if (rc < 0)
        return rc;
    if (len == 0)
        return posta__err_set(&s->err, POSTA_EINVAL, "read of zero bytes");
    return posta__filter_read_below(s, NULL, buf, len);
}

/* The transport under everything: TLS when up, else the socket. */
static long transport_read(posta_stream *s, void *buf, size_t len)
{
    return s->tls ? posta__tls_read(s, buf, len) : posta__sock_read(s, buf, len);
}

static long transport_write(posta_stream *s, const void *buf, size_t len)
{
    return s->tls ? posta__tls_write(s, buf, len) : posta__sock_write(s, buf, len);
}

/* f == NULL means "below the caller", i.e. the top of the stack. */
static struct posta__filter *next_below(posta_stream *s, struct posta__filter *f)
{
    return f ? f->below : s->filters;
}

long posta__filter_read_below(posta_stream *s, struct posta__filter *f, void *buf, size_t len)
{
    struct posta__filter *b = next_below(s, f);
    return b ? b->ops->read(s, b, buf, len) : transport_read(s, buf, len);
}

long posta__filter_write_below(posta_stream *s, struct posta__filter *f, const void *buf, size_t len)
{
    struct posta__filter *b = next_below(s, f);
    return b ? b->ops->write(s, b, buf, len) : transport_write(s, buf, len);
}

int posta__filter_flush_below(posta_stream *s, struct posta__filter *f)
{
    for (struct posta__filter *b = next_below(s, f); b; b = b->below) {
        int rc = b->ops->flush(s, b);
        if (rc < 0)
            return rc;
    }
    return 0;
}

size_t posta__filter_pending_below(const posta_stream *s, const struct posta__filter *f)
{
    const struct posta__filter *b = f ? f->below : s->filters;
    if (b)
        return b->ops->pending(s, b);
    return s->tls ? posta__tls_pending(s) : 0;
}

int posta__stream_push_filter(posta_stream *s, const struct posta__filter_ops *ops, void *ctx)
{
    struct posta__filter *f = NULL;
    int rc = check_open(s);
    if (rc == 0 && posta_stream_pending(s) > 0)
        rc = posta__err_set(&s->err, POSTA_ESTATE,
                            "cannot start %s with unread data buffered", ops->name);
    if (rc == 0 && (rc = posta_stream_flush(s)) == POSTA_EAGAIN)
        rc = posta__err_set(&s->err, POSTA_ESTATE,
                            "cannot start %s with unsent data buffered", ops->name);
    if (rc == 0 && !(f = calloc(1, sizeof(*f))))
        rc = posta__err_set(&s->err, POSTA_ENOMEM, "out of memory");
    if (rc < 0) {
        if (ops->free)
            ops->free(ctx);
        return rc;
    }
    f->ops = ops;
    f->ctx = ctx;
    f->below = s->filters;
    s->filters = f;
    return 0;
}

int posta__stream_error(posta_stream *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    posta__err_vset(&s->err, code, fmt, ap);
    va_end(ap);
    return code;
}

const char *posta__stream_peer(const posta_stream *s)
{
    return s->peer;
}

int posta_stream_flush(posta_stream *s)
{
    int rc = check_open(s);
    return rc < 0 ? rc : posta__filter_flush_below(s, NULL);
}

long posta_stream_write(posta_stream *s, const void *buf, size_t len)
{
    int rc = check_open(s);
    if (rc < 0)
        return rc;
    if (len == 0)
        return 0;
    return posta__filter_write_below(s, NULL, buf, len);
}

size_t posta_stream_pending(const posta_stream *s)
{
    return s->fd < 0 ? 0 : posta__filter_pending_below(s, NULL);
}

static int64_t io_deadline(const posta_stream *s)
{
    return s->io_ms < 0 ? 0 : posta__now_ms() + s->io_ms;
}

static int io_timed_out(posta_stream *s, const char *op)
{
    return posta__err_set(&s->err, POSTA_ETIMEDOUT, "%s %s: timed out after %d ms", op,
                          s->peer, s->io_ms);
}

long posta_stream_read_blocking(posta_stream *s, void *buf, size_t len)
{
    int64_t deadline = io_deadline(s);
    for (;;) {
        long n = posta_stream_read(s, buf, len);
        if (n != POSTA_EAGAIN)
            return n;
        int w = posta__stream_poll(s, deadline);
        if (w == POSTA_ETIMEDOUT)
            return io_timed_out(s, "read from");
        if (w < 0)
            return w;
    }
}

int posta_stream_write_all(posta_stream *s, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    int64_t deadline = io_deadline(s);
    while (len > 0) {
        long n = posta_stream_write(s, p, len);
        if (n == POSTA_EAGAIN) {
            int w = posta__stream_poll(s, deadline);
            if (w == POSTA_ETIMEDOUT)
                return io_timed_out(s, "write to");
            if (w < 0)
                return w;
            continue;
        }
        if (n < 0)
            return (int)n;
        p += n;
        len -= (size_t)n;
        /* Progress resets the clock: the timeout is for a stalled peer. */
        deadline = io_deadline(s);
    }
    for (;;) {
        int rc = posta_stream_flush(s);
        if (rc != POSTA_EAGAIN)
            return rc;
        int w = posta__stream_poll(s, deadline);
        if (w == POSTA_ETIMEDOUT)
            return io_timed_out(s, "write to");
        if (w < 0)
            return w;
    }
}

int posta_stream_wait(posta_stream *s, int timeout_ms)
{
    if (s->fd < 0)
        return posta__err_set(&s->err, POSTA_ESTATE, "stream is not connected");
    if (posta_stream_pending(s) > 0 && !s->want_write)
        return 1;
    int rc = posta__stream_poll(s, timeout_ms < 0 ? 0 : posta__now_ms() + timeout_ms);
    if (rc == POSTA_ETIMEDOUT)
        return 0;
    return rc;
}
