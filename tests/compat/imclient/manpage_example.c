/* The example program of the imclient(3) man page, completed: the lines the
 * page's rendering lost are restored from the Cyrus man page source, the
 * server is named, and after the Kerberos descriptor the mechanism list
 * gets SCRAM-SHA-256, since the test server has no Kerberos.  The rest is the
 * man page's text, unchanged (old-style C: main() with an implicit int, and
 * its strstr arguments the wrong way round). */
struct sasl_client;
#include <cyrus/xmalloc.h> /* example uses xstrdup */
#include <cyrus/sasl.h>
#include <cyrus/imclient.h>
#include <stdio.h>

extern struct sasl_client krb_sasl_client;

struct sasl_client *login_sasl_client[] = {
    &krb_sasl_client,
    &scram_sha_256_sasl_client,
    NULL
};
struct imclient *imclient;
char server[] = "localhost" ;
char port[] = "imap";

void fatal(char* message, int rc) {
    fprintf(stderr, "fatal error: %s\n", message);
    exit(rc);
}

static void callback_capability(struct imclient *imclient,
                    void *rock,
                    struct imclient_reply *reply) {
    if (reply->text != NULL) {
     *((char**)rock) = xstrdup( reply->text );
    }
}

static void end_command (struct imclient *connection, void*
               rock,  struct imclient_reply *inmsg) {
    (*(int*)rock)--;
}

main() {
    char* capability_string;
    int nc;

    if (imclient_connect(&imclient, server, port)) {
        fprintf(stderr,
          "error: Couldn't connect to %s %s\n",
          server, port);
        exit(1);
    }

    if (imclient_authenticate(imclient, login_sasl_client, "imap"
                     /* service */,
                     NULL /* user */, SASL_PROT_ANY)) {
        exit(1);
    }

    imclient_addcallback(imclient, "CAPABILITY",
                         CALLBACK_NOLITERAL,
                         callback_capability,
                         &capability_string,
                         NULL);

    nc = 1;

    imclient_send(imclient, end_command,
            (void*) &nc, "CAPABILITY");

    while(nc > 0) {
        imclient_processoneevent(imclient);
    }

    if (strstr("LITERAL+", capability_string)) {
     imclient_setflags(imclient, IMCLIENT_CONN_NONSYNCLITERAL);
    }

    imclient_send(imclient, NULL, NULL, "LOGOUT");
    imclient_close(imclient);

    printf("capability text is: %s\n", capability_string);

    free(capability_string);
}
