"""Rules prepared for fast three-valued matching (the evaluator's hot path).

Each literal test becomes one call (``FastTest``), each pattern knows the test that keys a
per-run candidate index (``Candidates``), and conclusions that never depend on the match are
built once (``FastRule.fixed``). ``fast_truth`` gives exactly ``engine.kleene.pattern_truth``'s
answers; ``tests/unit/test_fast_paths.py`` holds it to them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from engine.conclude import fixed_conclusions
from engine.facts import Fact
from engine.kleene import EvalFact, Truth, compare, number
from engine.logic import LogicRule
from engine.patterns import Pattern, Ref, Test

_TRUE, _UNKNOWN, _FALSE = Truth.TRUE, Truth.UNKNOWN, Truth.FALSE
NO_PATHS: frozenset[str] = frozenset()
NO_BINDINGS: Mapping[str, Fact] = MappingProxyType({})


def literal_holds(op: str, value: Any) -> Callable[[Any], bool]:  # noqa: ANN401
    """``actual -> bool``: the same answer as ``compare(op, actual, value) is TRUE``, faster.

    The specialised forms keep JSON semantics: a boolean never equals a number.
    """
    if op in {"eq", "same_as"}:
        if isinstance(value, str):
            return lambda a: a == value
        if isinstance(value, bool) or value is None:
            return lambda a: a is value
    if op in {"in", "not_in"} and all(isinstance(v, str) for v in value):
        members = frozenset(value)
        if op == "in":
            return lambda a: isinstance(a, str) and a in members
        return lambda a: not (isinstance(a, str) and a in members)
    if op == "is_a":
        wanted = value if isinstance(value, tuple) else (value,)
        if all(isinstance(w, str) for w in wanted):
            classes = frozenset(wanted)

            def is_a(actual: Any) -> bool:  # noqa: ANN401
                if type(actual) is not list:
                    return False
                try:
                    return not classes.isdisjoint(actual)
                except TypeError:  # an unhashable member cannot be a class id anyway
                    return any(isinstance(m, str) and m in classes for m in actual)

            return is_a
    if op in _ORDER and number(value) is not None:
        bound, order = float(value), _ORDER[op]
        return lambda a: type(a) in _NUMERIC and order(float(a), bound)
    return lambda a: compare(op, a, value) is _TRUE


_NUMERIC = (int, float)
_ORDER: dict[str, Callable[[float, float], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


@dataclass(frozen=True, slots=True)
class FastTest:
    """A test prepared for the evaluation loop: literal comparisons become one call."""

    field: str
    op: str
    known: bool | None
    """For ``known``: whether the field must be present."""
    ref: Ref | None
    holds: Callable[[Any], bool] | None
    """For a literal value: does the present field pass."""

    @classmethod
    def of(cls, test: Test) -> FastTest:
        """Prepare one test."""
        if test.op == "known":
            return cls(test.field, test.op, bool(test.value), None, None)
        if isinstance(test.value, Ref):
            return cls(test.field, test.op, None, test.value, None)
        return cls(test.field, test.op, None, None, literal_holds(test.op, test.value))


@dataclass(frozen=True, slots=True)
class FastPattern:
    """A pattern prepared for matching: its alias, kind, prepared tests and key."""

    alias: str
    kind: str
    tests: tuple[FastTest, ...]
    key: tuple[str, frozenset[str], bool] | None = None
    """(field, text values) of the first test that only a fact holding one of those texts, or
    lacking the field, can pass: candidates are looked up by it (``Candidates``)."""


def key_of(tests: Sequence[Test]) -> tuple[str, frozenset[str], bool] | None:
    """The pattern's key for ``Candidates``: (field, texts, is_a?).

    It comes from the first test that a fact can pass only by holding one of the texts (``eq``,
    ``in``) or a list containing one (``is_a``). A fact lacking the field stays a candidate
    (the test is UNKNOWN on it).
    """
    for test in tests:
        value = test.value
        if test.op in {"eq", "same_as"} and isinstance(value, str):
            return test.field, frozenset({value}), False
        if test.op in {"in", "is_a"} and isinstance(value, tuple | str):
            options = value if isinstance(value, tuple) else (value,)
            texts = frozenset(v for v in options if isinstance(v, str))
            if len(texts) == len(set(options)):
                return test.field, texts, test.op == "is_a"
    return None


class Candidates:
    """Per run: the facts a pattern could match, found through its key test.

    Facts whose key field holds another value fail that test, so the pattern is FALSE on them
    whatever its other tests say; facts lacking the field stay (UNKNOWN). The order is the
    order of ``by_kind``, as a plain scan would give.
    """

    __slots__ = ("_tables", "by_kind")

    def __init__(self, by_kind: Mapping[str, list[EvalFact]]) -> None:
        self.by_kind = by_kind
        self._tables: dict[tuple[str, str, bool], tuple[int, dict[str, list[int]], list[int]]] = {}

    def of(self, pattern: FastPattern) -> list[EvalFact]:
        """The facts ``pattern`` could match, in scan order."""
        facts = self.by_kind.get(pattern.kind, [])
        if pattern.key is None or len(facts) < 2:  # noqa: PLR2004 - a scan is cheaper
            return facts
        return self.keyed(pattern, facts)

    def keyed(self, pattern: FastPattern, facts: list[EvalFact]) -> list[EvalFact]:
        """``of`` for a pattern with a key, given its kind's facts."""
        field, values, member = pattern.key  # type: ignore[misc]
        table = self._tables.get((pattern.kind, field, member))
        if table is None or table[0] != len(facts):  # facts of a kind are only ever appended
            table = self._table(facts, field, member=member)
            self._tables[pattern.kind, field, member] = table
        _, by_value, absent = table
        if not absent and len(values) == 1:
            (value,) = values
            return [facts[i] for i in by_value.get(value, ())]  # already in scan order
        picked = list(absent)
        for value in values:
            picked.extend(by_value.get(value, ()))
        if len(picked) > 1:
            picked = sorted(set(picked)) if member else sorted(picked)
        return [facts[i] for i in picked]

    @staticmethod
    def _table(
        facts: Sequence[EvalFact], field: str, *, member: bool
    ) -> tuple[int, dict[str, list[int]], list[int]]:
        by_value: dict[str, list[int]] = {}
        absent: list[int] = []
        for i, ef in enumerate(facts):
            fields = ef.fact.fields
            if field not in fields:
                absent.append(i)
                continue
            value = fields[field]
            if not member:
                if isinstance(value, str):
                    by_value.setdefault(value, []).append(i)
            elif type(value) is list:
                for item in {m for m in value if isinstance(m, str)}:
                    by_value.setdefault(item, []).append(i)
        return len(facts), by_value, absent


