/* Helpers for the imclient tests (itest.h). */
#include "itest.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "t.h"

int itest_fatal_calls;
char itest_fatal_msg[512];
int itest_fatal_code;

/* The man page makes the application supply fatal(); these tests want to
 * see it called, so it returns. */
void fatal(char *message, int code);
void fatal(char *message, int code)
{
    itest_fatal_calls++;
    itest_fatal_code = code;
    snprintf(itest_fatal_msg, sizeof(itest_fatal_msg), "%s", message);
}

void rec_proc(struct imclient *im, void *rock, struct imclient_reply *reply)
{
    struct rec *r = rock;
    (void)im;
    r->calls++;
    snprintf(r->keyword, sizeof(r->keyword), "%s", reply->keyword);
    r->msgno = reply->msgno;
    snprintf(r->text, sizeof(r->text), "%s", reply->text);
}

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int run_until(struct imclient *im, const int *counter, int want)
{
    long long end = now_ms() + 10000;
    while (*counter < want) {
        /* Wait with a deadline ourselves: processoneevent waits forever. */
        int fd, ww;
        imclient_getselectinfo(im, &fd, &ww);
        struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (ww ? POLLOUT : 0))};
        long long left = end - now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            t_fail(__FILE__, __LINE__, "no progress within 10 s (%d of %d events)", *counter, want);
            return -1;
        }
        imclient_processoneevent(im);
    }
    return 0;
}

const char *capture_stdout(void (*fn)(void *), void *arg)
{
    static char out[8192];
    char path[64];
    snprintf(path, sizeof(path), "/tmp/imclient-stdout-XXXXXX");
    int fd = mkstemp(path);
    out[0] = '\0';
    if (fd < 0)
        return out;
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    fn(arg);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    ssize_t n = pread(fd, out, sizeof(out) - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return out;
}
