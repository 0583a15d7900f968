# tor_lib.sh - a private Tor network on 127.0.0.1 for the front-end tests
# and bench/tor/run-torbench.sh (sourced, bash).
#
# Every torrc written here carries a local DirAuthority line (a dummy one
# when there is no authority), `ClientUseIPv6 0`, and listens on 127.0.0.1
# only, so tor never contacts the public network. Every process started is
# remembered and stopped by tl_cleanup (SIGTERM, then SIGKILL), and every
# wait is bounded.
#
#   tl_init DIR                 work directory (emptied); installs the trap
#   tl_port                     prints a free TCP port on 127.0.0.1
#   tl_dummy_authority          prints a DirAuthority line nobody answers
#   tl_start NAME CMD...        runs CMD in the background (bounded by
#                               TL_MAX_SECONDS), output to DIR/NAME.out
#   tl_wait_file FILE SECONDS   waits until FILE exists and is not empty
#   tl_wait_log FILE REGEX SECONDS   waits until FILE has a matching line
#   tl_authority NAME           a v3 directory authority (tor-gencert keys);
#                               sets TL_DIRAUTH (its DirAuthority line)
#   tl_common                   torrc lines every node shares
#   tl_sanitizer_check          fails if ASan/UBSan wrote a report
#   tl_cleanup                  stops everything started

TL_MAX_SECONDS=${TL_MAX_SECONDS:-300}
TL_PIDS=()

tl_init() {
    TL_DIR=$1
    rm -rf "$TL_DIR"
    mkdir -p "$TL_DIR"
    chmod 700 "$TL_DIR"
    trap tl_cleanup EXIT
    trap 'exit 130' INT TERM
    # Sanitizer reports of our programs (also when tor runs them) land in
    # files that tl_sanitizer_check looks at.
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$TL_DIR/sanitizer"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$TL_DIR/sanitizer"
}

