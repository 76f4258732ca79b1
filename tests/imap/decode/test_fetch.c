/* FETCH responses: every known item, body sections with streaming, unknown
 * items, date-time parsing, and the shapes that are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt.h"

static posta_imap_fetch_data fetch_ok(posta_imap_decoder *d, const posta_imap_response *r)
{
    posta_imap_fetch_data f;
    int rc = posta_imap_decode_fetch(d, r, &f);
    if (rc != 0)
        t_fail(__FILE__, __LINE__, "decode_fetch gave %d: %s", rc, posta_imap_decoder_errmsg(d));
    return f;
}

static void test_rfc_example(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    const posta_imap_response *r = dt_parse(
        "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
        "RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
        "\"IMAP4rev2 WG mtg summary and minutes\" "
        "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
        "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
        "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
        "((NIL NIL \"imap\" \"cac.washington.edu\")) "
        "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\") "
        "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
        "\"<B27397-0100000@cac.washington.edu>\") "
        "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n");
    T_EQ_INT(posta_imap_data_type_of(r), POSTA_IMAP_DATA_FETCH);
    posta_imap_fetch_data f = fetch_ok(d, r);
    T_EQ_INT(f.seq, 12);
    T_EQ_INT(f.present, POSTA_IMAP_FETCH_FLAGS | POSTA_IMAP_FETCH_INTERNALDATE |
                        POSTA_IMAP_FETCH_RFC822_SIZE | POSTA_IMAP_FETCH_ENVELOPE |
                        POSTA_IMAP_FETCH_BODY);
    T_EQ_INT(f.flags.count, 1);
    T_EQ_INT(f.flags.bits, POSTA_IMAP_FLAG_SEEN);
    T_EQ_INT(f.internaldate.time, 837596665);
    T_EQ_INT(f.internaldate.zone, -420);
    T_EQ_INT(f.rfc822_size, 4286);
    T_EQ_PSTR(f.envelope->subject, "IMAP4rev2 WG mtg summary and minutes");
    T_EQ_INT(f.body->lines, 92);
    T_EQ_INT(f.body->has_ext, 0);
    T_EQ_INT(f.nsections, 0);
    T_EQ_INT(f.nother, 0);
}

static void test_small_items(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_fetch_data f = fetch_ok(d, dt_parse(
        "* 7 FETCH (UID 4827313 MODSEQ (12121231000) EMAILID (M6d99ac3275bb4e) "
        "THREADID (T64b478a75b7ea9) SAVEDATE \"01-Jan-2020 00:00:00 +0000\" "
        "X-GM-MSGID 1278455344230334865 X-GM-THRID 18446744073709551615 "
        "X-GM-LABELS (\\Inbox \\Sent Important \"Muy Importante\") "
        "PREVIEW \"Hello there\" FLAGS (\\Answered $Forwarded))\r\n"));
    T_EQ_INT(f.uid, 4827313);
    T_EQ_INT(f.modseq, 12121231000ull);
    T_EQ_PSTR(f.emailid, "M6d99ac3275bb4e");
    T_EQ_PSTR(f.threadid, "T64b478a75b7ea9");
    T_EQ_INT(f.savedate.time, 1577836800);
    T_EQ_INT(f.savedate_nil, 0);
    T_ASSERT(f.x_gm_msgid == 1278455344230334865ull);
    T_ASSERT(f.x_gm_thrid == UINT64_MAX);
    T_EQ_INT(f.nx_gm_labels, 4);
    T_EQ_PSTR(f.x_gm_labels[3], "Muy Importante");
    T_EQ_PSTR(f.preview, "Hello there");
    T_ASSERT(posta_imap_flagset_has(&f.flags, "$forwarded"));
    T_EQ_INT(f.flags.bits, POSTA_IMAP_FLAG_ANSWERED);
    T_ASSERT(f.present & POSTA_IMAP_FETCH_X_GM_LABELS);
    T_ASSERT(f.present & POSTA_IMAP_FETCH_SAVEDATE);

    f = fetch_ok(d, dt_parse("* 8 FETCH (THREADID NIL SAVEDATE NIL PREVIEW NIL MODSEQ 5 "
                             "EMAILID M1 FLAGS ())\r\n"));
    T_NIL(f.threadid);
    T_EQ_INT(f.savedate_nil, 1);
    T_NIL(f.preview);
    T_EQ_INT(f.modseq, 5);
    T_EQ_PSTR(f.emailid, "M1");
    T_EQ_INT(f.flags.count, 0);
    T_ASSERT(f.present & POSTA_IMAP_FETCH_THREADID);
    /* PREVIEW as a literal, and the draft's (FUZZY) form */
    f = fetch_ok(d, dt_parse_lit("* 9 FETCH (PREVIEW {5}\r\nab\0de UID 3)\r\n"));
    T_EQ_INT(f.preview.len, 5);
    T_ASSERT(memcmp(f.preview.ptr, "ab\0de", 5) == 0);
    f = fetch_ok(d, dt_parse("* 9 FETCH (PREVIEW (FUZZY) \"draft text\" UID 3)\r\n"));
    T_EQ_PSTR(f.preview, "draft text");
    T_EQ_INT(f.uid, 3);
    /* quoted numbers are tolerated */
    f = fetch_ok(d, dt_parse("* 10 FETCH (UID \"12\" RFC822.SIZE \"44\")\r\n"));
    T_EQ_INT(f.uid, 12);
    T_EQ_INT(f.rfc822_size, 44);
    /* lower-case item names */
    f = fetch_ok(d, dt_parse("* 10 FETCH (uid 12 flags (\\seen) body[] \"x\")\r\n"));
    T_EQ_INT(f.uid, 12);
    T_EQ_INT(f.flags.bits, POSTA_IMAP_FLAG_SEEN);
    T_EQ_INT(f.nsections, 1);
}

