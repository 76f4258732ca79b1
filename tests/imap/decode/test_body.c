/* ENVELOPE and BODY/BODYSTRUCTURE: RFC examples, groups, nesting, sections,
 * extension data and the quirks of real servers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt.h"

/* The value of the first FETCH item of "* 1 FETCH (ITEM value)". */
static const posta_imap_arg *item_value(const char *item, const char *value)
{
    size_t n = strlen(item) + strlen(value) + 32;
    char *line = malloc(n);
    snprintf(line, n, "* 1 FETCH (%s %s)\r\n", item, value);
    const posta_imap_response *r = dt_parse(line);
    free(line);
    return &r->args[0].list[1];
}

static const posta_imap_body *body_ok(posta_imap_decoder *d, const char *value)
{
    const posta_imap_body *b = NULL;
    int rc = posta_imap_decode_body_arg(d, item_value("BODYSTRUCTURE", value), &b);
    if (rc != 0 || !b) {
        t_fail(__FILE__, __LINE__, "decode of %s gave %d: %s", value, rc,
               posta_imap_decoder_errmsg(d));
        static const posta_imap_body empty;
        return &empty;
    }
    return b;
}

static int body_rc(posta_imap_decoder *d, const char *value)
{
    const posta_imap_body *b;
    return posta_imap_decode_body_arg(d, item_value("BODYSTRUCTURE", value), &b);
}

#define TERRY "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\"))"
#define RFC_ENVELOPE "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" " \
    "\"IMAP4rev2 WG mtg summary and minutes\" " TERRY " " TERRY " " TERRY " " \
    "((NIL NIL \"imap\" \"cac.washington.edu\")) " \
    "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) " \
    "NIL NIL \"<B27397-0100000@cac.washington.edu>\")"

static void test_envelope_rfc(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    const posta_imap_envelope *e;
    T_EQ_INT(posta_imap_decode_envelope_arg(d, item_value("ENVELOPE", RFC_ENVELOPE), &e), 0);
    T_EQ_PSTR(e->date, "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)");
    T_EQ_PSTR(e->subject, "IMAP4rev2 WG mtg summary and minutes");
    T_EQ_INT(e->from.count, 1);
    T_EQ_PSTR(e->from.v[0].name, "Terry Gray");
    T_NIL(e->from.v[0].adl);
    T_EQ_PSTR(e->from.v[0].mailbox, "gray");
    T_EQ_PSTR(e->from.v[0].host, "cac.washington.edu");
    T_EQ_INT(e->from.v[0].kind, POSTA_IMAP_ADDRESS_MAILBOX);
    T_NIL(e->from.v[0].group);
    T_EQ_INT(e->sender.count, 1);
    T_EQ_INT(e->reply_to.count, 1);
    T_EQ_INT(e->to.count, 1);
    T_NIL(e->to.v[0].name);
    T_EQ_INT(e->cc.count, 2);
    T_EQ_PSTR(e->cc.v[1].name, "John Klensin");
    T_EQ_INT(e->bcc.count, 0);
    T_NIL(e->in_reply_to);
    T_EQ_PSTR(e->message_id, "<B27397-0100000@cac.washington.edu>");
}

