#!/usr/bin/env bash
# bench/net/run-netbench.sh - the transport benchmark: bulk throughput,
# connect-plus-first-byte latency, per-connection setup time and memory per
# idle connection of WATER chains, against direct TCP and two socat relays,
# all measured in one run on 127.0.0.1. See bench/net/README.md.
#
#   bench/net/run-netbench.sh [--build-dir DIR] [--size MiB] [--quick]
#                             [--reps N] [--connects N] [--idle N] [--xor-size MiB]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

usage() {
  cat <<'EOF'
usage: bench/net/run-netbench.sh [options]

Measures, in one run, on 127.0.0.1:
  direct   client -> server                                  (plain TCP)
  socat    client -> socat -> socat -> server                (two relays)
  plain    client -> water dial -> water listen -> server    (plain.wasm)
  xor      client -> water dial -> water listen -> server    (xor.wasm)
bulk throughput (one way and echo, every byte checked), connect-plus-first-
byte latency, CPU time the relays spend per MiB, the cost of one WATER
connection through the library API, and the memory of idle connections.

options:
  --build-dir DIR   the CMake build to use (default: build)
  --size MiB        bytes per bulk transfer (default: 256; --quick: 32)
  --xor-size MiB    the same for the xor chain, which is much slower
                    (default: a quarter of --size, at least 8)
  --reps N          bulk transfers per chain and mode (default: 5; --quick: 1)
  --connects N      connects per chain for the latency (default: 200; --quick: 50)
  --idle N          idle connections for the memory figure (default: 200; --quick: 50)
  --quick           small sizes, for a smoke test
  -h, --help        this text
EOF
}

die() { printf 'run-netbench: %s\n' "$*" >&2; exit 1; }
say() { printf '%s\n' "$*" >&2; }

