/* TLS channel-binding data (RFC 5929, RFC 9266) for the SASL -PLUS
 * mechanisms, taken from the stream's OpenSSL connection. */
#include "net.h"

#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define EXPORTER_LABEL "EXPORTER-Channel-Binding"

/* RFC 9266: 32 bytes of exporter output, empty context. */
static int tls_exporter(SSL *ssl, unsigned char *out, size_t outsz, size_t *len_r)
{
    if (outsz < 32 || SSL_export_keying_material(ssl, out, 32, EXPORTER_LABEL,
                                                 strlen(EXPORTER_LABEL), NULL, 0, 0) != 1)
        return POSTA_EUNSUPPORTED;
    *len_r = 32;
    return 0;
}

/* RFC 5929 3: the first Finished message of the handshake: the client's,
 * or the server's when the session was resumed. */
static int tls_unique(SSL *ssl, unsigned char *out, size_t outsz, size_t *len_r)
{
    size_t n = SSL_session_reused(ssl) ? SSL_get_peer_finished(ssl, out, outsz)
                                       : SSL_get_finished(ssl, out, outsz);
    if (n == 0 || n > outsz)
        return POSTA_EUNSUPPORTED;
    *len_r = n;
    return 0;
}

/* RFC 5929 4.1: the server certificate's hash, with SHA-256 in place of
 * MD5 and SHA-1. */
static int tls_server_end_point(SSL *ssl, unsigned char *out, size_t outsz, size_t *len_r)
{
    X509 *cert = SSL_get0_peer_certificate(ssl);
    int md_nid = NID_undef;
    unsigned n = 0;
    if (!cert || !OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, NULL))
        return POSTA_EUNSUPPORTED;
    if (md_nid == NID_md5 || md_nid == NID_sha1 || md_nid == NID_undef)
        md_nid = NID_sha256;
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    if (!md || (size_t)EVP_MD_get_size(md) > outsz || X509_digest(cert, md, out, &n) != 1)
        return POSTA_EUNSUPPORTED;
    *len_r = n;
    return 0;
}

int posta__tls_channel_binding(const posta_stream *s, const char *type, char type_r[32],
                               unsigned char *out, size_t outsz, size_t *len_r)
{
    SSL *ssl = posta__tls_ssl(s);
    if (!ssl)
        return POSTA_ESTATE;
    if (!type)
        type = SSL_version(ssl) >= TLS1_3_VERSION ? "tls-exporter" : "tls-unique";
    int rc;
    if (strcasecmp(type, "tls-exporter") == 0)
        rc = tls_exporter(ssl, out, outsz, len_r);
    else if (strcasecmp(type, "tls-unique") == 0)
        rc = SSL_version(ssl) >= TLS1_3_VERSION ? POSTA_EUNSUPPORTED  /* RFC 8446 C.5 */
                                                 : tls_unique(ssl, out, outsz, len_r);
    else if (strcasecmp(type, "tls-server-end-point") == 0)
        rc = tls_server_end_point(ssl, out, outsz, len_r);
    else
        rc = POSTA_EUNSUPPORTED;
    if (rc == 0) {
        strncpy(type_r, type, 31);
        type_r[31] = '\0';
    }
    return rc;
}
