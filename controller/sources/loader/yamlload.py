"""YAML parsing that remembers where every key and item was written: ``load_documents``.

Owns the parser and the limits on what a document may expand to. The dialect (the YAML 1.2
core schema, duplicate keys, merge keys) is ``yamlschema``; the marked values and their line
index are ``yamlmarks``. It must never interpret the documents: what they mean is for the
modules after it.

Speed (the watcher loads every source of a root): libyaml scans, parses and composes when it is
there; resolution and construction are ours (``yamlschema``). Each mapping and list records its
line(s) and how large it expands, so the size limits need no second walk, and a key path's line
is found by walking the data only when a message needs one.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from controller.models.errors import ManifestError
from controller.sources.loader.yamlmarks import MarkedDict, MarkedList, Marks
from controller.sources.loader.yamlschema import CoreConstructor, CoreResolver

# A 1 MiB file can still expand to billions of values through aliases; cap the walk.
MAX_VALUES = 200_000
MAX_DEPTH = 64


class _Loader(Reader, Scanner, Parser, Composer, CoreConstructor, CoreResolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        CoreConstructor.__init__(self)
        CoreResolver.__init__(self)


_FastLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):
    from yaml.cyaml import CParser

    class _CLoader(CParser, CoreConstructor, CoreResolver):  # type: ignore[misc, valid-type]
        """libyaml scans and parses (about 10x faster); resolution and construction stay ours."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            CoreConstructor.__init__(self)
            CoreResolver.__init__(self)
            # libyaml's composer calls these two around every node, for path resolvers, which
            # this schema has none of: C functions that do nothing with their arguments (and
            # have no effect) cost a fraction of a Python method's call.
            self.descend_resolver = operator.is_
            self.ascend_resolver = tuple

    _FastLoader = _CLoader


@dataclass(frozen=True)
class Document:
    """One YAML document: the data (MarkedDict/MarkedList/scalars) and its line index."""

    data: Any
    marks: Marks


def _too_large(data: Any) -> bool:
    """Expanded beyond the limits: later walks of the data (interpolation, the checks) would
    take forever or overflow the stack."""
    if not isinstance(data, MarkedDict | MarkedList):
        return False
    return data.size > MAX_VALUES or data.height > MAX_DEPTH


def _documents(text: str) -> Iterator[Any]:
    loader = (_FastLoader or _Loader)(text)
    try:
        while loader.check_node():
            yield loader.build_document(loader.get_node())
    finally:
        loader.dispose()


def load_documents(text: str, *, file: str) -> list[Document]:
    """Parse every document of ``text``; any YAML problem is one ``ManifestError`` with a line."""
    try:
        raw = list(_documents(text))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        message = " ".join(part for part in (e.context, e.problem) if part) or "invalid YAML"
        # libyaml places end-of-input problems after a missing final newline; clamp to the file.
        line = min(mark.line + 1, text.count("\n") + 1) if mark else None
        raise ManifestError(file=file, line=line, message=f"invalid YAML: {message}") from e
    except yaml.YAMLError as e:
        raise ManifestError(file=file, message=f"invalid YAML: {e}") from e
    except RecursionError as e:
        raise ManifestError(file=file, message="invalid YAML: nested too deeply") from e
    if any(_too_large(data) for data in raw):
        raise ManifestError(
            file=file,
            message=f"document nests deeper than {MAX_DEPTH} levels or expands to more than "
            f"{MAX_VALUES} values (YAML aliases?)",
        )
    return [Document(data=data, marks=Marks(data)) for data in raw]
