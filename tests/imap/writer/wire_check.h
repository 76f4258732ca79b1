/* An independent reader of what the command writer produced, for tests and
 * the fuzz target: checks the line guarantee and parses astrings back. */
#ifndef POSTA_WIRE_CHECK_H
#define POSTA_WIRE_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* If line[0 .. n) ends in a literal header ("{5}", "{5+}", "~{5}"), its
 * size; else -1. */
static inline long long wire_literal_header(const unsigned char *line, size_t n)
{
    if (n < 3 || line[n - 1] != '}')
        return -1;
    size_t i = n - 1;
    if (line[i - 1] == '+')
        i--;
    size_t end = i;
    while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
        i--;
    if (i == end || i == 0 || line[i - 1] != '{' || end - i > 18)
        return -1;
    long long v = 0;
    for (size_t k = i; k < end; k++)
        v = v * 10 + (line[k] - '0');
    return v;
}

/*
 * NULL when p[0 .. len) is exactly one command: lines free of CR, LF and
 * NUL, where every CRLF but the last follows a literal header and is
 * followed by that many octets of literal data.  Otherwise a reason.
 */
static inline const char *wire_check(const unsigned char *p, size_t len)
{
    size_t i = 0, line = 0;

    for (;;) {
        while (i < len && p[i] != '\r' && p[i] != '\n' && p[i] != '\0')
            i++;
        if (i == len)
            return "the command does not end in CRLF";
        if (p[i] == '\0')
            return "NUL outside literal data";
        if (p[i] == '\n')
            return "bare LF outside literal data";
        if (i + 1 >= len || p[i + 1] != '\n')
            return "bare CR outside literal data";
        long long n = wire_literal_header(p + line, i - line);
        if (n < 0)
            return i + 2 == len ? NULL : "CRLF in the middle of the command";
        if ((unsigned long long)n > len - (i + 2))
            return "literal data runs past the end";
        i += 2 + (size_t)n;
        line = i;
    }
}

static inline int wire_astring_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\", c);
}

/*
 * Parse one astring at p[*pos] (atom, quoted string or literal) into a
 * malloc'd NUL-terminated *out_r of *out_len_r octets, advancing *pos.
 * Returns 0, or -1 on a syntax error.
 */
static inline int wire_astring(const unsigned char *p, size_t len, size_t *pos,
                               unsigned char **out_r, size_t *out_len_r)
{
    size_t i = *pos, o = 0;
    unsigned char *out = malloc(len - i + 1);

    if (!out)
        return -1;
    if (i < len && p[i] == '"') {
        for (i++; i < len && p[i] != '"'; i++) {
            if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
                goto bad;
            if (p[i] == '\\') {
                if (++i >= len || (p[i] != '"' && p[i] != '\\'))
                    goto bad;
            }
            out[o++] = p[i];
        }
        if (i >= len)
            goto bad;
        i++;
    } else if (i < len && (p[i] == '{' || (p[i] == '~' && i + 1 < len && p[i + 1] == '{'))) {
        size_t j = i + (p[i] == '~');
        while (j < len && p[j] != '\r')
            j++;
        long long n = wire_literal_header(p + i, j - i);
        if (n < 0 || j + 1 >= len || p[j + 1] != '\n' || (unsigned long long)n > len - (j + 2))
            goto bad;
        memcpy(out, p + j + 2, (size_t)n);
        o = (size_t)n;
        i = j + 2 + (size_t)n;
    } else {
        while (i < len && (wire_astring_char(p[i]) || p[i] == ']'))
            out[o++] = p[i++];
        if (o == 0)
            goto bad;
    }
    out[o] = '\0';
    *out_r = out;
    *out_len_r = o;
    *pos = i;
    return 0;
bad:
    free(out);
    return -1;
}

#endif
