"""``ps`` and ``logs`` find the engine a stack targets and its services from plain rows
(``db/plain_reads.stack_target``), without ``Database`` and the models: the same answer as the
models give (``sources.versions.version_engine``, the version's compose services), for a stack
on ``local``, one whose manifest targets another engine, one without a desired version, and a
stack that does not exist."""

from __future__ import annotations

import yaml

from controller.db.plain_reads import stack_target
from controller.sources.loader import load_path
from controller.sources.versions import record_version, version_engine


def from_models(db, stack: str) -> tuple[str | None, list[str]]:
    found = db.stacks.get(stack)
    number = found and (found.current_version or found.applied_version)
    version = db.stack_versions.get(stack, number) if number else None
    if version is None:
        return None, []
    return version_engine(version), sorted(version.compose.services)


def test_the_same_target_and_services_as_the_models(db, seeded, db_path, tmp_path):
    folder = tmp_path / "edge"
    folder.mkdir()
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": "far"},
        "spec": {
            "target": {"engine": "edge"},
            "compose": {"services": {"b": {"image": "x:1"}, "a": {"image": "x:1"}}},
        },
    }
    (folder / "far.yaml").write_text(yaml.safe_dump(manifest))
    result = load_path(folder)
    assert not result.errors, [e.render() for e in result.errors]
    record_version(db, result.stacks["far"], root=folder)
    db.stacks.update("blog", current_version=None)  # neither a desired nor an applied version
    for stack in ("shop", "far", "blog", "ghost"):
        engine, services = stack_target(db_path, stack)
        assert (engine, sorted(services)) == from_models(db, stack), stack
    assert stack_target(db_path, "far")[0] == "edge"
