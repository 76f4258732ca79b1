/* The SASL exchange driver: picks mechanisms, shapes each protocol's command
 * and response lines through a small adapter table, and judges the outcome. */
#include "sasl_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include <posta/util.h>

/* What differs between the protocols: the verb, the continuation marker,
 * and how long a command line with an initial response may be. */
struct adapter {
    const char *verb;
    const char *marker;
    size_t max_line;  /* octets, CRLF included (IMAP: without the tag) */
};

static const struct adapter adapters[] = {
    [POSTA_SASL_IMAP] = {"AUTHENTICATE", "+", 8000},
    [POSTA_SASL_SMTP] = {"AUTH", "334", 512},   /* RFC 5321 4.5.3.1.4 */
    [POSTA_SASL_POP3] = {"AUTH", "+", 255},     /* RFC 5034 4 */
};

/* --- lines ------------------------------------------------------------- */

static void line_reset(posta_sasl *s)
{
    if (s->line.data)
        OPENSSL_cleanse(s->line.data, s->line.size);
    posta__buf_reset(&s->line);
}

static int line_out(posta_sasl *s, const char **line_r, size_t *len_r)
{
    *line_r = (const char *)posta__buf_head(&s->line);
    *len_r = posta__buf_used(&s->line);
    return 0;
}

/* Append base64 of data, or "=" for empty data when empty_eq is set. */
static int append_b64(posta_sasl *s, const unsigned char *data, size_t len, int empty_eq)
{
    char *b64 = NULL;
    size_t n = 0;
    if (len == 0)
        return empty_eq ? posta__buf_append(&s->line, "=", 1) : 0;
    int rc = posta_base64_encode(data, len, &b64, &n);
    if (rc == 0) {
        rc = posta__buf_append(&s->line, b64, n);
        OPENSSL_cleanse(b64, n);
    }
    free(b64);
    return rc < 0 ? POSTA_ENOMEM : 0;
}

/* A response line: base64 + CRLF, or a bare CRLF for an empty response. */
static int respond(posta_sasl *s, const unsigned char *data, size_t len, const char **line_r,
                   size_t *len_r)
{
    line_reset(s);
    if (append_b64(s, data, len, 0) < 0 || posta__buf_append(&s->line, "\r\n", 2) < 0)
        return posta__sasl_error(s, POSTA_ENOMEM, "out of memory");
    return line_out(s, line_r, len_r);
}

static void drop_ir(posta_sasl *s)
{
    if (s->ir) {
        OPENSSL_cleanse(s->ir, s->ir_len);
        free(s->ir);
    }
    s->ir = NULL;
    s->ir_len = 0;
    s->ir_pending = 0;
}

/* The first command line; the initial response goes on it when the protocol
 * takes one and it fits, else it waits for the first continuation. */
static int start_line(posta_sasl *s, const char **line_r, size_t *len_r)
{
    const struct adapter *a = &adapters[s->proto];
    line_reset(s);
    if (posta__buf_appendf(&s->line, "%s %s", a->verb, s->mech) < 0)
        return posta__sasl_error(s, POSTA_ENOMEM, "out of memory");
    if (s->ir_pending && s->ir_ok) {
        size_t b64 = s->ir_len ? (s->ir_len + 2) / 3 * 4 : 1;
        if (posta__buf_used(&s->line) + 1 + b64 + 2 <= a->max_line) {
            if (posta__buf_append(&s->line, " ", 1) < 0 || append_b64(s, s->ir, s->ir_len, 1) < 0)
                return posta__sasl_error(s, POSTA_ENOMEM, "out of memory");
            drop_ir(s);
        }
    }
    if (posta__buf_append(&s->line, "\r\n", 2) < 0)
        return posta__sasl_error(s, POSTA_ENOMEM, "out of memory");
    s->state = SASL_ST_EXCHANGE;
    return line_out(s, line_r, len_r);
}

static int cancel_line(posta_sasl *s, const char **line_r, size_t *len_r)
{
    s->canceled = 1;
    line_reset(s);
    if (posta__buf_append(&s->line, "*\r\n", 3) < 0)
        return posta__sasl_error(s, POSTA_ENOMEM, "out of memory");
    return line_out(s, line_r, len_r);
}

/* Cancel and remember why, for the sentence after the server's answer. */
static int cancel_because(posta_sasl *s, const char **line_r, size_t *len_r, const char *fmt, ...)
    POSTA_PRINTF(4, 5);
