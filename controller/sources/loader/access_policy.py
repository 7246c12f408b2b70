"""The access policy file (``--access-policy FILE``, ``STACKCTL_ACCESS_POLICY``): who holds which
role on which stacks.

    kind: AccessPolicy
    bindings:
      - groups: [ops]                 # the groups claim of the person's identity provider
        role: operator
        stacks: {labels: {team: shop}}
      - users: [carol]                # their user name (the username claim)
        role: admin                   # no `stacks`: every stack
      - groups: [dev]
        role: viewer
        stacks: {names: ["shop*", billing]}

It is read from the operator's own folder, never from the watched manifests or a followed git
repository: whoever may push a manifest must not be able to grant themselves access. A person
holds the grants of every binding that names them or one of their groups, and nothing else
(deny by default). ``stacks`` selects by name pattern (shell-style, any of them) and labels
(``metadata.labels`` of the stack's manifest, all of them); both given, a stack must match both.
Every problem is a ``ManifestError`` naming the file, the key (``bindings[1].role``) and what is
wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from controller.models.access import AccessPolicy, Binding, Role, StackSelector
from controller.models.errors import ManifestError
from controller.sources.loader.yamlload import load_documents

KIND = "AccessPolicy"
_TOP = {"kind", "apiVersion", "bindings"}
_BINDING = {"role", "users", "groups", "stacks"}
_KEYS = "role, users, groups, stacks"
_ROLES = ", ".join(role.value for role in Role)


def load_access_policy(path: Path) -> AccessPolicy:
    """The policy ``path`` declares; a ``ManifestError`` for the first problem."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(file=file, message=f"cannot read the access policy: {e}") from e
    documents = load_documents(text, file=file)
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        raise ManifestError(file=file, message=f"expected one mapping with `kind: {KIND}`")
    data = documents[0].data
    if data.get("kind") != KIND:
        raise ManifestError(file=file, path="kind", message=f"must be {KIND}")
    unknown = sorted(set(map(str, data)) - _TOP)
    if unknown:
        raise ManifestError(file=file, path=unknown[0], message="unknown key (kind, bindings)")
    bindings = data.get("bindings")
    if bindings is None:
        bindings = []
    if not isinstance(bindings, list):
        raise ManifestError(file=file, path="bindings", message="a list of bindings")
    return AccessPolicy(
        bindings=tuple(
            _binding(body, file=file, where=f"bindings[{i}]") for i, body in enumerate(bindings)
        )
    )


def _binding(body: Any, *, file: str, where: str) -> Binding:
    if not isinstance(body, dict):
        raise ManifestError(file=file, path=where, message=f"a mapping ({_KEYS})")
    unknown = sorted(set(map(str, body)) - _BINDING)
    if unknown:
        raise ManifestError(
            file=file, path=f"{where}.{unknown[0]}", message=f"unknown key ({_KEYS})"
        )
    try:
        role = Role(body.get("role"))
    except ValueError:
        raise ManifestError(
            file=file, path=f"{where}.role", message=f"one of {_ROLES}, not {body.get('role')!r}"
        ) from None
    users = _names(body.get("users"), file=file, where=f"{where}.users")
    groups = _names(body.get("groups"), file=file, where=f"{where}.groups")
    if not users and not groups:
        raise ManifestError(
            file=file, path=where, message="names nobody: give `users`, `groups` or both"
        )
    stacks = _selector(body.get("stacks"), file=file, where=f"{where}.stacks")
    return Binding(role=role, users=users, groups=groups, stacks=stacks)


def _names(value: Any, *, file: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ManifestError(file=file, path=where, message="a list of non-empty names")
    return tuple(value)


def _selector(value: Any, *, file: str, where: str) -> StackSelector | None:
    """``None`` (no ``stacks``): every stack."""
    if value is None:
        return None
    if not isinstance(value, dict) or not set(map(str, value)) <= {"names", "labels"} or not value:
        raise ManifestError(
            file=file,
            path=where,
            message="a mapping with `names` (patterns) and/or `labels` (key: value); leave"
            " `stacks` out for every stack",
        )
    names = _names(value.get("names"), file=file, where=f"{where}.names")
    labels = value.get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(v, str | int | float | bool) for v in labels.values()
    ):
        raise ManifestError(file=file, path=f"{where}.labels", message="a mapping of key: value")
    pairs = tuple((str(k), _label_value(v)) for k, v in labels.items())
    if not names and not pairs:
        raise ManifestError(file=file, path=where, message="selects no stack: give names or labels")
    return StackSelector(names=names, labels=pairs)


def _label_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
