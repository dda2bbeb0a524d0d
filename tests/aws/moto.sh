# shellcheck shell=bash
# Starts a local AWS API emulator (moto's server, pinned) for the tests that need DynamoDB and SQS.
# Meant to be sourced, not run:
#
#   source tests/aws/moto.sh
#   cargo test -p crm-store --features dynamodb,sqs,conformance --test aws_conformance
#
# What it does:
# - installs moto[server]==$MOTO_VERSION into a virtualenv under
#   ${CRM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crm-tools}/moto-$MOTO_VERSION, once (the
#   directory is keyed by version; a half-finished install is redone);
# - starts `moto_server` on a free loopback port in the background and waits until it answers;
# - exports CRM_TEST_AWS_ENDPOINT=http://127.0.0.1:PORT and dummy AWS credentials and region, so
#   nothing can reach a real AWS account with real credentials;
# - defines and exports `stop_moto`, and chains it in front of any EXIT trap already set. A script
#   that sets its own EXIT trap after sourcing this file must call `stop_moto` in it.
#
# On any failure it prints why on stderr and returns non-zero (so `set -e` scripts stop).

MOTO_VERSION=5.2.5
_MOTO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

_moto_fail() {
    printf 'tests/aws/moto.sh: %s\n' "$*" >&2
    return 1
}

# Installs moto into its virtualenv unless a finished install is already there.
_moto_install() {
    # shellcheck source=tests/lib/venv.sh
    source "$_MOTO_DIR/../lib/venv.sh" || { _moto_fail "cannot read tests/lib/venv.sh"; return 1; }
    MOTO_VENV=$(pinned_venv tests/aws/moto.sh moto "$MOTO_VERSION" "moto[server]==$MOTO_VERSION" moto_server) ||
        return 1
}

# A loopback port nobody listens on right now.
_moto_free_port() {
    "$MOTO_VENV/bin/python" -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])'
}

# Starts the server; succeeds once it accepts connections.
_moto_start() {
    local attempt port waited
    MOTO_LOG=$(mktemp "${TMPDIR:-/tmp}/moto-server.XXXXXX.log") ||
        { _moto_fail "cannot create a log file"; return 1; }
    for attempt in 1 2 3; do
        port=$(_moto_free_port) || { _moto_fail "cannot find a free port"; return 1; }
        # Through moto_server.py beside this file: DynamoDB writes atomic, as on AWS.
        "$MOTO_VENV/bin/python" "$_MOTO_DIR/moto_server.py" -H 127.0.0.1 -p "$port" >"$MOTO_LOG" 2>&1 &
        MOTO_PID=$!
        # Up to 30 s: the server is usually ready in under one.
        for ((waited = 0; waited < 300; waited++)); do
            if ! kill -0 "$MOTO_PID" 2>/dev/null; then
                break
            fi
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                export CRM_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
                return 0
            fi
            sleep 0.1
        done
        printf 'tests/aws/moto.sh: moto_server did not start on port %s (attempt %s); its log:\n' \
            "$port" "$attempt" >&2
        tail -n 20 "$MOTO_LOG" >&2
        stop_moto
        MOTO_LOG=$(mktemp "${TMPDIR:-/tmp}/moto-server.XXXXXX.log") ||
            { _moto_fail "cannot create a log file"; return 1; }
    done
    rm -f "$MOTO_LOG"
    _moto_fail "moto_server did not start after 3 attempts"
}

# Stops the server this file started and removes its log (safe to call twice).
stop_moto() {
    if [[ -n "${MOTO_PID:-}" ]]; then
        # `wait` returns the killed server's status (143): under `set -e` that would end the
        # calling trap here, before the log is removed and any chained trap runs.
        { kill "$MOTO_PID" 2>/dev/null && wait "$MOTO_PID" 2>/dev/null; } || true
        MOTO_PID=
    fi
    if [[ -n "${MOTO_LOG:-}" ]]; then
        rm -f "$MOTO_LOG"
        MOTO_LOG=
    fi
    return 0
}
export -f stop_moto

_moto_main() {
    _moto_install || return 1
    _moto_start || return 1
    # Chain in front of whatever EXIT trap the sourcing shell already has.
    # `trap -p` prints `trap -- 'command' EXIT` quoted for reuse; eval takes the command back out.
    local previous=
    if [[ -n "$(trap -p EXIT)" ]]; then
        eval "set -- $(trap -p EXIT)"
        previous=$3
    fi
    # shellcheck disable=SC2064 # expand the previous trap now, on purpose
    trap "stop_moto${previous:+; $previous}" EXIT
    export MOTO_PID
    export AWS_ACCESS_KEY_ID=testing
    export AWS_SECRET_ACCESS_KEY=testing
    export AWS_REGION=us-east-1
    unset AWS_SESSION_TOKEN AWS_PROFILE
    printf 'tests/aws/moto.sh: moto %s listening on %s (pid %s)\n' \
        "$MOTO_VERSION" "$CRM_TEST_AWS_ENDPOINT" "$MOTO_PID" >&2
}

_moto_main
