/* Mailbox data: LIST/LSUB (LIST-EXTENDED, special-use, modified UTF-7),
 * STATUS, NAMESPACE, QUOTA, QUOTAROOT, ACL, LISTRIGHTS, MYRIGHTS, METADATA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt.h"

static posta_imap_list_data list_ok(posta_imap_decoder *d, const char *line)
{
    posta_imap_list_data l;
    int rc = posta_imap_decode_list(d, dt_parse(line), &l);
    if (rc)
        t_fail(__FILE__, __LINE__, "%s gave %d: %s", line, rc, posta_imap_decoder_errmsg(d));
    return l;
}

static void test_list_rfc(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_list_data l = list_ok(d, "* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n");
    T_EQ_INT(l.lsub, 0);
    T_EQ_INT(l.attributes.bits, POSTA_IMAP_ATTR_NOSELECT);
    T_EQ_INT(l.delimiter, '/');
    T_EQ_PSTR(l.mailbox.name, "~/Mail/foo");
    T_EQ_PSTR(l.mailbox.raw, "~/Mail/foo");
    l = list_ok(d, "* LIST () \".\" #news.comp.mail.misc\r\n");
    T_EQ_INT(l.attributes.count, 0);
    T_EQ_INT(l.delimiter, '.');
    l = list_ok(d, "* LIST (\\Noselect) NIL \"\"\r\n");
    T_EQ_INT(l.delimiter, 0);
    T_EQ_PSTR(l.mailbox.name, "");
    l = list_ok(d, "* LIST (\\Marked \\NoInferiors) \"/\" \"inbox\"\r\n");
    T_EQ_INT(l.attributes.bits, POSTA_IMAP_ATTR_MARKED | POSTA_IMAP_ATTR_NOINFERIORS);
    l = list_ok(d, "* LSUB () \".\" #news.comp.mail.misc\r\n");
    T_EQ_INT(l.lsub, 1);
    l = list_ok(d, "* LIST (\\HasNoChildren \\Sent \\Drafts \\Junk \\Trash \\Archive \\All "
                   "\\Flagged \\Important \\HasChildren \\NonExistent \\Subscribed \\Remote "
                   "\\Unmarked \\X-Custom) \"\\\\\" {4}\r\nSent\r\n");
    T_EQ_INT(l.attributes.count, 15);
    T_EQ_INT(l.attributes.bits,
             POSTA_IMAP_ATTR_HASNOCHILDREN | POSTA_IMAP_ATTR_SENT | POSTA_IMAP_ATTR_DRAFTS |
             POSTA_IMAP_ATTR_JUNK | POSTA_IMAP_ATTR_TRASH | POSTA_IMAP_ATTR_ARCHIVE |
             POSTA_IMAP_ATTR_ALL | POSTA_IMAP_ATTR_FLAGGED | POSTA_IMAP_ATTR_IMPORTANT |
             POSTA_IMAP_ATTR_HASCHILDREN | POSTA_IMAP_ATTR_NONEXISTENT |
             POSTA_IMAP_ATTR_SUBSCRIBED | POSTA_IMAP_ATTR_REMOTE | POSTA_IMAP_ATTR_UNMARKED);
    T_ASSERT(posta_imap_flagset_has(&l.attributes, "\\x-custom"));
    T_EQ_INT(l.delimiter, '\\');
    T_EQ_PSTR(l.mailbox.name, "Sent");
    /* an unquoted NIL mailbox is the name "NIL" */
    l = list_ok(d, "* LIST () \"/\" NIL\r\n");
    T_EQ_PSTR(l.mailbox.name, "NIL");
    /* quirk: "" delimiter for NIL */
    l = list_ok(d, "* LIST () \"\" INBOX\r\n");
    T_EQ_INT(l.delimiter, 0);
}

