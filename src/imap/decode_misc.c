/* The small responses: FLAGS, EXISTS, RECENT, EXPUNGE and ID. */
#include "decode_internal.h"

#include <string.h>

/* mailbox-data =/ "FLAGS" SP flag-list */
int posta_imap_decode_flags(posta_imap_decoder *d, const posta_imap_response *r,
                            posta_imap_flagset *flags_r)
{
    POSTA_IMAPD_BEGIN(d, r, flags_r);
    int rc = posta__imapd_expect(d, r, "FLAGS", 0);
    if (rc)
        return rc;
    if (r->nargs != 1)
        return posta__imapd_proto(d, "FLAGS: expected one flag list, got %zu arguments",
                                  r->nargs);
    return posta__imapd_flag_list(d, &r->args[0], "FLAGS", 0, flags_r);
}

/* mailbox-data =/ number SP "EXISTS" / number SP "RECENT"
 * message-data = nz-number SP "EXPUNGE" */
static int numbered(posta_imap_decoder *d, const posta_imap_response *r, const char *keyword,
                    int nonzero, uint32_t *n_r)
{
    POSTA_IMAPD_BEGIN(d, r, n_r);
    int rc = posta__imapd_expect(d, r, keyword, 1);
    if (rc)
        return rc;
    if (nonzero && r->number == 0)
        return posta__imapd_proto(d, "%s of message number 0", keyword);
    *n_r = r->number;
    return 0;
}

int posta_imap_decode_exists(posta_imap_decoder *d, const posta_imap_response *r, uint32_t *n_r)
{
    return numbered(d, r, "EXISTS", 0, n_r);
}

int posta_imap_decode_recent(posta_imap_decoder *d, const posta_imap_response *r, uint32_t *n_r)
{
    return numbered(d, r, "RECENT", 0, n_r);
}

int posta_imap_decode_expunge(posta_imap_decoder *d, const posta_imap_response *r, uint32_t *n_r)
{
    return numbered(d, r, "EXPUNGE", 1, n_r);
}

/* id_response    ::= "ID" SPACE id_params_list
 * id_params_list ::= "(" #(string SPACE nstring) ")" / nil      (RFC 2971) */
int posta_imap_decode_id(posta_imap_decoder *d, const posta_imap_response *r,
                         posta_imap_id_data *id_r)
{
    char b[POSTA_IMAPD_SHOW];
    POSTA_IMAPD_BEGIN(d, r, id_r);
    int rc = posta__imapd_expect(d, r, "ID", 0);
    if (rc)
        return rc;
    if (r->nargs != 1)
        return posta__imapd_proto(d, "ID: expected one list or NIL, got %zu arguments",
                                  r->nargs);
    const posta_imap_arg *l = &r->args[0];
    if (posta__imapd_is_nil(l)) {
        id_r->nil = 1;
        return 0;
    }
    if (!posta__imapd_is_list(l))
        return posta__imapd_proto(d, "ID: expected a list or NIL, got %s",
                                  posta__imapd_show_arg(l, b));
    size_t n = l->count / 2;   /* an odd last field is dropped */
    posta_imap_param *v = posta__imapd_array(d, n, sizeof(*v));
    if (!v)
        return d->err.code;
    for (size_t i = 0; i < n; i++)
        if ((rc = posta__imapd_astring(d, &l->list[2 * i], "ID field", &v[i].name)) != 0 ||
            (rc = posta__imapd_nstring(d, &l->list[2 * i + 1], "ID value", &v[i].value)) != 0)
            return rc;
    id_r->v = v;
    id_r->count = n;
    return 0;
}