# Waits (bounded) until no process runs CMD (the PTs tor started: their
# sanitizer reports are written as they exit).
tl_wait_gone() {
    local i
    for ((i = 0; i < 100; i++)); do
        pgrep -f -x "$1.*" >/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# Fails (returns 1, prints them) if a sanitizer reported anything.
tl_sanitizer_check() {
    local f found=0
    for f in "$TL_DIR"/sanitizer.*; do
        [ -e "$f" ] || continue
        echo "FAIL: sanitizer report $f:"
        head -40 "$f"
        found=1
    done
    return $found
}

tl_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

tl_dummy_authority() {
    # Port 9 on loopback: nothing listens, nothing leaves the host.
    echo "DirAuthority dummy orport=9 no-v2 v3ident=0000000000000000000000000000000000000001 127.0.0.1:9 0000000000000000000000000000000000000002"
}

tl_start() {
    local name=$1
    shift
    timeout -k 5 "$TL_MAX_SECONDS" "$@" >"$TL_DIR/$name.out" 2>&1 &
    TL_PIDS+=($!)
}

tl_wait_file() {
    local f=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        [ -s "$f" ] && return 0
        sleep 0.1
    done
    return 1
}

tl_wait_log() {
    local f=$1 re=$2 secs=$3 i
    for ((i = 0; i < secs * 10; i++)); do
        grep -Eq "$re" "$f" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

tl_cleanup() {
    local p i alive
    for p in "${TL_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for ((i = 0; i < 50; i++)); do
        alive=0
        for p in "${TL_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in "${TL_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    TL_PIDS=()
}

# Lines every node of the private network shares. Voting every 20 s with
# TestingTorNetwork gives a first consensus within about a minute.
tl_common() {
    cat <<EOF
ClientUseIPv6 0
SafeLogging 0
Log notice stdout
RunAsDaemon 0
EOF
}

# tl_authority NAME: keys, fingerprints and the torrc of a v3 authority;
# starts it. Sets TL_DIRAUTH to its DirAuthority line.
tl_authority() {
    local name=$1 d="$TL_DIR/$1"
    local orport dirport
    orport=$(tl_port)
    dirport=$(tl_port)
    mkdir -p "$d/keys"
    chmod 700 "$d"
    (cd "$d/keys" && echo "" | timeout 60 tor-gencert --create-identity-key -m 12 \
        -a "127.0.0.1:$dirport" --passphrase-fd 0 >/dev/null 2>&1) || return 1
    local v3
    v3=$(awk '/^fingerprint /{print $2}' "$d/keys/authority_certificate")
    cat >"$d/torrc" <<EOF
$(tl_common)
TestingTorNetwork 1
DataDirectory $d
Nickname $name
ORPort 127.0.0.1:$orport
DirPort 127.0.0.1:$dirport
Address 127.0.0.1
AssumeReachable 1
SocksPort 0
ContactInfo $name@localhost
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
ExitPolicy reject *:*
TestingV3AuthInitialVotingInterval 20
TestingV3AuthInitialVoteDelay 4
TestingV3AuthInitialDistDelay 4
V3AuthVotingInterval 20
V3AuthVoteDelay 4
V3AuthDistDelay 4
TestingDirAuthVoteExit *
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
EOF
    local fp
    fp=$(timeout 60 tor --list-fingerprint -f "$d/torrc" \
         --DirAuthority "placeholder orport=9 no-v2 v3ident=$v3 127.0.0.1:$dirport 0000000000000000000000000000000000000000" \
         2>/dev/null | awk -v n="$name" '$1 == n {print $2 $3 $4 $5 $6 $7 $8 $9 $10 $11}' | tail -1)
    [ -n "$fp" ] || return 1
    TL_DIRAUTH="DirAuthority $name orport=$orport no-v2 v3ident=$v3 127.0.0.1:$dirport $fp"
    echo "$TL_DIRAUTH" >>"$d/torrc"
    tl_start "$name" tor -f "$d/torrc"
}

# tl_relay_exit NAME PORT: an exit relay whose policy accepts PORT only,
# written as "accept *:PORT" (a policy naming 127.0.0.1 would turn into
# "reject *:*" in its descriptor). Needs TL_DIRAUTH.
tl_relay_exit() {
    local name=$1 port=$2 d="$TL_DIR/$1"
    mkdir -p "$d"
    chmod 700 "$d"
    cat >"$d/torrc" <<EOF2
$(tl_common)
TestingTorNetwork 1
DataDirectory $d
Nickname $name
ORPort 127.0.0.1:$(tl_port)
Address 127.0.0.1
AssumeReachable 1
SocksPort 0
ContactInfo $name@localhost
ExitRelay 1
ExitPolicyRejectPrivate 0
ExitPolicyRejectLocalInterfaces 0
ExitPolicy accept *:$port
ExitPolicy reject *:*
$TL_DIRAUTH
EOF2
    tl_start "$name" tor -f "$d/torrc"
}

# tl_bridge NAME PT PTCMD [OPTIONS]: a bridge whose ServerTransportPlugin PT
# is PTCMD, listening on 127.0.0.1 (ExtORPort auto). OPTIONS: the
# ServerTransportOptions k=v list. With TL_DIRAUTH unset the bridge has a
# dummy authority (no consensus: clients stop at 30%, as expected).
# Sets TL_BRIDGE_PORT.
tl_bridge() {
    local name=$1 pt=$2 cmd=$3 opts=$4 d="$TL_DIR/$1"
    mkdir -p "$d"
    chmod 700 "$d"
    TL_BRIDGE_PORT=$(tl_port)
    {
        tl_common
        [ -n "${TL_DIRAUTH:-}" ] && echo "TestingTorNetwork 1"
        echo "DataDirectory $d"
        echo "Nickname $name"
        echo "ORPort 127.0.0.1:$(tl_port)"
        [ -n "${TL_DIRAUTH:-}" ] && echo "Address 127.0.0.1"
        echo "ExtORPort auto"
        echo "BridgeRelay 1"
        echo "PublishServerDescriptor 0"
        echo "AssumeReachable 1"
        echo "SocksPort 0"
        echo "ContactInfo $name@localhost"
        echo "ServerTransportPlugin $pt exec $cmd"
        echo "ServerTransportListenAddr $pt 127.0.0.1:$TL_BRIDGE_PORT"
        [ -n "$opts" ] && echo "ServerTransportOptions $pt $opts"
        if [ -n "${TL_DIRAUTH:-}" ]; then echo "$TL_DIRAUTH"; else tl_dummy_authority; fi
    } >"$d/torrc"
    tl_start "$name" tor -f "$d/torrc"
}

# tl_client NAME PT PTCMD BRIDGELINE: a client using that bridge; sets
# TL_SOCKS_PORT.
tl_client() {
    local name=$1 pt=$2 cmd=$3 line=$4 d="$TL_DIR/$1"
    mkdir -p "$d"
    chmod 700 "$d"
    TL_SOCKS_PORT=$(tl_port)
    {
        tl_common
        [ -n "${TL_DIRAUTH:-}" ] && echo "TestingTorNetwork 1"
        echo "DataDirectory $d"
        echo "SocksPort 127.0.0.1:$TL_SOCKS_PORT"
        echo "UseBridges 1"
        echo "ClientTransportPlugin $pt exec $cmd"
        echo "$line"
        if [ -n "${TL_DIRAUTH:-}" ]; then echo "$TL_DIRAUTH"; else tl_dummy_authority; fi
    } >"$d/torrc"
    tl_start "$name" tor -f "$d/torrc"
}

# tl_network PT SERVER_CMD CLIENT_CMD [OPTIONS]: a whole private network
# for fetching from 127.0.0.1:$TL_HTTP_PORT: an authority, an exit whose
# policy accepts that port, a bridge whose ServerTransportPlugin PT is
# SERVER_CMD (ServerTransportOptions OPTIONS), and a client with that
# bridge (the line tor wrote to the bridge's data directory) and
# ClientTransportPlugin PT CLIENT_CMD. Sets TL_T0 (start, seconds since
# the epoch with decimals) and TL_SOCKS_PORT.
tl_network() {
    local pt=$1 server_cmd=$2 client_cmd=$3 opts=${4:-}
    TL_T0=$(date +%s.%N)
    tl_authority auth || { echo "cannot make the authority"; return 1; }
    tl_relay_exit exit1 "$TL_HTTP_PORT"
    tl_bridge waterbridge "$pt" "$server_cmd" "$opts"
    tl_wait_log "$TL_DIR/waterbridge/bridgelines" "^Bridge $pt " 60 ||
        { echo "the bridge wrote no bridge line"; return 1; }
    local line
    line=$(grep "^Bridge $pt " "$TL_DIR/waterbridge/bridgelines" | head -1)
    echo "bridge line: $line"
    tl_client client "$pt" "$client_cmd" "$line"
}

# Seconds since TL_T0.
tl_elapsed() {
    awk -v a="$TL_T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'
}
