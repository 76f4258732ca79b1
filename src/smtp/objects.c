/* The session's objects as the caller builds them: messages, recipients,
 * headers, ETRN nodes, their options and their statuses. */
#include "smtp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* --- statuses ----------------------------------------------------------------- */

void st_clear(struct smtp_st *s)
{
    free(s->text);
    memset(s, 0, sizeof(*s));
    s->pub.text = "";
}

static void st_text(struct smtp_st *s, const char *text, size_t len)
{
    free(s->text);
    s->text = malloc(len + 1);
    if (s->text) {
        memcpy(s->text, text, len);
        s->text[len] = '\0';
    }
    s->pub.text = s->text ? s->text : "";
}

void st_set_reply(struct smtp_st *s, const struct smtp_reply *r)
{
    s->pub.code = r->code;
    s->pub.enh_class = r->enh[0];
    s->pub.enh_subject = r->enh[1];
    s->pub.enh_detail = r->enh[2];
    s->pub.local = 0;
    s->pub.error = 0;
    size_t n = posta__buf_used(&r->text);
    st_text(s, n ? (const char *)posta__buf_head(&r->text) : "", n);
}

void st_set_local(struct smtp_st *s, int code, const char *enh, int error, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    s->pub.code = code;
    s->pub.enh_class = s->pub.enh_subject = s->pub.enh_detail = 0;
    if (enh)
        sscanf(enh, "%d.%d.%d", &s->pub.enh_class, &s->pub.enh_subject, &s->pub.enh_detail);
    s->pub.local = 1;
    s->pub.error = error;
    st_text(s, text, strlen(text));
}

void st_copy(struct smtp_st *dst, const struct smtp_st *src)
{
    if (dst == src)
        return;
    /* src's text may be dst's own: copy it before freeing. */
    char *keep = strdup(src->pub.text);
    dst->pub = src->pub;
    free(dst->text);
    dst->text = keep;
    dst->pub.text = keep ? keep : "";
}

/* Setters are refused while a run uses the objects. */
static int busy(const posta_smtp *h)
{
    return h->running;
}

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* A string that goes into a command or a header: no CR, LF or NUL (NUL
 * cannot be in a C string), no other control but HT, valid UTF-8. */
static int clean_text(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return smtp_utf8_valid((const unsigned char *)s, n);
}

static struct smtp_param *new_param(const char *s)
{
    size_t n = strlen(s);
    struct smtp_param *p = malloc(sizeof(*p) + n + 1);
    if (p) {
        p->next = NULL;
        memcpy(p->s, s, n + 1);
    }
    return p;
}

static void free_params(struct smtp_param *p)
{
    while (p) {
        struct smtp_param *n = p->next;
        free(p);
        p = n;
    }
}

/* --- messages -------------------------------------------------------------------- */

int posta_smtp_add_message(posta_smtp *h, posta_smtp_message **m_r)
{
    if (m_r)
        *m_r = NULL;
    if (busy(h))
        return smtp_err(h, POSTA_ESTATE, "a run is under way");
    posta_smtp_message *m = calloc(1, sizeof(*m));
    if (!m || !(m->rp = strdup(""))) {
        free(m);
        return smtp_err(h, POSTA_ENOMEM, "out of memory");
    }
    m->h = h;
    m->hdr_on = 1;
    m->src.fd = -1;
    st_clear(&m->st);
    st_clear(&m->mail_st);
    if (h->msgs_tail)
        h->msgs_tail->next = m;
    else
        h->msgs = m;
    h->msgs_tail = m;
    if (m_r)
        *m_r = m;
    return 0;
}

static void free_recipient(posta_smtp_recipient *r)
{
    free(r->mailbox);
    free(r->orcpt_type);
    free(r->orcpt);
    free_params(r->params);
    st_clear(&r->st);
    free(r);
}

void smtp_message_free(posta_smtp_message *m)
{
    for (posta_smtp_recipient *r = m->rcpts; r;) {
        posta_smtp_recipient *n = r->next;
        free_recipient(r);
        r = n;
    }
    smtp_src_release(m);
    free(m->rp);
    free(m->envid);
    free_params(m->params);
    smtp_hdr_free_list(m->hdrs);
    st_clear(&m->st);
    st_clear(&m->mail_st);
    free(m);
}

