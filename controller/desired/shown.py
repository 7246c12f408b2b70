"""What people are shown of a recorded version: its notification URLs masked (and without
the Compose views kept for Compose's config hash: ``controller.sources.versions``).

A stack's ``spec.notify`` URLs are part of its desired state, so they are stored in the
version's compose document (``x-stackctl.notify``) and the sender reads them from there. They
carry tokens (in the user part, the path, the query, or, for services such as ``slack://``, in
the host's place), so wherever a version is shown (the API, ``stackctl history`` and
``get versions`` in JSON or YAML) each URL is replaced by its masked form
(``mask_destination``): the scheme and the network host and port, everything else ``***``.

Pure functions only: they read no file and no clock.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from controller.models import StackVersion
from controller.models.stack_version import ComposeDefinition

MASK = "***"
_SETTINGS = "x-stackctl"
_WEBHOOK = "webhook+"
_VIEWS = "compose_views"


def mask_destination(url: str) -> str:
    """``json://user:tok@hooks.internal:9000/p?k=v`` -> ``json://***@hooks.internal:9000/***``.

    The host is kept only when it names a machine (an address, ``localhost`` or a dotted
    name): Apprise puts tokens and topics in the host's place (``slack://T0/B0/tok``,
    ``ntfy://topic``), and those become ``***`` too."""
    prefix = _WEBHOOK if url.startswith(_WEBHOOK) else ""
    parts = urlsplit(url[len(prefix) :])
    if not parts.scheme:
        return MASK
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    shown = host if _is_network_host(host) else MASK
    if ":" in shown:
        shown = f"[{shown}]"
    if port is not None:
        shown = f"{shown}:{port}"
    user = f"{MASK}@" if "@" in parts.netloc else ""
    rest = f"/{MASK}" if parts.path not in ("", "/") or parts.query or parts.fragment else ""
    return f"{prefix}{parts.scheme}://{user}{shown}{rest}"


def shown_compose(document: dict[str, Any]) -> dict[str, Any]:
    """A stored compose document (its JSON form) with its notification URLs masked."""
    settings = document.get(_SETTINGS)
    if not isinstance(settings, dict):
        return document
    if _VIEWS in settings:  # how Compose sees each service: bookkeeping, not the spec
        settings = {k: v for k, v in settings.items() if k != _VIEWS}
        document = {**document, _SETTINGS: settings}
    if not isinstance(settings.get("notify"), list):
        return document
    notify = [_masked_target(target) for target in settings["notify"]]
    return {**document, _SETTINGS: {**settings, "notify": notify}}


def shown_version(version: StackVersion) -> StackVersion:
    """``version`` as people may see it: its compose document's notification URLs masked."""
    document = version.compose.model_dump(mode="json")
    masked = shown_compose(document)
    if masked is document:
        return version
    return version.model_copy(update={"compose": ComposeDefinition.model_validate(masked)})


def _masked_target(target: Any) -> Any:
    if isinstance(target, str):
        return mask_destination(target)
    if isinstance(target, dict) and isinstance(target.get("url"), str):
        return {**target, "url": mask_destination(target["url"])}
    return target


def _is_network_host(host: str) -> bool:
    if host == "localhost" or "." in host:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
