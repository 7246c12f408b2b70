#!/usr/bin/env bash
# Install what the repository-source tests start as real servers: git (and `git daemon`,
# `git http-backend`) and OpenSSH's sshd. The tests start their own sshd on 127.0.0.1 with
# their own config, keys and port; this script never starts, enables or configures the
# host's ssh service (Debian's policy-rc.d, or the lack of systemd, keeps the package from
# starting it; we do not ask).
#
#   bash scripts/git-servers.sh            # install when missing (idempotent, quiet; root)
#   bash scripts/git-servers.sh --status   # exit 0 iff everything is installed
set -euo pipefail

missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
[ -x /usr/lib/git-core/git-http-backend ] || missing+=(git)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)

if [ "${1:-}" = "--status" ]; then
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "missing: ${missing[*]}" >&2
    exit 1
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "git-servers.sh: need root to install: ${missing[*]}" >&2
    exit 1
fi
# Unique names, in the order found.
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
