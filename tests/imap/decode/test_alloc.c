/* Allocation-failure loops: every decoder, on responses that exercise its
 * allocations, must return POSTA_ENOMEM cleanly at each failing allocation
 * and succeed once allocations succeed (ASan checks leaks and bad reads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt.h"
#include "imap/decode_internal.h"

/* One decoder as a function of (d, r); the result goes to a scratch union. */
static int run(posta_imap_decoder *d, const posta_imap_response *r)
{
    union {
        posta_imap_capset caps;
        posta_imap_code code;
        posta_imap_flagset flags;
        posta_imap_fetch_data fetch;
        posta_imap_list_data list;
        posta_imap_status_data status;
        posta_imap_search_data search;
        posta_imap_esearch_data esearch;
        posta_imap_thread_data threads;
        posta_imap_vanished_data vanished;
        posta_imap_namespace_data ns;
        posta_imap_id_data id;
        posta_imap_quota_data quota;
        posta_imap_quotaroot_data qr;
        posta_imap_acl_data acl;
        posta_imap_listrights_data lr;
        posta_imap_myrights_data mr;
        posta_imap_metadata_data md;
        uint32_t n;
    } u;
    switch (posta_imap_data_type_of(r)) {
    case POSTA_IMAP_DATA_CONDITION:
    case POSTA_IMAP_DATA_CONTINUATION:
        return posta_imap_decode_code(d, r, &u.code);
    case POSTA_IMAP_DATA_CAPABILITY:
        return posta_imap_decode_capability(d, r, &u.caps);
    case POSTA_IMAP_DATA_ENABLED:
        return posta_imap_decode_enabled(d, r, &u.caps);
    case POSTA_IMAP_DATA_FLAGS:
        return posta_imap_decode_flags(d, r, &u.flags);
    case POSTA_IMAP_DATA_EXISTS:
        return posta_imap_decode_exists(d, r, &u.n);
    case POSTA_IMAP_DATA_RECENT:
        return posta_imap_decode_recent(d, r, &u.n);
    case POSTA_IMAP_DATA_EXPUNGE:
        return posta_imap_decode_expunge(d, r, &u.n);
    case POSTA_IMAP_DATA_FETCH:
        return posta_imap_decode_fetch(d, r, &u.fetch);
    case POSTA_IMAP_DATA_LIST:
    case POSTA_IMAP_DATA_LSUB:
        return posta_imap_decode_list(d, r, &u.list);
    case POSTA_IMAP_DATA_STATUS:
        return posta_imap_decode_status(d, r, &u.status);
    case POSTA_IMAP_DATA_SEARCH:
    case POSTA_IMAP_DATA_SORT:
        return posta_imap_decode_search(d, r, &u.search);
    case POSTA_IMAP_DATA_ESEARCH:
        return posta_imap_decode_esearch(d, r, &u.esearch);
    case POSTA_IMAP_DATA_THREAD:
        return posta_imap_decode_thread(d, r, &u.threads);
    case POSTA_IMAP_DATA_NAMESPACE:
        return posta_imap_decode_namespace(d, r, &u.ns);
    case POSTA_IMAP_DATA_ID:
        return posta_imap_decode_id(d, r, &u.id);
    case POSTA_IMAP_DATA_VANISHED:
        return posta_imap_decode_vanished(d, r, &u.vanished);
    case POSTA_IMAP_DATA_QUOTA:
        return posta_imap_decode_quota(d, r, &u.quota);
    case POSTA_IMAP_DATA_QUOTAROOT:
        return posta_imap_decode_quotaroot(d, r, &u.qr);
    case POSTA_IMAP_DATA_ACL:
        return posta_imap_decode_acl(d, r, &u.acl);
    case POSTA_IMAP_DATA_LISTRIGHTS:
        return posta_imap_decode_listrights(d, r, &u.lr);
    case POSTA_IMAP_DATA_MYRIGHTS:
        return posta_imap_decode_myrights(d, r, &u.mr);
    case POSTA_IMAP_DATA_METADATA:
        return posta_imap_decode_metadata(d, r, &u.md);
    case POSTA_IMAP_DATA_OTHER:
        break;
    }
    return 0;
}

