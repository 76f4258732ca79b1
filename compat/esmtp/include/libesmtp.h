/* The libESMTP 1.x programming interface, implemented by posta-esmtp on the
 * posta SMTP engine, so that programs written for libESMTP build against it
 * as they are (where posta behaves differently, compat/esmtp/README.md says
 * so). */
#ifndef _libesmtp_h
#define _libesmtp_h

#include <stddef.h>
#include <stdio.h>

#if defined(POSTA_ESMTP_BUILDING) && defined(__GNUC__)
#define LIBESMTP_API __attribute__((visibility("default")))
#else
#define LIBESMTP_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* --- handles ------------------------------------------------------------- */

/* A session: the server, options and messages of one submission run. */
typedef struct smtp_session *smtp_session_t;
/* A message of a session: envelope sender, recipients, headers, source. */
typedef struct smtp_message *smtp_message_t;
/* One envelope recipient of a message. */
typedef struct smtp_recipient *smtp_recipient_t;

typedef void (*smtp_enumerate_messagecb_t)(smtp_message_t message, void *arg);
typedef void (*smtp_enumerate_recipientcb_t)(smtp_recipient_t recipient, const char *mailbox,
                                             void *arg);

/* --- version ------------------------------------------------------------- */

/* What smtp_version() copies into buf: the libESMTP release this interface
 * follows, the shared object version, or the libtool version. */
enum { Ver_VERSION, Ver_SO_VERSION, Ver_LT_VERSION };
LIBESMTP_API int smtp_version(void *buf, size_t len, int what);

/* --- sessions and messages ------------------------------------------------ */

/* Create a session; NULL (and smtp_errno()) when out of memory. */
LIBESMTP_API smtp_session_t smtp_create_session(void);
/* Add an empty message at the end of the session; owned by the session. */
LIBESMTP_API smtp_message_t smtp_add_message(smtp_session_t session);
LIBESMTP_API int smtp_enumerate_messages(smtp_session_t session, smtp_enumerate_messagecb_t cb,
                                         void *arg);
/* "host[:service]"; the service defaults to 587.  Copied. */
LIBESMTP_API int smtp_set_server(smtp_session_t session, const char *hostport);
/* The server's host name as set with smtp_set_server(). */
LIBESMTP_API const char *smtp_get_server_name(smtp_session_t session);
/* The name sent with EHLO; NULL: posta's default (a name with a dot, else
 * the address literal of the local end). */
LIBESMTP_API int smtp_set_hostname(smtp_session_t session, const char *hostname);
/* The envelope sender (RFC 5321 mailbox); NULL or "" for <>. */
LIBESMTP_API int smtp_set_reverse_path(smtp_message_t message, const char *mailbox);
/* Add an envelope recipient; NULL (SMTP_ERR_INVAL) for a mailbox that could
 * not be sent safely (CR, LF, NUL, controls, angle brackets). */
LIBESMTP_API smtp_recipient_t smtp_add_recipient(smtp_message_t message, const char *mailbox);
LIBESMTP_API int smtp_enumerate_recipients(smtp_message_t message,
                                           smtp_enumerate_recipientcb_t cb, void *arg);

/* --- headers -------------------------------------------------------------- */

/* Set a header through the API.  The arguments after header depend on it:
 *   Date                          const time_t *
 *   Message-Id                    const char * (NULL: generate one)
 *   From, Sender, To, Cc, Bcc, Reply-To, Disposition-Notification-To
 *                                 const char *phrase, const char *mailbox
 *   any other                     const char *value
 * Bcc is never transmitted. */
LIBESMTP_API int smtp_set_header(smtp_message_t message, const char *header, ...);

enum header_option {
    Hdr_OVERRIDE, /* the API value replaces the message's own header */
    Hdr_PROHIBIT  /* the header is never transmitted nor generated */
};
/* The option's on/off value follows as an int. */
LIBESMTP_API int smtp_set_header_option(smtp_message_t message, const char *header,
                                        enum header_option option, ...);
LIBESMTP_API int smtp_set_resent_headers(smtp_message_t message, int onoff);

/* --- message source --------------------------------------------------------- */

/* Called with len NULL to rewind (return value unused), then repeatedly for
 * the next chunk: return its address with *len set, or NULL / *len 0 at the
 * end.  *buf is the callback's own state, NULL at first; a malloc'd block
 * stored there is freed by the library. */
typedef const char *(*smtp_messagecb_t)(void **buf, int *len, void *arg);
LIBESMTP_API int smtp_set_messagecb(smtp_message_t message, smtp_messagecb_t cb, void *arg);

/* --- events and monitor ---------------------------------------------------- */