static void test_sections(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_fetch_data f = fetch_ok(d, dt_parse_lit(
        "* 2 FETCH (BODY[HEADER.FIELDS (From To)]<0> {22}\r\nFrom: a@b\r\nTo: c@d\r\n\r\n "
        "BODY[1.2.MIME] \"Content-Type: text/plain\" BODY[] NIL "
        "BODY[3.TEXT]<100> \"abc\" BODY[4] \"x\" BINARY[1.2] ~{3}\r\na\0b "
        "BINARY.SIZE[1.2] 1234 BINARY.SIZE[] 9 RFC822 \"all\" RFC822.HEADER \"h\" "
        "RFC822.TEXT \"t\" BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1 NIL))\r\n"));
    T_EQ_INT(f.nsections, 9);
    const posta_imap_section *s = &f.sections[0];
    T_EQ_INT(s->kind, POSTA_IMAP_SECTION_BODY);
    T_EQ_PSTR(s->item, "BODY[HEADER.FIELDS (From To)]<0>");
    T_EQ_PSTR(s->section, "HEADER.FIELDS (From To)");
    T_EQ_INT(s->nparts, 0);
    T_EQ_PSTR(s->spec, "HEADER.FIELDS (From To)");
    T_EQ_INT(s->section.ptr[s->section.len], '\0');
    T_EQ_INT(s->spec.ptr[s->spec.len], '\0');
    T_EQ_INT(s->has_origin, 1);
    T_EQ_INT(s->origin, 0);
    T_EQ_INT(s->size, 22);
    T_EQ_INT(s->nil, 0);
    T_EQ_INT(s->streamed, 0);
    T_EQ_PSTR(s->data, "From: a@b\r\nTo: c@d\r\n\r\n");
    s = &f.sections[1];
    T_EQ_INT(s->nparts, 2);
    T_EQ_INT(s->part[0], 1);
    T_EQ_INT(s->part[1], 2);
    T_EQ_PSTR(s->spec, "MIME");
    T_EQ_INT(s->has_origin, 0);
    s = &f.sections[2];
    T_EQ_PSTR(s->section, "");
    T_EQ_INT(s->nil, 1);
    T_NIL(s->data);
    s = &f.sections[3];
    T_EQ_INT(s->part[0], 3);
    T_EQ_PSTR(s->spec, "TEXT");
    T_EQ_INT(s->origin, 100);
    s = &f.sections[4];
    T_EQ_INT(s->nparts, 1);
    T_EQ_PSTR(s->spec, "");
    s = &f.sections[5];
    T_EQ_INT(s->kind, POSTA_IMAP_SECTION_BINARY);
    T_EQ_INT(s->literal8, 1);
    T_EQ_INT(s->size, 3);
    T_EQ_INT(s->data.len, 3);
    T_ASSERT(memcmp(s->data.ptr, "a\0b", 3) == 0);
    T_EQ_INT(f.nbinary_sizes, 2);
    T_EQ_INT(f.binary_sizes[0].size, 1234);
    T_EQ_INT(f.binary_sizes[0].nparts, 2);
    T_EQ_INT(f.binary_sizes[1].nparts, 0);
    T_EQ_INT(f.sections[6].kind, POSTA_IMAP_SECTION_RFC822);
    T_EQ_PSTR(f.sections[6].section, "");
    T_EQ_INT(f.sections[7].kind, POSTA_IMAP_SECTION_RFC822_HEADER);
    T_EQ_PSTR(f.sections[7].spec, "HEADER");
    T_ASSERT(f.present & POSTA_IMAP_FETCH_BODYSTRUCTURE);
    T_ASSERT(!(f.present & POSTA_IMAP_FETCH_BODY));
    T_EQ_INT(f.body->has_ext, 1);
}