static void test_list_extended(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_list_data l = list_ok(d, "* LIST () \"/\" \"Fruit\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n");
    T_EQ_INT(l.nchildinfo, 1);
    T_EQ_PSTR(l.childinfo[0], "SUBSCRIBED");
    l = list_ok(d, "* LIST () \"/\" \"NewMailbox\" (\"OLDNAME\" (\"OldMailbox\"))\r\n");
    T_EQ_INT(l.has_oldname, 1);
    T_EQ_PSTR(l.oldname.name, "OldMailbox");
    l = list_ok(d, "* LIST () \"/\" \"x\" (CHILDINFO (SUBSCRIBED) X-FUTURE (1 2) "
                   "OLDNAME (\"&AOk-t&AOk-\"))\r\n");
    T_EQ_INT(l.nchildinfo, 1);
    T_EQ_INT(l.next, 1);
    T_EQ_PSTR(l.ext[0].name, "X-FUTURE");
    T_EQ_INT(l.ext[0].value->count, 2);
    T_EQ_PSTR(l.oldname.name, "\xc3\xa9t\xc3\xa9");
    T_EQ_PSTR(l.oldname.raw, "&AOk-t&AOk-");
    l = list_ok(d, "* LIST () \"/\" \"x\" ()\r\n");
    T_EQ_INT(l.next, 0);
}

static void test_list_mutf7(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_list_data l = list_ok(d, "* LIST () \"/\" \"~peter/mail/&U,BTFw-/&ZeVnLIqe-\"\r\n");
    T_EQ_PSTR(l.mailbox.name, "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    T_EQ_PSTR(l.mailbox.raw, "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    T_EQ_INT(l.mailbox.undecoded, 0);
    l = list_ok(d, "* LIST () \"/\" \"Tom &- Jerry\"\r\n");
    T_EQ_PSTR(l.mailbox.name, "Tom & Jerry");
    /* quirk: a server sending UTF-8 without UTF8=ACCEPT */
    l = list_ok(d, "* LIST () \"/\" \"Entw\xc3\xbc rfe\"\r\n");
    T_EQ_PSTR(l.mailbox.name, "Entw\xc3\xbc rfe");
    T_EQ_INT(l.mailbox.undecoded, 0);
    /* neither modified UTF-7 nor UTF-8: kept as sent, flagged */
    l = list_ok(d, "* LIST () \"/\" \"&Jjo\"\r\n");
    T_EQ_PSTR(l.mailbox.name, "&Jjo");
    T_EQ_INT(l.mailbox.undecoded, 1);
    l = list_ok(d, "* LIST () \"/\" {3}\r\na\xff\x62\r\n");
    T_EQ_INT(l.mailbox.undecoded, 1);
    T_EQ_INT(l.mailbox.name.len, 3);
    /* UTF8=ACCEPT: names are taken as UTF-8, "&" is just a character */
    posta_imap_decoder *u = dt_decoder(POSTA_IMAP_DECODE_UTF8);
    posta_imap_list_data m;
    T_EQ_INT(posta_imap_decode_list(u, dt_parse("* LIST () \"/\" \"&U,BTFw- \xe5\x8f\xb0\"\r\n"),
                                    &m), 0);
    T_EQ_PSTR(m.mailbox.name, "&U,BTFw- \xe5\x8f\xb0");
    T_EQ_INT(m.mailbox.undecoded, 0);
    T_EQ_INT(posta_imap_decode_list(u, dt_parse("* LIST () \"/\" {2}\r\n\xff\xfe\r\n"), &m), 0);
    T_EQ_INT(m.mailbox.undecoded, 1);
    /* switching the option on a live decoder */
    posta_imap_decoder_set_flags(u, 0);
    T_EQ_INT(posta_imap_decode_list(u, dt_parse("* LIST () \"/\" \"&AOk-\"\r\n"), &m), 0);
    T_EQ_PSTR(m.mailbox.name, "\xc3\xa9");
    /* copying decoder: decoded and raw both copied */
    posta_imap_decoder *c = dt_decoder(POSTA_IMAP_DECODE_COPY);
    const posta_imap_response *r = dt_parse("* LIST () \"/\" \"&AOk-\"\r\n");
    T_EQ_INT(posta_imap_decode_list(c, r, &m), 0);
    T_ASSERT(m.mailbox.raw.ptr != r->args[2].str);
    T_EQ_PSTR(m.mailbox.raw, "&AOk-");
}

static void test_list_refused(void)
{
    static const char *bad[] = {
        "* LIST () \"/\"\r\n", "* LIST \\Noselect \"/\" x\r\n", "* LIST () \"//\" x\r\n",
        "* LIST () (x) x\r\n", "* LIST () \"/\" (x)\r\n", "* LIST () \"/\" x y\r\n",
        "* LIST () \"/\" x (CHILDINFO)\r\n", "* LIST () \"/\" x ((a) b)\r\n",
        "* LIST () \"/\" x (OLDNAME ((x)))\r\n", "* LIST ((x)) \"/\" x\r\n",
        "* LIST () \"/\" x (A b) y\r\n", NULL,
    };
    posta_imap_decoder *d = dt_decoder(0);
    for (int i = 0; bad[i]; i++) {
        posta_imap_list_data l;
        int rc = posta_imap_decode_list(d, dt_parse(bad[i]), &l);
        if (rc != POSTA_EPROTO)
            t_fail(__FILE__, __LINE__, "%s gave %d", bad[i], rc);
    }
    posta_imap_list_data l;
    T_EQ_INT(posta_imap_decode_list(d, dt_parse("* STATUS x ()\r\n"), &l), POSTA_EINVAL);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "LIST or LSUB");
}

