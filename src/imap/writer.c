/* The IMAP command writer: formats a command with every argument checked,
 * then hands it out as pieces (bytes, continuation waits, literal sources). */
#include <posta/imap_writer.h>
#include <posta/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define DEFAULT_MAX_QUOTED 1024
#define DEFAULT_MAX_COMMAND (64u * 1024 * 1024)
/* RFC 7888: under LITERAL- only literals up to this size may skip the wait. */
#define LITERALMINUS_MAX 4096
#define REDACTED "<omitted>"

struct posta_imap_writer {
    posta_imap_writer_opts opts;
    struct posta_err err;
};

/* One stretch of the command: bytes in cmd->buf, bytes of a %L buffer, a
 * continuation wait, or a literal source. */
struct seg {
    posta_imap_piece_kind kind;
    size_t off, len;             /* BYTES from cmd->buf */
    const unsigned char *ext;    /* BYTES from a %L buffer (len octets) */
    posta_imap_source_fn read;   /* SOURCE */
    void *user;
    uint64_t size;               /* SOURCE */
    unsigned lflags;             /* %L segments: POSTA_IMAP_LITERAL_* */
};

/* Bytes of cmd->buf that the redacted rendering replaces by "<omitted>". */
struct range {
    size_t start, end;
};

struct posta_imap_cmd {
    struct posta_buf buf;
    struct seg *segs;
    size_t nsegs, segs_cap;
    struct range *secrets;
    size_t nsecrets, secrets_cap;
    size_t cur;                  /* next segment handed out */
    const struct seg *src;       /* the SOURCE being read, or NULL */
    uint64_t src_left;
    int failed;                  /* a source error: the command is half sent */
    struct posta_err err;
};

/* --- building ------------------------------------------------------------ */

/* The state of one posta_imap_cmd_vnew() call. */
struct fmt {
    posta_imap_cmd *cmd;
    const posta_imap_writer_opts *opts;
    struct posta_err *err;
    int argno;                   /* 1-based number of the current conversion */
    char conv;                   /* its character, for messages */
    size_t line_start;           /* buf offset after the last literal's data */
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap < need)
        ncap = need;
    void *q = realloc(*p, ncap * elem);
    if (!q)
        return POSTA_ENOMEM;
    *p = q;
    *cap = ncap;
    return 0;
}

static int push_seg(posta_imap_cmd *cmd, const struct seg *s)
{
    int rc = grow((void **)&cmd->segs, &cmd->segs_cap, cmd->nsegs + 1, sizeof(*s));
    if (rc < 0)
        return rc;
    cmd->segs[cmd->nsegs++] = *s;
    return 0;
}

/* Append bytes to the command, extending the current BYTES segment. */
static int put(struct fmt *f, const void *p, size_t n)
{
    posta_imap_cmd *cmd = f->cmd;
    size_t total;

    if (n == 0)
        return 0;
    if (posta__size_add(cmd->buf.len, n, &total) < 0 || total > f->opts->max_command)
        return posta__err_set(f->err, POSTA_EINVAL,
                              "the command would hold more than %zu octets (max_command); "
                              "send large data with %%L", f->opts->max_command);
    struct seg *last = cmd->nsegs ? &cmd->segs[cmd->nsegs - 1] : NULL;
    if (!last || last->kind != POSTA_IMAP_PIECE_BYTES || last->ext) {
        struct seg s = {.kind = POSTA_IMAP_PIECE_BYTES, .off = cmd->buf.len};
        int rc = push_seg(cmd, &s);
        if (rc < 0)
            return rc;
        last = &cmd->segs[cmd->nsegs - 1];
    }
    int rc = posta__buf_append(&cmd->buf, p, n);
    if (rc < 0)
        return rc;
    last->len += n;
    return 0;
}

static int puts_(struct fmt *f, const char *s)
{
    return put(f, s, strlen(s));
}

static int add_secret(posta_imap_cmd *cmd, size_t start, size_t end)
{
    int rc = grow((void **)&cmd->secrets, &cmd->secrets_cap, cmd->nsecrets + 1,
                  sizeof(struct range));
    if (rc < 0)
        return rc;
    cmd->secrets[cmd->nsecrets++] = (struct range){start, end};
    return 0;
}