/* Literals above the parser's inline threshold are streamed: the decoder
 * reports the size only. */
static void test_streamed(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    char text[600];
    char body[101];
    memset(body, 'x', 100);
    body[100] = '\0';
    snprintf(text, sizeof(text), "* 3 FETCH (UID 9 BODY[]<0> {100}\r\n%s BINARY[2] ~{100}\r\n%s "
             "ENVELOPE (NIL {100}\r\n%s NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", body, body, body);
    const posta_imap_response *r = dt_parse_n(text, 0, 10);
    posta_imap_fetch_data f = fetch_ok(d, r);
    T_EQ_INT(f.nsections, 2);
    T_EQ_INT(f.sections[0].streamed, 1);
    T_EQ_INT(f.sections[0].size, 100);
    T_EQ_INT(f.sections[0].data.len, 0);
    T_EQ_INT(f.sections[1].streamed, 1);
    T_EQ_INT(f.sections[1].literal8, 1);
    T_EQ_PSTR(f.envelope->subject, "");   /* a streamed subject: empty, not NIL */
}

static void test_unknown_items(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_fetch_data f = fetch_ok(d, dt_parse(
        "* 4 FETCH (X-FUTURE (1 2 3) UID 5 ANNOTATION (/comment (value.priv \"x\")) X-NIL NIL)\r\n"));
    T_EQ_INT(f.nother, 3);
    T_EQ_PSTR(f.other[0].name, "X-FUTURE");
    T_EQ_INT(f.other[0].value->type, POSTA_IMAP_ARG_LIST);
    T_EQ_INT(f.other[0].value->count, 3);
    T_EQ_PSTR(f.other[1].name, "ANNOTATION");
    T_EQ_INT(f.other[2].value->type, POSTA_IMAP_ARG_NIL);
    T_EQ_INT(f.uid, 5);
    /* an empty item list is fine */
    f = fetch_ok(d, dt_parse("* 4 FETCH ()\r\n"));
    T_EQ_INT(f.present, 0);
}

