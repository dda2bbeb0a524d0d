# shellcheck shell=bash
# Installs a pinned Python tool into its own virtualenv in the per-user tools cache, once. Meant
# to be sourced by the test scripts that need such a tool (tests/aws/moto.sh, tests/infra.sh):
#
#   venv=$(pinned_venv "tests/infra.sh" "cfn-lint" "1.58.0" "cfn-lint==1.58.0" "cfn-lint") || return 1
#
# The virtualenv is ${CRM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crm-tools}/NAME-VERSION:
# keyed by version, and marked finished only after the install succeeded, so a half-finished
# install is redone. Prints the virtualenv's path on stdout; on failure prints why on stderr
# (prefixed with the caller's name) and returns non-zero.

_pinned_venv_fail() {
    printf '%s: %s\n' "$_pinned_venv_caller" "$*" >&2
    return 1
}

# pinned_venv CALLER NAME VERSION PIP_REQUIREMENT EXECUTABLE
pinned_venv() {
    local caller=$1 name=$2 version=$3 requirement=$4 executable=$5
    local cache=${CRM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crm-tools}
    local venv="$cache/$name-$version"
    _pinned_venv_caller=$caller
    if [[ -x "$venv/bin/$executable" && -f "$venv/.installed" ]]; then
        printf '%s\n' "$venv"
        return 0
    fi
    command -v python3 >/dev/null 2>&1 ||
        { _pinned_venv_fail "python3 is required for $name (install Python 3.9 or later)"; return 1; }
    mkdir -p "$cache" || { _pinned_venv_fail "cannot create the tools cache $cache"; return 1; }
    rm -rf "$venv"
    printf '%s: installing %s into %s (once)\n' "$caller" "$requirement" "$venv" >&2
    python3 -m venv "$venv" ||
        { _pinned_venv_fail "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"; return 1; }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2 ||
        { _pinned_venv_fail "pip could not install $requirement (network? see the pip output above)"; return 1; }
    [[ -x "$venv/bin/$executable" ]] ||
        { _pinned_venv_fail "the $name install has no $executable executable"; return 1; }
    touch "$venv/.installed"
    printf '%s\n' "$venv"
}