/* A refused argument: the sentence names the conversion and its number. */
static int arg_error(struct fmt *f, int code, const char *what, size_t offset)
{
    if (offset == (size_t)-1)
        return posta__err_set(f->err, code, "argument %d (%%%c) %s", f->argno, f->conv, what);
    return posta__err_set(f->err, code, "argument %d (%%%c) %s at offset %zu", f->argno,
                          f->conv, what, offset);
}

/* --- character classes (RFC 9051 section 9) ------------------------------- */

/* ATOM-CHAR: any CHAR except atom-specials: ( ) { SP CTL % * " \ ] */
static int is_atom_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\]", c);
}

/* Offset of the first byte that is not an ATOM-CHAR, or n. */
static size_t atom_span(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_atom_char((unsigned char)s[i]))
        i++;
    return i;
}

/* --- literals ------------------------------------------------------------ */

/* "{n}" + CRLF + WAIT, or "{n+}" + CRLF, per the capabilities (RFC 7888). */
static int put_literal_header(struct fmt *f, uint64_t n, int binary)
{
    unsigned caps = f->opts->caps;
    int plus = (caps & POSTA_IMAP_WRITER_LITERALPLUS) ||
               ((caps & POSTA_IMAP_WRITER_LITERALMINUS) && n <= LITERALMINUS_MAX);
    char hdr[40];
    int len = snprintf(hdr, sizeof(hdr), "%s{%llu%s}\r\n", binary ? "~" : "",
                       (unsigned long long)n, plus ? "+" : "");
    int rc = put(f, hdr, (size_t)len);
    if (rc < 0 || plus)
        return rc;
    struct seg wait = {.kind = POSTA_IMAP_PIECE_WAIT};
    return push_seg(f->cmd, &wait);
}

static int put_literal(struct fmt *f, const char *s, size_t n)
{
    int rc = put_literal_header(f, n, 0);
    if (rc < 0)
        return rc;
    rc = put(f, s, n);
    f->line_start = f->cmd->buf.len;
    return rc;
}

/* --- astrings -------------------------------------------------------------- */

enum form { FORM_ATOM, FORM_QUOTED, FORM_LITERAL };

/* How a string must travel (see %s in the header); NUL is refused. */
static int classify(struct fmt *f, const char *s, size_t n, enum form *form_r)
{
    int atom = n > 0, crlf = 0, eight = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0)
            return posta__err_set(f->err, POSTA_EINVAL, "argument %d (%%%c) holds a NUL byte "
                                  "at offset %zu, which no IMAP string can carry (send binary "
                                  "data with %%L and POSTA_IMAP_LITERAL_BINARY)", f->argno,
                                  f->conv, i);
        if (c == '\r' || c == '\n')
            crlf = 1;
        else if (c >= 0x80)
            eight = 1;
        if (!is_atom_char(c))
            atom = 0;
    }
    if (n == 3 && strncasecmp(s, "NIL", 3) == 0)
        atom = 0;
    if (crlf || n > f->opts->max_quoted)
        *form_r = FORM_LITERAL;
    else if (eight && (!(f->opts->caps & POSTA_IMAP_WRITER_UTF8) || posta_utf8_check(s, n, NULL) < 0))
        *form_r = FORM_LITERAL;
    else
        *form_r = atom ? FORM_ATOM : FORM_QUOTED;
    return 0;
}

static int put_quoted(struct fmt *f, const char *s, size_t n)
{
    int rc = put(f, "\"", 1);
    size_t i = 0;

    while (rc == 0 && i < n) {
        size_t run = i;
        while (run < n && s[run] != '"' && s[run] != '\\')
            run++;
        rc = put(f, s + i, run - i);
        if (rc == 0 && run < n)
            rc = put(f, s[run] == '"' ? "\\\"" : "\\\\", 2);
        i = run + (run < n);
    }
    return rc ? rc : put(f, "\"", 1);
}

