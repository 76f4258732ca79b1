/* Messages and recipients: envelope, message source, statuses, extension
 * options and application data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "esmtp_int.h"

/* A posta failure as libESMTP reports one: smtp_errno() set, ret returned. */
static int posta_fail(int rc, int ret)
{
    esmtp_set_posta_error(rc);
    return ret;
}

ESMTP_API smtp_message_t smtp_add_message(smtp_session_t s)
{
    if (!s)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    smtp_message_t m = calloc(1, sizeof(*m));
    if (!m)
        return esmtp_fail_null(-ENOMEM);
    int rc = posta_smtp_add_message(s->h, &m->m);
    if (rc < 0) {
        free(m);
        esmtp_set_posta_error(rc);
        return NULL;
    }
    posta_smtp_message_set_user(m->m, m);
    m->session = s;
    if (s->msgs_tail)
        s->msgs_tail->next = m;
    else
        s->msgs = m;
    s->msgs_tail = m;
    return m;
}

/* Called after posta freed the session (and so the sources). */
void esmtp_message_free(smtp_message_t m)
{
    esmtp_appdata_free(&m->app);
    for (smtp_recipient_t r = m->rcpts, next; r; r = next) {
        next = r->next;
        esmtp_appdata_free(&r->app);
        esmtp_status_free(&r->status);
        free(r->mailbox);
        free(r);
    }
    for (struct esmtp_hdropt *o = m->hdropts, *next; o; o = next) {
        next = o->next;
        free(o->name);
        free(o);
    }
    esmtp_status_free(&m->transfer);
    esmtp_status_free(&m->mail);
    free(m->cb_ctx);
    free(m->reverse_path);
    free(m);
}

ESMTP_API int smtp_enumerate_messages(smtp_session_t s, smtp_enumerate_messagecb_t cb, void *arg)
{
    if (!s || !cb)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    for (smtp_message_t m = s->msgs; m; m = m->next)
        cb(m, arg);
    return 1;
}

ESMTP_API int smtp_set_reverse_path(smtp_message_t m, const char *mailbox)
{
    if (!m)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    char *copy = mailbox ? strdup(mailbox) : NULL;
    if (mailbox && !copy)
        return esmtp_fail(-ENOMEM, 0);
    int rc = posta_smtp_message_set_reverse_path(m->m, mailbox);
    if (rc < 0) {
        free(copy);
        return posta_fail(rc, 0);
    }
    free(m->reverse_path);
    m->reverse_path = copy;
    return 1;
}

/* --- the message source ------------------------------------------------------ */

/* posta reads the application's callback; the callback's *buf lives from one
 * rewind to the next, as libESMTP keeps it for one transfer. */
static int src_read(posta_smtp_message *pm, const void **data_r, size_t *len_r, void *user)
{
    smtp_message_t m = user;
    int len = 0;
    (void)pm;
    const char *p = m->cb(&m->cb_ctx, &len, m->cb_arg);
    *data_r = p;
    *len_r = p && len > 0 ? (size_t)len : 0;
    return 0;
}

static int src_rewind(posta_smtp_message *pm, void *user)
{
    smtp_message_t m = user;
    (void)pm;
    free(m->cb_ctx);
    m->cb_ctx = NULL;
    m->cb(&m->cb_ctx, NULL, m->cb_arg);
    return 0;
}

static void src_release(posta_smtp_message *pm, void *user)
{
    smtp_message_t m = user;
    (void)pm;
    free(m->cb_ctx);
    m->cb_ctx = NULL;
}

int esmtp_message_bind_source(smtp_message_t m)
{
    posta_smtp_source src = {src_read, src_rewind, src_release, m};
    return posta_smtp_message_set_source(m->m, &src);
}

ESMTP_API int smtp_set_messagecb(smtp_message_t m, smtp_messagecb_t cb, void *arg)
{
    if (!m || !cb)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = esmtp_message_bind_source(m);
    if (rc < 0)
        return posta_fail(rc, 0);
    m->cb = cb;
    m->cb_arg = arg;
    return 1;
}

#define FP_BUFLEN 8192

ESMTP_API const char *_smtp_message_fp_cb(void **ctx, int *len, void *arg)
{
    if (!*ctx)
        *ctx = malloc(FP_BUFLEN);
    if (!len) {
        rewind((FILE *)arg);
        return NULL;
    }
    if (!*ctx) {
        *len = 0;
        return NULL;
    }
    *len = (int)fread(*ctx, 1, FP_BUFLEN, (FILE *)arg);
    return *ctx;
}

