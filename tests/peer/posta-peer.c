/* posta-peer: the scripted peer of tests/lib/peer.h as a command, so that
 * shell tests can put a misbehaving server in front of the posta command. */
#include "peer.h"
#include "t.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: posta-peer [--cert F] [--key F] [--alpn ID] [--timeout MS] [--port-file F] SCRIPT\n"
    "Listens on 127.0.0.1, writes the port to the port file (or stdout), plays\n"
    "SCRIPT (see tests/lib/peer.h) for the client and exits 0 when every step\n"
    "was followed, 1 with the failure on stderr otherwise (2: bad usage or\n"
    "script).  --timeout bounds each step (default 10000 ms).\n";

struct args {
    struct peer_opts opts;
    const char *port_file, *script;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (opt[0] != '-') {
            if (a->script)
                return -1;
            a->script = opt;
            continue;
        }
        if (!val)
            return -1;
        if (strcmp(opt, "--cert") == 0)
            a->opts.cert = val;
        else if (strcmp(opt, "--key") == 0)
            a->opts.key = val;
        else if (strcmp(opt, "--alpn") == 0)
            a->opts.alpn = val;
        else if (strcmp(opt, "--timeout") == 0)
            a->opts.timeout_ms = atoi(val);
        else if (strcmp(opt, "--port-file") == 0)
            a->port_file = val;
        else
            return -1;
        i++;
    }
    return a->script ? 0 : -1;
}

/* Write the port to a temporary name, then rename: a shell test polling for
 * the file never reads half of it. */
static int write_port(const char *path, int port)
{
    if (!path) {
        printf("%d\n", port);
        return fflush(stdout) == 0 ? 0 : -1;
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return -1;
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int ok = f && fprintf(f, "%d\n", port) > 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "posta-peer: cannot write %s: %s\n", path, strerror(errno));
    free(tmp);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct args a;
    memset(&a, 0, sizeof(a));
    struct peer *p;
    char *err = NULL;
    signal(SIGPIPE, SIG_IGN);
    if (parse_args(argc, argv, &a) != 0) {
        fputs(usage, stderr);
        return 2;
    }
    char *script = t_read_file(a.script, NULL);
    if (!script) {
        fprintf(stderr, "posta-peer: cannot read %s: %s\n", a.script, strerror(errno));
        return 2;
    }
    /* The client is another process: let it hang up at its own pace. */
    a.opts.linger = 1;
    int rc = peer_start(&p, script, &a.opts);
    free(script);
    if (rc != 0)
        return 2;
    if (write_port(a.port_file, peer_port(p)) != 0) {
        peer_finish(p, NULL);
        return 2;
    }
    if (peer_finish(p, &err) != 0) {
        fprintf(stderr, "%s: %s\n", a.script, err ? err : "failed");
        free(err);
        return 1;
    }
    return 0;
}
