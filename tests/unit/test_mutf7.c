/* IMAP modified UTF-7 and UTF-8 validation: RFC examples, every refusal,
 * and round trips over random input in both directions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <posta/util.h>

#include "t.h"

/* "~peter/mail/台北/日本語", RFC 3501 section 5.1.3. */
#define PETER_UTF8 "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
#define PETER_MUTF7 "~peter/mail/&U,BTFw-/&ZeVnLIqe-"

static const struct {
    const char *utf8, *mutf7;
} pairs[] = {
    {"", ""},
    {"INBOX", "INBOX"},
    {PETER_UTF8, PETER_MUTF7},
    {"&", "&-"},
    {"a&b&&", "a&-b&-&-"},
    {"\xc3\xa1", "&AOE-"},                      /* á */
    {"\xc3\xa1\xc3\xa2", "&AOEA4g-"},           /* áâ: one section */
    {"\xc3\xa1&", "&AOE-&-"},                   /* a section, then "&" */
    {"\xc3\xa1-", "&AOE--"},
    {"\xf0\x9f\x98\x80", "&2D3eAA-"},           /* U+1F600: a surrogate pair */
    {"\x01", "&AAE-"},
    {"\t\x7f", "&AAkAfw-"},
    {"Entw\xc3\xbc rfe", "Entw&APw- rfe"},
    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "&ZeVnLIqe-"},
    {"\xef\xbf\xbf", "&,,8-"},                  /* U+FFFF */
    {"\xf4\x8f\xbf\xbf", "&2,,f,w-"},           /* U+10FFFF */
};

static void test_pairs(void)
{
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        char *out;
        size_t len;
        T_EQ_INT(posta_mutf7_encode(pairs[i].utf8, strlen(pairs[i].utf8), &out, &len, NULL), 0);
        T_EQ_STR(out, pairs[i].mutf7);
        T_EQ_INT(len, strlen(pairs[i].mutf7));
        free(out);
        T_EQ_INT(posta_mutf7_decode(pairs[i].mutf7, strlen(pairs[i].mutf7), &out, &len, NULL), 0);
        T_EQ_STR(out, pairs[i].utf8);
        T_EQ_INT(len, strlen(pairs[i].utf8));
        free(out);
    }
}

