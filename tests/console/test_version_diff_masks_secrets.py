"""``document_changes`` (two stored compose documents) masks what must not be printed, and the
console's ``/stacks/{name}/diff`` page shows it: the desired version against the one before
by default, any two with ``?from=&to=``; a secret value never reaches the page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from controller.desired.differences import CONTENT, MASK, document_changes

SHA_A, SHA_B = "a" * 64, "b" * 64


def doc(env: dict[str, str] | None = None, image: str = "app:1", **extra: Any) -> dict[str, Any]:
    web = {"image": image, "environment": env or {}}
    return {"services": {"web": web}, "x-stackctl": {"prune": True}, **extra}


ROWS = [
    ("equal", doc(), doc(), []),
    (
        "secret-looking variable masked",
        doc({"DB_PASSWORD": "hunter2"}),
        doc({"DB_PASSWORD": "swordfish"}),
        [("services.web.environment.DB_PASSWORD", MASK, MASK)],
    ),
    (
        "ordinary variable shown",
        doc({"LOG_LEVEL": "info"}),
        doc({"LOG_LEVEL": "debug"}),
        [("services.web.environment.LOG_LEVEL", '"info"', '"debug"')],
    ),
    (
        "image change shown",
        doc(image="app:1"),
        doc(image="app:2"),
        [("services.web.image", '"app:1"', '"app:2"')],
    ),
    (
        "an added service, its secret masked",
        doc(),
        {
            **doc(),
            "services": {
                "web": doc()["services"]["web"],
                "db": {"image": "pg:16", "environment": {"POSTGRES_PASSWORD": "pw1"}},
            },
        },
        [
            ("services.db.environment.POSTGRES_PASSWORD", None, MASK),
            ("services.db.image", None, '"pg:16"'),
        ],
    ),
    (
        "a removed key",
        doc({"LOG_LEVEL": "info", "API_TOKEN": "tok"}),
        doc(),
        [
            ("services.web.environment.API_TOKEN", MASK, None),
            ("services.web.environment.LOG_LEVEL", '"info"', None),
        ],
    ),
    (
        "notify destinations masked",
        {**doc(), "x-stackctl": {"prune": True, "notify": [{"url": "ntfy://tok1@h/t"}]}},
        {**doc(), "x-stackctl": {"prune": True, "notify": [{"url": "ntfy://tok2@h/t"}]}},
        [("x-stackctl.notify[0].url", MASK, MASK)],
    ),
    (
        "notify destination added",
        doc(),
        {**doc(), "x-stackctl": {"prune": True, "notify": [{"url": "json://tok3@h/t"}]}},
        [("x-stackctl.notify", None, MASK)],
    ),
    (
        "content hashes shown as <content>",
        doc(secrets={"s": {"sha256": SHA_A}}),
        doc(secrets={"s": {"sha256": SHA_B}}),
        [("secrets.s.sha256", CONTENT, CONTENT)],
    ),
    (
        "a whole new list still hides hashes and secret variables",
        doc(configs={}),
        doc(configs={"c": {"sha256": SHA_B, "items": [{"sha256": SHA_A}]}}),
        None,  # checked below: no hash in any value
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_document_changes(old: dict[str, Any], new: dict[str, Any], expected: Any) -> None:
    changes = document_changes(old, new)
    shown = " ".join(f"{c.path} {c.old} {c.new}" for c in changes)
    for secret in ("hunter2", "swordfish", "pw1", "tok1", "tok2", "tok3", "tok", SHA_A, SHA_B):
        assert not re.search(rf"\b{re.escape(secret)}\b", shown), (secret, shown)
    if expected is not None:
        assert [(c.path, c.old, c.new) for c in changes] == expected


def test_change_kinds() -> None:
    changes = document_changes(doc({"A": "1"}), doc({"B": "2"}, image="app:2"))
    kinds = {c.path: c.kind for c in changes}
    assert kinds == {
        "services.web.environment.A": "removed",
        "services.web.environment.B": "added",
        "services.web.image": "changed",
    }


# -- the page ---------------------------------------------------------------------------------


@pytest.fixture
def shop(record_stack) -> None:
    record_stack("shop", "stackctl-test/busybox:1", DB_PASSWORD="hunter2", LOG_LEVEL="info")
    record_stack("shop", "stackctl-test/busybox:2", DB_PASSWORD="swordfish", LOG_LEVEL="info")
    record_stack("shop", "stackctl-test/busybox:2", DB_PASSWORD="correcthorse", LOG_LEVEL="debug")


def rows(page: str) -> dict[str, tuple[str, str]]:
    found = re.findall(
        r'<tr class="d-\w+" data-path="([^"]+)">.*?<td class="mono old">(.*?)</td>'
        r'<td class="mono new">(.*?)</td>',
        page,
        flags=re.S,
    )
    return {path: (old, new) for path, old, new in found}


def heading(page: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", page, flags=re.S)
    assert found
    return found.group(1)


def test_default_is_desired_against_the_one_before(make_console, shop) -> None:
    answer = make_console().get("/stacks/shop/diff")
    assert answer.status_code == 200
    assert heading(answer.text) == "shop: v2 → v3"
    changes = rows(answer.text)
    assert changes["services.web.environment.LOG_LEVEL"] == ("&#34;info&#34;", "&#34;debug&#34;")
    assert changes["services.web.environment.DB_PASSWORD"] == (MASK, MASK)
    assert "services.web.image" not in changes


def test_any_two_versions(make_console, shop) -> None:
    client = make_console()
    answer = client.get("/stacks/shop/diff", params={"from": "v1", "to": "v2"})
    assert answer.status_code == 200
    assert heading(answer.text) == "shop: v1 → v2"
    changes = rows(answer.text)
    assert set(changes) == {"services.web.image", "services.web.environment.DB_PASSWORD"}
    assert "busybox:1" in changes["services.web.image"][0]
    assert "busybox:2" in changes["services.web.image"][1]
    digits = client.get("/stacks/shop/diff", params={"from": "1", "to": "3"})
    assert heading(digits.text) == "shop: v1 → v3"


def test_the_page_never_holds_a_secret_value(make_console, shop) -> None:
    client = make_console()
    for query in (
        {},
        {"from": "v1", "to": "v2"},
        {"from": "v1", "to": "v3"},
        {"from": "v3", "to": "v1"},
    ):
        page = client.get("/stacks/shop/diff", params=query).text
        for secret in ("hunter2", "swordfish", "correcthorse"):
            assert secret not in page, (query, secret)
        assert "DB_PASSWORD" in page


def test_unknown_version_is_404(make_console, shop) -> None:
    client = make_console()
    for query in ({"to": "v9"}, {"from": "v9"}, {"from": "v1", "to": "bogus"}):
        assert client.get("/stacks/shop/diff", params=query).status_code == 404, query
    assert client.get("/stacks/nosuch/diff").status_code == 404
