/* Mailbox-level data: LIST/LSUB with LIST-EXTENDED, STATUS, NAMESPACE,
 * QUOTA/QUOTAROOT, ACL/LISTRIGHTS/MYRIGHTS and METADATA. */
#include "decode_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* --- LIST, LSUB -------------------------------------------------------------------
 * mailbox-list = "(" [mbx-list-flags] ")" SP
 *                (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox [SP mbox-list-extended]
 * mbox-list-extended      = "(" [mbox-list-extended-item *(SP mbox-list-extended-item)] ")"
 * mbox-list-extended-item = mbox-list-extended-item-tag SP tagged-ext-val
 * ; "CHILDINFO" SP "(" list-select-base-opt-quoted *(SP ...) ")"   (RFC 5258)
 * ; "OLDNAME" SP "(" mailbox ")"                                    (RFC 9051)
 */

static int list_extended(posta_imap_decoder *d, const posta_imap_arg *a, posta_imap_list_data *l)
{
    char b[POSTA_IMAPD_SHOW];
    int rc;
    if (!posta__imapd_is_list(a))
        return posta__imapd_proto(d, "LIST: expected extended data in parentheses, got %s",
                                  posta__imapd_show_arg(a, b));
    posta_imap_item *ext = posta__imapd_array(d, a->count / 2, sizeof(*ext));
    if (!ext)
        return d->err.code;
    l->ext = ext;
    for (size_t i = 0; i + 1 < a->count; i += 2) {
        const posta_imap_arg *tag = &a->list[i], *v = &a->list[i + 1];
        if (!posta__imapd_is_text(tag))
            return posta__imapd_proto(d, "LIST: extended item tag is %s",
                                      posta__imapd_show_arg(tag, b));
        if (posta__imapd_arg_eq(tag, "CHILDINFO") && posta__imapd_is_list(v)) {
            posta_imap_flagset ci;
            if ((rc = posta__imapd_flag_list(d, v, "LIST CHILDINFO", 1, &ci)) != 0)
                return rc;
            l->childinfo = ci.v;
            l->nchildinfo = ci.count;
        } else if (posta__imapd_arg_eq(tag, "OLDNAME") && posta__imapd_is_list(v) &&
                   v->count == 1) {
            if ((rc = posta__imapd_mailbox(d, &v->list[0], "LIST OLDNAME", &l->oldname)) != 0)
                return rc;
            l->has_oldname = 1;
        } else {
            if ((rc = posta__imapd_ref(d, tag->str, tag->len, &ext[l->next].name)) != 0)
                return rc;
            ext[l->next++].value = v;
        }
    }
    if (a->count % 2)
        return posta__imapd_proto(d, "LIST: extended item without a value");
    return 0;
}

int posta_imap_decode_list(posta_imap_decoder *d, const posta_imap_response *r,
                           posta_imap_list_data *list_r)
{
    POSTA_IMAPD_BEGIN(d, r, list_r);
    int rc = posta__imapd_expect(d, r, "LIST", 0);
    if (rc == POSTA_EINVAL) {
        if ((rc = posta__imapd_expect(d, r, "LSUB", 0)) != 0)
            return posta__imapd_fail(d, POSTA_EINVAL, "not a LIST or LSUB response");
        list_r->lsub = 1;
    }
    const char *what = list_r->lsub ? "LSUB" : "LIST";
    if (r->nargs < 3)
        return posta__imapd_proto(d, "%s: expected attributes, delimiter and name, got %zu "
                                     "arguments", what, r->nargs);
    if (!posta__imapd_is_list(&r->args[0]))
        return posta__imapd_proto(d, "%s: attributes are not a list", what);
    if ((rc = posta__imapd_flag_list(d, &r->args[0], what, 1, &list_r->attributes)) != 0 ||
        (rc = posta__imapd_delimiter(d, &r->args[1], what, &list_r->delimiter)) != 0 ||
        (rc = posta__imapd_mailbox(d, &r->args[2], what, &list_r->mailbox)) != 0)
        return rc;
    if (r->nargs > 3 && (rc = list_extended(d, &r->args[3], list_r)) != 0)
        return rc;
    if (r->nargs > 4)
        return posta__imapd_proto(d, "%s: %zu arguments after the mailbox name", what,
                                  r->nargs - 3);
    return 0;
}

/* --- STATUS ---------------------------------------------------------------------------
 * mailbox-data   =/ "STATUS" SP mailbox SP "(" [status-att-list] ")"
 * status-att-val = ("MESSAGES" SP number) / ("UIDNEXT" SP nz-number) /
 *                  ("UIDVALIDITY" SP nz-number) / ("UNSEEN" SP number) /
 *                  ("DELETED" SP number) / ("SIZE" SP number64) /
 *                  ("RECENT" SP number) / ("HIGHESTMODSEQ" SP mod-sequence-valzer) /
 *                  ("APPENDLIMIT" SP (number / nil)) / ("MAILBOXID" SP "(" objectid ")") /
 *                  ("DELETED-STORAGE" SP number64)
 */

enum status_kind { ST_N32, ST_NZ32, ST_N64, ST_LIMIT, ST_OBJECTID };

static const struct {
    const char *name;
    unsigned bit;
    enum status_kind kind;
    size_t offset;
} status_items[] = {
    {"MESSAGES", POSTA_IMAP_STATUS_ITEM_MESSAGES, ST_N32,
     offsetof(posta_imap_status_data, messages)},
    {"RECENT", POSTA_IMAP_STATUS_ITEM_RECENT, ST_N32, offsetof(posta_imap_status_data, recent)},
    {"UIDNEXT", POSTA_IMAP_STATUS_ITEM_UIDNEXT, ST_NZ32,
     offsetof(posta_imap_status_data, uidnext)},
    {"UIDVALIDITY", POSTA_IMAP_STATUS_ITEM_UIDVALIDITY, ST_NZ32,
     offsetof(posta_imap_status_data, uidvalidity)},
    {"UNSEEN", POSTA_IMAP_STATUS_ITEM_UNSEEN, ST_N32, offsetof(posta_imap_status_data, unseen)},
    {"DELETED", POSTA_IMAP_STATUS_ITEM_DELETED, ST_N32,
     offsetof(posta_imap_status_data, deleted)},
    {"SIZE", POSTA_IMAP_STATUS_ITEM_SIZE, ST_N64, offsetof(posta_imap_status_data, size)},
    {"HIGHESTMODSEQ", POSTA_IMAP_STATUS_ITEM_HIGHESTMODSEQ, ST_N64,
     offsetof(posta_imap_status_data, highestmodseq)},
    {"APPENDLIMIT", POSTA_IMAP_STATUS_ITEM_APPENDLIMIT, ST_LIMIT,
     offsetof(posta_imap_status_data, appendlimit)},
    {"MAILBOXID", POSTA_IMAP_STATUS_ITEM_MAILBOXID, ST_OBJECTID,
     offsetof(posta_imap_status_data, mailboxid)},
    {"DELETED-STORAGE", POSTA_IMAP_STATUS_ITEM_DELETED_STORAGE, ST_N64,
     offsetof(posta_imap_status_data, deleted_storage)},
};

static int status_value(posta_imap_decoder *d, size_t t, const posta_imap_arg *v,
                        posta_imap_status_data *st)
{
    char b[POSTA_IMAPD_SHOW];
    char what[40];
    void *field = (char *)st + status_items[t].offset;
    snprintf(what, sizeof(what), "STATUS %s", status_items[t].name);
    switch (status_items[t].kind) {
    case ST_N32:
        return posta__imapd_number(d, v, what, field);
    case ST_NZ32:
        return posta__imapd_nz_number(d, v, what, field);
    case ST_LIMIT:
        if (posta__imapd_is_nil(v)) {
            *(uint64_t *)field = UINT64_MAX;
            return 0;
        }
        /* fall through */
    case ST_N64:
        return posta__imapd_number64(d, v, what, field);
    case ST_OBJECTID: {
        const posta_imap_arg *a = posta__imapd_is_list(v) && v->count == 1 ? &v->list[0] : v;
        if (!posta__imapd_is_text(a) || a->len == 0)
            return posta__imapd_proto(d, "%s: expected an object id, got %s", what,
                                      posta__imapd_show_arg(v, b));
        return posta__imapd_ref(d, a->str, a->len, field);
    }
    }
    return 0;
}

int posta_imap_decode_status(posta_imap_decoder *d, const posta_imap_response *r,
                             posta_imap_status_data *status_r)
{
    char b[POSTA_IMAPD_SHOW];
    POSTA_IMAPD_BEGIN(d, r, status_r);
    int rc = posta__imapd_expect(d, r, "STATUS", 0);
    if (rc)
        return rc;
    if (r->nargs != 2 || !posta__imapd_is_list(&r->args[1]))
        return posta__imapd_proto(d, "STATUS: expected a mailbox and a list");
    if ((rc = posta__imapd_mailbox(d, &r->args[0], "STATUS", &status_r->mailbox)) != 0)
        return rc;
    const posta_imap_arg *l = &r->args[1];
    if (l->count % 2)
        return posta__imapd_proto(d, "STATUS: an item without a value");
    posta_imap_item *other = posta__imapd_array(d, l->count / 2, sizeof(*other));
    if (!other)
        return d->err.code;
    status_r->other = other;
    for (size_t i = 0; i < l->count; i += 2) {
        const posta_imap_arg *k = &l->list[i];
        size_t t = 0, n = sizeof(status_items) / sizeof(status_items[0]);
        if (!posta__imapd_is_text(k))
            return posta__imapd_proto(d, "STATUS: expected an item name, got %s",
                                      posta__imapd_show_arg(k, b));
        while (t < n && !posta__imapd_arg_eq(k, status_items[t].name))
            t++;
        if (t == n) {
            if ((rc = posta__imapd_ref(d, k->str, k->len, &other[status_r->nother].name)) != 0)
                return rc;
            other[status_r->nother++].value = &l->list[i + 1];
            continue;
        }
        if ((rc = status_value(d, t, &l->list[i + 1], status_r)) != 0)
            return rc;
        status_r->present |= status_items[t].bit;
    }
    return 0;
}

/* --- NAMESPACE ---------------------------------------------------------------------------
 * namespace-response = "NAMESPACE" SP namespace SP namespace SP namespace
 * namespace          = nil / "(" 1*namespace-descr ")"
 * namespace-descr    = "(" string SP (DQUOTE QUOTED-CHAR DQUOTE / nil)
 *                      [namespace-response-extensions] ")"
 * namespace-response-extension = SP string SP "(" string *(SP string) ")"
 */

static int namespace_descr(posta_imap_decoder *d, const posta_imap_arg *a,
                           posta_imap_namespace_desc *ns)
{
    char b[POSTA_IMAPD_SHOW];
    int rc;
    if (!posta__imapd_is_list(a) || a->count < 2 || a->count % 2)
        return posta__imapd_proto(d, "NAMESPACE: expected (prefix delimiter [extensions]), "
                                     "got %s", posta__imapd_show_arg(a, b));
    if ((rc = posta__imapd_mailbox(d, &a->list[0], "NAMESPACE prefix", &ns->prefix)) != 0 ||
        (rc = posta__imapd_delimiter(d, &a->list[1], "NAMESPACE", &ns->delimiter)) != 0)
        return rc;
    size_t n = (a->count - 2) / 2;
    posta_imap_namespace_ext *ext = posta__imapd_array(d, n, sizeof(*ext));
    if (!ext)
        return d->err.code;
    for (size_t i = 0; i < n; i++) {
        const posta_imap_arg *k = &a->list[2 + 2 * i], *v = &a->list[3 + 2 * i];
        posta_imap_flagset values;
        if ((rc = posta__imapd_astring(d, k, "NAMESPACE extension", &ext[i].name)) != 0 ||
            (rc = posta__imapd_flag_list(d, v, "NAMESPACE extension", 0, &values)) != 0)
            return rc;
        ext[i].values = values.v;
        ext[i].nvalues = values.count;
    }
    ns->ext = ext;
    ns->next = n;
    return 0;
}

static int namespace_list(posta_imap_decoder *d, const posta_imap_arg *a,
                          posta_imap_namespace_list *out)
{
    char b[POSTA_IMAPD_SHOW];
    if (posta__imapd_is_nil(a) || (posta__imapd_is_text(a) && a->len == 0))
        return 0;
    if (!posta__imapd_is_list(a))
        return posta__imapd_proto(d, "NAMESPACE: expected a list or NIL, got %s",
                                  posta__imapd_show_arg(a, b));
    posta_imap_namespace_desc *v = posta__imapd_array(d, a->count, sizeof(*v));
    if (!v)
        return d->err.code;
    for (size_t i = 0; i < a->count; i++) {
        int rc = namespace_descr(d, &a->list[i], &v[i]);
        if (rc)
            return rc;
    }
    out->v = v;
    out->count = a->count;
    return 0;
}

int posta_imap_decode_namespace(posta_imap_decoder *d, const posta_imap_response *r,
                                posta_imap_namespace_data *ns_r)
{
    POSTA_IMAPD_BEGIN(d, r, ns_r);
    int rc = posta__imapd_expect(d, r, "NAMESPACE", 0);
    if (rc)
        return rc;
    if (r->nargs != 3)
        return posta__imapd_proto(d, "NAMESPACE: expected 3 namespace lists, got %zu",
                                  r->nargs);
    if ((rc = namespace_list(d, &r->args[0], &ns_r->personal)) != 0 ||
        (rc = namespace_list(d, &r->args[1], &ns_r->other)) != 0 ||
        (rc = namespace_list(d, &r->args[2], &ns_r->shared)) != 0)
        return rc;
    return 0;
}

/* --- QUOTA, QUOTAROOT (RFC 9208) -------------------------------------------------------
 * quota-response     = "QUOTA" SP quota-root-name SP quota-list
 * quota-list         = "(" quota-resource *(SP quota-resource) ")"
 * quota-resource     = resource-name SP resource-usage SP resource-limit
 * quotaroot-response = "QUOTAROOT" SP mailbox *(SP quota-root-name)
 */

int posta_imap_decode_quota(posta_imap_decoder *d, const posta_imap_response *r,
                            posta_imap_quota_data *quota_r)
{
    POSTA_IMAPD_BEGIN(d, r, quota_r);
    int rc = posta__imapd_expect(d, r, "QUOTA", 0);
    if (rc)
        return rc;
    if (r->nargs != 2 || !posta__imapd_is_list(&r->args[1]))
        return posta__imapd_proto(d, "QUOTA: expected a quota root and a list");
    if ((rc = posta__imapd_astring(d, &r->args[0], "QUOTA root", &quota_r->root)) != 0)
        return rc;
    const posta_imap_arg *l = &r->args[1];
    if (l->count % 3)
        return posta__imapd_proto(d, "QUOTA: each resource needs a name, usage and limit");
    posta_imap_quota_resource *v = posta__imapd_array(d, l->count / 3, sizeof(*v));
    if (!v)
        return d->err.code;
    for (size_t i = 0; i < l->count / 3; i++) {
        const posta_imap_arg *a = &l->list[3 * i];
        if ((rc = posta__imapd_astring(d, &a[0], "QUOTA resource", &v[i].name)) != 0 ||
            (rc = posta__imapd_number64(d, &a[1], "QUOTA usage", &v[i].usage)) != 0 ||
            (rc = posta__imapd_number64(d, &a[2], "QUOTA limit", &v[i].limit)) != 0)
            return rc;
    }
    quota_r->v = v;
    quota_r->count = l->count / 3;
    return 0;
}

/* A run of astrings from args[from] to the end, e.g. quota roots. */
static int astrings(posta_imap_decoder *d, const posta_imap_response *r, size_t from,
                    const char *what, const posta_imap_str **v_r, size_t *n_r)
{
    size_t n = r->nargs > from ? r->nargs - from : 0;
    posta_imap_str *v = posta__imapd_array(d, n, sizeof(*v));
    if (!v)
        return d->err.code;
    for (size_t i = 0; i < n; i++) {
        int rc = posta__imapd_astring(d, &r->args[from + i], what, &v[i]);
        if (rc)
            return rc;
    }
    *v_r = v;
    *n_r = n;
    return 0;
}

int posta_imap_decode_quotaroot(posta_imap_decoder *d, const posta_imap_response *r,
                                posta_imap_quotaroot_data *qr_r)
{
    POSTA_IMAPD_BEGIN(d, r, qr_r);
    int rc = posta__imapd_expect(d, r, "QUOTAROOT", 0);
    if (rc)
        return rc;
    if (r->nargs < 1)
        return posta__imapd_proto(d, "QUOTAROOT: no mailbox");
    if ((rc = posta__imapd_mailbox(d, &r->args[0], "QUOTAROOT", &qr_r->mailbox)) != 0)
        return rc;
    return astrings(d, r, 1, "QUOTAROOT root", &qr_r->roots, &qr_r->count);
}

/* --- ACL, LISTRIGHTS, MYRIGHTS (RFC 4314) --------------------------------------------
 * acl-data        = "ACL" SP mailbox *(SP identifier SP rights)
 * listrights-data = "LISTRIGHTS" SP mailbox SP identifier SP rights *(SP rights)
 * myrights-data   = "MYRIGHTS" SP mailbox SP rights
 */

int posta_imap_decode_acl(posta_imap_decoder *d, const posta_imap_response *r,
                          posta_imap_acl_data *acl_r)
{
    POSTA_IMAPD_BEGIN(d, r, acl_r);
    int rc = posta__imapd_expect(d, r, "ACL", 0);
    if (rc)
        return rc;
    if (r->nargs < 1)
        return posta__imapd_proto(d, "ACL: no mailbox");
    if ((rc = posta__imapd_mailbox(d, &r->args[0], "ACL", &acl_r->mailbox)) != 0)
        return rc;
    size_t n = (r->nargs - 1) / 2;   /* an odd last identifier is dropped */
    posta_imap_param *v = posta__imapd_array(d, n, sizeof(*v));
    if (!v)
        return d->err.code;
    for (size_t i = 0; i < n; i++)
        if ((rc = posta__imapd_astring(d, &r->args[1 + 2 * i], "ACL identifier", &v[i].name)) ||
            (rc = posta__imapd_astring(d, &r->args[2 + 2 * i], "ACL rights", &v[i].value)))
            return rc;
    acl_r->v = v;
    acl_r->count = n;
    return 0;
}

int posta_imap_decode_listrights(posta_imap_decoder *d, const posta_imap_response *r,
                                 posta_imap_listrights_data *lr_r)
{
    POSTA_IMAPD_BEGIN(d, r, lr_r);
    int rc = posta__imapd_expect(d, r, "LISTRIGHTS", 0);
    if (rc)
        return rc;
    if (r->nargs < 3)
        return posta__imapd_proto(d, "LISTRIGHTS: expected mailbox, identifier and rights");
    if ((rc = posta__imapd_mailbox(d, &r->args[0], "LISTRIGHTS", &lr_r->mailbox)) != 0 ||
        (rc = posta__imapd_astring(d, &r->args[1], "LISTRIGHTS identifier",
                                   &lr_r->identifier)) != 0 ||
        (rc = posta__imapd_astring(d, &r->args[2], "LISTRIGHTS rights", &lr_r->required)) != 0)
        return rc;
    return astrings(d, r, 3, "LISTRIGHTS rights", &lr_r->optional, &lr_r->count);
}

int posta_imap_decode_myrights(posta_imap_decoder *d, const posta_imap_response *r,
                               posta_imap_myrights_data *mr_r)
{
    POSTA_IMAPD_BEGIN(d, r, mr_r);
    int rc = posta__imapd_expect(d, r, "MYRIGHTS", 0);
    if (rc)
        return rc;
    if (r->nargs != 2)
        return posta__imapd_proto(d, "MYRIGHTS: expected a mailbox and rights");
    if ((rc = posta__imapd_mailbox(d, &r->args[0], "MYRIGHTS", &mr_r->mailbox)) != 0)
        return rc;
    return posta__imapd_astring(d, &r->args[1], "MYRIGHTS rights", &mr_r->rights);
}

/* --- METADATA (RFC 5464) -----------------------------------------------------------------
 * metadata-resp = "METADATA" SP mailbox SP (entry-values / entry-list)
 * entry-values  = "(" entry-value *(SP entry-value) ")"
 * entry-value   = entry SP value
 * entry-list    = entry *(SP entry)      ; unsolicited: what changed
 * value         = nstring / literal8
 */

static int metadata_value(posta_imap_decoder *d, const posta_imap_arg *v,
                          posta_imap_metadata_entry *e)
{
    e->streamed = v->type == POSTA_IMAP_ARG_LITERAL_STREAMED;
    e->size = e->streamed ? v->size : v->len;
    return posta__imapd_nstring(d, v, "METADATA value", &e->value);
}

int posta_imap_decode_metadata(posta_imap_decoder *d, const posta_imap_response *r,
                               posta_imap_metadata_data *md_r)
{
    POSTA_IMAPD_BEGIN(d, r, md_r);
    int rc = posta__imapd_expect(d, r, "METADATA", 0);
    if (rc)
        return rc;
    if (r->nargs < 2)
        return posta__imapd_proto(d, "METADATA: expected a mailbox and entries");
    if ((rc = posta__imapd_mailbox(d, &r->args[0], "METADATA", &md_r->mailbox)) != 0)
        return rc;
    const posta_imap_arg *list = &r->args[1];
    int values = r->nargs == 2 && posta__imapd_is_list(list);
    size_t n = values ? list->count / 2 : r->nargs - 1;
    if (values && list->count % 2)
        return posta__imapd_proto(d, "METADATA: an entry without a value");
    posta_imap_metadata_entry *v = posta__imapd_array(d, n, sizeof(*v));
    if (!v)
        return d->err.code;
    for (size_t i = 0; i < n; i++) {
        const posta_imap_arg *entry = values ? &list->list[2 * i] : &r->args[1 + i];
        if ((rc = posta__imapd_astring(d, entry, "METADATA entry", &v[i].name)) != 0)
            return rc;
        if (values && (rc = metadata_value(d, &list->list[2 * i + 1], &v[i])) != 0)
            return rc;
    }
    md_r->has_values = values;
    md_r->v = v;
    md_r->count = n;
    return 0;
}
