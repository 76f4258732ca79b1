/* JSON string output shared by the posta command's subcommands. */
#include <stdio.h>

#include "tool.h"

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;  /* overlong */
        if (c == 0xed)
            hi = 0x9f;  /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;  /* above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xbf)
            return 0;
    return len;
}

/* Write data as a JSON string.  NUL and control characters are \u escapes;
 * valid UTF-8 passes through; every byte that is not part of valid UTF-8 is
 * written as \udcXX (Python's "surrogateescape"), so the output is always
 * valid JSON and the original bytes can be recovered. */
void tool_json_str(FILE *f, const void *data, size_t n)
{
    const unsigned char *s = data;

    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t u;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else if (c < 0x80)
            fputc(c, f);
        else if ((u = utf8_len(s + i, n - i)) > 0) {
            fwrite(s + i, 1, u, f);
            i += u;
            continue;
        } else
            fprintf(f, "\\udc%02x", c);
        i++;
    }
    fputc('"', f);
}
