/* The POP3 commands as non-blocking calls, LIST/UIDL line parsing, and the
 * scan table a mailbox driver reads the maildrop from. */
#include "pop3_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- submission ---------------------------------------------------------- */

int pop3_submit_op(posta_pop3 *h, struct pop3_op *op)
{
    if (!op)
        return pop3_err(h, POSTA_ENOMEM, "out of memory");
    const struct pop3_cmd_info *ci = &pop3_cmd_info[op->kind];
    int rc = 0;
    if (h->free_pending)
        rc = pop3_err(h, POSTA_ESTATE, "the handle is being freed");
    else if (h->quit_queued)
        rc = pop3_err(h, POSTA_ESTATE, "%s after QUIT", ci->name);
    else if (!(ci->states & POP3_BIT(h->state)))
        rc = pop3_err(h, POSTA_ESTATE, "%s is not allowed in the %s state", ci->name,
                      pop3_state_name(h->state));
    if (rc < 0) {
        pop3_op_free(op);
        return rc;
    }
    pop3_enter(h);
    if (op->kind == K_QUIT) {
        h->quit_queued = 1;
        pop3_set_state(h, POSTA_POP3_STATE_QUITTING);
    }
    pop3_queue_op(h, op);
    return pop3_leave(h, 0);
}

static struct pop3_op *with(struct pop3_op *op, posta_pop3_done_fn done, void *user)
{
    if (op) {
        op->done = done;
        op->user = user;
    }
    return op;
}

static int simple(posta_pop3 *h, enum pop3_kind kind, posta_pop3_done_fn done, void *user)
{
    return pop3_submit_op(h, with(pop3_op_new(kind, "%s", pop3_cmd_info[kind].name), done, user));
}

static int need_msg(posta_pop3 *h, const char *cmd, uint32_t msg)
{
    return msg ? 0 : pop3_err(h, POSTA_EINVAL, "%s needs a message number (1 or more)", cmd);
}

int posta_pop3_capa_start(posta_pop3 *h, posta_pop3_done_fn done, void *user)
{
    struct pop3_op *op = with(pop3_op_new(K_CAPA, "CAPA"), done, user);
    if (op)
        op->multi = POP3_MODE_LINES;
    return pop3_submit_op(h, op);
}

int posta_pop3_utf8_start(posta_pop3 *h, posta_pop3_done_fn done, void *user)
{
    if (!posta_pop3_has_capa(h, "UTF8"))
        return pop3_err(h, POSTA_EUNSUPPORTED, "%s does not offer UTF8 (RFC 6856)", pop3_peer(h));
    return simple(h, K_UTF8, done, user);
}

int posta_pop3_stat_start(posta_pop3 *h, posta_pop3_done_fn done, void *user)
{
    return simple(h, K_STAT, done, user);
}

static int listing(posta_pop3 *h, enum pop3_kind kind, uint32_t msg, posta_pop3_entry_fn fn,
                   posta_pop3_done_fn done, void *user)
{
    const char *name = pop3_cmd_info[kind].name;
    struct pop3_op *op = msg ? pop3_op_new(kind, "%s %u", name, (unsigned)msg)
                             : pop3_op_new(kind, "%s", name);
    if (op) {
        op->msg = msg;
        op->multi = msg ? POP3_MODE_STATUS : POP3_MODE_LINES;
        op->entry = fn;
    }
    return pop3_submit_op(h, with(op, done, user));
}

int posta_pop3_list_start(posta_pop3 *h, uint32_t msg, posta_pop3_entry_fn fn,
                          posta_pop3_done_fn done, void *user)
{
    return listing(h, K_LIST, msg, fn, done, user);
}

int posta_pop3_uidl_start(posta_pop3 *h, uint32_t msg, posta_pop3_entry_fn fn,
                          posta_pop3_done_fn done, void *user)
{
    return listing(h, K_UIDL, msg, fn, done, user);
}

static int body(posta_pop3 *h, struct pop3_op *op, uint32_t msg, posta_pop3_sink_fn sink,
                posta_pop3_done_fn done, void *user)
{
    if (op) {
        op->msg = msg;
        op->multi = POP3_MODE_BODY;
        op->sink = sink;
    }
    return pop3_submit_op(h, with(op, done, user));
}

int posta_pop3_retr_start(posta_pop3 *h, uint32_t msg, posta_pop3_sink_fn sink,
                          posta_pop3_done_fn done, void *user)
{
    int rc = need_msg(h, "RETR", msg);
    return rc < 0 ? rc : body(h, pop3_op_new(K_RETR, "RETR %u", (unsigned)msg), msg, sink, done, user);
}

int posta_pop3_top_start(posta_pop3 *h, uint32_t msg, unsigned long lines,
                         posta_pop3_sink_fn sink, posta_pop3_done_fn done, void *user)
{
    int rc = need_msg(h, "TOP", msg);
    return rc < 0 ? rc
                  : body(h, pop3_op_new(K_TOP, "TOP %u %lu", (unsigned)msg, lines), msg, sink,
                         done, user);
}

