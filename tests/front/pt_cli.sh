#!/bin/bash
# pt_cli.sh WATER XOR_WASM PLAIN_WASM WORKDIR - `water pt` as tor sees it,
# without tor: the stdout protocol for good and bad environments, a PT
# client (SOCKS5 with the bridge arguments in the username/password)
# talking to a PT server that forwards to a plain "ORPort" (an HTTP server
# here), exit on stdin close and on SIGTERM, and nothing written outside
# TOR_PT_STATE_LOCATION.
set -u
WATER=$1
XOR=$2
PLAIN=$3
WORK=$4
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in curl python3 sha256sum; do
    command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
XOR0=${XOR%.wasm}.v0.wasm # the same transport, WATM v0 (config through pull_config)
[ -f "$XOR" ] && [ -f "$XOR0" ] && [ -f "$PLAIN" ] ||
    { echo "SKIP: transports not built (wasm toolchain)"; exit 77; }
. "$HERE/tor_lib.sh"
TL_MAX_SECONDS=110
tl_init "$WORK"

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect_out NAME EXIT_CODE EXPECTED_STDOUT ENV... : one short run.
expect_out() {
    local name=$1 code=$2 want=$3
    shift 3
    local got rc
    got=$(env -i PATH="$PATH" "$@" timeout 10 "$WATER" pt -t "water=$XOR" </dev/null 2>"$TL_DIR/$name.err")
    rc=$?
    if [ "$rc" = "$code" ] && [ "$got" = "$want" ]; then
        ok "$name"
    else
        bad "$name: exit $rc, stdout:"
        echo "$got" | sed 's/^/    /'
        echo "  wanted exit $code:"
        echo "$want" | sed 's/^/    /'
    fi
}

STATE="$TL_DIR/state"
V=TOR_PT_MANAGED_TRANSPORT_VER
expect_out version-error 1 "VERSION-ERROR no-version" \
    $V=2,3 TOR_PT_STATE_LOCATION="$STATE" TOR_PT_CLIENT_TRANSPORTS=water
expect_out version-missing 1 "VERSION-ERROR no-version" \
    TOR_PT_STATE_LOCATION="$STATE" TOR_PT_CLIENT_TRANSPORTS=water
expect_out no-state 1 "VERSION 1
ENV-ERROR TOR_PT_STATE_LOCATION is not set" $V=1 TOR_PT_CLIENT_TRANSPORTS=water
expect_out no-transports 1 "VERSION 1
ENV-ERROR neither TOR_PT_CLIENT_TRANSPORTS nor TOR_PT_SERVER_TRANSPORTS is set" \
    $V=1 TOR_PT_STATE_LOCATION="$STATE"
expect_out proxy 1 "VERSION 1
PROXY-ERROR water pt does not support an upstream proxy (TOR_PT_PROXY)" \
    $V=1 TOR_PT_STATE_LOCATION="$STATE" TOR_PT_CLIENT_TRANSPORTS=water \
    TOR_PT_PROXY=socks5://127.0.0.1:1
printf 'not a cookie' >"$TL_DIR/badcookie"
expect_out bad-cookie 1 "VERSION 1
ENV-ERROR TOR_PT_AUTH_COOKIE_FILE: $TL_DIR/badcookie: not an Extended ORPort cookie file (shorter than 64 bytes)" \
    $V=1 TOR_PT_STATE_LOCATION="$STATE" TOR_PT_SERVER_TRANSPORTS=water \
    TOR_PT_EXTENDED_SERVER_PORT=127.0.0.1:1 TOR_PT_AUTH_COOKIE_FILE="$TL_DIR/badcookie"
expect_out ext-no-cookie 1 "VERSION 1
ENV-ERROR no TOR_PT_AUTH_COOKIE_FILE when TOR_PT_EXTENDED_SERVER_PORT is set" \
    $V=1 TOR_PT_STATE_LOCATION="$STATE" TOR_PT_SERVER_TRANSPORTS=water \
    TOR_PT_EXTENDED_SERVER_PORT=127.0.0.1:1
out=$(env -i $V=1 TOR_PT_STATE_LOCATION="$STATE" TOR_PT_CLIENT_TRANSPORTS=water \
      timeout 10 "$WATER" pt -t "bad-name=$XOR" </dev/null)
