/* Response codes (RFC 9051, RFC 5530, extensions) and capability sets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt.h"

static posta_imap_code code_of(posta_imap_decoder *d, const char *line)
{
    posta_imap_code c;
    int rc = posta_imap_decode_code(d, dt_parse(line), &c);
    if (rc != 0)
        t_fail(__FILE__, __LINE__, "decode_code(%s) gave %d: %s", line, rc,
               posta_imap_decoder_errmsg(d));
    return c;
}

static void test_capability_data(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_capset caps;
    const posta_imap_response *r =
        dt_parse("* CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI AUTH=PLAIN LOGINDISABLED "
                 "APPENDLIMIT=35000 idle\r\n");
    T_EQ_INT(posta_imap_decode_capability(d, r, &caps), 0);
    T_EQ_INT(caps.count, 7);
    T_EQ_PSTR(caps.v[0], "IMAP4rev2");
    T_ASSERT(posta_imap_capset_has(&caps, "IDLE"));
    T_ASSERT(posta_imap_capset_has(&caps, "imap4REV2"));
    T_ASSERT(posta_imap_capset_has(&caps, "auth=plain"));
    T_ASSERT(!posta_imap_capset_has(&caps, "AUTH"));
    T_ASSERT(!posta_imap_capset_has(&caps, "IDL"));
    T_ASSERT(!posta_imap_capset_has(&caps, "IDLEX"));
    size_t pos = 0;
    posta_imap_str v;
    T_ASSERT(posta_imap_capset_value(&caps, "AUTH", &pos, &v));
    T_EQ_PSTR(v, "GSSAPI");
    T_ASSERT(posta_imap_capset_value(&caps, "auth", &pos, &v));
    T_EQ_PSTR(v, "PLAIN");
    T_ASSERT(!posta_imap_capset_value(&caps, "AUTH", &pos, &v));
    uint64_t n = 0;
    T_EQ_INT(posta_imap_capset_number(&caps, "APPENDLIMIT", &n), 0);
    T_EQ_INT(n, 35000);
    T_EQ_INT(posta_imap_capset_number(&caps, "IDLE", &n), POSTA_ENOTFOUND);
    T_EQ_INT(posta_imap_data_type_of(r), POSTA_IMAP_DATA_CAPABILITY);
}

static void test_capability_code(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_capset caps;
    const posta_imap_response *g =
        dt_parse("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
                 "STARTTLS AUTH=PLAIN] Dovecot ready.\r\n");
    T_EQ_INT(posta_imap_decode_capability(d, g, &caps), 0);
    T_EQ_INT(caps.count, 9);
    T_ASSERT(posta_imap_capset_has(&caps, "LITERAL+"));
    const posta_imap_response *t =
        dt_parse("a1 OK [CAPABILITY IMAP4rev1 \"QUOTED\" MOVE] Logged in\r\n");
    T_EQ_INT(posta_imap_decode_capability(d, t, &caps), 0);
    T_EQ_INT(caps.count, 3);
    T_ASSERT(posta_imap_capset_has(&caps, "quoted"));
    /* a bare APPENDLIMIT: no global limit */
    t = dt_parse("* OK [CAPABILITY IMAP4rev1 APPENDLIMIT APPENDLIMIT=x] hi\r\n");
    T_EQ_INT(posta_imap_decode_capability(d, t, &caps), 0);
    uint64_t n;
    T_EQ_INT(posta_imap_capset_number(&caps, "APPENDLIMIT", &n), POSTA_EPROTO);
    /* responses that are not capabilities */
    T_EQ_INT(posta_imap_decode_capability(d, dt_parse("* OK [ALERT] hi\r\n"), &caps), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_capability(d, dt_parse("* OK hi\r\n"), &caps), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_capability(d, dt_parse("* 3 EXISTS\r\n"), &caps), POSTA_EINVAL);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "CAPABILITY");
    /* a list inside CAPABILITY data is not a capability */
    T_EQ_INT(posta_imap_decode_capability(d, dt_parse("* CAPABILITY IMAP4rev1 (X)\r\n"), &caps),
             POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_capability(d, dt_parse("* OK [CAPABILITY IMAP4rev1 (X)] x\r\n"),
                                          &caps), POSTA_EPROTO);
}

