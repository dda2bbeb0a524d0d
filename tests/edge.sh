# shellcheck shell=bash
# The edge worker end to end, in the real Workers runtime. Meant to be sourced by the test entry
# point after tests/aws/moto.sh (which starts the SQS emulator and exports CRM_TEST_AWS_ENDPOINT):
#
#   source tests/aws/moto.sh
#   source tests/edge.sh
#
# What it does, failing loudly (non-zero return, so `set -e` callers stop) when anything is missing:
# 1. installs the pinned tools once, cached per user under
#    ${CRM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crm-tools}:
#    worker-build-$EDGE_WORKER_BUILD_VERSION and wasm-bindgen-cli-<the wasm-bindgen version in
#    Cargo.lock> (cargo install --root), and functions/edge-ingest's npm packages (wrangler with
#    workerd, binaryen's wasm-opt, esbuild) from its package-lock.json, keyed by the lockfile's hash;
# 2. runs clippy on the wasm32 build (the runtime glue exists only there), builds the worker
#    (functions/edge-ingest/build.sh → worker-build --release) and checks the bundle against its
#    size budget;
# 3. for each delivery mode (queue, then direct): starts `wrangler dev --local` on a free loopback
#    port with wrangler.toml (plus a local KV namespace of sites) and the SQS endpoint pointed at
#    the emulator, and runs the `edge_e2e` test against it;
# 4. with EDGE_BENCH=1, also measures a 20-event beacon in each delivery mode against a worker
#    answering 204 and a JavaScript worker doing the same I/O (functions/edge-ingest/bench/), each
#    run in workerd by bench/serve.mjs (Miniflare, from the same wrangler.toml, without `wrangler
#    dev`'s proxy), and prints the figures; EDGE_BENCH_REQUESTS sets the beacons per worker
#    (default 3000).
# Everything it writes stays in functions/edge-ingest/build (wrangler's config, cache and state
# included: XDG_CONFIG_HOME/XDG_CACHE_HOME point there, and WRANGLER_SEND_METRICS=false).

EDGE_WORKER_BUILD_VERSION=0.8.6
# The bundle budget (gzip of the wasm module plus its JavaScript), in bytes.
EDGE_BUNDLE_BUDGET=$((350 * 1024))

_edge_fail() {
    printf 'tests/edge.sh: %s\n' "$*" >&2
    return 1
}

_edge_say() {
    printf '\n==> edge: %s\n' "$*"
}

# `cargo install` of one pinned crate into $cache/<crate>-<version>, once.
_edge_cargo_tool() {
    local crate=$1 version=$2 cache=$3
    local root="$cache/$crate-$version"
    if [[ -f "$root/.installed" ]]; then
        return 0
    fi
    printf 'tests/edge.sh: installing %s %s into %s (a few minutes, once)\n' "$crate" "$version" "$root" >&2
    rm -rf "$root"
    cargo install --quiet "$crate" --version "=$version" --root "$root" ||
        { _edge_fail "cargo install $crate $version failed (see above)"; return 1; }
    touch "$root/.installed"
}

# npm packages from the lockfile into $cache/edge-node-modules-<lockfile hash>, once.
_edge_npm_tools() {
    local cache=$1 crate_dir=$2
    local hash
    hash=$(sha256sum "$crate_dir/package-lock.json" | cut -c1-16) ||
        { _edge_fail "cannot hash $crate_dir/package-lock.json"; return 1; }
    EDGE_NODE_MODULES="$cache/edge-node-modules-$hash/node_modules"
    if [[ -f "$cache/edge-node-modules-$hash/.installed" ]]; then
        return 0
    fi
    printf 'tests/edge.sh: installing the npm packages of %s into %s (once)\n' "$crate_dir" "$cache" >&2
    local staging
    staging=$(mktemp -d "$cache/edge-node-modules.XXXXXX") || { _edge_fail "cannot create a staging dir"; return 1; }
    cp "$crate_dir/package.json" "$crate_dir/package-lock.json" "$staging/" &&
        (cd "$staging" && npm ci --no-audit --no-fund --loglevel=error) ||
        { rm -rf "$staging"; _edge_fail "npm ci failed for $crate_dir/package-lock.json (network? see above)"; return 1; }
    rm -rf "$cache/edge-node-modules-$hash"
    mv "$staging" "$cache/edge-node-modules-$hash" && touch "$cache/edge-node-modules-$hash/.installed"
}