posta_smtp_message *posta_smtp_first_message(const posta_smtp *h)
{
    return h->msgs;
}

posta_smtp_message *posta_smtp_next_message(const posta_smtp_message *m)
{
    return m ? m->next : NULL;
}

posta_smtp *posta_smtp_message_session(const posta_smtp_message *m)
{
    return m->h;
}

int posta_smtp_message_set_reverse_path(posta_smtp_message *m, const char *mailbox)
{
    char why[160];
    int utf8;
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    if (smtp_check_mailbox(mailbox, 1, &utf8, why, sizeof(why)) < 0)
        return smtp_err(m->h, POSTA_EINVAL, "reverse path refused: %s", why);
    char *c = strdup(mailbox ? mailbox : "");
    if (!c)
        return smtp_err(m->h, POSTA_ENOMEM, "out of memory");
    free(m->rp);
    m->rp = c;
    m->rp_utf8 = utf8;
    return 0;
}

const char *posta_smtp_message_reverse_path(const posta_smtp_message *m)
{
    return m->rp;
}

static int set_src(posta_smtp_message *m, const struct smtp_src *s)
{
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    smtp_src_release(m);
    m->src = *s;
    return 0;
}

int posta_smtp_message_set_source(posta_smtp_message *m, const posta_smtp_source *src)
{
    if (!src || !src->read)
        return smtp_err(m->h, POSTA_EINVAL, "a source needs a read callback");
    struct smtp_src s = {.kind = SRC_CB, .cb = *src, .fd = -1, .start = 0};
    return set_src(m, &s);
}

int posta_smtp_message_set_file(posta_smtp_message *m, FILE *fp)
{
    if (!fp)
        return smtp_err(m->h, POSTA_EINVAL, "no FILE given");
    struct smtp_src s = {.kind = SRC_FILE, .fp = fp, .fd = -1, .start = ftello(fp)};
    return set_src(m, &s);
}

int posta_smtp_message_set_fd(posta_smtp_message *m, int fd)
{
    if (fd < 0)
        return smtp_err(m->h, POSTA_EINVAL, "no descriptor given");
    struct smtp_src s = {.kind = SRC_FD, .fd = fd, .start = lseek(fd, 0, SEEK_CUR)};
    return set_src(m, &s);
}

int posta_smtp_message_set_buffer(posta_smtp_message *m, const void *data, size_t len)
{
    if (!data && len)
        return smtp_err(m->h, POSTA_EINVAL, "no buffer given");
    struct smtp_src s = {.kind = SRC_BUF, .buf = data ? data : (const void *)"", .len = len,
                         .fd = -1};
    return set_src(m, &s);
}

void posta_smtp_message_set_size(posta_smtp_message *m, unsigned long long octets)
{
    m->size = octets;
}

int posta_smtp_message_set_body(posta_smtp_message *m, posta_smtp_body body)
{
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    if ((unsigned)body > POSTA_SMTP_BODY_BINARYMIME)
        return smtp_err(m->h, POSTA_EINVAL, "unknown body type %d", (int)body);
    m->body = body;
    return 0;
}

void posta_smtp_message_set_smtputf8(posta_smtp_message *m, int on)
{
    m->smtputf8 = on != 0;
}

int posta_smtp_message_set_dsn_ret(posta_smtp_message *m, posta_smtp_dsn_ret ret)
{
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    if ((unsigned)ret > POSTA_SMTP_RET_HDRS)
        return smtp_err(m->h, POSTA_EINVAL, "unknown DSN RET value %d", (int)ret);
    m->ret = ret;
    return 0;
}

int posta_smtp_message_set_dsn_envid(posta_smtp_message *m, const char *envid)
{
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    if (envid) {
        size_t n = strlen(envid);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)envid[i] < 32 || (unsigned char)envid[i] > 126)
                return smtp_err(m->h, POSTA_EINVAL, "ENVID must be printable ASCII");
        if (n == 0 || n > 100)
            return smtp_err(m->h, POSTA_EINVAL, "ENVID must be 1 to 100 octets");
    }
    char *c = dup_str(envid);
    if (envid && !c)
        return smtp_err(m->h, POSTA_ENOMEM, "out of memory");
    free(m->envid);
    m->envid = c;
    return 0;
}