static int put_astring(struct fmt *f, const char *s, size_t n)
{
    enum form form = FORM_LITERAL;
    int rc = classify(f, s, n, &form);

    if (rc < 0)
        return rc;
    switch (form) {
    case FORM_ATOM:
        return put(f, s, n);
    case FORM_QUOTED:
        return put_quoted(f, s, n);
    case FORM_LITERAL:
        break;
    }
    return put_literal(f, s, n);
}

/* --- conversions ------------------------------------------------------------ */

/* A parsed conversion: "%", optional ".*", optional length, character. */
struct spec {
    int prec;        /* ".*" given */
    char lenmod;     /* 0, 'l', 'q' (ll) or 'z' */
};

typedef int (*conv_fn)(struct fmt *f, const struct spec *sp, va_list *ap);

/* The string argument of s, p, m, a, F: pointer, or int length + pointer. */
static int get_str(struct fmt *f, const struct spec *sp, va_list *ap, const char **s_r,
                   size_t *n_r)
{
    int n = sp->prec ? va_arg(*ap, int) : 0;
    const char *s = va_arg(*ap, const char *);

    if (sp->prec && n < 0)
        return arg_error(f, POSTA_EINVAL, "has a negative length", (size_t)-1);
    if (!s && !(sp->prec && n == 0))
        return arg_error(f, POSTA_EINVAL, "is a NULL pointer", (size_t)-1);
    *s_r = s ? s : "";
    *n_r = sp->prec ? (size_t)n : strlen(s);
    return 0;
}

static int conv_atom(struct fmt *f, const struct spec *sp, va_list *ap)
{
    const char *s = NULL;
    size_t n = 0;
    int rc = get_str(f, sp, ap, &s, &n);

    if (rc < 0)
        return rc;
    if (n == 0)
        return arg_error(f, POSTA_EINVAL, "is empty, which is not an atom", (size_t)-1);
    size_t bad = atom_span(s, n);
    if (bad < n)
        return posta__err_set(f->err, POSTA_EINVAL, "argument %d (%%a) is not an atom: byte "
                              "0x%02x at offset %zu is a space, control, 8-bit or one of "
                              "( ) { %% * \" \\ ]", f->argno, (unsigned char)s[bad], bad);
    return put(f, s, n);
}

static int conv_flag(struct fmt *f, const struct spec *sp, va_list *ap)
{
    const char *s = NULL;
    size_t n = 0;
    int rc = get_str(f, sp, ap, &s, &n);

    if (rc < 0)
        return rc;
    size_t skip = n > 0 && s[0] == '\\';
    if (n == skip)
        return arg_error(f, POSTA_EINVAL, "is not a flag: it is empty", (size_t)-1);
    size_t bad = skip + atom_span(s + skip, n - skip);
    if (bad < n)
        return arg_error(f, POSTA_EINVAL, "is not a flag (\\atom or atom)", bad);
    return put(f, s, n);
}

static int conv_astring(struct fmt *f, const struct spec *sp, va_list *ap)
{
    const char *s = NULL;
    size_t n = 0;
    int rc = get_str(f, sp, ap, &s, &n);
    return rc < 0 ? rc : put_astring(f, s, n);
}

static int conv_secret(struct fmt *f, const struct spec *sp, va_list *ap)
{
    size_t start = f->cmd->buf.len;
    int rc = conv_astring(f, sp, ap);
    return rc < 0 ? rc : add_secret(f->cmd, start, f->cmd->buf.len);
}

static int bad_mailbox(struct fmt *f, const posta_conv_error *e)
{
    return posta__err_set(f->err, POSTA_EINVAL, "argument %d (%%%c) is not a valid mailbox "
                          "name: %s at offset %zu", f->argno, f->conv, e->msg, e->offset);
}

static int put_mailbox_mutf7(struct fmt *f, const char *s, size_t n)
{
    posta_conv_error e = {"", 0};
    char *enc;
    size_t elen;
    int rc = posta_mutf7_encode(s, n, &enc, &elen, &e);

    if (rc == POSTA_EINVAL)
        return bad_mailbox(f, &e);
    if (rc < 0)
        return rc;
    rc = put_astring(f, enc, elen);
    free(enc);
    return rc;
}

