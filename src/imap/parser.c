/* The sans-I/O IMAP response parser: the feed loop, the response frame
 * (tag, status, response code, text) and the handing over of responses. */
#include "parser_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * The frame of a response, after RFC 9051 section 9 (RFC 3501 the same):
 *
 *   response       = *(continue-req / response-data) response-done
 *   continue-req   = "+" [SP (resp-text / base64)] CRLF
 *   response-data  = "*" SP (resp-cond-state / resp-cond-bye /
 *                    mailbox-data / message-data / capability-data /
 *                    enable-data) CRLF
 *   response-tagged = tag SP resp-cond-state CRLF
 *   resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text
 *   resp-cond-auth = ("OK" / "PREAUTH") SP resp-text
 *   resp-cond-bye  = "BYE" SP resp-text
 *   resp-text      = ["[" resp-text-code "]" SP] [text]
 *   message-data   = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att))
 *   mailbox-data   =/ number SP "EXISTS" / number SP "RECENT" / ...
 *   tag            = 1*<any ASTRING-CHAR except "+">
 *
 * Everything after the keyword of untagged data is read by the generic
 * tokenizer (parser_args.c) into a tree; the keyword's own grammar is the
 * typed decoders' business.  Tolerated, because real servers send them:
 * a status with no SP or text after it ("a1 OK", "* OK [READ-WRITE]"), an
 * unterminated or unparsable response code (kept as text, or as a code
 * without arguments), lines ending in a bare LF, blank lines between
 * responses (skipped), lower-case status words, "+" with no SP.
 */

#define TOK_SHRINK (64u * 1024u)  /* token buffer kept between responses */

static const posta_imap_limits default_limits = {
    .max_line = 1024 * 1024,
    .inline_literal = 64 * 1024,
    .max_item = 1024 * 1024,
    .max_depth = 64,
    .max_items = 1000000,
    .max_response = 64 * 1024 * 1024,
};

static long fail_v(posta_imap_parser *p, int code, uint64_t at, const char *fmt, va_list ap)
    POSTA_PRINTF(4, 0);
static long fail_v(posta_imap_parser *p, int code, uint64_t at, const char *fmt, va_list ap)
{
    char what[400];
    vsnprintf(what, sizeof(what), fmt, ap);
    const char *kind = code == POSTA_ELIMIT ? "IMAP limit exceeded" : "IMAP protocol error";
    if (code == POSTA_ENOMEM)
        kind = "IMAP parser";
    posta__err_set(&p->err, code, "%s at byte %llu: %s", kind, (unsigned long long)at, what);
    p->err_at = at;
    return code;
}

long posta__imap_fail(posta_imap_parser *p, int code, size_t i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    long rc = fail_v(p, code, p->base + i, fmt, ap);
    va_end(ap);
    return rc;
}

long posta__imap_fail_at(posta_imap_parser *p, int code, uint64_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    long rc = fail_v(p, code, at, fmt, ap);
    va_end(ap);
    return rc;
}

long posta__imap_tok_add(posta_imap_parser *p, const void *s, size_t n, size_t i, const char *what)
{
    size_t used = posta__buf_used(&p->tok);

    if (what && n > p->lim.max_item - used)
        return posta__imap_fail(p, POSTA_ELIMIT, i + (p->lim.max_item - used),
                                "%s longer than %zu bytes (max_item)", what, p->lim.max_item);
    if (posta__buf_append(&p->tok, s, n) < 0)
        return posta__imap_fail(p, POSTA_ENOMEM, i, "out of memory");
    return 0;
}

int posta__imap_cb_result(posta_imap_parser *p, int rc)
{
    if (rc == POSTA_EAGAIN) {
        p->pause = 1;
        return 0;
    }
    if (rc < 0) {
        posta__err_set(&p->err, rc, "IMAP parser stopped by its callback at byte %llu: %s",
                       (unsigned long long)p->base, posta_strerror(rc));
        p->err_at = p->base;
    }
    return rc < 0 ? rc : 0;
}

