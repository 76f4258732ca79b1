/* posta send: a sendmail-compatible submission command in the spirit of
 * msmtp: one message from standard input to an SMTP, submission or LMTP
 * server, with accounts, sysexits(3) exit codes and a report of every
 * recipient that failed. */
#include <posta/posta.h>
#include <posta/smtp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "tool.h"

#define HEADER_MAX (256 * 1024)       /* header section read for -t */
#define PROGRESS_MIN (512 * 1024)     /* messages this large get a progress bar */

static const char usage_text[] =
    "usage: posta send [-t] [-f FROM] [-a ACCOUNT] [--server HOST[:PORT]]\n"
    "                  [--tls | --starttls | --no-tls] [--auth MECH] [--user U]\n"
    "                  [--password-file F] [--lmtp] [--cafile F] [--insecure]\n"
    "                  [-v] [RECIPIENT...] < message\n"
    "\n"
    "Send the message on standard input, as sendmail does, to a submission server.\n"
    "\n"
    "  -t                  also send to the To, Cc and Bcc addresses of the message\n"
    "                      (Bcc is never transmitted)\n"
    "  -f, -r FROM         envelope sender ('<>' for none); default: the account's\n"
    "                      from, else the message's From address\n"
    "  -F NAME             full name for a From header made from the sender\n"
    "  -a, --account NAME  use account NAME of the configuration file\n"
    "  --server HOST[:PORT]  the server (port 587; 465 means TLS; 24 with --lmtp)\n"
    "  --tls               TLS from the first byte\n"
    "  --starttls          STARTTLS, and refuse a server without it (the default)\n"
    "  --no-tls            no TLS at all (passwords are still never sent in clear)\n"
    "  --auth MECH         SASL mechanism(s) to use, e.g. SCRAM-SHA-256 (default: best)\n"
    "  --user U            authenticate as U\n"
    "  --password-file F   the password is the first line of F (mode 600)\n"
    "  --lmtp              speak LMTP (RFC 2033): one delivery status per recipient\n"
    "  --cafile F          trust the CA certificates in PEM file F\n"
    "  --insecure          do not verify the server's certificate (said on stderr)\n"
    "  --hostname NAME     the name to send with EHLO\n"
    "  --timeout S         seconds for the connection and each reply\n"
    "  -N NOTIFY           DSN: never, or success,failure,delay\n"
    "  -R full|hdrs        DSN: what a bounce returns;  -V ENVID  DSN envelope id\n"
    "  -v                  show the SMTP exchange on stderr\n"
    "  -i, -oi, -odi, -oem, -om, -bm ...   accepted for sendmail compatibility\n"
    "\n"
    "Accounts come from $POSTA_CONFIG or ~/.config/posta/accounts (see man posta).\n"
    "Exit status (sysexits): 0 sent; 64 usage; 65 bad message; 66 unreadable file;\n"
    "67 a recipient refused; 68 unknown host; 69 server unavailable or refused;\n"
    "75 temporary failure, try again; 76 protocol error; 77 authentication failed or\n"
    "unsafe file permissions; 78 configuration error.\n";

/* --- settings: command line over account over defaults ----------------------------- */

enum { UNSET = -1 };

struct settings {
    char *server, *from, *user, *password, *password_file, *auth, *cafile, *hostname;
    int tls, lmtp, insecure, timeout;
};

struct account {
    struct account *next;
    char *name;
    struct settings set;
};

struct config {
    char *path;
    struct settings defaults;
    struct account *accounts;
    int has_password;
};

struct opts {
    struct settings set;
    const char *account, *fullname, *notify, *ret, *envid;
    int read_headers, verbose;
    char **rcpts;
    int nrcpt;
};

static void settings_init(struct settings *s)
{
    memset(s, 0, sizeof(*s));
    s->tls = s->lmtp = s->insecure = s->timeout = UNSET;
}

static void settings_free(struct settings *s)
{
    if (s->password)
        memset(s->password, 0, strlen(s->password));
    char **strs[] = {&s->server, &s->from, &s->user, &s->password,
                     &s->password_file, &s->auth, &s->cafile, &s->hostname};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
}

