/* Sessions: creation and destruction, the server and local names, options,
 * timeouts, callbacks, application data, and running the session. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "esmtp_int.h"

/* libESMTP's version strings: the release this interface follows. */
#define ESMTP_VERSION "1.1.0"
#define ESMTP_SO_VERSION "6.2.0"
#define ESMTP_LT_VERSION "8:0:2"

ESMTP_API smtp_session_t smtp_create_session(void)
{
    smtp_session_t s = calloc(1, sizeof(*s));
    if (!s)
        return esmtp_fail_null(-ENOMEM);
    if (posta_smtp_new(&s->h, &esmtp_callbacks, s) < 0) {
        free(s);
        return esmtp_fail_null(-ENOMEM);
    }
    /* libESMTP's defaults: no TLS unless asked for (posta still never sends
     * a password in the clear), and no AUTH offered means go on without. */
    s->starttls = Starttls_DISABLED;
    posta_smtp_set_tls(s->h, POSTA_SMTP_TLS_DISABLED);
    posta_smtp_set_auth_required(s->h, 0);
    /* libESMTP waits for a message's final reply before the next MAIL; so
     * do we here (Dovecot 2.3's submission service fails otherwise). */
    posta_smtp_set_pipeline_transactions(s->h, 0);
    return s;
}

static void free_etrn(struct smtp_etrn_node *n)
{
    while (n) {
        struct smtp_etrn_node *next = n->next;
        esmtp_appdata_free(&n->app);
        esmtp_status_free(&n->status);
        free(n);
        n = next;
    }
}

ESMTP_API int smtp_destroy_session(smtp_session_t s)
{
    if (!s)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    esmtp_appdata_free(&s->app);
    /* posta first: releasing a source calls back into its message. */
    posta_smtp_free(s->h);
    for (smtp_message_t m = s->msgs, next; m; m = next) {
        next = m->next;
        esmtp_message_free(m);
    }
    free_etrn(s->etrn);
    free(s->server);
    free(s->host);
    free(s);
    return 1;
}

/* The host part of "host[:service]", "[v6]:service" or a bare v6 address. */
static char *host_part(const char *hostport)
{
    const char *start = hostport, *end;
    if (*start == '[') {
        start++;
        end = strchr(start, ']');
    } else {
        end = strchr(start, ':');
        if (end && strchr(end + 1, ':'))
            end = NULL;   /* an IPv6 address without a port */
    }
    size_t n = end ? (size_t)(end - start) : strlen(start);
    char *h = malloc(n + 1);
    if (h) {
        memcpy(h, start, n);
        h[n] = '\0';
    }
    return h;
}

ESMTP_API int smtp_set_server(smtp_session_t s, const char *hostport)
{
    if (!s || !hostport)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    char *copy = strdup(hostport), *host = host_part(hostport);
    if (!copy || !host) {
        free(copy);
        free(host);
        return esmtp_fail(-ENOMEM, 0);
    }
    int rc = posta_smtp_set_server(s->h, hostport);
    if (rc < 0) {
        free(copy);
        free(host);
        esmtp_set_posta_error(rc);
        return 0;
    }
    free(s->server);
    free(s->host);
    s->server = copy;
    s->host = host;
    return 1;
}

ESMTP_API const char *smtp_get_server_name(smtp_session_t s)
{
    if (!s)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    return s->host;
}

ESMTP_API int smtp_set_hostname(smtp_session_t s, const char *hostname)
{
    if (!s)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = posta_smtp_set_hostname(s->h, hostname);
    if (rc < 0) {
        esmtp_set_posta_error(rc);
        return 0;
    }
    return 1;
}

ESMTP_API int smtp_set_eventcb(smtp_session_t s, smtp_eventcb_t cb, void *arg)
{
    if (!s)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    s->event_cb = cb;
    s->event_arg = arg;
    return 1;
}

ESMTP_API int smtp_set_monitorcb(smtp_session_t s, smtp_monitorcb_t cb, void *arg, int headers)
{
    if (!s)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    s->monitor_cb = cb;
    s->monitor_arg = arg;
    posta_smtp_set_monitor_headers(s->h, cb && headers);
    return 1;
}

ESMTP_API int smtp_option_require_all_recipients(smtp_session_t s, int state)
{
    if (!s)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    posta_smtp_set_require_all_recipients(s->h, state != 0);
    return 1;
}

/* --- timeouts --------------------------------------------------------------- */

/* Each libESMTP timeout, its RFC 5321 4.5.3.2 minimum in milliseconds, and
 * the posta phases it covers. */