static void test_status(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_status_data s;
    T_EQ_INT(posta_imap_decode_status(d, dt_parse("* STATUS blurdybloop (MESSAGES 231 UIDNEXT "
                                                  "44292)\r\n"), &s), 0);
    T_EQ_PSTR(s.mailbox.name, "blurdybloop");
    T_EQ_INT(s.present, POSTA_IMAP_STATUS_ITEM_MESSAGES | POSTA_IMAP_STATUS_ITEM_UIDNEXT);
    T_EQ_INT(s.messages, 231);
    T_EQ_INT(s.uidnext, 44292);
    T_EQ_INT(posta_imap_decode_status(d, dt_parse(
        "* STATUS \"&AOk-\" (MESSAGES 10 RECENT 1 UIDNEXT 11 UIDVALIDITY 4294967295 UNSEEN 2 "
        "SIZE 123456789012 HIGHESTMODSEQ 9223372036854775807 APPENDLIMIT NIL "
        "MAILBOXID (F2212ea87) DELETED 3 DELETED-STORAGE 44 X-UNKNOWN (5))\r\n"), &s), 0);
    T_EQ_PSTR(s.mailbox.name, "\xc3\xa9");
    T_EQ_INT(s.present, 0x7ff);
    T_EQ_INT(s.recent, 1);
    T_EQ_INT(s.uidvalidity, 4294967295u);
    T_EQ_INT(s.unseen, 2);
    T_EQ_INT(s.size, 123456789012ull);
    T_ASSERT(s.highestmodseq == 9223372036854775807ull);
    T_ASSERT(s.appendlimit == UINT64_MAX);
    T_EQ_PSTR(s.mailboxid, "F2212ea87");
    T_EQ_INT(s.deleted, 3);
    T_EQ_INT(s.deleted_storage, 44);
    T_EQ_INT(s.nother, 1);
    T_EQ_PSTR(s.other[0].name, "X-UNKNOWN");
    T_EQ_INT(posta_imap_decode_status(d, dt_parse("* STATUS x (APPENDLIMIT 1000)\r\n"), &s), 0);
    T_EQ_INT(s.appendlimit, 1000);
    T_EQ_INT(posta_imap_decode_status(d, dt_parse("* STATUS x ()\r\n"), &s), 0);
    T_EQ_INT(s.present, 0);
    static const char *bad[] = {
        "* STATUS x (MESSAGES)\r\n", "* STATUS x (UIDNEXT 0)\r\n", "* STATUS x (MESSAGES abc)\r\n",
        "* STATUS x (MESSAGES 4294967296)\r\n", "* STATUS x (SIZE -1)\r\n",
        "* STATUS x (HIGHESTMODSEQ 9223372036854775808)\r\n", "* STATUS x (MAILBOXID ())\r\n",
        "* STATUS x MESSAGES 1\r\n", "* STATUS (MESSAGES 1)\r\n", "* STATUS x ((a) 2)\r\n",
        "* STATUS x (MESSAGES 1) y\r\n", NULL,
    };
    for (int i = 0; bad[i]; i++)
        if (posta_imap_decode_status(d, dt_parse(bad[i]), &s) != POSTA_EPROTO)
            t_fail(__FILE__, __LINE__, "%s accepted", bad[i]);
    T_EQ_INT(posta_imap_decode_status(d, dt_parse("* STATUS x (UIDNEXT 0)\r\n"), &s), POSTA_EPROTO);
    T_CONTAINS(posta_imap_decoder_errmsg(d), "STATUS UIDNEXT");
}