enum {
    /* Protocol progress */
    SMTP_EV_CONNECT,
    SMTP_EV_MAILSTATUS,
    SMTP_EV_RCPTSTATUS,
    SMTP_EV_MESSAGEDATA,
    SMTP_EV_MESSAGESENT,
    SMTP_EV_DISCONNECT,
    SMTP_EV_SYNTAXWARNING,

    /* Protocol extension progress */
    SMTP_EV_ETRNSTATUS = 1000,

    /* Required extensions */
    SMTP_EV_EXTNA_DSN = 2000,
    SMTP_EV_EXTNA_8BITMIME,
    SMTP_EV_EXTNA_STARTTLS,
    SMTP_EV_EXTNA_ETRN,
    SMTP_EV_EXTNA_CHUNKING,
    SMTP_EV_EXTNA_BINARYMIME,

    /* Extensions specific events */
    SMTP_EV_DELIVERBY_EXPIRED = 3000,

    /* STARTTLS */
    SMTP_EV_WEAK_CIPHER = 3100,
    SMTP_EV_STARTTLS_OK,
    SMTP_EV_INVALID_PEER_CERTIFICATE,
    SMTP_EV_NO_PEER_CERTIFICATE,
    SMTP_EV_WRONG_PEER_CERTIFICATE,
    SMTP_EV_NO_CLIENT_CERTIFICATE,
    SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE,
    SMTP_EV_UNUSABLE_CA_LIST
};

/* The arguments after arg depend on event_no, as in libESMTP:
 *   SMTP_EV_CONNECT, SMTP_EV_DISCONNECT          none
 *   SMTP_EV_MAILSTATUS       const char *mailbox, smtp_message_t
 *   SMTP_EV_RCPTSTATUS       const char *mailbox, smtp_recipient_t
 *   SMTP_EV_MESSAGEDATA      smtp_message_t, int octets
 *   SMTP_EV_MESSAGESENT      smtp_message_t
 *   SMTP_EV_SYNTAXWARNING    int *quit
 *   SMTP_EV_ETRNSTATUS       int option, const char *domain
 *   SMTP_EV_EXTNA_DSN, _CHUNKING, _ETRN    int *quit
 *   SMTP_EV_EXTNA_8BITMIME, _BINARYMIME    none
 *   SMTP_EV_EXTNA_STARTTLS   NULL
 *   SMTP_EV_DELIVERBY_EXPIRED   long seconds, int *adjust
 *   SMTP_EV_WEAK_CIPHER      long bits, int *ok
 *   SMTP_EV_STARTTLS_OK      SSL *ssl (NULL), const char *cipher, int bits
 *   SMTP_EV_INVALID_PEER_CERTIFICATE   long verify_result, int *ok, SSL * (NULL)
 *   SMTP_EV_WRONG_PEER_CERTIFICATE     int *ok, const char *host, SSL * (NULL)
 *   SMTP_EV_NO_PEER_CERTIFICATE, SMTP_EV_NO_CLIENT_CERTIFICATE   int *ok
 *   SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE, SMTP_EV_UNUSABLE_CA_LIST   NULL */
typedef void (*smtp_eventcb_t)(smtp_session_t session, int event_no, void *arg, ...);
LIBESMTP_API int smtp_set_eventcb(smtp_session_t session, smtp_eventcb_t cb, void *arg);

/* writing is SMTP_CB_READING, SMTP_CB_WRITING or SMTP_CB_HEADERS. */
typedef void (*smtp_monitorcb_t)(const char *buf, int buflen, int writing, void *arg);
LIBESMTP_API int smtp_set_monitorcb(smtp_session_t session, smtp_monitorcb_t cb, void *arg,
                                    int headers);

/* --- running ---------------------------------------------------------------- */

/* Connect, send every message and recipient not yet complete, QUIT.
 * Nonzero when the session ran; 0 with smtp_errno() otherwise. */
LIBESMTP_API int smtp_start_session(smtp_session_t session);
LIBESMTP_API int smtp_destroy_session(smtp_session_t session);

/* --- statuses ------------------------------------------------------------ */

struct smtp_status {
    int code;         /* SMTP reply code; 0: not attempted */
    const char *text; /* the server's text, each line ending in CRLF */
    int enh_class;    /* RFC 3463 enhanced status code */
    int enh_subject;
    int enh_detail;
};
typedef struct smtp_status smtp_status_t;

