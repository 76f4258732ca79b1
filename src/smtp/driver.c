/* The SMTP driver: the session handle and its options, and the binding of
 * the engine to a posta_stream (connect, implicit TLS and STARTTLS, reads
 * and writes, timeouts), driven blocking, one step at a time, or from the
 * caller's event loop. */
#include "smtp_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/net.h"

#define RBUF_SIZE (16u * 1024u)
/* Reads and writes per call: fairness for loops running many sessions. */
#define STEPS_PER_CALL 32

static const int default_timeouts[8] = {
    [POSTA_SMTP_TIMEOUT_CONNECT] = 30000,  [POSTA_SMTP_TIMEOUT_GREETING] = 300000,
    [POSTA_SMTP_TIMEOUT_MAIL] = 300000,    [POSTA_SMTP_TIMEOUT_RCPT] = 300000,
    [POSTA_SMTP_TIMEOUT_DATA] = 120000,    [POSTA_SMTP_TIMEOUT_BLOCK] = 180000,
    [POSTA_SMTP_TIMEOUT_DOT] = 600000,     [POSTA_SMTP_TIMEOUT_COMMAND] = 300000,
};

/* --- lifetime ------------------------------------------------------------------- */

static void destroy(posta_smtp *h);

void smtp_enter(posta_smtp *h)
{
    h->depth++;
}

int smtp_leave(posta_smtp *h, int rc)
{
    if (--h->depth == 0 && h->free_pending)
        destroy(h);
    return rc;
}

int posta_smtp_new(posta_smtp **h_r, const posta_smtp_callbacks *callbacks, void *user)
{
    *h_r = NULL;
    int rc = posta_init();
    if (rc < 0)
        return rc;
    posta_smtp *h = calloc(1, sizeof(*h));
    if (!h)
        return POSTA_ENOMEM;
    if (callbacks)
        h->cb = *callbacks;
    h->cb_user = user;
    memcpy(h->timeouts, default_timeouts, sizeof(h->timeouts));
    h->pipelining_on = h->chunking_on = h->auth_required = h->pipe_txns = 1;
    h->chunk_size = 65536;
    h->header_limit = 262144;
    smtp_rparser_init(&h->rp);
    posta__buf_init(&h->out, 0);
    posta__buf_init(&h->mon, 0);
    posta__buf_init(&h->ehlo, SMTP_REPLY_MAX_TOTAL + 1024);
    h->rbuf = malloc(RBUF_SIZE);
    h->server = strdup("localhost");
    rc = h->rbuf && h->server ? posta_stream_new(&h->stream) : POSTA_ENOMEM;
    if (rc < 0) {
        destroy(h);
        return rc;
    }
    *h_r = h;
    return 0;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

static void destroy(posta_smtp *h)
{
    h->depth++;
    h->free_pending = 1;
    if (h->running) {
        posta__err_set(&h->err, POSTA_ECANCELED, "the session was freed");
        smtp_conn_end(h, POSTA_ECANCELED, NULL);
        smtp_run_finish(h, POSTA_ECANCELED);
    }
    for (posta_smtp_message *m = h->msgs; m;) {
        posta_smtp_message *n = m->next;
        smtp_message_free(m);
        m = n;
    }
    for (posta_smtp_etrn *e = h->etrns; e;) {
        posta_smtp_etrn *n = e->next;
        smtp_etrn_free(e);
        e = n;
    }
    posta_sasl_free(h->sasl);
    posta_stream_free(h->stream);
    posta_stream_free(h->attached);
    smtp_rparser_free(&h->rp);
    posta__buf_free(&h->out);
    posta__buf_free(&h->mon);
    posta__buf_free(&h->ehlo);
    free(h->exp);
    free(h->rbuf);
    free(h->server);
    free(h->hostname);
    free(h->greeting);
    free(h->auth_user);
    wipe_free(h->auth_pass);
    free(h->auth_mechs);
    free(h);
}

void posta_smtp_free(posta_smtp *h)
{
    if (!h)
        return;
    if (h->depth > 0) {
        h->free_pending = 1;
        return;
    }
    destroy(h);
}

/* --- options ------------------------------------------------------------------------- */

void posta_smtp_set_callbacks(posta_smtp *h, const posta_smtp_callbacks *callbacks, void *user)
{
    memset(&h->cb, 0, sizeof(h->cb));
    if (callbacks)
        h->cb = *callbacks;
    h->cb_user = user;
}

void posta_smtp_set_monitor_headers(posta_smtp *h, int on)
{
    h->monitor_headers = on != 0;
}

posta_stream *posta_smtp_stream(posta_smtp *h)
{
    return h->stream;
}

static int not_running(posta_smtp *h)
{
    return h->running ? smtp_err(h, POSTA_ESTATE, "a run is under way") : 0;
}

static int replace_str(posta_smtp *h, char **dst, const char *src)
{
    char *c = src ? strdup(src) : NULL;
    if (src && !c)
        return smtp_err(h, POSTA_ENOMEM, "out of memory");
    free(*dst);
    *dst = c;
    return 0;
}

static int printable_word(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 32 || (unsigned char)*s >= 127)
            return 0;
    return 1;
}

