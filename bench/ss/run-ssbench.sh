#!/usr/bin/env bash
# run-ssbench.sh - Shadowsocks throughput: WATER's shadowsocks.wasm against
# shadowsocks-libev, in one run, on 127.0.0.1 only.
#
# For each method, BYTES (default 256 MiB) go each way at once (an echo
# server sends everything back; SHA-256 compared) through:
#   (a) ss-tunnel  -> ss-server      shadowsocks-libev on both ends (baseline)
#   (b) our client -> ss-server      `water dial` with shadowsocks.wasm
#   (c) our client -> our server     `water dial` -> `water relay`, both wasm
#   (n) native client -> ss-server   the transport's C code built natively
#                                    (OpenSSL, no engine): what the engine costs
# and prints MiB/s (of one direction) and its ratio to (a), then the CPU
# seconds the two proxy processes of the path used per GiB moved each way
# and (a)'s CPU per GiB divided by the path's (above 1: cheaper than
# shadowsocks-libev). On a busy machine MiB/s swings with the load; the CPU
# cost does not. Target: (b) and (c) at least 0.80.
#
# Usage: bench/ss/run-ssbench.sh [options]
#   --bytes N          bytes each way per run (default 268435456)
#   --methods "a b"    default "chacha20-ietf-poly1305 aes-256-gcm"
#   --reps R           runs per cell, the best kept (default 1)
#   --build-dir DIR    CMake build tree with src/water, transports/shadowsocks.wasm
#                      and tests/shadowsocks/ss_peer (default <repo>/build)
#   --no-build         use what is in DIR; do not run cmake --build
#   --profile          after the table, profile (b) with strace -c and
#                      valgrind --tool=callgrind on the water process
#                      (small transfers; results in the printed folder)
#
# Not a test: it prints numbers. Exit 0 when every transfer checked out, 1
# when one failed, 2 on bad usage or a missing build, 77 without
# shadowsocks-libev.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build"
bytes=$((256 * 1024 * 1024))
methods="chacha20-ietf-poly1305 aes-256-gcm"
reps=1 do_build=1 profile=0

die() { echo "run-ssbench: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
  --bytes) [ $# -ge 2 ] || die "--bytes needs a value"; bytes=$2; shift ;;
  --methods) [ $# -ge 2 ] || die "--methods needs a value"; methods=$2; shift ;;
  --reps) [ $# -ge 2 ] || die "--reps needs a value"; reps=$2; shift ;;
  --build-dir) [ $# -ge 2 ] || die "--build-dir needs a value"; build=$2; shift ;;
  --no-build) do_build=0 ;;
  --profile) profile=1 ;;
  -h | --help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown option '$1' (try --help)" ;;
  esac
  shift
done

for p in ss-server ss-tunnel; do
  command -v $p >/dev/null || { echo "run-ssbench: $p not installed (Debian: shadowsocks-libev)" >&2; exit 77; }
