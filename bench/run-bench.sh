#!/usr/bin/env bash
# run-bench.sh - runs every benchmark kernel natively, in our engine, in node
# (V8) and in wabt's wasm-interp, checks that all of them return the same
# checksum, and prints a table of times and ratios to native.
#
# Usage: bench/run-bench.sh [options]
#   --quick            tiny sizes: a smoke run that checks checksums, not speed
#   --reps R           calls per kernel per engine, fastest kept (default 3)
#   --only a,b,...     run only these kernels
#   --no-ours | --no-node | --no-interp
#                      leave an engine out
#   --interp-full      give wasm-interp the full sizes too (slow: minutes each)
#   --build-dir DIR    CMake build directory (default: <repo>/build-bench,
#                      configured as Release without sanitizers)
#   --no-build         use what is in DIR; do not run cmake
#
# Exit status: 0 if every engine that ran agreed with native on every
# checksum; 1 on any mismatch or engine failure (printed as MISMATCH/FAILED);
# 2 on bad usage or a missing build; 77 if no WebAssembly engine could run.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build="$root/build-bench"
quick=0 reps=3 only="" do_build=1 interp_full=0
want_ours=1 want_node=1 want_interp=1

die() { echo "run-bench: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --reps) [ $# -ge 2 ] || die "--reps needs a value"; reps=$2; shift ;;
    --only) [ $# -ge 2 ] || die "--only needs a value"; only=$2; shift ;;
    --no-ours) want_ours=0 ;;
    --no-node) want_node=0 ;;
    --no-interp) want_interp=0 ;;
    --interp-full) interp_full=1 ;;
    --build-dir) [ $# -ge 2 ] || die "--build-dir needs a value"; build=$2; shift ;;
    --no-build) do_build=0 ;;
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (try --help)" ;;
    esac
    shift
done
case "$reps" in ''|*[!0-9]*|0) die "--reps wants a positive number" ;; esac

# ---- build ---------------------------------------------------------------
ours_build_failed=0
if [ $do_build = 1 ]; then
    if [ ! -f "$build/CMakeCache.txt" ]; then
        echo "run-bench: configuring $build" >&2
        cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
            -DWATER_SANITIZE=OFF -DWATER_WASM_TOOLCHAIN=OFF >/dev/null ||
            die "cmake configure failed"
    fi
    cmake --build "$build" --target bench_kernels >"$build/bench-build.log" 2>&1 ||
        die "building the kernels failed; see $build/bench-build.log"
    if [ $want_ours = 1 ] && grep -q '^WATER_BENCH_HAVE_ENGINE:INTERNAL=1' "$build/CMakeCache.txt"; then
        if ! cmake --build "$build" --target wasm_bench >"$build/bench/wasm_bench.log" 2>&1; then
            echo "run-bench: FAILED to build wasm_bench (our engine); see $build/bench/wasm_bench.log" >&2
            ours_build_failed=1
        fi
    fi
fi
bdir="$build/bench"
native="$bdir/bench_native"
wasmdir="$bdir/wasm"
[ -x "$native" ] || die "no $native: build first (or drop --no-build)"

# ---- engines ---------------------------------------------------------------
ours_note="" node_note="" interp_note=""
have_ours=0 have_node=0 have_interp=0
if [ $want_ours = 0 ]; then ours_note="left out (--no-ours)"
elif [ $ours_build_failed = 1 ]; then ours_note="FAILED to build wasm_bench: see $bdir/wasm_bench.log"
elif [ -x "$bdir/wasm_bench" ]; then have_ours=1
else ours_note="not built (engine does not link yet, or WATER_BENCH_ENGINE=OFF)"; fi
if [ $want_node = 0 ]; then node_note="left out (--no-node)"
elif command -v node >/dev/null; then have_node=1
else node_note="node not found"; fi
if [ $want_interp = 0 ]; then interp_note="left out (--no-interp)"
elif command -v wasm-interp >/dev/null && command -v wasm2wat >/dev/null &&
     command -v wat2wasm >/dev/null; then have_interp=1
