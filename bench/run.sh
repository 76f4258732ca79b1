#!/usr/bin/env bash
# posta's benchmarks, side by side with peers in one run, reported as ratios
# (bench/README.md says what each measure is).
#
#   bash bench/run.sh [BUILD_DIR]
#
# BUILD_DIR: an existing posta build directory (with libposta.a) to measure;
# default: posta is configured and built into build-bench/ (RelWithDebInfo).
# The drivers are built into BUILD_DIR/bench; results go to
# BUILD_DIR/bench-results (results.md, rows.tsv, logs).
#
# Environment (defaults in brackets):
#   POSTA_BENCH_REPS      repetitions of each timed run, median reported [5]
#   POSTA_BENCH_PARSE_N   FETCH responses in the parsing transcripts [20000]
#   POSTA_BENCH_CG_N      the same under callgrind (per-byte counts do not
#                         depend on it; smaller is faster) [5000]
#   POSTA_BENCH_MSG_MB    size of the large message in MiB [200]
#   POSTA_BENCH_SMTP_N    messages in the SMTP session [2000]
#   POSTA_BENCH_SMTP_SIZE bytes per SMTP message [1024]
#   POSTA_BENCH_ONLY      "parse" or "network" to run one half only
#
# The network half needs root (the loopback servers of tests/harness/servers.sh
# switch users); without root it is skipped and the table says so.
set -euo pipefail

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")
ROOT=$(cd "$(dirname "$SELF")/.." && pwd -P)

REPS=${POSTA_BENCH_REPS:-5}
PARSE_N=${POSTA_BENCH_PARSE_N:-20000}
CG_N=${POSTA_BENCH_CG_N:-5000}
MSG_MB=${POSTA_BENCH_MSG_MB:-200}
SMTP_N=${POSTA_BENCH_SMTP_N:-2000}
SMTP_SIZE=${POSTA_BENCH_SMTP_SIZE:-1024}
ONLY=${POSTA_BENCH_ONLY:-}

say() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------------------------------
# Result rows: benchmark, posta value, peer, peer value, unit, better (lower|higher),
# tab-separated in $ROWS.  A value that could not be measured is "n/a: why".
# ---------------------------------------------------------------------------------------

row() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >> "$ROWS"
}

