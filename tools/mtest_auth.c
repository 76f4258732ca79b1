/* Authentication for the mail test tools: credentials from the options or
 * the prompt, and one SASL exchange shown line by line as Cyrus shows it. */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mtest.h"

int mt_fail_auth(struct mt *m, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->why, sizeof(m->why), fmt, ap);
    va_end(ap);
    return code;
}

const char *mt_authcid(struct mt *m)
{
    if (m->o->authcid)
        return m->o->authcid;
    /* As Cyrus: the user running the tool. */
    const struct passwd *pw = getpwuid(getuid());
    return pw ? pw->pw_name : "";
}

const char *mt_password(struct mt *m)
{
    struct mt_opts *o = m->o;
    if (o->password)
        return o->password;
    if (!o->have_typed) {
        if (mt_read_password("Please enter your password: ", o->typed_password,
                             sizeof(o->typed_password)) < 0)
            return NULL;
        o->have_typed = 1;
    }
    return o->typed_password;
}

static int set_cred(posta_sasl *s, posta_sasl_credential what, const char *v)
{
    return v ? posta_sasl_set_credential(s, what, v, strlen(v)) : POSTA_ENOTFOUND;
}

static int credential(posta_sasl *s, posta_sasl_credential what, const char *mech, void *user)
{
    struct mt *m = user;
    (void)mech;
    switch (what) {
    case POSTA_SASL_AUTHCID:
        return set_cred(s, what, mt_authcid(m));
    case POSTA_SASL_AUTHZID:
        return set_cred(s, what, m->o->authzid);
    case POSTA_SASL_PASSWORD:
        /* OAuth mechanisms named with -m take the password as the token. */
    case POSTA_SASL_TOKEN:
        return set_cred(s, what, mt_password(m));
    case POSTA_SASL_REALM:
        return set_cred(s, what, m->o->realm);
    }
    return POSTA_ENOTFOUND;
}

static void notice(posta_sasl *s, const char *msg, void *user)
{
    (void)s;
    mt_err(user, "note: %s", msg);
}

int mt_sasl_new(struct mt *m)
{
    const struct mt_opts *o = m->o;
    posta_sasl_free(m->sasl);
    m->sasl = NULL;
    if (posta_sasl_new(&m->sasl, m->p->sasl, m->p->service, o->host) < 0) {
        mt_err(m, "out of memory");
        return MT_FATAL;
    }
    posta_sasl_set_credential_cb(m->sasl, credential, m);
    posta_sasl_set_notice_cb(m->sasl, notice, m);
    /* Cyrus makes one attempt with the mechanism libsasl2 chose. */
    posta_sasl_set_try_next(m->sasl, 0);
    posta_sasl_set_allow_plaintext(m->sasl, o->cleartext);
    if (o->ssf_given)
        posta_sasl_set_ssf(m->sasl, o->min_ssf, o->max_ssf);
    if (posta_sasl_use_stream(m->sasl, m->s) < 0) {
        mt_err(m, "%s", posta_sasl_errmsg(m->sasl));
        return MT_FATAL;
    }
    return 0;
}

int mt_check_ssf(struct mt *m, const char *what)
{
    if (m->ext_ssf < m->o->min_ssf)
        return mt_fail_auth(m, POSTA_EPOLICY, "%s has no security layer: security strength factor %u "
                            "is below the required %u", what, m->ext_ssf, m->o->min_ssf);
    return 0;
}

int mt_cleartext_ok(struct mt *m, const char *what)
{
    int rc = posta_sasl_check_cleartext(m->sasl, what);
    if (rc < 0)
        return mt_fail_auth(m, rc, "%s", posta_sasl_errmsg(m->sasl));
    return mt_check_ssf(m, what);
}

/* Mechanisms that put the secret itself on the wire are shown redacted,
 * as Cyrus shows the LOGIN password and POP3 PASS. */
static int secret_mech(const char *mech)
{
    static const char *const names[] = {"PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"};
    for (size_t i = 0; mech && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(mech, names[i]) == 0)
            return 1;
    return 0;
}

/* Print the client's line (which ends in CRLF) as Cyrus does. */
static void show_client(struct mt *m, const char *prefix, const char *line, size_t len, int first)
{
    size_t body = len >= 2 ? len - 2 : len;
    const char *mech = posta_sasl_mechanism(m->sasl);
    printf("C: %s", prefix);
    if (!secret_mech(mech) || body == 0 || (body == 1 && line[0] == '*')) {
        fwrite(line, 1, len, stdout);
        return;
    }
    if (first) {
        /* "AUTHENTICATE PLAIN <ir>": keep the verb and the name. */
        const char *sp = memchr(line, ' ', body);
        const char *ir = sp ? memchr(sp + 1, ' ', body - (size_t)(sp + 1 - line)) : NULL;
        if (!ir) {
            fwrite(line, 1, len, stdout);
            return;
        }
        fwrite(line, 1, (size_t)(ir + 1 - line), stdout);
    }
    fputs("<omitted>\r\n", stdout);
}

