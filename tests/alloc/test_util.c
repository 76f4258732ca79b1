/* Allocation-failure loops over the util helpers: base64 and modified
 * UTF-7, both ways. */
#include <posta/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failmalloc.h"

/* What out pointers hold before a call: failures must reset them to NULL. */
static char poison_byte;
static char *volatile poison = &poison_byte;

/* Every result is NULL/0 on failure and NUL-terminated on success. */
static int result(int rc, char *out, size_t len, const char *what)
{
    if (rc != 0) {
        if (out != NULL || len != 0)
            return FM_WRONG;
        return rc;
    }
    if (!out || out[len] != '\0')
        return FM_WRONG;
    fm_putf("%s %zu [", what, len);
    fm_put(out, len);
    fm_puts("]\n");
    free(out);
    return 0;
}

static int conversions(void)
{
    static const char bin[] = "foob\0ar\xff";
    static const char name[] = "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e & co";
    char *out = poison;
    size_t len = 1;
    int rc;
    rc = posta_base64_encode(bin, sizeof(bin) - 1, &out, &len);
    if ((rc = result(rc, out, len, "b64e")) != 0)
        return rc;
    out = poison;
    len = 1;
    rc = posta_base64_decode("Zm9vYgBhcv8=", 12, (unsigned char **)&out, &len, NULL);
    if ((rc = result(rc, out, len, "b64d")) != 0)
        return rc;
    out = poison;
    len = 1;
    rc = posta_base64_decode("", 0, (unsigned char **)&out, &len, NULL);
    if ((rc = result(rc, out, len, "b64d-empty")) != 0)
        return rc;
    out = poison;
    len = 1;
    rc = posta_mutf7_encode(name, strlen(name), &out, &len, NULL);
    if ((rc = result(rc, out, len, "mutf7e")) != 0)
        return rc;
    out = poison;
    len = 1;
    const char *enc = "~peter/mail/&U,BTFw-/&ZeVnLIqe- &- co";
    rc = posta_mutf7_decode(enc, strlen(enc), &out, &len, NULL);
    if ((rc = result(rc, out, len, "mutf7d")) != 0)
        return rc;
    /* long inputs: larger buffers, growth inside mutf7 */
    char big[3000];
    for (size_t i = 0; i + 3 < sizeof(big); i += 3)
        memcpy(big + i, "\xe5\x8f\xb0", 3);
    big[2997] = 'a';
    big[2998] = 'b';
    big[2999] = 'c';
    out = poison;
    len = 1;
    rc = posta_mutf7_encode(big, sizeof(big), &out, &len, NULL);
    if (rc != 0)
        return result(rc, out, len, "");
    char *back = poison;
    size_t blen = 1;
    rc = posta_mutf7_decode(out, len, &back, &blen, NULL);
    free(out);
    if (rc != 0)
        return result(rc, back, blen, "");
    int same = blen == sizeof(big) && memcmp(back, big, blen) == 0;
    free(back);
    if (!same)
        return FM_WRONG;
    out = poison;
    len = 1;
    rc = posta_base64_encode(big, sizeof(big), &out, &len);
    if (rc != 0)
        return result(rc, out, len, "");
    rc = posta_base64_decode(out, len, (unsigned char **)&back, &blen, NULL);
    free(out);
    if (rc != 0)
        return result(rc, back, blen, "");
    same = blen == sizeof(big) && memcmp(back, big, blen) == 0;
    free(back);
    return same ? fm_done() : FM_WRONG;
}

static void test_conversions(void)
{
    fm_loop(conversions);
    T_CONTAINS(fm_ref(), "b64e 12 [Zm9vYgBhcv8=]\n");
    T_CONTAINS(fm_ref(), "mutf7e 37 [~peter/mail/&U,BTFw-/&ZeVnLIqe- &- co]\n");
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"conversions", test_conversions},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