static const char *corpus[] = {
    "* OK [CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN] ready\r\n",
    "* CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI\r\n",
    "* ENABLED CONDSTORE QRESYNC\r\n",
    "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
    "A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
    "* NO [BADCHARSET (UTF-8 \"ISO-8859-1\")] x\r\n",
    "* OK [MAILBOXID (F2212ea87)] Ok\r\n",
    "* NO [REFERRAL imap://x/] Remote\r\n",
    "* OK [XYZZY a b] other\r\n",
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
    "* 3 EXISTS\r\n",
    "* 12 FETCH (FLAGS (\\Seen) UID 9 INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
    "RFC822.SIZE 4286 ENVELOPE (\"d\" \"s\" ((\"T G\" NIL \"gray\" \"x.edu\")) NIL NIL "
    "((NIL NIL \"g\" NIL)(\"A\" NIL \"a\" \"x\")(NIL NIL NIL NIL)) NIL NIL NIL \"<m@x>\") "
    "BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23 "
    "NIL (\"inline\" (\"a\" \"b\")) (\"en\" \"fr\") \"loc\")(\"MESSAGE\" \"RFC822\" NIL NIL "
    "NIL \"7BIT\" 5 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" NIL NIL NIL "
    "\"7BIT\" 1 1) 3) \"MIXED\" (\"BOUNDARY\" \"x\") NIL NIL NIL) "
    "BODY[1.2.HEADER.FIELDS (From)]<0> \"x\" BINARY.SIZE[1] 4 X-GM-LABELS (\\Inbox a) "
    "EMAILID (M1) X-UNKNOWN 1)\r\n",
    "* LIST (\\HasNoChildren \\Sent) \"/\" \"&U,BTFw-\" (\"CHILDINFO\" (\"SUBSCRIBED\") "
    "\"OLDNAME\" (\"&AOk-\") X-Y z)\r\n",
    "* STATUS \"&AOk-\" (MESSAGES 231 UIDNEXT 44292 MAILBOXID (F1) X 1)\r\n",
    "* SEARCH 2 3 6 (MODSEQ 917162500)\r\n",
    "* ESEARCH (TAG \"A1\" MAILBOX \"&AOk-\" UIDVALIDITY 1) UID ALL 1:3,5 PARTIAL (-1:-5 1:2) "
    "X (1)\r\n",
    "* THREAD (2)(3 6 (4 23)(44 7 96))((3)(5))\r\n",
    "* NAMESPACE ((\"\" \"/\")(\"#mh/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) NIL "
    "((\"#shared/\" \"/\"))\r\n",
    "* ID (\"name\" \"Cyrus\" \"version\" NIL)\r\n",
    "* VANISHED (EARLIER) 300:310,405,411\r\n",
    "* QUOTA \"\" (STORAGE 10 512 MESSAGE 1 2)\r\n",
    "* QUOTAROOT INBOX \"\" \"x\"\r\n",
    "* ACL INBOX Fred rwipsldexta Bob lr\r\n",
    "* LISTRIGHTS ~/Mailbox/ smith la r swicdkxte\r\n",
    "* MYRIGHTS INBOX rwiptsldaex\r\n",
    "* METADATA \"INBOX\" (/private/comment \"My own comment\" /shared/x NIL)\r\n",
    "* METADATA \"\" /shared/comment /private/x\r\n",
    NULL,
};

static void loop(unsigned flags)
{
    for (int i = 0; corpus[i]; i++) {
        const posta_imap_response *r = dt_parse(corpus[i]);
        posta_imap_decoder *d = dt_decoder(flags);
        int want = run(d, r);
        if (want != 0)
            t_fail(__FILE__, __LINE__, "corpus %d fails without injection: %s", i,
                   posta_imap_decoder_errmsg(d));
        long n;
        int rc = POSTA_ENOMEM;
        for (n = 0; rc == POSTA_ENOMEM && n < 10000; n++) {
            posta_imap_decoder_reset(d);
            posta__imap_decoder_fail_after(d, n);
            rc = run(d, r);
            if (rc == POSTA_ENOMEM)
                T_CONTAINS(posta_imap_decoder_errmsg(d), "out of memory");
        }
        posta__imap_decoder_fail_after(d, -1);
        if (rc != want)
            t_fail(__FILE__, __LINE__, "corpus %d: after %ld failures got %d, expected %d (%s)",
                   i, n, rc, want, posta_imap_decoder_errmsg(d));
        /* with copies every response but EXISTS allocates */
        if ((flags & POSTA_IMAP_DECODE_COPY) && n < 2 &&
            posta_imap_data_type_of(r) != POSTA_IMAP_DATA_EXISTS)
            t_fail(__FILE__, __LINE__, "corpus %d: no allocation was ever failed", i);
    }
}

static void test_nocopy(void)
{
    loop(0);
}

static void test_copy(void)
{
    loop(POSTA_IMAP_DECODE_COPY);
}

/* The decoder constructor's own allocation: nothing to inject, but a NULL
 * result pointer is refused without leaking. */
static void test_new(void)
{
    T_EQ_INT(posta_imap_decoder_new(NULL, 0, 0), POSTA_EINVAL);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"nocopy", test_nocopy},
        {"copy", test_copy},
        {"new", test_new},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
