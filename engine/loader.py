"""Stage 1: YAML (or JSON) text to plain data plus a position index for every value.

Speed (docs/performance.md, "Terminal UI"): libyaml, PyYAML's C parser, composes the node tree
about ten times faster than PyYAML's pure-Python parser, with the same marks (line, column).
``parse_text`` uses it for every text it reads the same way (``parse_fast``); wherever the two
are known to differ, and for anything libyaml refuses, the pure-Python parser decides, so the
data, every position and every problem's message stay exactly those of the pure-Python parser.
``tests/unit/test_loader.py`` compares both on every YAML file of the repository, on the known
differences and on generated documents.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from engine.errors import Problem
from engine.location import Location, PathPart

PositionIndex = dict[tuple[PathPart, ...], Location]

_FAST_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)
LIBYAML = _FAST_LOADER is not None
"""Whether PyYAML has libyaml (its C parser), and so ``parse_text`` a fast path."""
_FAST_MAX_DEPTH = 100
"""Deeper documents take the pure-Python path, whose recursion limit decides as it always did."""
_STR_TAG = "tag:yaml.org,2002:str"
_NON_SPECIFIC_TAG = re.compile(r"(?:^|[\s\[{,])!(?:\s|$)", re.MULTILINE)
"""A bare ``!`` tag: libyaml resolves ``!`` with an empty value to a string, PyYAML to null."""
_HEADER_COMMENT = re.compile(r"[|>][-+0-9]*#")
"""A block scalar header with a comment glued on (``|#``): libyaml accepts it, PyYAML does not."""


class _NotFast(Exception):  # noqa: N818 - a signal, not an error anyone sees
    """The fast path declines a document; the pure-Python path parses it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """One parsed file: its data and where each value stood."""

    file: str
    """The file name used in problem locations."""
    data: Any
    """Plain Python data (dict, list, str, int, float, bool, None, date)."""
    index: PositionIndex
    """Path -> position of the value (for mappings, of the key's value node)."""
    key_index: PositionIndex
    """Path -> position of the mapping key itself (for unknown-key problems)."""


class _Builder:
    """Turns a composed node tree into data while recording positions."""

    def __init__(self, file: str, *, fast: bool = False) -> None:
        self.file = file
        self.fast = fast
        """Nodes from libyaml: decline (``_NotFast``) where it may differ from PyYAML."""
        self.index: PositionIndex = {}
        self.key_index: PositionIndex = {}
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")

    def _loc(self, node: yaml.Node, path: tuple[PathPart, ...]) -> Location:
        mark = node.start_mark
        return Location(file=self.file, line=mark.line + 1, column=mark.column + 1, path=path)

    def build(self, node: yaml.Node, path: tuple[PathPart, ...]) -> Any:  # noqa: ANN401 - YAML data
        mark = node.start_mark  # the Location inline: this runs for every value of the knowledge
        self.index[path] = Location(
            file=self.file, line=mark.line + 1, column=mark.column + 1, path=path
        )
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR_TAG:
                return node.value  # what SafeConstructor.construct_yaml_str returns
            try:
                return self._constructor.construct_object(node, deep=True)
            except (
                ValueError,
                TypeError,
                KeyError,
                IndexError,
                AttributeError,
                OverflowError,
            ) as exc:
                # PyYAML raises plain errors for values such as 2026-02-30 or `!!int abc`.
                self.problems.append(
                    Problem(
                        code="yaml.bad_value",
                        message=f"invalid value {node.value!r}: {exc}",
                        location=self._loc(node, path),
                    ),
                )
                return None
        if self.fast:
            _check_fast(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            try:
                key = self._scalar(key_node)
            except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
                key = None
            if not isinstance(key, (str, int, float, bool)):
                self.problems.append(
                    Problem(
                        code="yaml.bad_key",
                        message=f"a mapping key must be a plain value, not {type(key).__name__}",
                        location=self._loc(key_node, path),
                    ),
                )
                continue
            key_str = key if isinstance(key, str) else str(key)
            child = (*path, key_str)
            if key_str in result:
                self.problems.append(
                    Problem(
                        code="yaml.duplicate_key",
                        message=f"key '{key_str}' appears twice in the same mapping",
                        location=self._loc(key_node, child),
                        hint="remove or rename one of them; YAML would silently keep the last",
                    ),
                )
                continue
            self.key_index[child] = self._loc(key_node, child)
            result[key_str] = self.build(value_node, child)
        return result

    def _scalar(self, node: yaml.Node) -> Any:  # noqa: ANN401 - YAML data
        if node.tag == _STR_TAG and isinstance(node, yaml.ScalarNode):
            return node.value
        return self._constructor.construct_object(node, deep=True)


def _check_fast(node: yaml.Node, path: tuple[PathPart, ...]) -> None:
    """Raise ``_NotFast`` for a node libyaml may have read differently from PyYAML.

    Deep documents (PyYAML's recursion limit decides those), a key that is not a scalar (only
    ever a problem, and its content is not built), and in a flow collection a plain scalar
    with a ``?`` (``[a?]``: PyYAML ends the scalar there and fails, libyaml reads ``a?``) or
    an empty one (``{a: }``: the two mark the missing value one column apart).
    """
    if len(path) > _FAST_MAX_DEPTH:
        raise _NotFast
    mapping = isinstance(node, yaml.MappingNode)
    if mapping and any(not isinstance(key, yaml.ScalarNode) for key, _ in node.value):
        raise _NotFast
    if getattr(node, "flow_style", False):  # a collection (scalars never come here)
        children = [n for pair in node.value for n in pair] if mapping else node.value
        for child in children:
            if (
                isinstance(child, yaml.ScalarNode)
                and not child.style
                and (not child.value or "?" in child.value)
            ):
                raise _NotFast


def parse_text(text: str, file: str, *, fast: bool = True) -> tuple[Document | None, list[Problem]]:
    """Parse YAML/JSON text; return the document (None on a syntax error) and problems.

    ``fast=False`` uses PyYAML's pure-Python parser only: the reference the fast path is
    tested against (``parse_fast``).
    """
    if fast:
        done = parse_fast(text, file)
        if done is not None:
            return done
    return _parse_slow(text, file)


def _fast_enough(text: str) -> bool:
    """Whether libyaml reads ``text`` exactly as the pure-Python parser does (marks included).

    Where the two are known to differ the pure-Python parser decides: tabs and block scalar
    headers with a glued comment (libyaml accepts them, PyYAML does not), a bare ``!`` tag, a
    byte-order mark after the start, and an empty value at the very end of a text without a
    final newline (libyaml marks it on the next line). Found by comparing both on generated
    documents (``tests/unit/test_loader.py``); the checks cost ~2 ms for the bundled knowledge.
    """
    return (
        text.endswith("\n")
        and "\t" not in text
        and "\ufeff" not in text[1:]
        and not ("!" in text and _NON_SPECIFIC_TAG.search(text))
        and not _HEADER_COMMENT.search(text)
    )


def parse_fast(text: str, file: str) -> tuple[Document, list[Problem]] | None:
    """The libyaml parse, or None when the text needs the pure-Python parser's judgement.

    None without libyaml, for texts where the two parsers are known to differ
    (``_fast_enough``, ``_check_fast``), and for anything libyaml refuses or that fails to
    build: the pure-Python parser then says what is wrong, with its exact message and position.
    """
    if _FAST_LOADER is None or not _fast_enough(text):
        return None
    try:
        node = yaml.compose(text, Loader=_FAST_LOADER)
        builder = _Builder(file, fast=True)
        data = None if node is None else builder.build(node, ())
    except (
        _NotFast,
        yaml.YAMLError,
        RecursionError,
        ValueError,  # also UnicodeEncodeError (a lone surrogate)
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        OverflowError,
    ):
        return None
    return Document(
        file=file, data=data, index=builder.index, key_index=builder.key_index
    ), builder.problems


def _parse_slow(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """The pure-Python parse: the reference for every syntax error's message and position."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        return None, [
            Problem(
                code="yaml.too_deep",
                message="the document nests too deeply",
                location=Location(file=file),
            ),
        ]
    except yaml.MarkedYAMLError as exc:
        as_json = _json_fallback(text, file)
        if as_json is not None:
            return as_json, []
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        column = mark.column + 1 if mark is not None else 0
        reason = exc.problem or exc.context or "invalid YAML"
        return None, [
            Problem(
                code="yaml.syntax",
                message=f"YAML syntax error: {reason}",
                location=Location(file=file, line=line, column=column),
            ),
        ]
    except yaml.YAMLError as exc:
        return None, [
            Problem(
                code="yaml.syntax",
                message=f"YAML error: {exc}",
                location=Location(file=file),
            ),
        ]
    builder = _Builder(file)
    try:
        data = None if node is None else builder.build(node, ())
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        # PyYAML's constructors raise plain errors for values such as 2026-02-30 or !!int abc.
        return None, [
            Problem(
                code="yaml.bad_value",
                message=f"invalid value: {exc}",
                location=Location(file=file),
            ),
        ]
    except RecursionError:
        return None, [
            Problem(
                code="yaml.too_deep",
                message="the document nests too deeply (or refers to itself)",
                location=Location(file=file),
            ),
        ]
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        return None, [
            Problem(
                code="yaml.syntax",
                message=f"YAML value error: {exc.problem}",
                location=Location(
                    file=file,
                    line=mark.line + 1 if mark else 0,
                    column=mark.column + 1 if mark else 0,
                ),
            ),
        ]
    doc = Document(file=file, data=data, index=builder.index, key_index=builder.key_index)
    return doc, builder.problems


def _json_fallback(text: str, file: str) -> Document | None:
    """Valid JSON that YAML refuses (tab indentation): loaded without positions below the root."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    root = Location(file=file, line=1, column=1)
    return Document(file=file, data=data, index={(): root}, key_index={})


def load_file(path: Path, display: str | None = None) -> tuple[Document | None, list[Problem]]:
    """Read and parse one file; unreadable files become a located problem."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [
            Problem(
                code="file.unreadable",
                message=f"cannot read file: {exc}",
                location=Location(file=name),
            ),
        ]
    return parse_text(text, name)
