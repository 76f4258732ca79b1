/* Error sentences, byte buffers and the clock shared by every layer. */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int posta__err_vset(struct posta_err *e, int code, const char *fmt, va_list ap)
{
    e->code = code;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    return code;
}

int posta__err_set(struct posta_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    posta__err_vset(e, code, fmt, ap);
    va_end(ap);
    return code;
}

void posta__err_clear(struct posta_err *e)
{
    e->code = 0;
    e->msg[0] = '\0';
}

const char *posta__err_msg(const struct posta_err *e)
{
    if (e->msg[0])
        return e->msg;
    return posta_strerror(e->code);
}

void posta__buf_init(struct posta_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap;
}

void posta__buf_free(struct posta_buf *b)
{
    free(b->data);
    posta__buf_init(b, b->cap);
}

int posta__buf_reserve(struct posta_buf *b, size_t n)
{
    size_t used = b->len - b->off;
    size_t need;

    if (posta__size_add(used, n, &need) < 0)
        return POSTA_ELIMIT;
    if (b->cap && need > b->cap)
        return POSTA_ELIMIT;
    if (b->size - b->len >= n)
        return 0;
    if (b->off > 0 && b->size - used >= n) {
        /* Enough room once consumed bytes are reclaimed. */
        memmove(b->data, b->data + b->off, used);
        b->len = used;
        b->off = 0;
        return 0;
    }
    size_t nsize = b->size ? b->size : 256;
    while (nsize < need) {
        if (nsize > SIZE_MAX / 2) {
            nsize = need;
            break;
        }
        nsize *= 2;
    }
    if (b->cap && nsize > b->cap)
        nsize = b->cap;
    unsigned char *p = malloc(nsize);
    if (!p)
        return POSTA_ENOMEM;
    if (used)
        memcpy(p, b->data + b->off, used);
    free(b->data);
    b->data = p;
    b->size = nsize;
    b->len = used;
    b->off = 0;
    return 0;
}

int posta__buf_append(struct posta_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int rc = posta__buf_reserve(b, n);
    if (rc < 0)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int posta__buf_appendf(struct posta_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return POSTA_EINVAL;
    if ((size_t)n < sizeof(small))
        return posta__buf_append(b, small, (size_t)n);
    int rc = posta__buf_reserve(b, (size_t)n + 1);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void posta__buf_consume(struct posta_buf *b, size_t n)
{
    size_t used = b->len - b->off;
    if (n >= used) {
        b->off = b->len = 0;
        return;
    }
    b->off += n;
}

void posta__buf_reset(struct posta_buf *b)
{
    b->off = b->len = 0;
}

int64_t posta__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