static int cancel_because(posta_sasl *s, const char **line_r, size_t *len_r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
    va_end(ap);
    return cancel_line(s, line_r, len_r);
}

/* --- mechanisms ---------------------------------------------------------- */

static int is_mech_char(int c)
{
    return isalnum(c) || c == '-' || c == '_';
}

/* Add name (upper-cased) to a list unless present or full. */
static void list_add(char list[][MECH_NAME_MAX + 1], size_t *n, const char *name, size_t len)
{
    if (len == 0 || len > MECH_NAME_MAX || *n >= MAX_CANDIDATES)
        return;
    char up[MECH_NAME_MAX + 1];
    for (size_t i = 0; i < len; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    up[len] = '\0';
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i], up) == 0)
            return;
    strcpy(list[(*n)++], up);
}

/* Split a list of names on anything that cannot be part of a name; an
 * "AUTH=" prefix (IMAP capabilities) is skipped. */
static void parse_names(const char *p, size_t len, char list[][MECH_NAME_MAX + 1], size_t *n)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && !is_mech_char((unsigned char)p[i]))
            i++;
        if (len - i >= 5 && strncasecmp(p + i, "AUTH=", 5) == 0)
            i += 5;
        size_t start = i;
        while (i < len && is_mech_char((unsigned char)p[i]))
            i++;
        if (i < len && p[i] == '=') {  /* some other capability=value */
            while (i < len && p[i] != ' ')
                i++;
            continue;
        }
        list_add(list, n, p + start, i - start);
    }
}

int posta__sasl_offered(const posta_sasl *s, const char *name)
{
    if (!s->offer_known)
        return 1;
    for (size_t i = 0; i < s->noffered; i++)
        if (strcasecmp(s->offered[i], name) == 0)
            return 1;
    return 0;
}

static int auto_eligible(const posta_sasl *s, const struct mech_info *m)
{
    if (!(m->flags & M_AUTO))
        return 0;
    if ((m->flags & M_PLUS) && !s->cb_len)
        return 0;
    if ((m->flags & M_IF_TOKEN) && !s->creds[POSTA_SASL_TOKEN].set)
        return 0;
    if ((m->flags & M_IF_CERT) && !s->client_cert)
        return 0;
    if ((m->flags & M_IF_GSSAPI) && !s->gssapi)
        return 0;
    return 1;
}

static void build_candidates(posta_sasl *s)
{
    s->ncand = s->next_cand = 0;
    if (s->mech_list) {
        char mine[MAX_CANDIDATES][MECH_NAME_MAX + 1];
        size_t n = 0;
        parse_names(s->mech_list, strlen(s->mech_list), mine, &n);
        for (size_t i = 0; i < n; i++)
            if (posta__sasl_offered(s, mine[i]))
                list_add(s->cand, &s->ncand, mine[i], strlen(mine[i]));
        return;
    }
    size_t nt;
    const struct mech_info *t = posta__sasl_mech_table(&nt);
    for (size_t i = 0; i < nt; i++)
        if (auto_eligible(s, &t[i]) && posta__sasl_offered(s, t[i].name))
            list_add(s->cand, &s->ncand, t[i].name, strlen(t[i].name));
}

static int ends_with_plus(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcasecmp(name + n - 5, "-PLUS") == 0;
}

static void end_mech(posta_sasl *s)
{
    if (s->driver && s->driver->end)
        s->driver->end(s);
    s->driver = NULL;
    drop_ir(s);
}

static void reset_mech(posta_sasl *s, const char *name)
{
    end_mech(s);
    snprintf(s->mech, sizeof(s->mech), "%s", name);
    s->mech_done = s->canceled = s->no_next = s->cred_missing = 0;
    s->oauth_errors = 0;
    s->oauth_status[0] = s->reason[0] = '\0';
    posta__err_clear(&s->err);
}

static const char *cred_name(int what)
{
    switch (what) {
    case POSTA_SASL_AUTHCID: return "user name";
    case POSTA_SASL_PASSWORD: return "password";
    case POSTA_SASL_TOKEN: return "OAuth token";
    default: return "credential";
    }
}