static void test_decode_refusals(void)
{
    static const struct {
        const char *text;
        size_t offset;
        const char *words;
    } bad[] = {
        {"&AOE-&AOI-", 5, "in a row"},             /* must be &AOEA4g- */
        {"&AGE-", 3, "printable ASCII"},           /* "a" encoded */
        {"&ACY-", 3, "printable ASCII"},           /* "&" encoded */
        {"&ACA-", 3, "printable ASCII"},           /* space encoded */
        {"&AAA-", 3, "NUL"},
        {"&AOE", 0, "not terminated"},
        {"a&", 1, "not terminated"},
        {"&", 0, "not terminated"},
        {"&AO E-", 3, "invalid character"},
        {"&AO/-", 3, "invalid character"},         /* "/" is "," in modified BASE64 */
        {"&AO=-", 3, "invalid character"},
        {"&AO&-", 3, "invalid character"},
        {"&AOF-", 3, "nonzero padding"},           /* low bits of "F" set */
        {"&AOEA-", 4, "superfluous"},
        {"&A-", 1, "superfluous"},
        {"&2D0-", 3, "high surrogate at the end"},
        {"&2D3YPQ-", 6, "not followed by a low surrogate"},
        {"&2D0AQQ-", 6, "not followed by a low surrogate"},
        {"&3gA-", 3, "low surrogate without"},
        {"caf\xc3\xa9", 3, "outside printable"},
        {"a\tb", 1, "outside printable"},
        {"a\r\nb", 1, "outside printable"},
        {"\x7f", 0, "outside printable"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *out = (char *)"x";
        size_t len = 9;
        posta_conv_error e = {NULL, 0};
        T_EQ_INT(posta_mutf7_decode(bad[i].text, strlen(bad[i].text), &out, &len, &e),
                 POSTA_EINVAL);
        T_ASSERT(out == NULL);
        T_EQ_INT(len, 0);
        T_CONTAINS(e.msg, bad[i].words);
        if (e.offset != bad[i].offset)
            t_fail(__FILE__, __LINE__, "\"%s\": offset %zu, expected %zu", bad[i].text, e.offset,
                   bad[i].offset);
    }
    char *out;
    size_t len;
    T_EQ_INT(posta_mutf7_decode("a\0b", 3, &out, &len, NULL), POSTA_EINVAL);
}

static const struct {
    const char *text;
    size_t offset;
    const char *words;
} bad_utf8[] = {
    {"\xc0\xaf", 0, "invalid UTF-8 lead byte"},      /* overlong "/" */
    {"\xe0\x80\xaf", 0, "overlong"},
    {"\xf0\x80\x80\xaf", 0, "overlong"},
    {"\xed\xa0\x80", 0, "surrogate"},                /* U+D800 */
    {"\xed\xbf\xbf", 0, "surrogate"},
    {"\xf4\x90\x80\x80", 0, "out-of-range"},         /* U+110000 */
    {"\xf5\x80\x80\x80", 0, "invalid UTF-8 lead byte"},
    {"\xff", 0, "invalid UTF-8 lead byte"},
    {"a\x80", 1, "continuation byte without a lead byte"},
    {"ab\xc3", 2, "truncated"},
    {"\xe6\x97", 0, "truncated"},
    {"\xe6\x97x", 0, "invalid UTF-8 sequence"},
    {"\xc3\xc3\xa9", 0, "invalid UTF-8 sequence"},
    {"x\xf0\x9f\x98", 1, "truncated"},
};

static void test_utf8(void)
{
    posta_conv_error e;

    T_EQ_INT(posta_utf8_check("", 0, NULL), 0);
    T_EQ_INT(posta_utf8_check("a\0b", 3, NULL), 0);
    T_EQ_INT(posta_utf8_check(PETER_UTF8, strlen(PETER_UTF8), NULL), 0);
    T_EQ_INT(posta_utf8_check("\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80\xc2\x80", 12, NULL), 0);
    for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
        e = (posta_conv_error){NULL, 0};
        size_t n = strlen(bad_utf8[i].text);
        T_EQ_INT(posta_utf8_check(bad_utf8[i].text, n, &e), POSTA_EINVAL);
        T_CONTAINS(e.msg, bad_utf8[i].words);
        T_EQ_INT(e.offset, bad_utf8[i].offset);
        /* The encoder refuses the same input at the same place. */
        char *out;
        size_t len;
        posta_conv_error e2 = {NULL, 0};
        T_EQ_INT(posta_mutf7_encode(bad_utf8[i].text, n, &out, &len, &e2), POSTA_EINVAL);
        T_EQ_INT(e2.offset, bad_utf8[i].offset);
    }
    char *out;
    size_t len;
    e = (posta_conv_error){NULL, 0};
    T_EQ_INT(posta_mutf7_encode("a\0b", 3, &out, &len, &e), POSTA_EINVAL);
    T_CONTAINS(e.msg, "NUL");
    T_EQ_INT(e.offset, 1);
    T_EQ_INT(posta_mutf7_encode(NULL, 0, &out, &len, NULL), 0);
    T_EQ_STR(out, "");
    free(out);
    T_EQ_INT(posta_mutf7_encode("a", 1, NULL, &len, NULL), POSTA_EINVAL);
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* A random code point, biased to the edges: ASCII, "&", controls, the
 * surrogate neighbours, astral planes. */
static uint32_t random_cp(void)
{
    static const uint32_t edges[] = {'&', '-', 0x01, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff, 0x7ff,
                                     0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff};
    switch (rnd() % 4) {
    case 0: return 0x20 + rnd() % 0x5f;
    case 1: return edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
    case 2: return 0x80 + rnd() % 0xd780;
    default: {
        uint32_t cp = 0x10000 + rnd() % 0x100000;
        return cp;
    }
    }
}

static size_t put_utf8(char *s, uint32_t cp)
{
    if (cp < 0x80) {
        s[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        s[0] = (char)(0xc0 | (cp >> 6));
        s[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        s[0] = (char)(0xe0 | (cp >> 12));
        s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        s[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    s[0] = (char)(0xf0 | (cp >> 18));
    s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    s[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Valid UTF-8 -> mUTF-7 -> UTF-8 gives it back; the mUTF-7 is printable. */
static void test_random_utf8_round_trip(void)
{
    char s[256];

    for (int iter = 0; iter < 20000 && !t_failures; iter++) {
        size_t n = 0, k = rnd() % 40;
        for (size_t i = 0; i < k; i++)
            n += put_utf8(s + n, random_cp());
        char *enc, *dec;
        size_t elen, dlen;
        T_EQ_INT(posta_utf8_check(s, n, NULL), 0);
        T_EQ_INT(posta_mutf7_encode(s, n, &enc, &elen, NULL), 0);
        for (size_t i = 0; i < elen; i++)
            T_ASSERT(enc[i] >= 0x20 && enc[i] <= 0x7e);
        T_EQ_INT(posta_mutf7_decode(enc, elen, &dec, &dlen, NULL), 0);
        T_EQ_MEM(dec, dlen, s, n);
        free(enc);
        free(dec);
    }
}

/* Random mUTF-7-like text: whatever decodes re-encodes to itself, so no
 * name has two spellings. */
static void test_random_mutf7_canonical(void)
{
    static const char alpha[] = "&&&---AAAOE4g2D3eQ,+/Zz09 a~\x01\xc3";
    char s[64];
    int decoded = 0;

    for (int iter = 0; iter < 200000 && !t_failures; iter++) {
        size_t n = rnd() % 24;
        for (size_t i = 0; i < n; i++)
            s[i] = alpha[rnd() % (sizeof(alpha) - 1)];
        char *dec, *enc;
        size_t dlen, elen;
        if (posta_mutf7_decode(s, n, &dec, &dlen, NULL) < 0)
            continue;
        decoded++;
        T_EQ_INT(posta_utf8_check(dec, dlen, NULL), 0);
        T_EQ_INT(posta_mutf7_encode(dec, dlen, &enc, &elen, NULL), 0);
        T_EQ_MEM(enc, elen, s, n);
        free(enc);
        free(dec);
    }
    T_ASSERT(decoded > 1000);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"pairs", test_pairs},
        {"decode_refusals", test_decode_refusals},
        {"utf8", test_utf8},
        {"random_utf8_round_trip", test_random_utf8_round_trip},
        {"random_mutf7_canonical", test_random_mutf7_canonical},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
