"""``POST /api/v1/apply`` (and ``/diff``) take a folder as JSON: a name that would leave the
folder (absolute, ``..``, a backslash, a NUL), a name that is a file and a folder at once, a
``path`` or an ``executable`` that was not sent, content that is not base64, a body that is not
that JSON: each is 422 saying which, and nothing is written or recorded. A body over the limit
is 413, unread; a caller who may not apply anywhere is refused before the body is read; a diff
without a controller's engine is 503."""

from __future__ import annotations

import base64

import pytest

from controller.db import Database
from controller.web.api.limits import HookLimits

MANIFEST = b"""apiVersion: stackctl/v1
kind: Stack
metadata: {name: web}
spec:
  compose:
    services:
      web: {image: busybox}
"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


BAD = [
    ({"files": {"/etc/passwd": b64(b"x")}}, "an absolute path"),
    ({"files": {"../up.yaml": b64(MANIFEST)}}, "an empty part, '.' or '..'"),
    ({"files": {"a/../../up.yaml": b64(MANIFEST)}}, "an empty part, '.' or '..'"),
    ({"files": {"a//b.yaml": b64(MANIFEST)}}, "an empty part, '.' or '..'"),
    ({"files": {"a\\b.yaml": b64(MANIFEST)}}, "a backslash"),
    ({"files": {"a\u0000.yaml": b64(MANIFEST)}}, "a NUL"),
    ({"files": {"a": b64(b"x"), "a/b.yaml": b64(MANIFEST)}}, "sent as a file and as a folder"),
    ({"files": {"web.yaml": b64(MANIFEST)}, "path": "other.yaml"}, "not one of the files sent"),
    ({"files": {"web.yaml": b64(MANIFEST)}, "executable": ["run.sh"]}, "a file that was not sent"),
    ({"files": {"web.yaml": "not base64!"}}, "not valid base64"),
    ({"files": ["web.yaml"]}, 'the body is not {"files"'),
]


@pytest.mark.parametrize(("body", "said"), BAD, ids=[said for _, said in BAD])
def test_a_name_or_body_out_of_bounds_is_422(body, said, client, auth, db: Database, db_path):
    answer = client.post("/api/v1/apply", json=body, headers=auth)
    assert answer.status_code == 422, answer.text
    assert said in answer.json()["message"]
    assert db.stacks.list() == []
    uploads = db_path.parent / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_a_valid_folder_is_recorded(client, auth, db: Database):
    body = {"files": {"web.yaml": b64(MANIFEST), "sub/.env": b64(b"A=1\n")}}
    answer = client.post("/api/v1/apply", json=body, headers=auth)
    assert answer.status_code == 200, answer.text
    [stack] = answer.json()["stacks"]
    assert (stack["name"], stack["version"], stack["command"]["type"]) == (
        "web",
        "v1",
        "APPLY_STACK_VERSION",
    )
    assert db.stack_versions.require("web", "v1").metadata.created_by == (
        "stackctl apply by admin token"
    )


def test_a_body_over_the_limit_is_413_and_no_token_is_refused_first(make_client, auth, db):
    client = make_client(token="s3cret-token", hook_limits=HookLimits(body_budget=1024))
    big = {"files": {"web.yaml": b64(MANIFEST + b"#" * 2048)}}
    assert client.post("/api/v1/apply", json=big, headers=auth).status_code == 413
    assert client.post("/api/v1/apply", json=big).status_code == 401
    assert client.post("/api/v1/diff", json=big).status_code == 401
    assert db.stacks.list() == []


def test_diff_without_an_engine_is_503(client, auth):
    body = {"files": {"web.yaml": b64(MANIFEST)}}
    answer = client.post("/api/v1/diff", json=body, headers=auth)
    assert answer.status_code == 503
    assert answer.json()["message"] == (
        "diff needs the controller's engine: this API has none behind it"
    )
