/* The connection of the mail test tools: connect, TLS with verification,
 * and the line-by-line "S:"/"C:" transcript of the login phase. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mtest.h"

void mt_flush(void)
{
    fflush(stdout);
}

void mt_err(const struct mt *m, const char *fmt, ...)
{
    va_list ap;
    mt_flush();
    fprintf(stderr, "posta %s: ", m->p->tool);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int mt_prefix(const char *line, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && strncasecmp(line, prefix, n) == 0;
}

/* "host" with the port, bracketing a bare IPv6 address. */
static void target_of(const struct mt_opts *o, char *out, size_t outsz)
{
    if (strchr(o->host, ':') && o->host[0] != '[')
        snprintf(out, outsz, "[%s]:%s", o->host, o->port);
    else
        snprintf(out, outsz, "%s:%s", o->host, o->port);
}

static int set_tls_options(struct mt *m)
{
    const struct mt_opts *o = m->o;
    int rc = 0;
    if (o->cafile || o->capath)
        rc = posta_stream_set_ca(m->s, o->cafile, o->capath);
    if (rc == 0 && o->keyfile && o->keyfile[0])
        rc = posta_stream_set_client_cert(m->s, o->keyfile, NULL);
    if (rc == 0 && m->p->alpn)
        rc = posta_stream_set_alpn(m->s, m->p->alpn);
    posta_stream_set_insecure(m->s, o->insecure);
    return rc;
}

int mt_connect(struct mt *m)
{
    char target[1100];
    m->start = m->len = m->taken = 0;
    m->ext_ssf = 0;
    if (posta_stream_new(&m->s) < 0 || set_tls_options(m) < 0) {
        mt_err(m, "out of memory");
        return MT_FATAL;
    }
    posta_stream_set_timeouts(m->s, m->o->timeout_ms, m->o->timeout_ms);
    target_of(m->o, target, sizeof(target));
    if (posta_stream_connect(m->s, target, m->o->port) < 0) {
        mt_err(m, "%s", posta_stream_errmsg(m->s));
        return MT_FATAL;
    }
    return m->o->ssl ? mt_tls(m) : 0;
}

/* -v: what Cyrus shows in its own words, and what posta checked. */
static void tls_details(struct mt *m)
{
    const char *alpn = posta_stream_tls_alpn(m->s);
    printf("subject=%s, issuer=%s\n", posta_stream_tls_peer_subject(m->s),
           posta_stream_tls_peer_issuer(m->s));
    printf("certificate verification: %s\n", posta_stream_tls_verify_result(m->s));
    printf("ALPN: %s\n", alpn ? alpn : "none");
}

int mt_tls(struct mt *m)
{
    if (mt_buffered(m)) {
        mt_err(m, "%s sent %zu bytes after the TLS go-ahead and before the handshake; refusing to "
                  "continue (possible injection attack)",
               posta_stream_peer(m->s), m->len - m->start + posta_stream_pending(m->s));
        return MT_FATAL;
    }
    if (m->o->verbose)
        printf("setting up TLS connection\n");
    mt_flush();
    if (posta_stream_starttls(m->s) < 0) {
        mt_err(m, "TLS negotiation failed: %s%s", posta_stream_errmsg(m->s),
               posta_stream_errcode(m->s) == POSTA_EVERIFY ? " (--insecure connects anyway)" : "");
        return MT_FATAL;
    }
    int bits = posta_stream_tls_bits(m->s);
    m->ext_ssf = bits > 0 ? (unsigned)bits : 0;
    printf("TLS connection established: %s with cipher %s (%d/%d bits)\n", posta_stream_tls_version(m->s),
           posta_stream_tls_cipher(m->s), bits, bits);
    if (!posta_stream_tls_verified(m->s))
        printf("TLS certificate NOT VERIFIED (--insecure was given): %s\n", posta_stream_tls_verify_result(m->s));
    if (m->o->verbose)
        tls_details(m);
    return 0;
}


/* Drop the line taken last and make room at the end. */
static void compact(struct mt *m)
{
    memmove(m->buf, m->buf + m->start, m->len - m->start);
    m->len -= m->start;
    m->start = 0;
}

static int read_more(struct mt *m)
{
    mt_flush();
    long n = posta_stream_read_blocking(m->s, m->buf + m->len, sizeof(m->buf) - m->len);
    if (n > 0) {
        m->len += (size_t)n;
        return 0;
    }
    if (n == POSTA_ECLOSED)
        mt_err(m, "the server closed the connection");
    else
        mt_err(m, "%s", posta_stream_errmsg(m->s));
    return MT_FATAL;
}

/* Forget the line handed out last. */
static void consume(struct mt *m)
{
    m->start += m->taken;
    m->taken = 0;
}

int mt_getline(struct mt *m, const char **line_r, size_t *len_r)
{
    consume(m);
    for (;;) {
        char *nl = memchr(m->buf + m->start, '\n', m->len - m->start);
        if (nl) {
            *line_r = m->buf + m->start;
            *len_r = m->taken = (size_t)(nl - *line_r) + 1;
            m->line = *line_r;
            m->line_len = *len_r;
            return 0;
        }
        compact(m);
        if (m->len == sizeof(m->buf)) {
            mt_err(m, "server line longer than %zu bytes", sizeof(m->buf));
            return MT_FATAL;
        }
        if (read_more(m) < 0)
            return MT_FATAL;
    }
}

int mt_getline_show(struct mt *m, const char **line_r, size_t *len_r)
{
    int rc = mt_getline(m, line_r, len_r);
    if (rc == 0) {
        fputs("S: ", stdout);
        fwrite(*line_r, 1, *len_r, stdout);
    }
    return rc;
}

int mt_write(struct mt *m, const void *data, size_t len)
{
    if (posta_stream_write_all(m->s, data, len) < 0) {
        mt_err(m, "%s", posta_stream_errmsg(m->s));
        return MT_FATAL;
    }
    return 0;
}

int mt_send(struct mt *m, const char *line, const char *shown)
{
    char out[4096];
    int n = snprintf(out, sizeof(out), "%s\r\n", line);
    if (n < 0 || (size_t)n >= sizeof(out)) {
        mt_err(m, "command too long");
        return MT_FATAL;
    }
    printf("C: %s\r\n", shown ? shown : line);
    return mt_write(m, out, (size_t)n);
}

int mt_wait_for(struct mt *m, const char *prefix, const char *prefix2, int echo,
                const char **line_r, size_t *len_r)
{
    for (;;) {
        int rc = echo ? mt_getline_show(m, line_r, len_r) : mt_getline(m, line_r, len_r);
        if (rc < 0)
            return rc;
        if (mt_prefix(*line_r, *len_r, prefix) || (prefix2 && mt_prefix(*line_r, *len_r, prefix2)))
            return 0;
    }
}

int mt_buffered(struct mt *m)
{
    consume(m);
    return m->len > m->start || posta_stream_pending(m->s) > 0;
}

size_t mt_take_buffered(struct mt *m, const char **data_r)
{
    consume(m);
    *data_r = m->buf + m->start;
    size_t n = m->len - m->start;
    m->start = m->len = 0;
    return n;
}