# median of the numbers given as arguments ("" when none)
median() {
    (($# > 0)) || { echo ""; return; }
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# key=value from a driver's output line: kv KEY FILE
kv() { tr ' ' '\n' < "$2" | sed -n "s/^$1=//p" | tail -n 1; }

fmt() {  # fmt NUMBER DECIMALS: number or the n/a text unchanged
    if [[ $1 =~ ^[0-9.eE+-]+$ ]]; then printf "%.${2}f" "$1"; else printf '%s' "$1"; fi
}

# ---------------------------------------------------------------------------------------
# Timed runs of commands: wall time (bash clock), client CPU time and peak RSS
# (/usr/bin/time when installed).
# ---------------------------------------------------------------------------------------

HAVE_GNU_TIME=0
[[ -x /usr/bin/time ]] && /usr/bin/time -f '%e' true 2>/dev/null && HAVE_GNU_TIME=1

# run_timed LOGPREFIX CMD...: sets T_WALL, T_CPU, T_RSS_KIB (empty when unknown);
# stdout in LOGPREFIX.out, stderr in LOGPREFIX.err.  Returns the command's status.
run_timed() {
    local log=$1 rc=0 t0 t1
    shift
    T_WALL="" T_CPU="" T_RSS_KIB=""
    t0=$EPOCHREALTIME
    if ((HAVE_GNU_TIME)); then
        /usr/bin/time -f '%U %S %M' -o "$log.time" "$@" > "$log.out" 2> "$log.err" || rc=$?
    else
        "$@" > "$log.out" 2> "$log.err" || rc=$?
    fi
    t1=$EPOCHREALTIME
    T_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    if ((HAVE_GNU_TIME)) && [[ -s $log.time ]]; then
        local u s m
        read -r u s m < <(tail -n 1 "$log.time")
        if [[ $u =~ ^[0-9.]+$ ]]; then
            T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
            T_RSS_KIB=$m
        fi
    fi
    return $rc
}

# ---------------------------------------------------------------------------------------
# Part 1: IMAP response parsing (CPU), no servers.
# ---------------------------------------------------------------------------------------

parse_benchmarks() {
    local bp=$BIN/bench_posta be=$BIN/bench_etpan kind label
    local have_etpan=1 have_vg=1
    [[ -x $be ]] || have_etpan=0
    command -v valgrind > /dev/null || have_vg=0
    local no_etpan="n/a: bench_etpan not built (apt-get install libetpan-dev)"
    local no_vg="n/a: valgrind not installed"

    for kind in meta literals; do
        case $kind in
        meta) label="IMAP parse: $PARSE_N FETCH (ENVELOPE, BODYSTRUCTURE...)" ;;
        literals) label="IMAP parse: $PARSE_N FETCH with a literal each" ;;
        esac
        say "parsing, $kind transcript: timing"
        local mode posta_mbps=() posta_rss=() tbytes=""
        for mode in parse typed; do
            if "$bp" imap-parse "$kind" "$mode" "$PARSE_N" "$REPS" > "$LOGS/parse-$kind-$mode.out" \
                    2> "$LOGS/parse-$kind-$mode.err"; then
                posta_mbps+=("$(kv mbps "$LOGS/parse-$kind-$mode.out")")
                posta_rss+=("$(kv rss_kib "$LOGS/parse-$kind-$mode.out")")
            else
                posta_mbps+=("n/a: bench_posta failed (see $LOGS/parse-$kind-$mode.err)")
                posta_rss+=("n/a: failed")
            fi
        done
        local etpan_mbps=$no_etpan etpan_rss=$no_etpan
        if ((have_etpan)); then
            if "$be" imap-parse "$kind" "$PARSE_N" "$REPS" > "$LOGS/parse-$kind-etpan.out" \
                    2> "$LOGS/parse-$kind-etpan.err"; then
                etpan_mbps=$(kv mbps "$LOGS/parse-$kind-etpan.out")
                etpan_rss=$(kv rss_kib "$LOGS/parse-$kind-etpan.out")
                tbytes=$(kv bytes "$LOGS/parse-$kind-etpan.out")
            else
                etpan_mbps="n/a: libetpan failed (see $LOGS/parse-$kind-etpan.err)"
                etpan_rss=$etpan_mbps
            fi
        fi

        say "parsing, $kind transcript: callgrind"
        local posta_ipb=() etpan_ipb=$no_etpan f
        for mode in parse typed; do
            if ((!have_vg)); then posta_ipb+=("$no_vg"); continue; fi
            f=$LOGS/cg-$kind-$mode
            if valgrind --tool=callgrind --collect-atstart=no --toggle-collect='bench_measure_*' \
                    --callgrind-out-file="$f.cg" "$bp" imap-parse "$kind" "$mode" "$CG_N" 1 \
                    > "$f.out" 2> "$f.err"; then
                posta_ipb+=("$(awk -v b="$(kv bytes "$f.out")" '/^summary:/ { printf "%.1f", $2 / b }' "$f.cg")")
            else
                posta_ipb+=("n/a: callgrind run failed")
            fi
        done
        if ((have_etpan && have_vg)); then
            f=$LOGS/cg-$kind-etpan
            if valgrind --tool=callgrind --collect-atstart=no --toggle-collect='bench_measure_*' \
                    --callgrind-out-file="$f.cg" "$be" imap-parse "$kind" "$CG_N" 1 \
                    > "$f.out" 2> "$f.err"; then
                etpan_ipb=$(awk -v b="$(kv bytes "$f.out")" '/^summary:/ { printf "%.1f", $2 / b }' "$f.cg")
            else
                etpan_ipb="n/a: callgrind run failed"
            fi
        elif ((!have_vg)); then
            etpan_ipb=$no_vg
        fi

        local peer="libetpan mailimap_fetch"
        row "$label: posta parser" "${posta_ipb[0]}" "$peer" "$etpan_ipb" "instructions/byte (callgrind, first $CG_N responses)" lower
        row "$label: posta parser + typed decode" "${posta_ipb[1]}" "$peer" "$etpan_ipb" "instructions/byte (callgrind, first $CG_N responses)" lower
        row "$label: posta parser" "$(fmt "${posta_mbps[0]}" 1)" "$peer" "$(fmt "$etpan_mbps" 1)" "MB/s" higher
        row "$label: posta parser + typed decode" "$(fmt "${posta_mbps[1]}" 1)" "$peer" "$(fmt "$etpan_mbps" 1)" "MB/s" higher
        [[ -n $tbytes ]] || tbytes=$(kv bytes "$LOGS/parse-$kind-typed.out")
        row "$label: posta parser + typed decode" "$(to_mib "${posta_rss[1]}")" "$peer" \
            "$(to_mib "$etpan_rss")" "peak RSS MiB (process, with the $(awk -v b="$tbytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB transcript in memory)" lower
    done
}