/* Fill what top lacks from below. */
static int settings_merge(struct settings *top, const struct settings *below)
{
    char **dst[] = {&top->server, &top->from, &top->user, &top->password,
                    &top->password_file, &top->auth, &top->cafile, &top->hostname};
    char *const src[] = {below->server, below->from, below->user, below->password,
                         below->password_file, below->auth, below->cafile, below->hostname};
    for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
        if (!*dst[i] && src[i] && !(*dst[i] = strdup(src[i])))
            return -1;
    int *idst[] = {&top->tls, &top->lmtp, &top->insecure, &top->timeout};
    const int isrc[] = {below->tls, below->lmtp, below->insecure, below->timeout};
    for (size_t i = 0; i < sizeof(isrc) / sizeof(isrc[0]); i++)
        if (*idst[i] == UNSET)
            *idst[i] = isrc[i];
    return 0;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    fputs("posta send: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* "~/x" under $HOME; a copy either way. */
static char *expand_path(const char *p)
{
    const char *home = getenv("HOME");
    if (p[0] != '~' || p[1] != '/' || !home)
        return strdup(p);
    size_t n = strlen(home) + strlen(p);
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%s", home, p + 1);
    return out;
}

/* --- values ------------------------------------------------------------------------ */

static int parse_bool(const char *v)
{
    if (!strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
        return 1;
    if (!strcasecmp(v, "off") || !strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
        return 0;
    return UNSET;
}

static int parse_tls(const char *v)
{
    if (!strcasecmp(v, "starttls") || !strcasecmp(v, "required"))
        return POSTA_SMTP_TLS_REQUIRED;
    if (!strcasecmp(v, "tls") || !strcasecmp(v, "implicit") || !strcasecmp(v, "smtps"))
        return POSTA_SMTP_TLS_IMPLICIT;
    if (!strcasecmp(v, "none") || !strcasecmp(v, "off") || !strcasecmp(v, "no"))
        return POSTA_SMTP_TLS_DISABLED;
    return UNSET;
}

static int parse_seconds(const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    return *v && !*end && n > 0 && n <= 86400 ? (int)n : UNSET;
}

/* --- the configuration file ----------------------------------------------------------- */

static const char *const string_keys[] = {"server", "from", "user", "password",
                                          "password-file", "auth", "cafile", "hostname"};

static char **string_slot(struct settings *s, size_t i)
{
    char **slots[] = {&s->server, &s->from, &s->user, &s->password,
                      &s->password_file, &s->auth, &s->cafile, &s->hostname};
    return slots[i];
}

/* Set key to value in s; -1 for an unknown key or a bad value. */
static int apply_key(struct config *c, struct settings *s, const char *key, const char *value)
{
    for (size_t i = 0; i < sizeof(string_keys) / sizeof(string_keys[0]); i++) {
        if (strcmp(key, string_keys[i]) != 0)
            continue;
        char **slot = string_slot(s, i);
        free(*slot);
        int path = !strcmp(key, "password-file") || !strcmp(key, "cafile");
        *slot = path ? expand_path(value) : strdup(value);
        c->has_password |= !strcmp(key, "password");
        return *slot ? 0 : -1;
    }
    int v = UNSET;
    int *slot = NULL;
    if (!strcmp(key, "tls"))
        v = parse_tls(value), slot = &s->tls;
    else if (!strcmp(key, "lmtp"))
        v = parse_bool(value), slot = &s->lmtp;
    else if (!strcmp(key, "insecure"))
        v = parse_bool(value), slot = &s->insecure;
    else if (!strcmp(key, "timeout"))
        v = parse_seconds(value), slot = &s->timeout;
    if (!slot || v == UNSET)
        return -1;
    *slot = v;
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static struct settings *new_account(struct config *c, const char *name)
{
    struct account *a = calloc(1, sizeof(*a)), **pp = &c->accounts;
    if (!a || !(a->name = strdup(name))) {
        free(a);
        return NULL;
    }
    settings_init(&a->set);
    while (*pp)
        pp = &(*pp)->next;
    *pp = a;
    return &a->set;
}

/* One line: "defaults", "account NAME" or "key value".  Returns the section
 * now in force, or NULL with a message. */
static struct settings *config_line(struct config *c, struct settings *cur, char *line, int lineno)
{
    char *key = trim(line), *value = key;
    while (*value && *value != ' ' && *value != '\t')
        value++;
    if (*value)
        *value++ = '\0';
    value = trim(value);
    if (!strcmp(key, "defaults") && !*value)
        return &c->defaults;
    if (!strcmp(key, "account")) {
        struct settings *s = *value ? new_account(c, value) : NULL;
        if (!s)
            fail("%s:%d: 'account' needs a name", c->path, lineno);
        return s;
    }
    if (!*value || apply_key(c, cur, key, value) < 0) {
        fail("%s:%d: bad setting '%s %s'", c->path, lineno, key, value);
        return NULL;
    }
    return cur;
}

static int config_read(struct config *c, FILE *f)
{
    char line[4096];
    struct settings *cur = &c->defaults;
    for (int lineno = 1; fgets(line, sizeof(line), f); lineno++) {
        char *t = trim(line);
        if (!*t || *t == '#')
            continue;
        if (!(cur = config_line(c, cur, t, lineno)))
            return EX_CONFIG;
    }
    return 0;
}

/* A file holding a password must be the user's alone. */
static int check_private(const char *path, int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
        return 0;
    fail("%s holds a password but other users may read it; run: chmod 600 %s", path, path);
    return EX_NOPERM;
}

static char *config_path(void)
{
    const char *env = getenv("POSTA_CONFIG");
    if (env && *env)
        return strdup(env);
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg) {
        size_t n = strlen(xdg) + 32;
        char *p = malloc(n);
        if (p)
            snprintf(p, n, "%s/posta/accounts", xdg);
        return p;
    }
    return expand_path("~/.config/posta/accounts");
}

/* Read the configuration if there is one.  A missing file is fine unless
 * $POSTA_CONFIG names it. */
static int config_load(struct config *c)
{
    settings_init(&c->defaults);
    if (!(c->path = config_path()))
        return EX_OSERR;
    FILE *f = fopen(c->path, "r");
    if (!f) {
        if (errno == ENOENT && !getenv("POSTA_CONFIG"))
            return 0;
        fail("cannot read %s: %s", c->path, strerror(errno));
        return EX_NOINPUT;
    }
    int rc = config_read(c, f);
    if (rc == 0 && c->has_password)
        rc = check_private(c->path, fileno(f));
    fclose(f);
    return rc;
}

static void config_free(struct config *c)
{
    settings_free(&c->defaults);
    for (struct account *a = c->accounts, *next; a; a = next) {
        next = a->next;
        settings_free(&a->set);
        free(a->name);
        free(a);
    }
    free(c->path);
}

/* -a NAME; else the account whose from is the envelope sender; else the one
 * named "default"; else the first. */
static int config_pick(const struct config *c, const struct opts *o, const struct settings **s_r)
{
    *s_r = NULL;
    for (const struct account *a = c->accounts; a; a = a->next)
        if (o->account ? !strcmp(a->name, o->account)
                       : (o->set.from && a->set.from && !strcasecmp(a->set.from, o->set.from)))
            *s_r = &a->set;
    if (o->account && !*s_r) {
        fail("no account '%s' in %s", o->account, c->path ? c->path : "(no configuration)");
        return EX_USAGE;
    }
    for (const struct account *a = c->accounts; !*s_r && a; a = a->next)
        if (!strcmp(a->name, "default"))
            *s_r = &a->set;
    if (!*s_r && c->accounts)
        *s_r = &c->accounts->set;
    return 0;
}

/* --- the command line ------------------------------------------------------------------ */

static const struct {
    const char *name;
    size_t slot;   /* index into string_keys; ~0 for others */
} long_values[] = {
    {"server", 0}, {"from", 1}, {"user", 2}, {"password-file", 4}, {"auth", 5},
    {"cafile", 6}, {"hostname", 7},
};

/* The value of an option: "-fX", "-f X", "--opt=X" or "--opt X". */
static const char *option_value(char **argv, int argc, int *i, const char *inline_value)
{
    if (inline_value && *inline_value)
        return inline_value;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static int set_string(char **slot, const char *value)
{
    free(*slot);
    *slot = strdup(value);
    return *slot ? 0 : -1;
}

/* Long options; 1 when name is not one. */
static int long_option(struct opts *o, const char *name, const char *value)
{
    for (size_t i = 0; i < sizeof(long_values) / sizeof(long_values[0]); i++)
        if (!strcmp(name, long_values[i].name))
            return value ? set_string(string_slot(&o->set, long_values[i].slot), value) : -1;
    if (!strcmp(name, "account"))
        return value ? (o->account = value, 0) : -1;
    if (!strcmp(name, "timeout"))
        return value && (o->set.timeout = parse_seconds(value)) != UNSET ? 0 : -1;
    return 1;
}

static int long_flag(struct opts *o, const char *name)
{
    if (!strcmp(name, "tls"))
        o->set.tls = POSTA_SMTP_TLS_IMPLICIT;
    else if (!strcmp(name, "starttls"))
        o->set.tls = POSTA_SMTP_TLS_REQUIRED;
    else if (!strcmp(name, "no-tls"))
        o->set.tls = POSTA_SMTP_TLS_DISABLED;
    else if (!strcmp(name, "lmtp"))
        o->set.lmtp = 1;
    else if (!strcmp(name, "insecure"))
        o->set.insecure = 1;
    else if (!strcmp(name, "verbose"))
        o->verbose = 1;
    else if (!strcmp(name, "read-recipients"))
        o->read_headers = 1;
    else
        return 1;
    return 0;
}

static const char *const long_with_value[] = {"server", "from", "user", "password-file", "auth",
                                              "cafile", "hostname", "account", "timeout"};

static int takes_value(const char *name)
{
    for (size_t i = 0; i < sizeof(long_with_value) / sizeof(long_with_value[0]); i++)
        if (!strcmp(name, long_with_value[i]))
            return 1;
    return 0;
}

static int parse_long(struct opts *o, int argc, char **argv, int *i)
{
    char name[64];
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    if (n >= sizeof(name))
        return -1;
    memcpy(name, arg, n);
    name[n] = '\0';
    if (!takes_value(name))
        return eq ? -1 : long_flag(o, name) ? -1 : 0;
    const char *v = option_value(argv, argc, i, eq ? eq + 1 : NULL);
    return long_option(o, name, v) == 0 ? 0 : -1;
}

/* Single-letter options; sendmail's -o and -b families are accepted and
 * mean nothing here (-i is always in force: a lone dot never ends input). */
static int parse_short(struct opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    char c = a[1];
    if (c == 'o' || c == 'm' || c == 'U' || (c == 'b' && a[2] == 'm' && !a[3]))
        return 0;
    if (strspn(a + 1, "tiv") == strlen(a + 1)) {   /* -t, -i, -v, or together: -ti */
        o->read_headers |= strchr(a, 't') != NULL;
        o->verbose |= strchr(a, 'v') != NULL;
        return 0;
    }
    if (!strchr("frFaNRVB", c) || !c)
        return -1;
    const char *v = option_value(argv, argc, i, a + 2);
    if (!v)
        return -1;
    switch (c) {
    case 'f':
    case 'r': return set_string(&o->set.from, v);
    case 'F': o->fullname = v; return 0;
    case 'a': o->account = v; return 0;
    case 'N': o->notify = v; return 0;
    case 'R': o->ret = v; return 0;
    case 'V': o->envid = v; return 0;
    default: return 0;   /* -B 8BITMIME: posta declares the body type itself */
    }
}

/* Options may come after recipients too (as GNU getopt allows); "--" ends
 * them.  Recipients are gathered at the front of argv. */
static int parse_args(struct opts *o, int argc, char **argv)
{
    settings_init(&o->set);
    int nrcpt = 0, i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (argv[i][0] != '-' || !argv[i][1]) {
            argv[1 + nrcpt++] = argv[i];
            continue;
        }
        int rc = argv[i][1] == '-' ? parse_long(o, argc, argv, &i) : parse_short(o, argc, argv, &i);
        if (rc < 0) {
            fail("bad option or missing value: %s", argv[i]);
            return EX_USAGE;
        }
    }
    while (++i < argc)
        argv[1 + nrcpt++] = argv[i];
    o->rcpts = argv + 1;
    o->nrcpt = nrcpt;
    return 0;
}

/* --- passwords -------------------------------------------------------------------------- */

static char *read_password_file(const char *path, int *exit_r)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fail("cannot read password file %s: %s", path, strerror(errno));
        *exit_r = EX_NOINPUT;
        return NULL;
    }
    if ((*exit_r = check_private(path, fd)) != 0) {
        close(fd);
        return NULL;
    }
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';   /* the first line, spaces and all */
    char *pw = strdup(buf);
    memset(buf, 0, sizeof(buf));
    *exit_r = pw ? 0 : EX_OSERR;
    return pw;
}

/* Ask on the terminal with echo off; standard input is the message. */
static char *prompt_password(const char *user, const char *server)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty)
        return NULL;
    struct termios old = {0}, quiet;
    int fd = fileno(tty), have = tcgetattr(fd, &old) == 0;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    if (have)
        tcsetattr(fd, TCSAFLUSH, &quiet);
    fprintf(tty, "Password for %s at %s: ", user, server);
    fflush(tty);
    char buf[1024];
    char *pw = fgets(buf, sizeof(buf), tty) ? strdup(buf) : NULL;
    if (have)
        tcsetattr(fd, TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    if (pw)
        pw[strcspn(pw, "\r\n")] = '\0';
    memset(buf, 0, sizeof(buf));
    return pw;
}

/* The password for s->user: the account's, the file's, or the terminal's. */
static int resolve_password(struct settings *s)
{
    if (!s->user || s->password)
        return 0;
    if (s->password_file) {
        int rc;
        s->password = read_password_file(s->password_file, &rc);
        return rc;
    }
    if (!(s->password = prompt_password(s->user, s->server))) {
        fail("no password for %s: give --password-file, or run where a terminal can ask", s->user);
        return EX_USAGE;
    }
    return 0;
}

/* --- the message ------------------------------------------------------------------------ */

struct message {
    int fd;
    off_t start;
    unsigned long long size;
    char *headers;       /* the header section, for -t and a default sender */
};

static int copy_to(int out, int in)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n == 0)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno != EINTR)
                return -1;
            done += w > 0 ? w : 0;
        }
    }
}

