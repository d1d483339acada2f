"""An independent three-valued (true / false / unknown) evaluation of the same rules.

It serves three purposes: the questions in ``missing`` (which unanswered fields could make a rule
fire), WHY-NOT explanations (which condition failed), and the test oracle that cross-checks every
durable_rules run (the TRUE matches here must be exactly the rules durable fired).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from engine.conclude import conclude
from engine.facts import Fact
from engine.logic import LogicRule
from engine.patterns import Pattern, Ref, Test
from engine.strata import stratify


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """One combination of facts for a rule, with its truth value."""

    rule_id: str
    bindings: tuple[tuple[str, str], ...]
    """(alias, fid) for each positive pattern, in order."""
    truth: Truth
    unknown_paths: frozenset[str] = frozenset()
    """Case paths whose answers could change an UNKNOWN into TRUE."""


@dataclass(slots=True)
class EvalFact:
    """A fact during evaluation: certain (input or derived by a TRUE match) or only possible."""

    fact: Fact
    certain: bool
    unknown_paths: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """Result of the three-valued evaluation at quiescence."""

    matches: tuple[Match, ...]
    """Every TRUE or UNKNOWN match of every rule."""
    facts: Mapping[str, EvalFact]
    """All facts, derived ones included (certain or possible)."""
    strata: Mapping[str, int] = field(default_factory=dict)

    def true_firings(self) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
        """(rule id, bindings) of every TRUE match: what the engine must have fired."""
        return {(m.rule_id, m.bindings) for m in self.matches if m.truth is Truth.TRUE}


def _same(a: Any, b: Any) -> bool:  # noqa: ANN401
    # JSON semantics: a boolean never equals a number (Python says True == 1).
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _number(value: Any) -> float | None:  # noqa: ANN401
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
    return _compare(test.op, actual, value), actual, path


def _compare(op: str, actual: Any, value: Any) -> Truth:  # noqa: ANN401
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
    left, right = _number(actual), _number(value)
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


def _merge(old: Match | None, new: Match) -> Match | None:
    """The match to keep (None: nothing new). Same truth with more questions merges them."""
    if old is None or new.truth > old.truth:
        return new
    if old.truth > new.truth or new.unknown_paths <= old.unknown_paths:
        return None
    # A possible premise gained questions: keep them all.
    return replace(new, unknown_paths=old.unknown_paths | new.unknown_paths)


class Evaluator:
    """Three-valued forward chaining to a fixpoint, stratum by stratum."""

    def __init__(self, rules: Sequence[LogicRule], strata: Mapping[str, int] | None = None) -> None:
        """Prepare for ``rules``; strata are computed when not given."""
        self.rules = tuple(rules)
        self.strata = dict(strata) if strata is not None else stratify(self.rules)
        self._layers = [
            [r for r in self.rules if self.strata[r.id] == level]
            for level in sorted(set(self.strata.values()))
        ]
        self._reads = {r.id: frozenset(p.kind for p in r.patterns) for r in self.rules}

    def run(self, facts: Sequence[Fact], phantoms: Sequence[Fact] = ()) -> Evaluation:
        """Evaluate every rule against the facts (phantoms stand for unanswered lists)."""
        store: dict[str, EvalFact] = {f.fid: EvalFact(fact=f, certain=True) for f in facts}
        for p in phantoms:
            store[p.fid] = EvalFact(fact=p, certain=False, unknown_paths=frozenset({p.entry_path}))
        by_kind: dict[str, list[EvalFact]] = {}
        for ef in store.values():
            by_kind.setdefault(ef.fact.kind, []).append(ef)
        matches: dict[tuple[str, tuple[tuple[str, str], ...]], Match] = {}
        for layer in self._layers:
            todo = list(layer)
            while todo:
                # Semi-naive: after the first pass only rules reading a kind that changed run again.
                dirty: set[str] = set()
                for rule in todo:
                    for match in self.matches_of(rule, store, by_kind):
                        merged = _merge(matches.get((rule.id, match.bindings)), match)
                        if merged is None:
                            continue
                        matches[rule.id, match.bindings] = merged
                        dirty |= self._derive(rule, merged, store, by_kind)
                todo = [r for r in layer if self._reads[r.id] & dirty]
        return Evaluation(matches=tuple(matches.values()), facts=store, strata=self.strata)

    def _derive(
        self,
        rule: LogicRule,
        match: Match,
        store: dict[str, EvalFact],
        by_kind: dict[str, list[EvalFact]],
    ) -> set[str]:
        """Record the match's conclusions; return the kinds whose facts changed."""
        bound = {alias: {**store[fid].fact.fields, "fid": fid} for alias, fid in match.bindings}
        dirty: set[str] = set()
        for derived in conclude(rule, bound):
            fid = derived["fid"]
            kind = derived["kind"]
            fields = {k: v for k, v in derived.items() if k not in {"fid", "kind"}}
            certain = match.truth is Truth.TRUE
            old = store.get(fid)
            if old is None:
                ef = EvalFact(
                    fact=Fact(fid=fid, kind=kind, fields=fields, entry_path=""),
                    certain=certain,
                    unknown_paths=frozenset() if certain else match.unknown_paths,
                )
                store[fid] = ef
                by_kind.setdefault(kind, []).append(ef)
                dirty.add(kind)
            elif certain and not old.certain:
                old.certain = True
                old.unknown_paths = frozenset()
                dirty.add(kind)
            elif not old.certain and not match.unknown_paths <= old.unknown_paths:
                old.unknown_paths = old.unknown_paths | match.unknown_paths
                dirty.add(kind)
        return dirty

    def matches_of(
        self,
        rule: LogicRule,
        store: Mapping[str, EvalFact],
        by_kind: Mapping[str, list[EvalFact]] | None = None,
    ) -> Iterator[Match]:
        """Every TRUE or UNKNOWN combination of facts for ``rule``."""
        positive = [p for p in rule.patterns if not p.negated]
        negative = [p for p in rule.patterns if p.negated]
        if by_kind is None:
            by_kind = {}
            for ef in store.values():
                by_kind.setdefault(ef.fact.kind, []).append(ef)

        def walk(
            i: int,
            bound: dict[str, Fact],
            chosen: list[tuple[str, str]],
            truth: Truth,
            paths: frozenset[str],
        ) -> Iterator[Match]:
            if i == len(positive):
                total, all_paths = truth, paths
                for neg in negative:
                    exists = Truth.FALSE
                    neg_paths: set[str] = set()
                    for ef in by_kind.get(neg.kind, ()):
                        t, p = pattern_truth(neg, ef, bound)
                        exists = max(exists, t)
                        if t is Truth.UNKNOWN:
                            neg_paths |= p
                    negation = Truth(2 - exists)
                    total = min(total, negation)
                    if negation is Truth.UNKNOWN:
                        all_paths = all_paths | neg_paths
                    if total is Truth.FALSE:
                        return
                yield Match(
                    rule_id=rule.id,
                    bindings=tuple(chosen),
                    truth=total,
                    unknown_paths=all_paths if total is Truth.UNKNOWN else frozenset(),
                )
                return
            pattern = positive[i]
            used = {fid for _, fid in chosen}
            for ef in by_kind.get(pattern.kind, ()):
                if ef.fact.fid in used:
                    continue
                t, p = pattern_truth(pattern, ef, bound)
                if t is Truth.FALSE:
                    continue
                bound[pattern.alias] = ef.fact
                chosen.append((pattern.alias, ef.fact.fid))
                yield from walk(i + 1, bound, chosen, min(truth, t), paths | p)
                chosen.pop()
                del bound[pattern.alias]

        yield from walk(0, {}, [], Truth.TRUE, frozenset())