build_dir=$root/build
size='' reps='' connects='' idle='' xor_size='' quick=0
while [ $# -gt 0 ]; do
  case $1 in
    --build-dir) [ $# -ge 2 ] || die "--build-dir needs a value"; build_dir=$2; shift 2 ;;
    --size) [ $# -ge 2 ] || die "--size needs a value"; size=$2; shift 2 ;;
    --reps) [ $# -ge 2 ] || die "--reps needs a value"; reps=$2; shift 2 ;;
    --connects) [ $# -ge 2 ] || die "--connects needs a value"; connects=$2; shift 2 ;;
    --idle) [ $# -ge 2 ] || die "--idle needs a value"; idle=$2; shift 2 ;;
    --xor-size) [ $# -ge 2 ] || die "--xor-size needs a value"; xor_size=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  : "${size:=32}" "${reps:=1}" "${connects:=50}" "${idle:=50}"
  conn_count=100
else
  : "${size:=256}" "${reps:=5}" "${connects:=200}" "${idle:=200}"
  conn_count=500
fi
[[ $size =~ ^[1-9][0-9]*$ ]] || die "--size is a positive integer (got '$size')"
if [ -z "$xor_size" ]; then
  xor_size=$((size / 4))
  [ "$xor_size" -ge 8 ] || xor_size=$((size < 8 ? size : 8))
fi
for v in "$reps" "$connects" "$idle" "$xor_size"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || die "sizes and counts are positive integers (got '$v')"
done

case $build_dir in /*) ;; *) build_dir=$PWD/$build_dir ;; esac
water=$build_dir/src/water
plain_wasm=$build_dir/transports/plain.wasm
xor_wasm=$build_dir/transports/xor.wasm
libwater=$build_dir/src/libwater.a
for f in "$water" "$libwater"; do
  [ -e "$f" ] || die "$f is missing; build first: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build"
done
for f in "$plain_wasm" "$xor_wasm"; do
  # 77: skipped (CTest), as when the tree is built without the wasm toolchain.
  [ -e "$f" ] || { say "run-netbench: $f is missing (transports not built): skipped"; exit 77; }
done
command -v timeout >/dev/null || die "timeout (coreutils) is needed"
have_socat=1
command -v socat >/dev/null || { have_socat=0; say "note: socat not found; the socat chain is skipped"; }

# ---- the C tools: built by CMake (bench/net/CMakeLists.txt) or here -------
tools=$build_dir/bench/net
mkdir -p "$tools"
CC=${CC:-cc}
CFLAGS_NB=(-std=c11 -O2 -Wall -Wextra -pthread)
# A sanitizer build's libwater.a needs the sanitizers at link time too.
if grep -q '^WATER_SANITIZE:BOOL=ON' "$build_dir/CMakeCache.txt" 2>/dev/null; then
  CFLAGS_NB+=('-fsanitize=address,undefined')
fi
netbench=$tools/netbench
netbench_conn=$tools/netbench_conn
if [ ! -x "$netbench" ] || [ "$here/netbench.c" -nt "$netbench" ]; then
  say "building $netbench"
  "$CC" "${CFLAGS_NB[@]}" -o "$netbench" "$here/netbench.c"
fi
if [ ! -x "$netbench_conn" ] || [ "$here/conn_bench.c" -nt "$netbench_conn" ] ||
   [ "$libwater" -nt "$netbench_conn" ] || [ "$root/include/water.h" -nt "$netbench_conn" ]; then
  say "building $netbench_conn"
  # The shared library names its own dependencies (OpenSSL, ...); the static
  # one would need them spelled out here.
  if [ -e "$build_dir/src/libwater.so" ]; then
    "$CC" "${CFLAGS_NB[@]}" -I "$root/include" -o "$netbench_conn" "$here/conn_bench.c" \
      -L "$build_dir/src" -Wl,-rpath,"$build_dir/src" -lwater -lm
  else
    # shellcheck disable=SC2046 # word splitting of the flags is wanted
    "$CC" "${CFLAGS_NB[@]}" -I "$root/include" -o "$netbench_conn" "$here/conn_bench.c" \
      "$libwater" $(pkg-config --libs libssl libcrypto 2>/dev/null) -lm
  fi
fi

# ---- processes: every one started here is stopped at exit -----------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/netbench.XXXXXX")
pids=()
hold_open=0

children_of() { # PID: direct children (socat forks one per connection)
  local f ppid
  for f in /proc/[0-9]*/stat; do
    ppid=$(sed 's/^.*) //' "$f" 2>/dev/null | awk '{print $2}') || continue
    [ "$ppid" = "$1" ] && { f=${f#/proc/}; printf '%s\n' "${f%/stat}"; }
  done
  return 0
}

stop_pid() { # PID: TERM, then KILL after about 3 s
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid c
  trap - EXIT INT TERM
  if [ "$hold_open" = 1 ]; then exec 7>&-; fi
  for pid in "${pids[@]}"; do
    for c in $(children_of "$pid"); do stop_pid "$c"; done
    stop_pid "$pid"
  done
  wait 2>/dev/null || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 8192 ]; then
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi

start_bg() { # NAME CMD...: runs CMD in the background, output in $tmp/NAME.*
  local name=$1
  shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=("$!")
  last_pid=$!
}

# Waits (bounded) for "listening on HOST:PORT" in $tmp/NAME.err; prints it.
listening_addr() { # NAME PID
  local a
  for _ in $(seq 100); do
    a=$(sed -n 's/^listening on //p' "$tmp/$1.err" | head -n1)
    if [ -n "$a" ]; then printf '%s\n' "$a"; return 0; fi
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  cat "$tmp/$1.err" >&2
  die "$1 did not start listening"
}

port_listening() { # PORT: is 127.0.0.1:PORT in LISTEN state?
  local hex
  hex=$(printf '%04X' "$1")
  grep -q "^ *[0-9]*: 0100007F:$hex 00000000:0000 0A " /proc/net/tcp
}

# socat cannot report a port it picked: take a free one, retry if taken.
# Sets socat_addr and last_pid (no command substitution: that would run
# start_bg in a subshell and lose the pid).
start_socat() { # NAME TARGET
  local name=$1 target=$2 port
  for _ in 1 2 3 4 5; do
    port=$("$netbench" port)
    start_bg "$name" socat -t 5 "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,backlog=1024" \
      "TCP:$target"
    for _ in $(seq 100); do
      if port_listening "$port"; then socat_addr=127.0.0.1:$port; return 0; fi
      kill -0 "$last_pid" 2>/dev/null || break
      sleep 0.05
    done
    stop_pid "$last_pid"
  done
  cat "$tmp/$name.err" >&2
  die "socat did not start listening"
}

cpu_ticks() { # PID...: user+system time of the processes and their reaped children
  local total=0 pid t
  for pid in "$@"; do
    t=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13 + $14 + $15}')
    total=$((total + t))
  done
  echo "$total"
}

# Waits (bounded) until a socat parent has reaped its per-connection children,
# so that their CPU time shows in its cutime/cstime.
settle_children() { # PID...
  local pid
  for pid in "$@"; do
    for _ in $(seq 50); do
      [ -z "$(children_of "$pid")" ] && break
      sleep 0.05
    done
  done
}

kib_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

kib_pss_tree() { # PID: proportional set size of the process and its children
  local total=0 p v
  for p in "$1" $(children_of "$1"); do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

clk_tck=$(getconf CLK_TCK)

# ---- the chains ------------------------------------------------------------
say "starting the servers and relays on 127.0.0.1"
start_bg server "$netbench" server --listen 127.0.0.1:0
server_addr=$(listening_addr server "$last_pid")

declare -A addr relay_pids
chains=(direct)
addr[direct]=$server_addr
relay_pids[direct]=''

if [ "$have_socat" = 1 ]; then
  start_socat socat2 "$server_addr"
  s2=$socat_addr s2_pid=$last_pid
  start_socat socat1 "$s2"
  s1=$socat_addr s1_pid=$last_pid
  addr[socat]=$s1
  relay_pids[socat]="$s1_pid $s2_pid"
  chains+=(socat)
fi

for t in plain xor; do
  wasm=$build_dir/transports/$t.wasm
  start_bg "listen_$t" "$water" listen -t "$wasm" --listen 127.0.0.1:0 --forward "$server_addr"
  lp=$last_pid
  la=$(listening_addr "listen_$t" "$lp")
  start_bg "dial_$t" "$water" dial -t "$wasm" --listen 127.0.0.1:0 --remote "$la"
  dp=$last_pid
  addr[$t]=$(listening_addr "dial_$t" "$dp")
  relay_pids[$t]="$dp $lp"
  chains+=("$t")
done

describe() {
  case $1 in
    direct) echo "client -> server" ;;
    socat) echo "client -> socat -> socat -> server" ;;
    plain) echo "client -> water dial -> water listen -> server (plain.wasm)" ;;
    xor) echo "client -> water dial -> water listen -> server (xor.wasm)" ;;
  esac
}

