"""The YAML dialect: the YAML 1.2 core schema that Compose's Go parser uses, not PyYAML's YAML
1.1 default (``yes``, ``on`` and ``22:22`` stay strings, ``0440`` is octal as in Go), with
duplicate-key detection and merge keys (``<<``).

``CoreResolver`` says which tag a plain scalar gets; ``CoreConstructor`` builds the values, as
``yamlmarks``' marked mappings and lists, specialised for the schema's few tags (any other node
takes PyYAML's generic path, for the same result and errors). ``yamlload`` puts them behind a
parser.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from controller.sources.loader.yamlmarks import MarkedDict, MarkedList, extent

_MERGE_TAG = "tag:yaml.org,2002:merge"
# An integer's digits after its sign, in every base Go's YAML reads (``!!int`` text included).
_INT = re.compile(r"[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+")


class CoreResolver(BaseResolver):
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


CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF")
)
CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*|0[0-7]+)|0o[0-7]+|0x[0-9a-fA-F]+|0b[01]+)\Z"),
    list("-+0123456789"),
)
CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9]+[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
    ),
    list("-+0123456789."),
)
CoreResolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)\Z"), ["~", "n", "N", ""]
)
CoreResolver.add_implicit_resolver(_MERGE_TAG, re.compile(r"^(?:<<)\Z"), ["<"])
# The first character of a plain scalar -> the (tag, pattern) pairs it may match.
_IMPLICIT = {first: tuple(pairs) for first, pairs in CoreResolver.yaml_implicit_resolvers.items()}
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


class CoreConstructor(SafeConstructor):
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
            data.size, data.height = extent(data.values())
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
            data.size, data.height = extent(data)
        return data


# Only the core schema's tags: `!!binary`, `!!set`, `!!timestamp` or Compose's `!reset` and
# `!override` are refused with "could not determine a constructor", never guessed.
CoreConstructor.yaml_constructors = {
    "tag:yaml.org,2002:null": SafeConstructor.construct_yaml_null,
    "tag:yaml.org,2002:bool": CoreConstructor.construct_bool,
    "tag:yaml.org,2002:int": CoreConstructor.construct_int,
    "tag:yaml.org,2002:float": CoreConstructor.construct_float,
    "tag:yaml.org,2002:str": SafeConstructor.construct_yaml_str,
    "tag:yaml.org,2002:seq": CoreConstructor.construct_seq,
    "tag:yaml.org,2002:map": CoreConstructor.construct_map,
    None: SafeConstructor.construct_undefined,
}
# The scalar tags `build` constructs itself (a string is its text).
_SCALARS = {
    tag: CoreConstructor.yaml_constructors[tag]
    for tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")
}
_SCALARS["tag:yaml.org,2002:float"] = CoreConstructor.construct_float
