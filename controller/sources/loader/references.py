"""Image references: the grammar the engine and Compose parse ``image:`` with.

The grammar of distribution/reference (``regexp.go``), written as one anchored regex:
``[DOMAIN[:PORT]/]PATH[:TAG][@DIGEST]``, where the domain is host names separated by dots (upper
case allowed), an IPv6 address in brackets, with an optional port; the path is ``/``-separated
components of lower-case letters and digits joined by ``.``, ``_``, ``__`` or runs of ``-``;
a tag is ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``; a digest is ``ALGORITHM:HEX`` whose algorithm
the engine knows (sha256, sha384, sha512) with exactly as many lower-case hex digits as it
produces. The name (domain and path) holds at most 255 characters. ASCII only: Go's ``\\w`` is.

Pure string functions; nothing here resolves, pulls or looks anything up.
"""

from __future__ import annotations

import re
from typing import Any

from controller.sources.loader.context import ComposeContext, type_name
from controller.sources.loader.yamlmarks import KeyPath

MAX_NAME_LENGTH = 255
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
REFERENCE = re.compile(
    rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII
)


def reference_problem(text: str) -> str | None:
    """Why ``text`` is not an image reference the engine would accept, or None."""
    if not text:
        return "an image reference cannot be empty"
    match = REFERENCE.fullmatch(text)
    if match is None:
        if REFERENCE.fullmatch(text.lower()) is not None:
            return f"image reference `{text}`: the repository name must be lowercase"
        return f"`{text}` is not a valid image reference ([registry/]name[:tag][@digest])"
    if len(match["name"]) > MAX_NAME_LENGTH:
        return f"image name is longer than {MAX_NAME_LENGTH} characters"
    if match["digest"] is not None:
        algorithm, _, hex_digits = match["digest"].partition(":")
        length = DIGEST_HEX_LENGTHS.get(algorithm)
        if length is None:
            known = ", ".join(DIGEST_HEX_LENGTHS)
            return f"unsupported digest algorithm `{algorithm}` ({known})"
        if len(hex_digits) != length or hex_digits != hex_digits.lower():
            return f"a {algorithm} digest is {length} lower-case hex digits"
    return None


def image(ctx: ComposeContext, value: Any, *, path: KeyPath) -> str | None:
    """A service's ``image``: a string of the reference grammar. A number or a boolean is
    refused, not turned into text: Compose's schema wants a string. Null or empty (``${IMAGE}``
    unset) is no image, as in Compose: fine beside a ``build``, else an error (``service.py``)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        ctx.issues.error(path, f"expected a string (an image reference), got {type_name(value)}")
        return None
    problem = reference_problem(value)
    if problem is not None:
        ctx.issues.error(path, problem)
        return None
    return value
