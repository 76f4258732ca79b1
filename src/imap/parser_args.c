/* The IMAP response parser's generic argument tokenizer: atoms, quoted
 * strings, literals and lists, read incrementally into the response tree. */
#include "parser_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The tokens, after RFC 9051 section 9 (RFC 3501 section 9 is the same here):
 *
 *   atom          = 1*ATOM-CHAR
 *   ATOM-CHAR     = <any CHAR except atom-specials>
 *   atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards /
 *                   quoted-specials / resp-specials
 *   quoted        = DQUOTE *QUOTED-CHAR DQUOTE
 *   QUOTED-CHAR   = <any TEXT-CHAR except quoted-specials> /
 *                   "\" quoted-specials / UTF8-2 / UTF8-3 / UTF8-4
 *   literal       = "{" number64 ["+"] "}" CRLF *CHAR8
 *   literal8      = "~{" number64 ["+"] "}" CRLF *OCTET     ; RFC 3516, 7888
 *   nil           = "NIL"
 *   paren-list    = "(" [arg *(SP arg)] ")"
 *
 * and, for FETCH items whose names carry a section and a partial,
 *
 *   msg-att-static =/ "BODY" section ["<" number ">"] SP nstring /
 *                     "BINARY" section-binary SP (nstring / literal8)
 *   section        = "[" [section-spec] "]"    ; may hold SP and parens
 *
 * The tokenizer is more liberal than the grammar, as clients must be with
 * real servers: an atom is any run of bytes up to SP, "(", ")", DQUOTE, CR
 * or LF, so "\Seen", "\*", "$Forwarded", "1:3,5", "-1" and
 * "BODY[HEADER.FIELDS (From To)]<0>" are all atoms (inside "[...]" every
 * byte but CR and LF belongs to the atom, nesting counted); separating
 * spaces may be missing or doubled; "\x" in a quoted string keeps the
 * backslash unless x is DQUOTE or "\"; NIL is matched without regard to
 * case.  Literal sizes above 2^63-1 are refused.
 */

#define STACK_SHRINK 4096   /* nodes kept on the stack between responses */

/* Make room for one more element in a growable array capped at max. */
static int grow(void **arr, size_t *size, size_t used, size_t elem, size_t max)
{
    if (used < *size)
        return 0;
    size_t n = *size ? *size * 2 : 16;
    if (n > max)
        n = max;
    if (n <= used || n > SIZE_MAX / elem)
        return POSTA_ELIMIT;
    void *q = realloc(*arr, n * elem);
    if (!q)
        return POSTA_ENOMEM;
    *arr = q;
    *size = n;
    return 0;
}

/* Add a finished node; at is where it began in the stream. */
static long push_node(posta_imap_parser *p, const posta_imap_arg *a, uint64_t at)
{
    if (p->nodes >= p->lim.max_items)
        return posta__imap_fail_at(p, POSTA_ELIMIT, at, "more than %zu nodes in one response (max_items)",
                                   p->lim.max_items);
    int rc = grow((void **)&p->stack, &p->stack_size, p->nstack, sizeof(*p->stack), p->lim.max_items);
    if (rc < 0)
        return posta__imap_fail_at(p, POSTA_ENOMEM, at, "out of memory for %zu nodes", p->nstack + 1);
    p->stack[p->nstack++] = *a;
    p->nodes++;
    return 0;
}

static long arena_fail(posta_imap_parser *p, int rc, uint64_t at)
{
    if (rc == POSTA_ELIMIT)
        return posta__imap_fail_at(p, rc, at, "response larger than %zu bytes (max_response)",
                                   p->lim.max_response);
    return posta__imap_fail_at(p, rc, at, "out of memory");
}

/* Move the nodes above stack[start] into one array in the arena. */
static long collect(posta_imap_parser *p, size_t start, const posta_imap_arg **list_r,
                    size_t *count_r, uint64_t at)
{
    size_t count = p->nstack - start;
    void *mem = NULL;

    if (count) {
        int rc = posta__arena_alloc(&p->arena, count * sizeof(posta_imap_arg), &mem);
        if (rc < 0)
            return arena_fail(p, rc, at);
        memcpy(mem, p->stack + start, count * sizeof(posta_imap_arg));
    }
    p->nstack = start;
    *list_r = mem;
    *count_r = count;
    return 0;
}

static long open_list(posta_imap_parser *p, size_t i)
{
    if (p->nframes >= p->lim.max_depth)
        return posta__imap_fail(p, POSTA_ELIMIT, i, "lists nested deeper than %zu (max_depth)",
                                p->lim.max_depth);
    int rc = grow((void **)&p->frames, &p->frames_size, p->nframes, sizeof(*p->frames),
                  p->lim.max_depth);
    if (rc < 0)
        return posta__imap_fail(p, POSTA_ENOMEM, i, "out of memory");
    p->frames[p->nframes++] = p->nstack;
    return 0;
}

