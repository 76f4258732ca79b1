/* libFuzzer target: modified UTF-7 and UTF-8 validation must agree, and
 * decode/encode must round-trip both ways (base64 is held to the same). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <posta/util.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, \
    __FILE__, __LINE__); abort(); } } while (0)

/* Whatever decodes must re-encode to the very same text (one spelling). */
static void mutf7_decode_side(const char *s, size_t n)
{
    char *dec, *enc;
    size_t dlen, elen;
    posta_conv_error e = {NULL, 0};

    if (posta_mutf7_decode(s, n, &dec, &dlen, &e) < 0) {
        CHECK(e.msg != NULL && e.offset <= n);
        return;
    }
    CHECK(posta_utf8_check(dec, dlen, NULL) == 0);
    CHECK(memchr(dec, 0, dlen) == NULL);
    CHECK(posta_mutf7_encode(dec, dlen, &enc, &elen, NULL) == 0);
    CHECK(elen == n && memcmp(enc, s, n) == 0);
    free(enc);
    free(dec);
}

/* Encoding succeeds exactly for NUL-free valid UTF-8 and comes back. */
static void mutf7_encode_side(const char *s, size_t n)
{
    char *dec, *enc;
    size_t dlen, elen;
    posta_conv_error e = {NULL, 0};
    int valid = posta_utf8_check(s, n, NULL) == 0 && memchr(s, 0, n) == NULL;

    if (posta_mutf7_encode(s, n, &enc, &elen, &e) < 0) {
        CHECK(!valid);
        CHECK(e.msg != NULL && e.offset < n);
        return;
    }
    CHECK(valid);
    for (size_t i = 0; i < elen; i++)
        CHECK(enc[i] >= 0x20 && enc[i] <= 0x7e);
    CHECK(posta_mutf7_decode(enc, elen, &dec, &dlen, NULL) == 0);
    CHECK(dlen == n && memcmp(dec, s, n) == 0);
    free(enc);
    free(dec);
}

static void base64_both_sides(const char *s, size_t n)
{
    unsigned char *dec;
    char *enc;
    size_t dlen, elen;

    if (posta_base64_decode(s, n, &dec, &dlen, NULL) == 0) {
        CHECK(posta_base64_encode(dec, dlen, &enc, &elen) == 0);
        CHECK(elen == n && memcmp(enc, s, n) == 0);
        free(enc);
        free(dec);
    }
    CHECK(posta_base64_encode(s, n, &enc, &elen) == 0);
    CHECK(posta_base64_decode(enc, elen, &dec, &dlen, NULL) == 0);
    CHECK(dlen == n && memcmp(dec, s, n) == 0);
    free(enc);
    free(dec);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *s = (const char *)data;

    mutf7_decode_side(s, size);
    mutf7_encode_side(s, size);
    base64_both_sides(s, size);
    return 0;
}