static void test_enabled(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_capset caps;
    T_EQ_INT(posta_imap_decode_enabled(d, dt_parse("* ENABLED CONDSTORE QRESYNC\r\n"), &caps), 0);
    T_EQ_INT(caps.count, 2);
    T_ASSERT(posta_imap_capset_has(&caps, "qresync"));
    T_EQ_INT(posta_imap_decode_enabled(d, dt_parse("* ENABLED\r\n"), &caps), 0);
    T_EQ_INT(caps.count, 0);
}

/* Strings with COPY outlive the tree. */
static void test_copy(void)
{
    posta_imap_decoder *d = dt_decoder(POSTA_IMAP_DECODE_COPY);
    posta_imap_capset caps;
    const posta_imap_response *r = dt_parse("* CAPABILITY IMAP4rev2 IDLE\r\n");
    T_EQ_INT(posta_imap_decode_capability(d, r, &caps), 0);
    T_ASSERT(caps.v[1].ptr != r->args[1].str);
    T_EQ_PSTR(caps.v[1], "IDLE");
    T_EQ_INT(posta_imap_decoder_flags(d), POSTA_IMAP_DECODE_COPY);
    posta_imap_decoder *d2 = dt_decoder(0);
    T_EQ_INT(posta_imap_decode_capability(d2, r, &caps), 0);
    T_ASSERT(caps.v[1].ptr == r->args[1].str);
}

