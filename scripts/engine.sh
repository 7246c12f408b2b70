#!/usr/bin/env bash
# Install and start a local Docker engine for the engine tests, then build the test images.
#
#   bash scripts/engine.sh            # engine + images (idempotent; `make engine` runs this)
#   bash scripts/engine.sh --status   # exit 0 iff the engine answers and both images are current
#
# Idempotent: when `docker info` already answers, the engine is left alone (only the egress
# guard below is re-checked); the images are built only when missing or made by an older
# recipe.  Needs root when it has to install or start something.  Never talks to an image
# registry: the images are made with `docker import` from a root filesystem holding Debian's
# static busybox.  Also installs Debian's docker-compose for the interoperability tests.
#
# What this sandbox needs (found empirically on Debian 12 in a Firecracker VM, kernel 6.x,
# cgroup v1, root with every capability but CAP_SYS_RESOURCE, no systemd, docker.io 20.10.24):
#   * Debian's policy-rc.d (exit 101) keeps the package from starting a dockerd of its own.
#     We start dockerd ourselves: no systemd here, and we want our flags and log file.
#   * storage: overlay2 works as is (/var/lib/docker on ext4, overlay in the kernel).  No vfs
#     or fuse-overlayfs needed.  If it ever fails, we retry once with --storage-driver=vfs.
#   * iptables (nf_tables backend, pulled in by docker.io) works, so the default
#     --iptables=true stays; the userland proxy (docker-proxy, default on) is what makes
#     `-p 127.0.0.1:PORT:80` answer from the host's loopback.  Keep both.
#   * cgroup v1 + cgroupfs driver: --memory, --cpus, --pids-limit, --cpuset-cpus work and are
#     enforced; blkio weight is not supported by the kernel (warning only).
#   * --privileged and --cap-add ALL / SYS_RESOURCE fail ("unable to apply caps: operation
#     not permitted"): the sandbox's bounding set lacks CAP_SYS_RESOURCE.  Don't use them.
#   * dockerd would route containers to the outside world (ip_forward=1 + MASQUERADE).
#     Tests must only talk to 127.0.0.1 and their own containers, so a STACKCTL-EGRESS chain
#     hooked into DOCKER-USER rejects anything forwarded out of a Docker bridge to a
#     non-Docker interface.  Container<->container and host<->container traffic is unaffected.
#   * --dns-opt timeout:2 / attempts:1: with egress rejected, looking up a name that is not a
#     container on a user-defined network would hang 10 s (2 x 5 s, the resolver's default);
#     this makes it fail after ~2 s.  Container names still resolve instantly (embedded DNS).
#   * dockerd is started with setsid and no inherited descriptors besides its log, so that
#     `bash scripts/engine.sh | tee ...` (or CI's log pipe) sees EOF when this script ends.
#   * A dockerd killed with SIGKILL can linger as a zombie (pid 1 here reaps late) with its
#     /var/run/docker.pid left behind, and dockerd then refuses to start ("pid file found"):
#     pid files of dead or zombie processes are removed before starting.
#   * Debian's busybox-static 1.35 segfaults on `wget -T N`: use `timeout N wget ...`.
#   * sh/sleep/httpd as PID 1 ignore SIGTERM, so `docker stop` waits the whole grace period;
#     give test containers init=True (--init works) or a short stop timeout.
set -euo pipefail

cd "$(dirname "$0")/.."

DOCKERD_LOG=${STACKCTL_DOCKERD_LOG:-/var/log/stackctl-dockerd.log}
DOCKERD_PIDFILE=/var/run/stackctl-dockerd.pid
START_TIMEOUT=${STACKCTL_DOCKERD_TIMEOUT:-60}

DOCKERD_FLAGS=(
    --host=unix:///var/run/docker.sock
    --dns-opt=timeout:2
    --dns-opt=attempts:1
    # Every stack has its own bridge network (Compose's NAME_default); the engine's default
    # pools run out at about 30 networks. 256 /24 networks from one private /16 instead.
    --default-address-pool base=10.213.0.0/16,size=24
)
# Extra flags for experiments, e.g. STACKCTL_DOCKERD_FLAGS="--debug".
read -r -a EXTRA_FLAGS <<<"${STACKCTL_DOCKERD_FLAGS:-}"
DOCKERD_FLAGS+=("${EXTRA_FLAGS[@]}")