static const struct {
    long minimum;
    posta_smtp_timeout first, second;
} timeouts[] = {
    [Timeout_GREETING] = {300000, POSTA_SMTP_TIMEOUT_GREETING, POSTA_SMTP_TIMEOUT_GREETING},
    [Timeout_ENVELOPE] = {300000, POSTA_SMTP_TIMEOUT_MAIL, POSTA_SMTP_TIMEOUT_RCPT},
    [Timeout_DATA] = {120000, POSTA_SMTP_TIMEOUT_DATA, POSTA_SMTP_TIMEOUT_DATA},
    [Timeout_TRANSFER] = {180000, POSTA_SMTP_TIMEOUT_BLOCK, POSTA_SMTP_TIMEOUT_BLOCK},
    [Timeout_DATA2] = {600000, POSTA_SMTP_TIMEOUT_DOT, POSTA_SMTP_TIMEOUT_DOT},
};

ESMTP_API long smtp_set_timeout(smtp_session_t s, int which, long value)
{
    if (!s || value <= 0)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int override = (which & Timeout_OVERRIDE_RFC2822_MINIMUM) != 0;
    which &= ~Timeout_OVERRIDE_RFC2822_MINIMUM;
    if (which < Timeout_GREETING || which > Timeout_DATA2)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    long minimum = override ? 1000 : timeouts[which].minimum;
    if (value < minimum)
        value = minimum;
    int ms = value > INT_MAX ? INT_MAX : (int)value;
    posta_smtp_set_timeout(s->h, timeouts[which].first, ms);
    posta_smtp_set_timeout(s->h, timeouts[which].second, ms);
    return value;
}

/* --- application data ------------------------------------------------------ */

ESMTP_API void *smtp_set_application_data(smtp_session_t s, void *data)
{
    if (!s)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    void *old = s->app.data;
    s->app = (struct esmtp_appdata){data, NULL};
    return old;
}

ESMTP_API void smtp_set_application_data_release(smtp_session_t s, void *data,
                                                 void (*release)(void *))
{
    if (!s) {
        esmtp_fail(SMTP_ERR_INVAL, 0);
        return;
    }
    esmtp_appdata_set(&s->app, data, release);
}

ESMTP_API void *smtp_get_application_data(smtp_session_t s)
{
    if (!s)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    return s->app.data;
}

ESMTP_API int smtp_version(void *buf, size_t len, int what)
{
    static const char *const v[] = {ESMTP_VERSION, ESMTP_SO_VERSION, ESMTP_LT_VERSION};
    if (!buf || len == 0 || what < Ver_VERSION || what > Ver_LT_VERSION)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    size_t n = strlen(v[what]);
    if (n >= len)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    memcpy(buf, v[what], n + 1);
    return 1;
}

/* --- running ------------------------------------------------------------------ */

static int check_startable(smtp_session_t s)
{
    if (!s || !s->server)
        return 0;
    for (smtp_message_t m = s->msgs; m; m = m->next)
        if (!m->cb)
            return 0;
    return 1;
}

static int prepare(smtp_session_t s)
{
    for (smtp_message_t m = s->msgs; m; m = m->next) {
        int rc = esmtp_message_prepare(m);
        if (rc < 0)
            return rc;
    }
    int rc = esmtp_tls_prepare(s);
    if (rc < 0)
        return rc;
    esmtp_auth_prepare(s);
    s->extna_seen = 0;
    s->extna_quit = 0;
    s->tlsfail = (struct esmtp_tlsfail){0, 0};
    return 0;
}

/* One run; when the application accepted a certificate posta refused (as a
 * libESMTP event handler may), once more without verification: nothing was
 * sent over the refused connection. */
static int run(smtp_session_t s)
{
    int rc = posta_smtp_run(s->h);
    if (rc == POSTA_EVERIFY && s->tlsfail.accepted) {
        posta_stream_set_insecure(posta_smtp_stream(s->h), 1);
        s->tlsfail = (struct esmtp_tlsfail){0, 0};
        rc = posta_smtp_run(s->h);
        posta_stream_set_insecure(posta_smtp_stream(s->h), 0);
    }
    return rc;
}

ESMTP_API int smtp_start_session(smtp_session_t s)
{
    if (!check_startable(s))
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = prepare(s);
    if (rc == 0)
        rc = run(s);
    esmtp_auth_end(s);
    if (rc == 0)
        return 1;
    /* An event handler asked to quit: libESMTP counts that as a session
     * that ran, with the reason in smtp_errno(). */
    if (rc == POSTA_ECANCELED && s->extna_quit)
        return esmtp_fail(SMTP_ERR_EXTENSION_NOT_AVAILABLE, 1);
    if (rc == POSTA_ECANCELED)
        return esmtp_fail(SMTP_ERR_CLIENT_ERROR, 1);
    esmtp_set_posta_error(rc);
    return 0;
}
