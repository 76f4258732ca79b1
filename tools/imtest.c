/* posta imtest: Cyrus imtest for IMAP on posta's TLS and SASL, with the
 * same options, transcript and interactive phase. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mtest.h"
#include "tool.h"

/* --- capabilities ------------------------------------------------------- */

static int has_cap(const struct mt *m, const char *cap)
{
    char word[128];
    snprintf(word, sizeof(word), " %s ", cap);
    for (char *p = word; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return strstr(m->caps, word) != NULL;
}

/* The facts the login phase needs, from the capability list. */
static void derive(struct mt *m)
{
    m->starttls_ok = has_cap(m, "STARTTLS");
    m->login_ok = !has_cap(m, "LOGINDISABLED");
    m->compress_ok = has_cap(m, "COMPRESS=DEFLATE");
    m->sasl_ir = has_cap(m, "SASL-IR");
    m->mechs[0] = '\0';
    size_t used = 0;
    for (const char *c = m->caps; (c = strstr(c, " AUTH=")) != NULL; c += 6) {
        size_t n = strcspn(c + 6, " ");
        if (used + n + 2 < sizeof(m->mechs))
            used += (size_t)snprintf(m->mechs + used, sizeof(m->mechs) - used, "%s%.*s",
                                     used ? " " : "", (int)n, c + 6);
    }
    m->mechs_known = 1;
}

/* Capabilities from "* CAPABILITY ..." or a "[CAPABILITY ...]" code. */
static int take_caps(struct mt *m, const char *line, size_t len)
{
    const char *p = NULL, *end = line + len;
    if (mt_prefix(line, len, "* CAPABILITY "))
        p = line + 13;
    for (const char *q = line; !p && q + 12 <= end; q++)
        if (*q == '[' && strncasecmp(q, "[CAPABILITY ", 12) == 0)
            p = q + 12;
    if (!p)
        return 0;
    size_t n = 0, cap = sizeof(m->caps) - 2;
    m->caps[n++] = ' ';
    for (; p < end && *p != ']' && *p != '\r' && *p != '\n' && n < cap; p++)
        m->caps[n++] = (char)toupper((unsigned char)*p);
    m->caps[n++] = ' ';
    m->caps[n] = '\0';
    m->have_caps = 1;
    derive(m);
    return 1;
}

static int imap_capa(struct mt *m)
{
    const char *line;
    size_t len;
    if (mt_send(m, "C01 CAPABILITY", NULL) < 0)
        return MT_FATAL;
    do {
        if (mt_getline_show(m, &line, &len) < 0)
            return MT_FATAL;
        take_caps(m, line, len);
    } while (!mt_prefix(line, len, "C01 "));
    return 0;
}

/* --- login phase ------------------------------------------------------------ */

static int imap_greet(struct mt *m)
{
    const char *line;
    size_t len;
    m->login_ok = 1;
    m->preauth = 0;
    if (mt_getline_show(m, &line, &len) < 0)
        return MT_FATAL;
    if (mt_prefix(line, len, "* BYE")) {
        mt_err(m, "the server refused the connection");
        return MT_FATAL;
    }
    m->preauth = mt_prefix(line, len, "* PREAUTH");
    if (!m->preauth && !mt_prefix(line, len, "* OK")) {
        mt_err(m, "not an IMAP greeting");
        return MT_FATAL;
    }
    take_caps(m, line, len);
    if (!m->mechs[0] && !m->starttls_ok)
        return imap_capa(m);
    return 0;
}

static int imap_starttls(struct mt *m)
{
    const char *line;
    size_t len;
    if (mt_send(m, "S01 STARTTLS", NULL) < 0 || mt_wait_for(m, "S01 ", NULL, 1, &line, &len) < 0)
        return MT_FATAL;
    if (mt_prefix(line, len, "S01 OK"))
        return 0;
    mt_err(m, "the server refused STARTTLS");
    return MT_FATAL;
}

static int atom_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || strchr("(){%*\"\\]", *s))
            return 0;
    return 1;
}

/* The user name as an atom when it can be one, else quoted. */
static int login_name(struct mt *m, const char *user, char *out, size_t outsz)
{
    size_t n = 0;
    if (atom_safe(user)) {
        snprintf(out, outsz, "%s", user);
        return 0;
    }
    out[n++] = '"';
    for (; *user && n + 3 < outsz; user++) {
        if (*user == '\r' || *user == '\n')
            return mt_fail_auth(m, POSTA_EINVAL, "the user name holds a line break");
        if (*user == '"' || *user == '\\')
            out[n++] = '\\';
        out[n++] = *user;
    }
    out[n++] = '"';
    out[n] = '\0';
    return 0;
}

