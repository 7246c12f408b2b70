#!/usr/bin/env bash
# The four ways to declare a stack, side by side, applied together and removed at the end:
# a Stack manifest with inline compose, a Stack manifest naming a compose file, a compose
# project folder with its .env, and a plain compose file. Needs a Docker engine and the local
# test image (`make engine`). Run from anywhere:  bash examples/sources/walkthrough.sh
# (a temporary database; set KEEP=1 to leave the four stacks running and delete them yourself).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
stackctl="${STACKCTL:-$here/../../.venv/bin/stackctl}"
work="$(mktemp -d)"
db="$work/stackctl.db"
stacks="example-inline example-composefile example-project example-plain"
cleanup() {
    if [ -z "${KEEP:-}" ]; then
        for stack in $stacks; do "$stackctl" delete "$stack" --db "$db" >/dev/null 2>&1 || true; done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }

say "1. Four sources, one model: each is a stack with a name and a digest"
"$stackctl" validate "$here"

say "2. Apply the folder: a version each, converged now (no controller needed)"
"$stackctl" apply "$here" --db "$db"
"$stackctl" get stacks --db "$db"

say "3. Each answers on its own port"
for port in 8471 8472 8473 8474; do
    printf '127.0.0.1:%s  ' "$port"
    curl -fsS "http://127.0.0.1:$port/"
done

say "4. Applying the same files again records nothing: same digests, nothing to do"
"$stackctl" apply "$here" --db "$db"
"$stackctl" history example-project --db "$db"
echo "walkthrough done: four sources, four stacks"
