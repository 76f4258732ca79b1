/* Mail transactions: each message (and each RCPTMAX batch of its
 * recipients) becomes MAIL, RCPT..., then DATA or BDAT; replies become
 * statuses; the data producer streams the message through header processing
 * and the canonicalizer into the output, bounded, never whole. */
#include "smtp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Raw input fed to the canonicalizer per step: its output (at most twice as
 * much) then fits the output mark with room to spare. */
#define FEED_MAX (16u * 1024u)

static int pipelining(const posta_smtp *h)
{
    return h->pipelining_on && (h->ext & POSTA_SMTP_EXT_PIPELINING);
}

static int is2xx(int code)
{
    return code >= 200 && code < 300;
}

/* --- lifetime ---------------------------------------------------------------- */

static void txn_free(struct smtp_txn *t)
{
    free(t->rcpts);
    free(t->acc);
    posta__buf_free(&t->hdr);
    posta__buf_free(&t->bbuf);
    st_clear(&t->fail);
    free(t);
}

static void unlink_txn(posta_smtp *h, struct smtp_txn *t)
{
    struct smtp_txn **pp = &h->txns;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp)
        *pp = t->next;
    h->txns_tail = NULL;
    for (struct smtp_txn *x = h->txns; x; x = x->next)
        h->txns_tail = x;
    if (h->producer == t)
        h->producer = NULL;
}

void smtp_txn_free_all(posta_smtp *h)
{
    while (h->txns) {
        struct smtp_txn *t = h->txns;
        h->txns = t->next;
        txn_free(t);
    }
    h->txns_tail = NULL;
    h->producer = NULL;
}

int smtp_txn_can_start(const posta_smtp *h)
{
    if (h->producer)
        return 0;
    for (const struct smtp_txn *t = h->txns; t; t = t->next)
        if (t->state == TX_ENVELOPE || t->state == TX_DATA)
            return 0;
    if (pipelining(h) && h->pipe_txns)
        return 1;   /* right behind the previous end of data (RFC 2920 3.1) */
    return h->exp_n == 0 && !h->txns;
}

/* --- statuses ----------------------------------------------------------------- */

/* The message's status over the transactions of one run: the first sets it,
 * a later failure replaces a success. */
static void merge_status(posta_smtp *h, posta_smtp_message *m, const struct smtp_st *st)
{
    if (st->pub.code == 0)
        return;
    if (m->st_gen != h->run_gen || is2xx(m->st.pub.code)) {
        st_copy(&m->st, st);
        m->st_gen = h->run_gen;
    }
}

static void emit_sent(posta_smtp *h, posta_smtp_message *m)
{
    posta_smtp_event ev = {.type = POSTA_SMTP_EV_MESSAGESENT, .message = m, .status = &m->st.pub};
    smtp_emit(h, &ev);
}

/* A message that fails before anything of it is sent. */
static void fail_early(posta_smtp *h, posta_smtp_message *m, int code, const char *enh, int err,
                       const char *fmt, ...) POSTA_PRINTF(6, 7);
static void fail_early(posta_smtp *h, posta_smtp_message *m, int code, const char *enh, int err,
                       const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    struct smtp_st st = {.text = NULL};
    st_clear(&st);
    st_set_local(&st, code, enh, err, "%s", text);
    merge_status(h, m, &st);
    st_clear(&st);
    emit_sent(h, m);
}

/* The data phase failed: accepted recipients share the outcome, so that a
 * temporary failure is retried and a permanent one is final. */
static void fail_accepted(struct smtp_txn *t, const struct smtp_st *st)
{
    for (size_t i = 0; i < t->nacc; i++)
        st_copy(&t->acc[i]->st, st);
}

static void set_fail_local(struct smtp_txn *t, int code, const char *enh, int err, const char *fmt,
                           ...) POSTA_PRINTF(5, 6);
static void set_fail_local(struct smtp_txn *t, int code, const char *enh, int err, const char *fmt,
                           ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    st_set_local(&t->fail, code, enh, err, "%s", text);
    t->failed = 1;
}

/* Nobody (or not everybody, with require-all) accepted: the code follows
 * the refusals, so a temporary one leaves the message to a later run. */
static void fail_recipients(posta_smtp *h, struct smtp_txn *t, const char *what)
{
    int temp = t->refused_perm == 0;
    set_fail_local(t, temp ? 451 : 554, temp ? "4.5.0" : "5.5.0", POSTA_ENO, "%s (%s)", what,
                   smtp_peer(h));
    fail_accepted(t, &t->fail);
}

/* --- the end of a transaction ----------------------------------------------------- */

