#!/usr/bin/env bash
# demo/demo.sh BUILD_DIR - WATER in one minute: carry 64 MiB of random data
# through `water dial` and `water listen` with the xor transport to an echo
# server and back, check every byte (SHA-256), show how fast it went and what
# the bytes look like between the two WATER processes. Everything runs on
# 127.0.0.1 and is stopped at the end; the exit status is non-zero if
# anything failed.
set -euo pipefail

if [ $# -ne 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  echo "usage: demo/demo.sh BUILD_DIR   (a CMake build of this tree, e.g. build)" >&2
  [ $# -eq 1 ] && exit 0
  exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=$1
case $build in /*) ;; *) build=$PWD/$build ;; esac

SIZE_MIB=64
water=$build/src/water
wasm=$build/transports/xor.wasm

fail() { printf '\nDEMO FAILED: %s\n' "$*" >&2; exit 1; }
step_no=0
step() { step_no=$((step_no + 1)); printf '\n%d. %s\n' "$step_no" "$*"; }
info() { printf '   %s\n' "$*"; }

[ -x "$water" ] || fail "$water not found: build first (cmake -S . -B $1 && cmake --build $1)"
[ -f "$wasm" ] || fail "$wasm not found: the transports are not built in $1"
for tool in sha256sum timeout head od; do
  command -v "$tool" >/dev/null || fail "$tool is needed"
done

# The traffic tool of bench/net: built by CMake, or here with cc.
netbench=$build/bench/net/netbench
if [ ! -x "$netbench" ] || [ "$root/bench/net/netbench.c" -nt "$netbench" ]; then
  mkdir -p "$build/bench/net"
  "${CC:-cc}" -std=c11 -O2 -Wall -Wextra -pthread -o "$netbench" "$root/bench/net/netbench.c" ||
    fail "could not build $netbench"
fi

# ---- every process started here is stopped at exit -------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/water-demo.XXXXXX")
pids=()
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_bg() { # NAME CMD...
  local name=$1
  shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=("$!")
  last_pid=$!
}

# Waits up to 5 s for "listening on HOST:PORT" on NAME's stderr.
listening_addr() { # NAME PID
  local a
  for _ in $(seq 100); do
    a=$(sed -n 's/^listening on //p' "$tmp/$1.err" | head -n1)
    if [ -n "$a" ]; then printf '%s\n' "$a"; return 0; fi
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  sed 's/^/   | /' "$tmp/$1.err" >&2
  fail "$1 did not start listening"
}

t_start=$(date +%s.%N)
echo "WATER demo: $SIZE_MIB MiB of random data through two WATER processes and back,"
echo "with the xor transport ($wasm)."
echo
echo "  you -> water dial ==xor on the wire==> water listen -> echo server"
echo "  you <- water dial <==xor on the wire== water listen <- echo server"

step "Making $SIZE_MIB MiB of random data and its SHA-256."
head -c $((SIZE_MIB * 1048576)) /dev/urandom >"$tmp/sent.bin"
sum_sent=$(sha256sum "$tmp/sent.bin" | cut -d' ' -f1)
info "SHA-256 of the data: $sum_sent"

step "Starting an echo server on 127.0.0.1 (it sends back every byte it gets)."
start_bg echo "$netbench" server --listen 127.0.0.1:0
echo_addr=$(listening_addr echo "$last_pid")
info "echo server listening on $echo_addr"

step "Starting 'water listen' with xor: it accepts WATER connections, undoes the"
info "transform and forwards the plain bytes to the echo server."
start_bg listen "$water" listen -t "$wasm" --listen 127.0.0.1:0 --forward "$echo_addr"
listen_addr=$(listening_addr listen "$last_pid")
info "water listen listening on $listen_addr, forwarding to $echo_addr"

step "Starting 'water dial' with xor: it accepts ordinary TCP from applications,"
info "applies the transform and carries the bytes to water listen."
start_bg dial "$water" dial -t "$wasm" --listen 127.0.0.1:0 --remote "$listen_addr"
dial_addr=$(listening_addr dial "$last_pid")
info "water dial listening on $dial_addr, dialing $listen_addr"

step "Timing the connection set-up: 20 connections through the whole chain,"
info "each from connect() until the first byte has come back from the echo server."
lat=$(timeout 60 "$netbench" latency --connect "$dial_addr" --count 20 --warmup 2) ||
  fail "could not connect through the chain"
lat_med=$(sed -n 's/.* median_us=\([0-9]*\).*/\1/p' <<<"$lat")
lat_max=$(sed -n 's/.* max_us=\([0-9]*\).*/\1/p' <<<"$lat")
info "$(awk -v m="$lat_med" -v x="$lat_max" 'BEGIN { printf "time to connect (median of 20): %.2f ms (slowest %.2f ms)", m / 1000, x / 1000 }')"
info "each one got its own fresh instance of xor.wasm in both water processes"

step "Sending the $SIZE_MIB MiB through water dial; the echo server sends it back"
info "through the same chain while we keep sending."
copy=$(timeout 110 "$netbench" copy --connect "$dial_addr" --in "$tmp/sent.bin" \
  --out "$tmp/received.bin") || fail "the transfer failed"
secs=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$copy")
mibps=$(sed -n 's/.* mibps=\([0-9.]*\).*/\1/p' <<<"$copy")
got=$(sed -n 's/.* bytes_received=\([0-9]*\).*/\1/p' <<<"$copy")
info "sent $SIZE_MIB MiB and received $got bytes back in $secs s: $mibps MiB/s each way"

step "Checking that what came back is exactly what was sent (SHA-256)."
sum_back=$(sha256sum "$tmp/received.bin" | cut -d' ' -f1)
info "sent:     $sum_sent"
info "received: $sum_back"
[ "$sum_sent" = "$sum_back" ] || fail "the data that came back differs from the data sent"
info "identical: every byte made the round trip intact"

step "What the bytes look like between the two water processes."
# A second water dial whose remote is a recorder instead of water listen.
rec_port=$("$netbench" port)
if command -v socat >/dev/null; then
  start_bg recorder timeout 20 socat -u \
    "TCP-LISTEN:$rec_port,bind=127.0.0.1,reuseaddr" "OPEN:$tmp/wire.bin,creat,trunc"
  rec_pid=$last_pid
  for _ in $(seq 100); do
    hex=$(printf '%04X' "$rec_port")
    grep -q "^ *[0-9]*: 0100007F:$hex 00000000:0000 0A " /proc/net/tcp && break
    sleep 0.05
  done
  start_bg peek "$water" dial -t "$wasm" --listen 127.0.0.1:0 --remote "127.0.0.1:$rec_port"
  peek_addr=$(listening_addr peek "$last_pid")
  message="Hello, WATER! Hello, WATER! Hello, WATER!"
  peek_host=${peek_addr%:*}
  peek_port=${peek_addr##*:}
  exec 6<>"/dev/tcp/$peek_host/$peek_port" || fail "cannot connect to $peek_addr"
  printf '%s' "$message" >&6
  exec 6>&-
  for _ in $(seq 100); do
    [ -s "$tmp/wire.bin" ] && [ "$(stat -c %s "$tmp/wire.bin")" -ge ${#message} ] && break
    sleep 0.05
  done
  kill -TERM "$rec_pid" 2>/dev/null || true
  wire_len=$(stat -c %s "$tmp/wire.bin" 2>/dev/null || echo 0)
  [ "$wire_len" -eq ${#message} ] ||
    fail "the recorder got $wire_len bytes on the wire, expected ${#message}"
  info "an application sends:  $message"
  info "on the wire (hex):     $(od -An -tx1 -N16 "$tmp/wire.bin" | tr -s ' ' | sed 's/^ //') ..."
  printf -v plain_hex '%s' "$(printf '%s' "$message" | od -An -tx1 -N16 | tr -s ' ' | sed 's/^ //')"
  info "the plain text (hex):  $plain_hex ..."
  [ "$(od -An -tx1 -N16 "$tmp/wire.bin")" != "$(printf '%s' "$message" | od -An -tx1 -N16)" ] ||
    fail "the wire bytes equal the plain text: the transport did not transform them"
  info "same length ($wire_len bytes), different bytes: xor.wasm rewrote them on the"
  info "way out, and the xor.wasm in water listen turns them back into the plain text"
else
  info "(skipped: socat is not installed)"
fi

step "Stopping everything that was started."
t_end=$(date +%s.%N)
total=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')
echo
echo "Demo passed in $total s: $SIZE_MIB MiB through xor.wasm and back intact at $mibps MiB/s,"
echo "connection set-up $(awk -v m="$lat_med" 'BEGIN { printf "%.2f", m / 1000 }') ms (median), on 127.0.0.1."
