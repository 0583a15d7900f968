#!/bin/bash
# tor_bridge.sh WATER XOR_WASM WORKDIR - Debian's tor with `water pt`:
# a bridge (BridgeRelay 1, PublishServerDescriptor 0, AssumeReachable 1,
# ExtORPort auto) whose ServerTransportPlugin is `water pt` with the xor
# transport keyed by ServerTransportOptions, and a client (UseBridges 1)
# with the bridge line tor wrote to the bridge's data directory. Pass:
# within 60 s the client logs "Bootstrapped 15% (handshake_done)" and
# "new bridge descriptor 'waterbridge' (fresh)". Both have only a dummy
# DirAuthority on 127.0.0.1, so the client stops at 30% (no consensus):
# expected. Nothing leaves 127.0.0.1.
set -u
WATER=$1
XOR=$2
WORK=$3
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in tor python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -f "$XOR" ] || { echo "SKIP: $XOR not built (wasm toolchain)"; exit 77; }
. "$HERE/tor_lib.sh"
TL_MAX_SECONDS=140
tl_init "$WORK"
tor --version | head -1
TL_DIRAUTH=""

PT="$WATER pt -t water=$XOR"
TL_T0=$(date +%s.%N)
tl_bridge waterbridge water "$PT" "key=bridge-test-key"
if ! tl_wait_log "$TL_DIR/waterbridge/bridgelines" "^Bridge water " 60; then
    echo "FAIL: the bridge wrote no bridge line"; tail -30 "$TL_DIR/waterbridge.out"; exit 1
fi
LINE=$(grep "^Bridge water " "$TL_DIR/waterbridge/bridgelines" | head -1)
echo "bridge line (after $(tl_elapsed) s): $LINE"
[ -s "$TL_DIR/waterbridge/pt_state/water_bridgeline.txt" ] &&
    echo "pt_state: $(grep ^Bridge "$TL_DIR/waterbridge/pt_state/water_bridgeline.txt")"
echo "$LINE" | grep -q " key=bridge-test-key$" || { echo "FAIL: the bridge line lacks the ARGS"; exit 1; }

TL_T0=$(date +%s.%N)
tl_client client water "$PT" "$LINE"
fails=0
if tl_wait_log "$TL_DIR/client.out" "Bootstrapped 15% \(handshake_done\)" 60; then
    echo "ok: handshake_done after $(tl_elapsed) s"
else
    echo "FAIL: no handshake_done within 60 s"; fails=1
fi
if tl_wait_log "$TL_DIR/client.out" "new bridge descriptor 'waterbridge' \(fresh\)" 60; then
    echo "ok: fresh bridge descriptor after $(tl_elapsed) s"
else
    echo "FAIL: no fresh bridge descriptor within 60 s"; fails=1
fi
grep -E "Bootstrapped|bridge descriptor" "$TL_DIR/client.out" | sed 's/^/  client: /'
tl_cleanup # stops tor, which stops the PTs: their exit reports too
tl_wait_gone "$PT" || { echo "FAIL: water pt still runs after tor stopped"; fails=1; }
tl_sanitizer_check || fails=1
if [ $fails != 0 ]; then
    echo "--- client"; tail -30 "$TL_DIR/client.out"
    echo "--- bridge"; tail -30 "$TL_DIR/waterbridge.out"
    exit 1
fi
