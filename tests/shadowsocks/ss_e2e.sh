#!/usr/bin/env bash
# ss_e2e.sh - the Shadowsocks transport against shadowsocks-libev, over
# 127.0.0.1 only, every process started and stopped here, every wait bounded.
#
#   ss_e2e.sh --peer PATH/ss_peer (--water PATH/water --wasm PATH/shadowsocks.wasm
#             | --native) [--bytes N] [--methods "m1 m2 ..."]
#
# First `water inspect` must show the dialer and relay roles and the five
# water_ext_v1 imports. Then for each method:
#   1. our client -> ss-server -> echo: N bytes each way, SHA-256 equal;
#   2. our client with a wrong password: ss-server logs "authentication
#      error" and, against active probing, keeps the connection open and
#      silent; our client (config "timeout": 2) gives up waiting for the
#      first reply, logs why and closes the application's connection
#      (asserted within 5 s);
#   3. ss-tunnel -> our server -> echo: N bytes each way, SHA-256 equal;
#   4. our client -> our server -> echo, the same;
#   5. ss-tunnel with a wrong password: closed within 5 s, our server logs
#      "authentication failed on the first chunk";
# and once: ss-local (SOCKS5, a domain-name target "localhost:PORT") -> our
# server -> echo, and a target outside the server's --allow-dial list.
#
# "Our" client and server are `water dial` / `water relay` with the module,
# or with --native the transport's native build (ss_peer client/server).
# Exit 0 all passed, 1 a failure, 77 shadowsocks-libev is not installed.
set -u

PEER="" WATER="" WASM="" NATIVE=0
BYTES=$((16 * 1024 * 1024))
METHODS="chacha20-ietf-poly1305 aes-128-gcm aes-256-gcm"
while [ $# -gt 0 ]; do
  case $1 in
    --peer) PEER=$2; shift 2 ;;
    --water) WATER=$2; shift 2 ;;
    --wasm) WASM=$2; shift 2 ;;
    --native) NATIVE=1; shift ;;
    --bytes) BYTES=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    *) echo "usage: $0 --peer ss_peer (--water water --wasm shadowsocks.wasm | --native) [--bytes N] [--methods LIST]" >&2; exit 2 ;;
  esac
done
[ -x "$PEER" ] || { echo "ss_peer not found: $PEER" >&2; exit 2; }
if [ $NATIVE = 0 ]; then
  [ -x "$WATER" ] || { echo "water not found: $WATER" >&2; exit 2; }
  [ -f "$WASM" ] || { echo "SKIP: $WASM not built (no wasm32-wasi toolchain?)"; exit 77; }
fi
for p in ss-server ss-tunnel ss-local; do
  command -v $p >/dev/null || { echo "SKIP: $p not installed (Debian package shadowsocks-libev)"; exit 77; }
done

if [ $NATIVE = 0 ]; then
  # The module as the host sees it: dialer and relay roles, 5 ext imports.
  info=$("$WATER" inspect "$WASM" 2>&1)
  if ! grep -q '^roles: dialer relay$' <<<"$info" ||
     ! grep -q 'host extension: water_ext_v1 (5 functions)' <<<"$info"; then
    echo "FAIL: water inspect $WASM:"; echo "$info"; exit 1
  fi
  echo "ok   water inspect: roles dialer relay, water_ext_v1 (5 functions)"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ss-e2e.XXXXXX")
PIDS=()
FAILED=0
LAST_PID=""