/* Standard input as a file posta can rewind: itself when it is one, else a
 * copy in an unlinked temporary file (never the whole message in memory). */
static int spool_stdin(struct message *msg)
{
    struct stat st;
    off_t pos = lseek(0, 0, SEEK_CUR);
    if (fstat(0, &st) == 0 && S_ISREG(st.st_mode) && pos >= 0) {
        msg->fd = 0;
        msg->start = pos;
        msg->size = (unsigned long long)(st.st_size - pos);
        return 0;
    }
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/posta-send.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0 || unlink(path) < 0 || copy_to(fd, 0) < 0 || fstat(fd, &st) < 0 ||
        lseek(fd, 0, SEEK_SET) < 0) {
        fail("cannot read the message: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return EX_IOERR;
    }
    msg->fd = fd;
    msg->size = (unsigned long long)st.st_size;
    return 0;
}

/* The header section (up to the first empty line), unfolded later by the
 * readers; NUL-terminated. */
static int read_headers(struct message *msg)
{
    char *buf = malloc(HEADER_MAX + 1);
    if (!buf)
        return EX_OSERR;
    ssize_t n = pread(msg->fd, buf, HEADER_MAX, msg->start);
    if (n < 0) {
        free(buf);
        return EX_IOERR;
    }
    buf[n] = '\0';
    for (char *p = buf; (p = strchr(p, '\n')); p++)
        if (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n')) {
            p[1] = '\0';
            break;
        }
    if (buf[0] == '\n' || (buf[0] == '\r' && buf[1] == '\n'))
        buf[0] = '\0';
    msg->headers = buf;
    return 0;
}

