"""An independent three-valued (true / false / unknown) evaluation of the same rules.

It serves three purposes: the questions in ``missing`` (which unanswered fields could make a rule
fire), WHY-NOT explanations (which condition failed), and the test oracle that cross-checks every
durable_rules run (the TRUE matches here must be exactly the rules durable fired).
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from engine.conclude import conclude, fixed_conclusions
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


class Match(NamedTuple):
    """One combination of facts for a rule, with its truth value.

    An immutable record like the frozen dataclasses elsewhere, but a tuple: an assessment
    creates some fifty, and a tuple is built three times faster (ADR 0002).
    """

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
    return new._replace(unknown_paths=old.unknown_paths | new.unknown_paths)


_TRUE, _UNKNOWN, _FALSE = Truth.TRUE, Truth.UNKNOWN, Truth.FALSE
_NO_PATHS: frozenset[str] = frozenset()
_NO_BINDINGS: Mapping[str, Fact] = MappingProxyType({})


def _literal_holds(op: str, value: Any) -> Callable[[Any], bool]:  # noqa: ANN401
    """``actual -> bool``: the same answer as ``_compare(op, actual, value) is TRUE``, faster.

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
    if op in _ORDER and _number(value) is not None:
        bound, order = float(value), _ORDER[op]
        return lambda a: type(a) in _NUMERIC and order(float(a), bound)
    return lambda a: _compare(op, a, value) is _TRUE