_edge_tools() {
    local root=$1 cache=$2
    command -v cargo >/dev/null || { _edge_fail "cargo is required"; return 1; }
    command -v node >/dev/null || { _edge_fail "node (20.3 or later) is required for wrangler"; return 1; }
    command -v npm >/dev/null || { _edge_fail "npm is required to install wrangler"; return 1; }
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 3) ? 0 : 1)' ||
        { _edge_fail "node $(node --version) is too old: wrangler needs 20.3 or later"; return 1; }
    command -v setsid >/dev/null || { _edge_fail "setsid (util-linux) is required to stop wrangler cleanly"; return 1; }
    rustup target add wasm32-unknown-unknown >/dev/null 2>&1 ||
        { _edge_fail "could not add the wasm32-unknown-unknown target"; return 1; }
    mkdir -p "$cache" || { _edge_fail "cannot create the tools cache $cache"; return 1; }

    local bindgen_version
    # The version cargo resolved (`name = "wasm-bindgen"` then `version = "0.2.x"` in Cargo.lock).
    bindgen_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3; exit }' "$root/Cargo.lock")
    [[ -n "$bindgen_version" ]] || { _edge_fail "no wasm-bindgen in Cargo.lock"; return 1; }
    _edge_cargo_tool wasm-bindgen-cli "$bindgen_version" "$cache" || return 1
    _edge_cargo_tool worker-build "$EDGE_WORKER_BUILD_VERSION" "$cache" || return 1
    _edge_npm_tools "$cache" "$root/functions/edge-ingest" || return 1

    export WORKER_BUILD_BIN="$cache/worker-build-$EDGE_WORKER_BUILD_VERSION/bin/worker-build"
    export WASM_BINDGEN_BIN="$cache/wasm-bindgen-cli-$bindgen_version/bin/wasm-bindgen"
    export WASM_OPT_BIN="$EDGE_NODE_MODULES/.bin/wasm-opt"
    export ESBUILD_BIN="$EDGE_NODE_MODULES/.bin/esbuild"
    EDGE_WRANGLER="$EDGE_NODE_MODULES/.bin/wrangler"
    local tool
    for tool in "$WORKER_BUILD_BIN" "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN" "$EDGE_WRANGLER"; do
        [[ -x "$tool" ]] || { _edge_fail "$tool is missing after the install"; return 1; }
    done
}

_edge_build() {
    local crate_dir=$1
    rm -rf "$crate_dir/build/index.js" "$crate_dir/build/index_bg.wasm"
    bash "$crate_dir/build.sh" || { _edge_fail "the worker build failed (see above)"; return 1; }
    local wasm js total
    wasm=$(gzip -9 -c "$crate_dir/build/index_bg.wasm" | wc -c)
    js=$(gzip -9 -c "$crate_dir/build/index.js" | wc -c)
    total=$((wasm + js))
    printf 'tests/edge.sh: bundle %s bytes gzip (wasm %s + js %s; raw wasm %s); budget %s\n' \
        "$total" "$wasm" "$js" "$(wc -c <"$crate_dir/build/index_bg.wasm")" "$EDGE_BUNDLE_BUDGET"
    ((total <= EDGE_BUNDLE_BUDGET)) || { _edge_fail "the bundle is over its budget"; return 1; }
}

