#!/usr/bin/env bash
# run.sh - the one entry point: set up, build, demo, test, bench.
#
#   ./run.sh demo    install what is missing, build, run the built-in demo
#   ./run.sh test    install what is missing, build (Release and ASan+UBSan),
#                    run every test; CTest's summary is printed last
#   ./run.sh bench   build and run the engine benchmarks (bench/README.md)
#   ./run.sh setup   only install the missing Debian packages
#   ./run.sh build   only build (Release) into build/
#
# Environment: JOBS (parallel build jobs, default: nproc), BUILD_DIR
# (default: build), CI (set by CI: no prompts, fuller logs).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
BUILD_DIR=${BUILD_DIR:-build}

# Debian 12 packages the build, tests and demos use.
PACKAGES=(
  build-essential cmake pkg-config          # C toolchain
  clang lld llvm wasi-libc libclang-rt-14-dev-wasm32  # wasm32-wasi for the SDK and transports
  wabt                                      # wast2json, wat2wasm, wasm-objdump
  libcjson-dev libcmocka-dev libssl-dev     # JSON configs, unit tests, TLS and crypto
  nodejs                                    # V8, for engine benchmarks
  python3                                   # end-to-end test orchestration
  socat netcat-openbsd curl openssl         # peers in end-to-end tests
  shadowsocks-libev tor obfs4proxy          # real peers: Shadowsocks, Tor
  rustc libstd-rust-dev-wasm32              # real Rust wasm32-wasi modules (tests)
)

log() { printf '==> %s\n' "$*" >&2; }

setup() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  log "installing missing Debian packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
    log "apt-get install failed; trying once more after apt-get update"
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

configure_and_build() { # DIR [cmake args...]
  local dir=$1
  shift
  cmake -S . -B "$dir" "$@" >"$dir.configure.log" 2>&1 || {
    cat "$dir.configure.log" >&2
    return 1
  }
  cmake --build "$dir" -j "$JOBS"
}

build() {
  mkdir -p "$BUILD_DIR"
  configure_and_build "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
}

demo() {
  build
  # Echo server, `water listen` and `water dial` with the xor transport
  # between them, 64 MiB through and back, checked and timed.
  demo/demo.sh "$BUILD_DIR"
}

test_all() {
  build
  mkdir -p "$BUILD_DIR-asan"
  log "building the ASan+UBSan configuration"
  configure_and_build "$BUILD_DIR-asan" -DCMAKE_BUILD_TYPE=Debug -DWATER_SANITIZE=ON
  local rc=0
  log "tests (Release)"
  (cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" --timeout 900) || rc=1
  log "tests (ASan+UBSan)"
  (cd "$BUILD_DIR-asan" && ASAN_OPTIONS=detect_leaks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j "$JOBS" --timeout 1800) || rc=1
  return $rc
}

case "${1:-}" in
setup) setup ;;
build) setup && build ;;
demo) setup && demo ;;
test) setup && test_all ;;
bench) setup && build && bench/run-bench.sh --build-dir "$BUILD_DIR" --no-build "${@:2}" ;;
-h | --help | help | "")
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  [ -n "${1:-}" ] || exit 2
  ;;
*)
  echo "run.sh: unknown command '$1' (try ./run.sh --help)" >&2
  exit 2
  ;;
esac