static void test_envelope_groups(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    const posta_imap_envelope *e;
    const char *env =
        "(NIL \"\" NIL NIL NIL "
        "((NIL NIL \"team\" NIL)(\"A\" NIL \"a\" \"x.org\")(\"B\" NIL \"b\" \"x.org\")"
        "(NIL NIL NIL NIL)(\"C\" NIL \"c\" \"y.org\")) "
        "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)";
    T_EQ_INT(posta_imap_decode_envelope_arg(d, item_value("ENVELOPE", env), &e), 0);
    T_NIL(e->date);
    T_EQ_PSTR(e->subject, "");
    T_EQ_INT(e->to.count, 5);
    T_EQ_INT(e->to.v[0].kind, POSTA_IMAP_ADDRESS_GROUP_BEGIN);
    T_EQ_PSTR(e->to.v[0].mailbox, "team");
    T_EQ_PSTR(e->to.v[1].group, "team");
    T_EQ_PSTR(e->to.v[2].group, "team");
    T_EQ_INT(e->to.v[3].kind, POSTA_IMAP_ADDRESS_GROUP_END);
    T_NIL(e->to.v[4].group);
    T_EQ_PSTR(e->to.v[4].mailbox, "c");
    T_EQ_INT(e->cc.count, 2);
    T_EQ_INT(e->cc.v[0].kind, POSTA_IMAP_ADDRESS_GROUP_BEGIN);
    T_EQ_INT(e->cc.v[1].kind, POSTA_IMAP_ADDRESS_GROUP_END);
    /* a group that is never ended */
    env = "(NIL NIL ((NIL NIL \"g\" NIL)(\"A\" NIL \"a\" \"x\")) NIL NIL NIL NIL NIL NIL NIL)";
    T_EQ_INT(posta_imap_decode_envelope_arg(d, item_value("ENVELOPE", env), &e), 0);
    T_EQ_PSTR(e->from.v[1].group, "g");
}

static void test_envelope_quirks(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    const posta_imap_envelope *e;
    /* "" and () for NIL address lists, NIL and "" entries in a list */
    const char *env = "(\"d\" \"s\" \"\" () ((\"A\" NIL \"a\" \"x\") NIL \"\") NIL NIL NIL "
                      "\"<r@x>\" {5}\r\n<m@x>)";
    T_EQ_INT(posta_imap_decode_envelope_arg(d, item_value("ENVELOPE", env), &e), 0);
    T_EQ_INT(e->from.count, 0);
    T_EQ_INT(e->sender.count, 0);
    T_EQ_INT(e->reply_to.count, 1);
    T_EQ_PSTR(e->in_reply_to, "<r@x>");
    T_EQ_PSTR(e->message_id, "<m@x>");
    /* shapes that are refused */
    static const char *bad[] = {
        "(\"d\" \"s\" NIL NIL NIL NIL NIL NIL NIL)",           /* 9 fields */
        "(\"d\" \"s\" NIL NIL NIL NIL NIL NIL NIL NIL NIL)",   /* 11 */
        "(\"d\" \"s\" ((\"A\" NIL \"a\")) NIL NIL NIL NIL NIL NIL NIL)",  /* address of 3 */
        "(\"d\" \"s\" (\"A\" NIL \"a\" \"x\") NIL NIL NIL NIL NIL NIL NIL)", /* not a list of lists */
        "(\"d\" \"s\" X NIL NIL NIL NIL NIL NIL NIL)",         /* atom for address list */
        "((x) \"s\" NIL NIL NIL NIL NIL NIL NIL NIL)",         /* list for date */
        "((\"d\" \"s\" NIL NIL NIL NIL NIL NIL NIL NIL))",
        "NIL", "\"x\"",
        NULL,
    };
    for (int i = 0; bad[i]; i++)
        if (posta_imap_decode_envelope_arg(d, item_value("ENVELOPE", bad[i]), &e) != POSTA_EPROTO)
            t_fail(__FILE__, __LINE__, "envelope %s accepted", bad[i]);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "ENVELOPE");
}

