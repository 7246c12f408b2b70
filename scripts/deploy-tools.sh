#!/usr/bin/env bash
# Install what the examples/deploy tests use: debootstrap (to make the controller image's base
# locally, with no registry) and systemd's systemd-analyze (to verify the unit). Installs only;
# starts nothing.
#
#   bash scripts/deploy-tools.sh            # install when missing (idempotent, quiet; root)
#   bash scripts/deploy-tools.sh --status   # exit 0 iff everything is installed
set -euo pipefail

missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)

if [ "${1:-}" = "--status" ]; then
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "missing: ${missing[*]}" >&2
    exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "deploy-tools.sh: need root to install: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
