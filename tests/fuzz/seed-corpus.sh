#!/bin/sh
# seed-corpus.sh - builds the seed corpus of fuzz_engine.
#
#   seed-corpus.sh OUT_DIR WAST2JSON SPEC_DIR [WASM_DIR...]
#
# OUT_DIR is emptied and refilled with:
#  - two hand-written modules (so there are seeds even without wabt);
#  - every binary module of SPEC_DIR/*.wast, converted with WAST2JSON (an
#    empty WAST2JSON or a missing SPEC_DIR skips this; files wast2json cannot
#    convert are skipped, with a note on stderr);
#  - every *.wasm of each WASM_DIR that exists (bench modules, regressions);
#  - when the environment names binaryen's wasm-opt in WASM_OPT, 200 valid
#    random modules from `wasm-opt -ttf` (random bytes in, a module using
#    the features the engine has out): valid code with loops, calls and
#    memory traffic, which byte mutation of the others rarely reaches
#    (no reference types: binaryen 108 still has funcref <: externref).
# Prints how many seeds it wrote; exits non-zero only on a usage error.
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 OUT_DIR WAST2JSON SPEC_DIR [WASM_DIR...]" >&2
    exit 2
fi
out=$1
wast2json=$2
spec=$3
shift 3

rm -rf "$out"
mkdir -p "$out" || exit 1

# The empty module, and (func (export "f") (result i32) i32.const 42).
printf '\000asm\001\000\000\000' > "$out/hand-empty.wasm"
printf '\000asm\001\000\000\000\001\005\001\140\000\001\177\003\002\001\000\007\005\001\001f\000\000\012\006\001\004\000\101\052\013' \
    > "$out/hand-const.wasm"

if [ -n "$wast2json" ] && [ -d "$spec" ]; then
    tmp="$out/.wast2json"
    mkdir -p "$tmp"
    # Some files make wast2json abort: no core dumps (dash and bash have
    # ulimit -c), and go on.
    # shellcheck disable=SC3045
    ulimit -c 0 2>/dev/null
    for wast in "$spec"/*.wast; do
        [ -f "$wast" ] || continue
        name=$(basename "$wast" .wast)
        "$wast2json" "$wast" -o "$tmp/$name.json" >/dev/null 2>&1 ||
            echo "seed-corpus: skipped $name.wast" >&2
    done
    # NAME.N.wasm: already unique across files.
    find "$tmp" -name '*.wasm' -exec mv -t "$out" {} +
    rm -rf "$tmp"
fi

if [ -n "${WASM_OPT:-}" ]; then
    i=0
    while [ $i -lt 200 ]; do
        i=$((i + 1))
        # 200 to 8000 random bytes
        n=$(( $(od -An -N2 -tu2 /dev/urandom) % 7800 + 200 ))
        head -c "$n" /dev/urandom > "$out/.ttf-input"
        "$WASM_OPT" -ttf "$out/.ttf-input" -o "$out/ttf-$i.wasm" \
            --enable-bulk-memory --enable-multivalue --enable-sign-ext \
            --enable-nontrapping-float-to-int --enable-mutable-globals \
            >/dev/null 2>&1 || rm -f "$out/ttf-$i.wasm"
    done
    rm -f "$out/.ttf-input"
fi

for dir in "$@"; do
    [ -d "$dir" ] || continue
    tag=$(basename "$dir")
    for wasm in "$dir"/*.wasm; do
        [ -f "$wasm" ] && cp "$wasm" "$out/$tag-$(basename "$wasm")"
    done
done

echo "seed-corpus: $(find "$out" -type f | wc -l) seeds in $out"
exit 0