static int send_line(struct mt *m, const char *prefix, const char *line, size_t len, int first)
{
    show_client(m, prefix, line, len, first);
    if (prefix[0] && mt_write(m, prefix, strlen(prefix)) < 0)
        return MT_FATAL;
    return mt_write(m, line, len);
}

/* The text after the status (for the failure sentence). */
static void reply_text(const struct mt *m, const char *line, size_t len, const char **t_r, size_t *n_r)
{
    size_t skip = strlen(m->p->sasl_tag);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (skip <= len) {
        line += skip;
        len -= skip;
    }
    const char *sp = memchr(line, ' ', len);
    *t_r = sp ? sp + 1 : line + len;
    *n_r = sp ? len - (size_t)(sp + 1 - line) : 0;
}

static int on_failure(struct mt *m, int kind, const char *line, size_t len)
{
    const char *text, *next;
    size_t tlen, nlen;
    reply_text(m, line, len, &text, &tlen);
    int rc = posta_sasl_on_failure(m->sasl, kind == MT_R_NO_CREDS ? POSTA_SASL_CREDENTIALS
                                                                   : POSTA_SASL_REJECTED,
                                   text, tlen, &next, &nlen);
    if (rc == 0)
        return send_line(m, m->p->sasl_tag, next, nlen, 1) < 0 ? MT_FATAL : 1;
    return mt_fail_auth(m, rc, "%s", posta_sasl_errmsg(m->sasl));
}

static int on_continuation(struct mt *m, const char *line, size_t len)
{
    const char *text, *out;
    size_t tlen, olen;
    if (!posta_sasl_parse_continuation(m->p->sasl, line, len, &text, &tlen)) {
        text = "";
        tlen = 0;
    }
    int rc = posta_sasl_on_continuation(m->sasl, text, tlen, &out, &olen);
    if (rc < 0)
        return mt_fail_auth(m, rc, "%s", posta_sasl_errmsg(m->sasl));
    return send_line(m, "", out, olen, 0);
}

/* Read the server's answers until the exchange ends. */
static int exchange(struct mt *m)
{
    for (;;) {
        const char *line;
        size_t len;
        if (mt_getline_show(m, &line, &len) < 0)
            return MT_FATAL;
        int kind = m->p->sasl_reply(line, len);
        int rc = 0;
        if (kind == MT_R_CONT)
            rc = on_continuation(m, line, len);
        else if (kind == MT_R_OK) {
            rc = posta_sasl_on_success(m->sasl, NULL, 0);
            return rc < 0 ? mt_fail_auth(m, rc, "%s", posta_sasl_errmsg(m->sasl)) : 0;
        } else if (kind == MT_R_NO || kind == MT_R_NO_CREDS) {
            rc = on_failure(m, kind, line, len);
            if (rc <= 0)
                return rc;
            rc = 0;
        }
        if (rc < 0)
            return rc;
    }
}

int mt_sasl_auth(struct mt *m, const char *mech, const char *offered)
{
    const char *line;
    size_t len;
    int rc = mt_sasl_new(m);
    if (rc < 0)
        return rc;
    if (mech && posta_sasl_set_mechanisms(m->sasl, mech) < 0)
        return mt_fail_auth(m, POSTA_EINVAL, "%s", posta_sasl_errmsg(m->sasl));
    if (m->p->sasl == POSTA_SASL_IMAP)
        posta_sasl_set_initial_response(m->sasl, m->sasl_ir && !m->o->no_ir);
    else
        posta_sasl_set_initial_response(m->sasl, !m->o->no_ir);
    rc = posta_sasl_start(m->sasl, offered, offered ? strlen(offered) : 0, &line, &len);
    if (rc < 0)
        return mt_fail_auth(m, rc, "%s", posta_sasl_errmsg(m->sasl));
    m->attempted = 1;
    if (send_line(m, m->p->sasl_tag, line, len, 1) < 0)
        return MT_FATAL;
    rc = exchange(m);
    if (rc == 0 && posta_sasl_layer_ssf(m->sasl) > 0 && mt_buffered(m))
        return mt_fail_auth(m, POSTA_EPROTO, "the server sent more after its success reply, before "
                            "any security layer could start; not trusting this connection");
    if (rc == 0 && posta_sasl_install_layer(m->sasl, m->s) < 0)
        return mt_fail_auth(m, POSTA_EAUTH, "%s", posta_stream_errmsg(m->s));
    return rc;
}
