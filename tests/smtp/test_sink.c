/* Against Postfix's smtp-sink: what arrives equals what was sent after
 * canonicalization (the sink stores LF lines, un-stuffed, after headers of
 * its own), for chosen and random messages; and the sink's fault switches
 * (450/500 replies, 421, hang-ups, no ESMTP, no PIPELINING, LMTP). */
#include <posta/smtp.h>

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"

/* --- the sink's files ------------------------------------------------------------- */

/* The message part of a sink file: after its own X- lines and Received:. */
static const char *after_sink_headers(const char *f)
{
    const char *r = strstr(f, "\nReceived: ");
    if (!r)
        return NULL;
    const char *p = r + 1;
    for (;;) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            return NULL;
        p = nl + 1;
        if (*p != ' ' && *p != '\t')
            return p;
    }
}

/* The file in dir holding token (waits for the sink to write it). */
static char *find_file(const char *dir, const char *token)
{
    for (int tries = 0; tries < 100; tries++) {
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            size_t n;
            char *text = t_read_file(path, &n);
            if (text && strstr(text, token)) {
                closedir(d);
                return text;
            }
            free(text);
        }
        if (d)
            closedir(d);
        usleep(50000);
    }
    return NULL;
}

static int count_files(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* What the sink stores for a message we canonicalize: LF line ends, no
 * stuffing, and one more LF of its own at the end. */
static char *sink_form(const unsigned char *in, size_t n, size_t *len_r)
{
    char *out = malloc(n + 3);
    size_t o = 0;
    int bol = 1;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\r' || in[i] == '\n') {
            if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
                i++;
            out[o++] = '\n';
            bol = 1;
            continue;
        }
        out[o++] = (char)in[i];
        bol = 0;
    }
    if (!bol)
        out[o++] = '\n';
    out[o++] = '\n';
    out[o] = '\0';
    *len_r = o;
    return out;
}

/* --- sessions ---------------------------------------------------------------------- */

static posta_smtp *session(const char *host, const char *port)
{
    posta_smtp *h;
    char target[128];
    T_EQ_INT(posta_smtp_new(&h, NULL, NULL), 0);
    snprintf(target, sizeof(target), "%s:%s", host, port);
    T_EQ_INT(posta_smtp_set_server(h, target), 0);
    T_EQ_INT(posta_smtp_set_tls(h, POSTA_SMTP_TLS_DISABLED), 0);
    return h;
}

static posta_smtp_message *add(posta_smtp *h, const void *data, size_t len, int headers,
                               const char *rcpt1, const char *rcpt2)
{
    posta_smtp_message *m;
    T_EQ_INT(posta_smtp_add_message(h, &m), 0);
    T_EQ_INT(posta_smtp_message_set_reverse_path(m, "sender@example.org"), 0);
    T_EQ_INT(posta_smtp_message_set_buffer(m, data, len), 0);
    posta_smtp_message_set_header_processing(m, headers);
    T_EQ_INT(posta_smtp_add_recipient(m, rcpt1, NULL), 0);
    if (rcpt2)
        T_EQ_INT(posta_smtp_add_recipient(m, rcpt2, NULL), 0);
    return m;
}

/* --- against the harness sink ------------------------------------------------------------ */

static void test_headers_and_body(void)
{
    char token[64], msg[512];
    snprintf(token, sizeof(token), "tok-%d-%ld", (int)getpid(), (long)random());
    snprintf(msg, sizeof(msg), "X-Token: %s\nSubject: sink test\nBcc: hidden@example.org\n"
             "Return-Path: <old@example.org>\n\nfirst\r\n.\nsecond\r..third\n\nlast", token);
    posta_smtp *h = session(t_env("HOST"), t_env("SINK_PORT"));
    posta_smtp_message *m = add(h, msg, strlen(msg), 1, "one@example.org", "two@example.org");
    T_EQ_INT(posta_smtp_message_set_header(m, "X-Api", "Grüße"), 0);
    T_EQ_INT(posta_smtp_run(h), 0);
    T_EQ_INT(posta_smtp_message_status(m)->code, 250);
    char *f = find_file(t_env("SINK_DIR"), token);
    T_ASSERT(f != NULL);
    const char *body = f ? after_sink_headers(f) : NULL;
    T_ASSERT(body != NULL);
    if (body) {
        T_ASSERT(strncmp(body, "X-Token: ", 9) == 0);
        T_CONTAINS(body, "\nSubject: sink test\n");
        T_CONTAINS(body, "\nX-Api: =?UTF-8?B?R3LDvMOfZQ==?=\n");
        T_CONTAINS(body, "\nDate: ");
        T_CONTAINS(body, "\nMessage-Id: <");
        T_CONTAINS(body, "\nFrom: sender@example.org\n");
        T_ASSERT(!strstr(body, "hidden"));
        T_ASSERT(!strstr(body, "Return-Path"));
        T_ASSERT(!strstr(body, "\nTo:"));   /* Bcc was present: no To: made */
        T_CONTAINS(body, "\n\nfirst\n.\nsecond\n..third\n\nlast\n\n");
        T_CONTAINS(f, "X-Rcpt-Args: <two@example.org>");
    }
    free(f);
    posta_smtp_free(h);
}

