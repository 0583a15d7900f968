#!/usr/bin/env bash
# bench/tor/run-torbench.sh - Tor with our pluggable transport against
# obfs4proxy, in one run, on a private Tor network on 127.0.0.1 (a
# directory authority, an exit, a bridge with the PT, a client; see
# tests/front/tor_lib.sh). For each PT a fresh network is built and timed:
#
#   handshake   client start -> "Bootstrapped 15% (handshake_done)"
#               (the PT's SOCKS5, dial and the first OR handshake)
#   bootstrap   client start -> "Bootstrapped 100% (done)"
#               (mostly the authority's 20 s voting schedule, not the PT)
#   download    curl --socks5-hostname through the client's SocksPort:
#               SIZE MiB from a local HTTP server, every byte checked,
#               REPS times (the median is printed)
#
# Not a test: numbers depend on the machine and on the voting schedule.
#
#   bench/tor/run-torbench.sh [--build-dir DIR] [--size MiB] [--reps N]
#                             [--only plain,xor,obfs4]
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build
size=16
reps=3
only=plain,xor,obfs4

usage() {
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case $1 in
    --build-dir) build=$(cd "$2" && pwd) || exit 1; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run-torbench: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

water=$build/src/water
for f in "$water" "$build/transports/plain.wasm" "$build/transports/xor.wasm"; do
    [ -e "$f" ] || { echo "run-torbench: $f missing: build the tree first (cmake --build $build)" >&2; exit 1; }
done
for tool in tor tor-gencert curl python3 sha256sum; do
    command -v $tool >/dev/null || { echo "run-torbench: $tool not installed" >&2; exit 77; }
done

. "$root/tests/front/tor_lib.sh"
TL_MAX_SECONDS=900
work=$build/bench-tor

declare -A r_hs r_boot r_dl r_note
run_one() {
    local kind=$1 pt server client opts=""
    case $kind in
    plain) pt=water; server="$water pt -t water=$build/transports/plain.wasm"; client=$server ;;
    xor) pt=water; server="$water pt -t water=$build/transports/xor.wasm"; client=$server
         opts="key=torbench-key" ;;
    obfs4)
        command -v obfs4proxy >/dev/null || { r_note[$kind]="obfs4proxy not installed"; return; }
        pt=obfs4; server=$(command -v obfs4proxy); client=$server ;;
    *) r_note[$kind]="unknown"; return ;;
    esac
    echo "== $kind: building the network" >&2
    tl_init "$work/$kind"
    mkdir -p "$TL_DIR/www"
    head -c $((size * 1048576)) /dev/urandom >"$TL_DIR/www/blob"
    local want
    want=$(sha256sum <"$TL_DIR/www/blob" | cut -d' ' -f1)
    TL_HTTP_PORT=$(tl_port)
    tl_start http python3 -m http.server "$TL_HTTP_PORT" --bind 127.0.0.1 --directory "$TL_DIR/www"
    tl_network "$pt" "$server" "$client" "$opts" >&2 || { r_note[$kind]="network setup failed"; tl_cleanup; return; }
    TL_T0=$(date +%s.%N) # from the client's start
    if tl_wait_log "$TL_DIR/client.out" "Bootstrapped 15% \(handshake_done\)" 120; then
        r_hs[$kind]=$(tl_elapsed)
    fi
    if ! tl_wait_log "$TL_DIR/client.out" "Bootstrapped 100% \(done\)" 300; then
        r_note[$kind]="no bootstrap within 300 s"
        tl_cleanup
        return
    fi
    r_boot[$kind]=$(tl_elapsed)
    local times=() i t got
    # A 100% bootstrap may come from a consensus that does not list the exit
    # as usable yet; wait (up to 120 s) until a small fetch gets through.
    for ((i = 0; i < 40; i++)); do
        curl -sS --max-time 30 --socks5-hostname "127.0.0.1:$TL_SOCKS_PORT" \
            -o /dev/null "http://127.0.0.1:$TL_HTTP_PORT/" 2>/dev/null && break
        sleep 3
    done
    for ((i = 0; i < reps; i++)); do
        t=$( { curl -sS --max-time 300 --socks5-hostname "127.0.0.1:$TL_SOCKS_PORT" \
                 -w '%{time_total}' -o "$TL_DIR/got" "http://127.0.0.1:$TL_HTTP_PORT/blob"; } 2>/dev/null)
        got=$(sha256sum <"$TL_DIR/got" | cut -d' ' -f1)
        if [ "$got" != "$want" ]; then
            r_note[$kind]="download $((i + 1)) corrupt or failed"
            break
        fi
        times+=("$t")
        echo "   $kind download $((i + 1)): $t s" >&2
    done
    if [ ${#times[@]} -gt 0 ]; then
        r_dl[$kind]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    fi
    tl_cleanup
}

IFS=, read -r -a kinds <<<"$only"
for k in "${kinds[@]}"; do run_one "$k"; done

echo
echo "Tor $(tor --version | head -1 | awk '{sub(/\.$/, "", $3); print $3}') on 127.0.0.1, $size MiB downloads, median of $reps"
printf '%-8s %12s %12s %14s %10s  %s\n' PT "handshake s" "bootstrap s" "download s" "MiB/s" note
for k in "${kinds[@]}"; do
    dl=${r_dl[$k]:-}
    rate=-
    [ -n "$dl" ] && rate=$(awk -v s="$size" -v t="$dl" 'BEGIN {printf "%.1f", s / t}')
    printf '%-8s %12s %12s %14s %10s  %s\n' "$k" "${r_hs[$k]:--}" "${r_boot[$k]:--}" \
        "${dl:--}" "$rate" "${r_note[$k]:-}"
done
