#!/usr/bin/env bash
# Build the controller's image, stackctl:local (or $IMAGE), with no registry:
#   1. the base, stackctl-deploy/debian-python:bookworm, once: debootstrap a minimal Debian
#      with python3, python3-venv, git and ca-certificates, then `docker import` it
#      (root, debootstrap, and a Debian mirror: $MIRROR, default the one this host's apt uses);
#   2. the wheels of stackctl-compose and its dependencies, built on this host (pip);
#   3. Dockerfile: a venv in /opt/stackctl with those wheels, installed offline.
# Run from anywhere:  bash examples/deploy/build-image.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
project="$(cd "$here/../.." && pwd)"
image="${IMAGE:-stackctl:local}"
base="${BASE:-stackctl-deploy/debian-python:bookworm}"
# The Debian mirror this host's apt is set up with (deb822 or one-line sources), unless given.
host_mirror() {
    { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
      grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}'; } | grep -m1 '/debian/*$' || true
}
mirror="${MIRROR:-$(host_mirror)}"
python="${PYTHON:-$project/.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! docker image inspect "$base" >/dev/null 2>&1; then
    echo "== base image $base: debootstrap bookworm (a few minutes, once)"
    command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)"; exit 2; }
    [ -n "$mirror" ] || { echo "no Debian mirror found in this host's apt sources: set MIRROR"; exit 2; }
    debootstrap --variant=minbase --include=python3,python3-venv,git,ca-certificates \
        bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
        || { tail -20 "$work/debootstrap.log"; exit 1; }
    rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
    tar -C "$work/rootfs" -c . | docker import \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'CMD ["python3"]' - "$base" >/dev/null
    rm -rf "$work/rootfs"
fi

echo "== wheels of stackctl-compose and its dependencies"
mkdir -p "$work/context/wheels"
"$python" -m pip wheel --quiet --wheel-dir "$work/context/wheels" "$project" >"$work/pip.log" 2>&1 \
    || { tail -30 "$work/pip.log"; exit 1; }
ls "$work/context/wheels" | grep -q '^stackctl_compose-' || { echo "no stackctl wheel built"; exit 1; }
cp "$here/Dockerfile" "$work/context/"

echo "== image $image"
docker build --quiet --build-arg "BASE=$base" -t "$image" "$work/context" 2>&1 \
    | grep -v -e DEPRECATED -e "legacy builder" -e buildx -e "^ *$"
docker run --rm --entrypoint stackctl "$image" --version