else interp_note="wasm-interp, wasm2wat or wat2wasm not found (Debian package wabt)"; fi
if [ ! -d "$wasmdir" ]; then
    have_ours=0 have_node=0 have_interp=0
    ours_note="no wasm kernels (clang for wasm32 missing?)"
    node_note=$ours_note interp_note=$ours_note
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/water-bench.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

# ---- helpers ---------------------------------------------------------------
declare -A sum tim size isize what rtype ratios
names=()
failures=$ours_build_failed mismatches=0

now() { echo "${EPOCHREALTIME/,/.}"; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a - b }'; }
fmin() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }
pending=()   # failure messages, printed after the kernel's progress line
fail() { pending+=("run-bench: FAILED: $*"); failures=$((failures + 1)); }

# run_harness ENGINE KERNEL SIZE CMD...: runs a harness that prints
# "result NAME SIZE TYPE:SUM SECONDS", records sum[ENGINE,KERNEL,SIZE] and
# tim[ENGINE,KERNEL,SIZE].
run_harness() {
    local eng=$1 k=$2 n=$3 line
    shift 3
    if ! line=$("$@" 2>"$tmp/err" | grep '^result'); then
        fail "$eng $k($n): $(tail -n 3 "$tmp/err" | tr '\n' ' ')"
        sum[$eng,$k,$n]=FAIL
        return
    fi
    [ -s "$tmp/err" ] && grep -v '^wasm_bench: .*: load' "$tmp/err" >&2
    sum[$eng,$k,$n]=$(echo "$line" | cut -f4)
    tim[$eng,$k,$n]=$(echo "$line" | cut -f5)
}

# run_interp KERNEL TYPE SIZE: wasm-interp cannot pass arguments, so wrap the
# module: append an export "bench_main" that calls the kernel with SIZE
# (wasm2wat, then wat2wasm: the kernel's code is unchanged). The time is
# that of the whole process minus that of a process that only instantiates
# the same module (best of 3).
run_interp() {
    local k=$1 ty=$2 n=$3 ref base t0 t1 out
    ref=$(wasm2wat "$wasmdir/$k.wasm" | sed -n 's/.*(export "'"$k"'" (func \([^)]*\))).*/\1/p')
    if [ -z "$ref" ]; then fail "wasm-interp $k: no export '$k' in $k.wasm"; sum[interp,$k,$n]=FAIL; return; fi
    { wasm2wat "$wasmdir/$k.wasm" | sed '$ s/)$//'
      printf '  (func (export "bench_main") (result %s) (call %s (i32.const %d))))\n' "$ty" "$ref" "$n"
    } >"$tmp/$k.wat"
    if ! wat2wasm "$tmp/$k.wat" -o "$tmp/$k.wasm" 2>"$tmp/err"; then
        fail "wasm-interp $k: wat2wasm: $(head -n 3 "$tmp/err")"; sum[interp,$k,$n]=FAIL; return
    fi
    base=""
    for _ in 1 2 3; do
        t0=$(now); wasm-interp "$tmp/$k.wasm" >/dev/null 2>&1; t1=$(now)
        base=$(fmin "$(fsub "$t1" "$t0")" "$base")
    done
    t0=$(now)
    out=$(wasm-interp "$tmp/$k.wasm" --run-all-exports 2>"$tmp/err")
    t1=$(now)
    if ! [[ "$out" =~ ^bench_main\(\)\ =\>\ (i(32|64):[0-9]+)$ ]]; then
        fail "wasm-interp $k($n): $(echo "$out" | head -n 3; head -n 3 "$tmp/err")"
        sum[interp,$k,$n]=FAIL; return
    fi
    out=${BASH_REMATCH[1]}
    sum[interp,$k,$n]=$out
    tim[interp,$k,$n]=$(fsub "$(fsub "$t1" "$t0")" "$base")
}