LIBESMTP_API const smtp_status_t *smtp_message_transfer_status(smtp_message_t message);
LIBESMTP_API const smtp_status_t *smtp_reverse_path_status(smtp_message_t message);
LIBESMTP_API int smtp_message_reset_status(smtp_message_t recipient);
LIBESMTP_API const smtp_status_t *smtp_recipient_status(smtp_recipient_t recipient);
LIBESMTP_API int smtp_recipient_check_complete(smtp_recipient_t recipient);
LIBESMTP_API int smtp_recipient_reset_status(smtp_recipient_t recipient);

/* The error of the last failed call in this thread, and its description. */
LIBESMTP_API int smtp_errno(void);
LIBESMTP_API char *smtp_strerror(int error, char buf[], size_t buflen);

/* --- application data ---------------------------------------------------- */

#ifdef LIBESMTP_ENABLE_DEPRECATED_SYMBOLS
LIBESMTP_API void *smtp_set_application_data(smtp_session_t session, void *data);
LIBESMTP_API void *smtp_message_set_application_data(smtp_message_t message, void *data);
LIBESMTP_API void *smtp_recipient_set_application_data(smtp_recipient_t recipient, void *data);
#endif
/* release (may be NULL) is called with the data when it is replaced or its
 * owner destroyed. */
LIBESMTP_API void smtp_set_application_data_release(smtp_session_t session, void *data,
                                                    void (*release)(void *));
LIBESMTP_API void *smtp_get_application_data(smtp_session_t session);
LIBESMTP_API void smtp_message_set_application_data_release(smtp_message_t message, void *data,
                                                            void (*release)(void *));
LIBESMTP_API void *smtp_message_get_application_data(smtp_message_t message);
LIBESMTP_API void smtp_recipient_set_application_data_release(smtp_recipient_t recipient,
                                                              void *data,
                                                              void (*release)(void *));
LIBESMTP_API void *smtp_recipient_get_application_data(smtp_recipient_t recipient);

/* --- options -------------------------------------------------------------- */

LIBESMTP_API int smtp_option_require_all_recipients(smtp_session_t session, int state);

#ifdef _auth_client_h
LIBESMTP_API int smtp_auth_set_context(smtp_session_t session, auth_context_t context);
#endif

/* The standard message sources: a FILE (read from its start) and a string.
 * Also callable as functions: (smtp_set_message_fp)(m, fp). */
LIBESMTP_API const char *_smtp_message_fp_cb(void **ctx, int *len, void *arg);
LIBESMTP_API const char *_smtp_message_str_cb(void **ctx, int *len, void *arg);
LIBESMTP_API int(smtp_set_message_fp)(smtp_message_t message, FILE *fp);
LIBESMTP_API int(smtp_set_message_str)(smtp_message_t message, const char *string);
#define smtp_set_message_fp(message, fp) \
    smtp_set_messagecb((message), _smtp_message_fp_cb, (fp))
#define smtp_set_message_str(message, str) \
    smtp_set_messagecb((message), _smtp_message_str_cb, (void *)(str))

/* Per-phase timeouts in milliseconds (RFC 5321 4.5.3.2).  Values below the
 * RFC minimum are raised to it unless which is ORed with
 * Timeout_OVERRIDE_RFC2822_MINIMUM (then at least one second). */
enum rfc2822_timeouts {
    Timeout_GREETING, /* the 220 greeting, 5 minutes */
    Timeout_ENVELOPE, /* MAIL and RCPT replies, 5 minutes */
    Timeout_DATA,     /* the 354 reply to DATA, 2 minutes */
    Timeout_TRANSFER, /* each block of message data, 3 minutes */
    Timeout_DATA2     /* the reply to the final dot, 10 minutes */
};
#define Timeout_OVERRIDE_RFC2822_MINIMUM 0x1000
LIBESMTP_API long smtp_set_timeout(smtp_session_t session, int which, long value);

/* --- extensions ------------------------------------------------------------ */

/* DSN (RFC 3461) */
enum ret_flags { Ret_NOTSET, Ret_FULL, Ret_HDRS };
LIBESMTP_API int smtp_dsn_set_ret(smtp_message_t message, enum ret_flags flags);
LIBESMTP_API int smtp_dsn_set_envid(smtp_message_t message, const char *envid);

enum notify_flags {
    Notify_NOTSET,
    Notify_NEVER = -1,
    Notify_SUCCESS = 1,
    Notify_FAILURE = 2,
    Notify_DELAY = 4
};
LIBESMTP_API int smtp_dsn_set_notify(smtp_recipient_t recipient, enum notify_flags flags);
LIBESMTP_API int smtp_dsn_set_orcpt(smtp_recipient_t recipient, const char *address_type,
                                    const char *address);

/* SIZE (RFC 1870) */
LIBESMTP_API int smtp_size_set_estimate(smtp_message_t message, unsigned long size);

