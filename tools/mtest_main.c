/* The frame of the mail test tools: Cyrus's options, the login phase
 * repeated -n times, then the interactive phase, and the exit status. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mtest.h"

enum { OPT_INSECURE = 256, OPT_CLEARTEXT, OPT_CAFILE, OPT_CAPATH, OPT_NO_EDIT, OPT_TIMEOUT, OPT_HELP };

static void usage(const struct mt_proto *p, FILE *f)
{
    int imap = strcmp(p->name, "imap") == 0;
    fprintf(f, "Usage: %s [options] hostname\n", p->tool);
    fprintf(f, "  -p port  : port to use (default=standard port for protocol)\n");
    if (imap)
        fprintf(f, "  -z       : timing test\n");
    fprintf(f, "  -k #     : minimum protection layer required\n"
               "  -l #     : max protection layer (0=none; 1=integrity; etc)\n"
               "  -u user  : authorization name to use\n"
               "  -a user  : authentication name to use\n"
               "  -w pass  : password to use (if not supplied, we will prompt)\n"
               "  -v       : verbose\n"
               "  -m mech  : SASL mechanism to use\n");
    if (p->mech_help)
        fprintf(f, "             %s\n", p->mech_help);
    fprintf(f, "  -f file  : pipe file into connection after authentication\n"
               "  -r realm : realm\n");
    if (p->sport)
        fprintf(f, "  -s       : Enable %s over SSL (%ss)\n", p->name, p->name);
    fprintf(f, "  -t file  : TLS client certificate and key, both in file\n"
               "             (specify \"\" for none; STARTTLS is used either way)\n");
    if (imap)
        fprintf(f, "  -q       : Enable %s COMPRESSion (after authentication)\n", p->name);
    fprintf(f, "  -c       : enable challenge prompt callbacks (accepted, no effect)\n"
               "  -n       : number of auth attempts (default=1)\n"
               "  -I file  : output my PID to (file) (useful with -X)\n"
               "  -x file  : open the named socket for the interactive portion\n"
               "  -X file  : same as -x, and run in the background after login\n"
               "  -i       : no initial response, even when the server allows one\n"
               "posta options:\n"
               "  --cafile FILE  : trust the CA certificates in FILE instead of the system store\n"
               "  --capath DIR   : trust the CA certificates in the hashed directory DIR\n"
               "  --insecure     : do not verify the server certificate (said in the output)\n"
               "  --cleartext    : no TLS; passwords may go in cleartext (Cyrus without -t)\n"
               "  --no-edit      : no line editing on a terminal\n"
               "  --timeout SECS : connect and read timeout (default 60)\n"
               "Exit status: 0 authenticated; 1 connection, TLS or protocol failure;\n"
               "2 authentication failed; 64 usage error.  man posta has the details.\n");
}

static int bad_usage(const struct mt_proto *p, const char *msg)
{
    if (msg)
        fprintf(stderr, "posta %s: %s\n", p->tool, msg);
    usage(p, stderr);
    return MT_EXIT_USAGE;
}

static int number(const char *s, unsigned *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v > 65535)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* One option; returns 0, or an exit status to stop with. */
static int take_option(const struct mt_proto *p, struct mt_opts *o, int c)
{
    unsigned v;
    switch (c) {
    case 'p': o->port = optarg; break;
    case 'z': o->timing = 1; break;
    case 'k': case 'l':
        if (number(optarg, &v) < 0)
            return bad_usage(p, "-k and -l take a number");
        *(c == 'k' ? &o->min_ssf : &o->max_ssf) = v;
        o->ssf_given = 1;
        break;
    case 'u': o->authzid = optarg; break;
    case 'a': o->authcid = optarg; break;
    case 'w': o->password = optarg; break;
    case 'v': o->verbose = 1; break;
    case 'm': o->mech = optarg; break;
    case 'f': o->file = optarg; break;
    case 'r': o->realm = optarg; break;
    case 's': o->ssl = 1; break;
    case 't': o->tls_given = 1; o->keyfile = optarg; break;
    case 'q': o->compress = 1; break;
    case 'c': o->challenge = 1; break;
    case 'n':
        if (number(optarg, &v) < 0 || v == 0)
            return bad_usage(p, "number of auth attempts must be > 0");
        o->attempts = (int)v;
        break;
    case 'I': o->pidfile = optarg; break;
    case 'x': case 'X':
        if (o->socket)
            return bad_usage(p, "cannot specify both -X and -x");
        o->socket = optarg;
        o->daemonize = c == 'X';
        break;
    case 'i': o->no_ir = 1; break;
    case OPT_INSECURE: o->insecure = 1; break;
    case OPT_CLEARTEXT: o->cleartext = 1; break;
    case OPT_CAFILE: o->cafile = optarg; break;
    case OPT_CAPATH: o->capath = optarg; break;
    case OPT_NO_EDIT: o->no_edit = 1; break;
    case OPT_TIMEOUT:
        if (number(optarg, &v) < 0 || v == 0)
            return bad_usage(p, "--timeout takes a number of seconds");
        o->timeout_ms = (int)v * 1000;
        break;
    case 'h': case OPT_HELP:
        usage(p, stdout);
        return MT_EXIT_OK + 1000;
    default:
        return bad_usage(p, NULL);
    }
    return 0;
}

