"""Webhook requests as GitHub, Gitea, Forgejo and GitLab send them, and what read_push,
read_delivery, is_signed and read_signed make of them (JSON or form-encoded).
Payloads are trimmed copies of real ones (payloads/README.md);
headers are the sets each sender really sends, including the ones Forgejo and Gitea add for
compatibility with their forebears."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.sources.git.deliveries import Deliveries
from controller.sources.git.webhooks import (
    MAX_BODY,
    BadRequest,
    Delivery,
    Ignored,
    Outcome,
    Ping,
    Provider,
    Push,
    TooLarge,
    Unauthorized,
    check_content_length,
    is_signed,
    read_delivery,
    read_push,
    read_signed,
)

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = b"correct horse battery staple"
DELIVERY = "f6266f16-1bf3-46a5-9ea4-602e06ead473"
PUSH_EVENT = {"github": "push", "gitea": "push", "forgejo": "push", "gitlab": "Push Hook"}
PUSH_PAYLOAD = {
    "github": "github_push",
    "gitea": "gitea_push",
    "forgejo": "forgejo_push",
    "gitlab": "gitlab_push",
}


def body_of(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def sent_by(
    provider: str, *, event: str, body: bytes, secret: bytes = SECRET, delivery: str = DELIVERY
) -> dict[str, str]:
    """The headers ``provider`` sends for ``body`` when its webhook has ``secret``."""
    mac = hmac.new(secret, body, hashlib.sha256).hexdigest()
    common = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    if provider == "github":
        return common | {
            "User-Agent": "GitHub-Hookshot/044aadd",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-GitHub-Hook-ID": "109948940",
            "X-Hub-Signature": "sha1=" + hmac.new(secret, body, hashlib.sha1).hexdigest(),
            "X-Hub-Signature-256": "sha256=" + mac,
        }
    if provider == "gitlab":
        return common | {
            "User-Agent": "GitLab/17.5.1",
            "Idempotency-Key": delivery,
            "X-Gitlab-Event": event,
            "X-Gitlab-Webhook-UUID": "d96cd136-d798-4abc-b542-07c41d1d9333",
            "X-Gitlab-Instance": "http://example.com",
            "X-Gitlab-Event-UUID": "1697b63f-d1eb-4c59-b2c1-e65b12e635c0",
            "X-Gitlab-Token": secret.decode("latin-1"),
        }
    names = ["Forgejo", "Gitea", "Gogs"] if provider == "forgejo" else ["Gitea", "Gogs"]
    headers = common | {"User-Agent": "Go-http-client/1.1"}
    for name in names:
        headers |= {
            f"X-{name}-Delivery": delivery,
            f"X-{name}-Event": event,
            f"X-{name}-Event-Type": event,
            f"X-{name}-Signature": mac,
        }
    return headers | {
        "X-Hub-Signature": "sha1=" + hmac.new(secret, body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": "sha256=" + mac,
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Event": event,
        "X-GitHub-Event-Type": event,
    }


def pushed(provider: str, payload: str, *, event: str | None = None) -> object:
    body = body_of(payload)
    headers = sent_by(provider, event=event or PUSH_EVENT[provider], body=body)
    return read_push(headers=headers, body=body, secret=SECRET)


GITHUB_URLS = (
    "https://github.com/Codertocat/Hello-World.git",
    "git@github.com:Codertocat/Hello-World.git",
    "git://github.com/Codertocat/Hello-World.git",
    "https://github.com/Codertocat/Hello-World",
)
GITEA_URLS = (
    "https://git.example.org/ops/stacks.git",
    "ssh://git@git.example.org:2222/ops/stacks.git",
    "https://git.example.org/ops/stacks",
)


@pytest.mark.parametrize(
    ("provider", "payload", "event", "expected"),
    [
        pytest.param(
            "github", "github_push", "push",
            Push(Provider.GITHUB, GITHUB_URLS, "Codertocat/Hello-World", "refs/heads/main",
                 "be42068a54defbbb573bb5738df5ff4a12f62181", DELIVERY),
            id="github-branch",
        ),
        pytest.param(
            "github", "github_tag_delete", "push",
            Push(Provider.GITHUB, GITHUB_URLS, "Codertocat/Hello-World", "refs/tags/simple-tag",
                 "0" * 40, DELIVERY),
            id="github-tag-deleted",
        ),
        pytest.param(
            "gitea", "gitea_push", "push",
            Push(Provider.GITEA, GITEA_URLS, "ops/stacks", "refs/heads/main",
                 "ef98532add3b2feb7a137426bba1248724367df5", DELIVERY),
            id="gitea-branch",
        ),
        pytest.param(
            "forgejo", "forgejo_push", "push",
            Push(Provider.FORGEJO,
                 ("https://codeberg.org/meisam/woodpecktester.git",
                  "git@codeberg.org:meisam/woodpecktester.git",
                  "https://codeberg.org/meisam/woodpecktester"),
                 "meisam/woodpecktester", "refs/heads/fdsafdsa",
                 "28c3613ae62640216bea5e7dc71aa65356e4298b", DELIVERY),
            id="forgejo-new-branch",
        ),
        pytest.param(
            "gitlab", "gitlab_push", "Push Hook",
            Push(Provider.GITLAB,
                 ("http://example.com/mike/diaspora.git", "git@example.com:mike/diaspora.git",
                  "http://example.com/mike/diaspora"),
                 "mike/diaspora", "refs/heads/master",
                 "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", DELIVERY),
            id="gitlab-branch",
        ),
        pytest.param(
            "gitlab", "gitlab_tag_push", "Tag Push Hook",
            Push(Provider.GITLAB,
                 ("http://example.com/jsmith/example.git", "git@example.com:jsmith/example.git",
                  "http://example.com/jsmith/example", "ssh://git@example.com/jsmith/example.git"),
                 "jsmith/example", "refs/tags/v1.0.0",
                 "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", DELIVERY),
            id="gitlab-tag",
        ),
    ],
)  # fmt: skip
def test_a_signed_push_reads_as_a_push(provider, payload, event, expected):
    assert pushed(provider, payload, event=event) == expected


def test_a_deleted_ref_is_still_a_push_that_says_so():
    outcome = pushed("github", "github_tag_delete")
    assert isinstance(outcome, Push)
    assert outcome.deleted
    assert not pushed("github", "github_push").deleted  # type: ignore[union-attr]


def test_github_ping_is_a_ping_and_must_be_signed_too():
    body = body_of("github_ping")
    headers = sent_by("github", event="ping", body=body)
    assert read_push(headers=headers, body=body, secret=SECRET) == Ping(Provider.GITHUB, DELIVERY)
    assert isinstance(read_push(headers=headers, body=body, secret=b"other"), Unauthorized)


@pytest.mark.parametrize(
    ("provider", "payload", "event"),
    [
        ("gitea", "gitea_create", "create"),
        ("forgejo", "gitea_create", "create"),
        ("github", "github_ping", "issues"),
        ("github", "github_push", "create"),
        ("gitlab", "gitlab_push", "Merge Request Hook"),
        ("gitlab", "gitlab_push", "System Hook"),
    ],
)
def test_other_genuine_events_are_ignored(provider, payload, event):
    outcome = pushed(provider, payload, event=event)
    assert isinstance(outcome, Ignored)
    assert event in outcome.reason


def test_each_outcome_carries_its_http_status():
    assert (Ping.http_status, Ignored.http_status) == (200, 202)
    assert (Unauthorized.http_status, BadRequest.http_status, TooLarge.http_status) == (
        401,
        400,
        413,
    )


# -- what is refused, and why ---------------------------------------------------------------


def _without(name: str):
    return lambda h: {k: v for k, v in h.items() if k != name}


def _with(name: str, value: str):
    return lambda h: h | {name: value}


GOOD_MAC = hmac.new(SECRET, body_of("gitea_push"), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("provider", "change", "reason"),
    [
        ("github", _without("X-Hub-Signature-256"), "no X-Hub-Signature-256"),
        ("github", _with("X-Hub-Signature-256", "sha1=" + "0" * 40), "sha256=<64 hex"),
        ("github", _with("X-Hub-Signature-256", GOOD_MAC), "sha256=<64 hex"),
        ("github", _with("X-Hub-Signature-256", "sha256=" + "z" * 64), "sha256=<64 hex"),
        ("github", _with("X-Hub-Signature-256", "sha256=" + "0" * 64), "does not match"),
        ("gitea", _without("X-Gitea-Signature"), "no X-Gitea-Signature"),
        ("gitea", _with("X-Gitea-Signature", ""), "no X-Gitea-Signature"),  # hook has no secret
        ("gitea", _with("X-Gitea-Signature", GOOD_MAC[:-1]), "<64 hex"),
        ("gitea", _with("X-Gitea-Signature", "sha256=" + GOOD_MAC), "<64 hex"),
        ("forgejo", _without("X-Forgejo-Signature"), "no X-Forgejo-Signature"),
        # Forgejo's own header counts, even when the Gitea and GitHub copies are right.
        ("forgejo", _with("X-Forgejo-Signature", "0" * 64), "does not match"),
        ("gitlab", _without("X-Gitlab-Token"), "no X-Gitlab-Token"),
        ("gitlab", _with("X-Gitlab-Token", SECRET.decode()[:-1]), "not this repository's"),
        ("gitlab", _with("X-Gitlab-Token", SECRET.decode().upper()), "not this repository's"),
        ("gitlab", _with("X-Gitlab-Token", "sha256=" + GOOD_MAC), "not this repository's"),
    ],
)
def test_a_missing_malformed_or_wrong_credential_is_unauthorized(provider, change, reason):
    body = body_of("gitea_push")  # every credential check runs before the body is read
    headers = change(sent_by(provider, event=PUSH_EVENT[provider], body=body))
    outcome = read_push(headers=headers, body=body, secret=SECRET)
    assert isinstance(outcome, Unauthorized)
    assert reason in outcome.reason


@pytest.mark.parametrize("provider", ["github", "gitea", "forgejo", "gitlab"])
def test_signed_with_another_secret_is_unauthorized(provider):
    body = body_of(PUSH_PAYLOAD[provider])
    headers = sent_by(provider, event=PUSH_EVENT[provider], body=body, secret=b"an old secret")
    assert isinstance(read_push(headers=headers, body=body, secret=SECRET), Unauthorized)


@pytest.mark.parametrize("provider", ["github", "gitea", "forgejo"])
def test_a_body_altered_after_signing_is_unauthorized(provider):
    body = body_of(PUSH_PAYLOAD[provider])
    headers = sent_by(provider, event="push", body=body)
    altered = body.replace(b"refs/heads/", b"refs/tags/", 1)
    assert isinstance(read_push(headers=headers, body=altered, secret=SECRET), Unauthorized)


def test_gitlab_token_does_not_cover_the_body():
    """GitLab sends the secret, not a signature: the body is taken on the sender's word. This
    is why an outcome never does more than trigger a fetch."""
    body = body_of("gitlab_push")
    headers = sent_by("gitlab", event="Push Hook", body=body)
    altered = body.replace(b"refs/heads/master", b"refs/heads/other")
    outcome = read_push(headers=headers, body=altered, secret=SECRET)
    assert isinstance(outcome, Push)
    assert outcome.ref == "refs/heads/other"


@pytest.mark.parametrize("secret", [None, b""])
@pytest.mark.parametrize("provider", ["github", "gitea", "forgejo", "gitlab"])
def test_without_a_secret_nothing_is_accepted(provider, secret):
    """An unsigned webhook would let anyone trigger fetches, and an empty key signs for anyone."""
    body = body_of(PUSH_PAYLOAD[provider])
    headers = sent_by(provider, event=PUSH_EVENT[provider], body=body, secret=b"")
    outcome = read_push(headers=headers, body=body, secret=secret)
    assert outcome == Unauthorized("no webhook secret is configured for this repository")


def _mutations(original: bytes) -> st.SearchStrategy[bytes]:
    n = len(original)
    flip = st.tuples(st.integers(0, n - 1), st.integers(1, 255)).map(
        lambda t: original[: t[0]] + bytes([original[t[0]] ^ t[1]]) + original[t[0] + 1 :]
    )
    insert = st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=8)).map(
        lambda t: original[: t[0]] + t[1] + original[t[0] :]
    )
    delete = st.tuples(st.integers(0, n - 1), st.integers(1, 8)).map(
        lambda t: original[: t[0]] + original[t[0] + t[1] :]
    )
    return st.one_of(flip, insert, delete, st.binary(max_size=512)).filter(lambda b: b != original)


@given(provider=st.sampled_from(["github", "gitea", "forgejo"]), data=st.data())
def test_any_change_to_a_signed_body_breaks_its_signature(provider, data):
    original = body_of(PUSH_PAYLOAD[provider])
    headers = sent_by(provider, event="push", body=original)
    altered = data.draw(_mutations(original), label="altered body")
    assert isinstance(read_push(headers=headers, body=altered, secret=SECRET), Unauthorized)


@given(
    headers=st.dictionaries(
        st.sampled_from(
            ["X-GitHub-Event", "x-gitea-event", "X-Forgejo-Event", "X-Gitlab-Event",
             "X-Hub-Signature-256", "X-Gitea-Signature", "X-Forgejo-Signature",
             "X-Gitlab-Token", "X-GitHub-Delivery", "Idempotency-Key", "Content-Length"]
        ) | st.text(max_size=20),
        st.sampled_from(["push", "ping", "Push Hook", "sha256=" + "0" * 64]) | st.text(max_size=80),
    ),
    body=st.binary(max_size=300),
    secret=st.none() | st.binary(max_size=20),
)  # fmt: skip
def test_arbitrary_requests_get_an_answer_never_an_exception(headers, body, secret):
    assert isinstance(read_push(headers=headers, body=body, secret=secret), Outcome)
    delivery = read_delivery(headers)
    assert isinstance(delivery, Delivery | BadRequest)
    if isinstance(delivery, Delivery) and is_signed(delivery, body=body, secret=secret):
        assert isinstance(read_signed(delivery, body=body), Outcome)
    assert isinstance(check_content_length(headers), TooLarge | BadRequest | None)


# -- what is not a valid push -----------------------------------------------------------------


def _signed_github(body: bytes, event: str = "push") -> object:
    return read_push(headers=sent_by("github", event=event, body=body), body=body, secret=SECRET)


def _github_push_without(*path: str) -> bytes:
    payload = json.loads(body_of("github_push"))
    holder = payload
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[" * 100_000, "not JSON"),  # deeper than the parser goes
        (b'["refs/heads/main"]', "not an object"),
        (b"payload=%7B%7D&payload=%7B%7D", "no single payload field"),
        (b"payload=%FF%FE", "form-encoded body cannot be read"),
        (b"payload=\xff", "form-encoded body cannot be read"),
        (_github_push_without("ref"), "no ref"),
        (_github_push_without("after"), "no commit id"),
        (body_of("github_push").replace(b'"after": "be42', b'"after": "zz42'), "no commit id"),
        (_github_push_without("repository"), "no repository URL"),
        (_github_push_without("repository", "full_name"), "no repository.full_name"),
    ],
)
def test_a_signed_body_that_is_not_a_push_is_a_bad_request(body, reason):
    outcome = _signed_github(body)
    assert isinstance(outcome, BadRequest)
    assert reason in outcome.reason


def test_an_unknown_sender_is_a_bad_request():
    body = body_of("github_push")
    bitbucket = {"X-Event-Key": "repo:push", "X-Request-UUID": DELIVERY, "X-Hub-Signature": "x"}
    outcome = read_push(headers=bitbucket, body=body, secret=SECRET)
    assert isinstance(outcome, BadRequest)
    assert "X-Gitlab-Event" in outcome.reason


class RepeatedHeaders(Mapping[str, str]):
    """Like Starlette's Headers: items() keeps every copy of a repeated header."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __getitem__(self, key: str) -> str:
        return next(v for k, v in self._pairs if k.lower() == key.lower())

    def __iter__(self) -> Iterator[str]:
        return iter(k for k, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def items(self):  # type: ignore[override]
        return list(self._pairs)


def test_a_credential_sent_twice_with_different_values_is_a_bad_request():
    body = body_of("github_push")
    pairs = list(sent_by("github", event="push", body=body).items())
    outcome = read_push(
        headers=RepeatedHeaders([*pairs, ("x-hub-signature-256", "sha256=" + "0" * 64)]),
        body=body,
        secret=SECRET,
    )
    assert isinstance(outcome, BadRequest)
    same_twice = RepeatedHeaders([*pairs, pairs[-1]])
    assert isinstance(read_push(headers=same_twice, body=body, secret=SECRET), Push)


@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.title, lambda name: name])
@pytest.mark.parametrize("provider", ["github", "gitea", "forgejo", "gitlab"])
def test_header_names_are_case_insensitive(provider, spelling):
    body = body_of(PUSH_PAYLOAD[provider])
    headers = sent_by(provider, event=PUSH_EVENT[provider], body=body)
    respelled = {spelling(name): value for name, value in headers.items()}
    assert read_push(headers=respelled, body=body, secret=SECRET) == pushed(
        provider, PUSH_PAYLOAD[provider]
    )