int posta_pop3_dele_start(posta_pop3 *h, uint32_t msg, posta_pop3_done_fn done, void *user)
{
    int rc = need_msg(h, "DELE", msg);
    struct pop3_op *op = rc < 0 ? NULL : pop3_op_new(K_DELE, "DELE %u", (unsigned)msg);
    if (rc < 0)
        return rc;
    if (op)
        op->msg = msg;
    return pop3_submit_op(h, with(op, done, user));
}

int posta_pop3_rset_start(posta_pop3 *h, posta_pop3_done_fn done, void *user)
{
    return simple(h, K_RSET, done, user);
}

int posta_pop3_noop_start(posta_pop3 *h, posta_pop3_done_fn done, void *user)
{
    return simple(h, K_NOOP, done, user);
}

int posta_pop3_quit_start(posta_pop3 *h, posta_pop3_done_fn done, void *user)
{
    return simple(h, K_QUIT, done, user);
}

/* Commands that would move the session behind the engine's back. */
static int state_changing(const char *line, size_t len)
{
    static const char *const words[] = {"USER", "PASS", "APOP", "AUTH", "STLS", "QUIT", "UTF8"};
    size_t w = 0;
    while (w < len && line[w] != ' ')
        w++;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (w == 4 && strncasecmp(line, words[i], 4) == 0)
            return 1;
    return 0;
}

int posta_pop3_submit(posta_pop3 *h, const posta_pop3_cmd_opts *opts, const char *line)
{
    static const posta_pop3_cmd_opts none;
    if (!opts)
        opts = &none;
    if (!line || !line[0])
        return pop3_err(h, POSTA_EINVAL, "empty command");
    size_t len = strlen(line);
    if (len > 253)
        return pop3_err(h, POSTA_EINVAL, "command longer than 253 octets (RFC 2449 section 4)");
    if (strpbrk(line, "\r\n"))
        return pop3_err(h, POSTA_EINVAL, "command contains CR or LF");
    if (state_changing(line, len))
        return pop3_err(h, POSTA_EINVAL, "\"%.4s\" changes the session; use its own call", line);
    struct pop3_op *op = pop3_op_new_line(K_RAW, line, len, len);
    if (op) {
        op->multi = opts->multiline ? POP3_MODE_BODY : POP3_MODE_STATUS;
        op->sink = opts->sink;
        op->timeout_ms = opts->timeout_ms;
    }
    return pop3_submit_op(h, with(op, opts->done, opts->user));
}

/* --- LIST and UIDL lines ----------------------------------------------------- */

/*
 * RFC 1939 section 5 and 7:
 *   scan-listing = msg-number SP size [SP anything]
 *   uidl-listing = msg-number SP unique-id
 *   unique-id    = 1*70 (0x21-0x7E)      ; up to 255 accepted
 */
int pop3_parse_entry(posta_pop3 *h, enum pop3_kind kind, const char *line, size_t len,
                     posta_pop3_entry *e)
{
    const char *p = line, *end = line + len;
    uint64_t num, size;

    memset(e, 0, sizeof(*e));
    if (pop3_parse_u64(&p, end, &num) < 0 || num == 0 || num > UINT32_MAX || p >= end || *p++ != ' ')
        goto bad;
    e->number = (uint32_t)num;
    if (kind == K_LIST) {
        if (pop3_parse_u64(&p, end, &size) < 0 || (p < end && *p != ' '))
            goto bad;
        e->size = size;
        return 0;
    }
    const char *u = p;
    while (p < end && *p > 0x20 && *p < 0x7f)
        p++;
    size_t ul = (size_t)(p - u);
    if (ul == 0 || ul >= sizeof(h->entry_uid) || p != end)
        goto bad;
    memcpy(h->entry_uid, u, ul);
    h->entry_uid[ul] = '\0';
    e->uid = h->entry_uid;
    e->uid_len = ul;
    return 0;
bad:
    return pop3_err(h, POSTA_EPROTO, "%s sent a malformed %s line: \"%.*s\"", pop3_peer(h),
                    kind == K_LIST ? "LIST" : "UIDL", (int)(len < 80 ? len : 80), line);
}

/* --- the scan table ------------------------------------------------------------ */

static void table_free(posta_pop3_entry *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)t[i].uid);
    free(t);
}

void pop3_table_clear(posta_pop3 *h)
{
    table_free(h->table, h->ntable);
    h->table = NULL;
    h->ntable = 0;
}

/* Numbers come in ascending order from every server seen, so the position
 * is almost always number - 1; search otherwise. */
static posta_pop3_entry *find_number(posta_pop3_entry *t, size_t n, uint32_t number)
{
    if (number >= 1 && number <= n && t[number - 1].number == number)
        return &t[number - 1];
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].number == number)
            return &t[mid];
        if (t[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = 0; i < n; i++)
        if (t[i].number == number)
            return &t[i];
    return NULL;
}

