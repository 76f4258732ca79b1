#!/usr/bin/env bash
# posta imtest against Dovecot: what Cyrus's imtest does not do or does
# differently (verification, exit status, literals typed by the user, -f,
# the password prompt, -q COMPRESS, -k, -z, -t client certificate, names).
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

P=$POSTA_BIN
H=$(envget HOST)
H2=$(envget HOST2)
CA=$(envget CA_FILE)
U=$(envget USER1)
PW=$(envget PASS1)
U3=$(envget USER3)
PW3=$(envget PASS3)
IMAP=$(envget IMAP_PORT)
T="$P imtest --cafile $CA -p $IMAP"

# --- verification and exit status -------------------------------------------
run "verified with the test CA" 0 "" $T -a "$U" -w "$PW" "$H"
has "Authenticated." "Authenticated."
lacks "nothing said about verification when it succeeded" "NOT VERIFIED"
run "without the test CA the certificate is refused" 1 "" $P imtest -p "$IMAP" -a "$U" -w "$PW" "$H"
has "clear verification message" "certificate verify failed: unable to get local issuer certificate"
has "the way out is named" "--insecure"
lacks "no login after a failed verification" "Authenticated."
run "--insecure goes on" 0 "" $P imtest --insecure -p "$IMAP" -a "$U" -w "$PW" "$H"
has "--insecure says so" "TLS certificate NOT VERIFIED (--insecure was given): certificate verify failed"
run "wrong password exits 2" 2 "" $T -m SCRAM-SHA-256 -a "$U" -w wrong "$H"
has "wrong password reason" "Authentication failed. SCRAM-SHA-256 authentication failed: [AUTHENTICATIONFAILED]"
has "the session still goes on after a failure, as Cyrus's" "Connection closed."
run "refused connection exits 1" 1 "" $P imtest -p 1 -a "$U" -w "$PW" "$H"
has "refused connection says so" "connection refused"
run "-v shows the TLS details" 0 "" $T -v -a "$U" -w "$PW" "$H"
has "-v certificate verdict" "certificate verification: ok"
has "-v peer subject" "subject=CN=localhost"
has "-v ALPN" "ALPN: "
has "-v capabilities again" "Asking for capabilities again since they might have changed"
run "usage error exits 64" 64 "" $P imtest -Z "$H"
run "--cleartext with -t is a usage error" 64 "" $P imtest --cleartext -t "" "$H"
run "-h prints Cyrus's usage" 0 "" $P imtest -h
has "-h text" "-m mech  : SASL mechanism to use"
has "-h lists posta's options" "--insecure"

# --- the interactive phase ----------------------------------------------------
run "commands typed are sent, LOGOUT at the end" 0 "a1 NOOP\n" $T -m login -a "$U" -w "$PW" "$H"
has "command answered" "a1 OK NOOP completed"
has "own LOGOUT at end of input" "C: Q01 LOGOUT"
has "Connection closed." "Connection closed."
run ". logout closes" 0 ". logout\n" $T -m login -a "$U" -w "$PW" "$H"
has ". logout answered" ". OK Logout completed"
has ". logout BYE" "* BYE Logging out"

mbox="posta-mtest-$$"
run "a literal typed by the user waits for the go-ahead" 0 \
    "c1 CREATE {${#mbox}}\n$mbox\nc2 LIST \"\" $mbox\nc3 DELETE {${#mbox}}\n$mbox\n" \
    $T -m login -a "$U" -w "$PW" "$H"
has "literal go-ahead shown" "+ OK"
has "CREATE with a literal" "c1 OK Create completed"
has "the mailbox exists" "* LIST (\\HasNoChildren) \".\" $mbox"
has "DELETE with a literal" "c3 OK Delete completed"
lacks "no BAD for the literal data" " BAD "
run "LITERAL+ literal goes without waiting" 0 \
    "c1 CREATE {${#mbox}+}\n$mbox\nc2 DELETE $mbox\n" $T -m login -a "$U" -w "$PW" "$H"
