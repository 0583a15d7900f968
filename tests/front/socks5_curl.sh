#!/bin/bash
# socks5_curl.sh WATER XOR_WASM WORKDIR - the SOCKS5 front end end to end:
#
#   curl --socks5-hostname -> water dial --socks5 (xor) -> water listen (xor)
#        -> python3 http.server, all on 127.0.0.1
#
# Checks: a 16 MiB file arrives intact (SHA-256) with a domain name, IPv4
# (and IPv6 when ::1 exists) requests; a refused target gets reply 5
# ("connection refused") and curl says so; BIND / UDP ASSOCIATE get 7,
# an unknown address type 8; a malformed greeting closes that client only;
# a silent client does not hold up others; --socks5-auth; SIGTERM stops
# both processes cleanly.
set -u
WATER=$1
XOR=$2
WORK=$3
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in curl python3 sha256sum; do
    command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -f "$XOR" ] || { echo "SKIP: $XOR not built (wasm toolchain)"; exit 77; }
. "$HERE/tor_lib.sh"
TL_MAX_SECONDS=170
tl_init "$WORK"

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# Port from "listening on HOST:PORT" in a log.
listening_port() {
    tl_wait_log "$1" "listening on " 15 || return 1
    sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$1" | head -1
}

mkdir -p "$TL_DIR/www"
head -c 16777216 /dev/urandom >"$TL_DIR/www/big.bin"
head -c 100000 /dev/urandom >"$TL_DIR/www/small.bin"
want_big=$(sha256sum <"$TL_DIR/www/big.bin" | cut -d' ' -f1)
want_small=$(sha256sum <"$TL_DIR/www/small.bin" | cut -d' ' -f1)

HTTP=$(tl_port)
tl_start http python3 -m http.server "$HTTP" --bind 127.0.0.1 --directory "$TL_DIR/www"
for i in $(seq 1 100); do
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$HTTP/small.bin" && break
    sleep 0.1
done

tl_start listen "$WATER" listen -t "$XOR" --listen 127.0.0.1:0 --forward "127.0.0.1:$HTTP"
tl_start dial "$WATER" dial -t "$XOR" --socks5 127.0.0.1:0
LPORT=$(listening_port "$TL_DIR/listen.out") || { echo "water listen did not start"; cat "$TL_DIR/listen.out"; exit 1; }
SPORT=$(listening_port "$TL_DIR/dial.out") || { echo "water dial --socks5 did not start"; cat "$TL_DIR/dial.out"; exit 1; }
echo "http 127.0.0.1:$HTTP  water listen :$LPORT  water dial --socks5 :$SPORT"

# 1. 16 MiB through --socks5-hostname (ATYP domain name).
t0=$(date +%s.%N)
curl -sS --max-time 120 --socks5-hostname "127.0.0.1:$SPORT" \
    "http://localhost:$LPORT/big.bin" -o "$TL_DIR/got.bin"
rc=$?
t1=$(date +%s.%N)
got=$(sha256sum <"$TL_DIR/got.bin" 2>/dev/null | cut -d' ' -f1)
if [ $rc = 0 ] && [ "$got" = "$want_big" ]; then
    ok "16 MiB via --socks5-hostname intact ($(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') s)"
else
    bad "16 MiB via --socks5-hostname: curl $rc, sha256 $got"
fi

