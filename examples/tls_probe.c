/* tls_probe: connect to a server with implicit TLS, verify it, and print
 * the verdict and the server's first line; the smallest use of posta_stream.
 *
 *   tls_probe HOST:PORT [CAFILE]
 */
#include <posta/posta.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    posta_stream *s;
    char line[1024];
    size_t len = 0;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: tls_probe HOST:PORT [CAFILE]\n");
        return 64;
    }
    if (posta_stream_new(&s) != 0)
        return 1;
    posta_stream_set_timeouts(s, 5000, 5000);
    if (argc == 3)
        posta_stream_set_ca(s, argv[2], NULL);
    if (posta_stream_connect(s, argv[1], NULL) != 0 || posta_stream_starttls(s) != 0) {
        fprintf(stderr, "tls_probe: %s\n", posta_stream_errmsg(s));
        posta_stream_free(s);
        return 1;
    }
    printf("%s %s, verified: %s\n", posta_stream_tls_version(s), posta_stream_tls_cipher(s),
           posta_stream_tls_verify_result(s));
    /* Read up to the end of the greeting line. */
    while (len < sizeof(line) - 1 && !memchr(line, '\n', len)) {
        long n = posta_stream_read_blocking(s, line + len, sizeof(line) - 1 - len);
        if (n < 0) {
            fprintf(stderr, "tls_probe: %s\n", posta_stream_errmsg(s));
            posta_stream_free(s);
            return 1;
        }
        len += (size_t)n;
    }
    line[len] = '\0';
    printf("%s", line);
    posta_stream_free(s);
    return 0;
}
