"""The Compose Specification's JSON schema, and checking a compose document against it.

The schema (``compose_spec/compose-spec.json``, Apache-2.0, the one Docker Compose v2.40.3
validates with; ``compose_spec/README.md`` says where it comes from) is read and compiled
once per process. ``check_specification`` runs where compose-go runs it: after interpolation
(compose-go interpolates, casts some strings to numbers and booleans, then validates; every
key it casts accepts a string in this schema, so checking our interpolated, uncast document
refuses exactly what it refuses), before our own rules. Whole classes of type errors (a
``null`` where a mapping goes, a number where a size string goes) are refused here with the
key named; what our rules then say at or under a key the schema refused is dropped (each
problem once). ``format`` keywords (durations, ports) are not checked here: our rules parse
those values and say more precisely what is wrong.

Two validators of the same schema: jsonschema-rs gives the verdict (a valid document, nearly
every one, costs a microsecond), and jsonschema, the reference implementation, finds and
locates the errors of an invalid one. When they disagree, jsonschema's errors decide: a
document it finds nothing wrong with is valid.

Messages are ours (``expected a string, got null``, ``unknown key``), never jsonschema's
wording or the whole offending value. This module must never read anything but its schema.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controller.sources.loader.context import type_name
from controller.sources.loader.issues import Issues, render_path
from controller.sources.loader.yamlmarks import KeyPath

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = Path(__file__).resolve().parent / "compose_spec" / "compose-spec.json"
_NAME_PATTERN = "^[a-zA-Z0-9._-]+$"
_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


@functools.cache
def _schema() -> dict[str, Any]:
    """The schema, without ``uniqueItems``: compose-go merges repeated list items (the same
    capability, alias or port twice) before it validates (``override.EnforceUnicity``), so
    Compose accepts them; our rules merge them the same way."""
    return _without_unique_items(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def _without_unique_items(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_unique_items(v) for k, v in node.items() if k != "uniqueItems"}
    if isinstance(node, list):
        return [_without_unique_items(v) for v in node]
    return node


@functools.cache
def verdict_validator() -> Any:
    """jsonschema-rs, compiled once: whether a document is valid, in about a microsecond (the
    pure-Python validator takes 0.2 ms to 2 ms per service: it builds an error object for each
    `oneOf` form a valid value does not take)."""
    import jsonschema_rs

    return jsonschema_rs.Draft7Validator(_schema())


@functools.cache
def schema_validator() -> Any:
    """jsonschema (draft 7; the schema's ``$schema``, ".../draft-07/schema" without "#", is
    not a name it recognises), compiled once and imported only when a document is invalid:
    the errors, each at its key, for the messages below."""
    from jsonschema import Draft7Validator

    return Draft7Validator(_schema())


def check_specification(doc: dict[str, Any], *, issues: Issues) -> set[str]:
    """Report where ``doc`` (an interpolated compose document) breaks the schema; return the
    rendered key paths it refused, so that what our rules then say there is dropped
    (``Issues.drop_repeats``): each problem is reported once, in the schema's words."""
    try:
        if verdict_validator().is_valid(doc):
            return set()
    except (ValueError, TypeError, OverflowError):
        pass  # a value it cannot convert to JSON (none our YAML makes today): jsonschema decides
    refused: set[str] = set()
    for error in schema_validator().iter_errors(doc):
        for path, message in _problems(error):
            issues.error(path, message)
            refused.add(render_path((*issues.prefix, *path)))
    return refused


def _problems(error: ValidationError) -> Iterator[tuple[KeyPath, str]]:
    """(key path, message) for one schema error; a failed ``oneOf``/``anyOf`` is described by
    the form the value was evidently meant to have (the one whose type it has)."""
    path: KeyPath = tuple(error.absolute_path)
    match error.validator:
        case "oneOf" | "anyOf":
            yield from _alternatives(error, path)
        case "additionalProperties":
            yield from _extra_keys(error, path)
        case "required":
            for key in error.validator_value:
                if isinstance(error.instance, dict) and key not in error.instance:
                    yield (*path, key), "required key is missing"
        case "type":
            yield path, _expected(error.validator_value, error.instance)
        case "enum":
            choices = ", ".join(str(c) for c in error.validator_value)
            yield path, f"expected one of {choices}, got {_got(error.instance)}"
        case _:
            yield path, _other(error)


def _alternatives(error: ValidationError, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    if not branches:  # valid under more than one `oneOf` form: the schema's own ambiguity
        yield path, "matches more than one of the forms this key takes"
        return
    # A branch refused only for its type at this very value is a form the value does not
    # take; if every branch is such, the value has none of the types the key accepts.
    wrong_type = {
        i: subs
        for i, subs in branches.items()
        if all(s.validator == "type" and not s.relative_path for s in subs)
    }
    meant = [subs for i, subs in branches.items() if i not in wrong_type]
    if not meant:
        types: list[str] = []
        for subs in wrong_type.values():
            for sub in subs:
                listed = sub.validator_value
                types += [listed] if isinstance(listed, str) else list(listed)
        yield path, _expected(list(dict.fromkeys(types)), error.instance)
        return
    for sub in min(meant, key=len):  # the form it came closest to
        yield from _problems(sub)


def _extra_keys(error: ValidationError, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    known = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    if not isinstance(error.instance, dict):
        return
    for key in error.instance:
        if key in known or any(re.search(p, key) for p in patterns):
            continue
        if _NAME_PATTERN in patterns:  # a mapping of names: services, networks, ...
            what = "service name" if path == ("services",) else "name"
            yield (*path, key), f"invalid {what} {key!r}; use letters, digits, `.`, `_` and `-`"
        else:
            yield (*path, key), "unknown key"


def _expected(types: str | list[str], instance: Any) -> str:
    listed = [types] if isinstance(types, str) else list(types)
    names = [_TYPES.get(t, t) for t in listed]
    wanted = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"expected {wanted}, got {_got(instance)}"


def _got(instance: Any) -> str:
    """What a value is, for a message: its type, and a scalar's value cut short."""
    text = type_name(instance)
    return text if len(text) <= 80 else text[:77] + "..."


_LIMITS = {
    "minimum": "at least {}",
    "maximum": "at most {}",
    "exclusiveMinimum": "more than {}",
    "exclusiveMaximum": "less than {}",
    "minLength": "at least {} characters long",
    "maxLength": "at most {} characters long",
    "minItems": "a list of at least {} items",
    "maxItems": "a list of at most {} items",
    "minProperties": "a mapping of at least {} keys",
    "const": "{}",
}


def _other(error: ValidationError) -> str:
    """The rarer keywords, in the same words as the others."""
    if error.validator == "pattern":
        return f"invalid value {_got(error.instance)}: it must match {error.validator_value}"
    if error.validator == "not":
        return f"{_got(error.instance)} is not allowed here"
    template = _LIMITS.get(str(error.validator))
    if template is not None:
        return f"expected {template.format(error.validator_value)}, got {_got(error.instance)}"
    # A keyword this schema does not use today: jsonschema's words, without the whole value.
    return error.message if len(error.message) <= 120 else error.message[:117] + "..."