static long arena_fail(posta_imap_parser *p, int rc, size_t i)
{
    if (rc == POSTA_ELIMIT)
        return posta__imap_fail(p, rc, i, "response larger than %zu bytes (max_response)",
                                p->lim.max_response);
    return posta__imap_fail(p, rc, i, "out of memory");
}

/* Between responses: forget this one, keeping small buffers for the next. */
static void reset_response(posta_imap_parser *p, uint64_t next)
{
    posta__arena_reset(&p->arena);
    if (p->tok.size > TOK_SHRINK)
        posta__buf_free(&p->tok);
    posta__buf_reset(&p->tok);
    posta__imap_args_reset(p);
    memset(&p->resp, 0, sizeof(p->resp));
    p->resp_start = next;
    p->lit_bytes = 0;
    p->state = ST_START;
}

/* The response's line ends with s[i]: hand it over, then start afresh. */
static long emit(posta_imap_parser *p, size_t i)
{
    int rc = 0;

    p->resp.offset = p->resp_start;
    if (p->cb.on_response) {
        p->in_callback++;
        rc = p->cb.on_response(p, &p->resp, p->user);
        p->in_callback--;
    }
    reset_response(p, p->base + i + 1);
    rc = posta__imap_cb_result(p, rc);
    return rc < 0 ? rc : (long)i + 1;
}

long posta__imap_args_done(posta_imap_parser *p, size_t i)
{
    if (p->code_mode)
        return posta__imap_fail(p, POSTA_EPROTO, i, "line end inside a response code");
    long rc = posta__imap_args_collect(p, &p->resp.args, &p->resp.nargs, i);
    return rc < 0 ? rc : emit(p, i);
}

/* ---- the head: tag, status, number, keyword ---- */

/* ATOM-CHAR; tags also take "]" (tag is made of ASTRING-CHAR). */
static int word_char(unsigned char c, int tag)
{
    if (c <= 0x20 || c >= 0x7f)
        return 0;
    return !strchr("(){%*\"\\", c) && (tag || c != ']');
}

static posta_imap_status status_word(const unsigned char *w, size_t n)
{
    static const struct {
        const char *word;
        posta_imap_status status;
    } words[] = {
        {"OK", POSTA_IMAP_STATUS_OK},   {"NO", POSTA_IMAP_STATUS_NO},
        {"BAD", POSTA_IMAP_STATUS_BAD}, {"PREAUTH", POSTA_IMAP_STATUS_PREAUTH},
        {"BYE", POSTA_IMAP_STATUS_BYE},
    };
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
        if (strlen(words[k].word) == n && strncasecmp(words[k].word, (const char *)w, n) == 0)
            return words[k].status;
    return POSTA_IMAP_STATUS_NONE;
}

static long st_start(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    switch (s[0]) {
    case '\r':
        p->state = ST_START_LF;
        return 1;
    case '\n':  /* a blank line between responses: skipped */
        p->resp_start = p->base + 1;
        return 1;
    case ' ':
        return posta__imap_fail(p, POSTA_EPROTO, 0, "response begins with a space");
    case '+':
        /* continue-req: whatever follows, SP included, is resp-text. */
        p->resp.kind = POSTA_IMAP_RESP_CONTINUATION;
        p->text_off = p->base + 1;
        posta__buf_reset(&p->tok);
        p->state = ST_TEXT;
        return 1;
    default:
        posta__buf_reset(&p->tok);
        p->tok_off = p->base;
        p->state = ST_TAG;
        return 0;
    }
}

static long st_start_lf(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    if (s[0] != '\n')
        return posta__imap_fail(p, POSTA_EPROTO, 0, "CR not followed by LF");
    p->resp_start = p->base + 1;
    p->state = ST_START;
    return 1;
}

/* Read a word up to SP, CR or LF into tok; returns how many bytes belong to
 * it, n when it goes on, or a negative error.  Bytes no word may hold are
 * refused at once, so that binary garbage (a TLS handshake on a cleartext
 * port) fails at its first byte rather than at the first LF, if any. */