static int conv_mailbox(struct fmt *f, const struct spec *sp, va_list *ap)
{
    const char *s = NULL;
    size_t n = 0;
    posta_conv_error e = {"", 0};
    int rc = get_str(f, sp, ap, &s, &n);

    if (rc < 0)
        return rc;
    if (n == 5 && strncasecmp(s, "INBOX", 5) == 0)
        return put(f, s, n);
    if (!(f->opts->caps & POSTA_IMAP_WRITER_UTF8))
        return put_mailbox_mutf7(f, s, n);
    if (posta_utf8_check(s, n, &e) < 0)
        return bad_mailbox(f, &e);
    const char *nul = memchr(s, 0, n);
    if (nul)
        return bad_mailbox(f, &(posta_conv_error){"NUL in a mailbox name", (size_t)(nul - s)});
    return put_astring(f, s, n);
}

static int conv_vector(struct fmt *f, const struct spec *sp, va_list *ap)
{
    const char *const *v = va_arg(*ap, const char *const *);
    int rc = 0;

    if (!v)
        return arg_error(f, POSTA_EINVAL, "is a NULL vector", (size_t)-1);
    for (size_t i = 0; rc == 0 && v[i]; i++) {
        if (i > 0)
            rc = put(f, " ", 1);
        if (rc == 0)
            rc = put_astring(f, v[i], strlen(v[i]));
    }
    return rc;
}

/* seq-number = nz-number / "*", nz-number at most 4294967295. */
static size_t seq_number(const char *s, size_t i)
{
    if (s[i] == '*')
        return i + 1;
    if (s[i] < '1' || s[i] > '9')
        return 0;
    uint64_t v = 0;
    while (s[i] >= '0' && s[i] <= '9') {
        v = v * 10 + (uint64_t)(s[i++] - '0');
        if (v > UINT32_MAX)
            return 0;
    }
    return i;
}

/* Offset of the first byte that breaks the sequence-set grammar, or -1. */
static size_t seqset_error(const char *s)
{
    size_t i = 0, j;

    if (strcmp(s, "$") == 0)
        return (size_t)-1;
    for (;;) {
        if (!(j = seq_number(s, i)))
            return i;
        i = j;
        if (s[i] == ':') {
            if (!(j = seq_number(s, ++i)))
                return i;
            i = j;
        }
        if (s[i] == '\0')
            return (size_t)-1;
        if (s[i] != ',')
            return i;
        i++;
    }
}

static int conv_seqset(struct fmt *f, const struct spec *sp, va_list *ap)
{
    const char *s = va_arg(*ap, const char *);

    if (!s)
        return arg_error(f, POSTA_EINVAL, "is a NULL pointer", (size_t)-1);
    size_t bad = seqset_error(s);
    if (bad != (size_t)-1)
        return arg_error(f, POSTA_EINVAL, "is not a sequence set", bad);
    return puts_(f, s);
}

static int conv_signed(struct fmt *f, const struct spec *sp, va_list *ap)
{
    char num[32];
    long long v;

    if (sp->lenmod == 'q')
        v = va_arg(*ap, long long);
    else if (sp->lenmod == 'l')
        v = va_arg(*ap, long);
    else
        v = va_arg(*ap, int);
    snprintf(num, sizeof(num), "%lld", v);
    return puts_(f, num);
}

static int conv_unsigned(struct fmt *f, const struct spec *sp, va_list *ap)
{
    char num[32];
    unsigned long long v;

    if (sp->lenmod == 'q')
        v = va_arg(*ap, unsigned long long);
    else if (sp->lenmod == 'l')
        v = va_arg(*ap, unsigned long);
    else if (sp->lenmod == 'z')
        v = va_arg(*ap, size_t);
    else
        v = va_arg(*ap, unsigned);
    snprintf(num, sizeof(num), "%llu", v);
    return puts_(f, num);
}

