"""GitHub's webhook form and Gitea default to ``application/x-www-form-urlencoded``
(``payload=<urlencoded JSON>``): a correctly signed delivery of that kind (the signature is over
the raw, encoded body) is accepted like its JSON twin and counted under its forge, over real
HTTP. The payloads are the real forges' fixtures of tests/git/payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from helpers.followed import serving_followed

PAYLOADS = Path(__file__).parent.parent / "git" / "payloads"
SECRET = b"form-secret"


def _form_headers(provider: str, body: bytes) -> dict[str, str]:
    mac = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    if provider == "github":
        return form | {
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": "form-1",
            "X-Hub-Signature-256": f"sha256={mac}",
        }
    return form | {  # Gitea also sends GitHub's headers; its own decide
        "X-Gitea-Event": "push",
        "X-Gitea-Delivery": "form-2",
        "X-Gitea-Signature": mac,
        "X-GitHub-Event": "push",
        "X-Hub-Signature-256": f"sha256={mac}",
    }


@pytest.mark.parametrize("provider", ["github", "gitea"])
def test_a_signed_form_encoded_push_is_accepted_and_counted_under_its_forge(
    provider, tmp_path, db, db_path
) -> None:
    raw = (PAYLOADS / f"{provider}_push.json").read_text()
    url = json.loads(raw)["repository"]["clone_url"]
    body = urlencode({"payload": raw}).encode()
    with serving_followed(
        tmp_path=tmp_path, db=db, db_path=db_path, repositories={"infra": (url, SECRET)}
    ) as served, httpx.Client(base_url=served.url, timeout=10) as http:
        answer = http.post("/api/v1/hooks/git", content=body, headers=_form_headers(provider, body))
        assert answer.status_code == 202, answer.text
        assert answer.json()["repository"] == "infra" and answer.json()["ref"] == "refs/heads/main"
        metrics = http.get("/metrics").text
        counted = f'stackctl_webhook_requests_total{{provider="{provider}",result="accepted"}} 1.0'
        assert counted in metrics
        assert 'provider="unknown"' not in metrics

        # The same form with a body altered after signing is refused.
        altered = body.replace(b"refs%2Fheads%2Fmain", b"refs%2Fheads%2Fevil")
        refused = http.post(
            "/api/v1/hooks/git", content=altered, headers=_form_headers(provider, body)
        )
        assert refused.status_code == 401