/* LOGIN with the password as a synchronizing literal, as Cyrus sends it. */
static int imap_login(struct mt *m)
{
    char name[1100], cmd[1200];
    const char *line;
    size_t len;
    int rc = mt_sasl_new(m);
    if (rc == 0)
        rc = mt_cleartext_ok(m, "LOGIN");
    if (rc == 0)
        rc = login_name(m, mt_authcid(m), name, sizeof(name));
    if (rc < 0)
        return rc;
    const char *pass = mt_password(m);
    if (!pass)
        return mt_fail_auth(m, POSTA_EAUTH, "no password");
    snprintf(cmd, sizeof(cmd), "L01 LOGIN %s {%zu}", name, strlen(pass));
    m->attempted = 1;
    if (mt_send(m, cmd, NULL) < 0 || mt_wait_for(m, "+", "L01 ", 1, &line, &len) < 0)
        return MT_FATAL;
    if (line[0] == '+') {
        printf("C: <omitted>\r\n");
        if (mt_write(m, pass, strlen(pass)) < 0 || mt_write(m, "\r\n", 2) < 0 ||
            mt_wait_for(m, "L01 ", NULL, 1, &line, &len) < 0)
            return MT_FATAL;
    }
    if (mt_prefix(line, len, "L01 OK")) {
        take_caps(m, line, len);
        return 0;
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    return mt_fail_auth(m, POSTA_EAUTH, "LOGIN failed: %.*s", (int)(len > 4 ? len - 4 : 0), line + 4);
}

static int offered(const struct mt *m, const char *mech)
{
    char word[64];
    snprintf(word, sizeof(word), "AUTH=%s", mech);
    return has_cap(m, word);
}

static int imap_sasl(struct mt *m, const char *mech)
{
    int rc = mt_sasl_auth(m, mech, m->mechs);
    if (rc == 0)
        take_caps(m, m->line, m->line_len);
    return rc;
}

static int imap_auth(struct mt *m)
{
    const char *mech = m->o->mech;
    if (m->preauth)
        return 0;
    if (mech && strcasecmp(mech, "login") == 0) {
        if (!m->login_ok) {
            printf("[Server advertised LOGINDISABLED]\n");
            return mt_fail_auth(m, POSTA_EPOLICY, "the server advertised LOGINDISABLED");
        }
        return imap_login(m);
    }
    if (mech) {
        if (!offered(m, mech)) {
            printf("[Server did not advertise AUTH=%s]\n", mech);
            return mt_fail_auth(m, POSTA_EUNSUPPORTED, "the server did not advertise AUTH=%s", mech);
        }
        return imap_sasl(m, mech);
    }
    if (m->mechs[0])
        return imap_sasl(m, NULL);
    if (m->login_ok)
        return imap_login(m);
    return mt_fail_auth(m, POSTA_EUNSUPPORTED, "the server offers neither AUTHENTICATE nor LOGIN");
}

static int contains(const char *line, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(line + i, word, n) == 0)
            return 1;
    return 0;
}

static int imap_sasl_reply(const char *line, size_t len)
{
    if (len >= 1 && line[0] == '+' && (len == 1 || line[1] == ' ' || line[1] == '\r' || line[1] == '\n'))
        return MT_R_CONT;
    if (mt_prefix(line, len, "A01 OK"))
        return MT_R_OK;
    if (mt_prefix(line, len, "A01 NO") || mt_prefix(line, len, "A01 BAD")) {
        if (contains(line, len, "[AUTHENTICATIONFAILED]") || contains(line, len, "[AUTHORIZATIONFAILED]"))
            return MT_R_NO_CREDS;
        return MT_R_NO;
    }
    return MT_R_OTHER;
}

/* -q: COMPRESS=DEFLATE (RFC 4978), judged by the capabilities in force
 * after login. */
static int imap_compress(struct mt *m)
{
    const char *line;
    size_t len;
    if (!m->o->compress)
        return 0;
    if (!m->compress_ok && imap_capa(m) < 0)
        return MT_FATAL;
    if (!m->compress_ok) {
        printf("[Server did not advertise COMPRESS=DEFLATE]\n");
        return 0;
    }
    if (mt_send(m, "Z01 COMPRESS DEFLATE", NULL) < 0 ||
        mt_wait_for(m, "Z01 OK", "Z01 ", 1, &line, &len) < 0)
        return MT_FATAL;
    if (!mt_prefix(line, len, "Z01 OK"))
        return 0;
    if (mt_buffered(m) || posta_stream_start_deflate(m->s) < 0) {
        mt_err(m, "cannot start COMPRESS: %s", mt_buffered(m) ? "the server sent data after its OK"
                                                               : posta_stream_errmsg(m->s));
        return MT_FATAL;
    }
    return 0;
}