/* --- addresses of To, Cc, Bcc (RFC 5322 3.4) ----------------------------------------------- */

struct addrs {
    char **v;
    int n, cap;
};

static int addrs_push(struct addrs *a, const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0)
        return 0;
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 8;
        char **v = realloc(a->v, (size_t)cap * sizeof(*v));
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    char *copy = strndup(s, n);
    if (!copy)
        return -1;
    a->v[a->n++] = copy;
    return 0;
}

static void addrs_free(struct addrs *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

/* Skip a comment or quoted string starting at p; returns the end (after
 * the closing character). */
static const char *skip_delimited(const char *p, char open, char close)
{
    int depth = 0;
    for (; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == open && (open != close || depth == 0))
            depth++;
        else if (*p == close && --depth == 0)
            return p + 1;
    }
    return p;
}

/* One address-list parser state: the bare addr-spec so far (spaces and
 * comments dropped, quoted strings kept) and an angle-addr if one came. */
struct alist {
    char plain[1024];
    size_t plen;
    const char *angle;
    size_t alen;
};

static void plain_add(struct alist *s, const char *p, size_t n)
{
    if (s->plen + n < sizeof(s->plain)) {
        memcpy(s->plain + s->plen, p, n);
        s->plen += n;
    }
}

static int alist_flush(struct alist *s, struct addrs *out)
{
    int rc = 0;
    if (s->angle) {
        /* An obsolete source route "@a,@b:" before the mailbox goes. */
        const char *colon = s->alen && s->angle[0] == '@' ? memchr(s->angle, ':', s->alen) : NULL;
        const char *a = colon ? colon + 1 : s->angle;
        rc = addrs_push(out, a, s->alen - (size_t)(a - s->angle));
    } else {
        rc = addrs_push(out, s->plain, s->plen);
    }
    s->plen = 0;
    s->angle = NULL;
    return rc;
}

