/* Internal helpers shared by every layer: error sentences and growable byte
 * buffers with hard caps.  Nothing here is exported from libposta. */
#ifndef POSTA_UTIL_H
#define POSTA_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <posta/error.h>

#if defined(__GNUC__)
#define POSTA_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define POSTA_PRINTF(f, a)
#endif

/* A handle's last error: the code and a sentence a user can act on. */
struct posta_err {
    int code;
    char msg[1024];
};

/* Record code and a formatted sentence in e; returns code so callers can
 * write `return posta__err_set(&h->err, POSTA_EIO, "...")`. */
int posta__err_set(struct posta_err *e, int code, const char *fmt, ...)
    POSTA_PRINTF(3, 4);
int posta__err_vset(struct posta_err *e, int code, const char *fmt, va_list ap)
    POSTA_PRINTF(3, 0);
void posta__err_clear(struct posta_err *e);
/* The sentence, or posta_strerror(code) when none was recorded. */
const char *posta__err_msg(const struct posta_err *e);

/*
 * A growable byte buffer that never grows past cap (0 means no cap).  Bytes
 * are data[off .. len); consumed bytes at the front are reclaimed lazily.
 */
struct posta_buf {
    unsigned char *data;
    size_t off;
    size_t len;
    size_t size;
    size_t cap;
};

void posta__buf_init(struct posta_buf *b, size_t cap);
void posta__buf_free(struct posta_buf *b);
/* Ensure room for n more bytes; POSTA_ELIMIT past the cap, POSTA_ENOMEM. */
int posta__buf_reserve(struct posta_buf *b, size_t n);
int posta__buf_append(struct posta_buf *b, const void *p, size_t n);
int posta__buf_appendf(struct posta_buf *b, const char *fmt, ...) POSTA_PRINTF(2, 3);
static inline size_t posta__buf_used(const struct posta_buf *b) { return b->len - b->off; }
/* The first unconsumed byte; a valid (empty) pointer even before the first
 * allocation, so that callers may pass it with a zero length. */
static inline unsigned char *posta__buf_head(const struct posta_buf *b)
{
    static unsigned char none[1];
    return b->data ? b->data + b->off : none;
}
/* Drop n bytes from the front. */
void posta__buf_consume(struct posta_buf *b, size_t n);
void posta__buf_reset(struct posta_buf *b);

/* The value of base64 digit c (0..63), where the 64th digit is c63 ("/" in
 * RFC 4648 base64, "," in IMAP's modified BASE64); -1 for anything else. */
int posta__b64_value(unsigned char c, unsigned char c63);

struct posta_conv_error;
/* Fill err (when not NULL) and return POSTA_EINVAL: the strict decoders'
 * one way to fail. */
int posta__conv_fail(struct posta_conv_error *err, const char *msg, size_t offset);

/* Monotonic clock in milliseconds. */
int64_t posta__now_ms(void);

/* Overflow-checked size arithmetic: 0 on success, -1 on overflow. */
static inline int posta__size_add(size_t a, size_t b, size_t *r)
{
    if (a > SIZE_MAX - b)
        return -1;
    *r = a + b;
    return 0;
}

#endif