/* 8BITMIME (RFC 6152) and BINARYMIME (RFC 3030) */
enum e8bitmime_body {
    E8bitmime_NOTSET,
    E8bitmime_7BIT,
    E8bitmime_8BITMIME,
    E8bitmime_BINARYMIME
};
LIBESMTP_API int smtp_8bitmime_set_body(smtp_message_t message, enum e8bitmime_body body);

/* DELIVERBY (RFC 2852) */
enum by_mode { By_NOTSET, By_NOTIFY, By_RETURN };
LIBESMTP_API int smtp_deliverby_set_mode(smtp_message_t message, long time, enum by_mode mode,
                                         int trace);

/* STARTTLS (RFC 3207) */
enum starttls_option {
    Starttls_DISABLED, /* never TLS */
    Starttls_ENABLED,  /* STARTTLS when the server offers it */
    Starttls_REQUIRED  /* STARTTLS, or end the session */
};
LIBESMTP_API int smtp_starttls_enable(smtp_session_t session, enum starttls_option how);

/* Declared when <openssl/ssl.h> came first, as libESMTP does. */
#if defined(SSL_SESSION_ASN1_VERSION) || defined(OPENSSL_SSL_H) || defined(HEADER_SSL_H)
LIBESMTP_API int smtp_starttls_set_ctx(smtp_session_t session, SSL_CTX *ctx);
#endif

typedef int (*smtp_starttls_passwordcb_t)(char *buf, int buflen, int rwflag, void *arg);
LIBESMTP_API int smtp_starttls_set_password_cb(smtp_starttls_passwordcb_t cb, void *arg);

/* ETRN (RFC 1985) */
typedef struct smtp_etrn_node *smtp_etrn_node_t;
LIBESMTP_API smtp_etrn_node_t smtp_etrn_add_node(smtp_session_t session, int option,
                                                 const char *node);
typedef void (*smtp_etrn_enumerate_nodecb_t)(smtp_etrn_node_t node, int option,
                                             const char *domain, void *arg);
LIBESMTP_API int smtp_etrn_enumerate_nodes(smtp_session_t session,
                                           smtp_etrn_enumerate_nodecb_t cb, void *arg);
LIBESMTP_API const smtp_status_t *smtp_etrn_node_status(smtp_etrn_node_t node);
#ifdef LIBESMTP_ENABLE_DEPRECATED_SYMBOLS
LIBESMTP_API void *smtp_etrn_set_application_data(smtp_etrn_node_t node, void *data);
#endif
LIBESMTP_API void smtp_etrn_set_application_data_release(smtp_etrn_node_t node, void *data,
                                                         void (*release)(void *));
LIBESMTP_API void *smtp_etrn_get_application_data(smtp_etrn_node_t node);

#ifdef __cplusplus
}
#endif

/* --- error codes ------------------------------------------------------------ */

#define SMTP_ERR_NOTHING_TO_DO 2
#define SMTP_ERR_DROPPED_CONNECTION 3
#define SMTP_ERR_INVALID_RESPONSE_SYNTAX 4
#define SMTP_ERR_STATUS_MISMATCH 5
#define SMTP_ERR_INVALID_RESPONSE_STATUS 6
#define SMTP_ERR_INVAL 7
#define SMTP_ERR_EXTENSION_NOT_AVAILABLE 8

/* libESMTP versions of getaddrinfo's error numbers */
#define SMTP_ERR_EAI_ADDRFAMILY 9
#define SMTP_ERR_EAI_NODATA 10
#define SMTP_ERR_EAI_FAIL 11
#define SMTP_ERR_EAI_AGAIN 12
#define SMTP_ERR_EAI_MEMORY 13
#define SMTP_ERR_EAI_FAMILY 14
#define SMTP_ERR_EAI_BADFLAGS 15
#define SMTP_ERR_EAI_NONAME 16
#define SMTP_ERR_EAI_SERVICE 17
#define SMTP_ERR_EAI_SOCKTYPE 18

/* Older names of the above */
#define SMTP_ERR_HOST_NOT_FOUND SMTP_ERR_EAI_ADDRFAMILY
#define SMTP_ERR_NO_ADDRESS SMTP_ERR_EAI_NODATA
#define SMTP_ERR_NO_RECOVERY SMTP_ERR_EAI_FAIL
#define SMTP_ERR_TRY_AGAIN SMTP_ERR_EAI_AGAIN

#define SMTP_ERR_UNTERMINATED_RESPONSE 19
#define SMTP_ERR_CLIENT_ERROR 20

/* Monitor callback: values of writing */
#define SMTP_CB_READING 0
#define SMTP_CB_WRITING 1
#define SMTP_CB_HEADERS 2

#endif