static void test_numbers(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_code c = code_of(d, "* OK [UNSEEN 12] Message 12 is first unseen\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_UNSEEN);
    T_EQ_INT(c.number, 12);
    T_EQ_PSTR(c.name, "UNSEEN");
    T_EQ_PSTR(c.raw, "12");
    c = code_of(d, "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_UIDVALIDITY);
    T_EQ_INT(c.number, 3857529045u);
    c = code_of(d, "* OK [UIDNEXT 4392] Predicted next UID\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_UIDNEXT);
    T_EQ_INT(c.number, 4392);
    c = code_of(d, "a OK [HIGHESTMODSEQ 715194045007] Ok\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_HIGHESTMODSEQ);
    T_EQ_INT(c.number, 715194045007ull);
    c = code_of(d, "a OK [METADATA LONGENTRIES 2199] GETMETADATA complete\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_METADATA_LONGENTRIES);
    T_EQ_INT(c.number, 2199);
    c = code_of(d, "a NO [METADATA MAXSIZE 1024] Annotation too large\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_METADATA_MAXSIZE);
    T_EQ_INT(c.number, 1024);
    c = code_of(d, "a NO [METADATA TOOMANY] Too many annotations\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_METADATA_TOOMANY);
    c = code_of(d, "a NO [METADATA NOPRIVATE] Private annotations not supported\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_METADATA_NOPRIVATE);
    T_EQ_STR(posta_imap_code_type_name(c.type), "METADATA NOPRIVATE");
    c = code_of(d, "a NO [METADATA FUTURE 1] x\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_OTHER);
}

static void test_uidplus(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_code c = code_of(d, "A003 OK [APPENDUID 38505 3955] APPEND completed\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_APPENDUID);
    T_EQ_INT(c.number, 38505);
    T_EQ_INT(c.set.count, 1);
    T_EQ_INT(c.set.ranges[0].first, 3955);
    c = code_of(d, "A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_COPYUID);
    T_EQ_INT(c.number, 38505);
    T_EQ_INT(posta_imap_seqset_count(&c.set, 0), 3);
    T_EQ_INT(c.set2.ranges[0].first, 3956);
    T_EQ_INT(c.set2.ranges[0].last, 3958);
    /* MULTIAPPEND */
    c = code_of(d, "A005 OK [APPENDUID 1 10:12] done\r\n");
    T_EQ_INT(posta_imap_seqset_count(&c.set, 0), 3);
    /* mismatched COPYUID sets would map UIDs wrongly */
    c = code_of(d, "A006 OK [COPYUID 1 1:3 7:8] Done\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_COPYUID);
    T_ASSERT(c.bad_args);
    T_EQ_INT(c.set.count, 0);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "differ");
    c = code_of(d, "A007 OK [COPYUID 1 1:3] Done\r\n");
    T_ASSERT(c.bad_args);
    c = code_of(d, "A007 OK [APPENDUID 0 1] Done\r\n");
    T_ASSERT(c.bad_args);
    c = code_of(d, "A008 OK [COPYUID 1 1:4294967296 1:2] Done\r\n");
    T_ASSERT(c.bad_args);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "2^32-1");
    c = code_of(d, "a OK [UIDNOTSTICKY] Non-persistent UIDs\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_UIDNOTSTICKY);
}

static void test_lists(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_code c = code_of(d, "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_PERMANENTFLAGS);
    T_EQ_INT(c.flags.count, 3);
    T_EQ_INT(c.flags.bits, POSTA_IMAP_FLAG_DELETED | POSTA_IMAP_FLAG_SEEN | POSTA_IMAP_FLAG_ANY);
    T_ASSERT(posta_imap_flagset_has(&c.flags, "\\seen"));
    c = code_of(d, "* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n");
    T_EQ_INT(c.flags.count, 0);
    T_ASSERT(!c.bad_args);
    c = code_of(d, "a NO [BADCHARSET (UTF-8 \"ISO-8859-1\")] Charset not supported\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_BADCHARSET);
    T_EQ_INT(c.nstrings, 2);
    T_EQ_PSTR(c.strings[0], "UTF-8");
    T_EQ_PSTR(c.strings[1], "ISO-8859-1");
    c = code_of(d, "a NO [BADCHARSET] Charset not supported\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_BADCHARSET);
    T_EQ_INT(c.nstrings, 0);
    T_ASSERT(!c.bad_args);
    /* quirk: no parentheses */
    c = code_of(d, "a NO [BADCHARSET UTF-8 US-ASCII] no\r\n");
    T_EQ_INT(c.nstrings, 2);
    T_EQ_PSTR(c.strings[1], "US-ASCII");
    c = code_of(d, "d105 OK [MODIFIED 7,9] Conditional STORE failed\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_MODIFIED);
    T_EQ_INT(c.set.count, 2);
    T_EQ_INT(c.set.ranges[1].first, 9);
}

static void test_strings(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_code c = code_of(d, "* NO [REFERRAL IMAP://user;AUTH=*@SERVER2/] Remote Server\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_REFERRAL);
    T_EQ_PSTR(c.str, "IMAP://user;AUTH=*@SERVER2/");
    c = code_of(d, "* NO [REFERRAL \"imap://a/b\"] quoted\r\n");
    T_EQ_PSTR(c.str, "imap://a/b");
    c = code_of(d, "* NO [REFERRAL] no url\r\n");
    T_ASSERT(c.bad_args);
    c = code_of(d, "* OK [MAILBOXID (F2212ea87-6097-4256-9d51-71338625)] Ok\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_MAILBOXID);
    T_EQ_PSTR(c.str, "F2212ea87-6097-4256-9d51-71338625");
    c = code_of(d, "* OK [MAILBOXID F22] Ok\r\n");
    T_EQ_PSTR(c.str, "F22");
    c = code_of(d, "* OK [MAILBOXID ()] Ok\r\n");
    T_ASSERT(c.bad_args);
}

/* Every code without arguments, from RFC 9051 and RFC 5530 and friends. */
static void test_plain_codes(void)
{
    static const struct {
        const char *name;
        posta_imap_code_type type;
    } codes[] = {
        {"ALERT", POSTA_IMAP_CODE_ALERT}, {"PARSE", POSTA_IMAP_CODE_PARSE},
        {"READ-ONLY", POSTA_IMAP_CODE_READ_ONLY}, {"READ-WRITE", POSTA_IMAP_CODE_READ_WRITE},
        {"TRYCREATE", POSTA_IMAP_CODE_TRYCREATE}, {"UIDNOTSTICKY", POSTA_IMAP_CODE_UIDNOTSTICKY},
        {"NOMODSEQ", POSTA_IMAP_CODE_NOMODSEQ}, {"CLOSED", POSTA_IMAP_CODE_CLOSED},
        {"OVERQUOTA", POSTA_IMAP_CODE_OVERQUOTA},
        {"AUTHENTICATIONFAILED", POSTA_IMAP_CODE_AUTHENTICATIONFAILED},
        {"AUTHORIZATIONFAILED", POSTA_IMAP_CODE_AUTHORIZATIONFAILED},
        {"EXPIRED", POSTA_IMAP_CODE_EXPIRED}, {"PRIVACYREQUIRED", POSTA_IMAP_CODE_PRIVACYREQUIRED},
        {"CONTACTADMIN", POSTA_IMAP_CODE_CONTACTADMIN}, {"NOPERM", POSTA_IMAP_CODE_NOPERM},
        {"INUSE", POSTA_IMAP_CODE_INUSE}, {"EXPUNGEISSUED", POSTA_IMAP_CODE_EXPUNGEISSUED},
        {"CORRUPTION", POSTA_IMAP_CODE_CORRUPTION}, {"SERVERBUG", POSTA_IMAP_CODE_SERVERBUG},
        {"CLIENTBUG", POSTA_IMAP_CODE_CLIENTBUG}, {"CANNOT", POSTA_IMAP_CODE_CANNOT},
        {"LIMIT", POSTA_IMAP_CODE_LIMIT}, {"ALREADYEXISTS", POSTA_IMAP_CODE_ALREADYEXISTS},
        {"NONEXISTENT", POSTA_IMAP_CODE_NONEXISTENT}, {"UNAVAILABLE", POSTA_IMAP_CODE_UNAVAILABLE},
        {"HASCHILDREN", POSTA_IMAP_CODE_HASCHILDREN},
        {"COMPRESSIONACTIVE", POSTA_IMAP_CODE_COMPRESSIONACTIVE},
        {"USEATTR", POSTA_IMAP_CODE_USEATTR}, {"NOTSAVED", POSTA_IMAP_CODE_NOTSAVED},
        {"UNKNOWN-CTE", POSTA_IMAP_CODE_UNKNOWN_CTE},
    };
    posta_imap_decoder *d = dt_decoder(0);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char line[200];
        snprintf(line, sizeof(line), "a%zu NO [%s] text here\r\n", i, codes[i].name);
        posta_imap_code c = code_of(d, line);
        if (c.type != codes[i].type)
            t_fail(__FILE__, __LINE__, "%s decoded as %d", codes[i].name, (int)c.type);
        T_EQ_STR(posta_imap_code_type_name(codes[i].type), codes[i].name);
        T_ASSERT(!c.bad_args);
        /* lower case is accepted too */
        for (char *p = line; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
        c = code_of(d, line);
        T_EQ_INT(c.type, codes[i].type);
    }
    T_EQ_STR(posta_imap_code_type_name(POSTA_IMAP_CODE_NONE), "");
    T_EQ_STR(posta_imap_code_type_name(POSTA_IMAP_CODE_OTHER), "OTHER");
    T_EQ_STR(posta_imap_code_type_name((posta_imap_code_type)999), "OTHER");
}

static void test_other_and_none(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_code c = code_of(d, "* OK [XYZZY foo (bar)] text\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_OTHER);
    T_EQ_PSTR(c.name, "XYZZY");
    T_EQ_PSTR(c.raw, "foo (bar)");
    c = code_of(d, "* OK no code here\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_NONE);
    c = code_of(d, "+ [ALERT] go ahead\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_ALERT);
    c = code_of(d, "* BYE [UNAVAILABLE] shutting down\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_UNAVAILABLE);
    c = code_of(d, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    T_EQ_INT(c.type, POSTA_IMAP_CODE_CAPABILITY);
    T_EQ_INT(c.caps.count, 1);
}

/* Missing and malformed arguments never fail the response. */
static void test_bad_args(void)
{
    static const char *lines[] = {
        "* OK [UIDNEXT] x\r\n", "* OK [UIDNEXT abc] x\r\n", "* OK [UIDNEXT 0] x\r\n",
        "* OK [UIDVALIDITY 4294967296] x\r\n", "* OK [UNSEEN -1] x\r\n",
        "* OK [HIGHESTMODSEQ 99999999999999999999] x\r\n", "* OK [HIGHESTMODSEQ (1)] x\r\n",
        "* OK [PERMANENTFLAGS] x\r\n", "* OK [PERMANENTFLAGS \\Seen] x\r\n",
        "* OK [APPENDUID] x\r\n", "* OK [APPENDUID 1 x] x\r\n", "* OK [MODIFIED] x\r\n",
        "* OK [METADATA] x\r\n", "* OK [METADATA MAXSIZE] x\r\n", "* OK [BADCHARSET ((x))] x\r\n",
        NULL,
    };
    posta_imap_decoder *d = dt_decoder(0);
    for (int i = 0; lines[i]; i++) {
        posta_imap_code c = code_of(d, lines[i]);
        int other_ok = strstr(lines[i], "[METADATA]") != NULL;   /* no kind: stays OTHER */
        if (!c.bad_args || (c.type == POSTA_IMAP_CODE_OTHER && !other_ok) || c.number != 0 ||
            c.set.count)
            t_fail(__FILE__, __LINE__, "%s: bad_args %d type %d", lines[i], c.bad_args, c.type);
        T_ASSERT(posta_imap_decoder_errmsg(d)[0] != '\0');
    }
    /* quoted numbers are tolerated */
    posta_imap_code c = code_of(d, "* OK [UIDNEXT \"42\"] x\r\n");
    T_EQ_INT(c.number, 42);
    T_ASSERT(!c.bad_args);
}

/* When the parser cannot split a code's arguments it keeps only the raw
 * bytes; the decoder re-reads them. */
static void test_raw_fallback(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_response r = *dt_parse("* NO [BADCHARSET (UTF-8 \"ISO \\\"8859\\\"\" x)] no\r\n");
    r.code_args = NULL;
    r.code_nargs = 0;
    posta_imap_code c;
    T_EQ_INT(posta_imap_decode_code(d, &r, &c), 0);
    T_EQ_INT(c.type, POSTA_IMAP_CODE_BADCHARSET);
    T_EQ_INT(c.nstrings, 3);
    T_EQ_PSTR(c.strings[1], "ISO \"8859\"");
    r = *dt_parse("* OK [COPYUID 9 1:2 5:6] x\r\n");
    r.code_args = NULL;
    r.code_nargs = 0;
    T_EQ_INT(posta_imap_decode_code(d, &r, &c), 0);
    T_EQ_INT(c.set2.ranges[0].last, 6);
    /* code_raw without the name in front */
    r = *dt_parse("* OK [UIDNEXT 7] x\r\n");
    r.code_args = NULL;
    r.code_nargs = 0;
    r.code_raw = "7";
    r.code_raw_len = 1;
    T_EQ_INT(posta_imap_decode_code(d, &r, &c), 0);
    T_EQ_INT(c.number, 7);
    /* broken raw text: unterminated quote and parens */
    r.code_raw = "UIDNEXT \"(((";
    r.code_raw_len = strlen(r.code_raw);
    T_EQ_INT(posta_imap_decode_code(d, &r, &c), 0);
    T_ASSERT(c.bad_args);
    r.code = "BADCHARSET";
    r.code_len = 10;
    r.code_raw = "BADCHARSET ((((((((((((((x";
    r.code_raw_len = strlen(r.code_raw);
    T_EQ_INT(posta_imap_decode_code(d, &r, &c), 0);
    T_ASSERT(c.bad_args);
}

static void test_einval(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_code c;
    T_EQ_INT(posta_imap_decode_code(d, NULL, &c), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_code(NULL, dt_parse("* OK x\r\n"), &c), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_code(d, dt_parse("* OK x\r\n"), NULL), POSTA_EINVAL);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"capability_data", test_capability_data},
        {"capability_code", test_capability_code},
        {"enabled", test_enabled},
        {"copy", test_copy},
        {"numbers", test_numbers},
        {"uidplus", test_uidplus},
        {"lists", test_lists},
        {"strings", test_strings},
        {"plain_codes", test_plain_codes},
        {"other_and_none", test_other_and_none},
        {"bad_args", test_bad_args},
        {"raw_fallback", test_raw_fallback},
        {"einval", test_einval},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
