/* libESMTP 1.1.0's side of the SMTP submission benchmark (bench/README.md):
 * N messages in one session to a sink, the way a libESMTP application sends
 * them (one smtp_start_session for the lot).  run.sh times the process. */
#include <stddef.h> /* libesmtp.h uses size_t without including it */

#include <libesmtp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_esmtp HOST:PORT N SIZE\n");
        return 2;
    }
    unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
    size_t size = (size_t)strtoul(argv[3], NULL, 10);
    bench_buf *msgs = calloc(n, sizeof *msgs);
    smtp_message_t *m = calloc(n, sizeof *m);
    smtp_session_t s = smtp_create_session();
    if (s == NULL || msgs == NULL || m == NULL)
        return 1;
    smtp_set_server(s, argv[1]);
    smtp_set_hostname(s, "localhost");
    for (unsigned i = 0; i < n; i++) {
        bench_small_message(&msgs[i], size, i + 1);
        m[i] = smtp_add_message(s);
        smtp_set_reverse_path(m[i], "sender@example.org");
        smtp_add_recipient(m[i], "sink@example.org");
        smtp_set_message_str(m[i], msgs[i].data);
    }
    double t0 = bench_now();
    if (!smtp_start_session(s)) {
        char buf[128];
        fprintf(stderr, "smtp_start_session: %s\n",
                smtp_strerror(smtp_errno(), buf, sizeof buf));
        return 1;
    }
    double secs = bench_now() - t0;
    unsigned sent = 0;
    for (unsigned i = 0; i < n; i++) {
        const smtp_status_t *st = smtp_message_transfer_status(m[i]);
        if (st != NULL && st->code / 100 == 2)
            sent++;
    }
    smtp_destroy_session(s);
    printf("messages=%u sent=%u seconds=%.6f\n", n, sent, secs);
    return sent == n ? 0 : 1;
}
