/* posta's side of the SMTP submission benchmark (bench/README.md): N
 * messages in one session to a sink with the native API (PIPELINING used
 * when offered).  run.sh times the process. */
#include <posta/smtp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_posta_smtp HOST:PORT N SIZE\n");
        return 2;
    }
    unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
    size_t size = (size_t)strtoul(argv[3], NULL, 10);
    bench_buf *msgs = calloc(n, sizeof *msgs);
    posta_smtp *h;
    if (msgs == NULL || posta_smtp_new(&h, NULL, NULL) != 0)
        return 1;
    if (posta_smtp_set_server(h, argv[1]) != 0 || posta_smtp_set_tls(h, POSTA_SMTP_TLS_DISABLED) != 0 ||
        posta_smtp_set_hostname(h, "localhost") != 0) {
        fprintf(stderr, "setup: %s\n", posta_smtp_errmsg(h));
        return 1;
    }
    for (unsigned i = 0; i < n; i++) {
        posta_smtp_message *m;
        bench_small_message(&msgs[i], size, i + 1);
        if (posta_smtp_add_message(h, &m) != 0 ||
            posta_smtp_message_set_reverse_path(m, "sender@example.org") != 0 ||
            posta_smtp_add_recipient(m, "sink@example.org", NULL) != 0 ||
            posta_smtp_message_set_buffer(m, msgs[i].data, msgs[i].len) != 0) {
            fprintf(stderr, "message %u: %s\n", i, posta_smtp_errmsg(h));
            return 1;
        }
    }
    double t0 = bench_now();
    int rc = posta_smtp_run(h);
    double secs = bench_now() - t0;
    if (rc != 0) {
        fprintf(stderr, "posta_smtp_run: %s\n", posta_smtp_errmsg(h));
        return 1;
    }
    unsigned sent = 0;
    for (posta_smtp_message *m = posta_smtp_first_message(h); m; m = posta_smtp_next_message(m))
        sent += posta_smtp_message_sent(m) ? 1 : 0;
    posta_smtp_free(h);
    printf("messages=%u sent=%u seconds=%.6f\n", n, sent, secs);
    return sent == n ? 0 : 1;
}
