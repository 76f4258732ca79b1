/* ETRN (RFC 1985) nodes of a session, their statuses and application
 * data. */
#include <errno.h>
#include <stdlib.h>

#include "esmtp_int.h"

ESMTP_API smtp_etrn_node_t smtp_etrn_add_node(smtp_session_t s, int option, const char *node)
{
    if (!s || !node || (option != 0 && option != '@'))
        return esmtp_fail_null(SMTP_ERR_INVAL);
    struct smtp_etrn_node *n = calloc(1, sizeof(*n));
    if (!n)
        return esmtp_fail_null(-ENOMEM);
    int rc = posta_smtp_add_etrn(s->h, option, node, &n->n);
    if (rc < 0) {
        free(n);
        esmtp_set_posta_error(rc);
        return NULL;
    }
    posta_smtp_etrn_set_user(n->n, n);
    n->session = s;
    if (s->etrn_tail)
        s->etrn_tail->next = n;
    else
        s->etrn = n;
    s->etrn_tail = n;
    return n;
}

ESMTP_API int smtp_etrn_enumerate_nodes(smtp_session_t s, smtp_etrn_enumerate_nodecb_t cb,
                                        void *arg)
{
    if (!s || !cb)
        return esmtp_fail(SMTP_ERR_INVAL, 0);
    for (struct smtp_etrn_node *n = s->etrn; n; n = n->next)
        cb(n, posta_smtp_etrn_option(n->n), posta_smtp_etrn_node(n->n), arg);
    return 1;
}

ESMTP_API const smtp_status_t *smtp_etrn_node_status(smtp_etrn_node_t n)
{
    if (!n)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    return esmtp_status_update(&n->status, posta_smtp_etrn_status(n->n));
}

ESMTP_API void *smtp_etrn_set_application_data(smtp_etrn_node_t n, void *data)
{
    if (!n)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    void *old = n->app.data;
    n->app = (struct esmtp_appdata){data, NULL};
    return old;
}

ESMTP_API void smtp_etrn_set_application_data_release(smtp_etrn_node_t n, void *data,
                                                      void (*release)(void *))
{
    if (!n) {
        esmtp_fail(SMTP_ERR_INVAL, 0);
        return;
    }
    esmtp_appdata_set(&n->app, data, release);
}

ESMTP_API void *smtp_etrn_get_application_data(smtp_etrn_node_t n)
{
    if (!n)
        return esmtp_fail_null(SMTP_ERR_INVAL);
    return n->app.data;
}