static long close_list(posta_imap_parser *p, size_t i)
{
    posta_imap_arg a = {.type = POSTA_IMAP_ARG_LIST};

    if (p->nframes == 0)
        return posta__imap_fail(p, POSTA_EPROTO, i, "unexpected ')'");
    long rc = collect(p, p->frames[--p->nframes], &a.list, &a.count, p->base + i);
    return rc < 0 ? rc : push_node(p, &a, p->base + i);
}

/* The token (which began at tok_off) is complete: make its node from the
 * bytes in tok. */
static long finish_token(posta_imap_parser *p, posta_imap_arg_type type)
{
    posta_imap_arg a = {.type = type};
    const unsigned char *t = posta__buf_head(&p->tok);
    size_t len = posta__buf_used(&p->tok);
    char *str;

    p->state = ST_ARGS;
    if (type == POSTA_IMAP_ARG_ATOM && len == 3 && (t[0] | 0x20) == 'n' && (t[1] | 0x20) == 'i' &&
        (t[2] | 0x20) == 'l')
        a.type = POSTA_IMAP_ARG_NIL;
    else {
        int rc = posta__arena_strdup(&p->arena, t, len, 0, &str);
        if (rc < 0)
            return arena_fail(p, rc, p->tok_off);
        a.str = str;
        a.len = len;
    }
    if (type == POSTA_IMAP_ARG_LITERAL) {
        a.size = len;
        a.literal8 = p->lit8;
    }
    return push_node(p, &a, p->tok_off);
}

static void begin_token(posta_imap_parser *p, enum pstate st, size_t i)
{
    posta__buf_reset(&p->tok);
    p->tok_off = p->base + i;
    p->state = st;
}

static void begin_literal(posta_imap_parser *p, int lit8, size_t i)
{
    begin_token(p, ST_LIT_SIZE, i);
    p->lit8 = lit8;
    p->lit_size = 0;
    p->lit_overflow = 0;
    p->lit_ndigits = 0;
}

long posta__imap_st_args(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    long rc;

    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case ' ':
            continue;
        case '(':
            if ((rc = open_list(p, i)) < 0)
                return rc;
            continue;
        case ')':
            if ((rc = close_list(p, i)) < 0)
                return rc;
            continue;
        case '"':
            begin_token(p, ST_QUOTED, i);
            return (long)i + 1;
        case '{':
            if (p->code_mode)
                break;  /* codes have no literals: an atom */
            begin_literal(p, 0, i);
            return (long)i + 1;
        case '~':
            begin_token(p, ST_TILDE, i);
            return (long)i + 1;
        case '\r':
            p->state = ST_EOL_LF;
            return (long)i + 1;
        case '\n':
            return posta__imap_args_done(p, i);
        default:
            break;
        }
        begin_token(p, ST_ATOM, i);
        return (long)i;
    }
    return (long)n;
}

/* Bytes that end an atom outside "[...]"; CR and LF end it anywhere. */
static int atom_end(unsigned char c)
{
    return c == ' ' || c == '(' || c == ')' || c == '"' || c == '\r' || c == '\n';
}

long posta__imap_st_atom(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    size_t i;
    long rc;

    for (i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '\r' || c == '\n')
            break;
        if (p->bracket) {
            /* section = "[" [section-spec] "]": SP and parens inside belong
             * to the FETCH item name. */
            if (c == '[')
                p->bracket++;
            else if (c == ']')
                p->bracket--;
        } else if (atom_end(c))
            break;
        else if (c == '[')
            p->bracket++;
    }
    if ((rc = posta__imap_tok_add(p, s, i, 0, "atom")) < 0)
        return rc;
    if (i == n)
        return (long)n;
    p->bracket = 0;
    rc = finish_token(p, POSTA_IMAP_ARG_ATOM);
    return rc < 0 ? rc : (long)i;
}

/* "~" starts a literal8 when "{" follows, else an atom. */
long posta__imap_st_tilde(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    if (s[0] == '{' && !p->code_mode) {
        uint64_t at = p->tok_off;  /* where the "~" was */
        begin_literal(p, 1, 0);
        p->tok_off = at;
        return 1;
    }
    long rc = posta__imap_tok_add(p, "~", 1, 0, "atom");
    if (rc < 0)
        return rc;
    p->state = ST_ATOM;
    p->bracket = 0;
    return 0;
}