static long read_word(posta_imap_parser *p, const unsigned char *s, size_t n, int tag, const char *what)
{
    size_t i, before = posta__buf_used(&p->tok);
    char b[8];

    for (i = 0; i < n; i++) {
        if (s[i] == ' ' || s[i] == '\r' || s[i] == '\n')
            break;
        if (i == p->lim.max_item - before)  /* errors come in byte order */
            return posta__imap_tok_add(p, s, i + 1, 0, what);
        /* "*" alone is the untagged response's tag */
        int star = tag && (before ? posta__buf_head(&p->tok)[0] : s[0]) == '*';
        int ok = star ? before + i == 0 : word_char(s[i], tag);
        if (!ok)
            return posta__imap_fail(p, POSTA_EPROTO, i, "invalid character %s in %s",
                                    posta__imap_byte_name(s[i], b), what);
    }
    long rc = posta__imap_tok_add(p, s, i, 0, what);
    return rc < 0 ? rc : (long)i;
}

static long st_tag(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    long i = read_word(p, s, n, 1, "tag");
    if (i < 0 || (size_t)i == n)
        return i;
    const unsigned char *w = posta__buf_head(&p->tok);
    size_t len = posta__buf_used(&p->tok);
    int star = w[0] == '*';
    if (s[i] != ' ')
        return posta__imap_fail(p, POSTA_EPROTO, (size_t)i,
                                star ? "empty untagged response" : "response ends after its tag");
    if (star) {
        p->resp.kind = POSTA_IMAP_RESP_UNTAGGED;
        p->head = HEAD_UNTAGGED;
    } else {
        char *tag;
        int rc = posta__arena_strdup(&p->arena, w, len, 0, &tag);
        if (rc < 0)
            return arena_fail(p, rc, (size_t)i);
        p->resp.kind = POSTA_IMAP_RESP_TAGGED;
        p->resp.tag = tag;
        p->resp.tag_len = len;
        p->head = HEAD_STATUS;
    }
    posta__buf_reset(&p->tok);
    p->state = ST_WORD;
    return i + 1;
}

/* The word in tok is a status: the rest of the line is resp-text.  A SP
 * after the word is eaten; a line end is left for ST_TEXT to see. */
static long to_text(posta_imap_parser *p, posta_imap_status st, const unsigned char *s, size_t i)
{
    p->resp.status = st;
    posta__buf_reset(&p->tok);
    p->state = ST_TEXT;
    size_t eat = s[i] == ' ';
    p->text_off = p->base + i + eat;
    return (long)(i + eat);
}

/* The word in tok is the keyword of untagged data: arguments follow. */
static long to_args(posta_imap_parser *p, const unsigned char *s, size_t i)
{
    const unsigned char *w = posta__buf_head(&p->tok);
    size_t len = posta__buf_used(&p->tok);
    char *kw;
    int rc = posta__arena_strdup(&p->arena, w, len, 1, &kw);
    if (rc < 0)
        return arena_fail(p, rc, i);
    p->resp.keyword = kw;
    p->resp.keyword_len = len;
    posta__buf_reset(&p->tok);
    p->state = ST_ARGS;
    return (long)(i + (s[i] == ' '));
}

static int parse_number(const unsigned char *w, size_t n, uint32_t *r)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < '0' || w[i] > '9')
            return 0;
        v = v * 10 + (w[i] - '0');
        if (v > UINT32_MAX)
            return -1;
    }
    *r = (uint32_t)v;
    return n > 0;
}

