/* libFuzzer target: the SMTP reply parser fed whole, split where the input
 * says, and one byte at a time must yield the same replies (or the same
 * error), each with a valid code and text free of CR, LF (other than the
 * line joints) and NUL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_int.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, \
    __FILE__, __LINE__); abort(); } } while (0)

/* A digest of everything parsed: codes, enhanced codes, texts, the end. */
struct log {
    struct posta_buf b;
    int error;
};

static void record(struct log *l, const struct smtp_reply *r)
{
    CHECK(r->code >= 200 && r->code <= 559);
    CHECK(r->nlines >= 1 && r->nlines <= SMTP_REPLY_MAX_LINES);
    const char *t = (const char *)posta__buf_head(&r->text);
    size_t n = posta__buf_used(&r->text);
    CHECK(t[n] == '\0');
    for (size_t i = 0; i < n; i++)
        CHECK(t[i] == '\n' || t[i] == '\t' || ((unsigned char)t[i] >= 0x20 && t[i] != 0x7f));
    CHECK(r->enh[0] == 0 || r->enh[0] == r->code / 100);
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += t[i] == '\n';
    CHECK(lines == r->nlines);
    posta__buf_appendf(&l->b, "%d %d.%d.%d %zu:", r->code, r->enh[0], r->enh[1], r->enh[2], n);
    posta__buf_append(&l->b, t, n);
    posta__buf_append(&l->b, "|", 1);
}

static void parse(const uint8_t *data, size_t size, size_t first, size_t step, struct log *l)
{
    struct smtp_rparser p;
    smtp_rparser_init(&p);
    posta__buf_init(&l->b, 0);
    l->error = 0;
    size_t off = 0;
    while (off < size) {
        size_t k = off == 0 && first ? first : step ? step : size - off;
        if (k > size - off)
            k = size - off;
        int done;
        long used = smtp_rparser_feed(&p, data + off, k, &done);
        if (used < 0) {
            l->error = (int)used;
            break;
        }
        CHECK((size_t)used <= k);
        CHECK(used > 0 || k == 0);
        off += (size_t)used;
        if (done)
            record(l, &p.r);
    }
    smtp_rparser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct log whole, split, bytes;
    size_t cut = size ? (size_t)data[0] % (size + 1) : 0;
    parse(data, size, 0, 0, &whole);
    parse(data, size, cut, 0, &split);
    parse(data, size, 0, 1, &bytes);
    CHECK(whole.error == split.error && whole.error == bytes.error);
    CHECK(posta__buf_used(&whole.b) == posta__buf_used(&split.b));
    CHECK(posta__buf_used(&whole.b) == posta__buf_used(&bytes.b));
    if (posta__buf_used(&whole.b)) {
        CHECK(memcmp(whole.b.data, split.b.data, posta__buf_used(&whole.b)) == 0);
        CHECK(memcmp(whole.b.data, bytes.b.data, posta__buf_used(&whole.b)) == 0);
    }
    posta__buf_free(&whole.b);
    posta__buf_free(&split.b);
    posta__buf_free(&bytes.b);
    return 0;
}
