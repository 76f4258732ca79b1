/* The SASL tests' blocking line-protocol client: the minimum of IMAP, SMTP
 * and POP3 needed to reach AUTH, then the exchange as an engine drives it. */
#include "driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "t.h"

int drv_read_line(struct drv *d)
{
    for (;;) {
        char *nl = memchr(d->in, '\n', d->inlen);
        if (nl) {
            size_t n = (size_t)(nl - d->in) + 1, l = n - 1;
            if (l > 0 && d->in[l - 1] == '\r')
                l--;
            if (l >= sizeof(d->line))
                l = sizeof(d->line) - 1;
            memcpy(d->line, d->in, l);
            d->line[l] = '\0';
            d->len = l;
            memmove(d->in, d->in + n, d->inlen - n);
            d->inlen -= n;
            return 0;
        }
        if (d->inlen == sizeof(d->in))
            return POSTA_ELIMIT;
        long r = posta_stream_read_blocking(d->st, d->in + d->inlen, sizeof(d->in) - d->inlen);
        if (r < 0) {
            fprintf(stderr, "driver: read: %s\n", posta_stream_errmsg(d->st));
            return (int)r;
        }
        d->inlen += (size_t)r;
    }
}

int drv_send(struct drv *d, const char *p, size_t n)
{
    if (d->nsent + n < sizeof(d->sent)) {
        memcpy(d->sent + d->nsent, p, n);
        d->nsent += n;
        d->sent[d->nsent] = '\0';
    }
    int rc = posta_stream_write_all(d->st, p, n);
    if (rc < 0)
        fprintf(stderr, "driver: write: %s\n", posta_stream_errmsg(d->st));
    return rc;
}

int drv_command(struct drv *d, const char *line, size_t n)
{
    if (d->proto == POSTA_SASL_IMAP) {
        char tag[16];
        int tn = snprintf(tag, sizeof(tag), "A%d ", ++d->tag);
        int rc = drv_send(d, tag, (size_t)tn);
        if (rc < 0)
            return rc;
    }
    return drv_send(d, line, n);
}

/* Is d->line the final reply to the current command?  *ok_r: success. */
static int final_reply(struct drv *d, int *ok_r)
{
    char tag[16];
    switch (d->proto) {
    case POSTA_SASL_IMAP:
        snprintf(tag, sizeof(tag), "A%d ", d->tag);
        if (strncmp(d->line, tag, strlen(tag)) != 0)
            return 0;
        *ok_r = strncmp(d->line + strlen(tag), "OK", 2) == 0;
        return 1;
    case POSTA_SASL_SMTP:
        if (d->len < 3 || d->line[3] == '-')
            return 0;
        *ok_r = d->line[0] == '2' || d->line[0] == '3';
        return 1;
    default:
        *ok_r = strncmp(d->line, "+OK", 3) == 0;
        return *ok_r || strncmp(d->line, "-ERR", 4) == 0;
    }
}

int drv_simple(struct drv *d, const char *cmd)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%s\r\n", cmd), ok = 0, rc;
    if ((rc = drv_command(d, buf, (size_t)n)) < 0)
        return rc;
    do {
        if ((rc = drv_read_line(d)) < 0)
            return rc;
    } while (!final_reply(d, &ok));
    return ok ? 0 : POSTA_ENO;
}

static void caps_add(struct drv *d, const char *name, size_t n)
{
    size_t used = strlen(d->caps);
    if (used + n + 2 < sizeof(d->caps))
        snprintf(d->caps + used, sizeof(d->caps) - used, "%s%.*s", used ? " " : "", (int)n, name);
}

/* The words of a line from start on, each handed to caps_add (IMAP keeps
 * only AUTH=... and notes SASL-IR). */
static void scan_words(struct drv *d, const char *p)
{
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ]");
        if (d->proto != POSTA_SASL_IMAP)
            caps_add(d, p, n);
        else if (n > 5 && strncasecmp(p, "AUTH=", 5) == 0)
            caps_add(d, p + 5, n - 5);
        else if (n == 7 && strncasecmp(p, "SASL-IR", 7) == 0)
            d->sasl_ir = 1;
        p += n;
        if (*p == ']')
            break;
    }
}

static int capabilities(struct drv *d)
{
    int rc, ok;
    d->caps[0] = '\0';
    d->sasl_ir = 0;
    d->caps_known = 1;
    switch (d->proto) {
    case POSTA_SASL_IMAP:
        if ((rc = drv_command(d, "CAPABILITY\r\n", 12)) < 0)
            return rc;
        do {
            if ((rc = drv_read_line(d)) < 0)
                return rc;
            if (strncmp(d->line, "* CAPABILITY ", 13) == 0)
                scan_words(d, d->line + 13);
        } while (!final_reply(d, &ok));
        return ok ? 0 : POSTA_ENO;
    case POSTA_SASL_SMTP:
        if ((rc = drv_command(d, "EHLO posta.test\r\n", 17)) < 0)
            return rc;
        do {
            if ((rc = drv_read_line(d)) < 0)
                return rc;
            if (d->len > 9 && strncasecmp(d->line + 4, "AUTH ", 5) == 0)
                scan_words(d, d->line + 9);
        } while (!final_reply(d, &ok));
        return ok ? 0 : POSTA_ENO;
    default:
        if ((rc = drv_simple(d, "CAPA")) < 0)
            return rc;
        for (;;) {
            if ((rc = drv_read_line(d)) < 0)
                return rc;
            if (strcmp(d->line, ".") == 0)
                return 0;
            if (strncasecmp(d->line, "SASL ", 5) == 0)
                scan_words(d, d->line + 5);
        }
    }
}

