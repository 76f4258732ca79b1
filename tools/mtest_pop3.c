/* posta pop3test: Cyrus pop3test for POP3, with USER/PASS, APOP and SASL
 * (RFC 1939, RFC 2449, RFC 5034) shown line by line. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mtest.h"
#include "tool.h"

static void chomp(const char *line, size_t *len)
{
    while (*len > 0 && (line[*len - 1] == '\n' || line[*len - 1] == '\r'))
        (*len)--;
}

/* One CAPA line: STLS, USER, SASL mechanisms. */
static void capa_line(struct mt *m, const char *line, size_t len)
{
    chomp(line, &len);
    if (len == 4 && strncasecmp(line, "STLS", 4) == 0)
        m->starttls_ok = 1;
    else if (len == 4 && strncasecmp(line, "USER", 4) == 0)
        m->login_ok = 1;
    else if (len >= 5 && strncasecmp(line, "SASL ", 5) == 0) {
        snprintf(m->mechs, sizeof(m->mechs), "%.*s", (int)(len - 5), line + 5);
        m->mechs_known = 1;
    }
}

static int pop3_capa(struct mt *m)
{
    const char *line;
    size_t len;
    m->starttls_ok = m->login_ok = m->mechs_known = 0;
    m->mechs[0] = '\0';
    if (mt_send(m, "CAPA", NULL) < 0 || mt_getline_show(m, &line, &len) < 0)
        return MT_FATAL;
    if (!mt_prefix(line, len, "+OK"))
        return 0;  /* no CAPA: USER is still worth a try */
    for (;;) {
        if (mt_getline_show(m, &line, &len) < 0)
            return MT_FATAL;
        chomp(line, &len);
        if (len == 1 && line[0] == '.')
            return 0;
        capa_line(m, line, len);
    }
}

static int pop3_greet(struct mt *m)
{
    const char *line;
    size_t len;
    if (mt_getline_show(m, &line, &len) < 0)
        return MT_FATAL;
    if (!mt_prefix(line, len, "+OK")) {
        mt_err(m, "the server refused the connection");
        return MT_FATAL;
    }
    chomp(line, &len);
    snprintf(m->greeting, sizeof(m->greeting), "%.*s", (int)len, line);
    return pop3_capa(m);
}

static int pop3_starttls(struct mt *m)
{
    const char *line;
    size_t len;
    if (mt_send(m, "STLS", NULL) < 0 || mt_getline_show(m, &line, &len) < 0)
        return MT_FATAL;
    if (mt_prefix(line, len, "+OK"))
        return 0;
    mt_err(m, "the server refused STLS");
    return MT_FATAL;
}

/* The greeting's APOP timestamp, "<...@...>", as Cyrus looks for it. */
static int has_challenge(const char *g)
{
    const char *lt = strchr(g, '<');
    while (lt) {
        const char *at = strpbrk(lt + 1, "@<>");
        if (at && *at == '@' && strchr(at, '>'))
            return 1;
        lt = strchr(lt + 1, '<');
    }
    return 0;
}

/* Send a line from posta_sasl (CRLF ended), shown as shown (NULL: as is),
 * and read the one-line answer. */
static int command(struct mt *m, const char *line, size_t len, const char *shown, const char **reply,
                   size_t *rlen)
{
    if (shown)
        printf("C: %s\r\n", shown);
    else
        printf("C: %.*s", (int)len, line);
    m->attempted = 1;
    if (mt_write(m, line, len) < 0 || mt_getline_show(m, reply, rlen) < 0)
        return MT_FATAL;
    return 0;
}

static int refused(struct mt *m, const char *what, const char *line, size_t len)
{
    chomp(line, &len);
    return mt_fail_auth(m, POSTA_EAUTH, "%s failed: %.*s", what, (int)len, line);
}

static int pop3_apop(struct mt *m)
{
    const char *line, *reply;
    size_t len, rlen;
    int rc = mt_sasl_new(m);
    if (rc == 0)
        rc = mt_check_ssf(m, "APOP");
    if (rc < 0)
        return rc;
    if (posta_sasl_apop_command(m->sasl, m->greeting, strlen(m->greeting), &line, &len) < 0)
        return mt_fail_auth(m, POSTA_EAUTH, "%s", posta_sasl_errmsg(m->sasl));
    if (command(m, line, len, NULL, &reply, &rlen) < 0)
        return MT_FATAL;
    return mt_prefix(reply, rlen, "+OK") ? 0 : refused(m, "APOP", reply, rlen);
}