static void test_random_messages(void)
{
    enum { N = 120 };
    static const unsigned char alpha[] = {'\r', '\n', '.', 'a', 'b', ' ', '\t', 0xe4, '.', '\n'};
    unsigned seed = (unsigned)getpid();
    unsigned char *msgs[N];
    size_t lens[N];
    char tokens[N][64];
    posta_smtp *h = session(t_env("HOST"), t_env("SINK_PORT"));
    for (int i = 0; i < N; i++) {
        snprintf(tokens[i], sizeof(tokens[i]), "rnd-%u-%d-", seed, i);
        msgs[i] = malloc(3000);
        int o = snprintf((char *)msgs[i], 3000, "X-Token: %s\r\n\r\n", tokens[i]);
        size_t n = (size_t)rand_r(&seed) % 2000;
        for (size_t k = 0; k < n; k++) {
            unsigned r = (unsigned)rand_r(&seed);
            msgs[i][o + (int)k] = r % 6 == 0 ? (unsigned char)('A' + (r >> 8) % 26)
                                             : alpha[(r >> 3) % sizeof(alpha)];
        }
        lens[i] = (size_t)o + n;
        add(h, msgs[i], lens[i], 0, "r@example.org", NULL);
    }
    T_EQ_INT(posta_smtp_run(h), 0);
    int i = 0;
    for (posta_smtp_message *m = posta_smtp_first_message(h); m; m = posta_smtp_next_message(m), i++)
        T_EQ_INT(posta_smtp_message_status(m)->code, 250);
    for (i = 0; i < N && !t_failures; i++) {
        char *f = find_file(t_env("SINK_DIR"), tokens[i]);
        T_ASSERT(f != NULL);
        const char *body = f ? after_sink_headers(f) : NULL;
        size_t wn;
        char *want = sink_form(msgs[i], lens[i], &wn);
        if (body)
            T_EQ_MEM(body, strlen(body), want, wn);
        free(want);
        free(f);
    }
    for (i = 0; i < N; i++)
        free(msgs[i]);
    posta_smtp_free(h);
}

/* --- our own sinks with fault switches ------------------------------------------------- */

struct sink {
    pid_t pid;
    char port[16];
    char dir[512];
};

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)port)};
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static void sink_start(struct sink *s, const char *const *switches)
{
    static int seq;
    snprintf(s->dir, sizeof(s->dir), "%s/sink%d", t_tmpdir(), ++seq);
    mkdir(s->dir, 0777);
    chmod(s->dir, 0777);
    chmod(t_tmpdir(), 0755);   /* the sink runs as nobody */
    int port = free_port();
    snprintf(s->port, sizeof(s->port), "%d", port);
    char dpath[600], addr[64];
    snprintf(dpath, sizeof(dpath), "%s/%%M.", s->dir);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    const char *argv[32];
    int n = 0;
    argv[n++] = "/usr/sbin/smtp-sink";
    argv[n++] = "-u";
    argv[n++] = "nobody";
    argv[n++] = "-d";
    argv[n++] = dpath;
    for (; switches && *switches && n < 28; switches++)
        argv[n++] = *switches;
    argv[n++] = addr;
    argv[n++] = "64";
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid == 0) {
        int null = open("/dev/null", 0);
        dup2(null, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 200 && !port_open(port); i++)
        usleep(10000);
    T_ASSERT(port_open(port));
}

static void sink_stop(struct sink *s)
{
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
}

#define BODY "Subject: fault\r\n\r\nhello\r\n"

