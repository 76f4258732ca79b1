/* libFuzzer target for POP3 responses: the parser fed whole and split (both
 * must give the same events), then a whole client session on the engine
 * with the input as everything the server says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/parse.h"
#include "pop3/pop3_int.h"

/* --- the parser, differential ------------------------------------------------ */

struct digest {
    uint64_t h;
    const uint8_t *modes;   /* what each status line returns, cycled */
    size_t nmodes, next;
};

static void mix(struct digest *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        d->h = (d->h ^ b[i]) * 1099511628211ULL;
}

static int f_status(void *ctx, const struct pop3_status *st)
{
    struct digest *d = ctx;
    mix(d, "S", 1);
    mix(d, &st->kind, sizeof(st->kind));
    mix(d, &st->code_len, sizeof(st->code_len));
    if (st->code)
        mix(d, st->code, st->code_len);
    mix(d, st->text, st->text_len);
    uint8_t m = d->nmodes ? d->modes[d->next++ % d->nmodes] : 0;
    return m % 3 == 1 ? POP3_MODE_LINES : m % 3 == 2 ? POP3_MODE_BODY : POP3_MODE_STATUS;
}

static int f_line(void *ctx, const char *line, size_t len)
{
    mix(ctx, "L", 1);
    mix(ctx, &len, sizeof(len));
    mix(ctx, line, len);
    return 0;
}

/* Body pieces depend on how the input was split: hash bytes only. */
static int f_data(void *ctx, const char *p, size_t n)
{
    mix(ctx, p, n);
    return 0;
}

static int f_end(void *ctx)
{
    mix(ctx, "E", 1);
    return 0;
}

static const struct pop3_parser_ops f_ops = {f_status, f_line, f_data, f_end};

static uint64_t run_parser(const uint8_t *modes, size_t nmodes, int cont, const char *data,
                           size_t len, size_t cut, long *rc_r)
{
    struct pop3_parser p;
    struct digest d = {1469598103934665603ULL, modes, nmodes, 0};
    pop3_parser_init(&p, 256);
    p.allow_cont = cont;
    long rc = pop3_parser_feed(&p, data, cut, &f_ops, &d);
    if (rc >= 0)
        rc = pop3_parser_feed(&p, data + cut, len - cut, &f_ops, &d);
    *rc_r = rc < 0 ? rc : 0;
    pop3_parser_free(&p);
    return d.h;
}

static void fuzz_parser(const uint8_t *data, size_t size)
{
    if (size < 4)
        return;
    const uint8_t *modes = data;
    size_t nmodes = 2;
    int cont = data[2] & 1;
    size_t cut = data[3];
    const char *in = (const char *)data + 4;
    size_t len = size - 4;
    if (cut > len)
        cut = len;
    long rc1, rc2;
    uint64_t a = run_parser(modes, nmodes, cont, in, len, 0, &rc1);
    uint64_t b = run_parser(modes, nmodes, cont, in, len, cut, &rc2);
    /* An error may come at a different event count only if the input is bad
     * anyway; with no error both runs must have seen the same events. */
    if (rc1 == 0 && rc2 == 0 && a != b)
        abort();
    if ((rc1 == 0) != (rc2 == 0))
        abort();
}

/* --- the engine ----------------------------------------------------------------- */

static int f_entry(posta_pop3 *h, const posta_pop3_entry *e, void *user)
{
    (void)h;
    (void)user;
    if (e->uid && strlen(e->uid) != e->uid_len)
        abort();
    return 0;
}

static int f_sink(posta_pop3 *h, const void *d, size_t n, void *user)
{
    (void)h;
    size_t *total = user;
    *total += n;
    (void)d;
    return 0;
}

static void f_done(posta_pop3 *h, const posta_pop3_result *r, void *user)
{
    int *calls = user;
    ++*calls;
    if (!r->text)
        abort();
    (void)h;
}

static void queue_transaction(posta_pop3 *h, int *calls, size_t *total)
{
    posta_pop3_stat_start(h, f_done, calls);
    posta_pop3_list_start(h, 0, f_entry, f_done, calls);
    posta_pop3_uidl_start(h, 1, f_entry, f_done, calls);
    posta_pop3_retr_start(h, 1, f_sink, NULL, total);
    posta_pop3_top_start(h, 2, 3, f_sink, NULL, total);
    posta_pop3_scan_start(h, f_done, calls);
    posta_pop3_dele_start(h, 1, f_done, calls);
    posta_pop3_quit_start(h, f_done, calls);
}

static void fuzz_engine(const uint8_t *data, size_t size)
{
    posta_pop3 *h = NULL;
    posta_pop3_limits lim = {.max_line = 512, .max_capa = 1024, .max_entries = 100};
    int calls = 0, connected = 0;
    size_t total = 0, at = 0, out;
    if (posta_pop3_new(&h, NULL, &lim, NULL) != 0)
        return;
    posta_pop3_set_tls(h, POSTA_POP3_TLS_NONE);
    posta_pop3_set_allow_cleartext(h, 1);
    posta__pop3_open_detached(h, f_done, &connected);
    /* Feed in pieces of varying size; queue work as the state allows. */
    while (at < size && posta_pop3_get_state(h) != POSTA_POP3_STATE_DISCONNECTED) {
        size_t n = 1 + data[at] % 64;
        if (n > size - at)
            n = size - at;
        if (posta_pop3_get_state(h) == POSTA_POP3_STATE_AUTHORIZATION)
            posta_pop3_login_start(h, "user", "pass", f_done, &calls);
        if (posta_pop3_get_state(h) == POSTA_POP3_STATE_TRANSACTION && posta_pop3_pending(h) == 0)
            queue_transaction(h, &calls, &total);
        long rc = posta__pop3_feed(h, data + at, n);
        posta__pop3_output(h, &out);
        posta__pop3_output_consume(h, out);
        if (rc < 0 || (size_t)rc < n)
            break;
        at += n;
    }
    posta_pop3_free(h);
    if (connected != 1)
        abort();   /* the connect callback runs exactly once */
}

/* Input: two mode bytes, a flag byte, a split offset, then what the server
 * says. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parser(data, size);
    if (size >= 4)
        fuzz_engine(data + 4, size - 4);
    return 0;
}