static void test_refused(void)
{
    static const struct {
        const char *line;
        const char *msg;
    } bad[] = {
        {"* 0 FETCH (UID 1)\r\n", "number 0"},
        {"* 1 FETCH UID 1\r\n", "item list"},
        {"* 1 FETCH\r\n", "item list"},
        {"* 1 FETCH (UID)\r\n", "no value"},
        {"* 1 FETCH (UID 0)\r\n", "UID"},
        {"* 1 FETCH (UID 4294967296)\r\n", "UID"},
        {"* 1 FETCH (UID -1)\r\n", "UID"},
        {"* 1 FETCH (UID (1))\r\n", "UID"},
        {"* 1 FETCH (RFC822.SIZE 99999999999999999999)\r\n", "above 2^64-1"},
        {"* 1 FETCH (INTERNALDATE \"32-Jul-1996 02:44:25 -0700\")\r\n", "INTERNALDATE"},
        {"* 1 FETCH (INTERNALDATE NIL)\r\n", "INTERNALDATE"},
        {"* 1 FETCH (\"UID\" 1)\r\n", "item name"},
        {"* 1 FETCH ((UID) 1)\r\n", "item name"},
        {"* 1 FETCH (BODY[1]<x> \"x\")\r\n", "origin"},
        {"* 1 FETCH (BODY[1]<> \"x\")\r\n", "origin"},
        {"* 1 FETCH (BODY[1]x \"x\")\r\n", "origin"},
        {"* 1 FETCH (BODY[0] \"x\")\r\n", "part number"},
        {"* 1 FETCH (BODY[1..2] \"x\")\r\n", "section"},
        {"* 1 FETCH (BODY[1.] \"x\")\r\n", "section"},
        {"* 1 FETCH (BODY[99999999999] \"x\")\r\n", "part number"},
        {"* 1 FETCH (BINARY[1.TEXT] \"x\")\r\n", "part numbers only"},
        {"* 1 FETCH (BINARY.SIZE[1] x)\r\n", "BINARY.SIZE"},
        {"* 1 FETCH (BINARY.SIZE[1]<0> 5)\r\n", "origin"},
        {"* 1 FETCH (BODY[] (x))\r\n", "expected a string"},
        {"* 1 FETCH (MODSEQ (x))\r\n", "MODSEQ"},
        {"* 1 FETCH (MODSEQ (9223372036854775808))\r\n", "MODSEQ"},
        {"* 1 FETCH (EMAILID ())\r\n", "EMAILID"},
        {"* 1 FETCH (EMAILID NIL)\r\n", "EMAILID"},
        {"* 1 FETCH (FLAGS \\Seen)\r\n", "flag list"},
        {"* 1 FETCH (FLAGS ((x)))\r\n", "not a flag"},
        {"* 1 FETCH (X-GM-MSGID abc)\r\n", "X-GM-MSGID"},
        {"* 1 FETCH (X-GM-THRID ())\r\n", "X-GM-THRID"},
        {"* 1 FETCH (PREVIEW (x))\r\n", "PREVIEW"},
        {"* 1 FETCH (SAVEDATE \"x\")\r\n", "SAVEDATE"},
        {"* 1 FETCH (ENVELOPE NIL)\r\n", "ENVELOPE"},
        {"* 1 FETCH (BODYSTRUCTURE NIL)\r\n", "BODYSTRUCTURE"},
        {NULL, NULL},
    };
    posta_imap_decoder *d = dt_decoder(0);
    for (int i = 0; bad[i].line; i++) {
        posta_imap_fetch_data f;
        int rc = posta_imap_decode_fetch(d, dt_parse(bad[i].line), &f);
        if (rc != POSTA_EPROTO)
            t_fail(__FILE__, __LINE__, "%s gave %d", bad[i].line, rc);
        else if (!strstr(posta_imap_decoder_errmsg(d), bad[i].msg))
            t_fail(__FILE__, __LINE__, "%s: message \"%s\" lacks \"%s\"", bad[i].line,
                   posta_imap_decoder_errmsg(d), bad[i].msg);
    }
    posta_imap_fetch_data f;
    /* a section without "]" cannot come from the parser: build it */
    posta_imap_response r = *dt_parse("* 1 FETCH (BODY[1] \"x\")\r\n");
    posta_imap_arg *items = dt_copy_arg(&r.args[0]);
    ((posta_imap_arg *)items->list)[0].len = 6;   /* "BODY[1" */
    r.args = items;
    T_EQ_INT(posta_imap_decode_fetch(d, &r, &f), POSTA_EPROTO);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "no closing");
    T_EQ_INT(posta_imap_decode_fetch(d, dt_parse("* 1 EXPUNGE\r\n"), &f), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_fetch(d, dt_parse("* FETCH (UID 1)\r\n"), &f), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_fetch(d, dt_parse("a1 OK FETCH done\r\n"), &f), POSTA_EINVAL);
}

