/* The allocation counter behind failmalloc.h (see there). */
#include "failmalloc.h"

#include <posta/error.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static int armed, sticky_mode, injected;
static long fail_at, counted;

/* Nonzero when this allocation is to fail. */
static int fail_now(void)
{
    if (!armed)
        return 0;
    long n = counted++;
    if (n == fail_at || (sticky_mode && n > fail_at)) {
        injected = 1;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return fail_now() ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}

void fm_arm(long n, int sticky)
{
    fail_at = n;
    sticky_mode = sticky;
    counted = 0;
    injected = 0;
    armed = 1;
}

int fm_disarm(void)
{
    armed = 0;
    return injected;
}

long fm_count(void)
{
    return counted;
}

/* --- the output log --------------------------------------------------------- */

static char out[65536], ref[65536];
static size_t out_len, ref_len;
static int have_ref, overflow;

/* NUL bytes are logged as the two characters \0, so that the log stays a C
 * string that strstr() sees whole. */
static void put_raw(const void *s, size_t n)
{
    if (n > sizeof(out) - 1 - out_len) {
        overflow = 1;
        n = sizeof(out) - 1 - out_len;
    }
    memcpy(out + out_len, s, n);
    out_len += n;
    out[out_len] = '\0';
}

void fm_put(const void *s, size_t n)
{
    const char *p = s, *end = p + n;
    while (p < end) {
        const char *z = memchr(p, '\0', (size_t)(end - p));
        put_raw(p, z ? (size_t)(z - p) : (size_t)(end - p));
        if (!z)
            break;
        put_raw("\\0", 2);
        p = z + 1;
    }
}

void fm_puts(const char *s)
{
    fm_put(s, strlen(s));
}

void fm_putf(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf))
        overflow = 1;
    else
        put_raw(buf, (size_t)n);
}

int fm_done(void)
{
    if (overflow) {
        t_fail(__FILE__, __LINE__, "the scenario's log overflowed");
        return FM_WRONG;
    }
    if (!have_ref) {
        memcpy(ref, out, out_len + 1);
        ref_len = out_len;
        have_ref = 1;
        return 0;
    }
    if (ref_len != out_len || memcmp(ref, out, out_len) != 0) {
        fprintf(stderr, "reference:\n%s\nthis run:\n%s\n", ref, out);
        return FM_WRONG;
    }
    return 0;
}

const char *fm_ref(void)
{
    return ref;
}

/* --- the loop --------------------------------------------------------------- */

void fm_loop_at(const char *file, int line, const char *name, fm_scenario fn)
{
    have_ref = 0;
    overflow = 0;
    out_len = 0;
    out[0] = '\0';
    int rc = fn();
    if (rc != 0) {
        t_fail(file, line, "%s fails without injection: %d (%s)", name, rc, posta_strerror(rc));
        return;
    }
    for (int sticky = 0; sticky <= 1; sticky++) {
        long n;
        for (n = 0; n < 1000000; n++) {
            out_len = 0;
            out[0] = '\0';
            fm_arm(n, sticky);
            rc = fn();
            int hit = fm_disarm();
            if (!hit) {
                if (rc != 0)
                    t_fail(file, line, "%s: run %ld without a failure injected returned %d (%s)",
                           name, n, rc, posta_strerror(rc));
                break;
            }
            if (rc != 0 && rc != POSTA_ENOMEM) {
                t_fail(file, line, "%s: allocation %ld failing%s gave %d (%s), not 0 or POSTA_ENOMEM",
                       name, n, sticky ? " (and every later one)" : "", rc,
                       rc == FM_WRONG ? "wrong output" : posta_strerror(rc));
                return;
            }
        }
        if (n == 1000000)
            t_fail(file, line, "%s: the loop did not end", name);
        else if (!sticky)
            printf("%s: %ld allocations\n", name, n);
    }
}