static void test_body_rfc(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    /* RFC 9051 7.5.2 BODY example: a single TEXT part */
    const posta_imap_body *b =
        body_ok(d, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92)");
    T_EQ_INT(b->multipart, 0);
    T_EQ_PSTR(b->type, "TEXT");
    T_EQ_PSTR(b->subtype, "PLAIN");
    T_EQ_INT(b->nparams, 1);
    T_EQ_PSTR(b->params[0].name, "CHARSET");
    T_EQ_PSTR(b->params[0].value, "US-ASCII");
    T_NIL(b->id);
    T_EQ_PSTR(b->encoding, "7BIT");
    T_EQ_INT(b->size, 3028);
    T_EQ_INT(b->lines, 92);
    T_EQ_INT(b->has_ext, 0);
    T_EQ_PSTR(b->section, "1");

    /* RFC 3501 BODYSTRUCTURE example: multipart/mixed of two TEXT parts */
    b = body_ok(d, "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)"
                   "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") "
                   "\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" "
                   "4554 73) \"MIXED\")");
    T_EQ_INT(b->multipart, 1);
    T_EQ_PSTR(b->type, "MULTIPART");
    T_EQ_PSTR(b->subtype, "MIXED");
    T_EQ_INT(b->nparts, 2);
    T_EQ_PSTR(b->section, "");
    T_EQ_PSTR(b->parts[0].section, "1");
    T_EQ_PSTR(b->parts[1].section, "2");
    T_EQ_INT(b->parts[1].nparams, 2);
    T_EQ_PSTR(b->parts[1].params[1].value, "cc.diff");
    T_EQ_PSTR(b->parts[1].id, "<960723163407.20117h@cac.washington.edu>");
    T_EQ_PSTR(b->parts[1].description, "Compiler diff");
    T_EQ_INT(b->parts[1].size, 4554);
    T_EQ_INT(b->parts[1].lines, 73);
}