int posta_smtp_message_set_deliverby(posta_smtp_message *m, long seconds,
                                     posta_smtp_by_mode mode, int trace)
{
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    if ((unsigned)mode > POSTA_SMTP_BY_RETURN || (mode == POSTA_SMTP_BY_RETURN && seconds <= 0) ||
        seconds > 999999999L || seconds < -999999999L)
        return smtp_err(m->h, POSTA_EINVAL, "invalid DELIVERBY time or mode");
    m->by_time = seconds;
    m->by_mode = mode;
    m->by_trace = trace != 0;
    return 0;
}

int posta_smtp_message_set_priority(posta_smtp_message *m, int priority)
{
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    if (priority < -9 || priority > 9)
        return smtp_err(m->h, POSTA_EINVAL, "MT-PRIORITY must be -9 .. 9");
    m->has_prio = 1;
    m->prio = priority;
    return 0;
}

void posta_smtp_message_clear_priority(posta_smtp_message *m)
{
    m->has_prio = 0;
}

int posta_smtp_message_set_holdfor(posta_smtp_message *m, long seconds)
{
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    if (seconds < 0 || seconds > 999999999L)
        return smtp_err(m->h, POSTA_EINVAL, "HOLDFOR must be 0 .. 999999999 seconds");
    m->holdfor = seconds;
    m->holduntil = 0;
    return 0;
}

int posta_smtp_message_set_holduntil(posta_smtp_message *m, time_t when)
{
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    if (when < 0)
        return smtp_err(m->h, POSTA_EINVAL, "HOLDUNTIL must be a time after 1970");
    m->holduntil = when;
    m->holdfor = 0;
    return 0;
}

void posta_smtp_message_set_requiretls(posta_smtp_message *m, int on)
{
    m->requiretls = on != 0;
}

static int add_param(posta_smtp *h, struct smtp_param **head, struct smtp_param **tail,
                     const char *param)
{
    if (busy(h))
        return smtp_err(h, POSTA_ESTATE, "a run is under way");
    if (smtp_check_param(param) < 0)
        return smtp_err(h, POSTA_EINVAL, "not an ESMTP parameter: KEYWORD or KEYWORD=VALUE "
                        "in printable ASCII without spaces");
    struct smtp_param *p = new_param(param);
    if (!p)
        return smtp_err(h, POSTA_ENOMEM, "out of memory");
    if (*tail)
        (*tail)->next = p;
    else
        *head = p;
    *tail = p;
    return 0;
}

int posta_smtp_message_add_mail_param(posta_smtp_message *m, const char *param)
{
    return add_param(m->h, &m->params, &m->params_tail, param);
}

void posta_smtp_message_set_long_lines(posta_smtp_message *m, posta_smtp_long_lines policy)
{
    m->long_lines = policy == POSTA_SMTP_LONG_FOLD ? POSTA_SMTP_LONG_FOLD : POSTA_SMTP_LONG_REFUSE;
}

/* --- headers ------------------------------------------------------------------------ */

void posta_smtp_message_set_header_processing(posta_smtp_message *m, int on)
{
    m->hdr_on = on != 0;
}

void posta_smtp_message_set_resent(posta_smtp_message *m, int on)
{
    m->resent = on != 0;
}

static const char *const list_headers[] = {"From", "Reply-To", "To", "Cc", "Bcc",
                                           "Resent-From", "Resent-To", "Resent-Cc",
                                           "Resent-Bcc", "Resent-Reply-To"};

static int is_list_header(const char *name)
{
    for (size_t i = 0; i < sizeof(list_headers) / sizeof(list_headers[0]); i++)
        if (strcasecmp(name, list_headers[i]) == 0)
            return 1;
    return 0;
}

/* Names that cannot be set: MIME (RFC 2045 is orthogonal to RFC 5322, and
 * libESMTP never touches it) and what delivery adds. */
static int settable(const char *name)
{
    return strncasecmp(name, "Content-", 8) != 0 && strcasecmp(name, "MIME-Version") != 0 &&
           strcasecmp(name, "Return-Path") != 0 && strcasecmp(name, "Delivered-To") != 0;
}