static long st_word(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    if (posta__buf_used(&p->tok) == 0) {
        size_t skip = 0;
        while (skip < n && s[skip] == ' ')  /* doubled spaces */
            skip++;
        if (skip)
            return (long)skip;
        p->tok_off = p->base;
    }
    long r = read_word(p, s, n, 0, p->head == HEAD_STATUS ? "status" : "keyword");
    if (r < 0 || (size_t)r == n)
        return r;
    size_t i = (size_t)r;
    const unsigned char *w = posta__buf_head(&p->tok);
    size_t len = posta__buf_used(&p->tok);
    posta_imap_status st = status_word(w, len);
    uint32_t num;
    int isnum;

    if (len == 0)
        return posta__imap_fail(p, POSTA_EPROTO, i, p->head == HEAD_STATUS
                                ? "tagged response without a status" : "untagged response without a keyword");
    switch (p->head) {
    case HEAD_STATUS:
        if (st == POSTA_IMAP_STATUS_NONE || st == POSTA_IMAP_STATUS_PREAUTH ||
            st == POSTA_IMAP_STATUS_BYE)
            return posta__imap_fail_at(p, POSTA_EPROTO, p->tok_off,
                                       "tagged response is not OK, NO or BAD");
        return to_text(p, st, s, i);
    case HEAD_UNTAGGED:
        if (st != POSTA_IMAP_STATUS_NONE)
            return to_text(p, st, s, i);
        isnum = parse_number(w, len, &num);
        if (isnum < 0)
            return posta__imap_fail_at(p, POSTA_EPROTO, p->tok_off, "message number too large");
        if (!isnum)
            return to_args(p, s, i);
        if (s[i] != ' ')
            return posta__imap_fail(p, POSTA_EPROTO, i, "untagged number without a keyword");
        p->resp.has_number = 1;
        p->resp.number = num;
        p->head = HEAD_KEYWORD;
        posta__buf_reset(&p->tok);
        return (long)i + 1;
    case HEAD_KEYWORD:
        return to_args(p, s, i);
    }
    return posta__imap_fail(p, POSTA_EPROTO, i, "parser state lost");
}

/* ---- resp-text and response codes ---- */

/*
 * resp-text-code = "ALERT" / "BADCHARSET" [SP "(" charset *(SP charset) ")"] /
 *                  capability-data / "PARSE" / "PERMANENTFLAGS" SP "(" ... ")" /
 *                  ... / atom [SP 1*<any TEXT-CHAR except "]">]
 *
 * The code ends at the first "]" outside a quoted string and outside a
 * nested "[...]" (REFERRAL URLs may hold "[::1]"); when quotes do not pair
 * up, at the first "]" outside "[...]".  Returns the index of that "]", or
 * 0 when the text holds no complete code.
 */
static size_t code_end(const char *t, size_t n, int quotes)
{
    size_t depth = 0;
    int quoted = 0;

    for (size_t k = 1; k < n; k++) {
        char c = t[k];
        if (quoted) {
            if (c == '\\')
                k++;
            else if (c == '"')
                quoted = 0;
        } else if (c == '"' && depth == 0 && quotes)
            quoted = 1;
        else if (c == '[')
            depth++;
        else if (c == ']') {
            if (depth == 0)
                return k;
            depth--;
        }
    }
    return 0;
}

/* Tokenize a code's arguments with the argument tokenizer: complete bytes,
 * no literals, no line end.  Malformed arguments are not fatal: the code
 * keeps its name and code_raw, with no parsed arguments. */
static long code_args(posta_imap_parser *p, const char *a, size_t n, uint64_t off)
{
    static const posta__step_fn code_steps[ST_COUNT] = {
        [ST_ARGS] = posta__imap_st_args,           [ST_ATOM] = posta__imap_st_atom,
        [ST_TILDE] = posta__imap_st_tilde,         [ST_QUOTED] = posta__imap_st_quoted,
        [ST_QUOTED_ESC] = posta__imap_st_quoted_esc, [ST_EOL_LF] = posta__imap_st_eol_lf,
    };
    const unsigned char *s = (const unsigned char *)a;
    size_t pos = 0;
    long r = 0;

    p->code_mode = 1;
    p->state = ST_ARGS;
    while (pos < n && r >= 0) {
        p->base = off + pos;
        r = code_steps[p->state] ? code_steps[p->state](p, s + pos, n - pos) : POSTA_EPROTO;
        pos += r < 0 ? 0 : (size_t)r;
    }
    if (r >= 0) {
        p->base = off + n;
        r = posta__imap_args_end(p, &p->resp.code_args, &p->resp.code_nargs);
    }
    p->code_mode = 0;
    p->state = ST_TEXT;
    posta__imap_args_reset(p);
    if (r == POSTA_EPROTO) {
        posta__err_clear(&p->err);
        p->resp.code_args = NULL;
        p->resp.code_nargs = 0;
        return 0;
    }
    return r < 0 ? r : 0;
}

