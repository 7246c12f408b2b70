"""YAML parsing that remembers where every key and item was written.

Owns the YAML dialect (the YAML 1.2 core schema that Compose's Go parser uses, not PyYAML's
YAML 1.1 default, so ``yes``, ``on`` and ``22:22`` stay strings and ``0440`` is octal as in
Go), duplicate-key detection, merge keys (``<<``), and the line index used by error messages.
It must never interpret the documents: what they mean is for the modules after it.

Speed (the watcher loads every source of a root): libyaml scans, parses and composes when it is
there; resolution and construction are ours, specialised for the core schema's few tags (any
other node takes PyYAML's generic path, for the same result and errors). Each mapping and list
records its line(s) and how large it expands, so the size limits need no second walk, and a
key path's line is found by walking the data only when a message needs one.
"""

from __future__ import annotations

import operator
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

from controller.models.errors import ManifestError

KeyPath = tuple[str | int, ...]

# A 1 MiB file can still expand to billions of values through aliases; cap the walk.
MAX_VALUES = 200_000
MAX_DEPTH = 64

_MERGE_TAG = "tag:yaml.org,2002:merge"
# An integer's digits after its sign, in every base Go's YAML reads (``!!int`` text included).
_INT = re.compile(r"[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+")


class MarkedDict(dict[str, Any]):
    """A mapping that knows the 1-based line of each of its keys, and its extent: ``size``
    (values once aliases are expanded, itself included) and ``height`` (levels below it)."""

    __slots__ = ("height", "key_lines", "line", "size")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}
        self.size = 1
        self.height = 0


class MarkedList(list[Any]):
    """A sequence that knows the 1-based line of each item, and its extent (as ``MarkedDict``)."""

    __slots__ = ("height", "item_lines", "line", "size")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []
        self.size = 1
        self.height = 0


def _extent(values: Any) -> tuple[int, int]:
    """(size, height) of a container holding ``values``; nested ones carry their own."""
    size, height = 1, 0
    for value in values:
        kind = value.__class__
        if kind is MarkedDict or kind is MarkedList:
            size += value.size
            if value.height >= height:
                height = value.height + 1
        else:
            size += 1
            if not height:
                height = 1
    return size, height


class _Resolver(BaseResolver):
    """The YAML 1.2 core schema, with Go's integer syntax (leading ``0`` is octal)."""

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        """``BaseResolver.resolve`` for this schema, which has no path resolvers and no
        wildcard: only a plain scalar can be other than a string (the composer asks once per
        node, so this runs as often as anything in a load)."""
        if kind is ScalarNode and implicit[0]:
            for tag, regexp in _IMPLICIT.get(value[:1], ()):
                if regexp.match(value):
                    return tag
        return _DEFAULT_TAGS[kind]

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass  # path resolvers only; this schema has none

    def ascend_resolver(self) -> None:
        pass


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
# The first character of a plain scalar -> the (tag, pattern) pairs it may match.
_IMPLICIT = {first: tuple(pairs) for first, pairs in _Resolver.yaml_implicit_resolvers.items()}
_STR = BaseResolver.DEFAULT_SCALAR_TAG
_SEQ = BaseResolver.DEFAULT_SEQUENCE_TAG
_MAP = BaseResolver.DEFAULT_MAPPING_TAG
_DEFAULT_TAGS = {ScalarNode: _STR, SequenceNode: _SEQ, MappingNode: _MAP}


def _shown(node: Node) -> str:
    """A node's text for a message: a scalar as written (cut short), else its kind."""
    if isinstance(node, ScalarNode):
        text = str(node.value)
        return repr(text if len(text) <= 40 else text[:40] + "...")
    return f"({node.id})"


def _unreadable(node: Node, error: Exception) -> ConstructorError:
    return ConstructorError(
        None, None, f"cannot read {node.tag} {_shown(node)}: {error}", node.start_mark
    )


