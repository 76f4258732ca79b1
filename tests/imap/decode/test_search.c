/* SEARCH, SORT, ESEARCH (with correlators and PARTIAL), THREAD, VANISHED. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt.h"

static void test_search(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_search_data s;
    T_EQ_INT(posta_imap_decode_search(d, dt_parse("* SEARCH 2 3 6\r\n"), &s), 0);
    T_EQ_INT(s.count, 3);
    T_EQ_INT(s.v[2], 6);
    T_EQ_INT(s.has_modseq, 0);
    T_EQ_INT(posta_imap_decode_search(d, dt_parse("* SEARCH\r\n"), &s), 0);
    T_EQ_INT(s.count, 0);
    T_EQ_INT(posta_imap_decode_search(d, dt_parse("* SEARCH 2 5 6 7 11 12 18 19 20 23 "
                                                  "(MODSEQ 917162500)\r\n"), &s), 0);
    T_EQ_INT(s.count, 10);
    T_EQ_INT(s.has_modseq, 1);
    T_EQ_INT(s.modseq, 917162500);
    T_EQ_INT(posta_imap_decode_search(d, dt_parse("* SORT 2 84 882\r\n"), &s), 0);
    T_EQ_INT(s.count, 3);
    T_EQ_INT(s.v[1], 84);
    T_EQ_INT(posta_imap_decode_search(d, dt_parse("* SORT 5 3 4 1 2 (MODSEQ 1236)\r\n"), &s), 0);
    T_EQ_INT(s.modseq, 1236);
    T_EQ_INT(posta_imap_decode_search(d, dt_parse("* SEARCH 4294967295\r\n"), &s), 0);
    T_EQ_INT(s.v[0], 4294967295u);
    static const char *bad[] = {
        "* SEARCH 0\r\n", "* SEARCH x\r\n", "* SEARCH 4294967296\r\n", "* SEARCH 1 (MODSEQ)\r\n",
        "* SEARCH 1 (FOO 1)\r\n", "* SEARCH (MODSEQ 1) 2\r\n", "* SEARCH -1\r\n",
        "* SORT 1 (MODSEQ x)\r\n", NULL,
    };
    for (int i = 0; bad[i]; i++)
        if (posta_imap_decode_search(d, dt_parse(bad[i]), &s) != POSTA_EPROTO)
            t_fail(__FILE__, __LINE__, "%s accepted", bad[i]);
    T_EQ_INT(posta_imap_decode_search(d, dt_parse("* ESEARCH COUNT 1\r\n"), &s), POSTA_EINVAL);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "SEARCH or SORT");
}

static posta_imap_esearch_data es_ok(posta_imap_decoder *d, const char *line)
{
    posta_imap_esearch_data e;
    int rc = posta_imap_decode_esearch(d, dt_parse(line), &e);
    if (rc)
        t_fail(__FILE__, __LINE__, "%s gave %d: %s", line, rc, posta_imap_decoder_errmsg(d));
    return e;
}

static void test_esearch(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_esearch_data e = es_ok(d, "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n");
    T_EQ_PSTR(e.tag, "A282");
    T_EQ_INT(e.uid, 0);
    T_EQ_INT(e.present, POSTA_IMAP_ESEARCH_MIN | POSTA_IMAP_ESEARCH_COUNT);
    T_EQ_INT(e.min, 2);
    T_EQ_INT(e.count, 3);
    e = es_ok(d, "* ESEARCH (TAG \"A283\") ALL 2,10:11\r\n");
    T_EQ_INT(posta_imap_seqset_count(&e.all, 0), 3);
    e = es_ok(d, "* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800\r\n");
    T_EQ_INT(e.uid, 1);
    T_EQ_INT(e.max, 3800);
    e = es_ok(d, "* ESEARCH (TAG \"a567\") UID COUNT 17 ALL 4:18,21,28\r\n");
    T_EQ_INT(e.count, 17);
    T_EQ_INT(posta_imap_seqset_count(&e.all, 0), 17);
    e = es_ok(d, "* ESEARCH UID COUNT 5 ALL 4:19,21,28\r\n");
    T_NIL(e.tag);
    T_EQ_INT(e.uid, 1);
    e = es_ok(d, "* ESEARCH (TAG \"a\") UID ALL 1:3 MODSEQ 12345\r\n");
    T_EQ_INT(e.modseq, 12345);
    T_ASSERT(e.present & POSTA_IMAP_ESEARCH_MODSEQ);
    e = es_ok(d, "* ESEARCH COUNT 0\r\n");
    T_EQ_INT(e.count, 0);
    T_ASSERT(e.present & POSTA_IMAP_ESEARCH_COUNT);
    e = es_ok(d, "* ESEARCH\r\n");
    T_EQ_INT(e.present, 0);
    e = es_ok(d, "* ESEARCH (TAG a1) count 2\r\n");
    T_EQ_PSTR(e.tag, "a1");
    T_EQ_INT(e.count, 2);
    /* RFC 7377 correlator */
    e = es_ok(d, "* ESEARCH (TAG \"A1\" MAILBOX \"folder1\" UIDVALIDITY 1) UID ALL 3001:3004,3788\r\n");
    T_EQ_PSTR(e.mailbox.name, "folder1");
    T_EQ_INT(e.uidvalidity, 1);
    T_EQ_INT(posta_imap_seqset_count(&e.all, 0), 5);
    e = es_ok(d, "* ESEARCH (TAG \"A1\" X-FUTURE y) COUNT 1\r\n");   /* unknown part: ignored */
    T_EQ_PSTR(e.tag, "A1");
    /* RFC 9394 PARTIAL */
    e = es_ok(d, "* ESEARCH (TAG \"A01\") UID PARTIAL (-1:-100 200:250,252:300)\r\n");
    T_ASSERT(e.present & POSTA_IMAP_ESEARCH_PARTIAL);
    T_EQ_INT(e.partial_first, -1);
    T_EQ_INT(e.partial_last, -100);
    T_EQ_INT(posta_imap_seqset_count(&e.partial, 0), 100);
    e = es_ok(d, "* ESEARCH (TAG \"A02\") UID PARTIAL (23500:24000 NIL)\r\n");
    T_EQ_INT(e.partial_first, 23500);
    T_EQ_INT(e.partial_last, 24000);
    T_EQ_INT(e.partial.count, 0);
    /* unknown return data is kept */
    e = es_ok(d, "* ESEARCH (TAG \"x\") RELEVANCY (4 18 92) MIN 1\r\n");
    T_EQ_INT(e.nother, 1);
    T_EQ_PSTR(e.other[0].name, "RELEVANCY");
    T_EQ_INT(e.other[0].value->count, 3);
    T_EQ_INT(e.min, 1);
    static const char *bad[] = {
        "* ESEARCH MIN 0\r\n", "* ESEARCH COUNT x\r\n", "* ESEARCH ALL 0:1\r\n",
        "* ESEARCH ALL 1:*x\r\n", "* ESEARCH PARTIAL (1:-1 NIL)\r\n",
        "* ESEARCH PARTIAL (0:5 NIL)\r\n", "* ESEARCH PARTIAL (1:5)\r\n",
        "* ESEARCH PARTIAL x\r\n", "* ESEARCH PARTIAL (1:4294967296 NIL)\r\n",
        "* ESEARCH PARTIAL (-1 NIL)\r\n", "* ESEARCH PARTIAL (1:2x NIL)\r\n",
        "* ESEARCH PARTIAL (1:2 0)\r\n", "* ESEARCH PARTIAL ((1) NIL)\r\n", "* ESEARCH MIN\r\n", "* ESEARCH (TAG) MIN 1\r\n",
        "* ESEARCH (TAG (x)) MIN 1\r\n", "* ESEARCH (TAG a) UID \"MIN\" 1\r\n",
        "* ESEARCH MODSEQ 9223372036854775808\r\n", "* ESEARCH (TAG a UIDVALIDITY 0)\r\n",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        posta_imap_esearch_data x;
        if (posta_imap_decode_esearch(d, dt_parse(bad[i]), &x) != POSTA_EPROTO)
            t_fail(__FILE__, __LINE__, "%s accepted", bad[i]);
    }
}