static int check_literal(struct fmt *f, const posta_imap_literal *lit)
{
    int binary = lit->flags & POSTA_IMAP_LITERAL_BINARY;

    if (lit->size > (uint64_t)INT64_MAX)
        return arg_error(f, POSTA_EINVAL, "is a literal larger than 2^63-1 octets", (size_t)-1);
    if (binary && !(f->opts->caps & POSTA_IMAP_WRITER_BINARY))
        return arg_error(f, POSTA_EUNSUPPORTED, "is a binary literal (literal8), which needs "
                         "the server's BINARY capability", (size_t)-1);
    if (!lit->data && !lit->read)
        return arg_error(f, POSTA_EINVAL, "is a literal with neither data nor read", (size_t)-1);
    if (lit->data && lit->size > SIZE_MAX)
        return arg_error(f, POSTA_EINVAL, "is a literal buffer larger than memory", (size_t)-1);
    const void *nul = lit->data && !binary ? memchr(lit->data, 0, (size_t)lit->size) : NULL;
    if (nul)
        return arg_error(f, POSTA_EINVAL, "is a literal holding a NUL byte but not flagged "
                         "POSTA_IMAP_LITERAL_BINARY",
                         (size_t)((const char *)nul - (const char *)lit->data));
    return 0;
}

static int conv_literal(struct fmt *f, const struct spec *sp, va_list *ap)
{
    const posta_imap_literal *lit = va_arg(*ap, const posta_imap_literal *);
    size_t start = f->cmd->buf.len;

    if (!lit)
        return arg_error(f, POSTA_EINVAL, "is a NULL pointer", (size_t)-1);
    int rc = check_literal(f, lit);
    if (rc == 0)
        rc = put_literal_header(f, lit->size, lit->flags & POSTA_IMAP_LITERAL_BINARY);
    if (rc == 0 && (lit->flags & POSTA_IMAP_LITERAL_SECRET))
        rc = add_secret(f->cmd, start, f->cmd->buf.len);
    if (rc < 0 || lit->size == 0)
        return rc;
    struct seg s = {.lflags = lit->flags, .size = lit->size};
    if (lit->data) {
        s.kind = POSTA_IMAP_PIECE_BYTES;
        s.ext = lit->data;
        s.len = (size_t)lit->size;
    } else {
        s.kind = POSTA_IMAP_PIECE_SOURCE;
        s.read = lit->read;
        s.user = lit->user;
    }
    f->line_start = f->cmd->buf.len;
    return push_seg(f->cmd, &s);
}

enum { TAKES_PREC = 1, TAKES_LEN = 2 };

static const struct conv {
    char c;
    unsigned takes;
    conv_fn fn;
} conv_table[] = {
    {'a', TAKES_PREC, conv_atom},
    {'F', TAKES_PREC, conv_flag},
    {'s', TAKES_PREC, conv_astring},
    {'p', TAKES_PREC, conv_secret},
    {'m', TAKES_PREC, conv_mailbox},
    {'v', 0, conv_vector},
    {'S', 0, conv_seqset},
    {'d', TAKES_LEN, conv_signed},
    {'u', TAKES_LEN, conv_unsigned},
    {'L', 0, conv_literal},
};

static const struct conv *find_conv(char c)
{
    for (size_t i = 0; i < sizeof(conv_table) / sizeof(conv_table[0]); i++)
        if (conv_table[i].c == c)
            return &conv_table[i];
    return NULL;
}

/* Parse the conversion at fmt[*i] (just after "%") and run it. */
static int do_conversion(struct fmt *f, const char *fmt, size_t *i, va_list *ap)
{
    size_t at = *i - 1;
    struct spec sp = {0, 0};

    if (strncmp(fmt + *i, ".*", 2) == 0) {
        sp.prec = 1;
        *i += 2;
    }
    if (fmt[*i] == 'l' && fmt[*i + 1] == 'l') {
        sp.lenmod = 'q';
        *i += 2;
    } else if (fmt[*i] == 'l' || fmt[*i] == 'z') {
        sp.lenmod = fmt[(*i)++];
    }
    char c = fmt[*i];
    if (c)
        (*i)++;
    if (c == '%' && !sp.prec && !sp.lenmod)
        return put(f, "%", 1);
    const struct conv *cv = c ? find_conv(c) : NULL;
    if (!cv || (sp.prec && !(cv->takes & TAKES_PREC)) || (sp.lenmod && !(cv->takes & TAKES_LEN)) ||
        (sp.lenmod == 'z' && c != 'u'))
        return posta__err_set(f->err, POSTA_EINVAL,
                              "unknown or unsupported conversion \"%.*s\" at offset %zu of the "
                              "format", (int)(*i - at), fmt + at, at);
    f->argno++;
    f->conv = c;
    return cv->fn(f, &sp, ap);
}

