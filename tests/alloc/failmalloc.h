/* Allocation-failure injection for tests linked with -Wl,--wrap= malloc,
 * calloc, realloc, strdup and strndup: every such call made by the test and
 * by libposta.a goes through a counter that can fail one allocation (or
 * every one from some point on).  Allocations made inside shared libraries
 * (glibc internals, OpenSSL, libsasl2) are not wrapped and never fail. */
#ifndef POSTA_FAILMALLOC_H
#define POSTA_FAILMALLOC_H

#include <stddef.h>

#include "t.h"

/* A scenario's result for output that differs from the reference run. */
#define FM_WRONG (-10000)

/* Fail the n-th allocation from now (0-based); sticky: that one and every
 * later one.  fm_disarm() stops injecting and says whether a failure was
 * injected since fm_arm(). */
void fm_arm(long n, int sticky);
int fm_disarm(void);
/* Allocations counted since fm_arm(). */
long fm_count(void);

/* The scenario's output log (fixed storage: logging never allocates; NUL
 * bytes are logged as \0). */
void fm_put(const void *s, size_t n);
void fm_puts(const char *s);
void fm_putf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* End of a successful run: the first run's log becomes the reference and
 * later ones must equal it.  Returns 0, or FM_WRONG with a message. */
int fm_done(void);
/* The reference log (after the first run). */
const char *fm_ref(void);

/*
 * Run fn once without injection (it must return 0: that run's log is the
 * reference), then with allocation n = 0, 1, 2, ... failing, once failing
 * only that allocation and once failing every allocation from it on, until
 * a run sees no failure injected.  Each run must return 0 (with the
 * reference log, checked by fn through fm_done()) or POSTA_ENOMEM.
 */
typedef int (*fm_scenario)(void);
void fm_loop_at(const char *file, int line, const char *name, fm_scenario fn);
#define fm_loop(fn) fm_loop_at(__FILE__, __LINE__, #fn, fn)

#endif