static int parse_options(const struct mt_proto *p, struct mt_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"insecure", no_argument, NULL, OPT_INSECURE}, {"cleartext", no_argument, NULL, OPT_CLEARTEXT},
        {"cafile", required_argument, NULL, OPT_CAFILE}, {"capath", required_argument, NULL, OPT_CAPATH},
        {"no-edit", no_argument, NULL, OPT_NO_EDIT},     {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, OPT_HELP},           {NULL, 0, NULL, 0},
    };
    char shorts[64] = "p:k:l:u:a:w:vm:f:r:t:cn:I:x:X:hi";
    if (strcmp(p->name, "imap") == 0)
        strcat(shorts, "zq");
    if (p->sport)
        strcat(shorts, "s");
    o->attempts = 1;
    o->timeout_ms = 60000;
    optind = 1;
    opterr = 1;
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        int rc = take_option(p, o, c);
        if (rc)
            return rc;
    }
    if (optind < argc - 1)
        return bad_usage(p, "only one hostname, please");
    o->host = optind < argc ? argv[optind] : NULL;
    return 0;
}

static int implicit_tls_port(const struct mt_proto *p, const char *port)
{
    static const char *const names[] = {"imaps", "pop3s", "smtps", "submissions"};
    if (strcmp(port, p->sport) == 0)
        return 1;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(port, names[i]) == 0)
            return 1;
    return 0;
}

/* Combinations that make no sense, and the defaults. */
static int check_options(const struct mt_proto *p, struct mt_opts *o)
{
    if (o->socket && o->file)
        return bad_usage(p, "cannot pipe a file when using unix domain socket output");
    if (o->cleartext && (o->ssl || o->tls_given))
        return bad_usage(p, "--cleartext cannot go with -s or -t");
    if (!o->ssf_given)
        o->max_ssf = 256;
    if (!o->host) {
        fprintf(stderr, "WARNING: no hostname supplied, assuming localhost\n\n");
        o->host = "localhost";
    }
    /* The implicit-TLS ports mean TLS from the first byte (DESIGN.md). */
    if (o->port && p->sport && implicit_tls_port(p, o->port))
        o->ssl = 1;
    if (!o->port)
        o->port = o->ssl ? p->sport : p->port;
    if (o->file && access(o->file, R_OK) < 0) {
        fprintf(stderr, "Unable to open file: %s: ", o->file);
        perror("");
        return MT_EXIT_FAIL;
    }
    return 0;
}

static int write_pidfile(const struct mt_opts *o)
{
    FILE *f = fopen(o->pidfile, "w");
    if (!f) {
        fprintf(stderr, "could not open %s for writing\n", o->pidfile);
        perror("error");
        return -1;
    }
    fprintf(f, "%d", (int)getpid());
    fclose(f);
    return 0;
}

/* Upgrade with STARTTLS, which posta requires unless --cleartext. */
static int secure(struct mt *m)
{
    if (m->o->ssl || m->o->cleartext)
        return 0;
    if (!m->starttls_ok) {
        mt_err(m, "the server does not offer STARTTLS, and TLS is required (--cleartext goes on without)");
        return MT_FATAL;
    }
    if (m->p->starttls(m) < 0 || mt_tls(m) < 0)
        return MT_FATAL;
    if (m->o->verbose)
        printf("Asking for capabilities again since they might have changed\n");
    return m->p->capa(m);
}