to_mib() {
    if [[ $1 =~ ^[0-9]+$ ]]; then awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; else printf '%s' "$1"; fi
}

# ---------------------------------------------------------------------------------------
# Part 2: against the loopback servers (run inside servers.sh run, as root).
# ---------------------------------------------------------------------------------------

MY_SINK_PID=""
stop_my_sink() {
    if [[ -n $MY_SINK_PID ]]; then
        kill -KILL -- "-$MY_SINK_PID" 2>/dev/null || true
        MY_SINK_PID=""
    fi
}

# A private smtp-sink without -d (the harness's writes a file per message), so
# that the SMTP numbers measure clients and protocol, not the sink's disk.
start_my_sink() {
    local port i fd line
    for i in 1 2 3 4 5; do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
        if ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | grep -qx "$port"; then
            continue
        fi
        setsid smtp-sink -u nobody "127.0.0.1:$port" 256 < /dev/null > "$LOGS/my-sink.log" 2>&1 &
        MY_SINK_PID=$!
        disown "$MY_SINK_PID" 2>/dev/null || true
        local t
        for t in $(seq 50); do
            line=""
            if { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
                IFS= read -r -t 1 -u "$fd" line || true
                exec {fd}>&-
            fi
            [[ $line == 220* ]] && break
            sleep 0.02
        done
        # smtp-sink uses SO_REUSEPORT: make sure the port is ours alone.
        if [[ $line == 220* ]] && [[ $(ss -Hltn "sport = :$port" | wc -l) == 1 ]] &&
                kill -0 "$MY_SINK_PID" 2>/dev/null; then
            MY_SINK_PORT=$port
            return 0
        fi
        stop_my_sink
    done
    return 1
}

declare -A PEER_NAME FAIL WALLS CPUS RSSES

# net_rows BENCH BYTES PEER... : rows for throughput, client CPU time and peak RSS,
# posta against each peer, from the runs big_fetch recorded.
net_rows() {
    local bench=$1 bytes=$2 peer
    shift 2
    local p_mbps p_cpu p_rss
    read -r p_mbps p_cpu p_rss < <(client_stats posta "$bytes")
    for peer in "$@"; do
        local mbps cpu rss
        read -r mbps cpu rss < <(client_stats "$peer" "$bytes")
        if [[ -n ${FAIL[$peer]:-} ]]; then
            mbps=${FAIL[$peer]} cpu=$mbps rss=$mbps
        fi
        if [[ -n ${FAIL[posta]:-} ]]; then
            p_mbps=${FAIL[posta]} p_cpu=$p_mbps p_rss=$p_mbps
        fi
        row "$bench" "$p_mbps" "${PEER_NAME[$peer]}" "$mbps" "MB/s (wall)" higher
        row "$bench" "$p_cpu" "${PEER_NAME[$peer]}" "$cpu" "client CPU s" lower
        row "$bench" "$p_rss" "${PEER_NAME[$peer]}" "$rss" "peak RSS MiB" lower
    done
}

# client_stats CLIENT BYTES: "MB/s CPU-s RSS-MiB" (medians; n/a when unknown)
client_stats() {
    local w c r
    # shellcheck disable=SC2086  # space-separated lists
    w=$(median ${WALLS[$1]:-}) c=$(median ${CPUS[$1]:-}) r=$(median ${RSSES[$1]:-})
    if [[ -n $w ]]; then
        w=$(awk -v b="$2" -v s="$w" 'BEGIN { printf "%.1f", b / 1e6 / s }')
    else
        w=n/a
    fi
    [[ -n $c ]] || c=n/a
    if [[ -n $r ]]; then r=$(to_mib "$r"); else r=n/a; fi
    echo "$w $c $r"
}

# big_fetch PROTO: a warm-up, then REPS interleaved rounds of every client.
big_fetch() {
    local proto=$1 rep client
    local -a clients=(posta etpan curl)
    WALLS=() CPUS=() RSSES=() FAIL=()
    [[ -x $BIN/bench_etpan ]] || FAIL[etpan]="n/a: bench_etpan not built (libetpan-dev)"
    command -v curl > /dev/null || FAIL[curl]="n/a: curl not installed"
    for ((rep = 0; rep <= REPS; rep++)); do
        for client in "${clients[@]}"; do
            [[ -z ${FAIL[$client]:-} ]] || continue
            # Round 0 is a warm-up (page cache, Dovecot's index and cache) by posta,
            # whose byte count is the reference, and a check that curl, whose
            # %{size_download} is not the message size for POP3, delivers it all.
            local log=$LOGS/$proto-$client-$rep ok=1 got
            local -a cmd
            local url out=/dev/null
            case $proto in
            imap) url="imaps://$HOST:$IMAPS_PORT/INBOX;UID=1" ;;
            pop3) url="pop3s://$HOST:$POP3S_PORT/1" ;;
            esac
            ((rep > 0)) || out=$WORK/curl-$proto.out
            case $proto:$client in
            imap:posta) cmd=("$BIN/bench_posta" imap-fetch "$HOST:$IMAPS_PORT" "$CA_FILE" "$USER1" "$PASS1" 1) ;;
            imap:etpan) cmd=("$BIN/bench_etpan" imap-fetch "$HOST" "$IMAPS_PORT" "$USER1" "$PASS1" 1) ;;
            pop3:posta) cmd=("$BIN/bench_posta" pop3-retr "$HOST:$POP3S_PORT" "$CA_FILE" "$USER1" "$PASS1" 1) ;;
            pop3:etpan) cmd=("$BIN/bench_etpan" pop3-retr "$HOST" "$POP3S_PORT" "$USER1" "$PASS1" 1) ;;
            *:curl) cmd=(curl -sS --cacert "$CA_FILE" -u "$USER1:$PASS1" -o "$out" "$url") ;;
            esac
            if ((rep == 0)) && [[ $client == etpan ]]; then continue; fi
            run_timed "$log" "${cmd[@]}" || ok=0
            if [[ $client == curl ]]; then
                got=$EXPECT_BYTES
                if ((rep == 0)); then
                    got=$(stat -c %s "$out" 2>/dev/null) || got=0
                    rm -f "$out"
                fi
            else
                got=$(kv bytes "$log.out")
            fi
            if ((ok)) && [[ -n $EXPECT_BYTES && $got != "$EXPECT_BYTES" ]]; then
                echo "got $got bytes, expected $EXPECT_BYTES (as posta)" >> "$log.err"
                ok=0
            fi
            if ((!ok)); then
                FAIL[$client]="n/a: failed (see $log.err)"
                say "$proto $client failed: $(head -c 300 "$log.err")"
                continue
            fi
            [[ -n $EXPECT_BYTES ]] || EXPECT_BYTES=$got
            ((rep > 0)) || continue
            WALLS[$client]+="$T_WALL "
            [[ -z $T_CPU ]] || CPUS[$client]+="$T_CPU "
            [[ -z $T_RSS_KIB ]] || RSSES[$client]+="$T_RSS_KIB "
        done
    done
}