/* Plain format text is copied, but it must stay one printable line. */
static int do_text(struct fmt *f, const char *fmt, size_t *i)
{
    size_t start = *i;

    while (fmt[*i] && fmt[*i] != '%') {
        unsigned char c = (unsigned char)fmt[*i];
        if (c < 0x20 || c > 0x7e)
            return posta__err_set(f->err, POSTA_EINVAL, "the format holds byte 0x%02x at "
                                  "offset %zu: format text must be printable US-ASCII", c, *i);
        (*i)++;
    }
    return put(f, fmt + start, *i - start);
}

/* A line ending in "{5}" or "{5+}" would make the server wait for a
 * literal and take the next command as its data. */
static int ends_like_literal_header(const posta_imap_cmd *cmd, size_t line_start)
{
    const unsigned char *p = cmd->buf.data;
    size_t i = cmd->buf.len;

    if (i <= line_start || p[--i] != '}')
        return 0;
    if (i > line_start && p[i - 1] == '+')
        i--;
    size_t digits = i;
    while (i > line_start && p[i - 1] >= '0' && p[i - 1] <= '9')
        i--;
    return i < digits && i > line_start && p[i - 1] == '{';
}

/* tag = 1*<any ASTRING-CHAR except "+"> */
static int check_tag(struct fmt *f, const char *tag)
{
    size_t n = strlen(tag);

    if (n == 0)
        return posta__err_set(f->err, POSTA_EINVAL, "the tag is empty");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)tag[i];
        if (c == '+' || (!is_atom_char(c) && c != ']'))
            return posta__err_set(f->err, POSTA_EINVAL, "the tag holds byte 0x%02x at offset "
                                  "%zu, which is not allowed in a tag", c, i);
    }
    return 0;
}

static int format(struct fmt *f, const char *tag, const char *fmt, va_list *ap)
{
    size_t i = 0;
    int rc = 0;

    if (tag) {
        if ((rc = check_tag(f, tag)) < 0 || (rc = puts_(f, tag)) < 0 || (rc = put(f, " ", 1)) < 0)
            return rc;
    }
    size_t after_tag = f->cmd->buf.len;
    while (rc == 0 && fmt[i]) {
        if (fmt[i] == '%') {
            i++;
            rc = do_conversion(f, fmt, &i, ap);
        } else {
            rc = do_text(f, fmt, &i);
        }
    }
    if (rc < 0)
        return rc;
    if (tag && f->cmd->buf.len == after_tag)
        return posta__err_set(f->err, POSTA_EINVAL, "the command after the tag is empty");
    if (ends_like_literal_header(f->cmd, f->line_start))
        return posta__err_set(f->err, POSTA_EINVAL, "the command ends in what reads as a "
                              "literal header (\"{n}\"); the server would wait for data");
    return put(f, "\r\n", 2);
}

/* --- the writer handle ------------------------------------------------------ */

int posta_imap_writer_new(posta_imap_writer **w_r, const posta_imap_writer_opts *opts)
{
    if (!w_r)
        return POSTA_EINVAL;
    *w_r = NULL;
    posta_imap_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return POSTA_ENOMEM;
    if (opts)
        w->opts = *opts;
    if (!w->opts.max_quoted)
        w->opts.max_quoted = DEFAULT_MAX_QUOTED;
    if (!w->opts.max_command)
        w->opts.max_command = DEFAULT_MAX_COMMAND;
    *w_r = w;
    return 0;
}

void posta_imap_writer_free(posta_imap_writer *w)
{
    free(w);
}

