#!/usr/bin/env bash
# Builds the edge worker into functions/edge-ingest/build/ (wrangler.toml's `main` is
# build/index.js there). wrangler runs this as its build command; tests/edge.sh runs it directly.
#
# worker-build compiles the crate to wasm32 (cargo, release), runs wasm-bindgen and wasm-opt, and
# bundles the JavaScript shim with esbuild. By default it downloads wasm-bindgen, wasm-opt and
# esbuild itself; when WASM_BINDGEN_BIN, WASM_OPT_BIN and ESBUILD_BIN are set (tests/edge.sh sets
# them to pinned, locally installed copies) it uses those instead. WORKER_BUILD_BIN picks the
# worker-build executable (default: `worker-build` on PATH).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# tests/edge.sh builds once, then starts `wrangler dev` several times: it sets this so wrangler's
# build command does not redo the same build each time.
if [[ "${EDGE_INGEST_PREBUILT:-}" == 1 && -f build/index.js && -f build/index_bg.wasm ]]; then
    echo "edge-ingest: using the worker just built in functions/edge-ingest/build"
    exit 0
fi

# The workspace's release profile suits the Lambdas. The worker gets whole-program optimization
# (fat LTO, one codegen unit) at opt-level 3: measured side by side, about 10 % less CPU per beacon
# than opt-level "s" for 26 KB more gzip (docs/performance.md). Only this cargo call sees these.
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-3}"
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-fat}"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-1}"

exec "${WORKER_BUILD_BIN:-worker-build}" --release
