#!/bin/bash
# tls_e2e.sh WATER TLS_WASM CERTDIR WORKDIR SCENARIO - end-to-end tests of the
# tls transport (transports/tls) over loopback with real peers. Every server
# is started here on 127.0.0.1 (port 0 or a free port), every wait is
# bounded, and everything started is stopped on exit.
#
# Scenarios:
#   dial_rev      water dial -t tls.wasm -> openssl s_server -rev: lines come
#                 back reversed
#   dial_www      water dial -> openssl s_server -WWW: a 4 MB file fetched by
#                 curl through the dialer arrives intact (SHA-256)
#   listen_curl   curl --cacert -> water listen -t tls.wasm --forward
#                 python3 -m http.server: a 4 MB file arrives intact
#   listen_alpn   openssl s_client -alpn h2 -> water listen --tls-alpn: ALPN
#                 agreed, and the certificate verifies
#   water_water   water dial (tls) -> water listen (tls) -> an echo server:
#                 8 MB out and back intact, half-close through close_notify
#   verify_fail   a server certificate that does not verify (unknown CA,
#                 wrong name): water logs "certificate verify failed" and the
#                 client's connection is closed
#   load_error    a bad --tls-cert / --tls-key / --tls-ca path is refused at
#                 load with a clear message
set -u
WATER=$1
TLS_WASM=$2
CERTS=$3
WORK=$4
SCENARIO=$5

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
T=$WORK/$SCENARIO
rm -rf "$T"
mkdir -p "$T"
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    PIDS=()
}

