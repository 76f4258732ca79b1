/* libFuzzer target: random strings through every string conversion of the
 * IMAP command writer must give one command line plus literals (never a
 * bare CR, LF or NUL outside literal data), parse back to the input, wait
 * exactly before synchronizing literals, and be refused only for a reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <posta/imap_writer.h>
#include <posta/util.h>

#include "../tests/imap/writer/wire_check.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, \
    __FILE__, __LINE__); abort(); } } while (0)

struct field {
    const char *p;
    size_t n;
};

/* The output of walking a command's pieces, with the continuation points. */
struct walked {
    unsigned char *data;
    size_t len;
    size_t waits[64];
    size_t nwaits;
};

struct src {
    struct field f;
    size_t given, chunk;
};

static long src_read(posta_imap_cmd *cmd, void *buf, size_t cap, void *user)
{
    struct src *s = user;
    size_t n = cap < s->chunk ? cap : s->chunk;
    CHECK(cap <= s->f.n - s->given);
    memcpy(buf, s->f.p + s->given, n);
    s->given += n;
    return (long)n;
}

static void walk(posta_imap_cmd *cmd, struct walked *w, size_t max)
{
    posta_imap_piece pc;

    w->data = malloc(max);
    w->len = 0;
    w->nwaits = 0;
    for (;;) {
        CHECK(posta_imap_cmd_next(cmd, &pc) == 0);
        if (pc.kind == POSTA_IMAP_PIECE_END)
            break;
        if (pc.kind == POSTA_IMAP_PIECE_WAIT) {
            CHECK(w->nwaits < 64);
            w->waits[w->nwaits++] = w->len;
        } else if (pc.kind == POSTA_IMAP_PIECE_BYTES) {
            CHECK(w->len + pc.len <= max);
            memcpy(w->data + w->len, pc.data, pc.len);
            w->len += pc.len;
        } else {
            CHECK(w->len + pc.size <= max);
            long r;
            while ((r = posta_imap_cmd_read(cmd, w->data + w->len, 7)) > 0)
                w->len += (size_t)r;
            CHECK(r == 0);
        }
    }
}

/* Every synchronizing literal header is followed by a WAIT, and only
 * those; the '+' form appears only as the capabilities allow. */
static void check_waits(const struct walked *w, unsigned caps)
{
    const unsigned char *p = w->data;
    size_t i = 0, line = 0, k = 0;

    CHECK(wire_check(p, w->len) == NULL);
    for (;;) {
        while (p[i] != '\r')
            i++;
        long long n = wire_literal_header(p + line, i - line);
        if (n < 0)
            break;
        int plus = p[i - 2] == '+';
        int lplus = caps & POSTA_IMAP_WRITER_LITERALPLUS;
        int lminus = caps & POSTA_IMAP_WRITER_LITERALMINUS;
        CHECK(plus == (lplus || (lminus && n <= 4096)));
        if (!plus) {
            CHECK(k < w->nwaits && w->waits[k] == i + 2);
            k++;
        }
        i += 2 + (size_t)n;
        line = i;
    }
    CHECK(k == w->nwaits);
}

/* Walk, compare with the exact rendering, check the line. */
static struct walked check_cmd(posta_imap_cmd *cmd, unsigned caps)
{
    char *text;
    size_t len;
    struct walked w;

    CHECK(posta_imap_cmd_render(cmd, 0, &text, &len) == 0);
    walk(cmd, &w, len + 1);
    CHECK(w.len == len && memcmp(w.data, text, len) == 0);
    check_waits(&w, caps);
    free(text);
    return w;
}

/* The astring after "t X " must be the one given, and the line end there. */
static void check_value(const struct walked *w, const char *want, size_t n, int mutf7)
{
    size_t pos = 4, glen;
    unsigned char *got;

    CHECK(w->len >= 6 && memcmp(w->data, "t X ", 4) == 0);
    CHECK(wire_astring(w->data, w->len, &pos, &got, &glen) == 0);
    CHECK(pos + 2 == w->len);
    if (mutf7) {
        char *dec;
        size_t dlen;
        CHECK(posta_mutf7_decode((char *)got, glen, &dec, &dlen, NULL) == 0);
        CHECK(dlen == n && memcmp(dec, want, n) == 0);
        free(dec);
    } else {
        CHECK(glen == n && memcmp(got, want, n) == 0);
    }
    free(got);
}

static int is_atom(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!wire_astring_char((unsigned char)s[i]) || s[i] == ']')
            return 0;
    return n > 0;
}

static void run_string(posta_imap_writer *w, unsigned caps, char conv, struct field f)
{
    char fmt[8];
    posta_imap_cmd *cmd;
    int nul = memchr(f.p, 0, f.n) != NULL;
    int utf8 = posta_utf8_check(f.p, f.n, NULL) == 0;
    int inbox = f.n == 5 && strncasecmp(f.p, "INBOX", 5) == 0;

    snprintf(fmt, sizeof(fmt), "X %%.*%c", conv);
    int rc = posta_imap_cmd_new(w, &cmd, "t", fmt, (int)f.n, f.p);
    int ok = conv == 'a' ? is_atom(f.p, f.n)
           : conv == 'F' ? (f.n > 0 && f.p[0] == '\\' ? is_atom(f.p + 1, f.n - 1) : is_atom(f.p, f.n))
           : conv == 'm' ? !nul && (utf8 || inbox)
           : !nul;
    CHECK(ok == (rc == 0));
    if (rc < 0) {
        CHECK(rc == POSTA_EINVAL && cmd == NULL);
        CHECK(strlen(posta_imap_writer_errmsg(w)) > 0);
        return;
    }
    struct walked wk = check_cmd(cmd, caps);
    if (conv == 'a' || conv == 'F')
        CHECK(wk.len == f.n + 6 && memcmp(wk.data + 4, f.p, f.n) == 0);
    else
        check_value(&wk, f.p, f.n, conv == 'm' && !inbox && !(caps & POSTA_IMAP_WRITER_UTF8));
    free(wk.data);
    posta_imap_cmd_free(cmd);
}