# -- size -------------------------------------------------------------------------------------


def test_a_body_over_five_mebibytes_is_too_large_before_anything_else():
    body = b" " * (MAX_BODY + 1)
    headers = sent_by("github", event="push", body=body)
    assert isinstance(read_push(headers=headers, body=body, secret=SECRET), TooLarge)
    assert isinstance(read_push(headers={}, body=body, secret=None), TooLarge)


def test_a_body_of_exactly_five_mebibytes_is_read():
    padded = body_of("github_push").rstrip() + b" " * MAX_BODY
    body = padded[:MAX_BODY]
    assert isinstance(_signed_github(body), Push)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Content-Length": "1979"}, None),
        ({"content-length": str(MAX_BODY)}, None),
        ({"CONTENT-LENGTH": str(MAX_BODY + 1)}, TooLarge),
        ({"Content-Length": "9" * 5000}, TooLarge),
        ({"Content-Length": "-1"}, BadRequest),
        ({"Content-Length": "12kB"}, BadRequest),
        ({"Content-Length": "١٢"}, BadRequest),  # digits, but not ASCII ones
    ],
)
def test_content_length_is_checked_before_reading(headers, expected):
    outcome = check_content_length(headers)
    assert outcome is None if expected is None else isinstance(outcome, expected)


# -- the signature before anything else -------------------------------------------------------