long posta__imap_st_quoted(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    size_t i;
    long rc;

    for (i = 0; i < n; i++)
        if (s[i] == '"' || s[i] == '\\' || s[i] == '\r' || s[i] == '\n')
            break;
    if ((rc = posta__imap_tok_add(p, s, i, 0, "quoted string")) < 0)
        return rc;
    if (i == n)
        return (long)n;
    switch (s[i]) {
    case '"':
        rc = finish_token(p, POSTA_IMAP_ARG_STRING);
        return rc < 0 ? rc : (long)i + 1;
    case '\\':
        p->state = ST_QUOTED_ESC;
        return (long)i + 1;
    default:
        return posta__imap_fail(p, POSTA_EPROTO, i, "line ends inside a quoted string");
    }
}

long posta__imap_st_quoted_esc(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    long rc;

    if (s[0] == '\r' || s[0] == '\n')
        return posta__imap_fail(p, POSTA_EPROTO, 0, "line ends inside a quoted string");
    /* Only "\"" and "\\" are escapes; servers that escape anything else
     * mean the backslash (Windows paths in ID, odd labels). */
    if (s[0] != '"' && s[0] != '\\' && (rc = posta__imap_tok_add(p, "\\", 1, 0, "quoted string")) < 0)
        return rc;
    if ((rc = posta__imap_tok_add(p, s, 1, 0, "quoted string")) < 0)
        return rc;
    p->state = ST_QUOTED;
    return 1;
}

const char *posta__imap_byte_name(unsigned char c, char buf[8])
{
    if (c > 0x20 && c < 0x7f)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "0x%02x", c);
    return buf;
}

/* number64 = 1*DIGIT, at most 2^63-1 (RFC 9051). */
long posta__imap_st_lit_size(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    char b[8];

    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c >= '0' && c <= '9') {
            unsigned d = c - '0';
            if (p->lit_size > (UINT64_C(0x7fffffffffffffff) - d) / 10)
                p->lit_overflow = 1;
            else
                p->lit_size = p->lit_size * 10 + d;
            if (p->lit_ndigits < sizeof(p->lit_digits) - 1)
                p->lit_digits[p->lit_ndigits] = (char)c;
            p->lit_ndigits++;
            continue;
        }
        if (c != '}' && c != '+')
            return posta__imap_fail(p, POSTA_EPROTO, i, "invalid character %s in literal size",
                                    posta__imap_byte_name(c, b));
        if (p->lit_ndigits == 0)
            return posta__imap_fail(p, POSTA_EPROTO, i, "literal without a size");
        if (p->lit_overflow) {
            size_t nd = p->lit_ndigits < sizeof(p->lit_digits) - 1 ? p->lit_ndigits
                                                                    : sizeof(p->lit_digits) - 1;
            p->lit_digits[nd] = '\0';
            return posta__imap_fail_at(p, POSTA_EPROTO, p->tok_off, "literal size %s%s overflows",
                                       p->lit_digits, p->lit_ndigits > nd ? "..." : "");
        }
        p->state = c == '+' ? ST_LIT_CLOSE : ST_LIT_EOL;
        return (long)i + 1;
    }
    return (long)n;
}

long posta__imap_st_lit_close(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    char b[8];

    if (s[0] != '}')
        return posta__imap_fail(p, POSTA_EPROTO, 0, "expected '}' after '+' in literal size, got %s",
                                posta__imap_byte_name(s[0], b));
    p->state = ST_LIT_EOL;
    return 1;
}

/* Where a streamed literal sits: the FETCH item is the atom before the
 * value being read in the outermost list of "* n FETCH (name value ...)". */
static void literal_item(const posta_imap_parser *p, posta_imap_literal_info *info)
{
    info->item = "";
    info->item_len = 0;
    if (!p->resp.keyword || strcmp(p->resp.keyword, "FETCH") != 0 || p->nframes == 0 ||
        p->frames[0] != 0)
        return;
    size_t end = p->nframes > 1 ? p->frames[1] : p->nstack;
    if (end % 2 == 1 && p->stack[end - 1].type == POSTA_IMAP_ARG_ATOM) {
        info->item = p->stack[end - 1].str;
        info->item_len = p->stack[end - 1].len;
    }
}

