#!/usr/bin/env bash
# Handing a running docker compose project to stackctl: Compose starts it, stackctl refuses to
# touch what it did not make (naming it), then takes it over on request, container by
# container, keeping the network and the volume; at the end everything is removed. Needs a
# Docker engine, Debian's `docker-compose` and the local test image (`make engine`).
# Run from anywhere:  bash examples/adoption/walkthrough.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
stackctl="${STACKCTL:-$here/../../.venv/bin/stackctl}"
project="$here/example-adopt"
work="$(mktemp -d)"
db="$work/stackctl.db"
cleanup() {
    "$stackctl" delete example-adopt --volumes --db "$db" >/dev/null 2>&1 || true
    docker-compose -p example-adopt -f "$project/docker-compose.yml" down -v >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }

say "1. docker-compose starts the project (its container, network and volume)"
docker-compose -p example-adopt -f "$project/docker-compose.yml" up -d 2>&1 | tail -3
curl -fsS "http://127.0.0.1:8476/" >/dev/null && echo "example-adopt answers on 127.0.0.1:8476"

say "2. stackctl will not touch objects it did not make: it names them and changes nothing"
if "$stackctl" apply "$project" --db "$db"; then
    echo "unexpected: the apply went ahead without --adopt"; exit 1
fi

say "3. The plan with --adopt: one explained step per container, network and volume kept"
"$stackctl" diff "$project" --adopt --db "$db" || true

say "4. Take it over"
"$stackctl" apply "$project" --adopt --db "$db"
"$stackctl" ps example-adopt
curl -fsS "http://127.0.0.1:8476/" >/dev/null && echo "still answering, now as stackctl's"

say "5. From now on it is stackctl's: a second apply has nothing to do"
"$stackctl" apply "$project" --db "$db"
echo "walkthrough done: example-adopt adopted"
