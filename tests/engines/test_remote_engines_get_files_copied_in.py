"""On a remote engine (``tcp://``, ``ssh://``) the controller's disk is not the engine's: every
secret and config file is copied into the container (``put_archive``) instead of bind-mounted
from ``files_dir``, and what cannot work there (a bind relative to the manifest, a read-only
container that would receive copied files) is refused by name before anything changes."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from helpers.stacks import desired_stack

from controller.backends.docker.container_spec import container_spec
from controller.backends.docker.problems import unsupported
from controller.backends.shared.decrypt import unseal


def stack(tmp_path: Path, **service: object):  # type: ignore[no-untyped-def]
    (tmp_path / "app.conf").write_text("level=debug\n")
    (tmp_path / "token.txt").write_text("s3cret-token\n")
    compose = {
        "services": {"web": {"image": "i:1", **service}},
        "configs": {"app": {"file": "./app.conf"}},
        "secrets": {"token": {"file": "./token.txt"}},
    }
    folder = tmp_path / "manifests-shop"
    folder.mkdir(exist_ok=True)
    for name in ("app.conf", "token.txt"):
        (folder / name).write_text((tmp_path / name).read_text())
    return desired_stack(tmp_path, "shop", compose)


def spec(desired, tmp_path: Path, *, copy_files: bool):  # type: ignore[no-untyped-def]
    return container_spec(
        desired=desired,
        service_name="web",
        number=1,
        name="shop-web-1",
        image="i:1",
        root=tmp_path,
        files_dir=tmp_path / "files",
        version="v1",
        copy_files=copy_files,
    )


def test_local_binds_the_files_remote_copies_them(tmp_path: Path) -> None:
    desired = stack(tmp_path, secrets=["token"], configs=[{"source": "app", "target": "/app.conf"}])
    local = spec(desired, tmp_path, copy_files=False)
    remote = spec(desired, tmp_path, copy_files=True)
    assert len(local.host["mounts"]) == 2
    assert remote.host["mounts"] is None
    unsealed = unseal(desired, "web", {}, copy_files=True)
    assert unsealed.archive is not None
    with tarfile.open(fileobj=io.BytesIO(unsealed.archive)) as tar:
        files = {m.name: (tar.extractfile(m).read(), m.mode) for m in tar.getmembers()}  # type: ignore[union-attr]
    assert files == {
        "run/secrets/token": (b"s3cret-token\n", 0o444),
        "app.conf": (b"level=debug\n", 0o444),
    }
    assert unseal(desired, "web", {}, copy_files=False).archive is None  # local: mounted


def test_what_cannot_work_on_a_remote_engine_is_refused_by_name(tmp_path: Path) -> None:
    desired = stack(
        tmp_path, secrets=["token"], read_only=True, volumes=["./data:/data", "/srv/x:/x"]
    )
    problems = unsupported(desired, remote=True)
    assert any(
        "services.web.volumes (/data)" in p and "relative to the manifest" in p for p in problems
    ), problems
    assert not any("(/x)" in p for p in problems)  # an absolute path is the engine host's
    assert any("services.web" in p and "read_only: true" in p for p in problems)
    assert unsupported(desired, remote=False) == []
