/* FLAGS, EXISTS, RECENT, EXPUNGE, ID; response classification; the decoder
 * handle's lifecycle, arena reset and byte cap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt.h"

static void test_flags(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_flagset f;
    T_EQ_INT(posta_imap_decode_flags(d, dt_parse("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
                                                 "\\Draft $Forwarded)\r\n"), &f), 0);
    T_EQ_INT(f.count, 6);
    T_EQ_INT(f.bits, POSTA_IMAP_FLAG_ANSWERED | POSTA_IMAP_FLAG_FLAGGED | POSTA_IMAP_FLAG_DELETED |
                     POSTA_IMAP_FLAG_SEEN | POSTA_IMAP_FLAG_DRAFT);
    T_EQ_PSTR(f.v[5], "$Forwarded");
    T_ASSERT(posta_imap_flagset_has(&f, "\\DRAFT"));
    T_ASSERT(!posta_imap_flagset_has(&f, "\\Recent"));
    T_ASSERT(!posta_imap_flagset_has(NULL, "x"));
    T_EQ_INT(posta_imap_decode_flags(d, dt_parse("* FLAGS ()\r\n"), &f), 0);
    T_EQ_INT(f.count, 0);
    T_EQ_INT(posta_imap_decode_flags(d, dt_parse("* FLAGS NIL\r\n"), &f), 0);
    T_EQ_INT(f.count, 0);
    T_EQ_INT(posta_imap_decode_flags(d, dt_parse("* FLAGS \"\"\r\n"), &f), 0);
    T_EQ_INT(posta_imap_decode_flags(d, dt_parse("* FLAGS (\\Recent \\*)\r\n"), &f), 0);
    T_EQ_INT(f.bits, POSTA_IMAP_FLAG_RECENT | POSTA_IMAP_FLAG_ANY);
    T_EQ_INT(posta_imap_decode_flags(d, dt_parse("* FLAGS\r\n"), &f), POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_flags(d, dt_parse("* FLAGS \\Seen\r\n"), &f), POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_flags(d, dt_parse("* FLAGS () ()\r\n"), &f), POSTA_EPROTO);
}

static void test_numbers(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    uint32_t n = 7;
    T_EQ_INT(posta_imap_decode_exists(d, dt_parse("* 23 EXISTS\r\n"), &n), 0);
    T_EQ_INT(n, 23);
    T_EQ_INT(posta_imap_decode_exists(d, dt_parse("* 0 EXISTS\r\n"), &n), 0);
    T_EQ_INT(n, 0);
    T_EQ_INT(posta_imap_decode_recent(d, dt_parse("* 5 RECENT\r\n"), &n), 0);
    T_EQ_INT(n, 5);
    T_EQ_INT(posta_imap_decode_expunge(d, dt_parse("* 44 EXPUNGE\r\n"), &n), 0);
    T_EQ_INT(n, 44);
    T_EQ_INT(posta_imap_decode_expunge(d, dt_parse("* 0 EXPUNGE\r\n"), &n), POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_exists(d, dt_parse("* 5 RECENT\r\n"), &n), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_exists(d, dt_parse("* EXISTS\r\n"), &n), POSTA_EINVAL);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "without a number");
    T_EQ_INT(posta_imap_decode_exists(d, NULL, &n), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_exists(d, dt_parse("* 1 EXISTS\r\n"), NULL), POSTA_EINVAL);
}

static void test_id(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_id_data id;
    T_EQ_INT(posta_imap_decode_id(d, dt_parse("* ID (\"name\" \"Cyrus\" \"version\" \"1.5\" "
                                              "\"os\" \"sunos\" \"os-version\" \"5.5\" "
                                              "\"support-url\" NIL)\r\n"), &id), 0);
    T_EQ_INT(id.nil, 0);
    T_EQ_INT(id.count, 5);
    T_EQ_PSTR(id.v[0].name, "name");
    T_EQ_PSTR(id.v[0].value, "Cyrus");
    T_NIL(id.v[4].value);
    T_EQ_INT(posta_imap_decode_id(d, dt_parse("* ID NIL\r\n"), &id), 0);
    T_EQ_INT(id.nil, 1);
    T_EQ_INT(id.count, 0);
    T_EQ_INT(posta_imap_decode_id(d, dt_parse("* ID (\"name\" \"x\" \"odd\")\r\n"), &id), 0);
    T_EQ_INT(id.count, 1);
    T_EQ_INT(posta_imap_decode_id(d, dt_parse("* ID ()\r\n"), &id), 0);
    T_EQ_INT(id.count, 0);
    T_EQ_INT(posta_imap_decode_id(d, dt_parse("* ID \"x\"\r\n"), &id), POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_id(d, dt_parse("* ID (\"a\" (b))\r\n"), &id), POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_id(d, dt_parse("* ID\r\n"), &id), POSTA_EPROTO);
}

static void test_data_type(void)
{
    static const struct {
        const char *line;
        posta_imap_data_type type;
        const char *name;
    } cases[] = {
        {"* OK hi\r\n", POSTA_IMAP_DATA_CONDITION, "CONDITION"},
        {"a1 NO [TRYCREATE] no\r\n", POSTA_IMAP_DATA_CONDITION, "CONDITION"},
        {"* BYE bye\r\n", POSTA_IMAP_DATA_CONDITION, "CONDITION"},
        {"* PREAUTH hi\r\n", POSTA_IMAP_DATA_CONDITION, "CONDITION"},
        {"+ go\r\n", POSTA_IMAP_DATA_CONTINUATION, "CONTINUATION"},
        {"* CAPABILITY IMAP4rev2\r\n", POSTA_IMAP_DATA_CAPABILITY, "CAPABILITY"},
        {"* ENABLED X\r\n", POSTA_IMAP_DATA_ENABLED, "ENABLED"},
        {"* FLAGS ()\r\n", POSTA_IMAP_DATA_FLAGS, "FLAGS"},
        {"* 1 EXISTS\r\n", POSTA_IMAP_DATA_EXISTS, "EXISTS"},
        {"* 1 RECENT\r\n", POSTA_IMAP_DATA_RECENT, "RECENT"},
        {"* 1 EXPUNGE\r\n", POSTA_IMAP_DATA_EXPUNGE, "EXPUNGE"},
        {"* 1 FETCH ()\r\n", POSTA_IMAP_DATA_FETCH, "FETCH"},
        {"* LIST () NIL x\r\n", POSTA_IMAP_DATA_LIST, "LIST"},
        {"* LSUB () NIL x\r\n", POSTA_IMAP_DATA_LSUB, "LSUB"},
        {"* STATUS x ()\r\n", POSTA_IMAP_DATA_STATUS, "STATUS"},
        {"* SEARCH\r\n", POSTA_IMAP_DATA_SEARCH, "SEARCH"},
        {"* SORT\r\n", POSTA_IMAP_DATA_SORT, "SORT"},
        {"* ESEARCH\r\n", POSTA_IMAP_DATA_ESEARCH, "ESEARCH"},
        {"* THREAD\r\n", POSTA_IMAP_DATA_THREAD, "THREAD"},
        {"* NAMESPACE NIL NIL NIL\r\n", POSTA_IMAP_DATA_NAMESPACE, "NAMESPACE"},
        {"* ID NIL\r\n", POSTA_IMAP_DATA_ID, "ID"},
        {"* VANISHED 1\r\n", POSTA_IMAP_DATA_VANISHED, "VANISHED"},
        {"* QUOTA x ()\r\n", POSTA_IMAP_DATA_QUOTA, "QUOTA"},
        {"* QUOTAROOT x\r\n", POSTA_IMAP_DATA_QUOTAROOT, "QUOTAROOT"},
        {"* ACL x\r\n", POSTA_IMAP_DATA_ACL, "ACL"},
        {"* LISTRIGHTS x y z\r\n", POSTA_IMAP_DATA_LISTRIGHTS, "LISTRIGHTS"},
        {"* MYRIGHTS x y\r\n", POSTA_IMAP_DATA_MYRIGHTS, "MYRIGHTS"},
        {"* METADATA x y\r\n", POSTA_IMAP_DATA_METADATA, "METADATA"},
        {"* XYZZY 1\r\n", POSTA_IMAP_DATA_OTHER, "OTHER"},
        {"* 3 FLAGS ()\r\n", POSTA_IMAP_DATA_OTHER, "OTHER"},   /* numbered where it is not */
        {"* FETCH ()\r\n", POSTA_IMAP_DATA_OTHER, "OTHER"},     /* unnumbered where it must be */
        {NULL, 0, NULL},
    };
    for (int i = 0; cases[i].line; i++) {
        posta_imap_data_type t = posta_imap_data_type_of(dt_parse(cases[i].line));
        if (t != cases[i].type)
            t_fail(__FILE__, __LINE__, "%s classified as %d", cases[i].line, (int)t);
        T_EQ_STR(posta_imap_data_type_name(t), cases[i].name);
    }
    T_EQ_INT(posta_imap_data_type_of(NULL), POSTA_IMAP_DATA_OTHER);
    T_EQ_STR(posta_imap_data_type_name((posta_imap_data_type)999), "OTHER");
}