/* --- -x: the client socket ---------------------------------------------------- */

static int imap_is_quit(const char *line, size_t len)
{
    const char *sp = memchr(line, ' ', len);
    if (!sp)
        return 0;
    size_t rest = len - (size_t)(sp + 1 - line);
    return (rest == 7 || rest == 8) && strncasecmp(sp + 1, "LOGOUT", 6) == 0 &&
           (sp[7] == '\n' || (sp[7] == '\r' && rest == 8 && sp[8] == '\n'));
}

/* Between clients: leave the mailbox so the next one starts clean. */
static int imap_reset(struct mt *m)
{
    const char *line;
    size_t len;
    if (mt_write(m, "UN0 UNSELECT\r\n", 14) < 0)
        return MT_FATAL;
    return mt_wait_for(m, "UN0 ", NULL, 0, &line, &len);
}

/* --- -z: the timing test ------------------------------------------------------------ */

static int tagged(struct mt *m, const char *tag)
{
    const char *line;
    size_t len;
    char want[16];
    snprintf(want, sizeof(want), "%s ", tag);
    return mt_wait_for(m, want, NULL, 1, &line, &len);
}

static int append_msg(struct mt *m, const char *mbox, size_t body)
{
    static const char headers[] = "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
                                  "From: Fred Foobar <foobar@example.com>\r\n"
                                  "Subject: imtest timing test\r\n"
                                  "To: mooch@example.org\r\n"
                                  "Message-Id: <imtest-timing@example.com>\r\n"
                                  "MIME-Version: 1.0\r\n"
                                  "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n";
    char cmd[256];
    const char *line;
    size_t len;
    int plus = has_cap(m, "LITERAL+");
    snprintf(cmd, sizeof(cmd), "A003 APPEND %s (\\Seen) {%zu%s}\r\n", mbox, sizeof(headers) - 1 + body,
             plus ? "+" : "");
    if (mt_write(m, cmd, strlen(cmd)) < 0)
        return MT_FATAL;
    if (!plus && (mt_wait_for(m, "+", "A003 ", 1, &line, &len) < 0 || line[0] != '+'))
        return MT_FATAL;
    if (mt_write(m, headers, sizeof(headers) - 1) < 0)
        return MT_FATAL;
    for (size_t i = 0; i < body / 10; i++)
        if (mt_write(m, "0123456789", 10) < 0)
            return MT_FATAL;
    if (mt_write(m, "\r\n", 2) < 0)
        return MT_FATAL;
    return tagged(m, "A003");
}

int mt_imap_timing(struct mt *m)
{
    static const char mbox[] = "inbox.imtest";
    static const size_t sizes[] = {200, 2000, 20000, 200000, 2000000};
    char cmd[128];
    time_t start = time(NULL);
    for (int round = 0; round < 10; round++) {
        snprintf(cmd, sizeof(cmd), "C01 CREATE %s\r\n", mbox);
        if (mt_write(m, cmd, strlen(cmd)) < 0 || tagged(m, "C01") < 0)
            return MT_FATAL;
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
            if (append_msg(m, mbox, sizes[i]) < 0)
                return MT_FATAL;
        snprintf(cmd, sizeof(cmd), "D01 DELETE %s\r\n", mbox);
        if (mt_write(m, cmd, strlen(cmd)) < 0 || tagged(m, "D01") < 0)
            return MT_FATAL;
    }
    printf("took %lld seconds\n", (long long)(time(NULL) - start));
    return 0;
}

const struct mt_proto mt_imap = {
    .tool = "imtest",
    .name = "imap",
    .port = "143",
    .sport = "993",
    .service = "imap",
    .alpn = "imap",
    .sasl = POSTA_SASL_IMAP,
    .sasl_tag = "A01 ",
    .mech_help = "(\"login\" for IMAP LOGIN)",
    .literals = 1,
    .logout = "Q01 LOGOUT",
    .logout_reply = "Q01 ",
    .greet = imap_greet,
    .capa = imap_capa,
    .starttls = imap_starttls,
    .auth = imap_auth,
    .sasl_reply = imap_sasl_reply,
    .after = imap_compress,
    .is_quit = imap_is_quit,
    .reset = imap_reset,
};

int cmd_imtest(int argc, char **argv)
{
    return mt_main(&mt_imap, argc, argv);
}
