/* Cyrus's allocation helpers that never return NULL: out of memory, they
 * call the application's fatal() (see <cyrus/imclient.h>). */
#ifndef INCLUDED_XMALLOC_H
#define INCLUDED_XMALLOC_H

/* Programs written for Cyrus use exit(), free() and the string functions
 * after including this header alone. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifndef CYRUS_IMCLIENT_API
#if defined(POSTA_IMCLIENT_BUILDING) && defined(__GNUC__)
#define CYRUS_IMCLIENT_API __attribute__((visibility("default")))
#else
#define CYRUS_IMCLIENT_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Each returns memory to release with free(3).  When memory runs out they
 * call fatal("Virtual memory exhausted", EX_TEMPFAIL); should fatal()
 * return, they return NULL.  fatal() is not declared here: programs define
 * it with the signature of their choice (char * or const char *).
 */
CYRUS_IMCLIENT_API void *xmalloc(size_t size);
CYRUS_IMCLIENT_API void *xzmalloc(size_t size);               /* zeroed */
CYRUS_IMCLIENT_API void *xcalloc(size_t nmemb, size_t size);
CYRUS_IMCLIENT_API void *xrealloc(void *ptr, size_t size);
CYRUS_IMCLIENT_API char *xstrdup(const char *str);
CYRUS_IMCLIENT_API char *xstrndup(const char *str, size_t len); /* at most len bytes, NUL added */
CYRUS_IMCLIENT_API char *xstrdupnull(const char *str);          /* NULL for NULL */
CYRUS_IMCLIENT_API char *xstrdupsafe(const char *str);          /* "" for NULL */
CYRUS_IMCLIENT_API void *xmemdup(const void *ptr, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* INCLUDED_XMALLOC_H */