/* resp-text = ["[" resp-text-code "]" SP] [text]; t is the whole text. */
static long split_code(posta_imap_parser *p, const char *t, size_t n, size_t i)
{
    size_t e = code_end(t, n, 1);
    if (e == 0)
        e = code_end(t, n, 0);
    if (e == 0)
        return 0;
    const char *raw = t + 1;
    size_t rawlen = e - 1, name = 0;
    char *s;
    int rc;

    while (name < rawlen && raw[name] != ' ' && raw[name] != '(')
        name++;
    if ((rc = posta__arena_strdup(&p->arena, raw, rawlen, 0, &s)) < 0)
        return arena_fail(p, rc, i);
    p->resp.code_raw = s;
    p->resp.code_raw_len = rawlen;
    if ((rc = posta__arena_strdup(&p->arena, raw, name, 1, &s)) < 0)
        return arena_fail(p, rc, i);
    p->resp.code = s;
    p->resp.code_len = name;
    size_t a = name;
    while (a < rawlen && raw[a] == ' ')
        a++;
    long r = code_args(p, raw + a, rawlen - a, p->text_off + 1 + a);
    if (r < 0)
        return r;
    size_t rest = e + 1 + (e + 1 < n && t[e + 1] == ' ');
    p->resp.text = t + rest;
    p->resp.text_len = n - rest;
    return 0;
}

static long st_text(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    const unsigned char *lf = memchr(s, '\n', n);
    size_t i = lf ? (size_t)(lf - s) : n;
    long rc = posta__imap_tok_add(p, s, i, 0, NULL);

    if (rc < 0 || !lf)
        return rc < 0 ? rc : (long)n;
    const char *t = (const char *)posta__buf_head(&p->tok);
    size_t len = posta__buf_used(&p->tok);
    char *text;
    if (len && t[len - 1] == '\r')
        len--;
    if (p->resp.kind == POSTA_IMAP_RESP_CONTINUATION && len && t[0] == ' ') {
        t++;
        len--;
        p->text_off++;
    }
    int r = posta__arena_strdup(&p->arena, t, len, 0, &text);
    if (r < 0)
        return arena_fail(p, r, i);
    p->resp.text = text;
    p->resp.text_len = len;
    if (len && text[0] == '[') {
        uint64_t base = p->base;
        rc = split_code(p, text, len, i);
        p->base = base;
        if (rc < 0)
            return rc;
    }
    return emit(p, i);
}

/* ---- the feed loop ---- */

static long st_failed(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    return p->failed ? p->failed : POSTA_EPROTO;
}

static const posta__step_fn steps[ST_COUNT] = {
    [ST_START] = st_start,
    [ST_START_LF] = st_start_lf,
    [ST_TAG] = st_tag,
    [ST_WORD] = st_word,
    [ST_TEXT] = st_text,
    [ST_ARGS] = posta__imap_st_args,
    [ST_ATOM] = posta__imap_st_atom,
    [ST_TILDE] = posta__imap_st_tilde,
    [ST_QUOTED] = posta__imap_st_quoted,
    [ST_QUOTED_ESC] = posta__imap_st_quoted_esc,
    [ST_LIT_SIZE] = posta__imap_st_lit_size,
    [ST_LIT_CLOSE] = posta__imap_st_lit_close,
    [ST_LIT_EOL] = posta__imap_st_lit_eol,
    [ST_LIT_LF] = posta__imap_st_lit_lf,
    [ST_LIT_INLINE] = posta__imap_st_lit_inline,
    [ST_LIT_STREAM] = posta__imap_st_lit_stream,
    [ST_EOL_LF] = posta__imap_st_eol_lf,
    [ST_FAILED] = st_failed,
};