smtp_benchmark() {
    local label="SMTP: $SMTP_N x $SMTP_SIZE B in one session to smtp-sink"
    if ! start_my_sink; then
        row "$label" "n/a: could not start smtp-sink" "-" "-" "messages/s" higher
        return
    fi
    local target=127.0.0.1:$MY_SINK_PORT
    "$BIN/bench_posta" gen-small "$WORK/small.crlf" "$SMTP_SIZE" crlf
    "$BIN/bench_posta" gen-small "$WORK/small.lf" "$SMTP_SIZE" lf
    # curl: one transfer per message, all in one command line ("next"), which
    # reuses the connection (MAIL, RCPT, DATA per message; no pipelining).
    local i
    {
        for ((i = 0; i < SMTP_N; i++)); do
            ((i == 0)) || echo next
            echo "url = \"smtp://$target/localhost\""
            echo 'mail-from = "sender@example.org"'
            echo 'mail-rcpt = "sink@example.org"'
            echo "upload-file = \"$WORK/small.crlf\""
        done
    } > "$WORK/curl-smtp.cfg"

    local -A why=() runs=()
    local -a clients=(posta esmtp smtpsource curl)
    [[ -x $BIN/bench_posta_smtp ]] ||
        why[posta]="n/a: bench_posta_smtp not built (posta's SMTP session API incomplete?)"
    [[ -x $BIN/bench_esmtp ]] || why[esmtp]="n/a: bench_esmtp not built (libesmtp-dev)"
    command -v smtp-source > /dev/null || why[smtpsource]="n/a: smtp-source not installed (postfix)"
    command -v curl > /dev/null || why[curl]="n/a: curl not installed"
    local rep client
    for ((rep = 1; rep <= REPS; rep++)); do
        for client in "${clients[@]}"; do
            [[ -z ${why[$client]:-} ]] || continue
            local log=$LOGS/smtp-$client-$rep ok=1
            local -a cmd
            case $client in
            posta) cmd=("$BIN/bench_posta_smtp" "$target" "$SMTP_N" "$SMTP_SIZE") ;;
            esmtp) cmd=("$BIN/bench_esmtp" "$target" "$SMTP_N" "$SMTP_SIZE") ;;
            smtpsource) cmd=(smtp-source -d -s 1 -m "$SMTP_N" -F "$WORK/small.lf" -M localhost
                             -f sender@example.org -t sink@example.org "$target") ;;
            curl) cmd=(curl -sS -K "$WORK/curl-smtp.cfg") ;;
            esac
            run_timed "$log" "${cmd[@]}" || ok=0
            if ((!ok)); then
                why[$client]="n/a: failed (see $log.err)"
                say "smtp $client failed: $(head -c 300 "$log.err")"
                continue
            fi
            runs[$client]+="$(awk -v n="$SMTP_N" -v s="$T_WALL" 'BEGIN { printf "%.1f", n / s }') "
        done
    done
    stop_my_sink
    local p
    if [[ -n ${why[posta]:-} ]]; then
        p=${why[posta]}
    else
        # shellcheck disable=SC2086
        p=$(fmt "$(median ${runs[posta]})" 0)
    fi
    local -A names=([esmtp]="libESMTP 1.1.0" [smtpsource]="Postfix smtp-source -d (no pipelining)"
                    [curl]="curl, one transfer per message, connection reused")
    for client in esmtp smtpsource curl; do
        local v
        if [[ -n ${why[$client]:-} ]]; then
            v=${why[$client]}
        else
            # shellcheck disable=SC2086
            v=$(fmt "$(median ${runs[$client]})" 0)
        fi
        row "$label" "$p" "${names[$client]}" "$v" "messages/s (wall)" higher
    done
}

