"""Sending one message to one destination: an Apprise URL or the native signed webhook.

Apprise (``json://``, ``ntfy://``, ``slack://``, ``mailto://`` and about a hundred more) does
the talking; for its HTTP-payload schemes (``json``, ``form``, ``xml``) the delivery's key goes
along as the ``X-Stackctl-Delivery`` header, so a receiver can drop a repeat (delivery is at
least once). The native webhook, ``webhook+https://host/path?secret_file=FILE``, POSTs the
message as JSON signed like GitHub's: ``X-Stackctl-Signature-256: sha256=<HMAC-SHA256 of the
body with the file's secret>``, with ``X-Stackctl-Event`` and ``X-Stackctl-Delivery``.

A destination is named by ``fingerprint`` (stored) and ``label`` (shown): URLs carry tokens,
so neither is the URL. Timeouts are short: a hanging destination costs its own delivery a few
seconds, nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from controller.desired.reach import Reach, destination_host, is_guarded_address
from controller.models.errors import PermanentError, TransientError

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
WEBHOOK = "webhook+"
_HEADER_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls"}
_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_TYPES = {"failed": "failure", "degraded": "warning", "invalid": "warning", "done": "success"}


@dataclass(frozen=True)
class Outgoing:
    """One message as it leaves: its idempotency key, kind, stack and words."""

    key: str
    kind: str
    stack_id: str | None
    title: str
    body: str
    payload: dict[str, Any]
    created_at: str


def fingerprint(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def label(url: str) -> str:
    """``json://127.0.0.1:9000``: scheme and host only (tokens live in users, paths, queries)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}"


def redact(text: str) -> str:
    """``text`` with every URL in it cut to its label (scheme and host)."""
    return _URL_IN_TEXT.sub(lambda m: label(m.group(0)), text)


def check_url(url: str) -> None:
    """Raise ``ValueError`` when ``url`` cannot be sent to (unknown scheme, webhook without a
    secret file)."""
    if url.startswith(WEBHOOK):
        inner = url[len(WEBHOOK) :]
        if urlsplit(inner).scheme not in ("http", "https"):
            raise ValueError(f"{label(url)}: webhook+ takes an http:// or https:// URL")
        if "secret_file" not in dict(parse_qsl(urlsplit(inner).query)):
            raise ValueError(f"{label(url)}: a webhook+ URL needs ?secret_file=FILE (its HMAC key)")
        return
    import apprise  # a second to import: only when destinations are configured

    if apprise.Apprise.instantiate(url) is None:
        raise ValueError(f"{label(url)}: not a URL Apprise can send to")


def check_reach(url: str, reach: Reach) -> None:
    """Raise ``PermanentError`` when a destination a manifest named may not be sent to: the
    literal check of ``reach`` again (a version recorded before the policy, or under another
    one), then the host resolved: a name that resolves to a link-local or metadata address is
    refused unless the operator named that host. (The send resolves it again: a name that
    changes its answer in between is not caught; allow-list names you control.)"""
    if problem := reach.destination_problem(url):
        raise PermanentError(f"refused: {problem}")
    host, port = destination_host(url)
    if not host or reach.names(host):
        return
    try:
        answers = socket.getaddrinfo(host, port or 0, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return  # no address (an Apprise token in the host's place) or unknown: the send says
    for answer in answers:
        address = ipaddress.ip_address(str(answer[4][0]).split("%")[0])
        if is_guarded_address(address):
            raise PermanentError(
                f"refused: {label(url)} resolves to {address}, a link-local or cloud metadata"
                f" address; the operator may allow it by name (--notify-allow {host})"
            )


def send(url: str, message: Outgoing) -> None:
    """Send or raise ``TransientError`` (try again later) / ``PermanentError`` (never will)."""
    if url.startswith(WEBHOOK):
        _send_webhook(url, message)
    else:
        _send_apprise(url, message)


def _send_webhook(url: str, message: Outgoing) -> None:
    where = label(url)
    parts = urlsplit(url[len(WEBHOOK) :])
    query = dict(parse_qsl(parts.query))
    secret_file = Path(query.pop("secret_file"))
    try:
        secret = secret_file.read_bytes().strip()
    except OSError as e:
        raise TransientError(f"webhook secret file {secret_file}: {e.strerror}") from e
    body = json.dumps(
        {
            "id": message.key,
            "kind": message.kind,
            "stack": message.stack_id,
            "title": message.title,
            "message": message.body,
            "created_at": message.created_at,
            "data": message.payload,
        },
        sort_keys=True,
    ).encode()
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    target = urlunsplit(parts._replace(query=urlencode(query)))
    try:
        answer = requests.post(
            target,
            data=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "stackctl",
                "X-Stackctl-Event": message.kind,
                "X-Stackctl-Delivery": message.key,
                "X-Stackctl-Signature-256": f"sha256={signature}",
            },
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
        )
    except requests.RequestException as e:
        raise TransientError(f"{where}: {type(e).__name__}") from e
    check_answer(answer, where)


def check_answer(answer: requests.Response, where: str) -> None:
    if answer.status_code < 300:
        return
    reason = f"{where} answered {answer.status_code}"
    # 4xx other than timeouts/throttling will not get better by themselves.
    if 400 <= answer.status_code < 500 and answer.status_code not in (408, 409, 425, 429):
        raise PermanentError(reason)
    raise TransientError(reason)


def _send_apprise(url: str, message: Outgoing) -> None:
    import apprise

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.setdefault("cto", str(CONNECT_TIMEOUT))
    query.setdefault("rto", str(READ_TIMEOUT))
    if parts.scheme in _HEADER_SCHEMES:
        query["+X-Stackctl-Delivery"] = message.key
        query["+X-Stackctl-Event"] = message.kind
    target = urlunsplit(parts._replace(query=urlencode(query)))
    notifier = apprise.Apprise()
    if not notifier.add(target):
        raise PermanentError(f"{label(url)}: not a URL Apprise can send to")
    kind = message.kind.rsplit(".", 1)[-1]
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = notifier.notify(
            title=message.title,
            body=message.body,
            notify_type=_TYPES.get(kind, "info"),
        )
    if not ok:
        said = captured.getvalue().strip().splitlines() if captured else []
        raise TransientError(f"{label(url)}: {redact(said[-1]) if said else 'not delivered'}")