void posta_imap_writer_set_caps(posta_imap_writer *w, unsigned caps)
{
    w->opts.caps = caps;
}

unsigned posta_imap_writer_caps(const posta_imap_writer *w)
{
    return w->opts.caps;
}

const char *posta_imap_writer_errmsg(const posta_imap_writer *w)
{
    return posta__err_msg(&w->err);
}

/* --- commands --------------------------------------------------------------- */

int posta_imap_cmd_vnew(posta_imap_writer *w, posta_imap_cmd **cmd_r, const char *tag,
                        const char *fmt, va_list ap)
{
    if (!w || !cmd_r)
        return POSTA_EINVAL;
    *cmd_r = NULL;
    posta__err_clear(&w->err);
    if (!fmt)
        return posta__err_set(&w->err, POSTA_EINVAL, "the format is NULL");
    posta_imap_cmd *cmd = calloc(1, sizeof(*cmd));
    if (!cmd)
        return posta__err_set(&w->err, POSTA_ENOMEM, "out of memory");
    posta__buf_init(&cmd->buf, 0);
    struct fmt f = {.cmd = cmd, .opts = &w->opts, .err = &w->err};
    va_list aq;
    va_copy(aq, ap);
    int rc = format(&f, tag, fmt, &aq);
    va_end(aq);
    if (rc < 0) {
        if (rc == POSTA_ENOMEM && !w->err.msg[0])
            posta__err_set(&w->err, rc, "out of memory");
        posta_imap_cmd_free(cmd);
        return rc;
    }
    *cmd_r = cmd;
    return 0;
}

int posta_imap_cmd_new(posta_imap_writer *w, posta_imap_cmd **cmd_r, const char *tag,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = posta_imap_cmd_vnew(w, cmd_r, tag, fmt, ap);
    va_end(ap);
    return rc;
}

void posta_imap_cmd_free(posta_imap_cmd *cmd)
{
    if (!cmd)
        return;
    posta__buf_free(&cmd->buf);
    free(cmd->segs);
    free(cmd->secrets);
    free(cmd);
}

const char *posta_imap_cmd_errmsg(const posta_imap_cmd *cmd)
{
    return posta__err_msg(&cmd->err);
}

int posta_imap_cmd_next(posta_imap_cmd *cmd, posta_imap_piece *piece)
{
    memset(piece, 0, sizeof(*piece));
    if (cmd->failed)
        return cmd->failed;
    if (cmd->src && cmd->src_left > 0)
        return posta__err_set(&cmd->err, POSTA_ESTATE, "%llu octets of the literal source "
                              "are still to be read", (unsigned long long)cmd->src_left);
    cmd->src = NULL;
    if (cmd->cur >= cmd->nsegs) {
        piece->kind = POSTA_IMAP_PIECE_END;
        return 0;
    }
    const struct seg *s = &cmd->segs[cmd->cur++];
    piece->kind = s->kind;
    if (s->kind == POSTA_IMAP_PIECE_BYTES) {
        piece->data = s->ext ? s->ext : cmd->buf.data + s->off;
        piece->len = s->len;
    } else if (s->kind == POSTA_IMAP_PIECE_SOURCE) {
        piece->size = s->size;
        cmd->src = s;
        cmd->src_left = s->size;
    }
    return 0;
}

/* A source error leaves the command half sent: remember it for good. */
static long source_failed(posta_imap_cmd *cmd, int code)
{
    cmd->failed = code;
    return code;
}

