"""Field-level differences between two canonical services, for people to read (``diff``).

``service_changes(old, new)`` walks both canonical services (their JSON form) and returns one
``FieldChange`` per leaf that differs, with a key path (``environment.LOG_LEVEL``,
``ports[0].published``) and the old and new values as short JSON text. Lists of equal length
are compared item by item; lists of different length as a whole. What must not be printed is
masked here, once, so that no caller can forget it: the values of environment variables and
build args whose names look secret (``PASSWORD``, ``TOKEN``, ``SECRET``, ``KEY``, ...) become
``***``, and content hashes (``sha256`` of secrets, configs, env files) become
``<content>``: a hash of a short secret is as good as the secret to whoever can guess it.
Secret and config file contents never reach the model, so they cannot be printed.
``document_changes`` does the same for two whole stored compose documents (a version's
``compose``: services, networks, volumes, secrets, configs and the ``x-stackctl`` settings), for
the console's diff between any two versions; notification URLs carry tokens and are masked.

Pure functions only: they read no file and no clock.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from controller.desired.compose import Service

MASK = "***"
CONTENT = "<content>"
# Substrings of variable names whose values are secrets; compared upper-cased.
_SECRET_NAME = re.compile(r"PASS|PWD|TOKEN|SECRET|KEY|CREDENTIAL|PRIVATE|AUTH|CERT|SALT")
# Maps whose keys are variable names (their values masked when the name looks secret).
_VARIABLE_MAPS = {"environment", "args"}


@dataclass(frozen=True)
class FieldChange:
    """One differing leaf: ``old``/``new`` are JSON text, or None when the key is absent."""

    path: str
    old: str | None
    new: str | None

    @property
    def kind(self) -> str:
        """``added``, ``removed`` or ``changed``."""
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"

    def describe(self) -> str:
        if self.old is None:
            return f"+ {self.path}: {self.new}"
        if self.new is None:
            return f"- {self.path}: {self.old}"
        return f"~ {self.path}: {self.old} -> {self.new}"


def looks_secret(name: str) -> bool:
    return _SECRET_NAME.search(name.upper()) is not None


def service_changes(old: Service | None, new: Service | None) -> list[FieldChange]:
    """Every leaf of the canonical service that differs, in key-path order, values masked."""
    before = old.model_dump(mode="json") if old is not None else {}
    after = new.model_dump(mode="json") if new is not None else {}
    out: list[FieldChange] = []
    _walk(before, after, path="", masked=False, out=out)
    return out


def document_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """Every leaf of two stored compose documents that differs (``services.web.image``,
    ``x-stackctl.notify[0].url``), in key-path order, secrets masked as in ``service_changes``."""
    out: list[FieldChange] = []
    for key in sorted(set(old) | set(new)):
        _walk(
            old.get(key, _ABSENT),
            new.get(key, _ABSENT),
            path=key,
            masked=False,
            out=out,
        )
    return [_masked_url(change) for change in out]


def _masked_url(change: FieldChange) -> FieldChange:
    """A destination URL (``notify``) holds its token in the URL itself: only say it changed."""
    if not change.path.startswith(_NOTIFY):
        return change
    return FieldChange(
        change.path,
        MASK if change.old is not None else None,
        MASK if change.new is not None else None,
    )


# Where a stored version keeps the stack's destinations (controller.sources.versions' settings key).
_NOTIFY = "x-stackctl.notify"
_ABSENT = object()


def _walk(a: Any, b: Any, *, path: str, masked: bool, out: list[FieldChange]) -> None:
    if a == b:
        return
    if isinstance(a, dict) and b is _ABSENT:
        b = {}  # a map that went away: each of its keys, masked as usual
    if isinstance(b, dict) and a is _ABSENT:
        a = {}
    if isinstance(a, dict) and isinstance(b, dict):
        parent = path.rsplit(".", 1)[-1].split("[", 1)[0]
        for key in sorted(set(a) | set(b)):
            child = f"{path}.{key}" if path else str(key)
            secret = masked or (parent in _VARIABLE_MAPS and looks_secret(str(key)))
            _walk(a.get(key, _ABSENT), b.get(key, _ABSENT), path=child, masked=secret, out=out)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _walk(x, y, path=f"{path}[{i}]", masked=masked, out=out)
        return
    leaf = path.rsplit(".", 1)[-1]
    out.append(
        FieldChange(
            path,
            _show(a, masked=masked, content=leaf == "sha256"),
            _show(b, masked=masked, content=leaf == "sha256"),
        )
    )


def _show(value: Any, *, masked: bool, content: bool) -> str | None:
    if value is _ABSENT:
        return None
    if masked:
        return MASK
    if content and value is not None:
        return CONTENT
    return json.dumps(_hidden(value), sort_keys=True, separators=(",", ":"))


def _hidden(value: Any, *, key: str = "") -> Any:
    """A value printed whole (a list that grew) still hides the content hashes and the
    secret-looking variables inside it."""
    if isinstance(value, dict):
        return {k: _hidden_item(k, v, parent=key) for k, v in value.items()}
    if isinstance(value, list):
        return [_hidden(v) for v in value]
    return value


def _hidden_item(key: str, value: Any, *, parent: str) -> Any:
    if key == "sha256" and value is not None:
        return CONTENT
    if parent in _VARIABLE_MAPS and looks_secret(key):
        return MASK
    return _hidden(value, key=key)