stop_pid() {
  kill "$1" 2>/dev/null
  # bounded: TERM, then KILL after 5 s
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
cleanup() {
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  if [ $FAILED = 0 ]; then rm -rf "$WORK"; else echo "logs kept in $WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*"; FAILED=1; }
pass() { echo "ok   $*"; }

# start NAME CMD...: runs CMD in the background, output in $WORK/NAME.log.
start() {
  local name=$1; shift
  # The background shell opens (truncates) the log later: remove an old one
  # first so that nobody reads stale lines from it.
  rm -f "$WORK/$name.log"
  "$@" >"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
# log_has NAME REGEX TENTHS: until the log matches, or false.
log_has() {
  for _ in $(seq "$3"); do
    grep -Eq "$2" "$WORK/$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# wait_log NAME REGEX: log_has for 10 s, a failure if not.
wait_log() {
  log_has "$1" "$2" 100 && return 0
  fail "$1 did not log /$2/ in time"; sed 's/^/    /' "$WORK/$1.log"
  return 1
}
# PORT := the port of "listening on 127.0.0.1:PORT" (water and ss_peer
# print it). No command substitution around anything that starts processes
# or records failures: those must happen in this shell.
PORT=""
listen_port() {
  PORT=""
  wait_log "$1" 'listening on 127\.0\.0\.1:[0-9]+' || return 1
  PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/$1.log" | head -1)
  [ -n "$PORT" ] || { fail "no port in $1.log"; return 1; }
}

# our_client NAME CONFIG SERVER_PORT; PORT := where it listens
our_client() {
  if [ $NATIVE = 1 ]; then
    start "$1" "$PEER" client "$2" 127.0.0.1:0 "127.0.0.1:$3"
  else
    start "$1" "$WATER" dial -t "$WASM" -c "$2" --listen 127.0.0.1:0 \
      --remote "127.0.0.1:$3" --module-stdio
  fi
  listen_port "$1"
}
# our_server NAME CONFIG ALLOW...; PORT := where it listens
our_server() {
  local name=$1 cfg=$2; shift 2
  if [ $NATIVE = 1 ]; then
    local list
    list=$(printf '%s,' "$@")
    start "$name" "$PEER" server "$cfg" 127.0.0.1:0 "${list%,}"
  else
    local allow=()
    for a in "$@"; do allow+=(--allow-dial "$a"); done
    # --forward is required by `water relay` but never dialed: the module
    # dials the target from the client's first chunk itself.
    start "$name" "$WATER" relay -t "$WASM" -c "$cfg" --listen 127.0.0.1:0 \
      --forward 127.0.0.1:9 "${allow[@]}" --module-stdio
  fi
  listen_port "$name"
}

# start_ss NAME CMD...: starts a shadowsocks-libev program whose arguments
# hold the word @PORT where its listening port goes; PORT := that port.
# ss-* log "listening at" before they bind, so a port another process took
# since `ss_peer port` picked it shows up only as an exit with "bind() error"
# right after that line: pick another port and try again.
start_ss() {
  local name=$1 try a args; shift
  for try in 1 2 3 4 5; do
    PORT=$("$PEER" port)
    args=()
    for a in "$@"; do [ "$a" = @PORT ] && a=$PORT; args+=("$a"); done
    start "$name" "${args[@]}"
    wait_log "$name" 'listening at' || return 1
    sleep 0.3
    if kill -0 "$LAST_PID" 2>/dev/null && ! grep -Eq 'bind\(\) error|listen\(\) error' "$WORK/$name.log"; then
      return 0
    fi
    echo "note: $name could not bind 127.0.0.1:$PORT (try $try), picking another port"
  done
  fail "$name could not bind a port in 5 tries"; sed 's/^/    /' "$WORK/$name.log"
  return 1
}

bulk() { # NAME PORT BYTES [SOCKS_TARGET]
  local out
  if out=$("$PEER" bulk "127.0.0.1:$2" "$3" 120000 ${4:+"$4"} 2>&1); then
    pass "$1: $out"
  else
    fail "$1: $out"
  fi
}
expect_close() { # NAME PORT MS
  local out
  if out=$("$PEER" expect-close "127.0.0.1:$2" "$3" 2>&1); then
    pass "$1: $out"
  else
    fail "$1: $out"
  fi
}
expect_log() { # WHAT NAME REGEX
  if log_has "$2" "$3" 50; then pass "$1"; else fail "$1: no /$3/ in $2.log"; sed 's/^/    /' "$WORK/$2.log"; fi
}

start echo "$PEER" echo "$WORK/echo.port"
for _ in $(seq 100); do [ -s "$WORK/echo.port" ] && break; sleep 0.1; done
ECHO=$(cat "$WORK/echo.port" 2>/dev/null)
[ -n "$ECHO" ] || { fail "echo server did not start"; exit 1; }
echo "echo server on 127.0.0.1:$ECHO; $BYTES bytes each way; $([ $NATIVE = 1 ] && echo native || echo "water + $(basename "$WASM")")"

first=1
for M in $METHODS; do
  echo "== $M"
  printf '{"method":"%s","password":"right horse","target":"127.0.0.1:%s"}\n' "$M" "$ECHO" >"$WORK/client-$M.json"
  printf '{"method":"%s","password":"wrong horse","target":"127.0.0.1:%s","timeout":2}\n' "$M" "$ECHO" >"$WORK/client-bad-$M.json"
  printf '{"method":"%s","password":"right horse","timeout":10}\n' "$M" >"$WORK/server-$M.json"
  started=${#PIDS[@]}

  # 1, 2: our client -> ss-server
  start_ss "ss-server-$M" ss-server -s 127.0.0.1 -p @PORT -k "right horse" -m "$M" || continue
  SSP=$PORT
  our_client "client-$M" "$WORK/client-$M.json" "$SSP" || continue
  CP=$PORT
  bulk "our client -> ss-server ($M)" "$CP" "$BYTES"
  our_client "client-bad-$M" "$WORK/client-bad-$M.json" "$SSP" || continue
  CPB=$PORT
  expect_close "our client (wrong password) -> ss-server: closed ($M)" "$CPB" 5000
  expect_log "ss-server logs the authentication error ($M)" "ss-server-$M" 'authentication error'
  expect_log "our client logs why ($M)" "client-bad-$M" 'no reply from the server in time'

  # 3, 4: ss-tunnel -> our server
  our_server "server-$M" "$WORK/server-$M.json" "127.0.0.1:$ECHO" "localhost:$ECHO" || continue
  SP=$PORT
  start_ss "ss-tunnel-$M" ss-tunnel -s 127.0.0.1 -p "$SP" -b 127.0.0.1 -l @PORT -k "right horse" -m "$M" -L "127.0.0.1:$ECHO" || continue
  TP=$PORT
  bulk "ss-tunnel -> our server ($M)" "$TP" "$BYTES"
  our_client "client2-$M" "$WORK/client-$M.json" "$SP" || continue
  bulk "our client -> our server ($M)" "$PORT" "$BYTES"
  start_ss "ss-tunnel-bad-$M" ss-tunnel -s 127.0.0.1 -p "$SP" -b 127.0.0.1 -l @PORT -k "wrong horse" -m "$M" -L "127.0.0.1:$ECHO" || continue
  TPB=$PORT
  expect_close "ss-tunnel (wrong password) -> our server: closed ($M)" "$TPB" 2000
  expect_log "our server logs the authentication failure ($M)" "server-$M" 'authentication failed on the first chunk'

  if [ $first = 1 ]; then
    first=0
    # ss-local (SOCKS5) with a domain name target; then a forbidden target.
    if start_ss "ss-local-$M" ss-local -s 127.0.0.1 -p "$SP" -b 127.0.0.1 -l @PORT -k "right horse" -m "$M"; then
      LP=$PORT
      bulk "ss-local (SOCKS5 localhost:$ECHO) -> our server ($M)" "$LP" $((1024 * 1024)) "localhost:$ECHO"
      FORBIDDEN=$("$PEER" port)
      if out=$("$PEER" bulk "127.0.0.1:$LP" 1024 10000 "127.0.0.1:$FORBIDDEN" 2>&1); then
        fail "a target outside --allow-dial was reached: $out"
      else
        expect_log "our server refuses a target outside --allow-dial ($M)" "server-$M" "cannot dial the target.*127\.0\.0\.1:$FORBIDDEN"
      fi
    fi
  fi

  # Stop this method's processes (echo keeps running).
  for p in "${PIDS[@]:$started}"; do stop_pid "$p"; done
  PIDS=("${PIDS[@]:0:$started}")
done

# Everything is stopped (SIGTERM: water and ss_peer exit normally, so the
# sanitizers of an ASan build report at exit); no log may hold a report.
for p in "${PIDS[@]}"; do stop_pid "$p"; done
PIDS=()
if grep -lE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$WORK"/*.log; then
  fail "sanitizer reports in the logs above"
  grep -hE -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK"/*.log | head -80
fi
if [ $FAILED = 0 ]; then echo "all passed"; exit 0; fi
exit 1
