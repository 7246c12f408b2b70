"""One stack, one source: ``changes.detect(..., elsewhere=...)`` with the names other sources
(the watched directory, repositories) declare. Pure: files on disk, plain values, no database."""

from __future__ import annotations

from pathlib import Path

from controller.models import Stack, VersionHead
from controller.sources.changes import (
    Known,
    ManifestInvalid,
    NewVersion,
    Said,
    Settings,
    StackGone,
    detect,
)
from controller.sources.loader import load_root

COMPOSE = "services:\n  web:\n    image: img:1\n"


def _root(tmp_path: Path, *names: str) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    for name in names:
        (root / f"{name}.yaml").write_text(COMPOSE)
    return root


def _known(root: Path, *names: str, digest: str = "old") -> Known:
    return Known(
        heads={
            n: VersionHead(
                stack_id=n, version="v1", digest=digest, source=f"{n}.yaml", root=str(root)
            )
            for n in names
        },
        stacks={n: Stack(stack_id=n, name=n, current_version="v1") for n in names},
        newest={},
    )


def test_a_name_another_source_declares_is_invalid_here_and_never_recorded(
    tmp_path: Path,
) -> None:
    root = _root(tmp_path, "web", "db")
    detected = detect(
        load_root(root),
        _known(root),
        said=Said(),
        settings=Settings(root=root),
        elsewhere={"web": "repository infra"},
    )
    new = [c.desired.name for c in detected.changes if isinstance(c, NewVersion)]
    assert new == ["db"]
    (invalid,) = [c for c in detected.changes if isinstance(c, ManifestInvalid)]
    assert invalid.source == "web.yaml" and invalid.names == ("web",)
    assert "also declared by repository infra" in invalid.errors[0].message


def test_said_once_not_at_every_pass(tmp_path: Path) -> None:
    root = _root(tmp_path, "web")
    first = detect(
        load_root(root), _known(root), said=Said(), settings=Settings(root=root),
        elsewhere={"web": "repository infra"},
    )  # fmt: skip
    again = detect(
        load_root(root), _known(root), said=first.said, settings=Settings(root=root),
        elsewhere={"web": "repository infra"},
    )  # fmt: skip
    assert [c for c in again.changes if isinstance(c, ManifestInvalid)] == []


def test_a_stack_another_source_declares_now_is_handed_over_not_deleted(
    tmp_path: Path,
) -> None:
    """Its manifest moved from this root to a repository: the repository records it next."""
    root = _root(tmp_path, "db")
    known = _known(root, "web", "db")
    handed = detect(
        load_root(root), known, said=Said(), settings=Settings(root=root),
        elsewhere={"web": "repository infra"},
    )  # fmt: skip
    assert [c for c in handed.changes if isinstance(c, StackGone)] == []
    alone = detect(load_root(root), known, said=Said(), settings=Settings(root=root))
    assert [c.name for c in alone.changes if isinstance(c, StackGone)] == ["web"]