has "CREATE with a non-synchronizing literal" "c1 OK Create completed"
has "and DELETE after it" "c2 OK Delete completed"
run "a multi-line literal (APPEND)" 0 \
    "c1 CREATE $mbox\nc2 APPEND $mbox {23}\nSubject: hi\n\nhello\n\nc3 STATUS $mbox (MESSAGES)\nc4 DELETE $mbox\n" \
    $T -m login -a "$U" -w "$PW" "$H"
has "APPEND of typed lines" "c2 OK [APPENDUID"
has "the message arrived" "* STATUS $mbox (MESSAGES 1)"

printf 'f1 NOOP\nf2 LIST "" INBOX\n' >"$TMP/cmds"
run "-f pipes a file" 0 "" $T -f "$TMP/cmds" -m login -a "$U" -w "$PW" "$H"
has "-f echoes the file" "f2 LIST \"\" INBOX"
has "-f commands answered" "f2 OK List completed"
has "-f then LOGOUT" "C: Q01 LOGOUT"
run "-f with a missing file" 1 "" $T -f "$TMP/nonexistent" -a "$U" -w "$PW" "$H"

# --- the password ---------------------------------------------------------------
run "-w with spaces" 0 "" $T -m PLAIN -a "$U3" -w "$PW3" "$H"
has "-w with spaces authenticated" "Authenticated."
run "password prompt reads stdin without a terminal" 0 "$PW3\na1 NOOP\n" \
    setsid -w $T -m login -a "$U3" "$H"
has "the Cyrus prompt" "Please enter your password: "
has "prompted password works" "Authenticated."
has "the next line is a command again" "a1 OK NOOP completed"
lacks "the password is not shown" "$PW3"

# --- SSF, COMPRESS, timing, client certificate ------------------------------------
run "-k above what TLS gives fails" 2 "" $T -k 1000 -m PLAIN -a "$U" -w "$PW" "$H"
has "-k reason" "Authentication failed."
run "-k 128 met by TLS" 0 "" $T -k 128 -m PLAIN -a "$U" -w "$PW" "$H"
run "-q COMPRESS=DEFLATE" 0 "q1 NOOP\nq2 LIST \"\" INBOX\n" $T -q -m login -a "$U" -w "$PW" "$H"
has "-q command" "C: Z01 COMPRESS DEFLATE"
has "-q accepted" "Z01 OK"
has "-q compressed traffic works" "q2 OK List completed"
has "-q logout over DEFLATE" "Q01 OK Logout completed"
run "-q without TLS" 0 "q1 NOOP\n" $P imtest --cleartext -p "$IMAP" -q -m login -a "$U" -w "$PW" "$H"
has "-q without TLS works" "q1 OK NOOP completed"
run "-z timing test" 0 "" $T -z -m login -a "$U" -w "$PW" "$H"
has "-z reports" "took "
cat "$(envget CLIENT_CERT)" "$(envget CLIENT_KEY)" >"$TMP/client.pem"
run "-t with a client certificate" 0 "" $T -t "$TMP/client.pem" -m login -a "$U" -w "$PW" "$H2"
has "-t logged in" "Authenticated."
run "-t with a missing file" 1 "" $T -t "$TMP/none.pem" -a "$U" -w "$PW" "$H2"
run "-I writes the pid" 0 "" $T -I "$TMP/pid" -m login -a "$U" -w "$PW" "$H"
check "-I pid file holds a number" 0 "" grep -qE '^[0-9]+$' "$TMP/pid"

# --- names -------------------------------------------------------------------------
ln -s "$P" "$TMP/imtest"
run "run as imtest by its name" 0 "" "$TMP/imtest" -h
has "usage names imtest" "Usage: imtest [options] hostname"
ln -s "$P" "$TMP/pop3test"
run "run as pop3test by its name" 0 "" "$TMP/pop3test" -h
has "usage names pop3test" "(\"user\" for USER/PASS, \"apop\" for APOP)"

summary
