/* The mechanisms posta knows by name, strongest first: the order of automatic
 * choice and the properties the policy checks. */
#include "sasl_int.h"

#include <strings.h>

#define CYRUS &posta__sasl_cyrus_driver

/* Channel-bound SCRAM beats everything but what the caller set up on
 * purpose (a client certificate, a token, a Kerberos ticket); then SCRAM by
 * hash strength; then the older challenge-response mechanisms; last those
 * that send the password itself. */
static const struct mech_info table[] = {
    {"EXTERNAL", M_AUTO | M_IF_CERT, CYRUS},
    {"OAUTHBEARER", M_AUTO | M_IF_TOKEN | M_CLEARTEXT, &posta__sasl_oauthbearer_driver},
    {"XOAUTH2", M_AUTO | M_IF_TOKEN | M_CLEARTEXT, &posta__sasl_xoauth2_driver},
    {"GSSAPI", M_AUTO | M_IF_GSSAPI, CYRUS},
    {"SCRAM-SHA-512-PLUS", M_AUTO | M_PLUS, CYRUS},
    {"SCRAM-SHA-384-PLUS", M_AUTO | M_PLUS, CYRUS},
    {"SCRAM-SHA-256-PLUS", M_AUTO | M_PLUS, CYRUS},
    {"SCRAM-SHA-224-PLUS", M_AUTO | M_PLUS, CYRUS},
    {"SCRAM-SHA-1-PLUS", M_AUTO | M_PLUS, CYRUS},
    {"SCRAM-SHA-512", M_AUTO, CYRUS},
    {"SCRAM-SHA-384", M_AUTO, CYRUS},
    {"SCRAM-SHA-256", M_AUTO, CYRUS},
    {"SCRAM-SHA-224", M_AUTO, CYRUS},
    {"SCRAM-SHA-1", M_AUTO, CYRUS},
    /* libsasl2 would answer from its reauthentication cache (RFC 2831 2.2)
     * with an initial response most servers, Dovecot included, refuse. */
    {"DIGEST-MD5", M_AUTO | M_SERVER_FIRST, CYRUS},
    {"CRAM-MD5", M_AUTO, CYRUS},
    {"PLAIN", M_AUTO | M_CLEARTEXT, CYRUS},
    {"LOGIN", M_AUTO | M_CLEARTEXT, CYRUS},
    /* Only when named: ANONYMOUS is not an authentication, NTLM is broken. */
    {"ANONYMOUS", 0, CYRUS},
    {"NTLM", 0, CYRUS},
};

const struct mech_info *posta__sasl_mech_find(const char *name)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcasecmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

const struct mech_info *posta__sasl_mech_table(size_t *n_r)
{
    *n_r = sizeof(table) / sizeof(table[0]);
    return table;
}
