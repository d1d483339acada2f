"""Kleene three-valued logic over facts: truth values, one test, one pattern.

The reference semantics of every condition: ``engine.prepared`` compiles the same tests for
speed and is held to these answers by tests.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.facts import Fact
from engine.patterns import Pattern, Ref, Test


class Truth(enum.IntEnum):
    """Kleene truth values, ordered so that AND is min and OR is max."""

    FALSE = 0
    UNKNOWN = 1
    TRUE = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class TestResult:
    """The outcome of one test on one fact (for WHY-NOT)."""

    alias: str
    field: str
    op: str
    expected: Any
    actual: Any
    truth: Truth
    path: str = ""
    """Case path of the field, when it comes from the case."""


@dataclass(slots=True)
class EvalFact:
    """A fact during evaluation: certain (input or derived by a TRUE match) or only possible."""

    fact: Fact
    certain: bool
    unknown_paths: frozenset[str] = frozenset()


def _same(a: Any, b: Any) -> bool:  # noqa: ANN401
    # JSON semantics: a boolean never equals a number (Python says True == 1).
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def number(value: Any) -> float | None:  # noqa: ANN401
    """The value as a float when it is a JSON number (never a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def test_truth(
    test: Test,
    fact: Fact,
    bindings: Mapping[str, Fact],
) -> tuple[Truth, Any, str]:
    """Truth of one test on ``fact``; also the actual value and the case path it depends on."""
    present = test.field in fact.fields
    path = fact.paths.get(test.field, fact.entry_path)
    if test.op == "known":
        truth = Truth.TRUE if present == bool(test.value) else Truth.FALSE
        return truth, fact.fields.get(test.field), path
    if not present:
        return Truth.UNKNOWN, None, path
    actual = fact.fields[test.field]
    value = test.value
    if isinstance(value, Ref):
        other = bindings.get(value.alias)
        if other is None or value.field not in other.fields:
            other_path = "" if other is None else other.paths.get(value.field, other.entry_path)
            return Truth.UNKNOWN, actual, other_path
        value = other.fields[value.field]
    return compare(test.op, actual, value), actual, path


def compare(op: str, actual: Any, value: Any) -> Truth:  # noqa: ANN401
    """TRUE or FALSE: ``actual <op> value`` for a present field (JSON semantics)."""
    if op == "is_a":
        members = actual if isinstance(actual, list) else []
        wanted = value if isinstance(value, tuple) else (value,)
        return Truth.TRUE if any(w in members for w in wanted) else Truth.FALSE
    if op in {"eq", "same_as"}:
        return Truth.TRUE if _same(actual, value) else Truth.FALSE
    if op == "ne":
        return Truth.FALSE if _same(actual, value) else Truth.TRUE
    if op == "in":
        return Truth.TRUE if any(_same(actual, v) for v in value) else Truth.FALSE
    if op == "not_in":
        return Truth.FALSE if any(_same(actual, v) for v in value) else Truth.TRUE
    left, right = number(actual), number(value)
    if left is None or right is None:
        return Truth.FALSE
    result = {
        "lt": left < right,
        "le": left <= right,
        "gt": left > right,
        "ge": left >= right,
    }[op]
    return Truth.TRUE if result else Truth.FALSE


def pattern_truth(
    pattern: Pattern,
    candidate: EvalFact,
    bindings: Mapping[str, Fact],
) -> tuple[Truth, frozenset[str]]:
    """Truth of a pattern on one fact (AND of its tests), with the unknown paths involved."""
    truth = Truth.TRUE if candidate.certain else Truth.UNKNOWN
    paths = set(candidate.unknown_paths)
    for test in pattern.tests:
        result, _, path = test_truth(test, candidate.fact, bindings)
        if result is Truth.FALSE:
            return Truth.FALSE, frozenset()
        if result is Truth.UNKNOWN:
            truth = Truth.UNKNOWN
            if path:
                paths.add(path)
    return truth, frozenset(paths)