static int parse_address_list(const char *p, struct addrs *out)
{
    struct alist s = {.plen = 0};
    while (*p) {
        const char *q = p;
        if (*p == '(') {
            p = skip_delimited(p, '(', ')');
        } else if (*p == '"') {
            p = skip_delimited(p, '"', '"');
            plain_add(&s, q, (size_t)(p - q));
        } else if (*p == '<') {
            const char *end = strchr(p, '>');
            s.angle = p + 1;
            s.alen = end ? (size_t)(end - p - 1) : strlen(p + 1);
            p = end ? end + 1 : p + strlen(p);
        } else if (*p == ':') {
            s.plen = 0;   /* a group's name */
            p++;
        } else if (*p == ',' || *p == ';') {
            if (alist_flush(&s, out) < 0)
                return -1;
            p++;
        } else {
            if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                plain_add(&s, p, 1);
            p++;
        }
    }
    return alist_flush(&s, out);
}

/* Each field named name (case-insensitive) of the header section, unfolded,
 * handed to fn. */
static int for_each_field(const char *headers, const char *name,
                          int (*fn)(const char *value, void *arg), void *arg)
{
    size_t nlen = strlen(name);
    for (const char *p = headers; *p;) {
        const char *end = p;
        do
            end = strchr(end, '\n') ? strchr(end, '\n') + 1 : end + strlen(end);
        while (*end == ' ' || *end == '\t');
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            char *value = strndup(p + nlen + 1, (size_t)(end - p - nlen - 1));
            int rc = value ? fn(value, arg) : -1;
            free(value);
            if (rc < 0)
                return rc;
        }
        p = end;
    }
    return 0;
}

