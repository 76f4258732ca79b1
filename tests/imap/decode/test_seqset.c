/* Sequence and UID sets: parsing, normalization, "*", overflow, iteration. */
#include <stdio.h>
#include <stdlib.h>

#include "dt.h"

static posta_imap_seqset parse_ok(posta_imap_decoder *d, const char *s)
{
    posta_imap_seqset set;
    int rc = posta_imap_seqset_parse(d, s, strlen(s), &set);
    if (rc != 0)
        t_fail(__FILE__, __LINE__, "parse of \"%s\" failed: %s", s, posta_imap_decoder_errmsg(d));
    return set;
}

/* Iterate set into a comma-separated string for easy comparison. */
static const char *iter_str(const posta_imap_seqset *set, uint32_t largest)
{
    static char buf[512];
    size_t o = 0;
    posta_imap_seqset_iter it;
    uint32_t n;
    buf[0] = '\0';
    posta_imap_seqset_iter_init(&it, set, largest);
    while (posta_imap_seqset_next(&it, &n) && o < sizeof(buf) - 16)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u", o ? "," : "", n);
    return buf;
}

static void test_basic(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_seqset s = parse_ok(d, "1:3,5,7:*");
    T_EQ_INT(s.count, 3);
    T_EQ_INT(s.ranges[0].first, 1);
    T_EQ_INT(s.ranges[0].last, 3);
    T_EQ_INT(s.ranges[1].first, 5);
    T_EQ_INT(s.ranges[1].last, 5);
    T_EQ_INT(s.ranges[2].first, 7);
    T_EQ_INT(s.ranges[2].last, POSTA_IMAP_STAR);
    T_EQ_STR(iter_str(&s, 9), "1,2,3,5,7,8,9");
    T_EQ_INT(posta_imap_seqset_count(&s, 9), 7);
    T_ASSERT(posta_imap_seqset_contains(&s, 8, 9));
    T_ASSERT(!posta_imap_seqset_contains(&s, 4, 9));
    T_ASSERT(!posta_imap_seqset_contains(&s, 10, 9));
    T_ASSERT(!posta_imap_seqset_contains(&s, 0, 9));
}

/* RFC 9051 6.4.8 example: 2,4:7,9,12:* with 15 messages. */
static void test_rfc_example(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_seqset s = parse_ok(d, "2,4:7,9,12:*");
    T_EQ_STR(iter_str(&s, 15), "2,4,5,6,7,9,12,13,14,15");
}

static void test_reversed_and_star(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_seqset s = parse_ok(d, "7:3,*:5,*");
    T_EQ_INT(s.ranges[0].first, 3);
    T_EQ_INT(s.ranges[0].last, 7);
    T_EQ_INT(s.ranges[1].first, 5);
    T_EQ_INT(s.ranges[1].last, POSTA_IMAP_STAR);
    T_EQ_INT(s.ranges[2].first, POSTA_IMAP_STAR);
    T_EQ_INT(s.ranges[2].last, POSTA_IMAP_STAR);
    T_EQ_STR(iter_str(&s, 6), "3,4,5,6,7,5,6,6");
    /* "5:*" with largest 3 is 3:5 (RFC 9051: the UID range includes the last message) */
    posta_imap_seqset t = parse_ok(d, "5:*");
    T_EQ_STR(iter_str(&t, 3), "3,4,5");
    /* "*" with an empty mailbox: nothing */
    posta_imap_seqset u = parse_ok(d, "*");
    T_EQ_STR(iter_str(&u, 0), "");
    T_EQ_INT(posta_imap_seqset_count(&u, 0), 0);
}

static void test_limits(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_seqset s = parse_ok(d, "4294967295");
    T_EQ_INT(s.ranges[0].first, 4294967295u);
    /* iteration up to the top must stop, not wrap */
    posta_imap_seqset t = parse_ok(d, "4294967294:4294967295");
    T_EQ_STR(iter_str(&t, 0), "4294967294,4294967295");
    posta_imap_seqset all = parse_ok(d, "1:4294967295,1:4294967295");
    T_EQ_INT(posta_imap_seqset_count(&all, 0), 2 * 4294967295ull);

    const char *bad[] = {"4294967296", "1:4294967296", "99999999999999999999999", "0", "1:0",
                         "", ",", "1,", ",1", "1,,2", "1:", ":1", "1::2", "a", "1 2", "1:*x",
                         "-1", "1:-1", "**", "1:2:3", "1x,2", "1:2 ,3", NULL};
    for (int i = 0; bad[i]; i++) {
        posta_imap_seqset x;
        int rc = posta_imap_seqset_parse(d, bad[i], strlen(bad[i]), &x);
        if (rc != POSTA_EPROTO)
            t_fail(__FILE__, __LINE__, "\"%s\" gave %d, expected POSTA_EPROTO", bad[i], rc);
    }
    posta_imap_seqset x;
    T_EQ_INT(posta_imap_seqset_parse(d, "4294967296", 10, &x), POSTA_EPROTO);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "4294967296");
    T_CONTAINS(posta_imap_decoder_errmsg(d), "above 2^32-1");
    T_EQ_INT(posta_imap_seqset_parse(d, "1:0", 3, &x), POSTA_EPROTO);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "0 is not");
    T_EQ_INT(posta_imap_seqset_parse(d, NULL, 0, &x), POSTA_EINVAL);
    T_EQ_INT(posta_imap_seqset_parse(NULL, "1", 1, &x), POSTA_EINVAL);
}

/* The forms found in responses: ESEARCH ALL, VANISHED, COPYUID. */
static void test_response_forms(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_seqset s = parse_ok(d, "4:18,21,28");
    T_EQ_INT(posta_imap_seqset_count(&s, 0), 17);
    s = parse_ok(d, "300:310,405,411");
    T_EQ_INT(posta_imap_seqset_count(&s, 0), 13);
    s = parse_ok(d, "3956:3958");
    T_EQ_STR(iter_str(&s, 0), "3956,3957,3958");
    /* a long set with many ranges */
    char big[6000];
    size_t o = 0;
    for (int i = 1; i <= 1000; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "%s%d", i > 1 ? "," : "", i * 2);
    s = parse_ok(d, big);
    T_EQ_INT(s.count, 1000);
    T_EQ_INT(s.ranges[999].first, 2000);
}

static void test_iter_null(void)
{
    uint32_t n;
    posta_imap_seqset_iter it;
    posta_imap_seqset empty = {NULL, 0};
    posta_imap_seqset_iter_init(&it, &empty, 5);
    T_EQ_INT(posta_imap_seqset_next(&it, &n), 0);
    T_EQ_INT(posta_imap_seqset_count(NULL, 1), 0);
    T_EQ_INT(posta_imap_seqset_contains(NULL, 1, 1), 0);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"basic", test_basic},
        {"rfc_example", test_rfc_example},
        {"reversed_and_star", test_reversed_and_star},
        {"limits", test_limits},
        {"response_forms", test_response_forms},
        {"iter_null", test_iter_null},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