class _Constructor(SafeConstructor):
    def construct_object(self, node: Node, deep: bool = False) -> Any:
        """Any failure to build a value (an explicit tag on text it does not fit, such as
        ``!!int 0x1g``) is a YAML error at that node's line, never a bare exception."""
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception as e:  # any Python error of a constructor
            raise _unreadable(node, e) from e

    def build(self, node: Node) -> Any:
        """``construct_object`` for the nodes of the core schema, without its generic dispatch
        (same values, same memo of aliased nodes, same refusal of a recursive one); any other
        node (an explicit tag elsewhere, a tag on the wrong kind of node) goes the generic way."""
        kind = node.__class__
        tag = node.tag
        if kind is ScalarNode:
            if tag == _STR:
                return node.value
            scalar = _SCALARS.get(tag)
            if scalar is None:
                return self.construct_object(node, deep=True)
            try:
                return scalar(self, node)
            except (yaml.YAMLError, RecursionError):
                raise
            except Exception as e:  # as construct_object says
                raise _unreadable(node, e) from e
        built = self.constructed_objects.get(node)  # an alias of a node built already
        if built is not None:
            return built
        if not ((kind is MappingNode and tag == _MAP) or (kind is SequenceNode and tag == _SEQ)):
            return self.construct_object(node, deep=True)
        if node in self.recursive_objects:
            raise ConstructorError(
                None, None, "found unconstructable recursive node", node.start_mark
            )
        self.recursive_objects[node] = None
        data = self.construct_map(node) if kind is MappingNode else self.construct_seq(node)
        self.constructed_objects[node] = data
        del self.recursive_objects[node]
        return data

    def build_document(self, node: Node) -> Any:
        """``construct_document``: no constructor of this schema defers work (generators)."""
        try:
            return self.build(node)
        finally:
            self.constructed_objects = {}
            self.recursive_objects = {}

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
        data = MarkedDict(node.start_mark.line + 1)
        key_lines = data.key_lines
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
                    f"duplicate key `{key}` (first defined on line {key_lines[key]})",
                    key_node.start_mark,
                )
            # Most values are plain text: taken here, without a call to `build` for each.
            if value_node.__class__ is ScalarNode and value_node.tag == _STR:
                data[key] = value_node.value
            else:
                data[key] = self.build(value_node)
            key_lines[key] = key_node.start_mark.line + 1
        for key, (value, line) in merged.items():
            if key not in data:  # explicit keys win over merged ones
                data[key] = value
                key_lines[key] = line
        if data:
            data.size, data.height = _extent(data.values())
        return data

    def _merge_sources(self, node: Node) -> list[MarkedDict]:
        nodes = node.value if isinstance(node, SequenceNode) else [node]
        sources = []
        for item in nodes:
            value = self.build(item)
            if not isinstance(value, MarkedDict):
                raise ConstructorError(None, None, "`<<` merges mappings only", item.start_mark)
            sources.append(value)
        return sources

    def construct_seq(self, node: SequenceNode) -> MarkedList:
        if not isinstance(node, SequenceNode):
            raise ConstructorError(
                None, None, f"`{node.tag}` needs a sequence, not {node.id}", node.start_mark
            )
        data = MarkedList(node.start_mark.line + 1)
        build = self.build
        data.extend(
            [
                item.value if item.__class__ is ScalarNode and item.tag == _STR else build(item)
                for item in node.value
            ]
        )
        data.item_lines.extend([item.start_mark.line + 1 for item in node.value])
        if data:
            data.size, data.height = _extent(data)
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
# The scalar tags `build` constructs itself (a string is its text).
_SCALARS = {
    tag: _Constructor.yaml_constructors[tag]
    for tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")
}
_SCALARS["tag:yaml.org,2002:float"] = _Constructor.construct_float


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
            # libyaml's composer calls these two around every node, for path resolvers, which
            # this schema has none of: C functions that do nothing with their arguments (and
            # have no effect) cost a fraction of a Python method's call.
            self.descend_resolver = operator.is_
            self.ascend_resolver = tuple

    _FastLoader = _CLoader


class Marks:
    """Line numbers by key path, found in the data when a message asks (most loads ask for
    none); a path without its own mark falls back to its nearest parent."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def line(self, path: KeyPath) -> int | None:
        value = self._data
        if not isinstance(value, MarkedDict | MarkedList):
            return None
        line = value.line
        for part in path:
            if isinstance(value, MarkedDict) and isinstance(part, str):
                found = value.key_lines.get(part)
            elif isinstance(value, MarkedList) and isinstance(part, int) and 0 <= part < len(value):
                found = value.item_lines[part]
            else:
                found = None
            if found is None:
                break
            line, value = found, value[part]
        return line


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