static int greeting(struct drv *d)
{
    int rc, ok = 0;
    do {
        if ((rc = drv_read_line(d)) < 0)
            return rc;
        if (d->proto == POSTA_SASL_IMAP)
            break;
    } while (!final_reply(d, &ok));
    snprintf(d->greeting, sizeof(d->greeting), "%.1000s", d->line);
    return 0;
}

static int starttls(struct drv *d)
{
    static const char *cmd[] = {[POSTA_SASL_IMAP] = "STARTTLS", [POSTA_SASL_SMTP] = "STARTTLS",
                                [POSTA_SASL_POP3] = "STLS"};
    int rc = drv_simple(d, cmd[d->proto]);
    if (rc == 0 && (rc = posta_stream_starttls(d->st)) < 0)
        fprintf(stderr, "driver: starttls: %s\n", posta_stream_errmsg(d->st));
    return rc;
}

int drv_open(struct drv *d, posta_sasl_proto proto, const char *host, const char *port,
             enum drv_tls tls)
{
    memset(d, 0, sizeof(*d));
    d->proto = proto;
    int rc = posta_stream_new(&d->st);
    if (rc < 0)
        return rc;
    posta_stream_set_timeouts(d->st, 10000, 10000);
    const char *ca = t_env_opt("CA_FILE");
    if (ca)
        posta_stream_set_ca(d->st, ca, NULL);
    if ((rc = posta_stream_connect(d->st, host, port)) < 0 ||
        (tls == DRV_TLS && (rc = posta_stream_starttls(d->st)) < 0)) {
        fprintf(stderr, "driver: %s\n", posta_stream_errmsg(d->st));
        return rc;
    }
    if ((rc = greeting(d)) < 0)
        return rc;
    if (proto == POSTA_SASL_SMTP && tls == DRV_STARTTLS && (rc = capabilities(d)) < 0)
        return rc;
    if (tls == DRV_STARTTLS && (rc = starttls(d)) < 0)
        return rc;
    return capabilities(d);
}

void drv_close(struct drv *d)
{
    posta_stream_free(d->st);
    d->st = NULL;
}

posta_sasl *drv_sasl(struct drv *d, const char *host)
{
    static const char *service[] = {[POSTA_SASL_IMAP] = "imap", [POSTA_SASL_SMTP] = "smtp",
                                    [POSTA_SASL_POP3] = "pop"};
    posta_sasl *s = NULL;
    if (posta_sasl_new(&s, d->proto, service[d->proto], host) < 0)
        return NULL;
    if (posta_sasl_use_stream(s, d->st) < 0) {
        posta_sasl_free(s);
        return NULL;
    }
    if (d->proto == POSTA_SASL_IMAP)
        posta_sasl_set_initial_response(s, d->sasl_ir);
    return s;
}

/* What failed, as far as the reply tells: credentials or the mechanism. */
static posta_sasl_failure failure_kind(const struct drv *d)
{
    if (strstr(d->line, "[AUTHENTICATIONFAILED]") || strstr(d->line, "[AUTHORIZATIONFAILED]") ||
        strstr(d->line, "[AUTH]") || strncmp(d->line, "535", 3) == 0)
        return POSTA_SASL_CREDENTIALS;
    return POSTA_SASL_REJECTED;
}

/* The human text of a failure reply: after the tag/code and status. */
static const char *reply_text(const struct drv *d)
{
    const char *p = d->line;
    int words = d->proto == POSTA_SASL_IMAP ? 2 : 1;
    for (int i = 0; i < words && (p = strchr(p, ' ')); i++)
        p++;
    return p ? p : "";
}

int drv_auth(struct drv *d, posta_sasl *s, const char *offered_override)
{
    const char *off = offered_override ? (*offered_override ? offered_override : NULL) : d->caps;
    const char *line, *text;
    size_t n, tn;
    int ok = 0;
    int rc = posta_sasl_start(s, off, off ? strlen(off) : 0, &line, &n);
    if (rc < 0 || (rc = drv_command(d, line, n)) < 0)
        return rc;
    for (;;) {
        if ((rc = drv_read_line(d)) < 0)
            return rc;
        if (d->proto == POSTA_SASL_IMAP && strncmp(d->line, "* ", 2) == 0)
            continue;
        if (posta_sasl_parse_continuation(d->proto, d->line, d->len, &text, &tn)) {
            if ((rc = posta_sasl_on_continuation(s, text, tn, &line, &n)) < 0 ||
                (rc = drv_send(d, line, n)) < 0)
                return rc;
            continue;
        }
        if (!final_reply(d, &ok))
            continue;
        if (ok) {
            rc = posta_sasl_on_success(s, NULL, 0);
            return rc < 0 ? rc : posta_sasl_install_layer(s, d->st);
        }
        text = reply_text(d);
        rc = posta_sasl_on_failure(s, failure_kind(d), text, strlen(text), &line, &n);
        if (rc < 0 || (rc = drv_command(d, line, n)) < 0)
            return rc;
    }
}