/* Start mechanism name on the client side: policy first, then the driver. */
static int try_begin(posta_sasl *s, const char *name)
{
    const struct mech_info *m = posta__sasl_mech_find(name);
    int cleartext = m && (m->flags & M_CLEARTEXT);

    reset_mech(s, name);
    if (cleartext && !s->encrypted && !s->allow_plain)
        return posta__sasl_error(s, POSTA_EPOLICY,
                                 "refusing %s: it would send the %s in cleartext over an "
                                 "unencrypted connection (use TLS, or allow plaintext explicitly)",
                                 name, (m->flags & M_IF_TOKEN) ? "token" : "password");
    if (ends_with_plus(name) && !s->cb_len)
        return posta__sasl_error(s, POSTA_EUNSUPPORTED,
                                 "%s needs TLS channel-binding data, and there is none", name);
    s->driver = m ? m->driver : &posta__sasl_cyrus_driver;
    struct mech_out out = {0};
    int rc = s->driver->begin(s, name, &out);
    if (rc < 0) {
        end_mech(s);
        if (rc == POSTA_ENOTFOUND)
            posta__sasl_error(s, rc, "%s: no %s available", name, cred_name(s->cred_missing));
        return rc;
    }
    s->mech_done = rc == MECH_DONE;
    if (out.present) {
        if (!(s->ir = malloc(out.len + 1)))
            return posta__sasl_error(s, POSTA_ENOMEM, "out of memory");
        memcpy(s->ir, out.data, out.len);
        s->ir_len = out.len;
        s->ir_pending = 1;
    }
    if (cleartext && !s->encrypted)
        posta__sasl_notice(s, "sending %s credentials in cleartext over an unencrypted "
                              "connection, as allowed", name);
    return 0;
}

/* Try the remaining candidates in order.  On failure the sentence lists why
 * each was skipped, and the code says the most telling reason. */
static int begin_next(posta_sasl *s, const char **line_r, size_t *len_r)
{
    char why[900] = "";
    size_t used = 0;
    int policy = 0, missing = 0;

    while (s->next_cand < s->ncand) {
        const char *name = s->cand[s->next_cand++];
        int rc = try_begin(s, name);
        if (rc == 0)
            return start_line(s, line_r, len_r);
        if (s->abort_code)
            return posta__sasl_error(s, s->abort_code, "authentication abandoned by the "
                                     "application (%s)", posta_strerror(s->abort_code));
        if (rc == POSTA_ENOMEM)
            return rc;
        policy |= rc == POSTA_EPOLICY;
        missing |= rc == POSTA_ENOTFOUND;
        if (used < sizeof(why))
            used += (size_t)snprintf(why + used, sizeof(why) - used, "%s%s", used ? "; " : "",
                                     posta_sasl_errmsg(s));
    }
    s->mech[0] = '\0';
    int code = policy ? POSTA_EPOLICY : missing ? POSTA_EAUTH : POSTA_EUNSUPPORTED;
    if (!why[0])
        return posta__sasl_error(s, code, "no SASL mechanism left to try");
    return posta__sasl_error(s, code, "%s", why);
}

static void describe_no_common(posta_sasl *s)
{
    char offered[400] = "";
    size_t used = 0;
    for (size_t i = 0; i < s->noffered && used < sizeof(offered); i++)
        used += (size_t)snprintf(offered + used, sizeof(offered) - used, "%s%s", i ? " " : "",
                                 s->offered[i]);
    if (s->offer_known && s->noffered == 0)
        posta__sasl_error(s, POSTA_EUNSUPPORTED, "the server offers no SASL mechanism");
    else if (s->mech_list)
        posta__sasl_error(s, POSTA_EUNSUPPORTED, "the server offers none of %s (it offers %s)",
                          s->mech_list, offered);
    else
        posta__sasl_error(s, POSTA_EUNSUPPORTED,
                          "no SASL mechanism in common: the server offers %s", offered);
}

/* The warning c-client printed as "SECURITY PROBLEM: insecure server
 * advertised AUTH=PLAIN" (RFC 2595 6). */
static void warn_plain_offer(posta_sasl *s)
{
    if (s->encrypted || !s->offer_known)
        return;
    for (size_t i = 0; i < s->noffered; i++)
        if (strcmp(s->offered[i], "PLAIN") == 0 || strcmp(s->offered[i], "LOGIN") == 0) {
            posta__sasl_notice(s, "the server offers %s on an unencrypted connection",
                               s->offered[i]);
            return;
        }
}

/* --- the exchange ---------------------------------------------------------- */