# ---- run -------------------------------------------------------------------
while IFS=$'\t' read -r k ty full q interp desc; do
    if [ -n "$only" ] && [[ ",$only," != *",$k,"* ]]; then continue; fi
    names+=("$k")
    what[$k]="$desc"
    if [ $quick = 1 ]; then size[$k]=$q isize[$k]=$q
    elif [ $interp_full = 1 ]; then size[$k]=$full isize[$k]=$full
    else size[$k]=$full isize[$k]=$interp; fi
    rtype[$k]=$ty
done < <("$native" --list)
for k in ${only//,/ }; do
    [ -n "${rtype[$k]:-}" ] || die "no kernel named '$k' (see bench/kernels/kernels.def)"
done
[ ${#names[@]} -gt 0 ] || die "no kernels selected"

mode="full sizes"; [ $quick = 1 ] && mode="quick (smoke) sizes"
echo "run-bench: ${#names[@]} kernels, $mode, best of $reps calls" >&2
for k in "${names[@]}"; do
    n=${size[$k]} ni=${isize[$k]}
    printf 'run-bench: %-8s native' "$k" >&2
    run_harness native "$k" "$n" "$native" --reps "$reps" "$k" "$n"
    if [ $have_interp = 1 ] && [ "$ni" != "$n" ]; then
        run_harness native "$k" "$ni" "$native" --reps "$reps" "$k" "$ni"
    fi
    if [ $have_ours = 1 ]; then
        printf ' ours' >&2
        run_harness ours "$k" "$n" "$bdir/wasm_bench" --reps "$reps" --dir "$wasmdir" "$k" "$n"
    fi
    if [ $have_node = 1 ]; then
        printf ' node' >&2
        run_harness node "$k" "$n" node "$here/node_bench.mjs" --reps "$reps" --dir "$wasmdir" "$k" "$n"
    fi
    if [ $have_interp = 1 ]; then
        printf ' wasm-interp' >&2
        run_interp "$k" "${rtype[$k]}" "$ni"
    fi
    echo >&2
    [ ${#pending[@]} -gt 0 ] && printf '%s\n' "${pending[@]}" >&2
    pending=()
done

# ---- report ----------------------------------------------------------------
# ratio ENGINE KERNEL SIZE: prints "R" (engine time / native time) or "".
ratio() {
    local t=${tim[$1,$2,$3]:-} nt=${tim[native,$2,$3]:-}
    [ -n "$t" ] && [ -n "$nt" ] && awk -v a="$t" -v b="$nt" 'BEGIN { if (b > 0) printf "%.6f", a / b }'
}
fmt_time() { awk -v t="$1" 'BEGIN { if (t < 1) printf "%.1f ms", t * 1e3; else printf "%.2f s", t }'; }
fmt_ratio() { awk -v r="$1" 'BEGIN { if (r >= 100) printf "%.0fx", r; else if (r >= 10) printf "%.1fx", r; else printf "%.2fx", r }'; }

# cell ENGINE KERNEL SIZE SCALE: sets $cellv to "time ratio" for the table,
# after checking the checksum against native at the same size. (No subshell:
# it counts mismatches and collects ratios for the geometric mean.)
cell() {
    local eng=$1 k=$2 n=$3 scale=$4 s r t
    s=${sum[$eng,$k,$n]:-}
    if [ -z "$s" ]; then cellv=$(printf '%11s %6s' - ""); return; fi
    if [ "$s" = FAIL ]; then cellv="FAILED"; return; fi
    if [ "${sum[native,$k,$n]:-FAIL}" = FAIL ]; then cellv="(no native)"; return; fi
    if [ "$s" != "${sum[native,$k,$n]}" ]; then
        echo "MISMATCH kernel=$k n=$n engine=${eng/#interp/wasm-interp} got=$s native=${sum[native,$k,$n]}" >&2
        mismatches=$((mismatches + 1))
        cellv="MISMATCH ($s)"; return
    fi
    r=$(ratio "$eng" "$k" "$n")
    t=$(awk -v t="${tim[$eng,$k,$n]}" -v s="$scale" 'BEGIN { printf "%.6f", t * s }')
    [ -n "$r" ] && ratios[$eng]+="$r "
    [ "$scale" = 1 ] && cellv="" || cellv="~"
    cellv=$(printf '%11s %6s' "$cellv$(fmt_time "$t")" "$(fmt_ratio "$r")")
}
geomean() {
    local list=${ratios[$1]:-}
    [ -z "$list" ] && { echo "-"; return; }
    echo "$list" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += log($i); printf "%.6f", exp(s / NF) }'
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo
echo "WATER bench, $mode; times are the fastest of $reps calls (wasm-interp: one process run)"
cc=$(grep -m1 '^CMAKE_C_COMPILER:' "$build/CMakeCache.txt" 2>/dev/null | cut -d= -f2)
echo "machine: ${cpu:-unknown CPU}, $(nproc 2>/dev/null || echo '?') CPUs"
echo "native: $("${cc:-cc}" --version 2>/dev/null | head -n 1) -O2"
[ $have_node = 1 ] && echo "node: $(node --version)"
[ $have_interp = 1 ] && echo "wasm-interp: wabt $(wasm-interp --version)"
echo
row() { printf '%-8s %6s  %-26s %9s  %-18s  %-18s  %-18s\n' "$@"; }
row kernel n checksum native "$(printf '%11s %6s' ours ratio)" \
    "$(printf '%11s %6s' node ratio)" "$(printf '%11s %6s' wasm-interp ratio)"
scaled_note=""
for k in "${names[@]}"; do
    n=${size[$k]} ni=${isize[$k]}
    nat="FAILED"
    [ "${sum[native,$k,$n]:-FAIL}" != FAIL ] && nat=$(fmt_time "${tim[native,$k,$n]}")
    cell ours "$k" "$n" 1; c_ours=$cellv
    cell node "$k" "$n" 1; c_node=$cellv
    scale=$(awk -v a="$n" -v b="$ni" 'BEGIN { printf "%g", a / b }')
    cell interp "$k" "$ni" "$scale"; c_interp=$cellv
    if [ "$scale" != 1 ] && [ -n "${sum[interp,$k,$ni]:-}" ]; then
        scaled_note+="  $k: wasm-interp ran n=$ni, time scaled x$scale; its ratio is to native at n=$ni"$'\n'
    fi
    row "$k" "$n" "${sum[native,$k,$n]:-}" "$nat" "$c_ours" "$c_node" "$c_interp"
done
gm() { local r; r=$(geomean "$1"); [ "$r" = - ] && r=- || r=$(fmt_ratio "$r"); printf '%11s %6s' "" "$r"; }
row geomean "" "" "" "$(gm ours)" "$(gm node)" "$(gm interp)"
echo
echo "Ratios are engine time / native time at the same n (lower is better)."
for k in "${names[@]}"; do echo "  $k: ${what[$k]}"; done
[ -n "$scaled_note" ] && printf '%s' "$scaled_note"
[ -n "$ours_note" ] && echo "ours: $ours_note"
[ -n "$node_note" ] && echo "node: $node_note"
[ -n "$interp_note" ] && echo "wasm-interp: $interp_note"
[ $have_interp = 1 ] && echo "wasm-interp times are whole-process minus an instantiate-only run of the same module."

if [ $mismatches -gt 0 ] || [ $failures -gt 0 ]; then
    echo
    echo "run-bench: FAILED: $mismatches checksum mismatch(es), $failures engine failure(s)" >&2
    exit 1
fi
if [ $have_ours = 0 ] && [ $have_node = 0 ] && [ $have_interp = 0 ]; then
    echo "run-bench: no WebAssembly engine ran: nothing was cross-checked" >&2
    exit 77
fi
echo "run-bench: all checksums agree"
