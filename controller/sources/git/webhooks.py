"""Push webhooks from GitHub, Gitea, Forgejo and GitLab: who sent one, whether it is genuine, and
what it asks for (issue 11).

This module owns the pure decision behind ``POST /api/v1/hooks/git``: headers and body in, one
outcome value out (the URL and ref matching are ``matching``'s, the memory of seen deliveries
``deliveries``'). The endpoint reads the body, tries the secrets, maps outcomes to HTTP and
queues fetches. This module must never do I/O, import anything beyond the standard library,
or put a secret or token into an outcome, a repr or a message.

The endpoint, in order:

1. ``check_content_length(headers)`` before reading, then read at most ``MAX_BODY + 1`` bytes.
2. ``read_delivery(headers)``: who sent it and its credential, from the headers alone.
3. ``is_signed(delivery, body=, secret=)`` over the raw bytes, for the named repository's secret
   (``?repository=NAME``) or for each followed repository's: nothing of the body is parsed
   before a secret signs it, so an unsigned body costs one HMAC per secret and no parsing. A
   delivery no secret signs gets ``NOT_SIGNED`` whether its repository is followed or not, so
   nobody learns which repositories are followed by asking.
4. ``read_signed(delivery, body=)`` parses the body (JSON, or the forms' default
   ``application/x-www-form-urlencoded`` with the JSON in ``payload``) and says what it asks.
5. ``Push``: queue a fetch for each source (among those whose secret signed it) where
   ``matching.repository_matches`` and ``matching.ref_matches``; ``Deliveries.seen_before``
   (``controller.sources.git.deliveries``) first, so a redelivery fetches nothing twice.
``read_push(headers=, body=, secret=)`` is steps 2 to 4 for one known secret.

Refusals are values, not exceptions: a bad signature is an ordinary answer to an ordinary request
from the internet, not a fault here, so the endpoint maps every outcome in one ``match`` (each
carries ``http_status``, except ``Push``, whose answer depends on what it queues).

What is trusted, and why that is enough:

- Without a secret nothing is accepted (401): an unsigned webhook would let anyone trigger fetches.
- Signatures cover the raw body only (a form-encoded body as sent, before decoding), so the
  event and delivery headers, and a replay of a genuine request, are taken on the sender's
  word. That is harmless because the most any outcome does is trigger a fetch, and a fetch of
  an unchanged repository changes nothing.
- For the same reason ``Push.after`` is information (logs, events): the fetch resolves the ref
  itself. Checking out ``after`` would let a replayed old push roll a stack back.
- GitLab sends the secret itself (``X-Gitlab-Token``), not a signature: use HTTPS with GitLab.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeAlias
from urllib.parse import parse_qsl

MAX_BODY = 5 * 1024 * 1024
"""The largest body read. A bigger push is refused (413); the next poll still sees it."""


class Provider(StrEnum):
    GITHUB = "github"
    GITEA = "gitea"
    FORGEJO = "forgejo"
    GITLAB = "gitlab"


@dataclass(frozen=True)
class Ping:
    """GitHub's hello when a webhook is created. Gitea, Forgejo and GitLab have none: their test
    button sends an ordinary push, which is read as one."""

    provider: Provider
    delivery: str | None
    # Which repository the hook was made on, to pick among those whose secret signed it.
    urls: tuple[str, ...] = field(default=(), compare=False)
    http_status: ClassVar[int] = 200


@dataclass(frozen=True)
class Push:
    """A verified push: ``urls`` holds every clone/web URL the payload gives for the repository."""

    provider: Provider
    urls: tuple[str, ...]
    full_name: str
    ref: str
    after: str
    delivery: str | None

    @property
    def deleted(self) -> bool:
        """The ref was deleted (``after`` is all zeros); a fetch notices that too."""
        return set(self.after) == {"0"}


@dataclass(frozen=True)
class Ignored:
    """Genuine, but not a push (issues, pull requests, Gitea's ``create``, ...)."""

    reason: str
    http_status: ClassVar[int] = 202


@dataclass(frozen=True)
class Refusal:
    """The request is refused (only as one of the three below); ``reason`` is safe to send back."""

    reason: str
    http_status: ClassVar[int]


@dataclass(frozen=True)
class Unauthorized(Refusal):
    http_status: ClassVar[int] = 401


@dataclass(frozen=True)
class BadRequest(Refusal):
    http_status: ClassVar[int] = 400


@dataclass(frozen=True)
class TooLarge(Refusal):
    http_status: ClassVar[int] = 413


Outcome: TypeAlias = Ping | Push | Ignored | Refusal


@dataclass(frozen=True)
class _Scheme:
    """How one provider names its event, delivery id and credential (header names as sent)."""

    provider: Provider
    event: str
    deliveries: tuple[str, ...]
    credential: str
    prefix: str | None  # before the hex HMAC; None: the header holds the secret itself


# Order matters: Forgejo also sends Gitea's, Gogs' and GitHub's headers, and Gitea GitHub's, so
# the most specific event header decides which credential counts.
_SCHEMES = (
    _Scheme(
        Provider.FORGEJO, "X-Forgejo-Event", ("X-Forgejo-Delivery",), "X-Forgejo-Signature", ""
    ),
    _Scheme(Provider.GITEA, "X-Gitea-Event", ("X-Gitea-Delivery",), "X-Gitea-Signature", ""),
    # Idempotency-Key (newer GitLab, 2024) is the one id kept across retries and resends; the
    # event UUID is usually new on each attempt and the webhook UUID is random per request.
    _Scheme(
        Provider.GITLAB,
        "X-Gitlab-Event",
        ("Idempotency-Key", "X-Gitlab-Event-UUID", "X-Gitlab-Webhook-UUID"),
        "X-Gitlab-Token",
        None,
    ),
    _Scheme(
        Provider.GITHUB, "X-GitHub-Event", ("X-GitHub-Delivery",), "X-Hub-Signature-256", "sha256="
    ),
)
_READ = frozenset(name.lower() for s in _SCHEMES for name in (s.event, s.credential, *s.deliveries))
_PINGS = {Provider.GITHUB: {"ping"}}
_PUSHES = {
    Provider.GITHUB: {"push"},
    Provider.GITEA: {"push"},
    Provider.FORGEJO: {"push"},
    Provider.GITLAB: {"push hook", "tag push hook"},
}
_GITEA_URLS = (("repository", ("clone_url", "ssh_url", "html_url")),)
_URL_FIELDS = {
    Provider.GITHUB: (("repository", ("clone_url", "ssh_url", "git_url", "html_url", "url")),),
    Provider.GITEA: _GITEA_URLS,
    Provider.FORGEJO: _GITEA_URLS,
    Provider.GITLAB: (
        ("project", ("git_http_url", "git_ssh_url", "http_url", "ssh_url", "web_url", "url")),
        ("repository", ("git_http_url", "git_ssh_url", "url", "homepage")),
    ),
}
_NAME_FIELD = {
    Provider.GITHUB: ("repository", "full_name"),
    Provider.GITEA: ("repository", "full_name"),
    Provider.FORGEJO: ("repository", "full_name"),
    Provider.GITLAB: ("project", "path_with_namespace"),
}
NOT_SIGNED = Unauthorized(
    "no followed repository's webhook secret signs this delivery: check the webhook's URL"
    " (?repository=NAME) and secret"
)
"""The one answer to a delivery nobody's secret signs: a repository that is not followed, one
without a secret, a wrong or missing signature (telling them apart would tell which
repositories are followed)."""
_FORM = "application/x-www-form-urlencoded"
_HEX_MAC = re.compile(r"[0-9a-fA-F]{64}")
_COMMIT = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")  # SHA-1 or SHA-256 repositories
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Delivery:
    """What a request's headers say: who sent it, which event, its id and its credential (left
    out of the repr: a GitLab token is the secret itself). Nothing here is verified."""

    scheme: _Scheme
    event: str
    delivery: str | None
    credential: str | None = field(repr=False)
    form: bool = False  # application/x-www-form-urlencoded: the JSON is in ``payload``

    @property
    def provider(self) -> Provider:
        return self.scheme.provider


def check_content_length(headers: Mapping[str, str]) -> TooLarge | BadRequest | None:
    """Refuse a body announced as too large before reading it. Without Content-Length (chunked)
    the endpoint reads at most ``MAX_BODY + 1`` bytes and lets ``read_push`` judge them."""
    declared = next((v.strip() for k, v in headers.items() if k.lower() == "content-length"), None)
    if declared is None:
        return None
    if not _DIGITS.fullmatch(declared):
        return BadRequest(f"Content-Length is not a number: {declared[:40]!r}")
    # len() first: int() of thousands of digits raises instead of answering
    if len(declared) > 18 or int(declared) > MAX_BODY:
        return _too_large(declared)
    return None


def read_delivery(headers: Mapping[str, str]) -> Delivery | BadRequest:
    """Who sent the request and with which credential, from its headers only."""
    return _read_headers(headers)


def is_signed(delivery: Delivery, *, body: bytes, secret: bytes | None) -> bool:
    """The credential matches ``secret`` over the raw body, in constant time. Parses nothing."""
    return _check_credential(delivery, body=body, secret=secret) is None


def read_signed(delivery: Delivery, *, body: bytes) -> Ping | Push | Ignored | BadRequest:
    """What a delivery asks for. Only for a body ``is_signed`` accepted: it parses the body."""
    if len(body) > MAX_BODY:
        return BadRequest(f"the body is over {MAX_BODY} bytes")
    payload = _parse(body, form=delivery.form)
    if isinstance(payload, Refusal):
        return payload
    return _decide(delivery, payload)


def read_push(*, headers: Mapping[str, str], body: bytes, secret: bytes | None) -> Outcome:
    """Check the credential on the raw body, then read the event. ``secret=None`` (or empty)
    means the repository has no webhook secret, and nothing is accepted for it."""
    if len(body) > MAX_BODY:
        return _too_large(str(len(body)))
    delivery = _read_headers(headers)
    if isinstance(delivery, Refusal):
        return delivery
    refused = _check_credential(delivery, body=body, secret=secret)
    if refused is not None:
        return refused
    return read_signed(delivery, body=body)


def _too_large(size: str) -> TooLarge:
    return TooLarge(f"the body has {size[:20]} bytes; the limit is {MAX_BODY}")


def _read_headers(headers: Mapping[str, str]) -> Delivery | BadRequest:
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key, value = name.lower(), value.strip()
        # A mapping that keeps repeated headers (Starlette's) must not let one copy hide another.
        if key in _READ and lowered.get(key, value) != value:
            return BadRequest(f"the {name} header is sent twice with different values")
        lowered[key] = value
    scheme = next((s for s in _SCHEMES if lowered.get(s.event.lower())), None)
    if scheme is None:
        return BadRequest(
            "not a webhook from GitHub, Gitea, Forgejo or GitLab: no X-GitHub-Event, "
            "X-Gitea-Event, X-Forgejo-Event or X-Gitlab-Event header"
        )
    delivery = next((lowered[d.lower()] for d in scheme.deliveries if lowered.get(d.lower())), None)
    content_type = lowered.get("content-type", "").partition(";")[0].strip().lower()
    return Delivery(
        scheme=scheme,
        event=lowered[scheme.event.lower()],
        delivery=delivery,
        credential=lowered.get(scheme.credential.lower()) or None,
        form=content_type == _FORM,
    )


def _check_credential(
    request: Delivery, *, body: bytes, secret: bytes | None
) -> Unauthorized | None:
    if not secret:
        # An empty key is as good as none: anyone can compute an HMAC with it.
        return Unauthorized("no webhook secret is configured for this repository")
    name, given, prefix = request.scheme.credential, request.credential, request.scheme.prefix
    if given is None:
        return Unauthorized(f"no {name} header: give the webhook this repository's secret")
    if prefix is None:
        if hmac.compare_digest(_header_bytes(given), secret):
            return None
        return Unauthorized(f"{name} is not this repository's webhook secret")
    mac = given.removeprefix(prefix) if given.startswith(prefix) else None
    if mac is None or not _HEX_MAC.fullmatch(mac):
        return Unauthorized(f"{name} is not {prefix}<64 hex digits>")
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    if hmac.compare_digest(mac.lower(), expected):
        return None
    return Unauthorized(f"{name} does not match the body signed with this repository's secret")


def _header_bytes(value: str) -> bytes:
    # ASGI servers decode header bytes as Latin-1, so encoding back gives what was sent; a str
    # that never came from the wire may hold more than Latin-1.
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _parse(body: bytes, *, form: bool) -> dict[str, Any] | BadRequest:
    if form or body.startswith(b"payload="):
        # GitHub's and Gitea's default: payload=<the JSON, percent-encoded>. Decoded only now,
        # after the signature over the encoded bytes was checked.
        try:
            fields = parse_qsl(body.decode("ascii"), max_num_fields=8, errors="strict")
        except (UnicodeDecodeError, ValueError) as e:
            return BadRequest(f"the form-encoded body cannot be read ({type(e).__name__})")
        payloads = [value for name, value in fields if name == "payload"]
        if len(payloads) != 1:
            return BadRequest("the form-encoded body has no single payload field")
        body = payloads[0].encode()
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as e:
        return BadRequest(f"the body is not JSON ({type(e).__name__})")
    if not isinstance(payload, dict):
        return BadRequest("the body is JSON but not an object")
    return payload


def _decide(request: Delivery, payload: dict[str, Any]) -> Ping | Push | Ignored | BadRequest:
    provider, event = request.scheme.provider, request.event
    if event.lower() in _PINGS.get(provider, ()):
        return Ping(
            provider=provider, delivery=request.delivery, urls=_urls(provider, payload)
        )
    if event.lower() not in _PUSHES[provider]:
        return Ignored(f"{provider} event {event[:60]!r} is not a push")
    ref, after = payload.get("ref"), payload.get("after")
    if not isinstance(ref, str) or not ref.startswith("refs/"):
        return BadRequest("the push has no ref (refs/heads/... or refs/tags/...)")
    if not isinstance(after, str) or not _COMMIT.fullmatch(after):
        return BadRequest("the push has no commit id in after")
    urls, full_name = _urls(provider, payload), _full_name(provider, payload)
    if not urls:
        return BadRequest("the push names no repository URL")
    if full_name is None:
        section, key = _NAME_FIELD[provider]
        return BadRequest(f"the push has no {section}.{key}")
    return Push(
        provider=provider,
        urls=urls,
        full_name=full_name,
        ref=ref,
        after=after.lower(),
        delivery=request.delivery,
    )


def _urls(provider: Provider, payload: Mapping[str, Any]) -> tuple[str, ...]:
    found: dict[str, None] = {}  # ordered and without repeats
    for section, keys in _URL_FIELDS[provider]:
        holder = payload.get(section)
        if isinstance(holder, dict):
            for key in keys:
                url = holder.get(key)
                if isinstance(url, str) and url:
                    found[url] = None
    return tuple(found)


def _full_name(provider: Provider, payload: Mapping[str, Any]) -> str | None:
    section, key = _NAME_FIELD[provider]
    holder = payload.get(section)
    name = holder.get(key) if isinstance(holder, dict) else None
    return name if isinstance(name, str) and name else None
