/* A small test framework: checks that report file:line and values, a test
 * table run by t_main(), and access to the loopback servers' facts. */
#ifndef POSTA_T_H
#define POSTA_T_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

extern int t_failures;

void t_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define T_ASSERT(c) \
    do { if (!(c)) t_fail(__FILE__, __LINE__, "assertion failed: %s", #c); } while (0)
#define T_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) t_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, a_, #b, b_); } while (0)
#define T_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) t_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", \
        #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define T_CONTAINS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
    if (!h_ || !strstr(h_, n_)) t_fail(__FILE__, __LINE__, "%s is \"%s\", should contain \"%s\"", \
        #hay, h_ ? h_ : "(null)", n_); } while (0)
#define T_EQ_MEM(a, alen, b, blen) do { size_t al_ = (alen), bl_ = (blen); \
    if (al_ != bl_ || memcmp((a), (b), al_) != 0) t_fail(__FILE__, __LINE__, \
        "%s (%zu bytes) differs from %s (%zu bytes)", #a, al_, #b, bl_); } while (0)

struct t_case {
    const char *name;
    void (*fn)(void);
};

/* Run the named cases (all when argv has none); returns the exit status. */
int t_main(int argc, char **argv, const struct t_case *cases);

struct peer;
/* Finish a scripted peer (tests/lib/peer.h) and fail the test, at the
 * caller's file and line, with the peer's sentence when it did not follow
 * its script. */
void t_peer_ok_at(struct peer *p, const char *file, int line);
#define peer_ok(p) t_peer_ok_at((p), __FILE__, __LINE__)

/* The value of KEY in the loopback servers' env file ($POSTA_TEST_ENV);
 * aborts the test with a clear message when the servers are not running. */
const char *t_env(const char *key);
/* Same, but NULL when missing. */
const char *t_env_opt(const char *key);

/* A fresh temporary directory for this test, removed at exit. */
const char *t_tmpdir(void);

/* Read a whole file into a malloc'd NUL-terminated buffer (len in *n). */
char *t_read_file(const char *path, size_t *n);

#endif