int posta_smtp_set_server(posta_smtp *h, const char *target)
{
    int rc = not_running(h);
    if (rc < 0)
        return rc;
    if (!target || !target[0] || strpbrk(target, "\r\n"))
        return smtp_err(h, POSTA_EINVAL, "no usable server given");
    return replace_str(h, &h->server, target);
}

int posta_smtp_set_hostname(posta_smtp *h, const char *fqdn)
{
    if (fqdn && (!printable_word(fqdn) || strlen(fqdn) > 255))
        return smtp_err(h, POSTA_EINVAL, "an EHLO name is a domain or an address literal "
                        "without spaces or controls");
    return replace_str(h, &h->hostname, fqdn);
}

int posta_smtp_set_lmtp(posta_smtp *h, int on)
{
    int rc = not_running(h);
    if (rc == 0)
        h->lmtp = on != 0;
    return rc;
}

int posta_smtp_set_tls(posta_smtp *h, posta_smtp_tls mode)
{
    if ((unsigned)mode > POSTA_SMTP_TLS_IMPLICIT)
        return smtp_err(h, POSTA_EINVAL, "unknown TLS mode %d", (int)mode);
    h->tls = mode;
    return 0;
}

int posta_smtp_attach(posta_smtp *h, posta_stream *s)
{
    int rc = not_running(h);
    if (rc == 0 && !s)
        rc = smtp_err(h, POSTA_EINVAL, "no stream given");
    if (rc < 0) {
        posta_stream_free(s);
        return rc;
    }
    posta_stream_free(h->attached);
    h->attached = s;
    return 0;
}

int posta_smtp_set_timeout(posta_smtp *h, posta_smtp_timeout which, int ms)
{
    if ((unsigned)which > POSTA_SMTP_TIMEOUT_COMMAND)
        return smtp_err(h, POSTA_EINVAL, "unknown timeout %d", (int)which);
    int old = h->timeouts[which];
    h->timeouts[which] = ms < 0 ? -1 : ms;
    return old;
}

void posta_smtp_set_require_all_recipients(posta_smtp *h, int on)
{
    h->require_all = on != 0;
}

void posta_smtp_set_pipelining(posta_smtp *h, int on)
{
    h->pipelining_on = on != 0;
}

void posta_smtp_set_pipeline_transactions(posta_smtp *h, int on)
{
    h->pipe_txns = on != 0;
}

void posta_smtp_set_chunking(posta_smtp *h, int on)
{
    h->chunking_on = on != 0;
}

int posta_smtp_set_chunk_size(posta_smtp *h, size_t octets)
{
    if (octets < 512 || octets > 16u * 1024u * 1024u)
        return smtp_err(h, POSTA_EINVAL, "chunk size must be 512 .. 16 MiB");
    h->chunk_size = octets;
    return 0;
}

int posta_smtp_set_header_limit(posta_smtp *h, size_t octets)
{
    if (octets < 1024)
        return smtp_err(h, POSTA_EINVAL, "the header limit must be at least 1024 octets");
    h->header_limit = octets;
    return 0;
}