/* One message through a sink started with switches. */
static int fault_case(const char *const *switches, int lmtp, int *mcode, int *r0)
{
    struct sink s;
    sink_start(&s, switches);
    posta_smtp *h = session("127.0.0.1", s.port);
    posta_smtp_set_lmtp(h, lmtp);
    posta_smtp_message *m = add(h, BODY, strlen(BODY), 0, "a@example.org", "b@example.org");
    int rc = posta_smtp_run(h);
    *mcode = posta_smtp_message_status(m)->code;
    *r0 = posta_smtp_recipient_status(posta_smtp_first_recipient(m))->code;
    posta_smtp_free(h);
    sink_stop(&s);
    return rc;
}

static void test_rcpt_450(void)
{
    const char *sw[] = {"-r", "RCPT", NULL};
    int mc, r0;
    T_EQ_INT(fault_case(sw, 0, &mc, &r0), 0);
    T_EQ_INT(mc, 451);
    T_EQ_INT(r0, 450);
}

static void test_mail_500(void)
{
    const char *sw[] = {"-f", "MAIL", NULL};
    int mc, r0;
    T_EQ_INT(fault_case(sw, 0, &mc, &r0), 0);
    T_EQ_INT(mc, 500);
    T_EQ_INT(r0, 0);
}

static void test_421_after_data(void)
{
    const char *sw[] = {"-Q", ".", NULL};
    int mc, r0;
    T_EQ_INT(fault_case(sw, 0, &mc, &r0), POSTA_EBYE);
    T_EQ_INT(mc, 421);
    T_EQ_INT(r0, 421);
}

static void test_hangup_at_data(void)
{
    const char *sw[] = {"-q", "DATA", NULL};
    int mc, r0;
    int rc = fault_case(sw, 0, &mc, &r0);
    T_ASSERT(rc == POSTA_ECLOSED || rc == POSTA_EIO);
    T_EQ_INT(mc, 451);
    T_EQ_INT(r0, 451);
}

static void test_421_greeting(void)
{
    const char *sw[] = {"-Q", "CONNECT", NULL};
    int mc, r0;
    T_EQ_INT(fault_case(sw, 0, &mc, &r0), POSTA_EBYE);
    T_EQ_INT(mc, 0);
}

static void test_no_esmtp(void)
{
    const char *sw[] = {"-e", NULL};
    int mc, r0;
    T_EQ_INT(fault_case(sw, 0, &mc, &r0), 0);
    T_EQ_INT(mc, 250);
    T_EQ_INT(r0, 250);
}

static void test_lmtp_sink(void)
{
    const char *sw[] = {"-L", NULL};
    int mc, r0;
    T_EQ_INT(fault_case(sw, 1, &mc, &r0), 0);
    T_EQ_INT(mc, 250);
    T_EQ_INT(r0, 250);
}

static void many_messages(const char *const *sw, int n)
{
    struct sink s;
    sink_start(&s, sw);
    posta_smtp *h = session("127.0.0.1", s.port);
    for (int i = 0; i < n; i++)
        add(h, BODY, strlen(BODY), 1, "a@example.org", NULL);
    T_EQ_INT(posta_smtp_run(h), 0);
    for (posta_smtp_message *m = posta_smtp_first_message(h); m; m = posta_smtp_next_message(m))
        T_EQ_INT(posta_smtp_message_status(m)->code, 250);
    posta_smtp_free(h);
    for (int i = 0; i < 100 && count_files(s.dir) < n; i++)
        usleep(20000);
    T_EQ_INT(count_files(s.dir), n);
    sink_stop(&s);
}

static void test_many_pipelined(void)
{
    many_messages(NULL, 200);
}

static void test_many_without_pipelining(void)
{
    const char *sw[] = {"-p", NULL};
    many_messages(sw, 50);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"headers_and_body", test_headers_and_body},
        {"random_messages", test_random_messages},
        {"rcpt_450", test_rcpt_450},
        {"mail_500", test_mail_500},
        {"421_after_data", test_421_after_data},
        {"hangup_at_data", test_hangup_at_data},
        {"421_greeting", test_421_greeting},
        {"no_esmtp", test_no_esmtp},
        {"lmtp_sink", test_lmtp_sink},
        {"many_pipelined", test_many_pipelined},
        {"many_without_pipelining", test_many_without_pipelining},
        {NULL, NULL},
    };
    srandom((unsigned)getpid());
    return t_main(argc, argv, cases);
}
