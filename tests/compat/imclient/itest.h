/* Helpers for the imclient tests: a fatal() that records instead of
 * exiting, reply recorders, and event loops with a deadline. */
#ifndef POSTA_IMCLIENT_ITEST_H
#define POSTA_IMCLIENT_ITEST_H

#include <cyrus/imclient.h>

/* What fatal() was last told, and how often it was called. */
extern int itest_fatal_calls;
extern char itest_fatal_msg[512];
extern int itest_fatal_code;

/* A recorded reply (the last one) and the number of replies. */
struct rec {
    int calls;
    char keyword[64];
    long msgno;
    char text[8192];
};

/* imclient_proc_t that fills the struct rec given as rock. */
void rec_proc(struct imclient *im, void *rock, struct imclient_reply *reply);

/* Process events until *counter >= want; fails the test (and returns -1)
 * when that takes more than 10 s. */
int run_until(struct imclient *im, const int *counter, int want);

/* Run fn(arg) with stdout going to a buffer; returns the captured text
 * (static, NUL-terminated). */
const char *capture_stdout(void (*fn)(void *), void *arg);

#endif
