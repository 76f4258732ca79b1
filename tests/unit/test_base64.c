/* base64: the RFC 4648 section 10 vectors, strict refusals, round trips. */
#include <stdlib.h>
#include <string.h>

#include <posta/util.h>

#include "t.h"

static const struct {
    const char *plain, *b64;
} vectors[] = {
    {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static void test_rfc4648_vectors(void)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char *enc;
        unsigned char *dec;
        size_t len;
        size_t plen = strlen(vectors[i].plain);

        T_EQ_INT(posta_base64_encode(vectors[i].plain, plen, &enc, &len), 0);
        T_EQ_STR(enc, vectors[i].b64);
        T_EQ_INT(len, strlen(vectors[i].b64));
        free(enc);
        T_EQ_INT(posta_base64_decode(vectors[i].b64, strlen(vectors[i].b64), &dec, &len, NULL), 0);
        T_EQ_MEM(dec, len, vectors[i].plain, plen);
        T_EQ_INT(dec[len], 0);
        free(dec);
    }
}

static void test_binary(void)
{
    unsigned char all[256];
    char *enc;
    unsigned char *dec;
    size_t elen, dlen;

    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    T_EQ_INT(posta_base64_encode(all, sizeof(all), &enc, &elen), 0);
    T_EQ_INT(elen, 344);
    T_EQ_INT(posta_base64_decode(enc, elen, &dec, &dlen, NULL), 0);
    T_EQ_MEM(dec, dlen, all, sizeof(all));
    free(enc);
    free(dec);
    /* A SASL PLAIN response, NUL separators included. */
    T_EQ_INT(posta_base64_encode("\0fred\0secret", 12, &enc, &elen), 0);
    T_EQ_STR(enc, "AGZyZWQAc2VjcmV0");
    free(enc);
}

static void test_refusals(void)
{
    static const struct {
        const char *text;
        size_t offset;
        const char *words;
    } bad[] = {
        {"Zg=", 3, "multiple of 4"},
        {"Zm9vY", 5, "multiple of 4"},
        {"Zg=a", 2, "in the middle"},
        {"Z===", 1, "in the middle"},
        {"====", 0, "in the middle"},
        {"Zm9v====", 4, "in the middle"},
        {"Zm9=", 2, "nonzero bits"},
        {"Zh==", 1, "nonzero bits"},
        {"Zm 9", 2, "invalid base64 character"},
        {"Zm9\n", 3, "invalid base64 character"},
        {"Zm-_", 2, "invalid base64 character"},
        {"Zm9v\r\n", 6, "multiple of 4"},
        {"Zg==Zg==", 2, "in the middle"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *dec = (unsigned char *)"x";
        size_t len = 99;
        posta_conv_error e = {NULL, 0};
        T_EQ_INT(posta_base64_decode(bad[i].text, strlen(bad[i].text), &dec, &len, &e),
                 POSTA_EINVAL);
        T_ASSERT(dec == NULL);
        T_EQ_INT(len, 0);
        T_CONTAINS(e.msg, bad[i].words);
        T_EQ_INT(e.offset, bad[i].offset);
    }
    unsigned char *dec;
    size_t len;
    T_EQ_INT(posta_base64_decode("Zm9v\0Zg=", 8, &dec, &len, NULL), POSTA_EINVAL);
    T_EQ_INT(posta_base64_decode(NULL, 0, &dec, &len, NULL), 0);
    T_EQ_INT(len, 0);
    free(dec);
    T_EQ_INT(posta_base64_decode(NULL, 4, &dec, &len, NULL), POSTA_EINVAL);
    T_EQ_INT(posta_base64_decode("Zg==", 4, NULL, &len, NULL), POSTA_EINVAL);
}

/* Every 1..3-byte input encodes and decodes back, and every 4-character
 * text over a small alphabet that decodes re-encodes to itself. */
static void test_canonical(void)
{
    static const char alpha[] = "AZaz09+/=BgQ";
    char text[5] = {0};
    size_t n = sizeof(alpha) - 1;

    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++)
            for (size_t c = 0; c < n; c++)
                for (size_t d = 0; d < n; d++) {
                    text[0] = alpha[a], text[1] = alpha[b], text[2] = alpha[c], text[3] = alpha[d];
                    unsigned char *dec;
                    char *enc;
                    size_t dlen, elen;
                    if (posta_base64_decode(text, 4, &dec, &dlen, NULL) < 0)
                        continue;
                    T_EQ_INT(posta_base64_encode(dec, dlen, &enc, &elen), 0);
                    T_EQ_STR(enc, text);
                    free(enc);
                    free(dec);
                }
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"rfc4648_vectors", test_rfc4648_vectors},
        {"binary", test_binary},
        {"refusals", test_refusals},
        {"canonical", test_canonical},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