static void test_thread(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_thread_data t;
    T_EQ_INT(posta_imap_decode_thread(d, dt_parse("* THREAD (2)(3 6 (4 23)(44 7 96))\r\n"), &t), 0);
    T_EQ_INT(t.count, 2);
    T_EQ_INT(t.v[0].id, 2);
    T_EQ_INT(t.v[0].nchildren, 0);
    const posta_imap_thread_node *n3 = &t.v[1];
    T_EQ_INT(n3->id, 3);
    T_EQ_INT(n3->nchildren, 1);
    const posta_imap_thread_node *n6 = &n3->children[0];
    T_EQ_INT(n6->id, 6);
    T_EQ_INT(n6->nchildren, 2);
    T_EQ_INT(n6->children[0].id, 4);
    T_EQ_INT(n6->children[0].children[0].id, 23);
    T_EQ_INT(n6->children[1].id, 44);
    T_EQ_INT(n6->children[1].children[0].id, 7);
    T_EQ_INT(n6->children[1].children[0].children[0].id, 96);
    T_EQ_INT(n6->children[1].children[0].children[0].nchildren, 0);
    T_EQ_INT(posta_imap_decode_thread(d, dt_parse("* THREAD ((3)(5))\r\n"), &t), 0);
    T_EQ_INT(t.count, 1);
    T_EQ_INT(t.v[0].id, 0);
    T_EQ_INT(t.v[0].nchildren, 2);
    T_EQ_INT(t.v[0].children[1].id, 5);
    T_EQ_INT(posta_imap_decode_thread(d, dt_parse("* THREAD\r\n"), &t), 0);
    T_EQ_INT(t.count, 0);
    /* tolerated: an empty thread, a single nested thread */
    T_EQ_INT(posta_imap_decode_thread(d, dt_parse("* THREAD () (1 (2))\r\n"), &t), 0);
    T_EQ_INT(t.v[0].id, 0);
    T_EQ_INT(t.v[0].nchildren, 0);
    T_EQ_INT(t.v[1].children[0].id, 2);
    /* a long chain does not recurse */
    char line[70000];
    size_t o = (size_t)snprintf(line, sizeof(line), "* THREAD (");
    for (int i = 1; i <= 10000; i++)
        o += (size_t)snprintf(line + o, sizeof(line) - o, "%d ", i);
    snprintf(line + o - 1, sizeof(line) - o + 1, ")\r\n");
    T_EQ_INT(posta_imap_decode_thread(d, dt_parse(line), &t), 0);
    const posta_imap_thread_node *x = &t.v[0];
    size_t len = 1;
    while (x->nchildren) {
        x = &x->children[0];
        len++;
    }
    T_EQ_INT(len, 10000);
    T_EQ_INT(x->id, 10000);
    static const char *bad[] = {
        "* THREAD (1 (2)(3) 4)\r\n", "* THREAD (0)\r\n", "* THREAD 1\r\n", "* THREAD (x)\r\n",
        "* THREAD (1 (2 (3 x)))\r\n", "* THREAD (4294967296)\r\n", NULL,
    };
    for (int i = 0; bad[i]; i++)
        if (posta_imap_decode_thread(d, dt_parse(bad[i]), &t) != POSTA_EPROTO)
            t_fail(__FILE__, __LINE__, "%s accepted", bad[i]);
}