static void test_namespace(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_namespace_data ns;
    T_EQ_INT(posta_imap_decode_namespace(d, dt_parse("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"),
                                         &ns), 0);
    T_EQ_INT(ns.personal.count, 1);
    T_EQ_PSTR(ns.personal.v[0].prefix.name, "");
    T_EQ_INT(ns.personal.v[0].delimiter, '/');
    T_EQ_INT(ns.other.count, 0);
    T_EQ_INT(ns.shared.count, 0);
    T_EQ_INT(posta_imap_decode_namespace(d, dt_parse(
        "* NAMESPACE ((\"\" \"/\")(\"#mh/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) "
        "((\"~\" \"/\")) ((\"#shared/\" \"/\")(\"#public/\" \"/\")(\"#ftp/\" \"/\")"
        "(\"#news.\" \".\"))\r\n"), &ns), 0);
    T_EQ_INT(ns.personal.count, 2);
    T_EQ_INT(ns.personal.v[1].next, 1);
    T_EQ_PSTR(ns.personal.v[1].ext[0].name, "X-PARAM");
    T_EQ_INT(ns.personal.v[1].ext[0].nvalues, 2);
    T_EQ_PSTR(ns.personal.v[1].ext[0].values[1], "FLAG2");
    T_EQ_PSTR(ns.other.v[0].prefix.name, "~");
    T_EQ_INT(ns.shared.count, 4);
    T_EQ_INT(ns.shared.v[3].delimiter, '.');
    T_EQ_INT(posta_imap_decode_namespace(d, dt_parse("* NAMESPACE NIL \"\" ((\"P&AOk-/\" NIL))\r\n"),
                                         &ns), 0);
    T_EQ_PSTR(ns.shared.v[0].prefix.name, "P\xc3\xa9/");
    T_EQ_INT(ns.shared.v[0].delimiter, 0);
    static const char *bad[] = {
        "* NAMESPACE NIL NIL\r\n", "* NAMESPACE NIL NIL NIL NIL\r\n",
        "* NAMESPACE ((\"\")) NIL NIL\r\n", "* NAMESPACE (\"\" \"/\") NIL NIL\r\n",
        "* NAMESPACE ((\"\" \"/\" \"X\")) NIL NIL\r\n", "* NAMESPACE ((\"\" \"//\")) NIL NIL\r\n",
        "* NAMESPACE ((\"\" \"/\" \"X\" ((y)))) NIL NIL\r\n", "* NAMESPACE X NIL NIL\r\n", NULL,
    };
    for (int i = 0; bad[i]; i++)
        if (posta_imap_decode_namespace(d, dt_parse(bad[i]), &ns) != POSTA_EPROTO)
            t_fail(__FILE__, __LINE__, "%s accepted", bad[i]);
}