static void test_lifecycle(void)
{
    posta_imap_decoder *d = NULL;
    T_EQ_INT(posta_imap_decoder_new(NULL, 0, 0), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decoder_new(&d, POSTA_IMAP_DECODE_UTF8, 0), 0);
    T_EQ_INT(posta_imap_decoder_flags(d), POSTA_IMAP_DECODE_UTF8);
    T_EQ_STR(posta_imap_decoder_errmsg(d), "");
    T_EQ_INT(posta_imap_decoder_memory(d), 0);
    /* decode the same big FETCH many times with a reset per response: memory stays flat */
    const posta_imap_response *r = dt_parse(
        "* 1 FETCH (FLAGS (\\Seen a b c d e f g) UID 5 BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" "
        "NIL NIL NIL \"7BIT\" 1 1)(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 1 1) \"ALT\"))\r\n");
    posta_imap_fetch_data f;
    size_t first = 0;
    for (int i = 0; i < 100; i++) {
        posta_imap_decoder_reset(d);
        T_EQ_INT(posta_imap_decode_fetch(d, r, &f), 0);
        if (i == 0)
            first = posta_imap_decoder_memory(d);
    }
    T_EQ_INT(posta_imap_decoder_memory(d), first);
    T_ASSERT(first > 0);
    /* without resets it grows, and the error is readable */
    T_EQ_INT(posta_imap_decode_fetch(d, dt_parse("* 0 FETCH ()\r\n"), &f), POSTA_EPROTO);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "0");
    posta_imap_decoder_reset(d);
    T_EQ_STR(posta_imap_decoder_errmsg(d), "");
    posta_imap_decoder_free(d);
    posta_imap_decoder_free(NULL);
    posta_imap_decoder_reset(NULL);
    posta_imap_decoder_set_flags(NULL, 1);
    T_EQ_INT(posta_imap_decoder_flags(NULL), 0);
    T_EQ_INT(posta_imap_decoder_memory(NULL), 0);
    T_ASSERT(posta_imap_decoder_errmsg(NULL) != NULL);
}