/* The string is handed out whole, once per pass. */
struct str_state {
    int done;
};

ESMTP_API const char *_smtp_message_str_cb(void **ctx, int *len, void *arg)
{
    const char *string = arg;
    if (!*ctx)
        *ctx = calloc(1, sizeof(struct str_state));
    struct str_state *st = *ctx;
    if (!len) {
        if (st)
            st->done = 0;
        return NULL;
    }
    size_t n = strlen(string);
    *len = !st || st->done ? 0 : n > 0x7fffffff ? 0x7fffffff : (int)n;
    if (st)
        st->done = 1;
    return string;
}

ESMTP_API int(smtp_set_message_fp)(smtp_message_t m, FILE *fp)
{
    return smtp_set_messagecb(m, _smtp_message_fp_cb, fp);
}

ESMTP_API int(smtp_set_message_str)(smtp_message_t m, const char *string)
{
    return smtp_set_messagecb(m, _smtp_message_str_cb, (void *)string);
}

/* Resolved when the session starts: a Disposition-Notification-To asked for
 * without a mailbox goes to the reverse path as it is then. */
int esmtp_message_prepare(smtp_message_t m)
{
    if (!m->dnt_default || m->dnt_applied || !m->reverse_path || !m->reverse_path[0])
        return 0;
    int rc = posta_smtp_message_set_header(m->m, "Disposition-Notification-To", m->reverse_path);
    if (rc < 0)
        return rc;
    m->dnt_applied = 1;
    return 0;
}

/* --- recipients ------------------------------------------------------------- */

ESMTP_API smtp_recipient_t smtp_add_recipient(smtp_message_t m, const char *mailbox)
{
    if (!m || !mailbox)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    smtp_recipient_t r = calloc(1, sizeof(*r));
    if (!r || !(r->mailbox = strdup(mailbox))) {
        free(r);
        return esmtp_fail_null(-ENOMEM);
    }
    int rc = posta_smtp_add_recipient(m->m, mailbox, &r->r);
    if (rc < 0) {
        free(r->mailbox);
        free(r);
        esmtp_set_posta_error(rc);
        return NULL;
    }
    posta_smtp_recipient_set_user(r->r, r);
    r->message = m;
    if (m->rcpts_tail)
        m->rcpts_tail->next = r;
    else
        m->rcpts = r;
    m->rcpts_tail = r;
    return r;
}

ESMTP_API int smtp_enumerate_recipients(smtp_message_t m, smtp_enumerate_recipientcb_t cb,
                                        void *arg)
{
    if (!m || !cb)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    for (smtp_recipient_t r = m->rcpts; r; r = r->next)
        cb(r, r->mailbox, arg);
    return 1;
}

/* --- statuses ------------------------------------------------------------------ */

ESMTP_API const smtp_status_t *smtp_message_transfer_status(smtp_message_t m)
{
    if (!m)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    return esmtp_status_update(&m->transfer, posta_smtp_message_status(m->m));
}

ESMTP_API const smtp_status_t *smtp_reverse_path_status(smtp_message_t m)
{
    if (!m)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    return esmtp_status_update(&m->mail, posta_smtp_message_mail_status(m->m));
}

ESMTP_API int smtp_message_reset_status(smtp_message_t m)
{
    if (!m)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = posta_smtp_message_reset_status(m->m);
    return rc < 0 ? posta_fail(rc, 0) : 1;
}

ESMTP_API const smtp_status_t *smtp_recipient_status(smtp_recipient_t r)
{
    if (!r)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    return esmtp_status_update(&r->status, posta_smtp_recipient_status(r->r));
}

ESMTP_API int smtp_recipient_check_complete(smtp_recipient_t r)
{
    if (!r)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    return posta_smtp_recipient_complete(r->r);
}

ESMTP_API int smtp_recipient_reset_status(smtp_recipient_t r)
{
    if (!r)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = posta_smtp_recipient_reset_status(r->r);
    return rc < 0 ? posta_fail(rc, 0) : 1;
}

/* --- extensions ---------------------------------------------------------------- */

ESMTP_API int smtp_dsn_set_ret(smtp_message_t m, enum ret_flags flags)
{
    static const posta_smtp_dsn_ret map[] = {POSTA_SMTP_RET_NOTSET, POSTA_SMTP_RET_FULL,
                                             POSTA_SMTP_RET_HDRS};
    if (!m || (unsigned)flags > Ret_HDRS)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = posta_smtp_message_set_dsn_ret(m->m, map[flags]);
    return rc < 0 ? posta_fail(rc, 0) : 1;
}

