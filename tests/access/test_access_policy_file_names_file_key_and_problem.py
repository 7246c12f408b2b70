"""The access policy file is read with the same care as a manifest: each problem names the
file, the key and what is wrong; a good file gives the bindings it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.models.access import Binding, Role, StackSelector
from controller.models.errors import ManifestError
from controller.sources.loader.access_policy import load_access_policy


def _load(tmp_path: Path, text: str):
    path = tmp_path / "access.yaml"
    path.write_text(text)
    return load_access_policy(path)


def test_a_policy_gives_its_bindings(tmp_path: Path):
    policy = _load(
        tmp_path,
        "kind: AccessPolicy\nbindings:\n"
        "  - {groups: [ops], role: operator, stacks: {labels: {team: shop}}}\n"
        "  - {users: [carol], role: admin}\n"
        "  - {groups: [dev], role: viewer, stacks: {names: ['shop*']}}\n",
    )
    assert policy.bindings == (
        Binding(Role.OPERATOR, groups=("ops",), stacks=StackSelector(labels=(("team", "shop"),))),
        Binding(Role.ADMIN, users=("carol",)),
        Binding(Role.VIEWER, groups=("dev",), stacks=StackSelector(names=("shop*",))),
    )


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("kind: Stack\n", "kind", "must be AccessPolicy"),
        ("kind: AccessPolicy\nbinding: []\n", "binding", "unknown key"),
        ("kind: AccessPolicy\nbindings: {}\n", "bindings", "a list of bindings"),
        (
            "kind: AccessPolicy\nbindings: [{groups: [a], role: root}]\n",
            "bindings[0].role",
            "one of viewer, operator, admin",
        ),
        ("kind: AccessPolicy\nbindings: [{role: admin}]\n", "bindings[0]", "names nobody"),
        (
            "kind: AccessPolicy\nbindings: [{users: [a], role: admin, stacks: {}}]\n",
            "bindings[0].stacks",
            "leave `stacks` out for every stack",
        ),
        (
            "kind: AccessPolicy\nbindings: [{users: [a], role: admin, stacks: {labels: [x]}}]\n",
            "bindings[0].stacks.labels",
            "a mapping of key: value",
        ),
        (
            "kind: AccessPolicy\nbindings: [{users: [a], role: admin, group: [b]}]\n",
            "bindings[0].group",
            "unknown key",
        ),
    ],
)
def test_a_problem_names_the_file_the_key_and_what_is_wrong(tmp_path, text, key, problem):
    with pytest.raises(ManifestError) as raised:
        _load(tmp_path, text)
    assert raised.value.file.endswith("access.yaml")
    assert raised.value.path == key
    assert problem in raised.value.message


def test_a_policy_in_the_watched_folder_is_refused(tmp_path: Path):
    from controller.sources.loader import load_path

    (tmp_path / "access.yaml").write_text(
        "kind: AccessPolicy\nbindings: [{groups: [everyone], role: admin}]\n"
    )
    result = load_path(tmp_path)
    [error] = result.errors
    assert error.file == "access.yaml" and error.path == "kind"
    assert "read from the operator's own file only" in error.message
