"""Stage 1: YAML (or JSON) text to plain data plus a position index for every value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from engine.errors import Problem
from engine.location import Location, PathPart

PositionIndex = dict[tuple[PathPart, ...], Location]


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

    def __init__(self, file: str) -> None:
        self.file = file
        self.index: PositionIndex = {}
        self.key_index: PositionIndex = {}
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")

    def _loc(self, node: yaml.Node, path: tuple[PathPart, ...]) -> Location:
        mark = node.start_mark
        return Location(file=self.file, line=mark.line + 1, column=mark.column + 1, path=path)

    def build(self, node: yaml.Node, path: tuple[PathPart, ...]) -> Any:  # noqa: ANN401 - YAML data
        self.index[path] = self._loc(node, path)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                try:
                    key = self._constructor.construct_object(key_node, deep=True)
                except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
                    key = None
                if not isinstance(key, (str, int, float, bool)):
                    self.problems.append(
                        Problem(
                            code="yaml.bad_key",
                            message="a mapping key must be a plain value, "
                            f"not {type(key).__name__}",
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
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self._constructor.construct_object(node, deep=True)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            # PyYAML raises plain errors for values such as 2026-02-30 or `!!int abc`.
            self.problems.append(
                Problem(
                    code="yaml.bad_value",
                    message=f"invalid value {node.value!r}: {exc}",
                    location=self._loc(node, path),
                ),
            )
            return None


def parse_text(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """Parse YAML/JSON text; return the document (None on a syntax error) and problems."""
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
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
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