done
if [ $do_build = 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null || die "cmake configure failed"
  fi
  cmake --build "$build" --target water watm_transport_shadowsocks ss_peer -j "$(nproc)" \
    >"$build/ssbench-build.log" 2>&1 || die "build failed; see $build/ssbench-build.log"
fi
WATER=$build/src/water
WASM=$build/transports/shadowsocks.wasm
PEER=$build/tests/shadowsocks/ss_peer
for f in "$WATER" "$WASM" "$PEER"; do [ -e "$f" ] || die "missing $f (build first, or --build-dir)"; done
if grep -q 'WATER_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null ||
   ! grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "run-ssbench: warning: $build is not a Release build without sanitizers" >&2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ssbench.XXXXXX")
PIDS=()
failed=0
stop_pid() {
  kill "$1" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
cleanup() {
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  if [ $profile = 1 ] || [ $failed != 0 ]; then
    echo "run-ssbench: logs kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

LAST_PID=""
start() { # NAME CMD...
  local name=$1; shift
  # The background shell opens (truncates) the log later: remove an old one
  # first so that nobody reads stale lines from it.
  rm -f "$WORK/$name.log"
  "$@" >"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
wait_log() { # NAME REGEX
  for _ in $(seq 100); do
    grep -Eq "$2" "$WORK/$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run-ssbench: $1 did not start:" >&2; cat "$WORK/$1.log" >&2
  failed=1
  exit 1
}
PORT=""
listen_port() { # NAME: PORT := from "listening on 127.0.0.1:PORT"
  wait_log "$1" 'listening on 127\.0\.0\.1:[0-9]+'
  PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/$1.log" | head -1)
  [ -n "$PORT" ] || { echo "run-ssbench: no port in $WORK/$1.log" >&2; cat "$WORK/$1.log" >&2; failed=1; exit 1; }
}
stop_all_but_echo() {
  for p in "${PIDS[@]:1}"; do stop_pid "$p"; done
  PIDS=("${PIDS[@]:0:1}")
}

HZ=$(getconf CLK_TCK)
cpu_ticks() { # PID...: user + system ticks of these processes (all threads)
  local t=0 p
  for p in "$@"; do
    t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo $t
}
RATE="" CPU=""
# measure PORT PID...: RATE := best MiB/s of $reps runs ("FAILED" when one
# failed); CPU := CPU seconds the given proxy processes spent per GiB moved
# each way (averaged over the runs): load-independent, unlike MiB/s on a
# busy machine.
measure() {
  local port=$1; shift
  local best=0 out rate t0 t1
  t0=$(cpu_ticks "$@")
  for _ in $(seq "$reps"); do
    if ! out=$("$PEER" bulk "127.0.0.1:$port" "$bytes" 600000 2>&1); then
      echo "run-ssbench: transfer failed: $out" >&2
      failed=1
      RATE=FAILED CPU=-
      return
    fi
    rate=$(sed -n 's/.*: \([0-9.]*\) MiB\/s.*/\1/p' <<<"$out")
    best=$(awk -v a="$best" -v b="$rate" 'BEGIN { print (b > a) ? b : a }')
  done
  t1=$(cpu_ticks "$@")
  RATE=$best
  CPU=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$reps" -v b="$bytes" \
    'BEGIN { printf "%.2f", t / hz / n / (b / 1073741824) }')
}

start echo "$PEER" echo "$WORK/echo.port"
for _ in $(seq 100); do [ -s "$WORK/echo.port" ] && break; sleep 0.1; done
ECHO=$(cat "$WORK/echo.port")
PW="ssbench password"

printf 'Shadowsocks throughput, %d MiB each way per run, best of %d; %s cores; %s\n' \
  $((bytes / 1048576)) "$reps" "$(nproc)" "$(ss-server -h 2>&1 | grep -m1 -o 'shadowsocks-libev [0-9.]*')"
printf '%-24s %-32s %8s %6s %12s %6s\n' method path MiB/s ratio "CPU s/GiB" ratio
declare -A result cpu
for M in $methods; do
  printf '{"method":"%s","password":"%s","target":"127.0.0.1:%s"}\n' "$M" "$PW" "$ECHO" >"$WORK/client.json"
  printf '{"method":"%s","password":"%s"}\n' "$M" "$PW" >"$WORK/server.json"
  SSP=$("$PEER" port)
  start ss-server ss-server -s 127.0.0.1 -p "$SSP" -k "$PW" -m "$M"
  SS_PID=$LAST_PID
  wait_log ss-server 'listening at'

  # (a) ss-tunnel -> ss-server
  TP=$("$PEER" port)
  start ss-tunnel ss-tunnel -s 127.0.0.1 -p "$SSP" -b 127.0.0.1 -l "$TP" -k "$PW" -m "$M" -L "127.0.0.1:$ECHO"
  TU_PID=$LAST_PID
  wait_log ss-tunnel 'listening at'
  measure "$TP" "$TU_PID" "$SS_PID"; result[$M.a]=$RATE cpu[$M.a]=$CPU
  # (b) our client -> ss-server
  start water-dial "$WATER" dial -t "$WASM" -c "$WORK/client.json" --listen 127.0.0.1:0 --remote "127.0.0.1:$SSP"
  D_PID=$LAST_PID
  listen_port water-dial; DP=$PORT
  measure "$DP" "$D_PID" "$SS_PID"; result[$M.b]=$RATE cpu[$M.b]=$CPU
  # (c) our client -> our server
  start water-relay "$WATER" relay -t "$WASM" -c "$WORK/server.json" --listen 127.0.0.1:0 \
    --forward 127.0.0.1:9 --allow-dial "127.0.0.1:$ECHO"
  R_PID=$LAST_PID
  listen_port water-relay; RP=$PORT
  start water-dial2 "$WATER" dial -t "$WASM" -c "$WORK/client.json" --listen 127.0.0.1:0 --remote "127.0.0.1:$RP"
  D2_PID=$LAST_PID
  listen_port water-dial2
  measure "$PORT" "$D2_PID" "$R_PID"; result[$M.c]=$RATE cpu[$M.c]=$CPU
  # (n) native client -> ss-server
  start native "$PEER" client "$WORK/client.json" 127.0.0.1:0 "127.0.0.1:$SSP"
  N_PID=$LAST_PID
  listen_port native
  measure "$PORT" "$N_PID" "$SS_PID"; result[$M.n]=$RATE cpu[$M.n]=$CPU

  for k in a b c n; do
    case $k in
      a) what="(a) ss-tunnel -> ss-server" ;;
      b) what="(b) our client -> ss-server" ;;
      c) what="(c) our client -> our server" ;;
      n) what="(n) native client -> ss-server" ;;
    esac
    r=${result[$M.$k]} c=${cpu[$M.$k]}
    ratio=$(awk -v x="$r" -v a="${result[$M.a]}" 'BEGIN { if (x+0 > 0 && a+0 > 0) printf "%.2f", x / a; else print "-" }')
    # CPU ratio as an efficiency: (a)'s CPU per GiB over this path's.
    cratio=$(awk -v x="$c" -v a="${cpu[$M.a]}" 'BEGIN { if (x+0 > 0 && a+0 > 0) printf "%.2f", a / x; else print "-" }')
    printf '%-24s %-32s %8s %6s %12s %6s\n' "$M" "$what" "$r" "$ratio" "$c" "$cratio"
  done

  if [ $profile = 1 ]; then
    # Profile (b) on a smaller transfer: system calls, then instructions.
    pb=$((32 * 1024 * 1024))
    start strace-dial strace -f -c -o "$WORK/strace-$M.txt" "$WATER" dial -t "$WASM" -c "$WORK/client.json" \
      --listen 127.0.0.1:0 --remote "127.0.0.1:$SSP"
    SPID=$LAST_PID
    listen_port strace-dial
    "$PEER" bulk "127.0.0.1:$PORT" "$pb" 600000 >/dev/null || failed=1
    # Stop water itself (strace's child), so that strace writes its summary.
    kill "$(pgrep -P "$SPID" | head -1)" 2>/dev/null
    stop_pid "$SPID"
    start cg-dial valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind-$M.out" \
      "$WATER" dial -t "$WASM" -c "$WORK/client.json" --listen 127.0.0.1:0 --remote "127.0.0.1:$SSP"
    CPID=$LAST_PID
    listen_port cg-dial
    "$PEER" bulk "127.0.0.1:$PORT" $((8 * 1024 * 1024)) 600000 >/dev/null || failed=1
    stop_pid "$CPID"
    echo "profile of (b) $M: $WORK/strace-$M.txt, $WORK/callgrind-$M.out (callgrind_annotate)"
  fi
  stop_all_but_echo
done
exit $failed
