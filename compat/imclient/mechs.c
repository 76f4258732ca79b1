/* The mechanism descriptors of <cyrus/sasl.h>: names for posta's SASL
 * engine, recognized by their start function. */
#include <stddef.h>

#include "imclient_int.h"

/* Called only by applications that drive a descriptor themselves: posta's
 * descriptors run inside imclient_authenticate(), so refuse. */
static int posta_start(void *rock, const char *service, const char *host, const char *user, int protallowed,
                       int maxbufsize, struct sockaddr *localaddr, struct sockaddr *remoteaddr, void **state)
{
    (void)rock, (void)service, (void)host, (void)user, (void)protallowed, (void)maxbufsize;
    (void)localaddr, (void)remoteaddr;
    if (state)
        *state = NULL;
    return SASL_FAIL;
}

static int posta_auth(void *state, int inputlen, char *input, int *outputlen, char **output)
{
    (void)state, (void)inputlen, (void)input;
    if (outputlen)
        *outputlen = 0;
    if (output)
        *output = NULL;
    return SASL_FAIL;
}

static void posta_query(void *state, char **user, int *protlevel, sasl_encodefunc_t **encodefunc,
                        sasl_decodefunc_t **decodefunc, int *maxplain)
{
    (void)state, (void)maxplain;
    if (user)
        *user = NULL;
    if (protlevel)
        *protlevel = SASL_PROT_NONE;
    if (encodefunc)
        *encodefunc = NULL;
    if (decodefunc)
        *decodefunc = NULL;
}

static void posta_free_state(void *state)
{
    (void)state;
}

int imc_mech_is_posta(const struct sasl_client *m)
{
    return m->start == posta_start;
}

#define MECH(var, name, ir) \
    IMC_API struct sasl_client var = {(char *)name, ir, posta_start, posta_auth, posta_query, \
                                      posta_free_state, NULL, NULL, NULL}

/* Client-first mechanisms can put their first message on the command. */
MECH(krb_sasl_client, "GSSAPI", 1);
MECH(gssapi_sasl_client, "GSSAPI", 1);
MECH(external_sasl_client, "EXTERNAL", 1);
MECH(scram_sha_512_plus_sasl_client, "SCRAM-SHA-512-PLUS", 1);
MECH(scram_sha_384_plus_sasl_client, "SCRAM-SHA-384-PLUS", 1);
MECH(scram_sha_256_plus_sasl_client, "SCRAM-SHA-256-PLUS", 1);
MECH(scram_sha_224_plus_sasl_client, "SCRAM-SHA-224-PLUS", 1);
MECH(scram_sha_1_plus_sasl_client, "SCRAM-SHA-1-PLUS", 1);
MECH(scram_sha_512_sasl_client, "SCRAM-SHA-512", 1);
MECH(scram_sha_384_sasl_client, "SCRAM-SHA-384", 1);
MECH(scram_sha_256_sasl_client, "SCRAM-SHA-256", 1);
MECH(scram_sha_224_sasl_client, "SCRAM-SHA-224", 1);
MECH(scram_sha_1_sasl_client, "SCRAM-SHA-1", 1);
MECH(digest_md5_sasl_client, "DIGEST-MD5", 0);
MECH(cram_md5_sasl_client, "CRAM-MD5", 0);
MECH(plain_sasl_client, "PLAIN", 1);
MECH(loginmech_sasl_client, "LOGIN", 0);
MECH(oauthbearer_sasl_client, "OAUTHBEARER", 1);
MECH(xoauth2_sasl_client, "XOAUTH2", 1);
MECH(anonymous_sasl_client, "ANONYMOUS", 1);

IMC_API char *sasl_prottostring(int protlevel)
{
    switch (protlevel) {
    case SASL_PROT_NONE:
        return (char *)"no protection";
    case SASL_PROT_INTEGRITY:
        return (char *)"integrity protection";
    case SASL_PROT_PRIVACY:
        return (char *)"privacy protection";
    default:
        return (char *)"unknown";
    }
}