int posta_smtp_set_auth(posta_smtp *h, const char *authcid, const char *password,
                        const char *mechanisms)
{
    if ((authcid && strpbrk(authcid, "\r\n")) || (password && strpbrk(password, "\r\n")))
        return smtp_err(h, POSTA_EINVAL, "CR and LF are not allowed in credentials");
    char *u = authcid ? strdup(authcid) : NULL;
    char *p = authcid && password ? strdup(password) : NULL;
    char *m = authcid && mechanisms ? strdup(mechanisms) : NULL;
    if ((authcid && !u) || (authcid && password && !p) || (authcid && mechanisms && !m)) {
        free(u);
        wipe_free(p);
        free(m);
        return smtp_err(h, POSTA_ENOMEM, "out of memory");
    }
    free(h->auth_user);
    wipe_free(h->auth_pass);
    free(h->auth_mechs);
    h->auth_user = u;
    h->auth_pass = p;
    h->auth_mechs = m;
    h->sasl_fn = NULL;
    return 0;
}

void posta_smtp_set_sasl_factory(posta_smtp *h, posta_smtp_sasl_fn fn, void *user)
{
    if (fn)
        posta_smtp_set_auth(h, NULL, NULL, NULL);   /* one way to authenticate */
    h->sasl_fn = fn;
    h->sasl_user = user;
}

void posta_smtp_set_allow_cleartext_auth(posta_smtp *h, int allow)
{
    h->allow_cleartext_auth = allow != 0;
}

void posta_smtp_set_auth_required(posta_smtp *h, int required)
{
    h->auth_required = required != 0;
}

posta_sasl *posta_smtp_sasl(posta_smtp *h)
{
    return h->sasl;
}

const char *posta_smtp_errmsg(const posta_smtp *h)
{
    return posta__err_msg(&h->err);
}

int posta_smtp_errcode(const posta_smtp *h)
{
    return h->err.code;
}

const char *posta_smtp_greeting(const posta_smtp *h)
{
    return h->greeting ? h->greeting : "";
}

void *posta_smtp_set_user(posta_smtp *h, void *user)
{
    void *old = h->app_user;
    h->app_user = user;
    return old;
}

void *posta_smtp_get_user(const posta_smtp *h)
{
    return h->app_user;
}

/* --- connecting ---------------------------------------------------------------------- */

void smtp_io_close(posta_smtp *h)
{
    if (h->stream)
        posta_stream_close(h->stream);
    posta__buf_reset(&h->out);
    posta__buf_reset(&h->mon);
    h->pause_tls = h->pause_layer = 0;
}

/* The port of "host:port" / "[v6]:port"; NULL when none. */
static const char *target_port(const char *t)
{
    const char *c = t[0] == '[' ? strchr(t, ']') : t;
    if (!c)
        return NULL;
    c = strrchr(c, ':');
    if (!c || (t[0] != '[' && strchr(t, ':') != c))
        return NULL;
    return c + 1;
}

static const char *unix_path(const char *t)
{
    if (strncmp(t, "unix:", 5) == 0)
        return t + 5;
    return t[0] == '/' ? t : NULL;
}

static int connect_unix(posta_smtp *h, const char *path)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof(sa.sun_path))
        return smtp_err(h, POSTA_EINVAL, "UNIX socket path too long: %s", path);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return smtp_err(h, POSTA_EIO, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return smtp_err(h, POSTA_ECONNECT, "connect %s: %s", path, strerror(e));
    }
    int rc = posta_stream_attach_fd(h->stream, fd, path);
    if (rc < 0) {
        close(fd);
        return smtp_err(h, rc, "%s", posta_stream_errmsg(h->stream));
    }
    return 0;
}

static int implicit_port(const char *port)
{
    return port && (strcmp(port, "465") == 0 || strcasecmp(port, "smtps") == 0 ||
                    strcasecmp(port, "submissions") == 0);
}

/* The EHLO name: the caller's, else a name with a dot, else the address
 * literal of our end of the connection (RFC 5321 4.1.4). */