# 2. IPv4 request (curl resolves locally).
got=$(curl -sS --max-time 30 --socks5 "127.0.0.1:$SPORT" "http://127.0.0.1:$LPORT/small.bin" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want_small" ] && ok "IPv4 CONNECT" || bad "IPv4 CONNECT ($got)"

# 3. IPv6 request, when this host has ::1.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    tl_start listen6 "$WATER" listen -t "$XOR" --listen "[::1]:0" --forward "127.0.0.1:$HTTP"
    L6=$(listening_port "$TL_DIR/listen6.out")
    got=$(curl -sS --max-time 30 --socks5 "127.0.0.1:$SPORT" "http://[::1]:$L6/small.bin" | sha256sum | cut -d' ' -f1)
    [ "$got" = "$want_small" ] && ok "IPv6 CONNECT" || bad "IPv6 CONNECT ($got)"
else
    echo "note: no ::1 here, IPv6 CONNECT not exercised end to end"
fi

# 4. A refused target: reply 5, and curl reports it.
CLOSED=$(tl_port)
curl -sS --max-time 30 --socks5-hostname "127.0.0.1:$SPORT" "http://localhost:$CLOSED/" \
    -o /dev/null 2>"$TL_DIR/refused.err"
rc=$?
if [ $rc = 97 ] && grep -q "(5)" "$TL_DIR/refused.err"; then
    ok "refused target: curl says: $(cat "$TL_DIR/refused.err")"
else
    bad "refused target: curl exit $rc: $(cat "$TL_DIR/refused.err")"
fi

# 5. Raw SOCKS5 conversations: reply codes, malformed input, a silent
#    client that must not hold up the others.
python3 - "$SPORT" "$CLOSED" >"$TL_DIR/raw.out" 2>&1 <<'EOF'
import socket, struct, sys, time
port, closed = int(sys.argv[1]), int(sys.argv[2])

def talk(data, wait=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            out += b
    except socket.timeout:
        out += b"<open>"
    except ConnectionResetError:
        pass  # closed with our bytes unread: a reset is a close too
    s.close()
    return out

hello = b"\x05\x01\x00"
def req(cmd, atyp, addr, p):
    return b"\x05" + bytes([cmd]) + b"\x00" + bytes([atyp]) + addr + struct.pack(">H", p)

silent = socket.create_connection(("127.0.0.1", port), timeout=5)
fails = 0
def check(name, got, want):
    global fails
    if got == want:
        print("ok:", name)
    else:
        print("FAIL:", name, got, "want", want)
        fails += 1

name = b"localhost"
check("refused -> 5", talk(hello + req(1, 3, bytes([len(name)]) + name, closed))[:4],
      b"\x05\x00\x05\x05")
check("BIND -> 7", talk(hello + req(2, 1, b"\x7f\x00\x00\x01", 80)),
      b"\x05\x00\x05\x07\x00\x01" + bytes(6))
check("UDP ASSOCIATE -> 7", talk(hello + req(3, 1, bytes(4), 0)),
      b"\x05\x00\x05\x07\x00\x01" + bytes(6))
check("unknown ATYP -> 8", talk(hello + b"\x05\x01\x00\x09\x00"),
      b"\x05\x00\x05\x08\x00\x01" + bytes(6))
check("malformed greeting closed", talk(b"GET / HTTP/1.0\r\n\r\n"), b"")
check("SOCKS4 closed", talk(b"\x04\x01\x00\x50\x7f\x00\x00\x01\x00"), b"")
check("bad domain closed", talk(hello + b"\x05\x01\x00\x03\x00\x00\x50"), b"\x05\x00")
silent.close()
sys.exit(1 if fails else 0)
EOF
rc=$?
cat "$TL_DIR/raw.out"
[ $rc = 0 ] || bad "raw SOCKS5 conversations"
got=$(curl -sS --max-time 30 --socks5-hostname "127.0.0.1:$SPORT" "http://localhost:$LPORT/small.bin" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want_small" ] && ok "still serving after bad clients" || bad "not serving after bad clients"

# 6. Username/password (RFC 1929).
tl_start dialauth "$WATER" dial -t "$XOR" --socks5 127.0.0.1:0 --socks5-auth alice:s3cret
APORT=$(listening_port "$TL_DIR/dialauth.out")
got=$(curl -sS --max-time 30 -x "socks5h://alice:s3cret@127.0.0.1:$APORT" "http://localhost:$LPORT/small.bin" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want_small" ] && ok "username/password accepted" || bad "username/password ($got)"
curl -sS --max-time 30 -x "socks5h://alice:wrong@127.0.0.1:$APORT" "http://localhost:$LPORT/small.bin" \
    -o /dev/null 2>"$TL_DIR/auth.err"
rc=$?
[ $rc = 97 ] && ok "wrong password refused: $(cat "$TL_DIR/auth.err")" || bad "wrong password: curl exit $rc"
curl -sS --max-time 30 --socks5-hostname "127.0.0.1:$APORT" "http://localhost:$LPORT/small.bin" \
    -o /dev/null 2>/dev/null && bad "no-auth accepted though credentials are required" ||
    ok "no-auth refused when credentials are required"

# 7. SIGTERM: clean exits.
for p in "${TL_PIDS[@]:1}"; do kill -TERM "$p" 2>/dev/null; done
for name in listen dial dialauth; do
    if tl_wait_log "$TL_DIR/$name.out" "^stopped" 5; then ok "$name stopped on SIGTERM"; else bad "$name did not stop"; fi
done

tl_cleanup
tl_sanitizer_check || fails=$((fails + 1))
if [ $fails != 0 ]; then
    echo "--- dial log"; tail -20 "$TL_DIR/dial.out"
    echo "--- listen log"; tail -20 "$TL_DIR/listen.out"
    echo "$fails check(s) failed"
    exit 1
fi
echo "all SOCKS5 checks passed"
