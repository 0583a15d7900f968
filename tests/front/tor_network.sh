#!/bin/bash
# tor_network.sh WATER XOR_WASM WORKDIR - a complete private Tor network on
# 127.0.0.1 (TestingTorNetwork 1): a directory authority (keys from
# tor-gencert), an exit relay whose policy is "accept *:PORT" for a local
# HTTP server, a bridge whose ServerTransportPlugin is `water pt` (xor),
# and a client using that bridge. Pass: the client logs "Bootstrapped
# 100% (done)" and curl --socks5-hostname through the client's SocksPort
# fetches the page intact.
set -u
WATER=$1
XOR=$2
WORK=$3
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in tor tor-gencert curl python3 sha256sum; do
    command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -f "$XOR" ] || { echo "SKIP: $XOR not built (wasm toolchain)"; exit 77; }
. "$HERE/tor_lib.sh"
TL_MAX_SECONDS=400
tl_init "$WORK"
tor --version | head -1

mkdir -p "$TL_DIR/www"
head -c 1048576 /dev/urandom >"$TL_DIR/www/page.bin"
want=$(sha256sum <"$TL_DIR/www/page.bin" | cut -d' ' -f1)
TL_HTTP_PORT=$(tl_port)
tl_start http python3 -m http.server "$TL_HTTP_PORT" --bind 127.0.0.1 --directory "$TL_DIR/www"

PT="$WATER pt -t water=$XOR"
tl_network water "$PT" "$PT" "key=network-test-key" || exit 1
if ! tl_wait_log "$TL_DIR/client.out" "Bootstrapped 100% \(done\)" 300; then
    echo "FAIL: the client did not bootstrap"
    echo "--- client"; tail -30 "$TL_DIR/client.out"
    echo "--- bridge"; tail -15 "$TL_DIR/waterbridge.out"
    echo "--- authority"; tail -15 "$TL_DIR/auth.out"
    exit 1
fi
echo "ok: Bootstrapped 100% (done) after $(tl_elapsed) s"
t0=$(date +%s.%N)
got=""
# "Bootstrapped 100%" can come from a consensus that does not list the exit
# as usable yet ("Failed to find node for hop #2"): curl then fails at once,
# and the next consensus (V3AuthVotingInterval 20) fixes it. Retry for up to
# two minutes.
attempt=0
while :; do
    attempt=$((attempt + 1))
    got=$(curl -sS --max-time 60 --socks5-hostname "127.0.0.1:$TL_SOCKS_PORT" \
          "http://127.0.0.1:$TL_HTTP_PORT/page.bin" | sha256sum | cut -d' ' -f1)
    [ "$got" = "$want" ] && break
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {exit !(b - a < 120)}' || break
    sleep 3
done
if [ "$got" = "$want" ]; then
    echo "ok: 1 MiB page intact through tor and water pt (attempt $attempt, $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s)"
    tl_cleanup
    tl_wait_gone "$PT" || { echo "FAIL: water pt still runs after tor stopped"; exit 1; }
    tl_sanitizer_check || exit 1
else
    echo "FAIL: page not fetched intact ($got)"
    tail -20 "$TL_DIR/client.out"
    exit 1
fi
