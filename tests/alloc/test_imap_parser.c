/* Allocation-failure loops over the IMAP response parser: created, fed a
 * corpus whole and in small pieces (inline and streamed literals, deep and
 * wide lists, long tokens), each run gives the reference events or
 * POSTA_ENOMEM with "out of memory" in the sentence. */
#include <posta/imap_parser.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failmalloc.h"

static void put_arg(const posta_imap_arg *a)
{
    switch (a->type) {
    case POSTA_IMAP_ARG_NIL:
        fm_puts("NIL");
        break;
    case POSTA_IMAP_ARG_ATOM:
        fm_puts("A:");
        fm_put(a->str, a->len);
        break;
    case POSTA_IMAP_ARG_STRING:
        fm_puts("S:");
        fm_put(a->str, a->len);
        break;
    case POSTA_IMAP_ARG_LITERAL:
        fm_putf("L%d:", a->literal8);
        fm_put(a->str, a->len);
        break;
    case POSTA_IMAP_ARG_LITERAL_STREAMED:
        fm_putf("X%llu", (unsigned long long)a->size);
        break;
    case POSTA_IMAP_ARG_LIST:
        fm_puts("(");
        for (size_t i = 0; i < a->count; i++) {
            if (i)
                fm_puts(" ");
            put_arg(&a->list[i]);
        }
        fm_puts(")");
        break;
    }
}

static int on_response(posta_imap_parser *p, const posta_imap_response *r, void *user)
{
    fm_putf("%d ", (int)r->kind);
    if (r->tag)
        fm_put(r->tag, r->tag_len);
    fm_putf(" st%d", (int)r->status);
    if (r->code) {
        fm_puts(" [");
        fm_put(r->code, r->code_len);
        for (size_t i = 0; i < r->code_nargs; i++) {
            fm_puts(" ");
            put_arg(&r->code_args[i]);
        }
        fm_puts("|");
        fm_put(r->code_raw, r->code_raw_len);
        fm_puts("]");
    }
    if (r->text) {
        fm_puts(" t:");
        fm_put(r->text, r->text_len);
    }
    if (r->has_number)
        fm_putf(" #%u", (unsigned)r->number);
    if (r->keyword) {
        fm_puts(" k:");
        fm_put(r->keyword, r->keyword_len);
    }
    for (size_t i = 0; i < r->nargs; i++) {
        fm_puts(" ");
        put_arg(&r->args[i]);
    }
    fm_putf(" @%llu\n", (unsigned long long)r->offset);
    return 0;
}

static int on_begin(posta_imap_parser *p, const posta_imap_literal_info *li, void *user)
{
    fm_puts("<begin ");
    fm_put(li->item, li->item_len);
    fm_putf(" %llu>", (unsigned long long)li->size);
    return 0;
}

static int on_data(posta_imap_parser *p, const void *data, size_t len, void *user)
{
    fm_put(data, len);
    return 0;
}

static int on_end(posta_imap_parser *p, void *user)
{
    fm_puts("<end>\n");
    return 0;
}

static char corpus[32768];
static size_t corpus_len;

static void add_n(const char *s, size_t n)
{
    if (n > sizeof(corpus) - corpus_len)
        abort();
    memcpy(corpus + corpus_len, s, n);
    corpus_len += n;
}

static void add(const char *s)
{
    add_n(s, strlen(s));
}

static void build_corpus(void)
{
    add("* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE AUTH=PLAIN] Dovecot ready.\r\n");
    add("a001 OK [READ-WRITE] SELECT completed\r\n");
    add("+ YWJjZA==\r\n");
    add("+\r\n");
    add("* 12 FETCH (FLAGS (\\Seen $Forwarded) UID 9 BODY[HEADER.FIELDS (From To)]<0> {13}\r\n"
        "From: a@b\r\n\r\n BINARY[2] ~{3}\r\n");
    add_n("a\0b", 3);
    add(" ENVELOPE (\"d\" NIL ((\"T\" NIL \"t\" \"x\")) "
        "NIL NIL NIL NIL NIL NIL \"<m@x>\"))\r\n");
    /* streamed: larger than inline_literal */
    add("* 13 FETCH (BODY[TEXT] {40}\r\n0123456789012345678901234567890123456789 UID 10)\r\n");
    add("* NO [BADCHARSET (UTF-8 \"ISO-8859-1\")] no\r\n");
    add("* OK [XWEIRD ]]] raw code\r\n");
    add("* LIST (\\HasNoChildren) \"/\" \"a \\\"quoted\\\\ name\"\r\n");
    /* deep nesting */
    for (int i = 0; i < 40; i++)
        add(i == 0 ? "* X " : "");
    for (int i = 0; i < 40; i++)
        add("(");
    add("x");
    for (int i = 0; i < 40; i++)
        add(")");
    add("\r\n");
    /* wide: many nodes */
    add("* SEARCH");
    for (int i = 1; i <= 400; i++) {
        char b[16];
        snprintf(b, sizeof(b), " %d", i);
        add(b);
    }
    add("\r\n");
    /* a long atom and a long quoted string */
    add("* ID (\"name\" \"");
    for (int i = 0; i < 300; i++)
        add("abcdefghij");
    add("\" \"v\" ");
    for (int i = 0; i < 200; i++)
        add("ATOMATOMAT");
    add(")\r\n");
    add("a002 BAD [PARSE] bad command\r\n");
    add("* BYE server going down\r\n");
}

static int run(size_t step)
{
    posta_imap_parser_callbacks cb = {on_response, on_begin, on_data, on_end};
    posta_imap_limits lim = {.inline_literal = 16};
    posta_imap_parser *p = NULL;
    int rc = posta_imap_parser_new(&p, &cb, &lim, NULL);
    if (rc != 0)
        return rc;
    size_t off = 0;
    while (off < corpus_len) {
        size_t n = step && step < corpus_len - off ? step : corpus_len - off;
        long used = posta_imap_parser_feed(p, corpus + off, n);
        if (used < 0) {
            if (used == POSTA_ENOMEM && !strstr(posta_imap_parser_errmsg(p), "out of memory")) {
                t_fail(__FILE__, __LINE__, "ENOMEM sentence: %s", posta_imap_parser_errmsg(p));
                used = FM_WRONG;
            } else if (used != POSTA_ENOMEM) {
                fprintf(stderr, "feed: %s\n", posta_imap_parser_errmsg(p));
            }
            posta_imap_parser_free(p);
            return (int)used;
        }
        if ((size_t)used != n) {
            posta_imap_parser_free(p);
            return FM_WRONG;
        }
        off += n;
    }
    int idle = posta_imap_parser_idle(p);
    posta_imap_parser_free(p);
    return idle ? fm_done() : FM_WRONG;
}

static int whole(void)
{
    return run(0);
}

static int pieces(void)
{
    return run(7);
}

static int bytes(void)
{
    return run(1);
}

static void test_parser(void)
{
    build_corpus();
    fm_loop(whole);
    T_CONTAINS(fm_ref(), "<begin BODY[TEXT] 40>0123456789012345678901234567890123456789<end>");
    T_CONTAINS(fm_ref(), "L1:a");
    T_CONTAINS(fm_ref(), "A:400 @");
    fm_loop(pieces);
    fm_loop(bytes);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"parser", test_parser},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
