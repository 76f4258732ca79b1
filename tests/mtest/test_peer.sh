#!/usr/bin/env bash
# posta imtest against scripted servers, for what Dovecot will not do:
# bytes injected after the STARTTLS go-ahead, bytes sent after the login OK,
# a typed literal refused, PREAUTH and BYE greetings, a server that hangs up.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

P=$POSTA_BIN
CERT=$(envget SERVER_CERT)
KEY=$(envget SERVER_KEY)
CA=$(envget CA_FILE)

from_input() {
    "$@" <"$TMP/input"
}

# session NAME STATUS TEXT INPUT SCRIPT [imtest options]: play SCRIPT, feed
# INPUT to imtest; its status must be STATUS and its output hold TEXT.
session() {
    local name=$1 want=$2 text=$3 input=$4 script=$5
    shift 5
    printf '%b' "$input" >"$TMP/input"
    start_peer "$script" --cert "$CERT" --key "$KEY"
    check "$name" "$want" "$text" from_input timeout 30 "$P" imtest --cafile "$CA" -p "$PEER_PORT" "$@" 127.0.0.1
    finish_peer "$name: the server's side"
}

session "bytes after the STARTTLS go-ahead are refused" 1 "possible injection attack" "" \
'S: * OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready
C: S01 STARTTLS
S+ S01 OK go ahead\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n
!expect-close' -a u -w p

session "what follows the login OK is shown" 0 "* 1 EXISTS" "" \
'S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready
C: L01 LOGIN u {1}
S: + go
C: p
S+ L01 OK done\r\n* 1 EXISTS\r\n
C: Q01 LOGOUT
S: * BYE bye
S: Q01 OK bye' --cleartext -m login -a u -w p

session "a refused literal: the next line is a new command" 0 "hello BAD" 'a CREATE {5}\nhello\n' \
'S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready
C: L01 LOGIN u {1}
S: + go
C: p
S: L01 OK done
C: a CREATE {5}
!sleep 200
S: a NO no literals today
C: hello
S: hello BAD what
C: Q01 LOGOUT
S: * BYE bye
S: Q01 OK bye' --cleartext -m login -a u -w p

session "a literal waits for the go-ahead, a server literal is skipped" 0 "a OK created" 'a CREATE {5}\nhello\n' \
'S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready
C: L01 LOGIN u {1}
S: + go
C: p
S: L01 OK done
C: a CREATE {5}
S+ * 1 FETCH (BODY[] {8}\r\n+ fake\r\n)\r\n
S: + go ahead
C: hello
S: a OK created
C: Q01 LOGOUT
S: * BYE bye
S: Q01 OK bye' --cleartext -m login -a u -w p

session "PREAUTH without TLS is refused when TLS is required" 1 "STARTTLS" "" \
'S: * PREAUTH [CAPABILITY IMAP4rev1] welcome
C: C01 CAPABILITY
S: * CAPABILITY IMAP4rev1
S: C01 OK done
!expect-close' -a u -w p

session "PREAUTH counts as authenticated" 0 "Authenticated." "" \
'S: * PREAUTH [CAPABILITY IMAP4rev1] welcome
C: C01 CAPABILITY
S: * CAPABILITY IMAP4rev1
S: C01 OK done
C: Q01 LOGOUT
S: * BYE bye
S: Q01 OK bye' --cleartext -a u -w p

session "a BYE greeting ends it" 1 "refused the connection" "" \
'S: * BYE go away' -a u -w p

session "a server hanging up during login" 1 "closed the connection" "" \
'S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready
C: L01 LOGIN u {1}
!close' --cleartext -m login -a u -w p

summary
