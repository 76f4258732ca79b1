/* Helpers shared by the libESMTP compatibility tests (see etest.h). */
#include "etest.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "t.h"

struct peer *etest_peer(const char *script)
{
    struct peer *p = NULL;
    struct peer_opts o = {.cert = t_env("SERVER_CERT"), .key = t_env("SERVER_KEY"),
                          .timeout_ms = 10000};
    if (peer_start(&p, script, &o) != 0) {
        t_fail(__FILE__, __LINE__, "peer_start failed");
        exit(1);
    }
    return p;
}

void etest_peer_ok_at(struct peer *p, const char *file, int line)
{
    char *msg = NULL;
    if (peer_finish(p, &msg) != 0)
        t_fail(file, line, "%s", msg ? msg : "peer failed");
    free(msg);
}

const char *etest_target(const struct peer *p)
{
    static char buf[64];
    snprintf(buf, sizeof(buf), "127.0.0.1:%d", peer_port(p));
    return buf;
}

const char *etest_token(void)
{
    static char buf[64];
    static int n;
    snprintf(buf, sizeof(buf), "esmtp-%ld-%ld-%d", (long)getpid(), (long)time(NULL), ++n);
    return buf;
}

static char *scan_sink(const char *dir, const char *token)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char *found = NULL;
    for (struct dirent *e; !found && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t n;
        char *text = t_read_file(path, &n);
        if (text && strstr(text, token))
            found = text;
        else
            free(text);
    }
    closedir(d);
    return found;
}

char *etest_sink_find(const char *token)
{
    const char *dir = t_env("SINK_DIR");
    for (int i = 0; i < 250; i++) {
        char *text = scan_sink(dir, token);
        if (text)
            return text;
        usleep(20000);
    }
    return NULL;
}

/* --- events ------------------------------------------------------------------ */

static void logf_(struct etest_events *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct etest_events *ev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(ev->log + ev->len, sizeof(ev->log) - ev->len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(ev->log) - ev->len)
        ev->len += (size_t)n;
}

static void protocol_event(struct etest_events *ev, int event_no, va_list ap)
{
    const char *mailbox;
    switch (event_no) {
    case SMTP_EV_CONNECT: logf_(ev, "CONNECT\n"); break;
    case SMTP_EV_DISCONNECT: logf_(ev, "DISCONNECT\n"); break;
    case SMTP_EV_MAILSTATUS:
        mailbox = va_arg(ap, const char *);
        ev->last_message = va_arg(ap, smtp_message_t);
        logf_(ev, "MAILSTATUS %s\n", mailbox ? mailbox : "(null)");
        break;
    case SMTP_EV_RCPTSTATUS:
        mailbox = va_arg(ap, const char *);
        ev->last_recipient = va_arg(ap, smtp_recipient_t);
        logf_(ev, "RCPTSTATUS %s\n", mailbox);
        break;
    case SMTP_EV_MESSAGEDATA:
        ev->last_message = va_arg(ap, smtp_message_t);
        ev->data_octets += va_arg(ap, int);
        if (ev->len < 14 || strcmp(ev->log + ev->len - 12, "MESSAGEDATA\n") != 0)
            logf_(ev, "MESSAGEDATA\n");
        break;
    case SMTP_EV_MESSAGESENT:
        ev->last_message = va_arg(ap, smtp_message_t);
        logf_(ev, "MESSAGESENT\n");
        break;
    default: break;
    }
}

static void extension_event(struct etest_events *ev, int event_no, va_list ap)
{
    int *quit;
    switch (event_no) {
    case SMTP_EV_ETRNSTATUS: {
        int option = va_arg(ap, int);
        const char *domain = va_arg(ap, const char *);
        logf_(ev, "ETRNSTATUS %c%s\n", option ? option : ' ', domain);
        break;
    }
    case SMTP_EV_EXTNA_DSN:
    case SMTP_EV_EXTNA_ETRN:
    case SMTP_EV_EXTNA_CHUNKING:
    case SMTP_EV_SYNTAXWARNING:
        quit = va_arg(ap, int *);
        logf_(ev, "EVENT %d quit=%d\n", event_no, *quit);
        if (ev->quit_extna >= 0)
            *quit = ev->quit_extna;
        break;
    case SMTP_EV_EXTNA_STARTTLS:
        (void)va_arg(ap, void *);
        logf_(ev, "EXTNA_STARTTLS\n");
        break;
    default: logf_(ev, "EVENT %d\n", event_no); break;
    }
}

static void tls_event(struct etest_events *ev, int event_no, va_list ap)
{
    int *ok;
    switch (event_no) {
    case SMTP_EV_STARTTLS_OK: {
        (void)va_arg(ap, void *);
        const char *cipher = va_arg(ap, const char *);
        ev->bits = va_arg(ap, int);
        snprintf(ev->cipher, sizeof(ev->cipher), "%s", cipher ? cipher : "");
        logf_(ev, "STARTTLS_OK\n");
        break;
    }
    case SMTP_EV_INVALID_PEER_CERTIFICATE:
        ev->verify_result = va_arg(ap, long);
        ok = va_arg(ap, int *);
        *ok = ev->ok_certificate;
        logf_(ev, "INVALID_PEER_CERTIFICATE %ld\n", ev->verify_result);
        break;
    case SMTP_EV_WRONG_PEER_CERTIFICATE:
    case SMTP_EV_NO_PEER_CERTIFICATE:
        ok = va_arg(ap, int *);
        *ok = ev->ok_certificate;
        logf_(ev, "EVENT %d\n", event_no);
        break;
    default: logf_(ev, "EVENT %d\n", event_no); break;
    }
}

void etest_event_cb(smtp_session_t session, int event_no, void *arg, ...)
{
    struct etest_events *ev = arg;
    va_list ap;
    (void)session;
    va_start(ap, arg);
    if (event_no < SMTP_EV_ETRNSTATUS)
        protocol_event(ev, event_no, ap);
    else if (event_no < SMTP_EV_WEAK_CIPHER)
        extension_event(ev, event_no, ap);
    else
        tls_event(ev, event_no, ap);
    va_end(ap);
}

/* --- monitor ----------------------------------------------------------------------- */

static void append(char *dst, size_t cap, size_t *len, const char *buf, int n)
{
    if (n > 0 && *len + (size_t)n < cap) {
        memcpy(dst + *len, buf, (size_t)n);
        *len += (size_t)n;
        dst[*len] = '\0';
    }
}

static int has(const char *buf, size_t n, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= n; i++)
        if (memcmp(buf + i, word, w) == 0)
            return 1;
    return 0;
}

void etest_monitor_cb(const char *buf, int buflen, int writing, void *arg)
{
    struct etest_monitor *m = arg;
    if (writing == SMTP_CB_HEADERS) {
        append(m->headers, sizeof(m->headers), &m->hlen, buf, buflen);
        return;
    }
    if (writing == SMTP_CB_READING) {
        append(m->reads, sizeof(m->reads), &m->rlen, buf, buflen);
        return;
    }
    append(m->writes, sizeof(m->writes), &m->wlen, buf, buflen);
    if (has(buf, (size_t)buflen, "MAIL FROM:") && has(buf, (size_t)buflen, "RCPT TO:"))
        m->pipelined = 1;
}