static void test_body_extensions(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    const posta_imap_body *b = body_ok(d,
        "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 1234 30 "
        "\"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"inline\" NIL) (\"en\" \"fr\") \"http://x/loc\" "
        "\"ext1\" (1 2))"
        "(\"image\" \"png\" (\"name\" \"a.png\") \"<id@x>\" NIL \"base64\" 9000 NIL "
        "(\"attachment\" (\"filename\" \"a.png\" \"size\" \"9000\")) \"de\" NIL) "
        "\"mixed\" (\"boundary\" \"xyz\") (\"inline\" NIL) NIL \"loc\" 42)");
    T_EQ_INT(b->has_ext, 1);
    T_EQ_INT(b->nparams, 1);
    T_EQ_PSTR(b->params[0].name, "boundary");
    T_EQ_PSTR(b->disposition, "inline");
    T_EQ_INT(b->nlanguage, 0);
    T_EQ_PSTR(b->location, "loc");
    T_EQ_INT(b->nextensions, 1);
    T_EQ_PSTR(((posta_imap_str){b->extensions[0].str, b->extensions[0].len}), "42");
    const posta_imap_body *t = &b->parts[0];
    T_EQ_INT(t->has_ext, 1);
    T_EQ_PSTR(t->md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
    T_EQ_PSTR(t->disposition, "inline");
    T_EQ_INT(t->ndisposition_params, 0);
    T_EQ_INT(t->nlanguage, 2);
    T_EQ_PSTR(t->language[1], "fr");
    T_EQ_PSTR(t->location, "http://x/loc");
    T_EQ_INT(t->nextensions, 2);
    T_EQ_INT(t->extensions[1].type, POSTA_IMAP_ARG_LIST);
    const posta_imap_body *img = &b->parts[1];
    T_EQ_INT(img->lines, 0);
    T_NIL(img->md5);
    T_EQ_PSTR(img->disposition, "attachment");
    T_EQ_INT(img->ndisposition_params, 2);
    T_EQ_PSTR(img->disposition_params[0].value, "a.png");
    T_EQ_INT(img->nlanguage, 1);
    T_EQ_PSTR(img->language[0], "de");
    T_NIL(img->location);
}

#define MSG_PART(inner) "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 5000 " RFC_ENVELOPE " " \
    inner " 120 NIL (\"attachment\" NIL) NIL NIL)"

static void test_body_nested(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    /* multipart/mixed: text, message/rfc822 (holding multipart/alternative), message/rfc822
     * holding a single part */
    const posta_imap_body *b = body_ok(d,
        "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1)"
        MSG_PART("((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1)"
                 "(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 20 2) \"ALTERNATIVE\")")
        MSG_PART("(\"APPLICATION\" \"PDF\" NIL NIL NIL \"BASE64\" 300)")
        " \"MIXED\")");
    T_EQ_INT(b->nparts, 3);
    const posta_imap_body *m = &b->parts[1];
    T_EQ_PSTR(m->section, "2");
    T_ASSERT(m->envelope != NULL);
    T_EQ_PSTR(m->envelope->from.v[0].mailbox, "gray");
    T_ASSERT(m->body != NULL);
    T_EQ_INT(m->lines, 120);
    T_EQ_PSTR(m->disposition, "attachment");
    T_EQ_INT(m->body->multipart, 1);
    T_EQ_PSTR(m->body->section, "2");
    T_EQ_PSTR(m->body->parts[0].section, "2.1");
    T_EQ_PSTR(m->body->parts[1].section, "2.2");
    T_EQ_PSTR(m->body->parts[1].subtype, "HTML");
    const posta_imap_body *m2 = &b->parts[2];
    T_EQ_PSTR(m2->section, "3");
    T_EQ_PSTR(m2->body->section, "3.1");
    T_EQ_INT(m2->body->size, 300);
    /* message/global (RFC 6532) is a message too */
    b = body_ok(d, "(\"message\" \"global\" NIL NIL NIL \"8bit\" 50 " RFC_ENVELOPE
                   " (\"text\" \"plain\" NIL NIL NIL \"8bit\" 5 1) 3)");
    T_ASSERT(b->envelope && b->body);
    T_EQ_PSTR(b->body->section, "1.1");
    /* a top-level multipart inside a multipart: sections 1.1, 1.2, 2 */
    b = body_ok(d, "(((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)(\"TEXT\" \"HTML\" NIL NIL "
                   "NIL \"7BIT\" 1 1) \"ALTERNATIVE\")(\"IMAGE\" \"GIF\" NIL NIL NIL \"BASE64\" "
                   "4) \"RELATED\")");
    T_EQ_PSTR(b->parts[0].section, "1");
    T_EQ_PSTR(b->parts[0].parts[1].section, "1.2");
    T_EQ_PSTR(b->parts[1].section, "2");
}

static void test_body_quirks(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    /* NIL/""/() swaps, bare disposition, odd params, strange numbers */
    const posta_imap_body *b = body_ok(d,
        "(\"APPLICATION\" \"OCTET-STREAM\" (\"NAME\" \"x\" \"ODD\") \"\" () NIL -1 "
        "NIL \"attachment\" \"\" ())");
    T_EQ_INT(b->nparams, 1);
    T_EQ_PSTR(b->id, "");
    T_NIL(b->description);
    T_NIL(b->encoding);
    T_EQ_INT(b->size, 0);
    T_EQ_PSTR(b->disposition, "attachment");
    T_EQ_INT(b->nlanguage, 0);
    T_NIL(b->location);
    b = body_ok(d, "(\"TEXT\" \"PLAIN\" \"\" NIL NIL \"7BIT\" 99999999999999999999999 -5 "
                   "NIL \"\" NIL)");
    T_EQ_INT(b->nparams, 0);
    T_ASSERT(b->size == UINT64_MAX);
    T_EQ_INT(b->lines, 0);
    T_NIL(b->disposition);
    b = body_ok(d, "(\"TEXT\" \"PLAIN\" () NIL NIL \"7BIT\" NIL 18446744073709551615)");
    T_EQ_INT(b->size, 0);
    T_ASSERT(b->lines == UINT64_MAX);
    b = body_ok(d, "(\"IMAGE\" \"GIF\" NIL NIL NIL \"BASE64\" 12abc)");
    T_EQ_INT(b->size, 0);
    /* disposition list with no params, and with a string where params go */
    b = body_ok(d, "(\"IMAGE\" \"GIF\" NIL NIL NIL \"BASE64\" 1 NIL (\"inline\") NIL)");
    T_EQ_PSTR(b->disposition, "inline");
    b = body_ok(d, "(\"IMAGE\" \"GIF\" NIL NIL NIL \"BASE64\" 1 NIL (\"inline\" \"x\") NIL)");
    T_EQ_INT(b->ndisposition_params, 0);
    /* lists in string places become NIL */
    b = body_ok(d, "(NIL \"PLAIN\" (x y z) (c) (d) (e) 5)");
    T_NIL(b->type);
    T_EQ_INT(b->nparams, 1);
    T_NIL(b->id);
    T_NIL(b->encoding);
    T_EQ_INT(b->size, 5);
    /* empty multiparts */
    b = body_ok(d, "(\"MIXED\")");
    T_EQ_INT(b->multipart, 1);
    T_EQ_INT(b->nparts, 0);
    T_EQ_PSTR(b->subtype, "MIXED");
    b = body_ok(d, "(\"MIXED\" (\"BOUNDARY\" \"x\") NIL NIL NIL)");
    T_EQ_INT(b->multipart, 1);
    T_EQ_PSTR(b->params[0].value, "x");
    b = body_ok(d, "(NIL)");
    T_EQ_INT(b->multipart, 1);
    T_NIL(b->subtype);
    /* message/rfc822 without envelope and body: a leaf */
    b = body_ok(d, "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 100)");
    T_EQ_INT(b->multipart, 0);
    T_ASSERT(b->envelope == NULL);
    T_EQ_INT(b->size, 100);
    /* a multipart with a subtype missing */
    b = body_ok(d, "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1))");
    T_EQ_INT(b->nparts, 1);
    T_NIL(b->subtype);
}

static void test_body_refused(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    static const char *bad[] = {
        "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\")",          /* 6 fields */
        "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10)",       /* TEXT without lines */
        "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 (1))",   /* lines a list */
        "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1) \"MIXED\" NIL NIL NIL NIL x)", /* ok, ext */
        "()", "NIL", "\"x\"",
        "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\") \"MIXED\")", /* bad part */
        "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 1 (1 2) (\"TEXT\" \"PLAIN\" NIL NIL NIL "
        "\"7BIT\" 1 1) 1)",                                    /* bad envelope */
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        int rc = body_rc(d, bad[i]);
        int want = i == 3 ? 0 : POSTA_EPROTO;
        if (rc != want)
            t_fail(__FILE__, __LINE__, "%s gave %d, expected %d", bad[i], rc, want);
    }
    const posta_imap_body *b;
    T_EQ_INT(posta_imap_decode_body_arg(d, NULL, &b), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_body_arg(NULL, NULL, &b), POSTA_EINVAL);
}

/* Deeper than the decoder's cap: built by hand, since the parser has its
 * own depth limit. */
static void test_body_depth(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    const posta_imap_arg *leaf =
        item_value("BODYSTRUCTURE", "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)");
    enum { LEVELS = 300 };
    static posta_imap_arg nodes[LEVELS][2];
    const posta_imap_arg *inner = leaf;
    for (int i = 0; i < LEVELS; i++) {
        nodes[i][0] = *inner;
        nodes[i][1] = (posta_imap_arg){.type = POSTA_IMAP_ARG_ATOM, .str = "MIXED", .len = 5};
        static posta_imap_arg wrap[LEVELS];
        wrap[i] = (posta_imap_arg){.type = POSTA_IMAP_ARG_LIST, .list = nodes[i], .count = 2};
        inner = &wrap[i];
    }
    const posta_imap_body *b;
    T_EQ_INT(posta_imap_decode_body_arg(d, inner, &b), POSTA_ELIMIT);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "nested");
    /* 200 levels are fine, and the section names grow as they should */
    T_EQ_INT(posta_imap_decode_body_arg(d, &((posta_imap_arg){.type = POSTA_IMAP_ARG_LIST,
                                                 .list = nodes[199], .count = 2}), &b), 0);
    const posta_imap_body *x = b;
    while (x->multipart)
        x = &x->parts[0];
    T_ASSERT(x->section.len == 200 * 2 - 1);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"envelope_rfc", test_envelope_rfc},
        {"envelope_groups", test_envelope_groups},
        {"envelope_quirks", test_envelope_quirks},
        {"body_rfc", test_body_rfc},
        {"body_extensions", test_body_extensions},
        {"body_nested", test_body_nested},
        {"body_quirks", test_body_quirks},
        {"body_refused", test_body_refused},
        {"body_depth", test_body_depth},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