static void complete(posta_smtp *h, struct smtp_txn *t)
{
    posta_smtp_message *m = t->m;
    int rset = t->mail_ok && t->failed;
    t->state = TX_DONE;
    merge_status(h, m, &t->fail);
    unlink_txn(h, t);
    txn_free(t);
    emit_sent(h, m);
    /* RFC 5321 4.1.1.5: a transaction that got MAIL accepted but no data is
     * aborted before the next one. */
    if (rset && h->cs == CS_READY && !h->free_pending) {
        if (smtp_write_cmd(h, NULL, "RSET") < 0 || smtp_expect(h, XK_RSET, NULL, NULL, NULL) < 0)
            smtp_conn_end(h, POSTA_ENOMEM, "out of memory");
    }
}

static void settle(posta_smtp *h, struct smtp_txn *t)
{
    if (t->pending == 0 && t->state != TX_DATA && (t->failed || t->state == TX_SENT))
        complete(h, t);
}

void smtp_txn_abandon(posta_smtp *h, int code, const char *why)
{
    while (h->txns) {
        struct smtp_txn *t = h->txns;
        if (!t->failed && t->mail_ok) {
            int bye = code == POSTA_EBYE;
            st_set_local(&t->fail, bye ? 421 : 451, "4.4.2", code,
                         "no reply to the end of data: %s", why);
            fail_accepted(t, &t->fail);
        } else if (!t->failed) {
            st_set_local(&t->fail, code == POSTA_EBYE ? 421 : 451, "4.4.2", code,
                         "the transaction did not complete: %s", why);
        }
        t->failed = 1;
        t->mail_ok = 0;   /* no RSET on a dead connection */
        t->pending = 0;
        t->state = TX_SENT;
        complete(h, t);
    }
    h->producer = NULL;
}

/* --- MAIL and RCPT ------------------------------------------------------------------- */

static int msg_utf8(const posta_smtp_message *m)
{
    if (m->smtputf8 || m->rp_utf8)
        return 1;
    for (const posta_smtp_recipient *r = m->rcpts; r; r = r->next)
        if (r->utf8)
            return 1;
    return 0;
}

static int wants_dsn(const struct smtp_txn *t)
{
    if (t->m->ret || t->m->envid)
        return 1;
    for (size_t i = 0; i < t->nrcpt; i++)
        if (t->rcpts[i]->notify || t->rcpts[i]->orcpt)
            return 1;
    return 0;
}

static int add_params(struct posta_buf *b, const struct smtp_param *p)
{
    int rc = 0;
    for (; p && rc == 0; p = p->next)
        rc = posta__buf_appendf(b, " %s", p->s);
    return rc;
}