_NUMERIC = (int, float)
_ORDER: dict[str, Callable[[float, float], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


@dataclass(frozen=True, slots=True)
class _FastTest:
    """A test prepared for the evaluation loop: literal comparisons become one call."""

    field: str
    op: str
    known: bool | None
    """For ``known``: whether the field must be present."""
    ref: Ref | None
    holds: Callable[[Any], bool] | None
    """For a literal value: does the present field pass."""

    @classmethod
    def of(cls, test: Test) -> _FastTest:
        if test.op == "known":
            return cls(test.field, test.op, bool(test.value), None, None)
        if isinstance(test.value, Ref):
            return cls(test.field, test.op, None, test.value, None)
        return cls(test.field, test.op, None, None, _literal_holds(test.op, test.value))


@dataclass(frozen=True, slots=True)
class _FastPattern:
    alias: str
    kind: str
    tests: tuple[_FastTest, ...]
    key: tuple[str, frozenset[str], bool] | None = None
    """(field, text values) of the first test that only a fact holding one of those texts, or
    lacking the field, can pass: candidates are looked up by it (``_Candidates``)."""


def _key_of(tests: Sequence[Test]) -> tuple[str, frozenset[str], bool] | None:
    """The pattern's key for ``_Candidates``: (field, texts, is_a?).

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


class _Candidates:
    """Per run: the facts a pattern could match, found through its key test.

    Facts whose key field holds another value fail that test, so the pattern is FALSE on them
    whatever its other tests say; facts lacking the field stay (UNKNOWN). The order is the
    order of ``by_kind``, as a plain scan would give.
    """

    __slots__ = ("_tables", "by_kind")

    def __init__(self, by_kind: Mapping[str, list[EvalFact]]) -> None:
        self.by_kind = by_kind
        self._tables: dict[tuple[str, str, bool], tuple[int, dict[str, list[int]], list[int]]] = {}

    def of(self, pattern: _FastPattern) -> list[EvalFact]:
        facts = self.by_kind.get(pattern.kind, [])
        if pattern.key is None or len(facts) < 2:  # noqa: PLR2004 - a scan is cheaper
            return facts
        return self.keyed(pattern, facts)

    def keyed(self, pattern: _FastPattern, facts: list[EvalFact]) -> list[EvalFact]:
        """``of`` for a pattern with a key, given its kind's facts."""
        field, values, member = pattern.key  # type: ignore[misc]
        table = self._tables.get((pattern.kind, field, member))
        if table is None or table[0] != len(facts):  # facts of a kind are only ever appended
            table = self._table(facts, field, member=member)
            self._tables[pattern.kind, field, member] = table
        _, by_value, absent = table
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


def _fast_truth(
    pattern: _FastPattern, candidate: EvalFact, bound: Mapping[str, Fact]
) -> tuple[Truth, frozenset[str]]:
    """``pattern_truth`` on prepared tests (same answers, fewer allocations)."""
    fact = candidate.fact
    fields = fact.fields
    extra: list[str] | None = None
    for test in pattern.tests:
        name = test.field
        if test.known is not None:
            if (name in fields) is not test.known:
                return _FALSE, _NO_PATHS
            continue
        if name not in fields:
            path = fact.paths.get(name, fact.entry_path)
        else:
            ref = test.ref
            if ref is None:
                if test.holds(fields[name]):  # type: ignore[misc]
                    continue
                return _FALSE, _NO_PATHS
            other = bound.get(ref.alias)
            if other is not None and ref.field in other.fields:
                if _compare(test.op, fields[name], other.fields[ref.field]) is _TRUE:
                    continue
                return _FALSE, _NO_PATHS
            path = "" if other is None else other.paths.get(ref.field, other.entry_path)
        if extra is None:
            extra = []
        if path:
            extra.append(path)
    if extra is None:
        if candidate.certain:
            return _TRUE, _NO_PATHS
        return _UNKNOWN, candidate.unknown_paths
    return _UNKNOWN, candidate.unknown_paths.union(extra)


@dataclass(frozen=True, slots=True)
class _FastRule:
    rule: LogicRule
    positive: tuple[_FastPattern, ...]
    negative: tuple[_FastPattern, ...]
    kinds: frozenset[str]
    """Kinds of the positive patterns: each needs a candidate before anything can match."""
    fixed: tuple[Fact, ...] | None
    """The conclusions when they do not depend on the bound facts (care, unzoned findings)."""
    single: _FastPattern | None
    """The only pattern, when the rule has one positive pattern and no negated one."""

    @classmethod
    def of(cls, rule: LogicRule) -> _FastRule:
        def fast(p: Pattern) -> _FastPattern:
            return _FastPattern(
                p.alias, p.kind, tuple(_FastTest.of(t) for t in p.tests), _key_of(p.tests)
            )

        fixed = fixed_conclusions(rule)
        positive = tuple(fast(p) for p in rule.patterns if not p.negated)
        return cls(
            rule,
            positive,
            tuple(fast(p) for p in rule.patterns if p.negated),
            frozenset(p.kind for p in positive),
            None if fixed is None else tuple(_as_fact(d) for d in fixed),
            positive[0] if len(positive) == 1 and len(rule.patterns) == 1 else None,
        )


def _as_fact(derived: Mapping[str, Any]) -> Fact:
    fields = {k: v for k, v in derived.items() if k not in {"fid", "kind"}}
    return Fact(fid=derived["fid"], kind=derived["kind"], fields=fields, entry_path="")


class Evaluator:
    """Three-valued forward chaining to a fixpoint, stratum by stratum."""

    def __init__(self, rules: Sequence[LogicRule], strata: Mapping[str, int] | None = None) -> None:
        """Prepare for ``rules``; strata are computed when not given."""
        self.rules = tuple(rules)
        self.strata = dict(strata) if strata is not None else stratify(self.rules)
        fast = {r.id: _FastRule.of(r) for r in self.rules}
        self._layers = [
            [fast[r.id] for r in self.rules if self.strata[r.id] == level]
            for level in sorted(set(self.strata.values()))
        ]
        self._reads = {r.id: frozenset(p.kind for p in r.patterns) for r in self.rules}
        self._fast = fast
        # Per layer: kind -> positions of the rules reading it (semi-naive re-runs).
        self._readers: list[dict[str, tuple[int, ...]]] = []
        for layer in self._layers:
            readers: dict[str, list[int]] = {}
            for position, f in enumerate(layer):
                for kind in self._reads[f.rule.id]:
                    readers.setdefault(kind, []).append(position)
            self._readers.append({k: tuple(v) for k, v in readers.items()})

    def run(self, facts: Sequence[Fact], phantoms: Sequence[Fact] = ()) -> Evaluation:
        """Evaluate every rule against the facts (phantoms stand for unanswered lists)."""
        store: dict[str, EvalFact] = {f.fid: EvalFact(fact=f, certain=True) for f in facts}
        for p in phantoms:
            store[p.fid] = EvalFact(fact=p, certain=False, unknown_paths=frozenset({p.entry_path}))
        by_kind: dict[str, list[EvalFact]] = {}
        for ef in store.values():
            by_kind.setdefault(ef.fact.kind, []).append(ef)
        matches: dict[tuple[str, tuple[tuple[str, str], ...]], Match] = {}
        pick = _Candidates(by_kind)
        for layer, readers in zip(self._layers, self._readers, strict=True):
            todo = layer
            while todo:
                # Semi-naive: after the first pass only rules reading a kind that changed run again.
                dirty: set[str] = set()
                present = by_kind.keys() | ()
                for fast in todo:
                    if not fast.kinds <= present:
                        continue  # a positive pattern has no candidate (a kind new in this
                        # pass marks it dirty, so the rule runs in the next one)
                    if fast.single is None:
                        dirty |= self._record(fast, _matches(fast, pick), matches, store, by_kind)
                    else:
                        dirty |= self._single(fast, pick, matches, store, by_kind)
                again = sorted({i for kind in dirty for i in readers.get(kind, ())})
                todo = [layer[i] for i in again]
        return Evaluation(matches=tuple(matches.values()), facts=store, strata=self.strata)

    def _single(
        self,
        fast: _FastRule,
        pick: _Candidates,
        matches: dict[tuple[str, tuple[tuple[str, str], ...]], Match],
        store: dict[str, EvalFact],
        by_kind: dict[str, list[EvalFact]],
    ) -> set[str]:
        """Match a rule with one pattern, no join and no negation (most rules).

        ``_merge`` is inlined: a repeat pass builds no Match unless the truth or the questions
        changed.
        """
        single = fast.single
        assert single is not None  # noqa: S101 - the caller checked
        rule_id = fast.rule.id
        dirty: set[str] = set()
        candidates = by_kind[single.kind]
        if single.key is not None and len(candidates) > 1:
            candidates = pick.keyed(single, candidates)
        for ef in candidates:
            truth, paths = _fast_truth(single, ef, _NO_BINDINGS)
            if truth is _FALSE:
                continue
            bindings = ((single.alias, ef.fact.fid),)
            old = matches.get((rule_id, bindings))
            if old is not None and old.truth >= truth:
                if old.truth > truth or paths <= old.unknown_paths:
                    continue
                paths = old.unknown_paths | paths  # same truth, more questions: keep them all
            match = Match(rule_id, bindings, truth, paths)
            matches[rule_id, bindings] = match
            dirty |= self._derive(fast, match, store, by_kind)
        return dirty

    def _record(
        self,
        fast: _FastRule,
        found: Sequence[Match],
        matches: dict[tuple[str, tuple[tuple[str, str], ...]], Match],
        store: dict[str, EvalFact],
        by_kind: dict[str, list[EvalFact]],
    ) -> set[str]:
        """Keep what is new in ``found`` and derive from it; the kinds that changed."""
        dirty: set[str] = set()
        rule_id = fast.rule.id
        for match in found:
            merged = _merge(matches.get((rule_id, match.bindings)), match)
            if merged is None:
                continue
            matches[rule_id, match.bindings] = merged
            dirty |= self._derive(fast, merged, store, by_kind)
        return dirty

    def _derive(
        self,
        fast: _FastRule,
        match: Match,
        store: dict[str, EvalFact],
        by_kind: dict[str, list[EvalFact]],
    ) -> set[str]:
        """Record the match's conclusions; return the kinds whose facts changed."""
        conclusions = fast.fixed
        if conclusions is None:
            # conclude() reads bound fields only (a zone), never the fid: no copies needed.
            bound = {alias: store[fid].fact.fields for alias, fid in match.bindings}
            conclusions = tuple(_as_fact(d) for d in conclude(fast.rule, bound))
        certain = match.truth is _TRUE
        dirty: set[str] = set()
        for fact in conclusions:
            fid, kind = fact.fid, fact.kind
            old = store.get(fid)
            if old is None:
                ef = EvalFact(
                    fact=fact,
                    certain=certain,
                    unknown_paths=_NO_PATHS if certain else match.unknown_paths,
                )
                store[fid] = ef
                by_kind.setdefault(kind, []).append(ef)
                dirty.add(kind)
            elif certain and not old.certain:
                old.certain = True
                old.unknown_paths = _NO_PATHS
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
    ) -> list[Match]:
        """Every TRUE or UNKNOWN combination of facts for ``rule``."""
        if by_kind is None:
            by_kind = {}
            for ef in store.values():
                by_kind.setdefault(ef.fact.kind, []).append(ef)
        fast = self._fast.get(rule.id)
        if fast is None or fast.rule is not rule:
            fast = _FastRule.of(rule)
        return _matches(fast, _Candidates(by_kind))


def _negation(
    fast: _FastRule, by_kind: Mapping[str, list[EvalFact]], bound: Mapping[str, Fact]
) -> tuple[Truth, set[str]]:
    """Truth of the rule's negated patterns together (AND of each NOT EXISTS)."""
    total = _TRUE
    paths: set[str] = set()
    for neg in fast.negative:
        exists = _FALSE
        neg_paths: set[str] = set()
        for ef in by_kind.get(neg.kind, ()):
            t, p = _fast_truth(neg, ef, bound)
            if t is _TRUE:
                return _FALSE, set()
            if t is _UNKNOWN:
                exists = _UNKNOWN
                neg_paths |= p
        if exists is _UNKNOWN:
            total = _UNKNOWN
            paths |= neg_paths
    return total, paths


def _matches(fast: _FastRule, pick: _Candidates) -> list[Match]:
    """Every TRUE or UNKNOWN combination of facts for one prepared rule."""
    for pattern in fast.positive:
        if not pick.by_kind.get(pattern.kind):
            return []  # a positive pattern with no candidate: nothing can match
    out: list[Match] = []
    _walk(fast, pick, out, 0, {}, [], _TRUE, _NO_PATHS)
    return out


def _walk(  # noqa: PLR0917 - the recursion's state, passed explicitly
    fast: _FastRule,
    pick: _Candidates,
    out: list[Match],
    i: int,
    bound: dict[str, Fact],
    chosen: list[tuple[str, str]],
    truth: Truth,
    paths: frozenset[str],
) -> None:
    """Extend a partial match by pattern ``i``.

    A module function: a recursive closure would be a reference cycle, leaving each
    evaluation's facts to the cyclic garbage collector (about 500 objects per assessment).
    """
    positive = fast.positive
    if i == len(positive):
        if fast.negative:
            negation, neg_paths = _negation(fast, pick.by_kind, bound)
            if negation is _FALSE:
                return
            if negation is _UNKNOWN:
                truth = _UNKNOWN
                paths = paths.union(neg_paths)
        out.append(
            Match(fast.rule.id, tuple(chosen), truth, paths if truth is _UNKNOWN else _NO_PATHS),
        )
        return
    pattern = positive[i]
    for ef in pick.of(pattern):
        fid = ef.fact.fid
        if any(fid == used for _, used in chosen):
            continue
        t, p = _fast_truth(pattern, ef, bound)
        if t is _FALSE:
            continue
        bound[pattern.alias] = ef.fact
        chosen.append((pattern.alias, fid))
        _walk(fast, pick, out, i + 1, bound, chosen, min(truth, t), paths | p if p else paths)
        chosen.pop()
        del bound[pattern.alias]