static void parser_destroy(posta_imap_parser *p)
{
    posta__arena_free(&p->arena);
    posta__buf_free(&p->tok);
    free(p->stack);
    free(p->frames);
    free(p);
}

long posta_imap_parser_feed(posta_imap_parser *p, const void *data, size_t len)
{
    const unsigned char *s = data;
    size_t pos = 0;

    if (!p || (!data && len) || len > LONG_MAX)
        return POSTA_EINVAL;
    if (p->failed)
        return p->failed;
    if (p->in_callback)
        return POSTA_ESTATE;
    while (pos < len) {
        enum pstate st = p->state;
        int lit = st == ST_LIT_INLINE || st == ST_LIT_STREAM;
        size_t n = len - pos;
        if (!lit) {
            /* Bytes outside literals count against max_line; a step never
             * sees more than the room left, so no buffer outgrows it. */
            uint64_t line = p->offset - p->resp_start - p->lit_bytes;
            if (line >= p->lim.max_line) {
                p->failed = (int)posta__imap_fail_at(p, POSTA_ELIMIT, p->offset,
                                                     "response line longer than %zu bytes (max_line)",
                                                     p->lim.max_line);
                p->state = ST_FAILED;
                p->offset = p->err_at;
                return p->failed;
            }
            if (n > p->lim.max_line - line)
                n = (size_t)(p->lim.max_line - line);
        }
        p->base = p->offset;
        long r = steps[st](p, s + pos, n);
        if (p->doomed) {
            parser_destroy(p);
            return POSTA_ECANCELED;
        }
        if (r < 0) {
            /* Where the error is, not how far this chunking got. */
            p->failed = (int)r;
            p->state = ST_FAILED;
            p->offset = p->err_at;
            return r;
        }
        pos += (size_t)r;
        p->offset += (uint64_t)r;
        if (lit)
            p->lit_bytes += (uint64_t)r;
        if (p->pause) {
            p->pause = 0;
            break;
        }
    }
    return (long)pos;
}

/* ---- the handle ---- */

int posta_imap_parser_new(posta_imap_parser **p_r, const posta_imap_parser_callbacks *callbacks,
                          const posta_imap_limits *limits, void *user)
{
    if (!p_r)
        return POSTA_EINVAL;
    *p_r = NULL;
    posta_imap_parser *p = calloc(1, sizeof(*p));
    if (!p)
        return POSTA_ENOMEM;
    if (callbacks)
        p->cb = *callbacks;
    p->user = user;
    p->lim = limits ? *limits : default_limits;
#define POSTA_LIMIT_DEFAULT(f) \
    if (p->lim.f == 0)         \
        p->lim.f = default_limits.f;
    POSTA_LIMIT_DEFAULT(max_line)
    POSTA_LIMIT_DEFAULT(inline_literal)
    POSTA_LIMIT_DEFAULT(max_item)
    POSTA_LIMIT_DEFAULT(max_depth)
    POSTA_LIMIT_DEFAULT(max_items)
    POSTA_LIMIT_DEFAULT(max_response)
#undef POSTA_LIMIT_DEFAULT
    /* A literal kept in the tree is an item like any other. */
    p->inline_max = p->lim.inline_literal < p->lim.max_item ? p->lim.inline_literal : p->lim.max_item;
    posta__arena_init(&p->arena, p->lim.max_response);
    posta__buf_init(&p->tok, 0);
    p->state = ST_START;
    *p_r = p;
    return 0;
}

void posta_imap_parser_free(posta_imap_parser *p)
{
    if (!p)
        return;
    if (p->in_callback) {
        p->doomed = 1;  /* freed when the callback returns, by feed */
        return;
    }
    parser_destroy(p);
}

const char *posta_imap_parser_errmsg(const posta_imap_parser *p)
{
    if (!p)
        return posta_strerror(POSTA_EINVAL);
    return posta__err_msg(&p->err);
}

uint64_t posta_imap_parser_offset(const posta_imap_parser *p)
{
    return p ? p->offset : 0;
}

int posta_imap_parser_idle(const posta_imap_parser *p)
{
    return p && p->state == ST_START;
}