static void test_arena_limit(void)
{
    posta_imap_decoder *d;
    T_EQ_INT(posta_imap_decoder_new(&d, 0, 2000), 0);
    /* a SEARCH with 1000 results needs 4000 bytes */
    char line[8000];
    size_t o = (size_t)snprintf(line, sizeof(line), "* SEARCH");
    for (int i = 1; i <= 1000; i++)
        o += (size_t)snprintf(line + o, sizeof(line) - o, " %d", i);
    snprintf(line + o, sizeof(line) - o, "\r\n");
    posta_imap_search_data s;
    T_EQ_INT(posta_imap_decode_search(d, dt_parse(line), &s), POSTA_ELIMIT);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "limit of 2000 bytes");
    T_ASSERT(posta_imap_decoder_memory(d) <= 2000);
    /* small ones fit, again and again, with resets */
    for (int i = 0; i < 50; i++) {
        posta_imap_decoder_reset(d);
        T_EQ_INT(posta_imap_decode_search(d, dt_parse("* SEARCH 1 2 3\r\n"), &s), 0);
    }
    /* without resets the cap is reached and reported */
    int rc = 0;
    for (int i = 0; i < 1000 && rc == 0; i++)
        rc = posta_imap_decode_search(d, dt_parse("* SEARCH 1 2 3\r\n"), &s);
    T_EQ_INT(rc, POSTA_ELIMIT);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "reset");
    posta_imap_decoder_free(d);
}