IMAGE_REPO=stackctl-test/busybox
# Bump when the recipe below changes: images carrying another recipe label are rebuilt.
IMAGE_RECIPE=1

log() { echo "engine.sh: $*"; }
die() {
    echo "engine.sh: ERROR: $*" >&2
    exit 1
}

engine_up() { docker info >/dev/null 2>&1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# --------------------------------------------------------------------------------------
# 1. packages
# --------------------------------------------------------------------------------------
# docker.io brings dockerd, the docker CLI, containerd, runc, docker-init (tini),
# docker-proxy and iptables.  busybox-static is the whole content of the test images.
# A newer CLI may already sit in /usr/local/bin without a daemon: that is fine, the CLI
# negotiates the API version down to the daemon's.
have_dockerd() { command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1; }
have_busybox() {
    [ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" = "install ok installed" ] &&
        [ -x /bin/busybox ]
}

apt_install() {
    [ $# -gt 0 ] || return 0
    is_root || die "need root to install $* (or install them yourself)"
    log "installing $*"
    local own_policy=0 rc=0
    # Keep the package's init script from starting a dockerd with default flags; respect a
    # policy-rc.d that is already there (Debian's container images ship one).
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        own_policy=1
    fi
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
                >/dev/null
    } || rc=$?
    if [ $own_policy -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    [ $rc -eq 0 ] || die "apt-get install $* failed (exit $rc)"
}

# --------------------------------------------------------------------------------------
# 2. dockerd
# --------------------------------------------------------------------------------------
dockerd_log_tail() {
    echo "---- last lines of $DOCKERD_LOG ----" >&2
    tail -c +$((LAUNCH_LOG_OFFSET + 1)) "$DOCKERD_LOG" | grep -vE 'module=grpc|loading plugin' | tail -n 30 >&2 || true
}

# Is the pid in pidfile $1 a live (not zombie) process whose name is $2?
pid_running() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
    [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

# A dockerd/containerd killed with SIGKILL (as when a session's processes are ended) can
# stay a zombie for a while here (pid 1 reaps late) and leave its pid file behind; dockerd
# takes a zombie for a running daemon ("pid file found, ensure docker is not running").
clear_stale_pidfiles() {
    pid_running /var/run/docker.pid dockerd || rm -f /var/run/docker.pid
    pid_running /var/run/docker/containerd/containerd.pid containerd ||
        rm -f /var/run/docker/containerd/containerd.pid
}

# Start dockerd with the given extra flags; return 0 once `docker info` answers, 1 if it
# died, 2 on time-out.  Sets LAUNCH_LOG_OFFSET: where this attempt's lines start in the log.
LAUNCH_LOG_OFFSET=0
launch_dockerd() {
    local pid
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    touch "$DOCKERD_LOG"
    LAUNCH_LOG_OFFSET=$(stat -c %s "$DOCKERD_LOG")
    if pid_running /var/run/docker.pid dockerd; then
        pid=$(cat /var/run/docker.pid)
        log "dockerd (pid $pid) is running but not answering yet; waiting for it"
    else
        clear_stale_pidfiles
        log "starting dockerd ${DOCKERD_FLAGS[*]} $* (log: $DOCKERD_LOG)"
        echo "==== $(date -u +%FT%TZ) engine.sh starts dockerd ${DOCKERD_FLAGS[*]} $*" >>"$DOCKERD_LOG"
        # setsid + only the log inherited: dockerd must not hold the caller's stdout.
        setsid nohup dockerd "${DOCKERD_FLAGS[@]}" "$@" </dev/null >>"$DOCKERD_LOG" 2>&1 &
        pid=$!
        echo "$pid" >"$DOCKERD_PIDFILE"
    fi
    local deadline=$((SECONDS + START_TIMEOUT))
    until engine_up; do
        kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] ||
            return 1
        [ $SECONDS -lt $deadline ] || return 2
        sleep 0.2
    done
}

start_dockerd() {
    is_root || die "the Docker engine is not running, and starting it needs root"
    local rc=0
    launch_dockerd || rc=$?
    if [ $rc -eq 1 ] && tail -c +$((LAUNCH_LOG_OFFSET + 1)) "$DOCKERD_LOG" |
        grep -qiE 'failed to start daemon.*(overlay|graphdriver|storage.driver)'; then
        dockerd_log_tail
        log "dockerd died on its storage driver; retrying with --storage-driver=vfs"
        rc=0
        launch_dockerd --storage-driver=vfs || rc=$?
    fi
    case $rc in
    0) ;;
    1)
        dockerd_log_tail
        die "dockerd exited before answering (see $DOCKERD_LOG)"
        ;;
    *)
        dockerd_log_tail
        die "dockerd did not answer \`docker info\` within ${START_TIMEOUT}s (see $DOCKERD_LOG)"
        ;;
    esac
    log "dockerd is up: $(docker info --format \
        'server {{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}} ({{.CgroupDriver}})')"
}

