"""Over real HTTP, a stranger cannot tell which repositories are followed: a delivery for a
repository nobody follows and one with a bad (or no) signature get the same status and body,
with or without ``?repository=``; and with a token set, ``/readyz`` and ``/metrics`` answer
without it with counts and states only (no repository names or URLs, no user names, no fetch
errors), and with it as before."""

from __future__ import annotations

import json

import httpx
from helpers.controller_process import wait_for
from helpers.followed import github_headers, serving_followed

TOKEN = "probe-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FOLLOWED = "https://alice@127.0.0.1:9/ops/infra.git"  # port 9 (discard): the fetch fails at once
SECRET = b"infra-secret"


def _push(url: str) -> bytes:
    return json.dumps(
        {
            "ref": "refs/heads/main",
            "after": "a" * 40,
            "repository": {"full_name": "ops/x", "clone_url": url},
        }
    ).encode()


def test_an_unfollowed_repository_and_a_bad_signature_get_the_same_answer(
    tmp_path, db, db_path
) -> None:
    repositories = {"infra": (FOLLOWED, SECRET)}
    with serving_followed(
        tmp_path=tmp_path, db=db, db_path=db_path, repositories=repositories
    ) as served, httpx.Client(base_url=served.url, timeout=10) as http:
        hook = "/api/v1/hooks/git"
        unfollowed = _push("https://127.0.0.1:9/ops/nobody.git")
        followed = _push("https://127.0.0.1:9/ops/infra.git")
        answers = [
            http.post(hook, content=unfollowed, headers=github_headers(b"any", unfollowed)),
            http.post(hook, content=followed, headers=github_headers(b"wrong", followed)),
            http.post(
                hook,
                content=followed,
                headers={k: v for k, v in github_headers(b"x", followed).items()
                         if k != "X-Hub-Signature-256"},
            ),
            http.post(
                hook + "?repository=nobody",
                content=followed,
                headers=github_headers(SECRET, followed),
            ),
            http.post(
                hook + "?repository=infra", content=followed, headers=github_headers(b"w", followed)
            ),
        ]  # fmt: skip
        shapes = {(a.status_code, a.text) for a in answers}
        assert len(shapes) == 1, shapes
        ((status, _),) = shapes
        assert status == 401
        # The genuine delivery still gets through, found by its URL or named.
        good = http.post(hook, content=followed, headers=github_headers(SECRET, followed))
        assert good.status_code == 202 and good.json()["repository"] == "infra", good.text


def test_probes_and_metrics_give_counts_and_states_without_the_token(
    tmp_path, db, db_path
) -> None:
    repositories = {"infra": (FOLLOWED, SECRET)}
    with serving_followed(
        tmp_path=tmp_path, db=db, db_path=db_path, repositories=repositories, token=TOKEN
    ) as served, httpx.Client(base_url=served.url, timeout=10) as http:
        wait_for(lambda: served.sources.readiness() is not True, what="the fetch to fail")
        error = str(served.sources.readiness())

        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["repositories"] is False and ready.json()["database"] is True
        for secret_text in ("alice", "127.0.0.1:9", "infra", error):
            assert secret_text not in ready.text, ready.text
        metrics = http.get("/metrics")
        assert metrics.status_code == 200
        assert 'result="failed"' in metrics.text  # the count stays
        assert 'repository="infra"' not in metrics.text and "alice" not in metrics.text

        wrong = {"Authorization": "Bearer not-it"}
        assert "infra" not in http.get("/readyz", headers=wrong).text
        assert 'repository="infra"' not in http.get("/metrics", headers=wrong).text

        told = http.get("/readyz", headers=AUTH)
        assert told.status_code == 503 and "infra" in told.json()["reason"]
        assert 'repository="infra"' in http.get("/metrics", headers=AUTH).text
