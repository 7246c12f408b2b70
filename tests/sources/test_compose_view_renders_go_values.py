"""The Compose view renders values as Go does inside compose-go v2.9.1: ``fmt.Sprint`` of a
scalar, ``time.Duration.String()``, ``float32`` fields, go-shellwords' split of a command; and
keeps host paths relative to the stack's folder until ``with_host_paths`` resolves them as
Compose's ``filepath.Join`` and ``~`` expansion do."""

from __future__ import annotations

import pytest

from controller.sources.loader.compose_view import compose_view, explain, with_host_paths
from controller.sources.loader.compose_view.gotext import (
    NoView,
    duration,
    float32,
    shell_words,
    sprint,
)


def test_scalars_are_printed_as_fmt_sprint_prints_them() -> None:
    assert [sprint(v) for v in (3.5, 1e6, 123456.0, 0.0001, 1e-5, 3.0, True, 7)] == [
        "3.5", "1e+06", "123456", "0.0001", "1e-05", "3", "true", "7",
    ]  # fmt: skip


def test_durations_are_go_duration_strings() -> None:
    assert [duration(v) for v in ("90s", "500ms", "1h", "0", "1.5s", "2m", "10us")] == [
        "1m30s", "500ms", "1h0m0s", "0s", "1.5s", "2m0s", "10µs",
    ]  # fmt: skip


def test_float32_fields_keep_single_precision() -> None:
    assert (float32("0.1"), float32(1.5), float32("0.333333333")) == (0.1, 1.5, 0.33333334)


def test_commands_split_as_go_shellwords_does() -> None:
    assert shell_words("sh -c 'echo \"hi\" > /x'") == ["sh", "-c", 'echo "hi" > /x']
    assert shell_words('a "" b') == ["a", "", "b"]
    assert shell_words("echo <tag> & done") == ["echo"]  # stops at an unquoted operator
    assert shell_words("echo 2>x") == ["echo"]
    with pytest.raises(NoView):
        shell_words("echo 'open")


def test_a_command_split_differently_from_stackctl_has_no_view() -> None:
    reason = explain({"image": "x", "command": "echo a && b"}, environment={})
    assert (
        reason
        == "command: Compose splits it as ['echo', 'a'], stackctl as ['echo', 'a', '&&', 'b']"
    )


def test_relative_host_paths_stay_relative_to_the_stack_folder_until_resolved() -> None:
    mapping = {
        "image": "x",
        "volumes": ["./data:/data", "../up:/up", "~/cache:/cache", "/abs//p:/abs"],
        "develop": {"watch": [{"path": "src", "action": "sync", "target": "/app"}]},
    }
    view = compose_view(mapping, environment={}, base="sub")
    assert view is not None
    assert [v["source"] for v in view["volumes"]] == ["sub/data", "up", "~/cache", "/abs//p"]
    assert view["develop"]["watch"][0]["path"] == "sub/src"
    resolved = with_host_paths(view, folder="/srv/stack", home="/home/u")
    assert [v["source"] for v in resolved["volumes"]] == [
        "/srv/stack/sub/data", "/srv/stack/up", "/home/u/cache", "/abs//p",
    ]  # fmt: skip
    assert resolved["develop"]["watch"][0]["path"] == "/srv/stack/sub/src"
    no_home = with_host_paths(view, folder="/srv/stack", home=None)
    assert no_home["volumes"][2]["source"] == "/srv/stack/~/cache"  # as Compose without HOME


def test_bare_environment_names_follow_compose() -> None:
    mapping = {"image": "x", "environment": ["SET=1", "UNSET", "FROM_VARS"]}
    view = compose_view(
        mapping, environment={"SET": "1", "FROM_VARS": "v"}, variables={"FROM_VARS": "v"}
    )
    assert view is not None and view["environment"] == {"FROM_VARS": "v", "SET": "1", "UNSET": None}
    assert explain(mapping, environment={"SET": "1"}, variables={"FROM_VARS": "v"}) == (
        "environment: `FROM_VARS` has no value: Compose takes it from the variables, stackctl"
        " does not"
    )


def test_what_cannot_be_exact_has_no_view() -> None:
    assert compose_view({"image": "x", "pid": "service:db"}, environment={}) is None
    assert explain({"image": "x", "extends": "base"}, environment={}) == (
        "extends: is not reproduced"
    )
    sealed = {"TOKEN": "<sops:" + "0" * 64 + ":TOKEN>"}
    assert explain({"image": "x"}, environment=sealed) == (
        "environment: `TOKEN` is a SOPS-encrypted value"
    )
