#!/usr/bin/env bash
# GitOps with stackctl, end to end on one machine: a bare repository stands in for your forge
# (GitHub, Gitea, GitLab), `stackctl run --git-url` follows it, a push is converged, and a
# signed push webhook makes it immediate. Everything lives in a temporary folder and is removed
# at the end (the stack too). Needs git, curl, openssl, a Docker engine and the local test image
# (`make engine`). Run from the project root:  bash examples/gitops/walkthrough.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
stackctl="${STACKCTL:-$here/../../.venv/bin/stackctl}"
work="$(mktemp -d)"
port="${PORT:-8431}"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    "$stackctl" delete gitops-hello --db "$work/state/stackctl.db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
git_() { git -c user.name="Ann Ops" -c user.email=ann@example.com "$@"; }

say "1. A repository with one stack under stacks/ (a bare repository plays the forge)"
git init --quiet --bare "$work/infra.git"
git clone --quiet "$work/infra.git" "$work/clone" 2>/dev/null
mkdir -p "$work/clone/stacks" "$work/manifests"
cp "$here/stacks/gitops-hello.yaml" "$work/clone/stacks/"
git_ -C "$work/clone" add -A
git_ -C "$work/clone" commit --quiet -m "Add gitops-hello"
git_ -C "$work/clone" push --quiet origin HEAD:main

say "2. stackctl follows it: one flag for the repository, one for its folder"
printf 'a-webhook-secret' >"$work/hook-secret"
"$stackctl" run --manifests "$work/manifests" --db "$work/state/stackctl.db" \
    --api "127.0.0.1:$port" --git-url "$work/infra.git" --git-path stacks \
    --git-interval 300 --git-webhook-secret-file "$work/hook-secret" >"$work/run.log" 2>&1 &
pid=$!
applied() { "$stackctl" get stacks --db "$work/state/stackctl.db" -o json 2>/dev/null \
    | grep -q "\"applied_version\": \"$1\""; }
for _ in $(seq 100); do applied v1 && break; sleep 0.2; done
applied v1 || { cat "$work/run.log"; exit 1; }
"$stackctl" get repositories --db "$work/state/stackctl.db"
curl -fsS "http://127.0.0.1:8089/" >/dev/null && echo "gitops-hello answers on 127.0.0.1:8089"

say "3. A push, and the forge's webhook (GitHub's form, signed with the shared secret)"
sed -i 's/GREETING: hello/GREETING: bonjour/' "$work/clone/stacks/gitops-hello.yaml"
git_ -C "$work/clone" commit --quiet -am "Say bonjour"
git_ -C "$work/clone" push --quiet origin HEAD:main
sha="$(git -C "$work/clone" rev-parse HEAD)"
body="{\"ref\":\"refs/heads/main\",\"after\":\"$sha\",\"repository\":{\"full_name\":\"ops/infra\",\"clone_url\":\"$work/infra.git\"}}"
signature="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac a-webhook-secret -r | cut -d' ' -f1)"
curl -fsS -X POST "http://127.0.0.1:$port/api/v1/hooks/git?repository=default" \
    -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: walkthrough-1" \
    -H "X-Hub-Signature-256: $signature" -H "Content-Type: application/json" -d "$body"
echo
for _ in $(seq 100); do applied v2 && break; sleep 0.1; done
applied v2 || { cat "$work/run.log"; exit 1; }

say "4. Every version names its commit"
"$stackctl" history gitops-hello --db "$work/state/stackctl.db"
echo "walkthrough done: the push of ${sha:0:10} is running"