static void choose_ehlo_name(posta_smtp *h)
{
    if (h->hostname) {
        snprintf(h->ehlo_name, sizeof(h->ehlo_name), "%s", h->hostname);
        return;
    }
    char name[256];
    if (gethostname(name, sizeof(name)) == 0 && (name[sizeof(name) - 1] = '\0', strchr(name, '.'))) {
        snprintf(h->ehlo_name, sizeof(h->ehlo_name), "%s", name);
        return;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char ip[INET6_ADDRSTRLEN] = "127.0.0.1";
    if (getsockname(posta_stream_fd(h->stream), (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof(ip));
            snprintf(h->ehlo_name, sizeof(h->ehlo_name), "[IPv6:%s]", ip);
            return;
        }
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
    }
    snprintf(h->ehlo_name, sizeof(h->ehlo_name), "[%s]", ip);
}

static void reset_connection(posta_smtp *h)
{
    smtp_rparser_reset(&h->rp);
    posta__buf_reset(&h->out);
    posta__buf_reset(&h->mon);
    h->exp_n = h->exp_head = 0;
    h->pause_tls = h->pause_layer = 0;
    free(h->greeting);
    h->greeting = NULL;
    h->greeted = 0;
    h->esmtp = 0;
    h->ext = 0;
    posta__buf_reset(&h->ehlo);
    h->size_limit = 0;
    h->rcptmax = h->mailmax = 0;
    h->did_tls = h->tls_refused = h->helo_tried = h->authed = 0;
    h->ntxn = 0;
    h->local = 0;
    h->conn_gen++;
    h->io_mark = posta__now_ms();
}

int smtp_connect(posta_smtp *h)
{
    reset_connection(h);
    h->pre_connected = 0;
    if (h->cs == CS_CLOSED || h->cs == CS_IDLE)
        smtp_set_cs(h, CS_CONNECTING);
    if (h->attached) {
        posta_stream_free(h->stream);
        h->stream = h->attached;
        h->attached = NULL;
        h->pre_connected = 1;
        h->implicit = h->tls == POSTA_SMTP_TLS_IMPLICIT && !posta_stream_tls_active(h->stream);
        return 0;
    }
    posta_stream_close(h->stream);
    const char *path = unix_path(h->server);
    if (path) {
        h->implicit = h->tls == POSTA_SMTP_TLS_IMPLICIT;
        int rc = connect_unix(h, path);
        h->local = 1;
        h->pre_connected = 1;
        return rc;
    }
    const char *port = target_port(h->server);
    h->implicit = h->tls == POSTA_SMTP_TLS_IMPLICIT ||
                  (h->tls != POSTA_SMTP_TLS_DISABLED && implicit_port(port));
    posta_stream_set_timeouts(h->stream, h->timeouts[POSTA_SMTP_TIMEOUT_CONNECT],
                              h->timeouts[POSTA_SMTP_TIMEOUT_COMMAND]);
    int rc = posta_stream_connect_start(h->stream, h->server,
                                        h->implicit ? "465" : h->lmtp ? "24" : "587");
    if (rc < 0 && rc != POSTA_EAGAIN)
        return smtp_err(h, rc, "%s", posta_stream_errmsg(h->stream));
    return 0;
}

/* --- the transport ------------------------------------------------------------------- */

static int alive(const posta_smtp *h, unsigned gen)
{
    return !h->free_pending && h->conn_gen == gen && h->cs != CS_CLOSED && h->cs != CS_IDLE;
}

static int stream_failed(posta_smtp *h, int rc)
{
    /* Hanging up once QUIT is the only thing unanswered is how many servers
     * end; with replies still due it is a failure. */
    if (rc == POSTA_ECLOSED && h->cs == CS_QUIT &&
        (h->exp_n == 0 || (h->exp_n == 1 && h->exp[h->exp_head].kind == XK_QUIT))) {
        smtp_conn_end(h, h->run_error, NULL);   /* hung up after QUIT: fine */
        return 0;
    }
    if (rc == POSTA_ECLOSED)
        smtp_conn_end(h, rc, "%s closed the connection while posta waited for %s", smtp_peer(h),
                      smtp_waiting_for(h));
    else
        smtp_conn_end(h, rc, "%s", posta_stream_errmsg(h->stream));
    return rc;
}

static void tls_progress(posta_smtp *h, int rc)
{
    if (rc == POSTA_EAGAIN)
        return;
    if (rc < 0) {
        const char *why = posta_stream_errmsg(h->stream);
        posta_smtp_event ev = {.type = POSTA_SMTP_EV_TLS_FAILED, .error = rc, .name = why};
        smtp_emit(h, &ev);
        smtp_conn_end(h, rc, "TLS with %s failed: %s", smtp_peer(h), why);
        return;
    }
    h->io_mark = posta__now_ms();
    smtp_tls_done(h);
    smtp_pump(h);
}

static void start_tls(posta_smtp *h)
{
    smtp_set_cs(h, CS_TLS);
    h->io_mark = posta__now_ms();
    tls_progress(h, posta_stream_tls_start(h->stream));
}

static void transport_ready(posta_smtp *h)
{
    choose_ehlo_name(h);
    if (h->implicit && !posta_stream_tls_active(h->stream)) {
        start_tls(h);
        return;
    }
    if (posta_stream_tls_active(h->stream))
        h->did_tls = 1;
    smtp_begin_session(h);
}

static void connect_step(posta_smtp *h)
{
    int rc = h->pre_connected ? 0 : posta_stream_connect_continue(h->stream);
    if (rc == POSTA_EAGAIN)
        return;
    if (rc < 0) {
        smtp_conn_end(h, rc, "%s", posta_stream_errmsg(h->stream));
        return;
    }
    transport_ready(h);
}

/* Bytes after STARTTLS's 220 (or AUTH's 235 when a security layer
 * follows) come from whoever sits on the path, not from the server we are
 * about to trust (the STARTTLS command injection attacks). */
static void transport_switch(posta_smtp *h, size_t left)
{
    size_t extra = left + smtp_rparser_buffered(&h->rp) + posta_stream_pending(h->stream);
    int tls = h->pause_tls;
    if (extra > 0) {
        smtp_conn_end(h, POSTA_EPROTO, "%s sent %zu bytes after %s, before the %s began: "
                      "injected data (or a broken server); refusing to continue", smtp_peer(h),
                      extra, tls ? "STARTTLS's 220" : "AUTH's 235",
                      tls ? "TLS handshake" : "security layer");
        return;
    }
    h->pause_tls = 0;
    if (tls)
        start_tls(h);
    else
        smtp_install_layer(h);
    smtp_pump(h);
}

static void do_read(posta_smtp *h)
{
    unsigned gen = h->conn_gen;
    for (int i = 0; i < STEPS_PER_CALL && alive(h, gen); i++) {
        long n = posta_stream_read(h->stream, h->rbuf, RBUF_SIZE);
        if (n == POSTA_EAGAIN)
            return;
        if (n < 0) {
            stream_failed(h, (int)n);
            return;
        }
        h->io_mark = posta__now_ms();
        smtp_monitor(h, (const char *)h->rbuf, (size_t)n, POSTA_SMTP_MON_READ);
        size_t off = 0;
        while (off < (size_t)n && alive(h, gen)) {
            int done;
            long used = smtp_rparser_feed(&h->rp, h->rbuf + off, (size_t)n - off, &done);
            if (used < 0) {
                if (used == POSTA_ENOMEM)
                    smtp_conn_end(h, (int)used, "out of memory reading a reply from %s", smtp_peer(h));
                else
                    smtp_conn_end(h, (int)used, "%s sent a bad reply: %s", smtp_peer(h), h->rp.err);
                return;
            }
            off += (size_t)used;
            if (!done)
                continue;
            smtp_on_reply(h, &h->rp.r);
            if (alive(h, gen) && (h->pause_tls || h->pause_layer)) {
                transport_switch(h, (size_t)n - off);
                return;
            }
        }
    }
}

static void flush_monitor(posta_smtp *h)
{
    size_t n = posta__buf_used(&h->mon);
    if (n == 0)
        return;
    /* Copy out: the callback may queue more. */
    char *copy = malloc(n);
    if (copy) {
        memcpy(copy, posta__buf_head(&h->mon), n);
        posta__buf_reset(&h->mon);
        smtp_monitor(h, copy, n, POSTA_SMTP_MON_WRITE);
        free(copy);
    } else {
        posta__buf_reset(&h->mon);
    }
}

static void do_write(posta_smtp *h)
{
    unsigned gen = h->conn_gen;
    for (int i = 0; i < STEPS_PER_CALL && alive(h, gen); i++) {
        if (posta__buf_used(&h->out) == 0) {
            smtp_pump(h);
            if (!alive(h, gen) || posta__buf_used(&h->out) == 0)
                break;
        }
        flush_monitor(h);
        long n = posta_stream_write(h->stream, posta__buf_head(&h->out), posta__buf_used(&h->out));
        if (n == POSTA_EAGAIN)
            return;
        if (n < 0) {
            stream_failed(h, (int)n);
            return;
        }
        h->io_mark = posta__now_ms();
        posta__buf_consume(&h->out, (size_t)n);
    }
    if (!alive(h, gen))
        return;
    int rc = posta_stream_flush(h->stream);
    if (rc < 0 && rc != POSTA_EAGAIN)
        stream_failed(h, rc);
}

/* --- driving -------------------------------------------------------------------------- */

static int talking(const posta_smtp *h)
{
    return h->cs >= CS_GREETING && h->cs <= CS_QUIT && h->cs != CS_TLS;
}

static void readable(posta_smtp *h)
{
    if (h->cs == CS_CONNECTING)
        connect_step(h);
    else if (h->cs == CS_TLS)
        tls_progress(h, posta_stream_tls_continue(h->stream));
    else if (talking(h))
        do_read(h);
}

static void writable(posta_smtp *h)
{
    if (h->cs == CS_CONNECTING)
        connect_step(h);
    else if (h->cs == CS_TLS)
        tls_progress(h, posta_stream_tls_continue(h->stream));
    else if (talking(h))
        do_write(h);
}

static void timeouts(posta_smtp *h)
{
    if (h->cs == CS_CONNECTING) {
        connect_step(h);   /* the stream moves to the next address itself */
        return;
    }
    if (talking(h) && posta_stream_pending(h->stream) > 0) {
        do_read(h);
        return;
    }
    int64_t d = smtp_deadline(h);
    if (d && posta__now_ms() >= d && h->running)
        smtp_conn_end(h, POSTA_ETIMEDOUT, "%s did not answer in time (waiting for %s)",
                      smtp_peer(h), smtp_waiting_for(h));
}

int posta_smtp_fd(const posta_smtp *h)
{
    return h->running ? posta_stream_fd(h->stream) : -1;
}

int posta_smtp_wants_write(const posta_smtp *h)
{
    if (!h->running)
        return 0;
    if (h->cs == CS_CONNECTING)
        return 1;
    if (h->cs == CS_TLS)
        return posta_stream_wants_write(h->stream);
    if (posta__buf_used(&h->out) > 0 || posta_stream_wants_write(h->stream))
        return 1;
    const struct smtp_txn *t = h->producer;
    return t && !(t->bdat && (t->failed || t->bdat_wait));
}

int posta_smtp_next_timeout_ms(const posta_smtp *h)
{
    if (!h->running)
        return -1;
    /* Bytes already decrypted (TLS, a SASL layer) do not make the socket
     * readable: ask to be called at once; on_timeout reads them. */
    if (talking(h) && posta_stream_pending(h->stream) > 0)
        return 0;
    int64_t d;
    if (h->cs == CS_CONNECTING)
        d = h->pre_connected ? posta__now_ms() : h->stream->deadline;
    else
        d = smtp_deadline(h);
    if (!d)
        return -1;
    int64_t left = d - posta__now_ms();
    return left < 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* Run fn for one readiness event; the error that ended the run in it, or 0. */
static int guarded(posta_smtp *h, void (*fn)(posta_smtp *))
{
    smtp_enter(h);
    unsigned fin = h->finished;
    if (h->running)
        fn(h);
    int rc = h->finished != fin ? h->last_code : 0;
    return smtp_leave(h, rc);
}

int posta_smtp_on_readable(posta_smtp *h)
{
    return guarded(h, readable);
}

int posta_smtp_on_writable(posta_smtp *h)
{
    return guarded(h, writable);
}

int posta_smtp_on_timeout(posta_smtp *h)
{
    return guarded(h, timeouts);
}

static void step(posta_smtp *h, int timeout_ms)
{
    int wait = posta_smtp_next_timeout_ms(h);
    if (timeout_ms >= 0 && (wait < 0 || timeout_ms < wait))
        wait = timeout_ms;
    if (talking(h) && posta_smtp_wants_write(h)) {
        writable(h);
        if (!h->running || h->free_pending)
            return;
        wait = 0;   /* what the write made due is looked at right away */
        if (posta_smtp_wants_write(h))
            wait = posta_smtp_next_timeout_ms(h);
        if (timeout_ms >= 0 && (wait < 0 || timeout_ms < wait))
            wait = timeout_ms;
    }
    struct pollfd pfd = {.fd = posta_stream_fd(h->stream), .events = POLLIN};
    if (posta_smtp_wants_write(h))
        pfd.events |= POLLOUT;
    if (h->cs == CS_CONNECTING && !h->pre_connected)
        pfd.events = POLLOUT;
    int n = pfd.fd >= 0 ? poll(&pfd, 1, wait) : 0;
    if (n < 0 && errno != EINTR) {
        smtp_conn_end(h, POSTA_EIO, "poll: %s", strerror(errno));
        return;
    }
    if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
        readable(h);
    if (n > 0 && (pfd.revents & POLLOUT) && h->running && !h->free_pending)
        writable(h);
    if (h->running && !h->free_pending)
        timeouts(h);
}

int posta_smtp_process(posta_smtp *h, int timeout_ms)
{
    if (h->cb_depth > 0)
        return smtp_err(h, POSTA_ESTATE, "posta_smtp_process called inside a callback");
    smtp_enter(h);
    unsigned fin = h->finished;
    if (h->running)
        step(h, timeout_ms);
    int rc = h->finished != fin ? h->last_code : 0;
    return smtp_leave(h, rc);
}

int posta_smtp_run_start(posta_smtp *h, posta_smtp_done_fn done, void *user)
{
    if (h->running || h->free_pending)
        return smtp_err(h, POSTA_ESTATE, "a run is already under way");
    int work = 0;
    for (posta_smtp_message *m = h->msgs; m; m = m->next) {
        m->cursor = NULL;
        m->in_run = smtp_msg_needs_run(m);
        m->cursor = m->rcpts;
        work |= m->in_run;
    }
    for (posta_smtp_etrn *n = h->etrns; n; n = n->next)
        work |= !st_final(&n->st);
    if (!work)
        return smtp_err(h, POSTA_ENOTFOUND, "nothing to send: every message and recipient is "
                        "complete");
    h->run_gen++;
    h->run_error = 0;
    h->quit_req = h->restart = 0;
    h->cursor = h->msgs;
    h->etrn_cursor = h->etrns;
    posta__err_clear(&h->err);
    int rc = smtp_connect(h);
    if (rc < 0) {
        if (h->cs == CS_CONNECTING)
            smtp_set_cs(h, CS_CLOSED);
        if (h->cs == CS_CLOSED)
            smtp_set_cs(h, CS_IDLE);
        for (posta_smtp_message *m = h->msgs; m; m = m->next)
            m->in_run = 0;
        return rc;
    }
    h->done = done;
    h->done_user = user;
    h->running = 1;
    return 0;
}

struct blocking {
    int done;
    int code;
};

static void blocking_done(posta_smtp *h, int error, void *user)
{
    (void)h;
    struct blocking *b = user;
    b->done = 1;
    b->code = error;
}

int posta_smtp_run(posta_smtp *h)
{
    if (h->cb_depth > 0)
        return smtp_err(h, POSTA_ESTATE, "blocking call inside a callback");
    struct blocking b = {0, 0};
    int rc = posta_smtp_run_start(h, blocking_done, &b);
    if (rc < 0)
        return rc;
    smtp_enter(h);
    while (!b.done && !h->free_pending)
        step(h, -1);
    if (!b.done)
        b.code = POSTA_ECANCELED;
    return smtp_leave(h, b.code);
}
