/* Helpers shared by posta's benchmark drivers (bench/, not part of the
 * library or of ctest): time, peak memory, the generated IMAP transcripts
 * and the test message, so that posta and each peer read the same bytes. */
#ifndef POSTA_BENCH_UTIL_H
#define POSTA_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic clock in seconds. */
double bench_now(void);

/* Peak resident set size of this process so far, in KiB (getrusage). */
long bench_maxrss_kib(void);

/* Median of n doubles (the array is sorted in place). */
double bench_median(double *v, size_t n);

/* A growable byte buffer. */
typedef struct bench_buf {
    char *data;
    size_t len, cap;
} bench_buf;

void bench_buf_add(bench_buf *b, const void *data, size_t len);
void bench_buf_printf(bench_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bench_buf_free(bench_buf *b);

/*
 * The IMAP server transcripts of the parsing benchmark: a greeting, then the
 * answer to one FETCH command (tag "1"), as Dovecot would send it.
 *   "meta":     n responses "* i FETCH (UID FLAGS INTERNALDATE RFC822.SIZE
 *               ENVELOPE BODYSTRUCTURE)", varied and deterministic;
 *   "literals": n responses "* i FETCH (UID RFC822.SIZE FLAGS
 *               BODY[HEADER.FIELDS (...)] {len}" + header lines, i.e. one
 *               literal per response.
 * *uid_sum_r receives the sum of the UIDs, which every parser must find.
 * Returns 0, or -1 for an unknown kind.
 */
int bench_transcript(const char *kind, unsigned n, bench_buf *out, uint64_t *uid_sum_r);

/* The large test message: RFC 5322 header, then body lines of 76 characters
 * and LF until size bytes in total (LF line ends, as a Maildir file).
 * Written with stdio to path.  Returns 0 or -1 (errno set). */
int bench_write_message(const char *path, uint64_t size);

/* The small message of the SMTP benchmark, exactly len bytes with CRLF line
 * ends (len at least 400). */
void bench_small_message(bench_buf *out, size_t len, unsigned seq);

#endif