def test_the_headers_alone_say_who_sent_it_and_nothing_of_the_body_is_read_to_check_it():
    unsigned = {"X-Gitea-Event": "push", "X-Gitea-Delivery": DELIVERY}
    delivery = read_delivery(unsigned)
    assert isinstance(delivery, Delivery)
    assert (delivery.provider, delivery.event, delivery.delivery) == (
        Provider.GITEA,
        "push",
        DELIVERY,
    )
    assert not is_signed(delivery, body=body_of("gitea_push"), secret=SECRET)
    garbage = b"{" * 1000  # signed but not JSON: the signature holds, the reading refuses
    signed = read_delivery(sent_by("gitea", event="push", body=garbage))
    assert isinstance(signed, Delivery) and is_signed(signed, body=garbage, secret=SECRET)
    assert isinstance(read_signed(signed, body=garbage), BadRequest)


@pytest.mark.parametrize("provider", ["github", "gitea", "forgejo", "gitlab"])
def test_is_signed_then_read_signed_gives_what_read_push_gives(provider):
    body = body_of(PUSH_PAYLOAD[provider])
    headers = sent_by(provider, event=PUSH_EVENT[provider], body=body)
    delivery = read_delivery(headers)
    assert isinstance(delivery, Delivery)
    assert is_signed(delivery, body=body, secret=SECRET)
    assert read_signed(delivery, body=body) == read_push(headers=headers, body=body, secret=SECRET)
    assert not is_signed(delivery, body=body, secret=b"other")
    assert not is_signed(delivery, body=body, secret=None)