void pop3_table_mark(posta_pop3 *h, uint32_t msg, int deleted)
{
    if (msg == 0) {
        for (size_t i = 0; i < h->ntable; i++)
            h->table[i].deleted = 0;
        return;
    }
    posta_pop3_entry *e = find_number(h->table, h->ntable, msg);
    if (e)
        e->deleted = deleted;
}

const posta_pop3_entry *posta_pop3_entries(const posta_pop3 *h, size_t *n_r)
{
    *n_r = h->ntable;
    return h->table;
}

const posta_pop3_entry *posta_pop3_find_uid(const posta_pop3 *h, const char *uid)
{
    for (size_t i = 0; uid && i < h->ntable; i++)
        if (h->table[i].uid && strcmp(h->table[i].uid, uid) == 0)
            return &h->table[i];
    return NULL;
}

/* One scan: LIST and (maybe) UIDL, whose results replace the table once
 * both have answered. */
struct scan {
    posta_pop3_done_fn done;
    void *user;
    int remaining;
    int error;
    posta_pop3_entry *t;
    size_t n, size;
};

static int scan_list_line(posta_pop3 *h, const posta_pop3_entry *e, void *user)
{
    struct scan *sc = user;
    if (sc->n >= h->limits.max_entries)
        return pop3_err(h, POSTA_ELIMIT, "%s lists more than %zu messages", pop3_peer(h),
                        h->limits.max_entries);
    if (sc->n == sc->size) {
        size_t nsize = sc->size ? sc->size * 2 : 64;
        posta_pop3_entry *t = realloc(sc->t, nsize * sizeof(*t));
        if (!t)
            return pop3_err(h, POSTA_ENOMEM, "out of memory for the scan table");
        sc->t = t;
        sc->size = nsize;
    }
    sc->t[sc->n] = *e;
    sc->t[sc->n++].uid = NULL;
    return 0;
}

static int scan_uidl_line(posta_pop3 *h, const posta_pop3_entry *e, void *user)
{
    struct scan *sc = user;
    posta_pop3_entry *slot = find_number(sc->t, sc->n, e->number);
    if (!slot || slot->uid)
        return 0;   /* LIST did not have it, or a repeat: nothing to attach to */
    char *uid = malloc(e->uid_len + 1);
    if (!uid)
        return pop3_err(h, POSTA_ENOMEM, "out of memory for the scan table");
    memcpy(uid, e->uid, e->uid_len + 1);
    slot->uid = uid;
    slot->uid_len = e->uid_len;
    return 0;
}

static void scan_part_done(posta_pop3 *h, const posta_pop3_result *r, void *user, int is_list)
{
    struct scan *sc = user;
    /* A server without UIDL leaves the unique-ids unknown, nothing more. */
    if (r->error && (is_list || r->error != POSTA_ENO) && !sc->error)
        sc->error = r->error;
    if (--sc->remaining > 0)
        return;
    posta_pop3_result res;
    if (sc->error) {
        pop3_error_result(h, sc->error, &res);
        table_free(sc->t, sc->n);
    } else {
        memset(&res, 0, sizeof(res));
        res.text = "ok";
        res.text_len = 2;
        res.count = (uint32_t)sc->n;
        pop3_table_clear(h);
        h->table = sc->t;
        h->ntable = sc->n;
    }
    if (sc->done)
        POP3_CALLBACK(h, sc->done(h, &res, sc->user));
    free(sc);
}

static void scan_list_done(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    scan_part_done(h, r, user, 1);
}

static void scan_uidl_done(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    scan_part_done(h, r, user, 0);
}

int posta_pop3_scan_start(posta_pop3 *h, posta_pop3_done_fn done, void *user)
{
    int uidl = !h->capa_known || posta_pop3_has_capa(h, "UIDL");
    struct scan *sc = calloc(1, sizeof(*sc));
    struct pop3_op *list = pop3_op_new(K_LIST, "LIST");
    struct pop3_op *ul = uidl ? pop3_op_new(K_UIDL, "UIDL") : NULL;

    if (!sc || !list || (uidl && !ul)) {
        free(sc);
        pop3_op_free(list);
        pop3_op_free(ul);
        return pop3_err(h, POSTA_ENOMEM, "out of memory");
    }
    sc->done = done;
    sc->user = user;
    sc->remaining = 1 + uidl;
    list->multi = POP3_MODE_LINES;
    list->entry = scan_list_line;
    list->done = scan_list_done;
    list->user = sc;
    if (ul) {
        ul->multi = POP3_MODE_LINES;
        ul->entry = scan_uidl_line;
        ul->done = scan_uidl_done;
        ul->user = sc;
    }
    /* Both or neither: the state check is the same for the two. */
    int rc = pop3_submit_op(h, list);
    if (rc < 0) {
        pop3_op_free(ul);
        free(sc);
        return rc;
    }
    if (ul && (rc = pop3_submit_op(h, ul)) < 0) {
        /* Only when the connection died in between. */
        posta_pop3_result r;
        pop3_error_result(h, rc, &r);
        scan_part_done(h, &r, sc, 1);
    }
    return 0;
}