static void test_quota(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_quota_data q;
    T_EQ_INT(posta_imap_decode_quota(d, dt_parse("* QUOTA \"\" (STORAGE 10 512)\r\n"), &q), 0);
    T_EQ_PSTR(q.root, "");
    T_EQ_INT(q.count, 1);
    T_EQ_PSTR(q.v[0].name, "STORAGE");
    T_EQ_INT(q.v[0].usage, 10);
    T_EQ_INT(q.v[0].limit, 512);
    T_EQ_INT(posta_imap_decode_quota(d, dt_parse("* QUOTA \"#user/alice\" (STORAGE 54 111 "
                                                 "MESSAGE 42 1000)\r\n"), &q), 0);
    T_EQ_INT(q.count, 2);
    T_EQ_INT(q.v[1].limit, 1000);
    T_EQ_INT(posta_imap_decode_quota(d, dt_parse("* QUOTA x ()\r\n"), &q), 0);
    T_EQ_INT(q.count, 0);
    T_EQ_INT(posta_imap_decode_quota(d, dt_parse("* QUOTA x (STORAGE 1)\r\n"), &q), POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_quota(d, dt_parse("* QUOTA x (STORAGE a b)\r\n"), &q), POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_quota(d, dt_parse("* QUOTA x\r\n"), &q), POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_quota(d, dt_parse("* QUOTA (x) (STORAGE 1 2)\r\n"), &q), POSTA_EPROTO);

    posta_imap_quotaroot_data qr;
    T_EQ_INT(posta_imap_decode_quotaroot(d, dt_parse("* QUOTAROOT INBOX \"\"\r\n"), &qr), 0);
    T_EQ_PSTR(qr.mailbox.name, "INBOX");
    T_EQ_INT(qr.count, 1);
    T_EQ_PSTR(qr.roots[0], "");
    T_EQ_INT(posta_imap_decode_quotaroot(d, dt_parse("* QUOTAROOT comp.mail.mime\r\n"), &qr), 0);
    T_EQ_INT(qr.count, 0);
    T_EQ_INT(posta_imap_decode_quotaroot(d, dt_parse("* QUOTAROOT INBOX a (b)\r\n"), &qr),
             POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_quotaroot(d, dt_parse("* QUOTAROOT\r\n"), &qr), POSTA_EPROTO);
}

static void test_acl(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_acl_data a;
    T_EQ_INT(posta_imap_decode_acl(d, dt_parse("* ACL INBOX Fred rwipsldexta \"Smith J\" lr\r\n"),
                                   &a), 0);
    T_EQ_PSTR(a.mailbox.name, "INBOX");
    T_EQ_INT(a.count, 2);
    T_EQ_PSTR(a.v[0].name, "Fred");
    T_EQ_PSTR(a.v[0].value, "rwipsldexta");
    T_EQ_PSTR(a.v[1].name, "Smith J");
    T_EQ_INT(posta_imap_decode_acl(d, dt_parse("* ACL INBOX\r\n"), &a), 0);
    T_EQ_INT(a.count, 0);
    T_EQ_INT(posta_imap_decode_acl(d, dt_parse("* ACL INBOX Fred\r\n"), &a), 0);
    T_EQ_INT(a.count, 0);
    T_EQ_INT(posta_imap_decode_acl(d, dt_parse("* ACL INBOX Fred (r)\r\n"), &a), POSTA_EPROTO);

    posta_imap_listrights_data lr;
    T_EQ_INT(posta_imap_decode_listrights(d, dt_parse("* LISTRIGHTS ~/Mailbox/ smith la r "
                                                      "swicdkxte\r\n"), &lr), 0);
    T_EQ_PSTR(lr.mailbox.name, "~/Mailbox/");
    T_EQ_PSTR(lr.identifier, "smith");
    T_EQ_PSTR(lr.required, "la");
    T_EQ_INT(lr.count, 2);
    T_EQ_PSTR(lr.optional[1], "swicdkxte");
    T_EQ_INT(posta_imap_decode_listrights(d, dt_parse("* LISTRIGHTS x smith \"\"\r\n"), &lr), 0);
    T_EQ_PSTR(lr.required, "");
    T_EQ_INT(posta_imap_decode_listrights(d, dt_parse("* LISTRIGHTS x smith\r\n"), &lr),
             POSTA_EPROTO);

    posta_imap_myrights_data mr;
    T_EQ_INT(posta_imap_decode_myrights(d, dt_parse("* MYRIGHTS INBOX rwiptsldaex\r\n"), &mr), 0);
    T_EQ_PSTR(mr.rights, "rwiptsldaex");
    T_EQ_INT(posta_imap_decode_myrights(d, dt_parse("* MYRIGHTS INBOX\r\n"), &mr), POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_myrights(d, dt_parse("* MYRIGHTS INBOX a b\r\n"), &mr), POSTA_EPROTO);
}