/* After a security layer: the mechanisms must not have changed. */
static int recheck(struct mt *m)
{
    char before[sizeof(m->mechs)];
    snprintf(before, sizeof(before), "%s", m->mechs);
    if (m->o->verbose)
        printf("Asking for capabilities again since they might have changed\n");
    if (m->p->capa(m) < 0)
        return MT_FATAL;
    if (m->mechs[0] && strcasecmp(before, m->mechs) != 0)
        printf("WARNING: possible MITM attack: list of available SASL mechanisms changed\n");
    return 0;
}

/* One connection up to "Security strength factor". */
static int attempt(struct mt *m)
{
    m->attempted = m->authenticated = 0;
    m->why[0] = '\0';
    if (mt_connect(m) < 0 || m->p->greet(m) < 0 || secure(m) < 0)
        return MT_FATAL;
    int rc = m->p->auth(m);
    if (rc == MT_FATAL)
        return rc;
    m->authenticated = rc == 0;
    if (rc == 0)
        printf("Authenticated.\n");
    else
        printf("Authentication failed. %s\n", m->why[0] ? m->why : posta_strerror(rc));
    printf("Security strength factor: %u\n", m->sasl ? posta_sasl_ssf(m->sasl) : m->ext_ssf);
    if (rc == 0 && m->sasl && posta_sasl_layer_ssf(m->sasl) > 0)
        return recheck(m);
    return 0;
}

static void close_session(struct mt *m)
{
    posta_sasl_free(m->sasl);
    m->sasl = NULL;
    posta_stream_free(m->s);
    m->s = NULL;
}

/* Between -n attempts: log out and wait for the answer, as Cyrus does. */
static int logout_wait(struct mt *m)
{
    const char *line;
    size_t len;
    int rc = mt_send(m, m->p->logout, NULL);
    if (rc == 0)
        rc = mt_wait_for(m, m->p->logout_reply, NULL, 1, &line, &len);
    close_session(m);
    printf("Connection closed.\n");
    return rc;
}

/* -X: go on in the background once logged in. */
static void background(int status)
{
    mt_flush();
    pid_t pid = fork();
    if (pid != 0)
        _exit(pid < 0 ? MT_EXIT_FAIL : status);
    setsid();
    if (fork() != 0)
        _exit(0);
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

/* Every attempt; returns the status so far or MT_FATAL. */
static int login_phase(struct mt *m)
{
    int failed = 0;
    const struct mt_opts *o = m->o;
    for (int i = 0; i < o->attempts; i++) {
        if (i > 0) {
            if (logout_wait(m) < 0)
                return MT_FATAL;
            printf("\n");
        }
        if (attempt(m) < 0)
            return MT_FATAL;
        failed |= !m->authenticated && (m->attempted || o->mech || o->authcid || o->authzid || o->password);
    }
    if (m->p->after && m->p->after(m) < 0)
        return MT_FATAL;
    return failed ? MT_EXIT_AUTH : MT_EXIT_OK;
}

static int run(const struct mt_proto *p, struct mt_opts *o)
{
    static struct mt m;  /* large buffers: not on the stack */
    memset(&m, 0, sizeof(m));
    m.p = p;
    m.o = o;
    if (o->pidfile && !o->daemonize && write_pidfile(o) < 0)
        return MT_EXIT_FAIL;
    int status = login_phase(&m);
    if (status == MT_FATAL) {
        close_session(&m);
        return MT_EXIT_FAIL;
    }
    if (o->daemonize) {
        background(status);
        if (o->pidfile)
            write_pidfile(o);
    }
    if (o->timing) {
        if (mt_imap_timing(&m) < 0 || logout_wait(&m) < 0)
            status = MT_EXIT_FAIL;
    } else {
        mt_interact(&m);
    }
    close_session(&m);
    mt_flush();
    return status;
}

int mt_main(const struct mt_proto *p, int argc, char **argv)
{
    struct mt_opts *o = calloc(1, sizeof(*o));
    if (!o)
        return MT_EXIT_FAIL;
    int rc = parse_options(p, o, argc, argv);
    if (rc == 0)
        rc = check_options(p, o);
    if (rc == 0)
        rc = run(p, o);
    else if (rc == MT_EXIT_OK + 1000)
        rc = MT_EXIT_OK;
    memset(o->typed_password, 0, sizeof(o->typed_password));
    free(o);
    return rc;
}