static int add_list(const char *value, void *arg)
{
    return parse_address_list(value, arg);
}

/* --- running ------------------------------------------------------------------------------ */

struct run {
    const struct opts *o;
    unsigned long long size;
    int progress;           /* draw a progress bar */
    int drawn;
    long long last_ms;
};

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void draw_progress(struct run *r, unsigned long long sent, int final)
{
    long long t = now_ms();
    if (!final && r->drawn && t - r->last_ms < 100)
        return;
    unsigned pct = r->size ? (unsigned)(sent >= r->size ? 100 : sent * 100 / r->size) : 100;
    if (final)
        pct = 100;
    char bar[31];
    for (unsigned i = 0; i < 30; i++)
        bar[i] = i < pct * 30 / 100 ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\rposta send: [%s] %3u%%  %.1f of %.1f MiB", bar, pct,
            (double)(final ? r->size : sent) / 1048576.0, (double)r->size / 1048576.0);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
    r->drawn = 1;
    r->last_ms = t;
}

static void on_event(posta_smtp *h, const posta_smtp_event *ev, void *user)
{
    struct run *r = user;
    (void)h;
    if (!r->progress)
        return;
    if (ev->type == POSTA_SMTP_EV_MESSAGEDATA)
        draw_progress(r, (unsigned long long)ev->total, 0);
    else if (ev->type == POSTA_SMTP_EV_MESSAGESENT && r->drawn)
        draw_progress(r, r->size, 1);
}

/* -v: the exchange, one "C: " or "S: " line each. */
static void on_monitor(posta_smtp *h, const char *data, size_t len, int dir, void *user)
{
    struct run *r = user;
    (void)h;
    if (!r->o->verbose)
        return;
    const char *prefix = dir == POSTA_SMTP_MON_READ ? "S: " : dir == POSTA_SMTP_MON_WRITE ? "C: " : "H: ";
    for (const char *p = data, *end = data + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t shown = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
        fprintf(stderr, "%s%.*s\n", prefix, (int)shown, p);
        p += n + (nl ? 1 : 0);
    }
}

/* sysexits for an error that ended the run. */
static int exit_for_error(int rc)
{
    switch (rc) {
    case POSTA_ERESOLVE: return EX_NOHOST;
    case POSTA_ECONNECT: return EX_UNAVAILABLE;
    case POSTA_ETIMEDOUT:
    case POSTA_ECLOSED:
    case POSTA_EBYE:
    case POSTA_EIO: return EX_TEMPFAIL;
    case POSTA_EPROTO:
    case POSTA_EBAD: return EX_PROTOCOL;
    case POSTA_EAUTH: return EX_NOPERM;
    case POSTA_EINVAL: return EX_DATAERR;
    case POSTA_ENOMEM: return EX_OSERR;
    default: return EX_UNAVAILABLE;
    }
}

static void print_status(const char *who, const posta_smtp_status *st)
{
    char enh[32] = "";
    if (st->enh_class)
        snprintf(enh, sizeof(enh), " %d.%d.%d", st->enh_class, st->enh_subject, st->enh_detail);
    fprintf(stderr, "posta send: %s: %d%s %s\n", who, st->code, enh, st->text);
}

static int same_status(const posta_smtp_status *a, const posta_smtp_status *b)
{
    return a->code == b->code && strcmp(a->text, b->text) == 0;
}

/* The worst of the recipients: 0, EX_NOUSER (refused for good) or
 * EX_TEMPFAIL; every failure is reported, except those that are the
 * message's own failure passed on to its recipients. */
static int report_recipients(posta_smtp_message *m)
{
    int ex = 0;
    const posta_smtp_status *mst = posta_smtp_message_status(m);
    for (posta_smtp_recipient *r = posta_smtp_first_recipient(m); r; r = posta_smtp_next_recipient(r)) {
        const posta_smtp_status *st = posta_smtp_recipient_status(r);
        if (st->code == 0 || (st->code >= 200 && st->code < 300) || same_status(st, mst))
            continue;   /* never tried (the message says why), fine, or said already */
        print_status(posta_smtp_recipient_mailbox(r), st);
        if (st->code >= 500)
            ex = EX_NOUSER;
        else if (!ex)
            ex = EX_TEMPFAIL;
    }
    return ex;
}