static struct smtp_hdr *hdr_get(posta_smtp_message *m, const char *name, int create)
{
    struct smtp_hdr *h = (struct smtp_hdr *)smtp_hdr_find(m->hdrs, name, strlen(name));
    if (h || !create)
        return h;
    h = calloc(1, sizeof(*h));
    if (!h || !(h->name = strdup(name))) {
        free(h);
        return NULL;
    }
    struct smtp_hdr **pp = &m->hdrs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = h;
    return h;
}

static int hdr_check(posta_smtp_message *m, const char *name)
{
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    if (smtp_check_field_name(name) < 0)
        return smtp_err(m->h, POSTA_EINVAL, "not a header field name");
    if (!settable(name))
        return smtp_err(m->h, POSTA_EINVAL, "header %s cannot be set (MIME or delivery header)",
                        name);
    return 0;
}

int posta_smtp_message_set_header(posta_smtp_message *m, const char *name, const char *value)
{
    int rc = hdr_check(m, name);
    if (rc < 0)
        return rc;
    int msgid = strcasecmp(name, "Message-Id") == 0 || strcasecmp(name, "Resent-Message-Id") == 0;
    if (!value && !msgid)
        return smtp_err(m->h, POSTA_EINVAL, "no value for header %s", name);
    if (value && !clean_text(value))
        return smtp_err(m->h, POSTA_EINVAL, "header %s: CR, LF, NUL, controls and invalid UTF-8 "
                        "are not allowed in a value", name);
    struct smtp_hdr *h = hdr_get(m, name, 1);
    if (!h)
        return smtp_err(m->h, POSTA_ENOMEM, "out of memory");
    if (h->has_value)
        return smtp_err(m->h, POSTA_EINVAL, "header %s already has a value", name);
    char *c = dup_str(value);
    if (value && !c)
        return smtp_err(m->h, POSTA_ENOMEM, "out of memory");
    h->kind = msgid ? HK_MSGID : HK_TEXT;
    h->text = c;
    h->has_value = 1;
    return 0;
}

int posta_smtp_message_set_date(posta_smtp_message *m, const char *name, time_t when)
{
    if (!name)
        name = "Date";
    int rc = hdr_check(m, name);
    if (rc < 0)
        return rc;
    struct smtp_hdr *h = hdr_get(m, name, 1);
    if (!h)
        return smtp_err(m->h, POSTA_ENOMEM, "out of memory");
    if (h->has_value)
        return smtp_err(m->h, POSTA_EINVAL, "header %s already has a value", name);
    h->kind = HK_DATE;
    h->when = when;
    h->has_value = 1;
    return 0;
}

int posta_smtp_message_add_address(posta_smtp_message *m, const char *name, const char *phrase,
                                   const char *mailbox)
{
    char why[160];
    int utf8;
    int rc = hdr_check(m, name);
    if (rc < 0)
        return rc;
    int list = is_list_header(name);
    if (!list && strcasecmp(name, "Sender") != 0 && strcasecmp(name, "Resent-Sender") != 0)
        return smtp_err(m->h, POSTA_EINVAL, "%s is not an address header", name);
    if (smtp_check_mailbox(mailbox, 0, &utf8, why, sizeof(why)) < 0 || strchr(mailbox, ','))
        return smtp_err(m->h, POSTA_EINVAL, "header %s: mailbox refused: %s", name,
                        strchr(mailbox ? mailbox : "", ',') ? "comma in mailbox" : why);
    if (phrase && !clean_text(phrase))
        return smtp_err(m->h, POSTA_EINVAL, "header %s: controls or invalid UTF-8 in the phrase",
                        name);
    struct smtp_hdr *h = hdr_get(m, name, 1);
    if (!h)
        return smtp_err(m->h, POSTA_ENOMEM, "out of memory");
    if (h->has_value && (h->kind != HK_ADDR || !list))
        return smtp_err(m->h, POSTA_EINVAL, "header %s already has a value", name);
    struct smtp_addr *a = calloc(1, sizeof(*a));
    if (!a || !(a->mailbox = strdup(mailbox)) || (phrase && !(a->phrase = strdup(phrase)))) {
        if (a)
            free(a->mailbox);
        free(a);
        return smtp_err(m->h, POSTA_ENOMEM, "out of memory");
    }
    if (h->addrs_tail)
        h->addrs_tail->next = a;
    else
        h->addrs = a;
    h->addrs_tail = a;
    h->kind = HK_ADDR;
    h->has_value = 1;
    return 0;
}

