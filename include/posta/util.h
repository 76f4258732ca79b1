/* Public text helpers: base64 (RFC 4648), IMAP modified UTF-7 (RFC 3501
 * section 5.1.3) and UTF-8 validation. */
#ifndef POSTA_UTIL_PUBLIC_H
#define POSTA_UTIL_PUBLIC_H

#include <posta/common.h>
#include <posta/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Conventions shared by every function here:
 *
 * - Input is (pointer, length); it may hold NUL bytes and need not be
 *   NUL-terminated.  A NULL pointer is accepted when the length is 0.
 * - Output is malloc'd: on success *out_r receives a buffer owned by the
 *   caller, released with free(3), always followed by a NUL byte that is not
 *   counted in *out_len_r (so text results are usable as C strings).  On
 *   failure *out_r is set to NULL and *out_len_r to 0.
 * - Decoders are strict: they accept exactly one spelling of each value and
 *   return POSTA_EINVAL for anything else.  When err is not NULL it then
 *   receives a constant sentence saying what was wrong and the byte offset
 *   in the input where it was found; err is left untouched on success.
 * - Errors: POSTA_EINVAL (bad input, or a NULL output pointer) and
 *   POSTA_ENOMEM.
 */
typedef struct posta_conv_error {
    const char *msg;   /* static sentence, e.g. "invalid base64 character" */
    size_t offset;     /* byte offset in the input */
} posta_conv_error;

/* --- base64, RFC 4648 section 4 ---------------------------------------- */

/* Encode len bytes as base64 with the standard alphabet and "=" padding,
 * no line breaks.  "foob" gives "Zm9vYg==". */
POSTA_API int posta_base64_encode(const void *data, size_t len,
                                  char **out_r, size_t *out_len_r);

/*
 * Decode base64 text (standard alphabet).  Strict: the length must be a
 * multiple of 4, padding ("=" or "==") only at the very end, no whitespace,
 * no characters outside the alphabet (the URL-safe "-" and "_" too), and the
 * unused bits before the padding must be zero ("Zm9=" is refused, "Zm8="
 * accepted), so that every byte string has exactly one encoding.  Empty text
 * decodes to zero bytes.  The result may contain NUL bytes.
 */
POSTA_API int posta_base64_decode(const char *text, size_t len,
                                  unsigned char **out_r, size_t *out_len_r,
                                  posta_conv_error *err);

/* --- UTF-8 --------------------------------------------------------------- */

/* Check that len bytes are well-formed UTF-8 (RFC 3629): no overlong forms,
 * no UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no
 * truncated sequence.  NUL is valid UTF-8.  Returns 0 or POSTA_EINVAL (err
 * says where). */
POSTA_API int posta_utf8_check(const void *data, size_t len, posta_conv_error *err);

/* --- IMAP modified UTF-7 (mailbox names) ------------------------------- */

/*
 * Encode a UTF-8 mailbox name as IMAP modified UTF-7 (RFC 3501 section
 * 5.1.3, kept by RFC 9051 for servers without UTF8=ACCEPT).  Printable
 * US-ASCII (0x20-0x7e) stands for itself, "&" becomes "&-", and every run
 * of other characters becomes one "&" modified-BASE64 "-" section of
 * UTF-16BE, so the result is canonical: "~peter/mail/台北/日本語" gives
 * "~peter/mail/&U,BTFw-/&ZeVnLIqe-".  The result is printable ASCII.
 * Refuses (POSTA_EINVAL) input that is not valid UTF-8 and NUL bytes, which
 * no mailbox name can hold.
 */
POSTA_API int posta_mutf7_encode(const char *utf8, size_t len,
                                 char **out_r, size_t *out_len_r,
                                 posta_conv_error *err);

/*
 * Decode a modified UTF-7 mailbox name (as a server sends it in LIST) to
 * UTF-8.  Refuses with POSTA_EINVAL every spelling the encoder would not
 * produce, so that decode followed by encode gives back the input:
 * bytes outside 0x20-0x7e, a "&" section that is not terminated by "-",
 * characters outside the modified BASE64 alphabet inside a section,
 * leftover bits that are not zero or make up a whole character, printable
 * ASCII or NUL encoded in BASE64, unpaired UTF-16 surrogates, and two
 * sections in a row ("&AOE-&AOI-", which must be written "&AOEA4g-").
 */
POSTA_API int posta_mutf7_decode(const char *mutf7, size_t len,
                                 char **out_r, size_t *out_len_r,
                                 posta_conv_error *err);

#ifdef __cplusplus
}
#endif
#endif
