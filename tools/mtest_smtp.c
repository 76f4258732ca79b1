/* posta smtptest and lmtptest: Cyrus smtptest and lmtptest for SMTP
 * submission and LMTP, with EHLO/LHLO, STARTTLS and AUTH shown line by
 * line. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mtest.h"
#include "tool.h"

/* The last line of a reply: "250 text" or "250" alone. */
static int final_line(const char *line, size_t len)
{
    return len >= 3 && isdigit((unsigned char)line[0]) && (len == 3 || line[3] != '-');
}

/* Read and show a whole (multi-line) reply; the final line stays. */
static int reply(struct mt *m, const char **line, size_t *len)
{
    do {
        if (mt_getline_show(m, line, len) < 0)
            return MT_FATAL;
    } while (!final_line(*line, *len));
    return 0;
}

/* EHLO keywords: STARTTLS and the AUTH mechanisms. */
static void ehlo_line(struct mt *m, const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len < 4)
        return;
    line += 4;
    len -= 4;
    if (len == 8 && strncasecmp(line, "STARTTLS", 8) == 0)
        m->starttls_ok = 1;
    else if (len > 5 && (strncasecmp(line, "AUTH ", 5) == 0 || strncasecmp(line, "AUTH=", 5) == 0)) {
        snprintf(m->mechs, sizeof(m->mechs), "%.*s", (int)(len - 5), line + 5);
        m->mechs_known = 1;
    }
}

static int smtp_capa(struct mt *m)
{
    const char *line;
    size_t len;
    int lmtp = m->p->sport == NULL;
    m->starttls_ok = m->mechs_known = 0;
    m->mechs[0] = '\0';
    if (mt_send(m, lmtp ? "LHLO lmtptest" : "EHLO smtptest", NULL) < 0)
        return MT_FATAL;
    do {
        if (mt_getline_show(m, &line, &len) < 0)
            return MT_FATAL;
        if (mt_prefix(line, len, "250"))
            ehlo_line(m, line, len);
    } while (!final_line(line, len));
    if (mt_prefix(line, len, "250"))
        return 0;
    mt_err(m, "the server refused %s", lmtp ? "LHLO" : "EHLO");
    return MT_FATAL;
}

static int smtp_greet(struct mt *m)
{
    const char *line;
    size_t len;
    if (reply(m, &line, &len) < 0)
        return MT_FATAL;
    if (line[0] != '2') {
        mt_err(m, "the server refused the connection");
        return MT_FATAL;
    }
    return smtp_capa(m);
}

static int smtp_starttls(struct mt *m)
{
    const char *line;
    size_t len;
    if (mt_send(m, "STARTTLS", NULL) < 0 || reply(m, &line, &len) < 0)
        return MT_FATAL;
    if (mt_prefix(line, len, "220"))
        return 0;
    mt_err(m, "the server refused STARTTLS");
    return MT_FATAL;
}

static int smtp_auth(struct mt *m)
{
    /* As Cyrus: a named mechanism is tried whatever EHLO said. */
    if (m->o->mech)
        return mt_sasl_auth(m, m->o->mech, NULL);
    if (m->mechs[0])
        return mt_sasl_auth(m, NULL, m->mechs);
    return mt_fail_auth(m, POSTA_EUNSUPPORTED, "no mechanism available");
}

static int smtp_sasl_reply(const char *line, size_t len)
{
    if (!final_line(line, len))
        return MT_R_OTHER;
    if (mt_prefix(line, len, "334"))
        return MT_R_CONT;
    /* RFC 4954: 235 and nothing else says yes (smtp-sink answers 250). */
    if (mt_prefix(line, len, "235"))
        return MT_R_OK;
    return mt_prefix(line, len, "535") ? MT_R_NO_CREDS : MT_R_NO;
}

static int smtp_is_quit(const char *line, size_t len)
{
    return (len == 5 || len == 6) && strncasecmp(line, "QUIT", 4) == 0 &&
           (line[4] == '\n' || (line[4] == '\r' && line[5] == '\n'));
}

/* Between -x clients: forget the transaction. */
static int smtp_reset(struct mt *m)
{
    const char *line;
    size_t len;
    if (mt_write(m, "RSET\r\n", 6) < 0)
        return MT_FATAL;
    return mt_wait_for(m, "250", NULL, 1, &line, &len);
}

#define XMTP_COMMON                                        \
    .alpn = NULL, .sasl = POSTA_SASL_SMTP, .sasl_tag = "", \
    .dot_data = 1, .logout = "QUIT", .logout_reply = "221", \
    .greet = smtp_greet, .capa = smtp_capa, .starttls = smtp_starttls, .auth = smtp_auth, \
    .sasl_reply = smtp_sasl_reply, .is_quit = smtp_is_quit, .reset = smtp_reset

const struct mt_proto mt_smtp = {
    .tool = "smtptest", .name = "smtp", .port = "25", .sport = "465", .service = "smtp", XMTP_COMMON,
};

const struct mt_proto mt_lmtp = {
    .tool = "lmtptest", .name = "lmtp", .port = "24", .sport = NULL, .service = "lmtp", XMTP_COMMON,
};

int cmd_smtptest(int argc, char **argv)
{
    return mt_main(&mt_smtp, argc, argv);
}

int cmd_lmtptest(int argc, char **argv)
{
    return mt_main(&mt_lmtp, argc, argv);
}