network_phase() {
    # Inside "servers.sh run": the env file describes the servers.
    # shellcheck source=/dev/null
    . "$ROOT/tests/harness/load_env.sh"
    posta_load_env || return 1
    trap stop_my_sink EXIT

    PEER_NAME=([etpan]="libetpan (whole message in memory)" [curl]="curl")
    local bytes=$((MSG_MB * 1024 * 1024))
    # The large message goes straight into alice's Maildir (LMTP and APPEND would
    # meet the harness's 100 MB quota); Dovecot gives it UID 1.
    local md=$MAIL_DIR/$USER1/Maildir owner
    owner=$(stat -c %u:%g "$MAIL_DIR")
    mkdir -p "$md/cur" "$md/new" "$md/tmp"
    say "writing the ${MSG_MB} MiB message"
    "$BIN/bench_posta" gen-message "$md/new/1700000000.M1P1.posta-bench" "$bytes"
    chown -R "$owner" "$MAIL_DIR/$USER1"

    say "IMAP FETCH of the ${MSG_MB} MiB message ($REPS rounds)"
    EXPECT_BYTES=""
    big_fetch imap
    net_rows "IMAP FETCH BODY[] of a $MSG_MB MiB message over TLS" "${EXPECT_BYTES:-0}" etpan curl
    say "POP3 RETR of the ${MSG_MB} MiB message ($REPS rounds)"
    EXPECT_BYTES=""
    big_fetch pop3
    net_rows "POP3 RETR of a $MSG_MB MiB message over TLS" "${EXPECT_BYTES:-0}" etpan curl
    rm -rf "${MAIL_DIR:?}/$USER1"

    say "SMTP submission ($REPS rounds)"
    smtp_benchmark
}

# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------