static int mail_line(posta_smtp *h, struct smtp_txn *t, struct posta_buf *b)
{
    const posta_smtp_message *m = t->m;
    unsigned x = h->ext;
    int rc = posta__buf_appendf(b, "MAIL FROM:<%s>", m->rp);
    if (rc == 0 && (x & POSTA_SMTP_EXT_SIZE) && t->declared)
        rc = posta__buf_appendf(b, " SIZE=%llu", t->declared);
    if (rc == 0 && m->body == POSTA_SMTP_BODY_BINARYMIME)
        rc = posta__buf_appendf(b, " BODY=BINARYMIME");
    else if (rc == 0 && m->body && (x & POSTA_SMTP_EXT_8BITMIME))
        rc = posta__buf_appendf(b, " BODY=%s", m->body == POSTA_SMTP_BODY_7BIT ? "7BIT" : "8BITMIME");
    if (rc == 0 && msg_utf8(m))
        rc = posta__buf_appendf(b, " SMTPUTF8");
    if (rc == 0 && (x & POSTA_SMTP_EXT_DSN) && m->ret)
        rc = posta__buf_appendf(b, " RET=%s", m->ret == POSTA_SMTP_RET_FULL ? "FULL" : "HDRS");
    if (rc == 0 && (x & POSTA_SMTP_EXT_DSN) && m->envid) {
        rc = posta__buf_appendf(b, " ENVID=");
        if (rc == 0)
            rc = smtp_xtext(b, m->envid, strlen(m->envid));
    }
    if (rc == 0 && (x & POSTA_SMTP_EXT_DELIVERBY) && m->by_mode)
        rc = posta__buf_appendf(b, " BY=%ld;%c%s", m->by_time,
                                m->by_mode == POSTA_SMTP_BY_RETURN ? 'R' : 'N', m->by_trace ? "T" : "");
    if (rc == 0 && (x & POSTA_SMTP_EXT_MTPRIORITY) && m->has_prio)
        rc = posta__buf_appendf(b, " MT-PRIORITY=%d", m->prio);
    if (rc == 0 && m->holdfor)
        rc = posta__buf_appendf(b, " HOLDFOR=%ld", m->holdfor);
    if (rc == 0 && m->holduntil) {
        struct tm tm;
        char when[40];
        gmtime_r(&m->holduntil, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        rc = posta__buf_appendf(b, " HOLDUNTIL=%s", when);
    }
    if (rc == 0 && m->requiretls)
        rc = posta__buf_appendf(b, " REQUIRETLS");
    if (rc == 0)
        rc = add_params(b, m->params);
    return rc;
}

static int rcpt_line(posta_smtp *h, const posta_smtp_recipient *r, struct posta_buf *b)
{
    int rc = posta__buf_appendf(b, "RCPT TO:<%s>", r->mailbox);
    if (rc == 0 && (h->ext & POSTA_SMTP_EXT_DSN) && r->notify) {
        static const char *const names[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY"};
        const char *sep = " NOTIFY=";
        for (int i = 0; i < 4 && rc == 0; i++)
            if (r->notify & (1u << i)) {
                rc = posta__buf_appendf(b, "%s%s", sep, names[i]);
                sep = ",";
            }
    }
    if (rc == 0 && (h->ext & POSTA_SMTP_EXT_DSN) && r->orcpt) {
        rc = posta__buf_appendf(b, " ORCPT=%s;", r->orcpt_type);
        if (rc == 0)
            rc = smtp_xtext(b, r->orcpt, strlen(r->orcpt));
    }
    if (rc == 0)
        rc = add_params(b, r->params);
    return rc;
}

static int write_line(posta_smtp *h, struct posta_buf *b)
{
    int rc = posta__buf_append(b, "\r\n", 2);
    if (rc == 0)
        rc = posta__buf_append(&h->out, posta__buf_head(b), posta__buf_used(b));
    if (rc == 0 && h->cb.on_monitor)
        rc = posta__buf_append(&h->mon, posta__buf_head(b), posta__buf_used(b));
    posta__buf_reset(b);
    return rc;
}

/* Write envelope steps: all of them with PIPELINING (RFC 2920: MAIL, every
 * RCPT and DATA in one group), else the next one only. */
static int write_steps(posta_smtp *h, struct smtp_txn *t)
{
    struct posta_buf b;
    posta__buf_init(&b, 0);
    int rc = 0;
    do {
        size_t s = t->step;
        if (s >= t->nsteps)
            break;
        if (s == 0) {
            rc = mail_line(h, t, &b);
            if (rc == 0)
                rc = write_line(h, &b);
            if (rc == 0)
                rc = smtp_expect(h, XK_MAIL, t, NULL, NULL);
        } else if (s <= t->nrcpt) {
            rc = rcpt_line(h, t->rcpts[s - 1], &b);
            if (rc == 0)
                rc = write_line(h, &b);
            if (rc == 0)
                rc = smtp_expect(h, XK_RCPT, t, t->rcpts[s - 1], NULL);
        } else {
            rc = smtp_write_cmd(h, NULL, "DATA");
            if (rc == 0)
                rc = smtp_expect(h, XK_DATA, t, NULL, NULL);
        }
        t->step++;
    } while (rc == 0 && pipelining(h));
    posta__buf_free(&b);
    if (rc < 0)
        smtp_conn_end(h, rc, "cannot build the envelope: %s", posta_strerror(rc));
    return rc;
}

/* --- preparing a transaction ------------------------------------------------------- */

static void warn_cb(void *ctx, const char *what)
{
    struct smtp_txn *t = ctx;
    posta_smtp_event ev = {.type = POSTA_SMTP_EV_SYNTAXWARNING, .message = t->m, .name = what};
    smtp_emit(t->m->h, &ev);
}

/* EXTNA for an extension the message asks for; returns 1 when the event
 * callback asked to end the session. */
static int extna(posta_smtp *h, posta_smtp_message *m, unsigned ext, const char *name)
{
    int quit = 0;
    posta_smtp_event ev = {.type = POSTA_SMTP_EV_EXTNA, .message = m, .extension = ext,
                           .name = name, .quit = &quit};
    smtp_emit(h, &ev);
    return quit;
}

/* Extensions the message needs: 0 when it may go; otherwise it failed (or
 * the session is ending). */
static int check_needs(posta_smtp *h, posta_smtp_message *m)
{
    static const struct {
        unsigned ext;
        const char *name, *enh;
    } need[] = {
        {POSTA_SMTP_EXT_SMTPUTF8, "SMTPUTF8", "5.6.7"},
        {POSTA_SMTP_EXT_BINARYMIME, "BINARYMIME", "5.3.3"},
        {POSTA_SMTP_EXT_CHUNKING, "CHUNKING", "5.3.3"},
        {POSTA_SMTP_EXT_REQUIRETLS, "REQUIRETLS", "5.7.10"},
        {POSTA_SMTP_EXT_FUTURERELEASE, "FUTURERELEASE", "5.3.3"},
        {POSTA_SMTP_EXT_DELIVERBY, "DELIVERBY", "5.3.3"},
    };
    int binary = m->body == POSTA_SMTP_BODY_BINARYMIME;
    int asks[] = {msg_utf8(m), binary, binary, m->requiretls, m->holdfor || m->holduntil,
                  m->by_mode == POSTA_SMTP_BY_RETURN};
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
        int have = (h->ext & need[i].ext) != 0;
        if (need[i].ext == POSTA_SMTP_EXT_CHUNKING)
            have = have && h->chunking_on;
        if (!asks[i] || have)
            continue;
        int q = extna(h, m, need[i].ext, need[i].name);
        fail_early(h, m, 554, need[i].enh, POSTA_EUNSUPPORTED,
                   "%s does not offer %s, which the message needs", smtp_peer(h), need[i].name);
        return q ? -1 : 1;
    }
    if (m->requiretls && !posta_stream_tls_active(h->stream)) {
        fail_early(h, m, 554, "5.7.10", POSTA_EPOLICY, "REQUIRETLS needs a TLS connection");
        return 1;
    }
    long hold = m->holdfor ? m->holdfor : m->holduntil ? (long)(m->holduntil - time(NULL)) : 0;
    if (hold && h->fr_interval && hold > h->fr_interval) {
        fail_early(h, m, 554, "5.3.3", POSTA_ELIMIT, "the release time is beyond %s's limit of "
                   "%ld seconds", smtp_peer(h), h->fr_interval);
        return 1;
    }
    return 0;
}

/* Advisory extensions: the parameter is left out (libESMTP's EXTNA). */
static int check_wishes(posta_smtp *h, struct smtp_txn *t)
{
    posta_smtp_message *m = t->m;
    int q = 0;
    if (wants_dsn(t) && !(h->ext & POSTA_SMTP_EXT_DSN))
        q |= extna(h, m, POSTA_SMTP_EXT_DSN, "DSN");
    if ((m->body == POSTA_SMTP_BODY_8BITMIME || m->body == POSTA_SMTP_BODY_7BIT) &&
        !(h->ext & POSTA_SMTP_EXT_8BITMIME))
        q |= extna(h, m, POSTA_SMTP_EXT_8BITMIME, "8BITMIME");
    if (m->has_prio && !(h->ext & POSTA_SMTP_EXT_MTPRIORITY))
        q |= extna(h, m, POSTA_SMTP_EXT_MTPRIORITY, "MT-PRIORITY");
    if (m->by_mode == POSTA_SMTP_BY_NOTIFY && !(h->ext & POSTA_SMTP_EXT_DELIVERBY))
        q |= extna(h, m, POSTA_SMTP_EXT_DELIVERBY, "DELIVERBY");
    if (m->by_mode && (h->ext & POSTA_SMTP_EXT_DELIVERBY) && h->by_min > 0 && m->by_time < h->by_min) {
        int quit = 0;
        posta_smtp_event ev = {.type = POSTA_SMTP_EV_DELIVERBY_EXPIRED, .message = m,
                               .value = h->by_min - m->by_time, .quit = &quit};
        smtp_emit(h, &ev);
        q |= quit;
    }
    return q;
}

/* The next batch of recipients: those not complete, at most RCPTMAX. */
static int pick_recipients(posta_smtp *h, struct smtp_txn *t)
{
    posta_smtp_message *m = t->m;
    size_t max = h->rcptmax ? h->rcptmax : m->nrcpt;
    t->rcpts = calloc(m->nrcpt ? m->nrcpt : 1, sizeof(*t->rcpts));
    t->acc = calloc(m->nrcpt ? m->nrcpt : 1, sizeof(*t->acc));
    if (!t->rcpts || !t->acc)
        return POSTA_ENOMEM;
    posta_smtp_recipient *r = m->cursor;
    for (; r && t->nrcpt < max; r = r->next)
        if (!st_final(&r->st))
            t->rcpts[t->nrcpt++] = r;
    m->cursor = r;
    while (m->cursor && st_final(&m->cursor->st))
        m->cursor = m->cursor->next;
    if (!m->cursor)
        m->in_run = 0;   /* every recipient has its transaction */
    return 0;
}

/* Read the header section ahead and process it; t->hdr then holds what is
 * sent before the rest of the source. */
static int read_headers(posta_smtp *h, struct smtp_txn *t, char *why, size_t whysz,
                        long long *raw_used)
{
    posta_smtp_message *m = t->m;
    struct posta_buf fields;
    struct smtp_scan sc;
    posta__buf_init(&fields, 0);
    smtp_scan_init(&sc, &fields, h->header_limit);
    int rc = 0;
    *raw_used = 0;
    while (!sc.done && rc == 0) {
        if (t->coff >= t->clen) {
            rc = smtp_src_read(m, &t->chunk, &t->clen);
            t->coff = 0;
            if (rc == 0 && t->clen == 0) {
                t->src_eof = 1;
                rc = smtp_scan_eof(&sc);
                break;
            }
            continue;
        }
        long n = smtp_scan_feed(&sc, t->chunk + t->coff, t->clen - t->coff);
        if (n < 0)
            rc = (int)n;
        else {
            t->coff += (size_t)n;
            *raw_used += n;
        }
    }
    if (rc < 0) {
        if (rc == POSTA_ELIMIT)
            snprintf(why, whysz, "the header section is longer than %zu octets", h->header_limit);
        else
            snprintf(why, whysz, "reading the message failed: %s", posta_strerror(rc));
        posta__buf_free(&fields);
        return rc;
    }
    size_t fend = sc.prefix != SIZE_MAX ? sc.prefix : posta__buf_used(&fields);
    const unsigned char *fp = posta__buf_head(&fields);
    if (m->hdr_on) {
        const char **rc_names = calloc(m->nrcpt ? m->nrcpt : 1, sizeof(*rc_names));
        size_t k = 0;
        for (const posta_smtp_recipient *r = m->rcpts; r; r = r->next)
            if (rc_names)
                rc_names[k++] = r->mailbox;
        char msgid[320], date[64];
        smtp_make_msgid(h->ehlo_name, msgid, sizeof(msgid));
        smtp_format_date(time(NULL), date, sizeof(date));
        struct smtp_hdr_opts o = {.api = m->hdrs, .reverse_path = m->rp, .rcpts = rc_names,
                                  .nrcpt = rc_names ? k : 0, .resent = m->resent,
                                  .utf8 = msg_utf8(m) && (h->ext & POSTA_SMTP_EXT_SMTPUTF8),
                                  .fold = m->long_lines == POSTA_SMTP_LONG_FOLD, .msgid = msgid,
                                  .date = date, .warn = warn_cb, .ctx = t};
        rc = rc_names ? smtp_headers_process(fp, fend, &o, &t->hdr, why, whysz) : POSTA_ENOMEM;
        free(rc_names);
    } else {
        rc = posta__buf_append(&t->hdr, fp, fend);
    }
    if (rc == 0)
        rc = posta__buf_append(&t->hdr, "\r\n", 2);
    t->body_at = posta__buf_used(&t->hdr);
    if (rc == 0 && sc.prefix != SIZE_MAX)
        rc = posta__buf_append(&t->hdr, fp + sc.prefix, posta__buf_used(&fields) - sc.prefix);
    posta__buf_free(&fields);
    if (rc == POSTA_ENOMEM)
        snprintf(why, whysz, "out of memory");
    return rc;
}

/* An in-memory body may gain a CR per line end: count them so that SIZE
 * is not below what is sent.  Other sources are estimated by their length. */
static unsigned long long line_ends(const posta_smtp_message *m, size_t from)
{
    const struct smtp_src *s = &m->src;
    unsigned long long n = 0;
    if (s->kind != SRC_BUF)
        return 0;
    for (const unsigned char *p = s->buf + from, *end = s->buf + s->len; p < end; n++) {
        p = memchr(p, '\n', (size_t)(end - p));
        if (!p)
            break;
        p++;
    }
    return n + 2;   /* a final line without its ending */
}

static int prepare_data(posta_smtp *h, struct smtp_txn *t)
{
    posta_smtp_message *m = t->m;
    char why[400] = "";
    int rc = smtp_src_rewind(m);
    if (rc < 0) {
        fail_early(h, m, rc == POSTA_ESTATE ? 554 : 451, rc == POSTA_ESTATE ? "5.3.0" : "4.3.0", rc,
                   "the message source cannot be %s", rc == POSTA_ESTATE ? "read twice" : "rewound");
        return rc;
    }
    long long raw_used = 0;
    if (m->hdr_on || t->binary) {
        rc = read_headers(h, t, why, sizeof(why), &raw_used);
        if (rc < 0) {
            int temp = rc != POSTA_ELIMIT && rc != POSTA_EINVAL;
            fail_early(h, m, temp ? 451 : 554, temp ? "4.3.0" : "5.6.0", rc, "%s", why);
            return rc;
        }
    }
    long long len = smtp_src_length(m);
    t->declared = m->size;
    if (!t->declared && len >= 0)
        t->declared = (unsigned long long)(len - raw_used) + posta__buf_used(&t->hdr) +
                      line_ends(m, (size_t)raw_used);
    if (h->size_limit && t->declared > h->size_limit) {
        fail_early(h, m, 552, "5.3.4", POSTA_ELIMIT, "the message (%llu octets) is larger than "
                   "%s accepts (%llu)", t->declared, smtp_peer(h), h->size_limit);
        return POSTA_ELIMIT;
    }
    return 0;
}

/* Build a transaction for the message at the cursor; 1 when its envelope
 * went out, 0 when it failed before (statuses set), < 0 to stop. */
static int start_one(posta_smtp *h, posta_smtp_message *m)
{
    if (m->nrcpt == 0) {
        m->in_run = 0;
        fail_early(h, m, 554, "5.5.1", POSTA_EINVAL, "the message has no recipients");
        return 0;
    }
    if (m->src.kind == SRC_NONE) {
        m->in_run = 0;
        fail_early(h, m, 554, "5.6.0", POSTA_EINVAL, "the message has no source");
        return 0;
    }
    int q = check_needs(h, m);
    if (q) {
        m->in_run = 0;
        return q < 0 ? -1 : 0;
    }
    struct smtp_txn *t = calloc(1, sizeof(*t));
    if (!t)
        return POSTA_ENOMEM;
    t->m = m;
    st_clear(&t->fail);
    posta__buf_init(&t->hdr, 0);
    posta__buf_init(&t->bbuf, 0);
    t->binary = m->body == POSTA_SMTP_BODY_BINARYMIME;
    t->bdat = t->binary || (h->chunking_on && (h->ext & POSTA_SMTP_EXT_CHUNKING));
    t->data_in_envelope = !t->bdat && pipelining(h) && !h->require_all;
    int rc = pick_recipients(h, t);
    if (rc == 0 && check_wishes(h, t)) {
        txn_free(t);
        return -1;
    }
    if (rc == 0 && prepare_data(h, t) < 0) {
        for (size_t i = 0; i < t->nrcpt; i++)
            st_copy(&t->rcpts[i]->st, &m->st);   /* they share the message's fate */
        txn_free(t);
        return 0;
    }
    if (rc < 0) {
        txn_free(t);
        return rc;
    }
    t->nsteps = 1 + t->nrcpt + (t->data_in_envelope ? 1 : 0);
    if (h->txns_tail)
        h->txns_tail->next = t;
    else
        h->txns = t;
    h->txns_tail = t;
    h->ntxn++;
    write_steps(h, t);
    return 1;
}

int smtp_txn_next(posta_smtp *h)
{
    while (h->cursor) {
        posta_smtp_message *m = h->cursor;
        if (!m->in_run || !smtp_msg_needs_run(m)) {
            h->cursor = m->next;
            continue;
        }
        if (!m->cursor)
            m->cursor = m->rcpts;
        int rc = start_one(h, m);
        if (!m->in_run)
            h->cursor = m->next;
        if (rc == -1) {
            h->quit_req = 1;
            if (!h->run_error)
                h->run_error = posta__err_set(&h->err, POSTA_ECANCELED,
                                              "the event callback ended the session");
            return 0;
        }
        if (rc < 0) {
            smtp_conn_end(h, rc, "%s", posta_strerror(rc));
            return 0;
        }
        if (rc == 1)
            return 1;
        if (h->free_pending || h->cs != CS_READY)
            return 0;
    }
    return 0;
}

/* --- the data producer --------------------------------------------------------------- */

static void show_headers(posta_smtp *h, struct smtp_txn *t)
{
    if (!h->monitor_headers || !h->cb.on_monitor || t->shown)
        return;
    t->shown = 1;
    const char *p = (const char *)posta__buf_head(&t->hdr);
    size_t end = t->body_at >= 2 ? t->body_at - 2 : 0;
    size_t i = 0;
    while (i < end) {
        size_t j = i;
        do {   /* a field: its line and the continuation lines after it */
            const char *nl = memchr(p + j, '\n', end - j);
            j = nl ? (size_t)(nl - p) + 1 : end;
        } while (j < end && (p[j] == ' ' || p[j] == '\t'));
        smtp_monitor(h, p + i, j - i, POSTA_SMTP_MON_HEADERS);
        i = j;
    }
}

static void start_producer(posta_smtp *h, struct smtp_txn *t)
{
    t->state = TX_DATA;
    h->producer = t;
    smtp_canon_init(&t->cn, !t->bdat, t->m->long_lines == POSTA_SMTP_LONG_FOLD);
    if (!t->m->hdr_on && !t->binary)
        t->body_at = 0;
    show_headers(h, t);
}

/* The next raw piece of the message; 0 with *n 0 at the end. */
static int next_piece(struct smtp_txn *t, const unsigned char **p, size_t *n)
{
    size_t hu = posta__buf_used(&t->hdr);
    if (t->hdr_off < hu) {
        size_t stop = t->hdr_off < t->body_at ? t->body_at : hu;
        t->cn.binary = t->binary && t->hdr_off >= t->body_at;
        *p = posta__buf_head(&t->hdr) + t->hdr_off;
        *n = stop - t->hdr_off;
        return 0;
    }
    t->cn.binary = t->binary;
    while (t->coff >= t->clen && !t->src_eof) {
        int rc = smtp_src_read(t->m, &t->chunk, &t->clen);
        t->coff = 0;
        if (rc < 0)
            return rc;
        if (t->clen == 0)
            t->src_eof = 1;
    }
    *p = t->src_eof && t->coff >= t->clen ? NULL : t->chunk + t->coff;
    *n = *p ? t->clen - t->coff : 0;
    return 0;
}

static void consumed(struct smtp_txn *t, size_t n)
{
    if (t->hdr_off < posta__buf_used(&t->hdr))
        t->hdr_off += n;
    else
        t->coff += n;
}

static int emit_chunk(posta_smtp *h, struct smtp_txn *t, int last)
{
    size_t n = posta__buf_used(&t->bbuf);
    int rc = smtp_write_cmd(h, NULL, "BDAT %zu%s", n, last ? " LAST" : "");
    if (rc == 0)
        rc = posta__buf_append(&h->out, posta__buf_head(&t->bbuf), n);
    posta__buf_reset(&t->bbuf);
    if (rc == 0 && !last) {
        rc = smtp_expect(h, XK_BDAT, t, NULL, NULL);
        t->bdat_wait = !pipelining(h);
    }
    return rc;
}

/* Expect the replies to the end of data: one, or in LMTP one per accepted
 * recipient (RFC 2033 4.2). */
static int expect_final(posta_smtp *h, struct smtp_txn *t)
{
    size_t n = h->lmtp ? t->nacc : 1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = smtp_expect(h, XK_DOT, t, h->lmtp ? t->acc[i] : NULL, NULL);
    return rc;
}

static int finish_data(posta_smtp *h, struct smtp_txn *t)
{
    int rc = smtp_canon_finish(&t->cn, t->bdat ? &t->bbuf : &h->out);
    if (rc == 0 && t->bdat)
        rc = emit_chunk(h, t, 1);
    else if (rc == 0) {
        rc = posta__buf_append(&h->out, ".\r\n", 3);
        if (rc == 0 && h->cb.on_monitor)
            rc = posta__buf_append(&h->mon, ".\r\n", 3);
    }
    if (rc == 0)
        rc = expect_final(h, t);
    t->state = TX_SENT;
    h->producer = NULL;
    return rc;
}

/* The message cannot go on (a line too long, the source failed).  With
 * BDAT the chunks simply stop and RSET discards what arrived; inside DATA
 * only hanging up stops the server from taking a partial message. */
static void abort_data(posta_smtp *h, struct smtp_txn *t, int rc)
{
    if (rc == POSTA_ELIMIT)
        set_fail_local(t, 554, "5.6.0", rc, "the message has a line longer than 998 octets");
    else
        set_fail_local(t, rc == POSTA_ENOMEM ? 452 : 451, "4.3.0", rc,
                       "reading the message failed: %s", posta_strerror(rc));
    fail_accepted(t, &t->fail);
    h->producer = NULL;
    t->state = TX_SENT;
    if (t->bdat) {
        settle(h, t);
        return;
    }
    t->pending = 0;
    t->mail_ok = 0;   /* no RSET: the connection is dropped instead */
    complete(h, t);
    if (h->free_pending)
        return;
    h->restart = 1;
    smtp_conn_end(h, rc, "message data aborted: %s", posta_strerror(rc));
}

void smtp_txn_produce(posta_smtp *h)
{
    struct smtp_txn *t = h->producer;
    unsigned long long before = t->bytes;
    size_t out0 = posta__buf_used(&h->out);
    int rc = 0;

    while (rc == 0 && h->producer == t && posta__buf_used(&h->out) < SMTP_OUT_HIGH) {
        if (t->bdat && (t->failed || t->bdat_wait))
            break;
        const unsigned char *p;
        size_t n;
        rc = next_piece(t, &p, &n);
        if (rc < 0)
            break;
        if (!p) {
            rc = finish_data(h, t);
            break;
        }
        struct posta_buf *dst = t->bdat ? &t->bbuf : &h->out;
        if (n > FEED_MAX)
            n = FEED_MAX;
        if (t->bdat && posta__buf_used(&t->bbuf) + 2 * n > h->chunk_size)
            n = h->chunk_size > posta__buf_used(&t->bbuf) + 2
                    ? (h->chunk_size - posta__buf_used(&t->bbuf)) / 2 : 1;
        size_t o = posta__buf_used(dst);
        rc = smtp_canon_feed(&t->cn, p, n, dst);
        if (rc < 0)
            break;
        consumed(t, n);
        t->bytes += posta__buf_used(dst) - o;
        if (t->bdat && posta__buf_used(&t->bbuf) >= h->chunk_size)
            rc = emit_chunk(h, t, 0);
    }
    if (rc < 0 && h->producer == t) {
        abort_data(h, t, rc);
        return;
    }
    if (rc < 0) {
        smtp_conn_end(h, rc, "%s", posta_strerror(rc));
        return;
    }
    if (t->failed && t->bdat && h->producer == t) {
        /* A BDAT chunk was refused: stop, and settle once its replies are in. */
        h->producer = NULL;
        t->state = TX_SENT;
        settle(h, t);
        return;
    }
    if (t->bytes > before || posta__buf_used(&h->out) > out0) {
        posta_smtp_event ev = {.type = POSTA_SMTP_EV_MESSAGEDATA, .message = t->m,
                               .value = (long long)(t->bytes - before),
                               .total = (long long)t->bytes};
        smtp_emit(h, &ev);
    }
}

/* --- replies ---------------------------------------------------------------------------- */

static void write_or_fail(posta_smtp *h, int rc)
{
    if (rc < 0)
        smtp_conn_end(h, rc, "out of memory");
}

/* After the last RCPT reply when DATA was not pipelined. */
static void envelope_done(posta_smtp *h, struct smtp_txn *t)
{
    if (t->failed)
        return;
    if (t->nacc == 0) {
        fail_recipients(h, t, "no recipient was accepted");
        return;
    }
    if (h->require_all && (t->refused_perm || t->refused_temp)) {
        fail_recipients(h, t, "not every recipient was accepted");
        return;
    }
    if (t->bdat) {
        start_producer(h, t);
        return;
    }
    write_or_fail(h, smtp_write_cmd(h, NULL, "DATA"));
    write_or_fail(h, smtp_expect(h, XK_DATA, t, NULL, NULL));
}

static void on_mail(posta_smtp *h, struct smtp_txn *t, const struct smtp_reply *r)
{
    posta_smtp_message *m = t->m;
    st_set_reply(&m->mail_st, r);
    t->mail_done = 1;
    t->mail_ok = is2xx(r->code);
    posta_smtp_event ev = {.type = POSTA_SMTP_EV_MAILSTATUS, .message = m,
                           .status = &m->mail_st.pub, .name = m->rp};
    smtp_emit(h, &ev);
    if (!t->mail_ok) {
        st_set_reply(&t->fail, r);
        t->failed = 1;
        return;
    }
    if (!pipelining(h))
        write_steps(h, t);
}

static void on_rcpt(posta_smtp *h, struct smtp_txn *t, posta_smtp_recipient *rc,
                    const struct smtp_reply *r)
{
    t->rcpt_replies++;
    if (!t->mail_ok)
        return;   /* the refusal is MAIL's; the recipient is not judged */
    st_set_reply(&rc->st, r);
    if (is2xx(r->code))
        t->acc[t->nacc++] = rc;
    else if (r->code >= 500)
        t->refused_perm++;
    else
        t->refused_temp++;
    posta_smtp_event ev = {.type = POSTA_SMTP_EV_RCPTSTATUS, .message = t->m, .recipient = rc,
                           .status = &rc->st.pub, .name = rc->mailbox};
    smtp_emit(h, &ev);
    if (t->rcpt_replies < t->nrcpt) {
        if (!pipelining(h))
            write_steps(h, t);
        return;
    }
    if (!t->data_in_envelope)
        envelope_done(h, t);
}

static void on_data(posta_smtp *h, struct smtp_txn *t, const struct smtp_reply *r)
{
    if (r->code == 354) {
        if (t->failed || t->nacc == 0) {
            /* RFC 2920 3.1: the server should have refused DATA; end the
             * empty message at once so it is rejected for want of
             * recipients. */
            if (!t->failed)
                fail_recipients(h, t, "no recipient was accepted");
            write_or_fail(h, posta__buf_append(&h->out, ".\r\n", 3));
            write_or_fail(h, smtp_expect(h, XK_DOT, t, NULL, NULL));
            t->state = TX_SENT;
            return;
        }
        start_producer(h, t);
        return;
    }
    if (t->failed)
        return;
    if (t->nacc == 0) {
        fail_recipients(h, t, "no recipient was accepted");
        return;
    }
    st_set_reply(&t->fail, r);
    t->failed = 1;
    fail_accepted(t, &t->fail);
}

static void on_final(posta_smtp *h, struct smtp_txn *t, posta_smtp_recipient *rc,
                     const struct smtp_reply *r)
{
    t->dot_replies++;
    if (t->failed)
        return;
    if (!h->lmtp) {
        st_set_reply(&t->fail, r);
        if (!is2xx(r->code))
            fail_accepted(t, &t->fail);
        return;
    }
    st_set_reply(&rc->st, r);
    posta_smtp_event ev = {.type = POSTA_SMTP_EV_RCPTSTATUS, .message = t->m, .recipient = rc,
                           .status = &rc->st.pub, .name = rc->mailbox, .value = 1};
    smtp_emit(h, &ev);
    if (!t->lmtp_ok) {
        st_set_reply(&t->fail, r);
        t->lmtp_ok = is2xx(r->code);
    }
}

static void on_bdat(posta_smtp *h, struct smtp_txn *t, const struct smtp_reply *r)
{
    t->bdat_wait = 0;
    if (is2xx(r->code) || t->failed)
        return;
    st_set_reply(&t->fail, r);
    t->failed = 1;
    fail_accepted(t, &t->fail);
    (void)h;
}

void smtp_txn_reply(posta_smtp *h, const struct smtp_exp *e, const struct smtp_reply *r)
{
    struct smtp_txn *t = e->t;
    switch (e->kind) {
    case XK_MAIL:
        on_mail(h, t, r);
        break;
    case XK_RCPT:
        on_rcpt(h, t, e->r, r);
        break;
    case XK_DATA:
        on_data(h, t, r);
        break;
    case XK_BDAT:
        on_bdat(h, t, r);
        break;
    default:
        on_final(h, t, e->r, r);
        break;
    }
    if (!h->free_pending && (h->cs == CS_READY || h->cs == CS_QUIT))
        settle(h, t);
}