@pytest.mark.parametrize("provider", ["github", "gitea", "forgejo"])
def test_a_form_encoded_delivery_is_read_like_its_json_twin(provider):
    """GitHub's and Gitea's default content type: payload=<the JSON, percent-encoded>, signed as
    sent. (GitLab only sends JSON.)"""
    raw = body_of(PUSH_PAYLOAD[provider])
    form = urlencode({"payload": raw.decode()}).encode()
    headers = sent_by(provider, event="push", body=form) | {
        "Content-Type": "application/x-www-form-urlencoded"
    }
    assert read_push(headers=headers, body=form, secret=SECRET) == pushed(
        provider, PUSH_PAYLOAD[provider]
    )
    assert isinstance(read_push(headers=headers, body=raw, secret=SECRET), Unauthorized)


def test_the_gitlab_token_never_shows_in_a_repr():
    body = body_of("gitlab_push")
    headers = sent_by("gitlab", event="Push Hook", body=body)
    assert SECRET.decode() not in repr(read_delivery(headers))
    assert SECRET.decode() not in repr(read_push(headers=headers, body=body, secret=SECRET))


def test_read_delivery_refuses_what_it_cannot_read():
    assert isinstance(read_delivery({}), BadRequest)
    org_ping = b'{"zen": "Keep it simple."}'
    ping = read_push(
        headers=sent_by("github", event="ping", body=org_ping), body=org_ping, secret=SECRET
    )
    assert isinstance(ping, Ping) and ping.urls == ()  # an organisation's hook names none