int posta_sasl_start(posta_sasl *s, const char *offered, size_t offered_len,
                     const char **line_r, size_t *len_r)
{
    if (s->state != SASL_ST_NEW)
        return posta__sasl_error(s, POSTA_ESTATE, "authentication was already started");
    s->noffered = 0;
    s->offer_known = offered != NULL;
    if (offered)
        parse_names(offered, offered_len, s->offered, &s->noffered);
    warn_plain_offer(s);
    build_candidates(s);
    if (s->ncand == 0) {
        describe_no_common(s);
        s->state = SASL_ST_FAILED;
        return s->err.code;
    }
    int rc = begin_next(s, line_r, len_r);
    if (rc < 0)
        s->state = SASL_ST_FAILED;
    return rc;
}

/* Run one challenge through the mechanism and shape the answer. */
static int step(posta_sasl *s, const unsigned char *in, size_t n, const char **line_r,
                size_t *len_r)
{
    struct mech_out out = {0};
    s->cred_missing = 0;
    int rc = s->driver->step(s, in, n, &out);
    if (rc == POSTA_ENOMEM)
        return posta__sasl_error(s, rc, "out of memory");
    if (rc < 0) {
        if (rc == POSTA_ENOTFOUND)
            return cancel_because(s, line_r, len_r, "no %s available", cred_name(s->cred_missing));
        return cancel_because(s, line_r, len_r, "%s", posta_sasl_errmsg(s));
    }
    s->mech_done = rc == MECH_DONE;
    return respond(s, out.data, out.len, line_r, len_r);
}

int posta_sasl_on_continuation(posta_sasl *s, const char *text, size_t len,
                               const char **line_r, size_t *len_r)
{
    if (s->state != SASL_ST_EXCHANGE)
        return posta__sasl_error(s, POSTA_ESTATE, "no SASL exchange is under way");
    if (s->canceled)
        return cancel_line(s, line_r, len_r);
    if (s->ir_pending) {
        /* The go-ahead for the held-back initial response; its text should be
         * empty, and some servers put words there (qmail's "ok, go on"). */
        int rc = respond(s, s->ir, s->ir_len, line_r, len_r);
        drop_ir(s);
        return rc;
    }
    unsigned char *in = NULL;
    size_t n = 0;
    posta_conv_error cerr = {0};
    int rc = posta_base64_decode(text, len, &in, &n, &cerr);
    if (rc == POSTA_ENOMEM)
        return posta__sasl_error(s, rc, "out of memory");
    if (rc < 0)
        return cancel_because(s, line_r, len_r, "the server's challenge is not valid base64 (%s at "
                              "offset %zu)", cerr.msg ? cerr.msg : "bad input", cerr.offset);
    rc = step(s, in, n, line_r, len_r);
    OPENSSL_cleanse(in, n);
    free(in);
    return rc;
}

static int fail(posta_sasl *s, int code, const char *fmt, ...) POSTA_PRINTF(3, 4);
static int fail(posta_sasl *s, int code, const char *fmt, ...)
{
    char msg[sizeof(s->err.msg)];
    va_list ap;
    /* The arguments may be the current sentence itself. */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    posta__err_set(&s->err, code, "%s", msg);
    end_mech(s);
    s->state = SASL_ST_FAILED;
    return code;
}

/* Additional data with success: one more step that must complete. */
static int success_data(posta_sasl *s, const char *data, size_t len)
{
    unsigned char *in = NULL;
    size_t n = 0;
    if (posta_base64_decode(data, len, &in, &n, NULL) < 0)
        return fail(s, POSTA_EAUTH, "%s: the server's success data is not valid base64", s->mech);
    struct mech_out out = {0};
    int rc = s->driver->step(s, in, n, &out);
    OPENSSL_cleanse(in, n);
    free(in);
    if (rc < 0)
        return fail(s, POSTA_EAUTH, "%s", posta_sasl_errmsg(s));
    s->mech_done = rc == MECH_DONE;
    return 0;
}