static char *cstr(struct field f)
{
    char *s = malloc(f.n + 1);
    memcpy(s, f.p, f.n);
    s[f.n] = '\0';
    return s;
}

/* A vector of the fields (cut at NUL), parsed back element by element. */
static void run_vector(posta_imap_writer *w, unsigned caps, const struct field *fs, size_t nf)
{
    char *v[5];
    posta_imap_cmd *cmd;

    for (size_t i = 0; i < nf; i++)
        v[i] = cstr(fs[i]);
    v[nf] = NULL;
    CHECK(posta_imap_cmd_new(w, &cmd, "t", "X (%v)", v) == 0);
    struct walked wk = check_cmd(cmd, caps);
    size_t pos = 5;
    for (size_t i = 0; i < nf; i++) {
        unsigned char *got;
        size_t glen;
        if (i > 0)
            CHECK(wk.data[pos++] == ' ');
        CHECK(wire_astring(wk.data, wk.len, &pos, &got, &glen) == 0);
        CHECK(glen == strlen(v[i]) && memcmp(got, v[i], glen) == 0);
        free(got);
    }
    CHECK(wk.data[pos] == ')' && pos + 3 == wk.len);
    free(wk.data);
    posta_imap_cmd_free(cmd);
    for (size_t i = 0; i < nf; i++)
        free(v[i]);
}

/* The same literal from a buffer and from a source gives the same bytes. */
static void run_literal(posta_imap_writer *w, unsigned caps, struct field f, unsigned flags,
                        size_t chunk)
{
    posta_imap_cmd *a, *b;
    struct src src = {f, 0, chunk};
    posta_imap_literal lit = {.size = f.n, .data = f.p, .flags = flags};
    posta_imap_literal lsrc = {.size = f.n, .read = src_read, .user = &src, .flags = flags};
    int binary = flags & POSTA_IMAP_LITERAL_BINARY;
    int nul = memchr(f.p, 0, f.n) != NULL;

    int rc = posta_imap_cmd_new(w, &a, "t", "X %L", &lit);
    if (binary && !(caps & POSTA_IMAP_WRITER_BINARY)) {
        CHECK(rc == POSTA_EUNSUPPORTED);
        return;
    }
    CHECK((rc == 0) == (binary || !nul));
    if (rc < 0)
        return;
    struct walked wa = check_cmd(a, caps);
    check_value(&wa, f.p, f.n, 0);
    CHECK(posta_imap_cmd_new(w, &b, "t", "X %L", &lsrc) == 0);
    struct walked wb;
    walk(b, &wb, wa.len + 1);
    CHECK(wb.len == wa.len && memcmp(wb.data, wa.data, wa.len) == 0);
    CHECK(wb.nwaits == wa.nwaits);
    free(wa.data);
    free(wb.data);
    posta_imap_cmd_free(a);
    posta_imap_cmd_free(b);
}

/* Fuzzed format text ("%" doubled): accepted only as printable ASCII. */
static void run_format_text(posta_imap_writer *w, unsigned caps, struct field f)
{
    char *fmt = malloc(2 * f.n + 1);
    size_t o = 0;
    int printable = 1;
    posta_imap_cmd *cmd;

    for (size_t i = 0; i < f.n; i++) {
        unsigned char c = (unsigned char)f.p[i];
        if (c == 0)
            break;
        if (c < 0x20 || c > 0x7e)
            printable = 0;
        fmt[o++] = (char)c;
        if (c == '%')
            fmt[o++] = '%';
    }
    fmt[o] = '\0';
    int rc = posta_imap_cmd_new(w, &cmd, "t", fmt);
    if (!printable || o == 0)
        CHECK(rc == POSTA_EINVAL);
    if (rc == 0) {
        struct walked wk = check_cmd(cmd, caps);
        CHECK(wk.nwaits == 0);
        free(wk.data);
        posta_imap_cmd_free(cmd);
    }
    free(fmt);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 6)
        return 0;
    unsigned caps = data[0] & 15;
    posta_imap_writer_opts opts = {.caps = caps, .max_quoted = data[1]};
    size_t chunk = 1 + data[2];
    struct field fs[4];
    size_t off = 6;
    for (int i = 0; i < 3; i++) {
        size_t n = data[3 + i] % 64;
        if (n > size - off)
            n = size - off;
        fs[i] = (struct field){(const char *)data + off, n};
        off += n;
    }
    fs[3] = (struct field){(const char *)data + off, size - off};

    posta_imap_writer *w;
    CHECK(posta_imap_writer_new(&w, &opts) == 0);
    static const char convs[] = "spmaF";
    for (int i = 0; i < 4; i++)
        run_string(w, caps, convs[(data[0] >> 4) % 5], fs[i]);
    for (size_t c = 0; c < sizeof(convs) - 1; c++)
        run_string(w, caps, convs[c], fs[3]);
    run_vector(w, caps, fs, 4);
    run_literal(w, caps, fs[3], data[0] & 0x80 ? POSTA_IMAP_LITERAL_BINARY : 0, chunk);
    run_format_text(w, caps, fs[0]);
    posta_imap_writer_free(w);
    return 0;
}