report() {
    local out=$RESULTS/results.md
    {
        echo "posta benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "| benchmark | posta | peer | peer value | ratio | unit |"
        echo "|---|---:|---|---:|---:|---|"
        local b p peer v unit better ratio
        while IFS=$'\t' read -r b p peer v unit better; do
            ratio="-"
            if [[ $p =~ ^[0-9.]+$ && $v =~ ^[0-9.]+$ ]] &&
                    awk -v p="$p" -v v="$v" 'BEGIN { exit !(p > 0 && v > 0) }'; then
                if [[ $better == higher ]]; then
                    ratio=$(awk -v p="$p" -v v="$v" 'BEGIN { printf "%.2f", p / v }')
                else
                    ratio=$(awk -v p="$p" -v v="$v" 'BEGIN { printf "%.2f", v / p }')
                fi
            fi
            echo "| $b | $p | $peer | $v | $ratio | $unit, ${better} is better |"
        done < "$ROWS"
        echo
        echo "ratio > 1: posta is better by that factor (peer/posta for costs, posta/peer for rates)."
        echo "Timed values are medians of $REPS runs; instruction counts are exact (callgrind)."
        echo
        echo "Machine:"
        echo "- cores: $(nproc); CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
        echo "- kernel: $(uname -sr); $(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release 2>/dev/null)"
        echo "- compiler: $(${CC:-cc} --version 2>/dev/null | head -n 1); posta built $(build_type)"
        echo "- peers: $(versions)"
    } > "$out"
    cat "$out"
    say "results in $out, logs in $LOGS"
}

build_type() {
    sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null | head -n 1
}

versions() {
    local p v out=()
    for p in libetpan20 libesmtp6 curl postfix dovecot-core valgrind libssl3; do
        v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) || v=""
        [[ -n $v ]] && out+=("$p $v")
    done
    local joined
    printf -v joined '%s, ' "${out[@]}"
    echo "${joined%, }"
}

# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------

if [[ ${1:-} == --network ]]; then
    # Re-entered by servers.sh run; BIN, ROWS, LOGS, WORK come from the environment.
    network_phase
    exit $?
fi

BUILD=${1:-$ROOT/build-bench}
if [[ -n ${1:-} ]]; then
    [[ -f $BUILD/libposta.a ]] || { echo "bench: $BUILD has no libposta.a" >&2; exit 2; }
    BUILD=$(cd "$BUILD" && pwd -P)
else
    say "building posta into $BUILD"
    mkdir -p "$BUILD"
    if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOSTA_BUILD_TESTS=OFF \
                 -DPOSTA_BUILD_EXAMPLES=OFF &&
           cmake --build "$BUILD" --target posta_static -j "$(nproc)"; } \
            > "$BUILD/bench-posta-build.log" 2>&1; then
        tail -n 40 "$BUILD/bench-posta-build.log" >&2
        echo "bench: building posta failed" >&2
        exit 1
    fi
fi

RESULTS=$BUILD/bench-results
LOGS=$RESULTS/logs
WORK=$RESULTS/work
BIN=$BUILD/bench
ROWS=$RESULTS/rows.tsv
# (RESULTS/servers is left for servers.sh, which wipes it itself at the next start.)
rm -rf "$LOGS" "$WORK" "$ROWS" "$RESULTS/results.md"
mkdir -p "$LOGS" "$WORK"
: > "$ROWS"

# The peers and measuring tools (as root; otherwise what is missing is n/a).
if [[ $(id -u) == 0 ]]; then
    bash "$ROOT/scripts/deps.sh" bench
fi

say "building the drivers into $BIN"
cmake -S "$ROOT/bench" -B "$BIN" -DPOSTA_BUILD_DIR="$BUILD" > "$LOGS/configure.log" 2>&1 ||
    { cat "$LOGS/configure.log" >&2; exit 1; }
for t in bench_posta bench_posta_smtp bench_etpan bench_esmtp; do
    rm -f "$BIN/$t"
    if ! cmake --build "$BIN" --target "$t" > "$LOGS/build-$t.log" 2>&1; then
        say "$t not built (see $LOGS/build-$t.log)"
    fi
done
[[ -x $BIN/bench_posta ]] || { echo "bench: bench_posta did not build" >&2; exit 1; }

if [[ $ONLY != network ]]; then
    parse_benchmarks
fi

if [[ $ONLY != parse ]]; then
    if [[ $(id -u) != 0 ]]; then
        row "IMAP FETCH / POP3 RETR / SMTP" "n/a: needs root (loopback servers)" "-" "-" "-" higher
    else
        export BIN ROWS LOGS WORK REPS MSG_MB SMTP_N SMTP_SIZE
        bash "$ROOT/tests/harness/servers.sh" run "$RESULTS/servers" -- \
            bash "$SELF" --network ||
            row "IMAP FETCH / POP3 RETR / SMTP" "n/a: network phase failed (see above)" "-" "-" "-" higher
    fi
fi

report
