#!/usr/bin/env bash
# Node.js and the test OpenID provider for the web console's sign-in tests: panva's
# oidc-provider, pinned by tests/helpers/oidc_provider/package-lock.json, installed with
# `npm ci` into build/oidc-provider/ (beside a copy of the lock, so a changed lock installs
# again; an installed one costs a hash). The tests start the provider themselves
# (tests/helpers/oidc.py: node build/oidc-provider/provider.mjs on 127.0.0.1) and stop it.
#
#   bash scripts/oidc-provider.sh            # node and npm from apt when missing (root), then
#                                            # the modules when missing or stale
#   bash scripts/oidc-provider.sh --modules  # the modules only (what the tests' fixture runs)
#   bash scripts/oidc-provider.sh --status   # exit 0 iff node, npm and current modules are there
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SOURCE="$ROOT/tests/helpers/oidc_provider"
TARGET="$ROOT/build/oidc-provider"
STAMP="$TARGET/.installed"
MIN_NODE=20

lock_hash() { sha256sum "$SOURCE/package-lock.json" | cut -d' ' -f1; }

node_problem() {
    command -v node >/dev/null 2>&1 || { echo "no node"; return; }
    command -v npm >/dev/null 2>&1 || { echo "no npm"; return; }
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    [ "$major" -ge "$MIN_NODE" ] || echo "node $(node --version) is older than v$MIN_NODE"
}

modules_current() {
    [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(lock_hash)" ] && [ -d "$TARGET/node_modules/oidc-provider" ]
}

install_modules() {
    mkdir -p "$TARGET"
    exec 9>"$TARGET/.lock"
    flock 9  # one install at a time (parallel test runs of this tree)
    modules_current && return 0
    cp "$SOURCE/package.json" "$SOURCE/package-lock.json" "$TARGET/"
    rm -f "$STAMP"
    if ! (cd "$TARGET" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null); then
        echo "oidc-provider.sh: npm ci failed in $TARGET (is the npm registry reachable?)" >&2
        exit 1
    fi
    lock_hash >"$STAMP"
}

case "${1:-}" in
--status)
    problem="$(node_problem)"
    [ -z "$problem" ] || { echo "missing: $problem" >&2; exit 1; }
    modules_current || { echo "missing: the provider's modules (build/oidc-provider)" >&2; exit 1; }
    exit 0
    ;;
--modules)
    problem="$(node_problem)"
    [ -z "$problem" ] || { echo "oidc-provider.sh: $problem; run bash scripts/oidc-provider.sh as root" >&2; exit 1; }
    install_modules
    exit 0
    ;;
"") ;;
*)
    echo "usage: $0 [--status|--modules]" >&2
    exit 2
    ;;
esac

if [ -n "$(node_problem)" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "oidc-provider.sh: $(node_problem); need root to apt-get install nodejs npm" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    missing=()
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    if [ ${#missing[@]} -ne 0 ]; then
        # An index that does not know the packages yet (a fresh image) is refreshed first.
        apt-cache show "${missing[@]}" >/dev/null 2>&1 || apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    problem="$(node_problem)"
    if [ -n "$problem" ]; then
        echo "oidc-provider.sh: $problem: oidc-provider 9 needs Node.js $MIN_NODE or later" \
            "(Debian 13's nodejs, or NodeSource's)" >&2
        exit 1
    fi
fi
install_modules