/* Every decoder refuses a response of another kind with POSTA_EINVAL and a
 * sentence, and NULL arguments the same way. */
static void test_wrong_kind(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    const posta_imap_response *r = dt_parse("* 7 XYZZY (1 2)\r\n");
    union {
        posta_imap_capset caps;
        posta_imap_flagset flags;
        posta_imap_fetch_data fetch;
        posta_imap_list_data list;
        posta_imap_status_data status;
        posta_imap_search_data search;
        posta_imap_esearch_data esearch;
        posta_imap_thread_data threads;
        posta_imap_vanished_data vanished;
        posta_imap_namespace_data ns;
        posta_imap_id_data id;
        posta_imap_quota_data quota;
        posta_imap_quotaroot_data qr;
        posta_imap_acl_data acl;
        posta_imap_listrights_data lr;
        posta_imap_myrights_data mr;
        posta_imap_metadata_data md;
        uint32_t n;
    } u;
    int rcs[] = {
        posta_imap_decode_capability(d, r, &u.caps), posta_imap_decode_enabled(d, r, &u.caps),
        posta_imap_decode_flags(d, r, &u.flags), posta_imap_decode_exists(d, r, &u.n),
        posta_imap_decode_recent(d, r, &u.n), posta_imap_decode_expunge(d, r, &u.n),
        posta_imap_decode_fetch(d, r, &u.fetch), posta_imap_decode_list(d, r, &u.list),
        posta_imap_decode_status(d, r, &u.status), posta_imap_decode_search(d, r, &u.search),
        posta_imap_decode_esearch(d, r, &u.esearch), posta_imap_decode_thread(d, r, &u.threads),
        posta_imap_decode_vanished(d, r, &u.vanished), posta_imap_decode_namespace(d, r, &u.ns),
        posta_imap_decode_id(d, r, &u.id), posta_imap_decode_quota(d, r, &u.quota),
        posta_imap_decode_quotaroot(d, r, &u.qr), posta_imap_decode_acl(d, r, &u.acl),
        posta_imap_decode_listrights(d, r, &u.lr), posta_imap_decode_myrights(d, r, &u.mr),
        posta_imap_decode_metadata(d, r, &u.md),
    };
    for (size_t i = 0; i < sizeof(rcs) / sizeof(rcs[0]); i++)
        if (rcs[i] != POSTA_EINVAL)
            t_fail(__FILE__, __LINE__, "decoder %zu gave %d on XYZZY", i, rcs[i]);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "not a METADATA response");
    /* status responses and continuations are not data either */
    T_EQ_INT(posta_imap_decode_list(d, dt_parse("* OK LIST\r\n"), &u.list), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_list(d, dt_parse("+ LIST\r\n"), &u.list), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_flags(d, dt_parse("* 3 FLAGS ()\r\n"), &u.flags), POSTA_EINVAL);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "with a number");
    T_EQ_INT(posta_imap_decode_metadata(d, r, NULL), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_metadata(NULL, r, &u.md), POSTA_EINVAL);
    posta_imap_datetime dt;
    T_EQ_INT(posta_imap_datetime_parse(d, NULL, 0, &dt), POSTA_EINVAL);
    const posta_imap_envelope *e;
    T_EQ_INT(posta_imap_decode_envelope_arg(d, NULL, &e), POSTA_EINVAL);
    T_EQ_INT(posta_imap_decode_envelope_arg(NULL, NULL, &e), POSTA_EINVAL);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"flags", test_flags},
        {"numbers", test_numbers},
        {"id", test_id},
        {"data_type", test_data_type},
        {"lifecycle", test_lifecycle},
        {"arena_limit", test_arena_limit},
        {"wrong_kind", test_wrong_kind},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