static int pop3_user(struct mt *m)
{
    const char *line, *reply;
    size_t len, rlen;
    int rc = mt_sasl_new(m);
    if (rc == 0)
        rc = mt_cleartext_ok(m, "USER/PASS");
    if (rc < 0)
        return rc;
    if (posta_sasl_user_command(m->sasl, &line, &len) < 0)
        return mt_fail_auth(m, POSTA_EAUTH, "%s", posta_sasl_errmsg(m->sasl));
    if (command(m, line, len, NULL, &reply, &rlen) < 0)
        return MT_FATAL;
    if (!mt_prefix(reply, rlen, "+OK"))
        return refused(m, "USER", reply, rlen);
    if (posta_sasl_pass_command(m->sasl, &line, &len) < 0)
        return mt_fail_auth(m, POSTA_EAUTH, "%s", posta_sasl_errmsg(m->sasl));
    if (command(m, line, len, "PASS <omitted>", &reply, &rlen) < 0)
        return MT_FATAL;
    return mt_prefix(reply, rlen, "+OK") ? 0 : refused(m, "PASS", reply, rlen);
}

static int offered(const struct mt *m, const char *mech)
{
    size_t n = strlen(mech);
    for (const char *p = m->mechs; *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && strncasecmp(p, mech, n) == 0)
            return 1;
        p += w;
        p += strspn(p, " ");
    }
    return 0;
}

static int pop3_auth(struct mt *m)
{
    const char *mech = m->o->mech;
    int chal = has_challenge(m->greeting);
    if (mech && strcasecmp(mech, "apop") == 0) {
        if (!chal) {
            printf("[Server did not advertise APOP challenge]\n");
            return mt_fail_auth(m, POSTA_EUNSUPPORTED, "the server did not advertise an APOP challenge");
        }
        return pop3_apop(m);
    }
    if (mech && strcasecmp(mech, "user") == 0) {
        if (!m->login_ok) {
            printf("[Server did not advertise USER]\n");
            return mt_fail_auth(m, POSTA_EUNSUPPORTED, "the server did not advertise USER");
        }
        return pop3_user(m);
    }
    if (mech) {
        if (!m->mechs_known || !offered(m, mech)) {
            printf("[Server did not advertise SASL %s]\n", mech);
            return mt_fail_auth(m, POSTA_EUNSUPPORTED, "the server did not advertise SASL %s", mech);
        }
        return mt_sasl_auth(m, mech, m->mechs);
    }
    if (m->mechs[0])
        return mt_sasl_auth(m, NULL, m->mechs);
    if (chal)
        return pop3_apop(m);
    if (m->login_ok)
        return pop3_user(m);
    return mt_fail_auth(m, POSTA_EUNSUPPORTED, "the server offers no way to log in");
}

static int pop3_sasl_reply(const char *line, size_t len)
{
    if (mt_prefix(line, len, "+OK"))
        return MT_R_OK;
    if (mt_prefix(line, len, "-ERR"))
        return mt_prefix(line, len, "-ERR [AUTH]") ? MT_R_NO_CREDS : MT_R_NO;
    if (len >= 1 && line[0] == '+')
        return MT_R_CONT;
    return MT_R_OTHER;
}

static int pop3_is_quit(const char *line, size_t len)
{
    return (len == 5 || len == 6) && strncasecmp(line, "QUIT", 4) == 0 &&
           (line[4] == '\n' || (line[4] == '\r' && line[5] == '\n'));
}

const struct mt_proto mt_pop3 = {
    .tool = "pop3test",
    .name = "pop3",
    .port = "110",
    .sport = "995",
    .service = "pop",
    .alpn = "pop3",
    .sasl = POSTA_SASL_POP3,
    .sasl_tag = "",
    .mech_help = "(\"user\" for USER/PASS, \"apop\" for APOP)",
    .logout = "QUIT",
    .logout_reply = "+OK",
    .greet = pop3_greet,
    .capa = pop3_capa,
    .starttls = pop3_starttls,
    .auth = pop3_auth,
    .sasl_reply = pop3_sasl_reply,
    .is_quit = pop3_is_quit,
};

int cmd_pop3test(int argc, char **argv)
{
    return mt_main(&mt_pop3, argc, argv);
}