# Reject traffic that containers would send out of the machine (see the header).
ensure_egress_guard() {
    is_root || return 0
    command -v iptables >/dev/null 2>&1 || return 0
    iptables -n -L DOCKER-USER >/dev/null 2>&1 || return 0 # not our engine, or --iptables=false
    if ! iptables -n -L STACKCTL-EGRESS >/dev/null 2>&1; then
        iptables -N STACKCTL-EGRESS
        iptables -A STACKCTL-EGRESS -o docker0 -j RETURN
        iptables -A STACKCTL-EGRESS -o br-+ -j RETURN
        iptables -A STACKCTL-EGRESS -j REJECT
    fi
    iptables -C DOCKER-USER -j STACKCTL-EGRESS 2>/dev/null || iptables -I DOCKER-USER -j STACKCTL-EGRESS
}

# --------------------------------------------------------------------------------------
# 3. test images
# --------------------------------------------------------------------------------------
# stackctl-test/busybox:1 and :2 differ by /etc/stackctl-image ("1"/"2") and /www/index.html.
# Both: every busybox applet as a symlink (sh, httpd, wget, nc, sleep, ...), root + nobody in
# /etc/passwd and /etc/group, /tmp (1777), /www/index.html, PATH set, CMD ["sh"].
image_current() {
    local got
    got=$(docker image inspect --format '{{index .Config.Labels "org.stackctl.test-image.recipe"}}' \
        "$1" 2>/dev/null) || return 1
    [ "$got" = "$IMAGE_RECIPE" ]
}

build_image() {
    local version=$1 root applet
    root=$(mktemp -d /tmp/stackctl-rootfs.XXXXXX)
    chmod 755 "$root"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,www,root,var/run,proc,sys,dev}
    chmod 1777 "$root/tmp"
    chmod 700 "$root/root"
    cp /bin/busybox "$root/bin/busybox"
    # Every applet where busybox itself would put it (bin/sh, usr/bin/wget, usr/sbin/httpd...).
    for applet in $(/bin/busybox --list-full); do
        [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$root/$applet"
    done
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
    echo "$version" >"$root/etc/stackctl-image"
    printf '<html><body>stackctl test image %s</body></html>\n' "$version" >"$root/www/index.html"
    tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
        docker import \
            --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["sh"]' \
            --change "LABEL org.stackctl.test-image.recipe=$IMAGE_RECIPE" \
            --change "LABEL org.stackctl.test-image.version=$version" \
            --message "stackctl test image $version (Debian static busybox)" \
            - "$IMAGE_REPO:$version" >/dev/null
    rm -rf "$root"
    log "built $IMAGE_REPO:$version"
}

build_images() {
    local v
    for v in 1 2; do
        image_current "$IMAGE_REPO:$v" || build_image "$v"
    done
}

# --------------------------------------------------------------------------------------
if [ "${1:-}" = "--status" ]; then
    engine_up && image_current "$IMAGE_REPO:1" && image_current "$IMAGE_REPO:2"
    exit
fi

want=()
if ! engine_up; then
    have_dockerd || want+=(docker.io)
fi
have_busybox || want+=(busybox-static)
# Debian's docker-compose (1.29.2): the interoperability tests run it on stackctl's stacks.
command -v docker-compose >/dev/null 2>&1 || want+=(docker-compose)
apt_install "${want[@]}"

if engine_up; then
    log "engine already answers; leaving it alone"
else
    start_dockerd
fi
ensure_egress_guard
build_images
log "ready: $(docker image ls --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO" | sort | tr '\n' ' ')"