ESMTP_API int smtp_dsn_set_envid(smtp_message_t m, const char *envid)
{
    if (!m || !envid)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = posta_smtp_message_set_dsn_envid(m->m, envid);
    return rc < 0 ? posta_fail(rc, 0) : 1;
}

/* libESMTP's notify flags as posta's bits; ~0u when invalid. */
static unsigned notify_bits(int flags)
{
    if (flags == Notify_NOTSET)
        return 0;
    if (flags == Notify_NEVER)
        return POSTA_SMTP_NOTIFY_NEVER;
    if (flags & ~(Notify_SUCCESS | Notify_FAILURE | Notify_DELAY))
        return ~0u;
    return ((flags & Notify_SUCCESS) ? POSTA_SMTP_NOTIFY_SUCCESS : 0) |
           ((flags & Notify_FAILURE) ? POSTA_SMTP_NOTIFY_FAILURE : 0) |
           ((flags & Notify_DELAY) ? POSTA_SMTP_NOTIFY_DELAY : 0);
}

ESMTP_API int smtp_dsn_set_notify(smtp_recipient_t r, enum notify_flags flags)
{
    unsigned bits = notify_bits((int)flags);
    if (!r || bits == ~0u)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = posta_smtp_recipient_set_dsn_notify(r->r, bits);
    return rc < 0 ? posta_fail(rc, 0) : 1;
}

ESMTP_API int smtp_dsn_set_orcpt(smtp_recipient_t r, const char *address_type,
                                 const char *address)
{
    if (!r || !address_type || !address)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = posta_smtp_recipient_set_dsn_orcpt(r->r, address_type, address);
    return rc < 0 ? posta_fail(rc, 0) : 1;
}

ESMTP_API int smtp_size_set_estimate(smtp_message_t m, unsigned long size)
{
    if (!m)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    posta_smtp_message_set_size(m->m, size);
    return 1;
}

ESMTP_API int smtp_8bitmime_set_body(smtp_message_t m, enum e8bitmime_body body)
{
    static const posta_smtp_body map[] = {POSTA_SMTP_BODY_NOTSET, POSTA_SMTP_BODY_7BIT,
                                          POSTA_SMTP_BODY_8BITMIME, POSTA_SMTP_BODY_BINARYMIME};
    if (!m || (unsigned)body > E8bitmime_BINARYMIME)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = posta_smtp_message_set_body(m->m, map[body]);
    return rc < 0 ? posta_fail(rc, 0) : 1;
}

ESMTP_API int smtp_deliverby_set_mode(smtp_message_t m, long time, enum by_mode mode, int trace)
{
    static const posta_smtp_by_mode map[] = {POSTA_SMTP_BY_NOTSET, POSTA_SMTP_BY_NOTIFY,
                                             POSTA_SMTP_BY_RETURN};
    if (!m || (unsigned)mode > By_RETURN || time < -999999999L || time > 999999999L ||
        (mode == By_RETURN && time <= 0))
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    int rc = posta_smtp_message_set_deliverby(m->m, time, map[mode], trace != 0);
    return rc < 0 ? posta_fail(rc, 0) : 1;
}

/* --- application data ------------------------------------------------------------- */

ESMTP_API void *smtp_message_set_application_data(smtp_message_t m, void *data)
{
    if (!m)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    void *old = m->app.data;
    m->app = (struct esmtp_appdata){data, NULL};
    return old;
}

ESMTP_API void smtp_message_set_application_data_release(smtp_message_t m, void *data,
                                                         void (*release)(void *))
{
    if (!m) {
        esmtp_fail(SMTP_ERR_INVAL, 0);
        return;
    }
    esmtp_appdata_set(&m->app, data, release);
}

ESMTP_API void *smtp_message_get_application_data(smtp_message_t m)
{
    if (!m)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    return m->app.data;
}

ESMTP_API void *smtp_recipient_set_application_data(smtp_recipient_t r, void *data)
{
    if (!r)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    void *old = r->app.data;
    r->app = (struct esmtp_appdata){data, NULL};
    return old;
}

ESMTP_API void smtp_recipient_set_application_data_release(smtp_recipient_t r, void *data,
                                                           void (*release)(void *))
{
    if (!r) {
        esmtp_fail(SMTP_ERR_INVAL, 0);
        return;
    }
    esmtp_appdata_set(&r->app, data, release);
}

ESMTP_API void *smtp_recipient_get_application_data(smtp_recipient_t r)
{
    if (!r)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    return r->app.data;
}