# On exit: stop everything, then fail on any sanitizer report (the ASan +
# UBSan build runs these tests too; water reports leaks when it exits).
finish() {
    local rc=$?
    cleanup
    if grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log 2>/dev/null; then
        echo "FAIL ($SCENARIO): sanitizer report above" >&2
        grep -h -A30 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/*.log >&2
        exit 1
    fi
    exit $rc
}
trap finish EXIT

fail() {
    echo "FAIL ($SCENARIO): $*" >&2
    for f in "$T"/*.log; do
        [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; } >&2
    done
    exit 1
}

# free_port: a free port below the kernel's ephemeral range, so that no
# outgoing connection of a test running in parallel takes it before socat
# binds it.
free_port() {
    python3 - <<'PY'
import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    p = random.randrange(10000, lo) if lo > 12000 else 0
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        print(s.getsockname()[1])
        break
    except OSError:
        pass
    finally:
        s.close()
PY
}

# wait_for FILE PATTERN: up to 10 s for PATTERN to appear in FILE.
wait_for() {
    for _ in $(seq 100); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "timed out waiting for '$2' in $1"
}

# start_water LOG ARGS...: starts water in the background, waits until it
# listens, sets PORT.
start_water() {
    local log=$1
    shift
    "$WATER" "$@" --listen 127.0.0.1:0 >"$log" 2>&1 &
    PIDS+=($!)
    wait_for "$log" "listening on"
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$PORT" ] || fail "no port in $log"
}

# start_s_server DIR LOG ARGS...: openssl s_server in DIR on port 0, sets
# SPORT from its "ACCEPT 127.0.0.1:PORT" line.
start_s_server() {
    local dir=$1 log=$2
    shift 2
    (cd "$dir" && exec openssl s_server -accept 127.0.0.1:0 -cert "$CERTS/srv.pem" \
        -key "$CERTS/srv.key" "$@" >"$log" 2>&1 </dev/null) &
    PIDS+=($!)
    wait_for "$log" "ACCEPT"
    SPORT=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$log" | head -1)
    [ -n "$SPORT" ] || fail "no port in $log"
}

# start_echo: a TCP echo server (socat) on a free port, sets EPORT.
start_echo() {
    EPORT=$(free_port)
    socat "TCP-LISTEN:$EPORT,bind=127.0.0.1,reuseaddr,fork" EXEC:cat >"$T/echo.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$EPORT") 2>/dev/null && return 0
        sleep 0.1
    done
    fail "the echo server did not start"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

case $SCENARIO in
dial_rev)
    start_s_server "$T" "$T/s_server.log" -rev
    start_water "$T/water.log" dial -t "$TLS_WASM" --tls-ca "$CERTS/ca.pem" \
        --tls-sni localhost --remote "127.0.0.1:$SPORT"
    printf 'hello world\nWATER in C\n' >"$T/in.txt"
    timeout 10 socat -t 3 - "TCP:127.0.0.1:$PORT" <"$T/in.txt" >"$T/out.txt" 2>"$T/socat.log"
    grep -q "dlrow olleh" "$T/out.txt" && grep -q "C ni RETAW" "$T/out.txt" ||
        fail "reversed lines not received: $(cat "$T/out.txt")"
    grep -q "Protocol version: TLSv1.3" "$T/s_server.log" || fail "not TLS 1.3"
    ;;
dial_www)
    mkdir -p "$T/www"
    head -c 4000000 /dev/urandom >"$T/www/file.bin"
    start_s_server "$T/www" "$T/s_server.log" -WWW
    # no --tls-sni: the host of --remote (localhost) is sent and verified
    start_water "$T/water.log" dial -t "$TLS_WASM" --tls-ca "$CERTS/ca.pem" \
        --remote "localhost:$SPORT"
    timeout 20 curl -sS -o "$T/got.bin" "http://127.0.0.1:$PORT/file.bin" 2>"$T/curl.log" ||
        fail "curl through water dial failed"
    [ "$(sha "$T/got.bin")" = "$(sha "$T/www/file.bin")" ] || fail "file differs"
    ;;
listen_curl)
    mkdir -p "$T/www"
    head -c 4000000 /dev/urandom >"$T/www/file.bin"
    (cd "$T/www" && exec python3 -u -m http.server 0 --bind 127.0.0.1 >"$T/http.log" 2>&1) &
    PIDS+=($!)
    wait_for "$T/http.log" "Serving HTTP"
    HPORT=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$T/http.log" | head -1)
    start_water "$T/water.log" listen -t "$TLS_WASM" --tls-cert "$CERTS/srv.pem" \
        --tls-key "$CERTS/srv.key" --forward "127.0.0.1:$HPORT"
    for host in localhost 127.0.0.1; do
        timeout 20 curl -sS --cacert "$CERTS/ca.pem" -o "$T/got.bin" \
            "https://$host:$PORT/file.bin" 2>"$T/curl.log" || fail "curl https://$host failed"
        [ "$(sha "$T/got.bin")" = "$(sha "$T/www/file.bin")" ] || fail "file differs ($host)"
    done
    # the wrong CA on the client side: curl refuses, water logs the alert
    timeout 10 curl -sS --cacert "$CERTS/other-ca.pem" -o /dev/null \
        "https://localhost:$PORT/file.bin" 2>"$T/curl-bad.log" && fail "curl accepted a bad CA"
    ;;
listen_alpn)
    start_echo
    start_water "$T/water.log" listen -t "$TLS_WASM" --tls-cert "$CERTS/srv.pem" \
        --tls-key "$CERTS/srv.key" --tls-alpn "h2,http/1.1" --forward "127.0.0.1:$EPORT"
    echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
        -verify_hostname localhost -CAfile "$CERTS/ca.pem" -verify_return_error \
        -alpn "spdy/1,h2" >"$T/s_client.log" 2>&1
    grep -q "ALPN protocol: h2" "$T/s_client.log" || fail "ALPN h2 not agreed"
    grep -q "Verify return code: 0 (ok)" "$T/s_client.log" || fail "certificate did not verify"
    ;;
water_water)
    start_echo
    start_water "$T/listen.log" listen -t "$TLS_WASM" --tls-cert "$CERTS/srv.pem" \
        --tls-key "$CERTS/srv.key" --forward "127.0.0.1:$EPORT"
    LPORT=$PORT
    start_water "$T/dial.log" dial -t "$TLS_WASM" --tls-ca "$CERTS/ca.pem" \
        --remote "localhost:$LPORT"
    head -c 8000000 /dev/urandom >"$T/in.bin"
    timeout 30 socat -t 10 - "TCP:127.0.0.1:$PORT" <"$T/in.bin" >"$T/out.bin" 2>"$T/socat.log" ||
        fail "socat through dial -> listen failed"
    [ "$(sha "$T/out.bin")" = "$(sha "$T/in.bin")" ] ||
        fail "echo differs ($(stat -c %s "$T/out.bin") of 8000000 bytes back)"
    ;;
verify_fail)
    start_s_server "$T" "$T/s_server.log" -rev
    start_water "$T/ca.log" dial -t "$TLS_WASM" --tls-ca "$CERTS/other-ca.pem" \
        --remote "localhost:$SPORT"
    CA_PORT=$PORT
    start_water "$T/sni.log" dial -t "$TLS_WASM" --tls-ca "$CERTS/ca.pem" \
        --tls-sni wrong.example --remote "127.0.0.1:$SPORT"
    SNI_PORT=$PORT
    for p in $CA_PORT $SNI_PORT; do
        start=$(date +%s)
        # socat -t 30: only the peer closing can end it early
        echo "hello" | timeout 20 socat -t 30 - "TCP:127.0.0.1:$p" >"$T/out-$p.txt" 2>&1
        rc=$?
        [ $rc -eq 124 ] && fail "the client connection was not closed (port $p)"
        [ $(($(date +%s) - start)) -lt 15 ] || fail "closing took too long (port $p)"
        [ -s "$T/out-$p.txt" ] && fail "data came through an unverified server: $(cat "$T/out-$p.txt")"
    done
    wait_for "$T/ca.log" "certificate verify failed: unable to get local issuer certificate"
    wait_for "$T/sni.log" "certificate verify failed: hostname mismatch"
    ;;
load_error)
    for args in "--tls-cert /nonexistent/srv.pem --tls-key $CERTS/srv.key" \
        "--tls-cert $CERTS/srv.pem --tls-key /nonexistent/srv.key" \
        "--tls-ca /nonexistent/ca.pem"; do
        # shellcheck disable=SC2086
        timeout 10 "$WATER" listen -t "$TLS_WASM" $args --listen 127.0.0.1:0 \
            --forward 127.0.0.1:9 >"$T/load.log" 2>&1
        rc=$?
        [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "water started with $args (rc $rc)"
        grep -q "/nonexistent/.*: No such file or directory" "$T/load.log" ||
            fail "unclear message for $args: $(cat "$T/load.log")"
    done
    timeout 10 "$WATER" listen -t "$TLS_WASM" --tls-cert "$CERTS/srv.pem" \
        --tls-key "$CERTS/ca.key" --listen 127.0.0.1:0 --forward 127.0.0.1:9 >"$T/load.log" 2>&1
    grep -q "does not match the certificate" "$T/load.log" ||
        fail "key mismatch not reported: $(cat "$T/load.log")"
    "$WATER" inspect "$TLS_WASM" >"$T/inspect.log" 2>&1
    grep -q "host extension: water_ext_v1 (" "$T/inspect.log" || fail "inspect: no extension line"
    ;;
*)
    fail "unknown scenario"
    ;;
esac
echo "ok: $SCENARIO"