/* The literal's CRLF was s[i]; its data starts after it. */
static long start_literal_data(posta_imap_parser *p, size_t i)
{
    if (p->lit_size <= p->inline_max) {
        int rc = posta__buf_reserve(&p->tok, (size_t)p->lit_size);
        if (rc < 0)
            return posta__imap_fail(p, POSTA_ENOMEM, i, "out of memory");
        if (p->lit_size == 0) {
            long r = finish_token(p, POSTA_IMAP_ARG_LITERAL);
            return r < 0 ? r : (long)i + 1;
        }
        p->state = ST_LIT_INLINE;
        return (long)i + 1;
    }
    posta_imap_literal_info info = {
        .has_number = p->resp.has_number,
        .number = p->resp.number,
        .keyword = p->resp.keyword ? p->resp.keyword : "",
        .keyword_len = p->resp.keyword_len,
        .size = p->lit_size,
        .literal8 = p->lit8,
        .offset = p->base + i + 1,
    };
    literal_item(p, &info);
    p->lit_total = p->lit_size;
    p->state = ST_LIT_STREAM;
    if (p->cb.on_literal_begin) {
        p->in_callback++;
        int rc = p->cb.on_literal_begin(p, &info, p->user);
        p->in_callback--;
        if ((rc = posta__imap_cb_result(p, rc)) < 0)
            return rc;
    }
    return (long)i + 1;
}

long posta__imap_st_lit_eol(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    if (s[0] == '\r') {
        p->state = ST_LIT_LF;
        return 1;
    }
    if (s[0] == '\n')  /* bare LF, tolerated like at the end of a line */
        return start_literal_data(p, 0);
    return posta__imap_fail(p, POSTA_EPROTO, 0, "literal size not followed by CRLF");
}

long posta__imap_st_lit_lf(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    if (s[0] != '\n')
        return posta__imap_fail(p, POSTA_EPROTO, 0, "literal size not followed by CRLF");
    return start_literal_data(p, 0);
}

long posta__imap_st_lit_inline(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    size_t m = n < p->lit_size ? n : (size_t)p->lit_size;
    long rc = posta__imap_tok_add(p, s, m, 0, NULL);

    if (rc < 0)
        return rc;
    p->lit_size -= m;
    if (p->lit_size == 0 && (rc = finish_token(p, POSTA_IMAP_ARG_LITERAL)) < 0)
        return rc;
    return (long)m;
}

long posta__imap_st_lit_stream(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    size_t m = n < p->lit_size ? n : (size_t)p->lit_size;
    int rc;

    if (p->cb.on_literal_data) {
        p->in_callback++;
        rc = p->cb.on_literal_data(p, s, m, p->user);
        p->in_callback--;
        if ((rc = posta__imap_cb_result(p, rc)) < 0)
            return rc;
    }
    p->lit_size -= m;
    if (p->lit_size)
        return (long)m;
    if (p->cb.on_literal_end) {
        p->in_callback++;
        rc = p->cb.on_literal_end(p, p->user);
        p->in_callback--;
        if ((rc = posta__imap_cb_result(p, rc)) < 0)
            return rc;
    }
    posta_imap_arg a = {.type = POSTA_IMAP_ARG_LITERAL_STREAMED, .size = p->lit_total,
                        .literal8 = p->lit8};
    p->state = ST_ARGS;
    long r = push_node(p, &a, p->tok_off);
    return r < 0 ? r : (long)m;
}

long posta__imap_st_eol_lf(posta_imap_parser *p, const unsigned char *s, size_t n)
{
    if (s[0] != '\n')
        return posta__imap_fail(p, POSTA_EPROTO, 0, "CR not followed by LF");
    return posta__imap_args_done(p, 0);
}

long posta__imap_args_collect(posta_imap_parser *p, const posta_imap_arg **args_r, size_t *n_r,
                              size_t i)
{
    if (p->nframes)
        return posta__imap_fail(p, POSTA_EPROTO, i, "%zu list%s not closed (missing ')')", p->nframes,
                                p->nframes == 1 ? "" : "s");
    return collect(p, 0, args_r, n_r, p->base + i);
}

long posta__imap_args_end(posta_imap_parser *p, const posta_imap_arg **args_r, size_t *n_r)
{
    long rc;

    if (p->state == ST_TILDE) {
        if ((rc = posta__imap_tok_add(p, "~", 1, 0, "atom")) < 0)
            return rc;
        p->state = ST_ATOM;
    }
    if (p->state == ST_ATOM) {
        p->bracket = 0;
        if ((rc = finish_token(p, POSTA_IMAP_ARG_ATOM)) < 0)
            return rc;
    }
    if (p->state != ST_ARGS)
        return posta__imap_fail(p, POSTA_EPROTO, 0, "code arguments end inside a token");
    return posta__imap_args_collect(p, args_r, n_r, 0);
}

void posta__imap_args_reset(posta_imap_parser *p)
{
    p->nstack = p->nframes = 0;
    p->nodes = 0;
    p->bracket = 0;
    if (p->stack_size > STACK_SHRINK) {
        free(p->stack);
        p->stack = NULL;
        p->stack_size = 0;
    }
}
