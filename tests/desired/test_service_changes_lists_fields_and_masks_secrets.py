"""``service_changes(old, new)``: one line per differing leaf of the canonical service, secret
values masked, file contents never shown (issue 12, item 5). A table: each row two services
(raw fields, validated as the canonical model) and the expected ``describe()`` lines."""

from __future__ import annotations

from typing import Any

import pytest

from controller.desired import Service
from controller.desired.differences import MASK, looks_secret, service_changes

IMAGE = {"image": "stackctl-test/busybox:1"}
SHA_A, SHA_B = "a" * 64, "b" * 64


def svc(**fields: Any) -> Service:
    return Service.model_validate({**IMAGE, **fields})


ROWS = [
    ("equal", svc(), svc(), []),
    (
        "environment value changed",
        svc(environment={"LOG_LEVEL": "info"}),
        svc(environment={"LOG_LEVEL": "debug"}),
        ['~ environment.LOG_LEVEL: "info" -> "debug"'],
    ),
    (
        "environment added and removed",
        svc(environment={"A": "1"}),
        svc(environment={"B": "2"}),
        ['- environment.A: "1"', '+ environment.B: "2"'],
    ),
    (
        "secret-looking variables are masked",
        svc(environment={"DB_PASSWORD": "hunter2", "API_TOKEN": "t1", "api_key": "k"}),
        svc(environment={"DB_PASSWORD": "hunter3", "API_TOKEN": "t2"}),
        [
            f"~ environment.API_TOKEN: {MASK} -> {MASK}",
            f"~ environment.DB_PASSWORD: {MASK} -> {MASK}",
            f"- environment.api_key: {MASK}",
        ],
    ),
    (
        "build args masked alike",
        svc(build={"context": "web", "args": {"NPM_TOKEN": "x", "V": "1"}}),
        svc(build={"context": "web", "args": {"NPM_TOKEN": "y", "V": "2"}}),
        [f"~ build.args.NPM_TOKEN: {MASK} -> {MASK}", '~ build.args.V: "1" -> "2"'],
    ),
    (
        "image",
        svc(),
        svc(image="stackctl-test/busybox:2"),
        ['~ image: "stackctl-test/busybox:1" -> "stackctl-test/busybox:2"'],
    ),
    (
        "list item field",
        svc(ports=[{"target": 80, "published": "8080"}]),
        svc(ports=[{"target": 80, "published": "8081"}]),
        ['~ ports[0].published: "8080" -> "8081"'],
    ),
    (
        "a list that grew is shown whole",
        svc(command=["sh"]),
        svc(command=["sh", "-c", "true"]),
        ['~ command: ["sh"] -> ["sh","-c","true"]'],
    ),
    (
        "secret file contents appear as <content>, never as the hash",
        svc(secrets=[{"source": "token", "target": "/run/secrets/token", "sha256": SHA_A}]),
        svc(secrets=[{"source": "token", "target": "/run/secrets/token", "sha256": SHA_B}]),
        ["~ secrets[0].sha256: <content> -> <content>"],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_service_changes(old: Service, new: Service, expected: list[str]) -> None:
    assert [c.describe() for c in service_changes(old, new)] == expected


def test_a_new_service_lists_its_fields_masked() -> None:
    lines = [c.describe() for c in service_changes(None, svc(environment={"PGPASSWORD": "p"}))]
    assert f"+ environment.PGPASSWORD: {MASK}" in lines
    assert '+ image: "stackctl-test/busybox:1"' in lines
    assert not any('p"' in line and "PGPASSWORD" in line for line in lines)


def test_no_secret_value_or_hash_is_ever_printed() -> None:
    old = svc(
        environment={"SECRET_X": "s3cr3t-old"},
        secrets=[{"source": "t", "target": "/run/secrets/t", "sha256": SHA_A}],
    )
    new = svc(
        environment={"SECRET_X": "s3cr3t-new"},
        secrets=[
            {"source": "t", "target": "/run/secrets/t", "sha256": SHA_B},
            {"source": "u", "target": "/run/secrets/u", "sha256": SHA_A},
        ],
    )
    text = "\n".join(c.describe() for c in service_changes(old, new))
    for hidden in ("s3cr3t", SHA_A, SHA_B):
        assert hidden not in text


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("PASSWORD", True),
        ("db_passwd", True),
        ("GITHUB_TOKEN", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("SSH_PRIVATE", True),
        ("LOG_LEVEL", False),
        ("PORT", False),
        ("TZ", False),
    ],
)
def test_looks_secret(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret
