/* The test framework behind t.h. */
#include "t.h"
#include "peer.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int t_failures;
static const char *current;

void t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s (%s:%d): ", current ? current : "?", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    t_failures++;
}

void t_peer_ok_at(struct peer *p, const char *file, int line)
{
    char *msg = NULL;
    if (peer_finish(p, &msg) != 0)
        t_fail(file, line, "%s", msg ? msg : "peer failed");
    free(msg);
}

static char tmpdir[256];

static void rm_tmpdir(void)
{
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    }
}

const char *t_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/posta-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
        atexit(rm_tmpdir);
    }
    return tmpdir;
}

char *t_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *p = malloc(cap + 1);
    size_t r;
    while (p && (r = fread(p + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) {
            char *q = realloc(p, cap * 2 + 1);
            if (!q) {
                free(p);
                p = NULL;
                break;
            }
            p = q;
            cap *= 2;
        }
    }
    fclose(f);
    if (!p)
        return NULL;
    p[len] = '\0';
    if (n)
        *n = len;
    return p;
}

static char *envfile;
static size_t envlen;

static void free_env(void)
{
    free(envfile);
    envfile = NULL;
}

/* The env file is loaded once; its lines become NUL-terminated strings
 * and values are returned as pointers into it, valid until exit. */
const char *t_env_opt(const char *key)
{
    if (!envfile) {
        const char *path = getenv("POSTA_TEST_ENV");
        if (!path || !(envfile = t_read_file(path, &envlen)))
            return NULL;
        for (size_t i = 0; i < envlen; i++)
            if (envfile[i] == '\n')
                envfile[i] = '\0';
        atexit(free_env);
    }
    size_t klen = strlen(key);
    for (size_t i = 0; i < envlen; i += strlen(envfile + i) + 1) {
        const char *line = envfile + i;
        if (strncmp(line, key, klen) == 0 && line[klen] == '=')
            return line + klen + 1;
    }
    return NULL;
}

const char *t_env(const char *key)
{
    const char *v = t_env_opt(key);
    if (!v) {
        fprintf(stderr, "FAIL: %s not found in $POSTA_TEST_ENV (%s): are the test servers running?\n",
                key, getenv("POSTA_TEST_ENV") ? getenv("POSTA_TEST_ENV") : "unset");
        exit(1);
    }
    return v;
}

int t_main(int argc, char **argv, const struct t_case *cases)
{
    int ran = 0;
    signal(SIGPIPE, SIG_IGN);
    for (const struct t_case *c = cases; c->name; c++) {
        int selected = argc < 2;
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], c->name) == 0)
                selected = 1;
        if (!selected)
            continue;
        current = c->name;
        int before = t_failures;
        c->fn();
        fprintf(stderr, "%s %s\n", t_failures == before ? "ok  " : "FAIL", c->name);
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "no test matched\n");
        return 2;
    }
    return t_failures ? 1 : 0;
}