_edge_free_port() {
    node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Starts `wrangler dev` (its own process group, so stopping it stops workerd too). Sets
# EDGE_DEV_PID and EDGE_DEV_URL. Arguments: name, work dir, wrangler arguments…
_edge_start_dev() {
    local name=$1 dir=$2
    shift 2
    local port inspector waited
    mkdir -p "$dir/xdg"
    port=$(_edge_free_port) || { _edge_fail "cannot find a free port"; return 1; }
    # Its own inspector port too: the default (9229) is taken by the second wrangler.
    inspector=$(_edge_free_port) || { _edge_fail "cannot find a free port"; return 1; }
    EDGE_DEV_LOG="$dir/wrangler.log"
    XDG_CONFIG_HOME="$dir/xdg" XDG_CACHE_HOME="$dir/xdg" WRANGLER_SEND_METRICS=false CI=1 \
        EDGE_INGEST_PREBUILT=1 NO_COLOR=1 \
        setsid "$EDGE_WRANGLER" dev --local --ip 127.0.0.1 --port "$port" --inspector-port "$inspector" \
        --persist-to "$dir/state" --show-interactive-dev-session=false "$@" \
        >"$EDGE_DEV_LOG" 2>&1 </dev/null &
    EDGE_DEV_PID=$!
    EDGE_DEV_URL="http://127.0.0.1:$port"
    EDGE_DEV_PIDS+=("$EDGE_DEV_PID")
    # Up to 90 s: ready in about 15 s on these machines.
    for ((waited = 0; waited < 180; waited++)); do
        kill -0 "$EDGE_DEV_PID" 2>/dev/null || break
        if node -e 'fetch(process.argv[1]).then(r => process.exit(r.status < 500 ? 0 : 1), () => process.exit(1))' \
            "$EDGE_DEV_URL/health" 2>/dev/null; then
            printf 'tests/edge.sh: %s listening on %s\n' "$name" "$EDGE_DEV_URL" >&2
            return 0
        fi
        sleep 0.5
    done
    tail -n 40 "$EDGE_DEV_LOG" >&2
    _edge_fail "wrangler dev ($name) did not start; its log is $EDGE_DEV_LOG"
}

# Stops every wrangler this file started (safe to call twice).
stop_edge_workers() {
    local pid
    for pid in "${EDGE_DEV_PIDS[@]}"; do
        { kill -TERM -- "-$pid" && wait "$pid"; } 2>/dev/null || true
    done
    EDGE_DEV_PIDS=()
    return 0
}

# The worker's configuration for a test run, written to $dir/wrangler.toml: the top-level
# wrangler.toml with its paths made absolute and the queue's retry delay cut to 1 s (the test
# waits for a retried message), plus a local KV namespace of sites holding the site `kvshop`
# (wrangler.toml leaves KV commented out; the test checks a KV-only site is accepted).
# wrangler keeps its scratch space next to the config, so nothing is written in the repository.
_edge_config() {
    local root=$1 dir=$2
    sed -E -e 's#"((functions|shared)/[^"]*)"#"'"$root"'/\1"#g' \
        -e 's#"bash functions/#"bash '"$root"'/functions/#' \
        -e 's#^retry_delay = [0-9]+#retry_delay = 1#' "$root/wrangler.toml" >"$dir/wrangler.toml" &&
        cat >>"$dir/wrangler.toml" <<'TOML' &&

[[kv_namespaces]]
binding = "CRM_SITES_KV"
id = "edge-e2e-sites"
TOML
        XDG_CONFIG_HOME="$dir/xdg" XDG_CACHE_HOME="$dir/xdg" WRANGLER_SEND_METRICS=false CI=1 \
            "$EDGE_WRANGLER" kv key put --config "$dir/wrangler.toml" --binding CRM_SITES_KV \
            --local --persist-to "$dir/state" "site:kvshop" \
            '{"id": "kvshop", "allowed_origins": ["https://shop.example"]}' >"$dir/kv.log" 2>&1 ||
        { cat "$dir/kv.log" >&2; _edge_fail "could not write the test configuration in $dir"; return 1; }
}

# The worker's variables and secrets for a run, in $dir/worker.env (wrangler reads them like a .env
# file). Arguments: dir, delivery, SQS queue URL, daily salt secret.
_edge_worker_env() {
    local dir=$1 delivery=$2 queue_url=$3 salt_secret=$4
    cat >"$dir/worker.env" <<VARS
CRM_DELIVERY=$delivery
CRM_SITES=[{"id":"demo","allowed_origins":["https://shop.example"]},{"id":"paused","allowed_origins":["*"],"enabled":false}]
CRM_SQS_QUEUE_URL=$queue_url
CRM_SQS_REGION=us-east-1
CRM_DAILY_SALT_SECRET=$salt_secret
CRM_VISITOR_PEPPER=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
VARS
}

# The Queue refusing beacons: the worker in queue delivery without its producer binding, run in
# workerd by bench/serve.mjs (the configuration wrangler would build, without the dev server),
# must answer tests/queue_down.mjs's beacons 503 and log why.
_edge_queue_down() {
    local root=$1
    local dir="$root/functions/edge-ingest/build/e2e/queue-down"
    rm -rf "$dir" && mkdir -p "$dir"
    _edge_say "queue delivery with the Queue unavailable: beacons answered 503"
    _edge_worker_env "$dir" queue "http://127.0.0.1:9/123456789012/unused" \
        "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
    _edge_config "$root" "$dir" || return 1
    sed -i -e '/^\[\[queues.producers\]\]/,/^$/d' "$dir/wrangler.toml"
    ! grep -q 'CRM_EVENTS' "$dir/wrangler.toml" ||
        { _edge_fail "could not remove the producer binding from $dir/wrangler.toml"; return 1; }
    _edge_start_bench_worker "edge worker without its Queue" "$dir" "$dir/wrangler.toml" "$dir/worker.env" &&
        node "$root/functions/edge-ingest/tests/queue_down.mjs" "$EDGE_DEV_URL" &&
        grep -q 'beacon not queued' "$EDGE_DEV_LOG" ||
        { tail -n 40 "$EDGE_DEV_LOG" >&2; _edge_fail "the worker without its Queue did not refuse as it should; its log: $EDGE_DEV_LOG"; return 1; }
    stop_edge_workers
}

# One delivery mode: a worker configured for it, its own SQS queue, the e2e test.
_edge_run_mode() {
    local root=$1 delivery=$2
    local dir="$root/functions/edge-ingest/build/e2e/$delivery"
    local queue="crm-edge-e2e-$delivery-$$"
    local queue_url="$CRM_TEST_AWS_ENDPOINT/123456789012/$queue"
    local salt_secret
    salt_secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
    rm -rf "$dir" && mkdir -p "$dir"
    _edge_worker_env "$dir" "$delivery" "$queue_url" "$salt_secret"
    _edge_say "$delivery delivery: wrangler dev + end-to-end test"
    _edge_config "$root" "$dir" || return 1
    _edge_start_dev "edge worker ($delivery)" "$dir" --config "$dir/wrangler.toml" --env-file "$dir/worker.env" ||
        return 1
    EDGE_E2E_WORKER_URL="$EDGE_DEV_URL" EDGE_E2E_QUEUE_URL="$queue_url" \
        EDGE_E2E_DEAD_LETTER_QUEUE="$queue-dlq" EDGE_E2E_DELIVERY="$delivery" \
        EDGE_E2E_DAILY_SALT_SECRET="$salt_secret" EDGE_E2E_WORKER_LOG="$EDGE_DEV_LOG" \
        cargo test --manifest-path "$root/Cargo.toml" -p edge-ingest --test edge_e2e --locked ||
        { tail -n 60 "$EDGE_DEV_LOG" >&2; _edge_fail "the $delivery end-to-end test failed; wrangler's log: $EDGE_DEV_LOG"; return 1; }
    stop_edge_workers
}

# Starts one worker of the benchmark in workerd through bench/serve.mjs (Miniflare configured from
# the given wrangler.toml: the runtime `wrangler dev` uses, without the dev server's proxy worker
# and middleware, which production does not have and which would inflate what is measured). Sets
# EDGE_DEV_PID and EDGE_DEV_URL like _edge_start_dev. Arguments: name, work dir, config[, env file].
_edge_start_bench_worker() {
    local name=$1 dir=$2 config=$3 env_file=${4:-}
    local serve port waited
    serve="$(dirname "${BASH_SOURCE[0]}")/../functions/edge-ingest/bench/serve.mjs"
    mkdir -p "$dir"
    port=$(_edge_free_port) || { _edge_fail "cannot find a free port"; return 1; }
    EDGE_DEV_LOG="$dir/serve.log"
    EDGE_NODE_MODULES="$EDGE_NODE_MODULES" setsid node "$serve" --config "$config" \
        ${env_file:+--env-file "$env_file"} --port "$port" >"$EDGE_DEV_LOG" 2>&1 </dev/null &
    EDGE_DEV_PID=$!
    EDGE_DEV_URL="http://127.0.0.1:$port"
    EDGE_DEV_PIDS+=("$EDGE_DEV_PID")
    for ((waited = 0; waited < 120; waited++)); do
        kill -0 "$EDGE_DEV_PID" 2>/dev/null || break
        if grep -q '^ready ' "$EDGE_DEV_LOG"; then
            printf 'tests/edge.sh: %s listening on %s\n' "$name" "$EDGE_DEV_URL" >&2
            return 0
        fi
        sleep 0.5
    done
    tail -n 40 "$EDGE_DEV_LOG" >&2
    _edge_fail "the benchmark worker $name did not start; its log is $EDGE_DEV_LOG"
}

# The cost of a 20-event beacon, for each delivery mode: the real worker against a worker answering
# 204 and a JavaScript worker doing the same I/O (bench/same-io-worker.js), same requests, same run
# (bench/load.mjs). All three send to SQS through bench/sqs-sink.mjs, which answers at once: the
# emulator slows down as its queues fill, and SQS's own work is not what is measured.
_edge_bench() {
    local root=$1
    local bench="$root/functions/edge-ingest/bench"
    local base="$root/functions/edge-ingest/build/e2e/bench"
    local requests=${EDGE_BENCH_REQUESTS:-3000}
    local sink_port sink_pid sink waited delivery dir worker baseline same_io
    rm -rf "$base" && mkdir -p "$base"
    sink_port=$(_edge_free_port) || { _edge_fail "cannot find a free port"; return 1; }
    node "$bench/sqs-sink.mjs" "$sink_port" >"$base/sink.log" 2>&1 &
    sink_pid=$!
    sink="http://127.0.0.1:$sink_port"
    for ((waited = 0; waited < 50; waited++)); do
        [[ -s "$base/sink.log" ]] && break
        sleep 0.1
    done
    for delivery in queue direct; do
        dir="$base/$delivery"
        mkdir -p "$dir/worker" "$dir/same-io"
        _edge_say "benchmark, $delivery delivery: $requests beacons of 20 events, worker vs 204 and same-I/O baselines"
        _edge_worker_env "$dir/worker" "$delivery" "$sink/123456789012/crm-edge-bench" \
            "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
        printf 'CRM_SQS_ENDPOINT=%s\n' "$sink" >>"$dir/worker/worker.env"
        printf 'DELIVERY=%s\nSQS_ENDPOINT=%s\nSQS_QUEUE_URL=%s\n' "$delivery" "$sink" \
            "$sink/123456789012/crm-edge-bench-same-io" >"$dir/same-io/worker.env"
        _edge_config "$root" "$dir/worker" &&
            _edge_start_bench_worker "edge worker ($delivery, benchmark)" "$dir/worker" \
                "$dir/worker/wrangler.toml" "$dir/worker/worker.env" &&
            worker="worker=$EDGE_DEV_URL@$EDGE_DEV_PID" &&
            _edge_start_bench_worker "204 baseline" "$dir/plain-204" "$bench/trivial.wrangler.toml" &&
            baseline="plain-204=$EDGE_DEV_URL@$EDGE_DEV_PID" &&
            _edge_start_bench_worker "same-I/O baseline ($delivery)" "$dir/same-io" \
                "$bench/same-io.wrangler.toml" "$dir/same-io/worker.env" &&
            same_io="same-io=$EDGE_DEV_URL@$EDGE_DEV_PID" &&
            node "$bench/load.mjs" --requests "$requests" "$worker" "$baseline" "$same_io" \
                >"$dir/result.json" &&
            cat "$dir/result.json" ||
            { kill "$sink_pid" 2>/dev/null; _edge_fail "the $delivery benchmark failed"; return 1; }
        stop_edge_workers
    done
    kill "$sink_pid" 2>/dev/null
    wait "$sink_pid" 2>/dev/null
    return 0
}

_edge_main() {
    local root cache
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || return 1
    cache=${CRM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crm-tools}
    [[ -n "${CRM_TEST_AWS_ENDPOINT:-}" ]] ||
        { _edge_fail "CRM_TEST_AWS_ENDPOINT is not set: source tests/aws/moto.sh first"; return 1; }
    EDGE_DEV_PIDS=()
    # Chain in front of whatever EXIT trap the sourcing shell already has (as moto.sh does).
    local previous=
    if [[ -n "$(trap -p EXIT)" ]]; then
        eval "set -- $(trap -p EXIT)"
        previous=$3
    fi
    # shellcheck disable=SC2064 # expand the previous trap now, on purpose
    trap "stop_edge_workers${previous:+; $previous}" EXIT

    _edge_say "tools (pinned, cached in $cache)"
    _edge_tools "$root" "$cache" || return 1
    _edge_say "clippy for wasm32 (the runtime glue only compiles there)"
    cargo clippy --manifest-path "$root/Cargo.toml" -p edge-ingest --target wasm32-unknown-unknown --locked \
        -- -D warnings ||
        { _edge_fail "clippy found problems in the wasm32 build"; return 1; }
    _edge_say "build the worker (worker-build --release)"
    _edge_build "$root/functions/edge-ingest" || return 1
    _edge_run_mode "$root" queue || return 1
    _edge_run_mode "$root" direct || return 1
    _edge_queue_down "$root" || return 1
    _edge_say "edge worker: all end-to-end tests passed"
    if [[ "${EDGE_BENCH:-0}" == 1 ]]; then
        _edge_bench "$root" || return 1
    fi
}

_edge_main