int posta_smtp_message_set_header_option(posta_smtp_message *m, const char *name,
                                         unsigned options)
{
    int rc = hdr_check(m, name);
    if (rc < 0)
        return rc;
    if (options & ~(unsigned)(POSTA_SMTP_HDR_OVERRIDE | POSTA_SMTP_HDR_PROHIBIT))
        return smtp_err(m->h, POSTA_EINVAL, "unknown header option bits");
    if ((options & POSTA_SMTP_HDR_PROHIBIT) &&
        (strcasecmp(name, "Date") == 0 || strcasecmp(name, "From") == 0))
        return smtp_err(m->h, POSTA_EINVAL, "RFC 5322 requires %s: it cannot be prohibited", name);
    struct smtp_hdr *h = hdr_get(m, name, 1);
    if (!h)
        return smtp_err(m->h, POSTA_ENOMEM, "out of memory");
    h->opts = options;
    return 0;
}

/* --- recipients ---------------------------------------------------------------------- */

int posta_smtp_add_recipient(posta_smtp_message *m, const char *mailbox,
                             posta_smtp_recipient **r_r)
{
    char why[160];
    int utf8;
    if (r_r)
        *r_r = NULL;
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    if (smtp_check_mailbox(mailbox, 0, &utf8, why, sizeof(why)) < 0)
        return smtp_err(m->h, POSTA_EINVAL, "recipient refused: %s", why);
    posta_smtp_recipient *r = calloc(1, sizeof(*r));
    if (!r || !(r->mailbox = strdup(mailbox))) {
        free(r);
        return smtp_err(m->h, POSTA_ENOMEM, "out of memory");
    }
    r->m = m;
    r->utf8 = utf8;
    st_clear(&r->st);
    if (m->rcpts_tail)
        m->rcpts_tail->next = r;
    else
        m->rcpts = r;
    m->rcpts_tail = r;
    m->nrcpt++;
    if (r_r)
        *r_r = r;
    return 0;
}

posta_smtp_recipient *posta_smtp_first_recipient(const posta_smtp_message *m)
{
    return m->rcpts;
}

posta_smtp_recipient *posta_smtp_next_recipient(const posta_smtp_recipient *r)
{
    return r ? r->next : NULL;
}

posta_smtp_message *posta_smtp_recipient_message(const posta_smtp_recipient *r)
{
    return r->m;
}

const char *posta_smtp_recipient_mailbox(const posta_smtp_recipient *r)
{
    return r->mailbox;
}

int posta_smtp_recipient_set_dsn_notify(posta_smtp_recipient *r, unsigned flags)
{
    if (busy(r->m->h))
        return smtp_err(r->m->h, POSTA_ESTATE, "a run is under way");
    if (flags & ~15u || ((flags & POSTA_SMTP_NOTIFY_NEVER) && flags != POSTA_SMTP_NOTIFY_NEVER))
        return smtp_err(r->m->h, POSTA_EINVAL, "NOTIFY=NEVER excludes the other values");
    r->notify = flags;
    return 0;
}

int posta_smtp_recipient_set_dsn_orcpt(posta_smtp_recipient *r, const char *addr_type,
                                       const char *address)
{
    if (busy(r->m->h))
        return smtp_err(r->m->h, POSTA_ESTATE, "a run is under way");
    if (addr_type) {
        if (!address || smtp_check_param(addr_type) < 0 || strchr(addr_type, '=') ||
            !clean_text(address) || !address[0])
            return smtp_err(r->m->h, POSTA_EINVAL, "invalid ORCPT type or address");
    }
    char *t = dup_str(addr_type), *a = addr_type ? dup_str(address) : NULL;
    if (addr_type && (!t || !a)) {
        free(t);
        free(a);
        return smtp_err(r->m->h, POSTA_ENOMEM, "out of memory");
    }
    free(r->orcpt_type);
    free(r->orcpt);
    r->orcpt_type = t;
    r->orcpt = a;
    return 0;
}

