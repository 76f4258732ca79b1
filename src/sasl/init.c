/* One-time libsasl2 client initialisation: real mutexes and a silent log, so
 * that sessions in several threads are safe and nothing goes to syslog. */
#include "sasl_int.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_result;

/* libsasl2's own mutexes are no-ops unless the application supplies these. */
static void *mutex_alloc(void)
{
    pthread_mutex_t *m = malloc(sizeof(*m));
    if (m && pthread_mutex_init(m, NULL) != 0) {
        free(m);
        m = NULL;
    }
    return m;
}

static int mutex_lock(void *m)
{
    return pthread_mutex_lock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static int mutex_unlock(void *m)
{
    return pthread_mutex_unlock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static void mutex_free(void *m)
{
    if (m) {
        pthread_mutex_destroy(m);
        free(m);
    }
}

/* Without a log callback libsasl2 writes to syslog; errors reach the caller
 * through sasl_errdetail() instead. */
static int quiet_log(void *context, int level, const char *message)
{
    return SASL_OK;
}

static const sasl_callback_t global_callbacks[] = {
    {SASL_CB_LOG, (int (*)(void))(void (*)(void))quiet_log, NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

static void do_init(void)
{
    sasl_set_mutex(mutex_alloc, mutex_lock, mutex_unlock, mutex_free);
    /* Not fatal for posta: the built-in mechanisms still work. */
    init_result = sasl_client_init(global_callbacks) == SASL_OK ? 0 : POSTA_EUNSUPPORTED;
}

int posta__sasl_init(void)
{
    pthread_once(&once, do_init);
    return init_result;
}