# ---- bulk: rounds over every chain, so that load changes hit all alike ------
declare -A mibps cpu_ticks_sum mib_sum
declare -A chain_size
for c in "${chains[@]}"; do chain_size[$c]=$size; done
chain_size[xor]=$xor_size
for mode in sink echo; do
  for round in $(seq "$reps"); do
    for c in "${chains[@]}"; do
      sz=${chain_size[$c]}
      say "bulk $mode $sz MiB, round $round/$reps: $c"
      read -r -a rp <<<"${relay_pids[$c]}"
      before=0
      [ ${#rp[@]} -gt 0 ] && before=$(cpu_ticks "${rp[@]}")
      out=$(timeout $((60 + 2 * sz)) "$netbench" bulk --connect "${addr[$c]}" --size "$sz" \
        --mode "$mode") || die "bulk $mode through $c failed"
      r=$(sed -n 's/^run .* mibps=\([0-9.]*\) verified=yes$/\1/p' <<<"$out")
      [ -n "$r" ] || die "bulk $mode through $c: unexpected output: $out"
      mibps[$c.$mode]="${mibps[$c.$mode]:-} $r"
      if [ ${#rp[@]} -gt 0 ]; then
        [ "$c" = socat ] && settle_children "${rp[@]}"
        after=$(cpu_ticks "${rp[@]}")
        cpu_ticks_sum[$c.$mode]=$(( ${cpu_ticks_sum[$c.$mode]:-0} + after - before ))
      fi
      mult=1
      [ "$mode" = echo ] && mult=2 # both directions cross the relays
      mib_sum[$c.$mode]=$(( ${mib_sum[$c.$mode]:-0} + sz * mult ))
    done
  done
done

median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{v[NR]=$1} END {
  if (NR == 0) { print "nan"; exit }
  if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- latency: in rounds over every chain too -----------------------------------
declare -A lat_med lat_p99
lat_rounds=4
[ "$connects" -ge "$lat_rounds" ] || lat_rounds=1
for round in $(seq "$lat_rounds"); do
  n=$((connects / lat_rounds))
  [ "$round" -lt "$lat_rounds" ] || n=$((connects - (lat_rounds - 1) * (connects / lat_rounds)))
  for c in "${chains[@]}"; do
    say "latency, round $round/$lat_rounds: $n connects through $c"
    timeout $((30 + n)) "$netbench" latency --connect "${addr[$c]}" --count "$n" --warmup 3 \
      --samples "$tmp/lat.$c" >/dev/null || die "latency through $c failed"
  done
done
for c in "${chains[@]}"; do
  read -r "lat_med[$c]" "lat_p99[$c]" < <(sort -g "$tmp/lat.$c" | awk '
    { v[NR] = $1 }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          r = int((NR * 99 + 99) / 100); if (r < 1) r = 1
          printf "%.0f %.0f\n", m, v[r] }')
done

# ---- per-connection cost through the library API ----------------------------
declare -A conn_line
for t in plain xor; do
  say "library: $conn_count connections with $t.wasm (water_dial, water_serve, water_close)"
  conn_line[$t]=$(timeout 120 "$netbench_conn" --transport "$build_dir/transports/$t.wasm" \
    --count "$conn_count") || die "netbench_conn with $t failed"
done

# ---- memory per idle connection ------------------------------------------------
declare -A mem_line
mem_chains=(plain xor)
[ "$have_socat" = 1 ] && mem_chains+=(socat)
for c in "${mem_chains[@]}"; do
  say "memory: $idle idle connections through $c"
  read -r -a rp <<<"${relay_pids[$c]}"
  measure() { # prints one figure per relay process, in KiB
    local p
    for p in "${rp[@]}"; do
      if [ "$c" = socat ]; then kib_pss_tree "$p"; else kib_rss "$p"; fi
    done | tr '\n' ' '
  }
  read -r -a m0 <<<"$(measure)"
  mkfifo "$tmp/hold"
  "$netbench" idle --connect "${addr[$c]}" --count "$idle" --hold 120 <"$tmp/hold" \
    >"$tmp/idle.out" 2>"$tmp/idle.err" &
  ip=$!
  pids+=("$ip")
  exec 7>"$tmp/hold"
  hold_open=1
  ok=0
  for _ in $(seq 600); do
    if grep -q '^ready' "$tmp/idle.out"; then ok=1; break; fi
    kill -0 "$ip" 2>/dev/null || break
    sleep 0.1
  done
  [ "$ok" = 1 ] || { cat "$tmp/idle.err" >&2; die "could not open $idle idle connections through $c"; }
  sleep 0.5
  read -r -a m1 <<<"$(measure)"
  open_s=$(sed -n 's/^ready .* seconds=\([0-9.]*\)/\1/p' "$tmp/idle.out")
  exec 7>&-
  hold_open=0
  for _ in $(seq 100); do kill -0 "$ip" 2>/dev/null || break; sleep 0.1; done
  wait "$ip" 2>/dev/null || true
  rm -f "$tmp/hold"
  [ "$c" = socat ] && settle_children "${rp[@]}"
  sleep 1 # connections wind down in their own threads
  read -r -a m2 <<<"$(measure)"
  mem_line[$c]="${m0[*]}|${m1[*]}|${m2[*]}|$open_s"
done

# ---- report --------------------------------------------------------------------
load=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
echo
echo "WATER transport benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}; load average before the report: $load"
echo "bulk: $size MiB per transfer ($xor_size MiB through xor), $reps round(s) per chain and mode,"
echo "      chains interleaved;"
echo "      every byte checked against the test pattern; MiB/s is the median of the rounds"
echo "latency: $connects sequential connects per chain, connect() until one byte came back"
echo
for c in "${chains[@]}"; do printf '  %-7s %s\n' "$c" "$(describe "$c")"; done
echo

declare -A med
for c in "${chains[@]}"; do
  for mode in sink echo; do
    med[$c.$mode]=$(median <<<"${mibps[$c.$mode]}")
  done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
cpu_per_mib() { # chain mode
  local t=${cpu_ticks_sum[$1.$2]:-}
  if [ -z "$t" ]; then echo "-"; return; fi
  awk -v t="$t" -v hz="$clk_tck" -v m="${mib_sum[$1.$2]}" \
    'BEGIN { printf "%.2f", t * 1000 / hz / m }'
}

printf '%-7s | %9s %6s | %9s %6s | %8s %8s | %9s %8s %6s\n' \
  chain "sink" "xTCP" "echo" "xTCP" "cpu sink" "cpu echo" "lat med" "lat p99" "xTCP"
printf '%-7s | %9s %6s | %9s %6s | %8s %8s | %9s %8s %6s\n' \
  "" "MiB/s" "" "MiB/s" "" "ms/MiB" "ms/MiB" "us" "us" ""
printf -- '--------+------------------+------------------+-------------------+--------------------------\n'
for c in "${chains[@]}"; do
  printf '%-7s | %9s %6s | %9s %6s | %8s %8s | %9s %8s %6s\n' "$c" \
    "${med[$c.sink]}" "$(ratio "${med[$c.sink]}" "${med[direct.sink]}")" \
    "${med[$c.echo]}" "$(ratio "${med[$c.echo]}" "${med[direct.echo]}")" \
    "$(cpu_per_mib "$c" sink)" "$(cpu_per_mib "$c" echo)" \
    "${lat_med[$c]}" "${lat_p99[$c]}" "$(ratio "${lat_med[$c]}" "${lat_med[direct]}")"
done
echo
echo "cpu ms/MiB: user+system time of the relay processes (both hops) per MiB they"
echo "carried (echo counts both directions); the client and server are left out."
echo "all rounds (MiB/s):"
for c in "${chains[@]}"; do
  printf '  %-7s sink:%s   echo:%s\n' "$c" "${mibps[$c.sink]}" "${mibps[$c.echo]}"
done
echo

if [ "$have_socat" = 1 ]; then
  pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }
  cpu_ratio() {
    local a b
    a=$(cpu_per_mib "$1" "$3")
    b=$(cpu_per_mib "$2" "$3")
    awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'
  }
  echo "WATER chains against the two-socat chain (target: plain >= 70%):"
  for t in plain xor; do
    printf '  %-5s / socat: sink %s, echo %s of the throughput; relay CPU per MiB %s (sink), %s (echo);\n' \
      "$t" "$(pct "${med[$t.sink]}" "${med[socat.sink]}")" \
      "$(pct "${med[$t.echo]}" "${med[socat.echo]}")" \
      "$(cpu_ratio "$t" socat sink)" "$(cpu_ratio "$t" socat echo)"
    printf '          connect+first byte median %s us vs %s us\n' "${lat_med[$t]}" "${lat_med[socat]}"
  done
  echo
fi

echo "Cost of one WATER connection (library API, $conn_count connections in one process,"
echo "sequential; water_dial includes its TCP connect to a local echo server):"
printf '  %-6s %-17s %9s %9s %9s\n' "" "" "mean us" "median" "p99"
for t in plain xor; do
  while read -r line; do
    what=$(sed -n 's/.*what=\([a-z_]*\).*/\1/p' <<<"$line")
    [ "$what" = transport_load ] && {
      printf '  %-6s %-17s %9s\n' "$t" "$what" "$(sed -n 's/.*mean_us=\([0-9.]*\).*/\1/p' <<<"$line")"
      continue
    }
    printf '  %-6s %-17s %9s %9s %9s\n' "$t" "$what" \
      "$(sed -n 's/.*mean_us=\([0-9.]*\).*/\1/p' <<<"$line")" \
      "$(sed -n 's/.*median_us=\([0-9.]*\).*/\1/p' <<<"$line")" \
      "$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$line")"
  done <<<"${conn_line[$t]}"
done
echo "  water_serve = instantiation + _start + init + accept call + control pipe +"
echo "  worker thread start, no network; *_first_byte adds the first byte through."
echo

echo "Memory per idle connection ($idle connections held open through the chain):"
for c in "${mem_chains[@]}"; do
  IFS='|' read -r b a z s <<<"${mem_line[$c]}"
  read -r -a b <<<"$b"
  read -r -a a <<<"$a"
  read -r -a z <<<"$z"
  if [ "$c" = socat ]; then
    names=("socat 1 (Pss, with children)" "socat 2 (Pss, with children)")
  else
    names=("water dial (VmRSS)" "water listen (VmRSS)")
  fi
  tot=0
  for k in 0 1; do
    d=$((a[k] - b[k]))
    tot=$((tot + d))
    printf '  %-6s %-30s %7s -> %7s KiB (+%s), after close %7s KiB: %s KiB/conn\n' \
      "$c" "${names[$k]}" "${b[k]}" "${a[k]}" "$d" "${z[k]}" \
      "$(awk -v d="$d" -v n="$idle" 'BEGIN { printf "%.1f", d / n }')"
  done
  printf '  %-6s %-30s %s KiB/conn (opening them took %s s)\n' "$c" "both processes" \
    "$(awk -v d="$tot" -v n="$idle" 'BEGIN { printf "%.1f", d / n }')" "$s"
done
echo
say "done; stopping everything"