int posta_sasl_on_success(posta_sasl *s, const char *data, size_t len)
{
    if (s->state != SASL_ST_EXCHANGE)
        return posta__sasl_error(s, POSTA_ESTATE, "no SASL exchange is under way");
    if (s->canceled)
        return fail(s, POSTA_EAUTH, "the server reported success for %s although the client "
                    "canceled it", s->mech);
    if (data && len > 0 && !s->ir_pending && success_data(s, data, len) < 0)
        return s->err.code;
    if (s->ir_pending || !s->mech_done)
        return fail(s, POSTA_EAUTH, "the server reported success before the %s exchange was "
                    "complete, so it has not proved its identity; do not trust this connection",
                    s->mech);
    if (s->driver->finish && s->driver->finish(s) < 0)
        return fail(s, POSTA_EAUTH, "%s", posta_sasl_errmsg(s));
    if (posta_sasl_ssf(s) < s->min_ssf)
        return fail(s, POSTA_EPOLICY, "security strength factor %u is below the required %u",
                    posta_sasl_ssf(s), s->min_ssf);
    s->state = SASL_ST_DONE;
    return 0;
}

/* The server's words, made safe to print. */
static void server_words(const char *text, size_t len, char *out, size_t outsz)
{
    size_t j = 0;
    for (size_t i = 0; text && i < len && j + 1 < outsz; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\r' || c == '\n')
            break;
        out[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[j] = '\0';
}

static void failure_sentence(posta_sasl *s, const char *words)
{
    const char *srv = words[0] ? words : "no reason given";
    if (s->canceled && s->reason[0])
        posta__sasl_error(s, POSTA_EAUTH, "%s was canceled by the client: %s (server: %s)",
                          s->mech, s->reason, srv);
    else if (s->oauth_status[0])
        posta__sasl_error(s, POSTA_EAUTH, "%s authentication failed: the token was refused "
                          "(status \"%s\"; server: %s)", s->mech, s->oauth_status, srv);
    else
        posta__sasl_error(s, POSTA_EAUTH, "%s authentication failed: %s", s->mech, srv);
}

int posta_sasl_on_failure(posta_sasl *s, posta_sasl_failure kind, const char *text, size_t len,
                          const char **line_r, size_t *len_r)
{
    char words[300], first[700];
    if (s->state != SASL_ST_EXCHANGE)
        return posta__sasl_error(s, POSTA_ESTATE, "no SASL exchange is under way");
    server_words(text, len, words, sizeof(words));
    failure_sentence(s, words);
    if (s->abort_code)
        return fail(s, s->abort_code, "authentication abandoned by the application (%s)",
                    posta_strerror(s->abort_code));
    if (kind == POSTA_SASL_CREDENTIALS || !s->try_next || s->no_next ||
        s->next_cand >= s->ncand)
        return fail(s, POSTA_EAUTH, "%s", posta_sasl_errmsg(s));

    snprintf(first, sizeof(first), "%s", posta_sasl_errmsg(s));
    char failed[MECH_NAME_MAX + 1];
    snprintf(failed, sizeof(failed), "%s", s->mech);
    int rc = begin_next(s, line_r, len_r);
    if (rc == 0) {
        posta__sasl_notice(s, "%s; trying %s", first, s->mech);
        return 0;
    }
    if (s->abort_code || rc == POSTA_ENOMEM)
        return fail(s, rc, "%s", posta_sasl_errmsg(s));
    snprintf(s->mech, sizeof(s->mech), "%s", failed);
    return fail(s, POSTA_EAUTH, "%s; no other mechanism could be tried (%s)", first,
                posta_sasl_errmsg(s));
}

int posta_sasl_cancel(posta_sasl *s, const char **line_r, size_t *len_r)
{
    if (s->state != SASL_ST_EXCHANGE)
        return posta__sasl_error(s, POSTA_ESTATE, "no SASL exchange is under way");
    s->no_next = 1;
    snprintf(s->reason, sizeof(s->reason), "the application canceled");
    return cancel_line(s, line_r, len_r);
}

int posta_sasl_parse_continuation(posta_sasl_proto proto, const char *line, size_t len,
                                  const char **text_r, size_t *text_len_r)
{
    if (proto < POSTA_SASL_IMAP || proto > POSTA_SASL_POP3 || !line)
        return 0;
    const char *marker = adapters[proto].marker;
    size_t m = strlen(marker);
    if (len >= 1 && line[len - 1] == '\n')
        len--;
    if (len >= 1 && line[len - 1] == '\r')
        len--;
    if (len < m || memcmp(line, marker, m) != 0)
        return 0;
    if (len > m && line[m] != ' ')
        return 0;
    size_t skip = len > m ? m + 1 : m;
    *text_r = line + skip;
    *text_len_r = len - skip;
    return 1;
}