# -- delivery ids and redelivery ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        ((), DELIVERY),  # Idempotency-Key: kept across GitLab's retries and resends
        (("Idempotency-Key",), "1697b63f-d1eb-4c59-b2c1-e65b12e635c0"),
        (("Idempotency-Key", "X-Gitlab-Event-UUID"), "d96cd136-d798-4abc-b542-07c41d1d9333"),
        (("Idempotency-Key", "X-Gitlab-Event-UUID", "X-Gitlab-Webhook-UUID"), None),
    ],
)
def test_gitlab_delivery_id_prefers_the_one_kept_across_retries(drop, expected):
    body = body_of("gitlab_push")
    headers = sent_by("gitlab", event="Push Hook", body=body)
    for name in drop:
        del headers[name]
    outcome = read_push(headers=headers, body=body, secret=SECRET)
    assert isinstance(outcome, Push)
    assert outcome.delivery == expected


@pytest.mark.parametrize("provider", ["github", "gitea", "forgejo", "gitlab"])
def test_a_redelivered_push_is_recognised(provider):
    deliveries = Deliveries()
    first = pushed(provider, PUSH_PAYLOAD[provider])
    again = pushed(provider, PUSH_PAYLOAD[provider])
    assert isinstance(first, Push) and isinstance(again, Push)
    assert not deliveries.seen_before(first.delivery)
    assert deliveries.seen_before(again.delivery)
