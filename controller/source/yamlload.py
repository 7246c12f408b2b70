"""YAML parsing that remembers where every key and item was written.

Owns the YAML dialect (the YAML 1.2 core schema that Compose's Go parser uses, not PyYAML's
YAML 1.1 default, so ``yes``, ``on`` and ``22:22`` stay strings and ``0440`` is octal as in
Go), duplicate-key detection, merge keys (``<<``), and the line index used by error messages.
It must never interpret the documents: what they mean is for the modules after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from controller.errors import ManifestError

KeyPath = tuple[str | int, ...]

# A 1 MiB file can still expand to billions of values through aliases; cap the walk.
MAX_VALUES = 200_000
MAX_DEPTH = 64

_MERGE_TAG = "tag:yaml.org,2002:merge"
# An integer's digits after its sign, in every base Go's YAML reads (``!!int`` text included).
_INT = re.compile(r"[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+")


class MarkedDict(dict[str, Any]):
    """A mapping that knows the 1-based line of each of its keys."""

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}


class MarkedList(list[Any]):
    """A sequence that knows the 1-based line of each item."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _Resolver(BaseResolver):
    """The YAML 1.2 core schema, with Go's integer syntax (leading ``0`` is octal)."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*|0[0-7]+)|0o[0-7]+|0x[0-9a-fA-F]+|0b[01]+)\Z"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9]+[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
    ),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)\Z"), ["~", "n", "N", ""]
)
_Resolver.add_implicit_resolver(_MERGE_TAG, re.compile(r"^(?:<<)\Z"), ["<"])


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _shown(node: Node) -> str:
    """A node's text for a message: a scalar as written (cut short), else its kind."""
    if isinstance(node, ScalarNode):
        text = str(node.value)
        return repr(text if len(text) <= 40 else text[:40] + "...")
    return f"({node.id})"


class _Constructor(SafeConstructor):
    def construct_object(self, node: Node, deep: bool = False) -> Any:
        """Any failure to build a value (an explicit tag on text it does not fit, such as
        ``!!int 0x1g``) is a YAML error at that node's line, never a bare exception."""
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception as e:  # any Python error of a constructor
            raise ConstructorError(
                None, None, f"cannot read {node.tag} {_shown(node)}: {e}", node.start_mark
            ) from e

    def construct_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if not _INT.fullmatch(digits):
            raise ConstructorError(None, None, f"`{text}` is not an integer", node.start_mark)
        if digits[:2] in ("0x", "0o", "0b"):
            return sign * int(digits, 0)
        if len(digits) > 1 and digits.startswith("0"):
            if not set(digits) <= set("01234567"):
                raise ConstructorError(None, None, f"invalid octal number {text}", node.start_mark)
            return sign * int(digits, 8)
        return sign * int(digits)

    def construct_float(self, node: ScalarNode) -> float:
        """``.inf`` and ``.nan`` are floats, as in YAML; whoever wants a finite number checks."""
        text = str(self.construct_scalar(node)).lower()
        if text.lstrip("+-") in (".inf", "inf"):
            return float("-inf") if text.startswith("-") else float("inf")
        if text.lstrip("+-") in (".nan", "nan"):
            return float("nan")
        try:
            return float(text)
        except ValueError:
            raise ConstructorError(
                None, None, f"`{text}` is not a number", node.start_mark
            ) from None

    def construct_bool(self, node: ScalarNode) -> bool:
        text = str(self.construct_scalar(node))
        if text.lower() not in ("true", "false"):
            raise ConstructorError(None, None, f"`{text}` is not true or false", node.start_mark)
        return text.lower() == "true"

    def construct_map(self, node: MappingNode) -> MarkedDict:
        if not isinstance(node, MappingNode):
            raise ConstructorError(
                None, None, f"`{node.tag}` needs a mapping, not {node.id}", node.start_mark
            )
        data = MarkedDict(_line(node))
        merged: dict[str, tuple[Any, int]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                for source in self._merge_sources(value_node):
                    for key, value in source.items():
                        merged.setdefault(key, (value, source.key_lines[key]))
                continue
            if not isinstance(key_node, ScalarNode):
                raise ConstructorError(
                    None, None, "a mapping key must be a string", key_node.start_mark
                )
            key = str(key_node.value)  # the key as written: `0440:` stays "0440", as in Compose
            if key in data:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key `{key}` (first defined on line {data.key_lines[key]})",
                    key_node.start_mark,
                )
            data[key] = self.construct_object(value_node, deep=True)
            data.key_lines[key] = _line(key_node)
        for key, (value, line) in merged.items():
            if key not in data:  # explicit keys win over merged ones
                data[key] = value
                data.key_lines[key] = line
        return data

    def _merge_sources(self, node: Node) -> list[MarkedDict]:
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        sources = []
        for item in nodes:
            value = self.construct_object(item, deep=True)
            if not isinstance(value, MarkedDict):
                raise ConstructorError(None, None, "`<<` merges mappings only", item.start_mark)
            sources.append(value)
        return sources

    def construct_seq(self, node: SequenceNode) -> MarkedList:
        if not isinstance(node, SequenceNode):
            raise ConstructorError(
                None, None, f"`{node.tag}` needs a sequence, not {node.id}", node.start_mark
            )
        data = MarkedList(_line(node))
        for item in node.value:
            data.append(self.construct_object(item, deep=True))
            data.item_lines.append(_line(item))
        return data


