#!/usr/bin/env bash
# Install Debian's chromium (and a font, so screenshots have readable text) for the browser
# tests of the web console. The tests drive it with Playwright's sync API through
# `executable_path` (tests/helpers/browser.py): `playwright install` cannot download its own
# browsers here, and the Python `playwright` package comes from pip (pyproject's dev extras).
# The tests start chromium headless themselves; this script only installs it.
#
#   bash scripts/browser.sh            # install when missing (idempotent, quiet; root);
#                                      # prints where chromium is
#   bash scripts/browser.sh --status   # exit 0 iff chromium and the fonts are installed
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)

if [ "${1:-}" = "--status" ]; then
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "missing: ${missing[*]}" >&2
    exit 1
fi

if [ ${#missing[@]} -ne 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "browser.sh: need root to install: ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # An index that does not know the packages yet (a fresh image) is refreshed first.
    if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
    fi
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        echo "browser.sh: apt-get install ${missing[*]} failed" >&2
        exit 1
    fi
fi
command -v chromium
