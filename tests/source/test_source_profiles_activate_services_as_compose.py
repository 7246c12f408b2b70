"""Profiles as Compose has them (issue 12, item 3): a service without ``profiles`` is always
enabled; one with profiles is enabled when one of them is active (``*``: every profile). The
active profiles are a Stack manifest's ``spec.profiles``, else ``COMPOSE_PROFILES`` from the
variables (a folder's ``.env``). Only enabled services are in the model, so the digest follows
the enabled set; the others are listed in ``disabled_services``, outside the digest. A required
``depends_on`` on a disabled service is an error, as in ``docker compose up``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from controller.sources.loader import load_root

COMPOSE = """\
services:
  web: {image: nginx}
  debug: {image: busybox, profiles: [debug]}
  tools: {image: busybox, profiles: [ops, debug]}
  metrics: {image: busybox, profiles: [ops]}
"""


def manifest(profiles: list[str] | None, env: dict[str, str] | None = None) -> str:
    spec = {"composeFile": "app/compose.yaml"}
    if profiles is not None:
        spec["profiles"] = profiles  # type: ignore[assignment]
    if env:
        spec["env"] = env  # type: ignore[assignment]
    return yaml.safe_dump(
        {"apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": "app"}, "spec": spec}
    )


def load_manifest(tmp_path: Path, profiles: list[str] | None, env: dict[str, str] | None = None):
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "app.yaml").write_text(manifest(profiles, env))
    result = load_root(tmp_path)
    assert result.errors == [], result.errors
    return result.stacks["app"]


ROWS = [
    # (active profiles in spec.profiles, enabled services, disabled services)
    (None, ["web"], ["debug", "metrics", "tools"]),
    ([], ["web"], ["debug", "metrics", "tools"]),
    (["debug"], ["debug", "tools", "web"], ["metrics"]),
    (["ops"], ["metrics", "tools", "web"], ["debug"]),
    (["ops", "debug"], ["debug", "metrics", "tools", "web"], []),
    (["*"], ["debug", "metrics", "tools", "web"], []),
    (["nothing"], ["web"], ["debug", "metrics", "tools"]),
]


@pytest.mark.parametrize(("profiles", "enabled", "disabled"), ROWS)
def test_spec_profiles_enable_services(
    tmp_path: Path, profiles: list[str] | None, enabled: list[str], disabled: list[str]
) -> None:
    stack = load_manifest(tmp_path, profiles)
    assert sorted(stack.compose.services) == enabled
    assert sorted(stack.disabled_services) == disabled


def test_the_digest_follows_the_enabled_set_only(tmp_path: Path) -> None:
    digests = {
        tuple(p or []): load_manifest(tmp_path, p).digest
        for p in (None, ["nothing"], ["debug"], ["ops"], ["ops", "debug"], ["*"])
    }
    assert digests[()] == digests[("nothing",)]  # same enabled set, same digest
    assert digests[("ops", "debug")] == digests[("*",)]
    assert len({digests[()], digests[("debug",)], digests[("ops",)], digests[("*",)]}) == 4


def test_disabled_services_keep_their_profiles_and_stay_out_of_the_digest(
    tmp_path: Path,
) -> None:
    stack = load_manifest(tmp_path, ["ops"])
    assert stack.disabled_services == {"debug": ["debug"]}
    assert "disabled_services" not in stack.canonical_json()


def test_compose_profiles_in_a_folder_env_activates_them(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "app" / ".env").write_text("COMPOSE_PROFILES=debug, ops\n")
    stack = load_root(tmp_path).stacks["app"]
    assert sorted(stack.compose.services) == ["debug", "metrics", "tools", "web"]


def test_spec_profiles_win_over_compose_profiles(tmp_path: Path) -> None:
    stack = load_manifest(tmp_path, ["ops"], env={"COMPOSE_PROFILES": "debug"})
    assert sorted(stack.compose.services) == ["metrics", "tools", "web"]
    stack = load_manifest(tmp_path, None, env={"COMPOSE_PROFILES": "debug"})
    assert sorted(stack.compose.services) == ["debug", "tools", "web"]


def test_a_required_dependency_on_a_disabled_service_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "compose.yaml").write_text(
        textwrap.dedent(
            """\
            services:
              web: {image: nginx, depends_on: [db]}
              db: {image: postgres, profiles: [db]}
            """
        )
    )
    result = load_root(tmp_path)
    assert "app" not in result.stacks
    [error] = result.errors
    assert error.path == "services.web.depends_on.db"
    assert "disabled" in error.message and "profiles: db; active: none" in error.message
    (tmp_path / "app" / ".env").write_text("COMPOSE_PROFILES=db\n")
    assert sorted(load_root(tmp_path).stacks["app"].compose.services) == ["db", "web"]


def test_an_enabled_profiled_service_is_checked_like_any_other(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "compose.yaml").write_text(
        "services:\n  web: {image: nginx}\n  debug: {image: busybox, profiles: [debug],"
        " ports: [nope]}\n"
    )
    assert "app" in load_root(tmp_path).stacks  # disabled: its ports are not read
    (tmp_path / "app" / ".env").write_text("COMPOSE_PROFILES=debug\n")
    result = load_root(tmp_path)
    assert "app" not in result.stacks
    assert [e.path for e in result.errors] == ["services.debug.ports[0]"]
