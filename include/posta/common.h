/* Shared definitions for every posta public header: export macro, version. */
#ifndef POSTA_COMMON_H
#define POSTA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(POSTA_BUILDING) && defined(__GNUC__)
#define POSTA_API __attribute__((visibility("default")))
#else
#define POSTA_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The library version as "MAJOR.MINOR.PATCH"; a static string. */
POSTA_API const char *posta_version(void);

/* One-time global initialisation (OpenSSL, libsasl2).  Every posta
 * constructor calls it, so applications need not; it is safe to call from
 * several threads at once.  Returns 0 or a negative posta_error. */
POSTA_API int posta_init(void);

#ifdef __cplusplus
}
#endif
#endif