long posta_imap_cmd_read(posta_imap_cmd *cmd, void *buf, size_t cap)
{
    if (cmd->failed)
        return cmd->failed;
    if (!cmd->src)
        return posta__err_set(&cmd->err, POSTA_ESTATE, "no literal source is being sent");
    if (cmd->src_left == 0)
        return 0;
    if (cap == 0 || !buf)
        return posta__err_set(&cmd->err, POSTA_EINVAL, "posta_imap_cmd_read needs room");
    const struct seg *s = cmd->src;
    size_t want = cmd->src_left < cap ? (size_t)cmd->src_left : cap;
    long r = s->read(cmd, buf, want, s->user);
    unsigned long long done = s->size - cmd->src_left;
    if (r == POSTA_EAGAIN)
        return r;
    if (r < 0)
        return source_failed(cmd, posta__err_set(&cmd->err, (int)r, "the literal source failed "
                             "after %llu of %llu octets: %s", done,
                             (unsigned long long)s->size, posta_strerror((int)r)));
    if (r == 0)
        return source_failed(cmd, posta__err_set(&cmd->err, POSTA_EINVAL, "the literal source "
                             "ended after %llu of %llu octets", done,
                             (unsigned long long)s->size));
    if ((size_t)r > want)
        return source_failed(cmd, posta__err_set(&cmd->err, POSTA_EINVAL, "the literal source "
                             "gave %ld octets when asked for %zu", r, want));
    const unsigned char *nul = (s->lflags & POSTA_IMAP_LITERAL_BINARY) ? NULL
                                                                       : memchr(buf, 0, (size_t)r);
    if (nul)
        return source_failed(cmd, posta__err_set(&cmd->err, POSTA_EINVAL, "the literal source "
                             "gave a NUL byte at octet %llu of %llu; flag binary data "
                             "POSTA_IMAP_LITERAL_BINARY",
                             done + (unsigned long long)(nul - (const unsigned char *)buf),
                             (unsigned long long)s->size));
    cmd->src_left -= (uint64_t)r;
    return r;
}

/* --- rendering for logs ----------------------------------------------------- */

/* Copy buf[off .. end), replacing secret ranges by one "<omitted>" each. */
static int render_span(const posta_imap_cmd *cmd, size_t off, size_t end, int redact,
                       size_t *ri, struct posta_buf *out)
{
    int rc = 0;

    while (rc == 0 && off < end) {
        while (*ri < cmd->nsecrets && cmd->secrets[*ri].end <= off)
            (*ri)++;
        const struct range *r = *ri < cmd->nsecrets ? &cmd->secrets[*ri] : NULL;
        if (redact && r && r->start <= off) {
            if (r->start == off)
                rc = posta__buf_append(out, REDACTED, strlen(REDACTED));
            off = r->end < end ? r->end : end;
            continue;
        }
        size_t stop = redact && r && r->start < end ? r->start : end;
        rc = posta__buf_append(out, cmd->buf.data + off, stop - off);
        off = stop;
    }
    return rc;
}

static int render_literal_data(const struct seg *s, unsigned flags, struct posta_buf *out)
{
    if ((flags & POSTA_IMAP_RENDER_REDACT) && (s->lflags & POSTA_IMAP_LITERAL_SECRET))
        return 0;
    if (flags & POSTA_IMAP_RENDER_ELIDE)
        return posta__buf_appendf(out, "<%llu octets>", (unsigned long long)s->size);
    if (s->kind == POSTA_IMAP_PIECE_SOURCE)
        return POSTA_EINVAL;
    return posta__buf_append(out, s->ext, s->len);
}

int posta_imap_cmd_render(const posta_imap_cmd *cmd, unsigned flags, char **text_r, size_t *len_r)
{
    struct posta_buf out;
    size_t ri = 0;
    int rc = 0;

    if (!cmd || !text_r || !len_r)
        return POSTA_EINVAL;
    *text_r = NULL;
    *len_r = 0;
    posta__buf_init(&out, 0);
    for (size_t i = 0; rc == 0 && i < cmd->nsegs; i++) {
        const struct seg *s = &cmd->segs[i];
        if (s->kind == POSTA_IMAP_PIECE_BYTES && !s->ext)
            rc = render_span(cmd, s->off, s->off + s->len, flags & POSTA_IMAP_RENDER_REDACT,
                             &ri, &out);
        else if (s->kind != POSTA_IMAP_PIECE_WAIT)
            rc = render_literal_data(s, flags, &out);
    }
    if (rc == 0)
        rc = posta__buf_append(&out, "", 1);
    if (rc < 0) {
        posta__buf_free(&out);
        return rc;
    }
    *text_r = (char *)out.data;
    *len_r = out.len - 1;
    return 0;
}
