# shellcheck shell=bash
# The tracker and the demo site in a real browser. Meant to be sourced by tests/run.sh:
# installs Debian's Chromium (when missing) and the pinned npm packages of tests/browser (cached
# per user by lockfile hash), then runs the node tests: the tracker's build and size budget, its
# behaviour in Chromium, and the end-to-end test against a real crm-local.

_browser_fail() {
    printf 'tests/browser.sh: %s\n' "$*" >&2
    return 1
}

_browser_chromium() {
    [[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]] && return 0
    command -v apt-get >/dev/null 2>&1 ||
        { _browser_fail "Chromium is missing and there is no apt-get: install chromium, or set CHROMIUM_PATH"; return 1; }
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    printf 'tests/browser.sh: installing Debian chromium (once)\n' >&2
    $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null ||
        { _browser_fail "apt-get install chromium failed"; return 1; }
    [[ -x /usr/bin/chromium ]] || { _browser_fail "chromium installed but /usr/bin/chromium is missing"; return 1; }
}

# node_modules from the lockfile into $cache/browser-node-modules-<hash>, linked into tests/browser.
_browser_node_modules() {
    local cache=${CRM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crm-tools}
    local folder="$root/tests/browser"
    local hash
    hash=$(sha256sum "$folder/package-lock.json" | cut -c1-16)
    local target="$cache/browser-node-modules-$hash"
    if [[ ! -f "$target/.installed" ]]; then
        command -v npm >/dev/null 2>&1 || { _browser_fail "npm is required (install Node.js 20+)"; return 1; }
        rm -rf "$target" && mkdir -p "$target"
        cp "$folder/package.json" "$folder/package-lock.json" "$target/"
        (cd "$target" && npm ci --no-audit --no-fund --loglevel=error) ||
            { _browser_fail "npm ci failed in $target"; return 1; }
        touch "$target/.installed"
    fi
    rm -rf "$folder/node_modules"
    ln -s "$target/node_modules" "$folder/node_modules"
}

_browser_run() {
    _browser_chromium || return 1
    _browser_node_modules || return 1
    cargo build -p crm-local --locked || { _browser_fail "building crm-local failed"; return 1; }
    export CRM_LOCAL_BIN="$root/target/debug/crm-local"
    # A hung browser or server must fail the run, not stall it: every test has a deadline, the
    # runner exits once the tests are done even if a handle is left open, and the whole step has
    # a ceiling of its own.
    (cd "$root/tests/browser" &&
        timeout --kill-after=15s 900s node --test --test-timeout=180000 --test-force-exit) ||
        { _browser_fail "browser tests failed (or ran past their 900 s ceiling)"; return 1; }
}

step "browser: tracker and demo site in Chromium"
_browser_run