int posta_smtp_recipient_add_param(posta_smtp_recipient *r, const char *param)
{
    return add_param(r->m->h, &r->params, &r->params_tail, param);
}

/* --- results ------------------------------------------------------------------------- */

const posta_smtp_status *posta_smtp_message_status(const posta_smtp_message *m)
{
    return &m->st.pub;
}

const posta_smtp_status *posta_smtp_message_mail_status(const posta_smtp_message *m)
{
    return &m->mail_st.pub;
}

int posta_smtp_message_sent(const posta_smtp_message *m)
{
    return m->st.pub.code >= 200 && m->st.pub.code < 300;
}

int posta_smtp_message_reset_status(posta_smtp_message *m)
{
    if (busy(m->h))
        return smtp_err(m->h, POSTA_ESTATE, "a run is under way");
    st_clear(&m->st);
    st_clear(&m->mail_st);
    return 0;
}

const posta_smtp_status *posta_smtp_recipient_status(const posta_smtp_recipient *r)
{
    return &r->st.pub;
}

int posta_smtp_recipient_complete(const posta_smtp_recipient *r)
{
    return st_final(&r->st);
}

int posta_smtp_recipient_reset_status(posta_smtp_recipient *r)
{
    if (busy(r->m->h))
        return smtp_err(r->m->h, POSTA_ESTATE, "a run is under way");
    st_clear(&r->st);
    return 0;
}

void *posta_smtp_message_set_user(posta_smtp_message *m, void *user)
{
    void *old = m->user;
    m->user = user;
    return old;
}

void *posta_smtp_message_get_user(const posta_smtp_message *m)
{
    return m->user;
}

void *posta_smtp_recipient_set_user(posta_smtp_recipient *r, void *user)
{
    void *old = r->user;
    r->user = user;
    return old;
}

void *posta_smtp_recipient_get_user(const posta_smtp_recipient *r)
{
    return r->user;
}

/* --- ETRN ---------------------------------------------------------------------------- */

int posta_smtp_add_etrn(posta_smtp *h, int option, const char *node, posta_smtp_etrn **n_r)
{
    if (n_r)
        *n_r = NULL;
    if (busy(h))
        return smtp_err(h, POSTA_ESTATE, "a run is under way");
    if (option != 0 && option != '@' && option != '#')
        return smtp_err(h, POSTA_EINVAL, "ETRN option must be 0, '@' or '#'");
    if (!node || !node[0] || strlen(node) > 255)
        return smtp_err(h, POSTA_EINVAL, "ETRN needs a node name of 1 to 255 octets");
    for (const char *p = node; *p; p++)
        if ((unsigned char)*p <= 32 || (unsigned char)*p >= 127)
            return smtp_err(h, POSTA_EINVAL, "ETRN node must be printable ASCII without spaces");
    posta_smtp_etrn *n = calloc(1, sizeof(*n));
    if (!n || !(n->node = strdup(node))) {
        free(n);
        return smtp_err(h, POSTA_ENOMEM, "out of memory");
    }
    n->option = option;
    st_clear(&n->st);
    if (h->etrns_tail)
        h->etrns_tail->next = n;
    else
        h->etrns = n;
    h->etrns_tail = n;
    if (n_r)
        *n_r = n;
    return 0;
}

void smtp_etrn_free(posta_smtp_etrn *n)
{
    free(n->node);
    st_clear(&n->st);
    free(n);
}

posta_smtp_etrn *posta_smtp_first_etrn(const posta_smtp *h)
{
    return h->etrns;
}

posta_smtp_etrn *posta_smtp_next_etrn(const posta_smtp_etrn *n)
{
    return n ? n->next : NULL;
}

int posta_smtp_etrn_option(const posta_smtp_etrn *n)
{
    return n->option;
}

const char *posta_smtp_etrn_node(const posta_smtp_etrn *n)
{
    return n->node;
}

const posta_smtp_status *posta_smtp_etrn_status(const posta_smtp_etrn *n)
{
    return &n->st.pub;
}

void *posta_smtp_etrn_set_user(posta_smtp_etrn *n, void *user)
{
    void *old = n->user;
    n->user = user;
    return old;
}

void *posta_smtp_etrn_get_user(const posta_smtp_etrn *n)
{
    return n->user;
}