static void test_thread_depth(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    enum { LEVELS = 400 };
    static posta_imap_arg lists[LEVELS][2];
    static posta_imap_arg wraps[LEVELS];
    posta_imap_arg one = {.type = POSTA_IMAP_ARG_ATOM, .str = "1", .len = 1};
    for (int i = 0; i < LEVELS; i++) {
        /* (1 inner inner) */
        lists[i][0] = one;
        lists[i][1] = i ? wraps[i - 1] : one;
        wraps[i] = (posta_imap_arg){.type = POSTA_IMAP_ARG_LIST, .list = lists[i],
                                    .count = i ? 2 : 1};
    }
    posta_imap_response r = *dt_parse("* THREAD (1)\r\n");
    r.args = &wraps[LEVELS - 1];
    r.nargs = 1;
    posta_imap_thread_data t;
    T_EQ_INT(posta_imap_decode_thread(d, &r, &t), POSTA_ELIMIT);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "nested");
    r.args = &wraps[200];
    T_EQ_INT(posta_imap_decode_thread(d, &r, &t), 0);
}

static void test_vanished(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_vanished_data v;
    T_EQ_INT(posta_imap_decode_vanished(d, dt_parse("* VANISHED (EARLIER) 300:310,405,411\r\n"),
                                        &v), 0);
    T_EQ_INT(v.earlier, 1);
    T_EQ_INT(posta_imap_seqset_count(&v.uids, 0), 13);
    T_EQ_INT(posta_imap_decode_vanished(d, dt_parse("* VANISHED 405,407,410,425\r\n"), &v), 0);
    T_EQ_INT(v.earlier, 0);
    T_EQ_INT(v.uids.count, 4);
    T_EQ_INT(posta_imap_decode_vanished(d, dt_parse("* VANISHED 41\r\n"), &v), 0);
    T_EQ_INT(v.uids.ranges[0].first, 41);
    static const char *bad[] = {
        "* VANISHED (LATER) 1\r\n", "* VANISHED\r\n", "* VANISHED 1 2\r\n", "* VANISHED 0\r\n",
        "* VANISHED (EARLIER)\r\n", "* VANISHED (EARLIER) 1 2\r\n", "* VANISHED (1)\r\n",
        "* VANISHED 1:4294967296\r\n", NULL,
    };
    for (int i = 0; bad[i]; i++)
        if (posta_imap_decode_vanished(d, dt_parse(bad[i]), &v) != POSTA_EPROTO)
            t_fail(__FILE__, __LINE__, "%s accepted", bad[i]);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"search", test_search},
        {"esearch", test_esearch},
        {"thread", test_thread},
        {"thread_depth", test_thread_depth},
        {"vanished", test_vanished},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