static void test_metadata(void)
{
    posta_imap_decoder *d = dt_decoder(0);
    posta_imap_metadata_data m;
    T_EQ_INT(posta_imap_decode_metadata(d, dt_parse("* METADATA \"INBOX\" (/private/comment "
                                                    "\"My own comment\")\r\n"), &m), 0);
    T_EQ_PSTR(m.mailbox.name, "INBOX");
    T_EQ_INT(m.has_values, 1);
    T_EQ_INT(m.count, 1);
    T_EQ_PSTR(m.v[0].name, "/private/comment");
    T_EQ_PSTR(m.v[0].value, "My own comment");
    T_EQ_INT(m.v[0].size, 14);
    T_EQ_INT(posta_imap_decode_metadata(d, dt_parse(
        "* METADATA \"\" (/shared/comment NIL /shared/admin {12}\r\nmailto:a@b.c /private/x ~{2}\r\nab)\r\n"),
        &m), 0);
    T_EQ_PSTR(m.mailbox.name, "");
    T_EQ_INT(m.count, 3);
    T_NIL(m.v[0].value);
    T_EQ_PSTR(m.v[1].value, "mailto:a@b.c");
    T_EQ_PSTR(m.v[2].value, "ab");
    /* unsolicited entry lists */
    T_EQ_INT(posta_imap_decode_metadata(d, dt_parse("* METADATA \"\" /shared/comment\r\n"), &m), 0);
    T_EQ_INT(m.has_values, 0);
    T_EQ_INT(m.count, 1);
    T_NIL(m.v[0].value);
    T_EQ_INT(posta_imap_decode_metadata(d, dt_parse("* METADATA \"INBOX\" /shared/comment "
                                                    "/private/comment\r\n"), &m), 0);
    T_EQ_INT(m.count, 2);
    T_EQ_PSTR(m.v[1].name, "/private/comment");
    /* a streamed value */
    char text[300], big[201];
    memset(big, 'v', 200);
    big[200] = '\0';
    snprintf(text, sizeof(text), "* METADATA INBOX (/private/big {200}\r\n%s)\r\n", big);
    T_EQ_INT(posta_imap_decode_metadata(d, dt_parse_n(text, 0, 50), &m), 0);
    T_EQ_INT(m.v[0].streamed, 1);
    T_EQ_INT(m.v[0].size, 200);
    T_EQ_PSTR(m.v[0].value, "");
    T_EQ_INT(posta_imap_decode_metadata(d, dt_parse("* METADATA INBOX (/a)\r\n"), &m), POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_metadata(d, dt_parse("* METADATA INBOX\r\n"), &m), POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_metadata(d, dt_parse("* METADATA INBOX (/a (x))\r\n"), &m),
             POSTA_EPROTO);
    T_EQ_INT(posta_imap_decode_metadata(d, dt_parse("* METADATA INBOX /a (b)\r\n"), &m),
             POSTA_EPROTO);
}

int main(int argc, char **argv)
{
    static const struct t_case cases[] = {
        {"list_rfc", test_list_rfc},
        {"list_extended", test_list_extended},
        {"list_mutf7", test_list_mutf7},
        {"list_refused", test_list_refused},
        {"status", test_status},
        {"namespace", test_namespace},
        {"quota", test_quota},
        {"acl", test_acl},
        {"metadata", test_metadata},
        {NULL, NULL},
    };
    return t_main(argc, argv, cases);
}