def fast_truth(
    pattern: FastPattern, candidate: EvalFact, bound: Mapping[str, Fact]
) -> tuple[Truth, frozenset[str]]:
    """``pattern_truth`` on prepared tests (same answers, fewer allocations)."""
    fact = candidate.fact
    fields = fact.fields
    extra: list[str] | None = None
    for test in pattern.tests:
        name = test.field
        if test.known is not None:
            if (name in fields) is not test.known:
                return _FALSE, NO_PATHS
            continue
        if name not in fields:
            path = fact.paths.get(name, fact.entry_path)
        else:
            ref = test.ref
            if ref is None:
                if test.holds(fields[name]):  # type: ignore[misc]
                    continue
                return _FALSE, NO_PATHS
            other = bound.get(ref.alias)
            if other is not None and ref.field in other.fields:
                if compare(test.op, fields[name], other.fields[ref.field]) is _TRUE:
                    continue
                return _FALSE, NO_PATHS
            path = "" if other is None else other.paths.get(ref.field, other.entry_path)
        if extra is None:
            extra = []
        if path:
            extra.append(path)
    if extra is None:
        if candidate.certain:
            return _TRUE, NO_PATHS
        return _UNKNOWN, candidate.unknown_paths
    return _UNKNOWN, candidate.unknown_paths.union(extra)


@dataclass(frozen=True, slots=True)
class FastRule:
    """A rule prepared for matching."""

    rule: LogicRule
    positive: tuple[FastPattern, ...]
    negative: tuple[FastPattern, ...]
    kinds: frozenset[str]
    """Kinds of the positive patterns: each needs a candidate before anything can match."""
    fixed: tuple[Fact, ...] | None
    """The conclusions when they do not depend on the bound facts (care, unzoned findings)."""
    single: FastPattern | None
    """The only pattern, when the rule has one positive pattern and no negated one."""
    shares_kind: tuple[bool, ...] = ()
    """Per positive pattern: whether an earlier one has its kind (and could bind the same fact)."""
    pair: bool = False
    """Two positive patterns and no negated one: a plain two-loop join."""

    @classmethod
    def of(cls, rule: LogicRule) -> FastRule:
        """Prepare one rule."""

        def fast(p: Pattern) -> FastPattern:
            return FastPattern(
                p.alias, p.kind, tuple(FastTest.of(t) for t in p.tests), key_of(p.tests)
            )

        fixed = fixed_conclusions(rule)
        positive = tuple(fast(p) for p in rule.patterns if not p.negated)
        return cls(
            rule,
            positive,
            tuple(fast(p) for p in rule.patterns if p.negated),
            frozenset(p.kind for p in positive),
            None if fixed is None else tuple(as_fact(d) for d in fixed),
            positive[0] if len(positive) == 1 and len(rule.patterns) == 1 else None,
            tuple(any(q.kind == p.kind for q in positive[:i]) for i, p in enumerate(positive)),
            len(positive) == 2 and len(rule.patterns) == 2,  # noqa: PLR2004 - a pair
        )


def as_fact(derived: Mapping[str, Any]) -> Fact:
    """A derived fact (as ``conclude`` returns it) as a Fact."""
    fields = {k: v for k, v in derived.items() if k not in {"fid", "kind"}}
    return Fact(fid=derived["fid"], kind=derived["kind"], fields=fields, entry_path="")