# Only the core schema's tags: `!!binary`, `!!set`, `!!timestamp` or Compose's `!reset` and
# `!override` are refused with "could not determine a constructor", never guessed.
_Constructor.yaml_constructors = {
    "tag:yaml.org,2002:null": SafeConstructor.construct_yaml_null,
    "tag:yaml.org,2002:bool": _Constructor.construct_bool,
    "tag:yaml.org,2002:int": _Constructor.construct_int,
    "tag:yaml.org,2002:float": _Constructor.construct_float,
    "tag:yaml.org,2002:str": SafeConstructor.construct_yaml_str,
    "tag:yaml.org,2002:seq": _Constructor.construct_seq,
    "tag:yaml.org,2002:map": _Constructor.construct_map,
    None: SafeConstructor.construct_undefined,
}


class _Loader(Reader, Scanner, Parser, Composer, _Constructor, _Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


_FastLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):
    from yaml.cyaml import CParser

    class _CLoader(CParser, _Constructor, _Resolver):  # type: ignore[misc, valid-type]
        """libyaml scans and parses (about 10x faster); resolution and construction stay ours."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Constructor.__init__(self)
            _Resolver.__init__(self)

    _FastLoader = _CLoader


class Marks:
    """Line numbers by key path; a path without its own mark falls back to its nearest parent."""

    def __init__(self, lines: dict[KeyPath, int]) -> None:
        self._lines = lines

    def line(self, path: KeyPath) -> int | None:
        for end in range(len(path), -1, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None


@dataclass(frozen=True)
class Document:
    """One YAML document: the data (MarkedDict/MarkedList/scalars) and its line index."""

    data: Any
    marks: Marks


class _TooLarge(Exception):
    pass


def _index(value: Any, path: KeyPath, *, lines: dict[KeyPath, int], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0 or len(path) > MAX_DEPTH:
        raise _TooLarge
    if isinstance(value, MarkedDict):
        for key, item in value.items():
            lines[(*path, key)] = value.key_lines[key]
            _index(item, (*path, key), lines=lines, budget=budget)
    elif isinstance(value, MarkedList):
        for i, item in enumerate(value):
            lines[(*path, i)] = value.item_lines[i]
            _index(item, (*path, i), lines=lines, budget=budget)


def _documents(text: str) -> Iterator[Any]:
    loader = (_FastLoader or _Loader)(text)
    try:
        while loader.check_data():
            yield loader.get_data()
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
    documents = []
    for data in raw:
        lines: dict[KeyPath, int] = {}
        if isinstance(data, MarkedDict | MarkedList):
            lines[()] = data.line
        try:
            _index(data, (), lines=lines, budget=[MAX_VALUES])
        except _TooLarge as e:
            raise ManifestError(
                file=file,
                message=f"document nests deeper than {MAX_DEPTH} levels or expands to more than "
                f"{MAX_VALUES} values (YAML aliases?)",
            ) from e
        documents.append(Document(data=data, marks=Marks(lines)))
    return documents
