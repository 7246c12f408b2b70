#!/usr/bin/env bash
# Install Debian's docker-registry (the Distribution registry, v2 API) for the image-update and
# pull-policy tests. The tests start their own registry on 127.0.0.1:<free port> with their
# own config and storage folder (tests/helpers/registry.py) and stop it themselves; this
# script never starts, enables or configures the host's docker-registry service (Debian's
# policy-rc.d, or the lack of systemd, keeps the package from starting it; we do not ask).
#
# No engine configuration is needed: dockerd treats registries on 127.0.0.0/8 as insecure
# registries it may talk plain HTTP to, so `127.0.0.1:PORT/name:tag` pushes and pulls as is.
#
#   bash scripts/registry.sh            # install when missing (idempotent, quiet; root)
#   bash scripts/registry.sh --status   # exit 0 iff the registry binary is installed
set -euo pipefail

REGISTRY=/usr/bin/docker-registry

if [ "${1:-}" = "--status" ]; then
    [ -x "$REGISTRY" ] && exit 0
    echo "missing: docker-registry ($REGISTRY)" >&2
    exit 1
fi

[ -x "$REGISTRY" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "registry.sh: need root to install docker-registry" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# An index that does not know the package yet (a fresh image) is refreshed first.
if ! apt-cache show docker-registry >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
fi
own_policy=0
rc=0
# Keep the package's init script from starting a registry on :5000; respect a policy-rc.d
# that is already there.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
fi
apt-get install -y -qq --no-install-recommends docker-registry >/dev/null || rc=$?
if [ $own_policy -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
if [ $rc -ne 0 ]; then
    echo "registry.sh: apt-get install docker-registry failed (exit $rc)" >&2
    exit 1
fi