[ "$out" = "VERSION 1
ENV-ERROR transport name 'bad-name' is not a C identifier" ] && ok "bad transport name" ||
    bad "bad transport name: $out"
for opt in "--max-spin lots" "--max-spin -5" "--max-memory 0"; do
    if out=$(timeout 10 "$WATER" pt -t "water=$XOR" $opt </dev/null 2>&1); then
        bad "pt $opt accepted"
    elif grep -q "pt: ${opt%% *} wants" <<<"$out"; then
        ok "pt $opt refused: $out"
    else
        bad "pt $opt: unclear error: $out"
    fi
done
[ ! -e "$STATE" ] && ok "nothing written by failed runs" || bad "state dir created by a failed run"

# The "ORPort": an HTTP server with a 4 MiB file.
mkdir -p "$TL_DIR/www"
head -c 4194304 /dev/urandom >"$TL_DIR/www/big.bin"
want=$(sha256sum <"$TL_DIR/www/big.bin" | cut -d' ' -f1)
HTTP=$(tl_port)
tl_start http python3 -m http.server "$HTTP" --bind 127.0.0.1 --directory "$TL_DIR/www"
for i in $(seq 1 100); do
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$HTTP/" && break
    sleep 0.1
done

# Server and client proxies with stdin on FIFOs we hold open.
mkfifo "$TL_DIR/server.in" "$TL_DIR/client.in"
exec 7<>"$TL_DIR/server.in" 8<>"$TL_DIR/client.in"
# (Not tl_start: a background command's stdin must be redirected on the
# command itself, or bash gives it /dev/null.)
timeout -k 5 "$TL_MAX_SECONDS" env -i $V=1 TOR_PT_STATE_LOCATION="$STATE/" \
    TOR_PT_EXIT_ON_STDIN_CLOSE=1 TOR_PT_SERVER_TRANSPORTS=water,nosuch \
    TOR_PT_SERVER_BINDADDR=water-127.0.0.1:0 'TOR_PT_SERVER_TRANSPORT_OPTIONS=water:key=k\;1' \
    TOR_PT_ORPORT="127.0.0.1:$HTTP" "$WATER" pt -t "water=$XOR" \
    <"$TL_DIR/server.in" >"$TL_DIR/server.out" 2>&1 7>&- 8>&- &
SERVER_PID=$!
TL_PIDS+=($!)
timeout -k 5 "$TL_MAX_SECONDS" env -i $V=1,2 TOR_PT_STATE_LOCATION="$TL_DIR/cstate" \
    TOR_PT_EXIT_ON_STDIN_CLOSE=1 TOR_PT_CLIENT_TRANSPORTS=nosuch,water,plain,water0 \
    "$WATER" pt -t "water=$XOR" -t "plain=$PLAIN" -t "water0=$XOR0" \
    <"$TL_DIR/client.in" >"$TL_DIR/client.out" 2>&1 7>&- 8>&- &
CLIENT_PID=$!
TL_PIDS+=($!)
tl_wait_log "$TL_DIR/server.out" "^SMETHODS DONE" 15 || bad "server: no SMETHODS DONE"
tl_wait_log "$TL_DIR/client.out" "^CMETHODS DONE" 15 || bad "client: no CMETHODS DONE"
echo "--- server stdout"; cat "$TL_DIR/server.out"
echo "--- client stdout"; cat "$TL_DIR/client.out"
grep -Eq '^SMETHOD water 127\.0\.0\.1:[0-9]+ ARGS:key=k;1$' "$TL_DIR/server.out" &&
    ok "SMETHOD with ARGS" || bad "SMETHOD line"
grep -q "ERROR" "$TL_DIR/server.out" "$TL_DIR/client.out" &&
    bad "an unknown transport gave a *-ERROR" || ok "unknown transports ignored"
grep -Eq '^CMETHOD water socks5 127\.0\.0\.1:[0-9]+$' "$TL_DIR/client.out" &&
    grep -Eq '^CMETHOD plain socks5 127\.0\.0\.1:[0-9]+$' "$TL_DIR/client.out" &&
    ok "CMETHOD lines" || bad "CMETHOD lines"
[ "$(head -1 "$TL_DIR/server.out")" = "VERSION 1" ] && [ "$(head -1 "$TL_DIR/client.out")" = "VERSION 1" ] &&
    ok "VERSION 1 first" || bad "VERSION line"
BRIDGE=$(sed -n 's/^SMETHOD water \([^ ]*\) .*/\1/p' "$TL_DIR/server.out")
CPORT=$(sed -n 's/^CMETHOD water socks5 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TL_DIR/client.out")
CPORT0=$(sed -n 's/^CMETHOD water0 socks5 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TL_DIR/client.out")
[ -f "$STATE/water_bridgeline.txt" ] && grep -q "^Bridge water $BRIDGE <FINGERPRINT> key=k;1" \
    "$STATE/water_bridgeline.txt" && ok "bridge line in the state directory" || bad "bridge line file"
[ "$(ls "$STATE")" = "water_bridgeline.txt" ] && [ ! -e "$TL_DIR/cstate" ] &&
    ok "writes only in TOR_PT_STATE_LOCATION" || bad "unexpected files: $(ls "$STATE")"

# Tor's way: the bridge arguments escaped (k\;1) in the SOCKS5 username,
# the password a single NUL byte.
python3 - "$CPORT" "$BRIDGE" "$want" "$CPORT0" >"$TL_DIR/socks.out" 2>&1 <<'EOF'
import hashlib, socket, struct, sys
cport, bridge, want = int(sys.argv[1]), sys.argv[2], sys.argv[3]
host, port = bridge.rsplit(":", 1)

def fetch(user, passwd, via=None):
    s = socket.create_connection(("127.0.0.1", via or cport), timeout=20)
    s.sendall(b"\x05\x01\x02")
    assert s.recv(2) == b"\x05\x02", "method"
    s.sendall(b"\x01" + bytes([len(user)]) + user + bytes([len(passwd)]) + passwd)
    assert s.recv(2) == b"\x01\x00", "auth"
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(host) + struct.pack(">H", int(port)))
    rep = s.recv(10)
    if rep[1] != 0:
        return "reply %d" % rep[1]
    s.sendall(b"GET /big.bin HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        try:
            b = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not b:
            break
        data += b
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    return hashlib.sha256(body).hexdigest()

fails = 0
got = fetch(b"key=k\\;1", b"\x00")
print("ok: 4 MiB through PT client and server" if got == want else "FAIL: right key: " + got)
fails += got != want
# Arguments longer than 255 bytes continue in the password.
got = fetch(b"pad=" + b"x" * 251, b";key=k\\;1")
print("ok: arguments split over username and password" if got == want else "FAIL: split args: " + got)
fails += got != want
got = fetch(b"key=k\\;1", b"\x00", int(sys.argv[4]))
print("ok: per-connection config of a WATM v0 module" if got == want else "FAIL: v0: " + got)
fails += got != want
got = fetch(b"key=wrong", b"\x00")
print("ok: a wrong key does not decode" if got != want else "FAIL: wrong key decoded")
fails += got == want
got = fetch(b"novalue", b"\x00")
print("ok: malformed arguments -> reply 1" if got == "reply 1" else "FAIL: malformed args: " + got)
fails += got != "reply 1"
sys.exit(1 if fails else 0)
EOF
rc=$?
cat "$TL_DIR/socks.out"
[ $rc = 0 ] || bad "PT client/server data"

# Exit when tor closes stdin (client) ...
exec 8>&-
for i in $(seq 1 50); do kill -0 "$CLIENT_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$CLIENT_PID" 2>/dev/null; then bad "client still running after stdin closed"
else wait "$CLIENT_PID"; rc=$?; [ $rc = 0 ] && ok "client exits 0 when stdin closes" || bad "client exit $rc"; fi
# ... and on SIGTERM (server).
kill -TERM "$SERVER_PID"
for i in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SERVER_PID" 2>/dev/null; then bad "server still running after SIGTERM"
else wait "$SERVER_PID"; rc=$?; [ $rc = 0 ] && ok "server exits 0 on SIGTERM" || bad "server exit $rc"; fi
exec 7>&-
tl_cleanup
tl_sanitizer_check || fails=$((fails + 1))

if [ $fails != 0 ]; then
    echo "--- server"; tail -20 "$TL_DIR/server.out"
    echo "--- client"; tail -20 "$TL_DIR/client.out"
    echo "$fails check(s) failed"
    exit 1
fi
echo "all PT checks passed"
