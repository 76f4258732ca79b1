/* Cyrus's x* allocators: out of memory, they tell the application's
 * fatal() instead of returning NULL (unless fatal() returns). */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cyrus/xmalloc.h"
#include "imclient_int.h"

static void *checked(void *p)
{
    if (!p)
        imc_fatal("Virtual memory exhausted", EX_TEMPFAIL);
    return p;
}

IMC_API void *xmalloc(size_t size)
{
    /* malloc(0) may return NULL; that is not running out of memory. */
    return checked(malloc(size ? size : 1));
}

IMC_API void *xzmalloc(size_t size)
{
    return checked(calloc(1, size ? size : 1));
}

IMC_API void *xcalloc(size_t nmemb, size_t size)
{
    return checked(calloc(nmemb ? nmemb : 1, size ? size : 1));
}

IMC_API void *xrealloc(void *ptr, size_t size)
{
    return checked(realloc(ptr, size ? size : 1));
}

IMC_API char *xstrdup(const char *str)
{
    return checked(strdup(str));
}

IMC_API char *xstrndup(const char *str, size_t len)
{
    return checked(strndup(str, len));
}

IMC_API char *xstrdupnull(const char *str)
{
    return str ? xstrdup(str) : NULL;
}

IMC_API char *xstrdupsafe(const char *str)
{
    return xstrdup(str ? str : "");
}

IMC_API void *xmemdup(const void *ptr, size_t size)
{
    void *p = xmalloc(size);
    if (p && size)
        memcpy(p, ptr, size);
    return p;
}