/* What the message's own status says. */
static int report_message(posta_smtp_message *m)
{
    const posta_smtp_status *st = posta_smtp_message_status(m);
    if (posta_smtp_message_sent(m))
        return 0;
    if (st->code == 0)
        st = posta_smtp_message_mail_status(m);
    if (st->code == 0)
        return 0;   /* not attempted: the recipients say why */
    print_status("message not sent", st);
    if (st->local && (st->error == POSTA_ELIMIT || st->error == POSTA_EINVAL))
        return EX_DATAERR;
    return st->code >= 500 ? EX_UNAVAILABLE : EX_TEMPFAIL;
}

static int report(posta_smtp *h, posta_smtp_message *m, int rc)
{
    if (rc < 0) {
        fail("%s", posta_smtp_errmsg(h));
        return exit_for_error(rc);
    }
    int mex = report_message(m), rex = report_recipients(m);
    if (mex == EX_DATAERR || (mex && !rex))
        return mex;
    return rex ? rex : mex;
}

/* --- putting it together ------------------------------------------------------------------- */

static int setup_stream(posta_smtp *h, const struct settings *s)
{
    posta_stream *st = posta_smtp_stream(h);
    if (s->cafile && posta_stream_set_ca(st, s->cafile, NULL) < 0)
        return -1;
    if (s->insecure == 1) {
        posta_stream_set_insecure(st, 1);
        fail("warning: --insecure: the server's certificate is not verified");
    }
    if (s->timeout != UNSET) {
        posta_stream_set_timeouts(st, s->timeout * 1000, s->timeout * 1000);
        for (int t = POSTA_SMTP_TIMEOUT_CONNECT; t <= POSTA_SMTP_TIMEOUT_COMMAND; t++)
            posta_smtp_set_timeout(h, (posta_smtp_timeout)t, s->timeout * 1000);
    }
    return 0;
}

static int setup_session(posta_smtp *h, const struct settings *s)
{
    int rc = posta_smtp_set_server(h, s->server);
    if (rc == 0 && s->lmtp == 1)
        rc = posta_smtp_set_lmtp(h, 1);
    if (rc == 0 && s->tls != UNSET)
        rc = posta_smtp_set_tls(h, (posta_smtp_tls)s->tls);
    if (rc == 0 && s->hostname)
        rc = posta_smtp_set_hostname(h, s->hostname);
    if (rc == 0 && s->user)
        rc = posta_smtp_set_auth(h, s->user, s->password, s->auth);
    if (rc == 0)
        rc = setup_stream(h, s);
    if (rc < 0)
        fail("%s", posta_smtp_errmsg(h));
    return rc < 0 ? EX_USAGE : 0;
}

/* DSN options from -N, -R, -V. */
static int setup_dsn(posta_smtp_message *m, const struct opts *o, unsigned *notify)
{
    *notify = 0;
    if (o->notify) {
        char buf[128];
        snprintf(buf, sizeof(buf), "%s", o->notify);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            unsigned bit = !strcasecmp(tok, "never") ? POSTA_SMTP_NOTIFY_NEVER
                           : !strcasecmp(tok, "success") ? POSTA_SMTP_NOTIFY_SUCCESS
                           : !strcasecmp(tok, "failure") ? POSTA_SMTP_NOTIFY_FAILURE
                           : !strcasecmp(tok, "delay") ? POSTA_SMTP_NOTIFY_DELAY : 0;
            if (!bit)
                return -1;
            *notify |= bit;
        }
    }
    if (o->ret && posta_smtp_message_set_dsn_ret(m, !strcasecmp(o->ret, "full") ? POSTA_SMTP_RET_FULL
                                                    : !strcasecmp(o->ret, "hdrs") ? POSTA_SMTP_RET_HDRS
                                                    : (posta_smtp_dsn_ret)99) < 0)
        return -1;
    return o->envid ? posta_smtp_message_set_dsn_envid(m, o->envid) : 0;
}

static int add_recipients(posta_smtp *h, posta_smtp_message *m, char **v, int n, unsigned notify)
{
    for (int i = 0; i < n; i++) {
        posta_smtp_recipient *r;
        if (posta_smtp_add_recipient(m, v[i], &r) < 0 ||
            (notify && posta_smtp_recipient_set_dsn_notify(r, notify) < 0)) {
            fail("recipient %s: %s", v[i], posta_smtp_errmsg(h));
            return EX_USAGE;
        }
    }
    return 0;
}