static void test_datetime(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    static const struct {
        const char *s;
        long long t;
        int zone;
    } good[] = {
        {"17-Jul-1996 02:44:25 -0700", 837596665, -420},
        {" 7-Jul-1996 02:44:25 -0700", 837596665 - 10 * 86400, -420},
        {"7-Jul-1996 02:44:25 -0700", 837596665 - 10 * 86400, -420},
        {"07-jul-1996 02:44:25 -0700", 837596665 - 10 * 86400, -420},
        {"29-Feb-2000 00:00:00 +0000", 951782400, 0},
        {"01-Jan-1900 00:00:00 +0000", -2208988800LL, 0},
        {"31-Dec-9999 23:59:59 +0000", 253402300799LL, 0},
        {"01-Jan-1970 05:30:00 +0530", 0, 330},
        {NULL, 0, 0},
    };
    for (int i = 0; good[i].s; i++) {
        posta_imap_datetime dt;
        int rc = posta_imap_datetime_parse(d, good[i].s, strlen(good[i].s), &dt);
        if (rc != 0 || (long long)dt.time != good[i].t || dt.zone != good[i].zone)
            t_fail(__FILE__, __LINE__, "%s gave rc %d time %lld zone %d", good[i].s, rc,
                   (long long)dt.time, dt.zone);
    }
    posta_imap_datetime dt;
    /* 23:59:59 at -23:59 is 23:58:59 UTC on the next day */
    T_EQ_INT(posta_imap_datetime_parse(d, "31-Dec-1969 23:59:59 -2359", 26, &dt), 0);
    T_EQ_INT(dt.time, 86340 - 1);
    T_EQ_INT(dt.zone, -1439);
    static const char *bad[] = {
        "", "17-Jul-1996", "17-Jul-1996 02:44:25", "17-Jul-1996 02:44:25 0700",
        "17-Jly-1996 02:44:25 -0700", "32-Jul-1996 02:44:25 -0700", "31-Apr-1996 02:44:25 -0700",
        "29-Feb-1900 00:00:00 +0000", "29-Feb-2001 00:00:00 +0000", "00-Jan-2000 00:00:00 +0000",
        "01-Jan-1899 00:00:00 +0000", "01-Jan-2000 24:00:00 +0000", "01-Jan-2000 00:60:00 +0000",
        "01-Jan-2000 00:00:60 +0000", "01-Jan-2000 00:00:00 +2400", "01-Jan-2000 00:00:00 +0060",
        "01-Jan-2000 00:00:00 +0000 ", " 17-Jul-1996 02:44:25 -0700", "1-Jan-2000 0:00:00 +0000",
        "01-Jan-20000 00:00:00 +0000", "01-Jan-2000  00:00:00 +0000", "\"17-Jul-1996 02:44:25 -0700\"",
        "+1-Jan-2000 00:00:00 +0000", "01-Jan-2000 00:00:00 -+000", "01-Jan-2000 00:00:00 +00",
        NULL,
    };
    for (int i = 0; bad[i]; i++)
        if (posta_imap_datetime_parse(d, bad[i], strlen(bad[i]), &dt) != POSTA_EPROTO)
            t_fail(__FILE__, __LINE__, "\"%s\" accepted", bad[i]);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "not a date-time");
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"rfc_example", test_rfc_example},
        {"small_items", test_small_items},
        {"sections", test_sections},
        {"streamed", test_streamed},
        {"unknown_items", test_unknown_items},
        {"refused", test_refused},
        {"datetime", test_datetime},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
