#!/usr/bin/env bash
# Rollback with stackctl: a bad change is rolled back to an earlier version in one command,
# the stack stays pinned there while the files move on, and `resume` returns to following
# them. The controller runs on a copy of manifests/ in a temporary folder; everything is
# removed at the end (the stack too). Needs curl, a Docker engine and the local test images
# (`make engine`). Run from anywhere:  bash examples/rollback/walkthrough.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
stackctl="${STACKCTL:-$here/../../.venv/bin/stackctl}"
work="$(mktemp -d)"
db="$work/stackctl.db"
manifest="$work/manifests/example-rollback.yaml"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    "$stackctl" delete example-rollback --db "$db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
# Wait until the stack runs version $1 (the controller converges in the background).
applied() {
    for _ in $(seq 150); do
        "$stackctl" get stacks --db "$db" -o json 2>/dev/null \
            | grep -q "\"applied_version\": \"$1\"" && return 0
        sleep 0.2
    done
    echo "example-rollback never ran $1"; cat "$work/run.log"; exit 1
}
page() { printf 'http://127.0.0.1:8475/  '; curl -fsS http://127.0.0.1:8475/; }

say "1. The controller follows a folder holding one stack: v1 runs image 1"
cp -r "$here/manifests" "$work/manifests"
"$stackctl" run --manifests "$work/manifests" --db "$db" --no-api --debounce 200 \
    >"$work/run.log" 2>&1 &
pid=$!
applied v1
page

say "2. A change ships image 2 (v2)"
sed -i 's/busybox:1/busybox:2/' "$manifest"
applied v2
page

say "3. Roll back to v1: recorded as v3 (same content as v1), applied, and the stack pinned"
"$stackctl" rollback example-rollback v1 --wait --db "$db"
applied v3
page
"$stackctl" get stacks --db "$db"

say "4. While pinned, a new edit of the file is recorded (v4) but not applied"
sed -i 's/LOG_LEVEL: info/LOG_LEVEL: debug/' "$manifest"
for _ in $(seq 100); do
    "$stackctl" history example-rollback --db "$db" | grep -q '^v4 ' && break
    sleep 0.2
done
"$stackctl" history example-rollback --db "$db"
page

say "5. Resume: the stack follows its files again and runs the newest version (v4, image 2)"
"$stackctl" resume example-rollback --wait --db "$db"
applied v4
page
"$stackctl" get stacks --db "$db"
echo "walkthrough done: rolled back, pinned, resumed"
