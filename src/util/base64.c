/* Base64 (RFC 4648 section 4) with a strict decoder: one spelling per value. */
#include <posta/util.h>

#include <stdlib.h>

#include "util.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int posta__conv_fail(posta_conv_error *err, const char *msg, size_t offset)
{
    if (err) {
        err->msg = msg;
        err->offset = offset;
    }
    return POSTA_EINVAL;
}

int posta__b64_value(unsigned char c, unsigned char c63)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == c63)
        return 63;
    return -1;
}

int posta_base64_encode(const void *data, size_t len, char **out_r, size_t *out_len_r)
{
    const unsigned char *in = data;

    if (!out_r || !out_len_r || (!data && len))
        return POSTA_EINVAL;
    *out_r = NULL;
    *out_len_r = 0;
    if (len / 3 >= (SIZE_MAX - 1) / 4)
        return POSTA_ENOMEM;
    size_t olen = (len + 2) / 3 * 4;
    char *out = malloc(olen + 1);
    if (!out)
        return POSTA_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        size_t left = len - i;
        uint32_t v = (uint32_t)in[i] << 16;
        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = left > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = left > 2 ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    *out_r = out;
    *out_len_r = o;
    return 0;
}

/* How many "=" end the text (0..2), or -1 when padding is misplaced. */
static int count_padding(const char *text, size_t len, posta_conv_error *err)
{
    int pad = 0;
    while (pad < 2 && (size_t)pad < len && text[len - 1 - (size_t)pad] == '=')
        pad++;
    for (size_t i = 0; i + (size_t)pad < len; i++) {
        if (text[i] == '=') {
            posta__conv_fail(err, "base64 padding \"=\" in the middle of the text", i);
            return -1;
        }
    }
    return pad;
}

/* Check every character and that no set bit is lost to padding. */
static int check_chars(const char *text, size_t len, int pad, posta_conv_error *err)
{
    size_t body = len - (size_t)pad;
    for (size_t i = 0; i < body; i++)
        if (posta__b64_value((unsigned char)text[i], '/') < 0)
            return posta__conv_fail(err, "invalid base64 character", i);
    /* "xx==" carries 8 bits in 12, "xxx=" 16 in 18: the rest must be 0. */
    if (pad == 2 && (posta__b64_value((unsigned char)text[body - 1], '/') & 0x0f))
        return posta__conv_fail(err, "nonzero bits before base64 padding (not the canonical encoding)",
                    body - 1);
    if (pad == 1 && (posta__b64_value((unsigned char)text[body - 1], '/') & 0x03))
        return posta__conv_fail(err, "nonzero bits before base64 padding (not the canonical encoding)",
                    body - 1);
    return 0;
}

int posta_base64_decode(const char *text, size_t len, unsigned char **out_r,
                        size_t *out_len_r, posta_conv_error *err)
{
    if (!out_r || !out_len_r || (!text && len))
        return POSTA_EINVAL;
    *out_r = NULL;
    *out_len_r = 0;
    if (len % 4 != 0)
        return posta__conv_fail(err, "base64 text length is not a multiple of 4", len);
    int pad = count_padding(text, len, err);
    if (pad < 0)
        return POSTA_EINVAL;
    int rc = check_chars(text, len, pad, err);
    if (rc < 0)
        return rc;

    size_t olen = len / 4 * 3 - (size_t)pad;
    unsigned char *out = malloc(olen + 1);
    if (!out)
        return POSTA_ENOMEM;
    size_t o = 0;
    uint32_t acc = 0;
    int nbits = 0;
    for (size_t i = 0; i < len - (size_t)pad; i++) {
        acc = (acc << 6) | (uint32_t)posta__b64_value((unsigned char)text[i], '/');
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[o++] = (unsigned char)(acc >> nbits);
            acc &= (1u << nbits) - 1;
        }
    }
    out[o] = '\0';
    *out_r = out;
    *out_len_r = o;
    return 0;
}