/* The envelope sender: -f, the account's, else the message's From. */
static int choose_sender(posta_smtp *h, posta_smtp_message *m, const struct settings *s,
                         const struct message *msg)
{
    struct addrs from = {0};
    const char *sender = s->from;
    if (!sender && msg->headers) {
        if (for_each_field(msg->headers, "From", add_list, &from) < 0)
            return EX_OSERR;
        sender = from.n ? from.v[0] : NULL;
    }
    int ex = 0;
    if (!sender) {
        fail("no envelope sender: give -f FROM, or 'from' in the account");
        ex = EX_USAGE;
    } else if (posta_smtp_message_set_reverse_path(m, strcmp(sender, "<>") ? sender : "") < 0) {
        fail("sender %s: %s", sender, posta_smtp_errmsg(h));
        ex = EX_USAGE;
    }
    addrs_free(&from);
    return ex;
}

static int setup_message(posta_smtp *h, posta_smtp_message *m, const struct opts *o,
                         const struct settings *s, struct message *msg)
{
    unsigned notify;
    int ex = choose_sender(h, m, s, msg);
    if (ex)
        return ex;
    if (setup_dsn(m, o, &notify) < 0) {
        fail("bad DSN option (-N never|success,failure,delay; -R full|hdrs; -V printable id)");
        return EX_USAGE;
    }
    if (o->fullname && s->from && strcmp(s->from, "<>") &&
        posta_smtp_message_add_address(m, "From", o->fullname, s->from) < 0) {
        fail("-F %s: %s", o->fullname, posta_smtp_errmsg(h));
        return EX_USAGE;
    }
    struct addrs rcpts = {0};
    if (o->read_headers && msg->headers &&
        (for_each_field(msg->headers, "To", add_list, &rcpts) < 0 ||
         for_each_field(msg->headers, "Cc", add_list, &rcpts) < 0 ||
         for_each_field(msg->headers, "Bcc", add_list, &rcpts) < 0))
        ex = EX_OSERR;
    if (!ex)
        ex = add_recipients(h, m, rcpts.v, rcpts.n, notify);
    if (!ex)
        ex = add_recipients(h, m, o->rcpts, o->nrcpt, notify);
    addrs_free(&rcpts);
    if (!ex && !posta_smtp_first_recipient(m)) {
        fail(o->read_headers ? "no recipients: none given and none in To, Cc or Bcc"
                             : "no recipients (give them as arguments, or -t)");
        ex = EX_USAGE;
    }
    if (!ex && posta_smtp_message_set_fd(m, msg->fd) < 0)
        ex = EX_IOERR;
    return ex;
}

static int deliver(const struct opts *o, const struct settings *s, struct message *msg)
{
    struct run r = {.o = o, .size = msg->size};
    r.progress = isatty(2) && msg->size >= PROGRESS_MIN;
    posta_smtp_callbacks cb = {on_event, on_monitor};
    posta_smtp *h;
    posta_smtp_message *m;
    if (posta_smtp_new(&h, &cb, &r) < 0)
        return EX_OSERR;
    int ex = posta_smtp_add_message(h, &m) < 0 ? EX_OSERR : setup_session(h, s);
    if (!ex)
        ex = setup_message(h, m, o, s, msg);
    if (!ex)
        ex = report(h, m, posta_smtp_run(h));
    posta_smtp_free(h);
    return ex;
}

/* Everything the run needs that does not depend on the message. */
static int settle(struct opts *o, struct settings *s)
{
    struct config c = {0};
    const struct settings *acct = NULL;
    int ex = config_load(&c);
    if (!ex)
        ex = config_pick(&c, o, &acct);
    if (!ex && (settings_merge(s, &o->set) < 0 || (acct && settings_merge(s, acct) < 0) ||
                settings_merge(s, &c.defaults) < 0))
        ex = EX_OSERR;
    config_free(&c);
    if (!ex && !s->server) {
        fail("no server: give --server HOST, or configure an account (man posta)");
        ex = EX_USAGE;
    }
    if (!ex && (s->password_file || s->auth) && !s->user) {
        fail("%s needs --user", s->auth ? "--auth" : "--password-file");
        ex = EX_USAGE;
    }
    return ex ? ex : resolve_password(s);
}

int cmd_send(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
    struct opts o = {0};
    struct settings s;
    struct message msg = {.fd = -1};
    settings_init(&s);
    int ex = parse_args(&o, argc, argv);
    if (ex)
        fputs(usage_text, stderr);
    if (!ex)
        ex = settle(&o, &s);
    if (!ex)
        ex = spool_stdin(&msg);
    if (!ex)
        ex = read_headers(&msg);
    if (!ex)
        ex = deliver(&o, &s, &msg);
    if (msg.fd > 0)
        close(msg.fd);
    free(msg.headers);
    settings_free(&s);
    settings_free(&o.set);
    return ex;
}
