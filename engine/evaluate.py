"""An independent three-valued (true / false / unknown) evaluation of the same rules.

It serves three purposes: the questions in ``missing`` (which unanswered fields could make a rule
fire), WHY-NOT explanations (which condition failed), and the test oracle that cross-checks every
durable_rules run (the TRUE matches here must be exactly the rules durable fired). The logic is
``engine.kleene``'s; ``engine.prepared`` makes it fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from engine.conclude import conclude
from engine.facts import Fact
from engine.kleene import EvalFact, TestResult, Truth, pattern_truth, test_truth
from engine.logic import LogicRule
from engine.memo import content_key, remember
from engine.prepared import (
    NO_BINDINGS,
    NO_PATHS,
    Candidates,
    FastPattern,
    FastRule,
    as_fact,
    fast_truth,
)
from engine.strata import Key, derived_key, pattern_keys, stratify

__all__ = [
    "EvalFact",
    "Evaluation",
    "Evaluator",
    "Match",
    "TestResult",
    "Truth",
    "pattern_truth",
    "test_truth",
]

_TRUE, _UNKNOWN, _FALSE = Truth.TRUE, Truth.UNKNOWN, Truth.FALSE
_MAX_DERIVED = 4096  # derived fact contents kept by Evaluator._as_fact


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


def _new_paths(old: Match | None, truth: Truth, paths: frozenset[str]) -> frozenset[str] | None:
    """The questions to keep for a match found again (None: nothing new).

    A higher truth replaces the old match; the same truth with more questions merges them.
    """
    if old is None or truth > old.truth:
        return paths
    if old.truth > truth or paths <= old.unknown_paths:
        return None
    return old.unknown_paths | paths  # a possible premise gained questions: keep them all


def _merge(old: Match | None, new: Match) -> Match | None:
    """The match to keep (None: nothing new)."""
    paths = _new_paths(old, new.truth, new.unknown_paths)
    if paths is None:
        return None
    return new if paths is new.unknown_paths else new._replace(unknown_paths=paths)


class Evaluator:
    """Three-valued forward chaining to a fixpoint, stratum by stratum."""

    def __init__(self, rules: Sequence[LogicRule], strata: Mapping[str, int] | None = None) -> None:
        """Prepare for ``rules``; strata are computed when not given."""
        self.rules = tuple(rules)
        self.strata = dict(strata) if strata is not None else stratify(self.rules)
        fast = {r.id: FastRule.of(r) for r in self.rules}
        # Semi-naive re-runs: what each rule derives and reads, as (kind, code/name) keys.
        keys = {derived_key(r) for r in self.rules}
        self._layers: list[list[FastRule]] = []
        self._makes: list[list[Key]] = []
        self._wants: list[list[frozenset[Key]]] = []
        self._readers: list[dict[Key, tuple[int, ...]]] = []  # key -> positions reading it
        for level in sorted(set(self.strata.values())):
            rules = [r for r in self.rules if self.strata[r.id] == level]
            makes = [derived_key(r) for r in rules]
            wants = [frozenset(k for p in r.patterns for k in pattern_keys(p, keys)) for r in rules]
            order = _producers_first(makes, wants)
            self._layers.append([fast[rules[i].id] for i in order])
            self._makes.append([makes[i] for i in order])
            self._wants.append([wants[i] for i in order])
            readers: dict[Key, list[int]] = {}
            for position, i in enumerate(order):
                for key in wants[i]:
                    readers.setdefault(key, []).append(position)
            self._readers.append({k: tuple(v) for k, v in readers.items()})
        self._derived: dict[tuple[object, ...], Fact] = {}

    def run(self, facts: Sequence[Fact], phantoms: Sequence[Fact] = ()) -> Evaluation:
        """Evaluate every rule against the facts (phantoms stand for unanswered lists)."""
        store: dict[str, EvalFact] = {f.fid: EvalFact(f, True) for f in facts}  # noqa: FBT003
        for p in phantoms:
            store[p.fid] = EvalFact(p, False, frozenset({p.entry_path}))  # noqa: FBT003
        by_kind: dict[str, list[EvalFact]] = {}
        for ef in store.values():
            by_kind.setdefault(ef.fact.kind, []).append(ef)
        matches: dict[tuple[str, tuple[tuple[str, str], ...]], Match] = {}
        pick = Candidates(by_kind)
        # Semi-naive: a rule runs again only when a key it reads changed after it last started.
        # Producers come before readers in each layer, so most rules run once.
        tick = 0
        changed: dict[Key, int] = {}  # derived key -> the tick of its last change
        present = by_kind.keys()
        for layer, makes, wants, readers in zip(
            self._layers, self._makes, self._wants, self._readers, strict=True
        ):
            started = [-1] * len(layer)
            todo: Sequence[int] = range(len(layer))
            while todo:
                dirty: set[Key] = set()  # keys changed in this pass
                for i in todo:
                    fast = layer[i]
                    first = started[i] < 0
                    started[i] = tick
                    single = fast.single
                    if single is not None:
                        if single.kind not in present:
                            continue  # no candidate yet
                        new = self._single(fast, single, pick, matches, store, by_kind, first)
                    elif fast.kinds <= present:
                        found = _pairs(fast, pick) if fast.pair else _matches(fast, pick)
                        new = self._record(fast, found, matches, store, by_kind)
                    else:
                        continue  # a positive pattern has no candidate yet
                    if new:
                        tick += 1
                        changed[makes[i]] = tick
                        dirty.add(makes[i])
                todo = [
                    i
                    for i in sorted({i for key in dirty for i in readers.get(key, ())})
                    if any(changed.get(key, -1) > started[i] for key in wants[i])
                ]
        return Evaluation(matches=tuple(matches.values()), facts=store, strata=self.strata)

    def _single(  # noqa: PLR0917 - the loop's state, passed explicitly
        self,
        fast: FastRule,
        single: FastPattern,
        pick: Candidates,
        matches: dict[tuple[str, tuple[tuple[str, str], ...]], Match],
        store: dict[str, EvalFact],
        by_kind: dict[str, list[EvalFact]],
        first: bool,  # noqa: FBT001
    ) -> bool:
        """Match a rule with one pattern, no join and no negation (most rules); any news?

        On the rule's first run there is no earlier match to compare with. A repeat run builds
        no Match unless the truth or the questions changed (``_new_paths``).
        """
        rule_id = fast.rule.id
        news = False
        candidates = by_kind[single.kind]
        if single.key is not None and len(candidates) > 1:
            candidates = pick.keyed(single, candidates)
        for ef in candidates:
            truth, paths = fast_truth(single, ef, NO_BINDINGS)
            if truth is _FALSE:
                continue
            bindings = ((single.alias, ef.fact.fid),)
            if not first:
                kept = _new_paths(matches.get((rule_id, bindings)), truth, paths)
                if kept is None:
                    continue
                paths = kept
            match = Match(rule_id, bindings, truth, paths)
            matches[rule_id, bindings] = match
            if self._derive(fast, match, store, by_kind):
                news = True
        return news

    def _record(
        self,
        fast: FastRule,
        found: Sequence[Match],
        matches: dict[tuple[str, tuple[tuple[str, str], ...]], Match],
        store: dict[str, EvalFact],
        by_kind: dict[str, list[EvalFact]],
    ) -> bool:
        """Keep what is new in ``found`` and derive from it; did any fact change?"""
        news = False
        rule_id = fast.rule.id
        for match in found:
            merged = _merge(matches.get((rule_id, match.bindings)), match)
            if merged is None:
                continue
            matches[rule_id, match.bindings] = merged
            if self._derive(fast, merged, store, by_kind):
                news = True
        return news

    def _as_fact(self, derived: dict[str, Any]) -> Fact:
        """``as_fact``, kept between runs for the same content (facts are never mutated)."""
        return remember(self._derived, content_key(derived), lambda: as_fact(derived), _MAX_DERIVED)

    def _derive(
        self,
        fast: FastRule,
        match: Match,
        store: dict[str, EvalFact],
        by_kind: dict[str, list[EvalFact]],
    ) -> bool:
        """Record the match's conclusions; did a fact appear or change?"""
        conclusions = fast.fixed
        if conclusions is None:
            # conclude() reads bound fields only (a zone), never the fid: no copies needed.
            bound = {alias: store[fid].fact.fields for alias, fid in match.bindings}
            conclusions = tuple([self._as_fact(d) for d in conclude(fast.rule, bound)])
        certain = match.truth is _TRUE
        news = False
        for fact in conclusions:
            old = store.get(fact.fid)
            if old is None:
                ef = EvalFact(fact, certain, NO_PATHS if certain else match.unknown_paths)
                store[fact.fid] = ef
                kind = fact.kind
                if kind in by_kind:
                    by_kind[kind].append(ef)
                else:
                    by_kind[kind] = [ef]
                news = True
            elif certain and not old.certain:
                old.certain = True
                old.unknown_paths = NO_PATHS
                news = True
            elif not old.certain and not match.unknown_paths <= old.unknown_paths:
                old.unknown_paths = old.unknown_paths | match.unknown_paths
                news = True
        return news


def _producers_first(makes: Sequence[Key], wants: Sequence[frozenset[Key]]) -> list[int]:
    """Positions of one stratum's rules, each after the rules whose conclusions it reads.

    ``makes[i]`` is what rule ``i`` derives, ``wants[i]`` what it reads. Where rules feed each
    other, the knowledge's order is kept. The order changes only how often a rule runs, never
    the result: the evaluation runs to a fixpoint. (A negated key's producers are in a lower
    stratum, so only positive reads order a stratum.)
    """
    producers: dict[Key, set[int]] = {}
    for i, key in enumerate(makes):
        producers.setdefault(key, set()).add(i)
    needs = [
        {q for key in wanted for q in producers.get(key, ()) if q != i}
        for i, wanted in enumerate(wants)
    ]
    placed: set[int] = set()
    waiting = list(range(len(makes)))
    order: list[int] = []
    while waiting:
        ready = next((i for i in waiting if needs[i] <= placed), waiting[0])  # a cycle: go on
        waiting.remove(ready)
        placed.add(ready)
        order.append(ready)
    return order


def _negation(
    fast: FastRule, by_kind: Mapping[str, list[EvalFact]], bound: Mapping[str, Fact]
) -> tuple[Truth, set[str]]:
    """Truth of the rule's negated patterns together (AND of each NOT EXISTS)."""
    total = _TRUE
    paths: set[str] = set()
    for neg in fast.negative:
        exists = _FALSE
        neg_paths: set[str] = set()
        for ef in by_kind.get(neg.kind, ()):
            t, p = fast_truth(neg, ef, bound)
            if t is _TRUE:
                return _FALSE, set()
            if t is _UNKNOWN:
                exists = _UNKNOWN
                neg_paths |= p
        if exists is _UNKNOWN:
            total = _UNKNOWN
            paths |= neg_paths
    return total, paths


def _pairs(fast: FastRule, pick: Candidates) -> list[Match]:
    """``_matches`` for a rule of two positive patterns and no negated one (most joins).

    The same combinations in the same order as the recursive walk, as two plain loops.
    """
    first, second = fast.positive
    out: list[Match] = []
    rule_id, alias, other = fast.rule.id, first.alias, second.alias
    shared = fast.shares_kind[1]
    seconds: list[EvalFact] | None = None
    for ef in pick.of(first):
        t1, p1 = fast_truth(first, ef, NO_BINDINGS)
        if t1 is _FALSE:
            continue
        if seconds is None:
            seconds = pick.of(second)
        fact = ef.fact
        bound = {alias: fact}
        for ef2 in seconds:
            if shared and ef2 is ef:
                continue  # each pattern binds a different fact
            t2, p2 = fast_truth(second, ef2, bound)
            if t2 is _FALSE:
                continue
            truth = min(t1, t2)
            paths = NO_PATHS if truth is _TRUE else (p1 | p2 if p2 else p1)
            out.append(Match(rule_id, ((alias, fact.fid), (other, ef2.fact.fid)), truth, paths))
    return out


def _matches(fast: FastRule, pick: Candidates) -> list[Match]:
    """Every TRUE or UNKNOWN combination of facts for one prepared rule.

    The caller has checked that every positive pattern's kind has facts (``FastRule.kinds``).
    """
    out: list[Match] = []
    candidates: list[list[EvalFact] | None] = [None] * len(fast.positive)
    _walk(fast, pick, candidates, out, 0, {}, [], _TRUE, NO_PATHS)
    return out


def _walk(  # noqa: PLR0913, PLR0917 - the recursion's state, passed explicitly
    fast: FastRule,
    pick: Candidates,
    candidates: list[list[EvalFact] | None],
    out: list[Match],
    i: int,
    bound: dict[str, Fact],
    chosen: list[tuple[str, str]],
    truth: Truth,
    paths: frozenset[str],
) -> None:
    """Extend a partial match by pattern ``i``.

    A pattern's candidates do not depend on the facts bound before it, so ``candidates`` keeps
    them for the whole rule. A module function: a recursive closure would be a reference cycle,
    leaving each evaluation's facts to the cyclic garbage collector (about 500 objects per
    assessment).
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
            Match(fast.rule.id, tuple(chosen), truth, paths if truth is _UNKNOWN else NO_PATHS),
        )
        return
    pattern = positive[i]
    facts = candidates[i]
    if facts is None:
        facts = candidates[i] = pick.of(pattern)
    shared = fast.shares_kind[i]
    for ef in facts:
        fid = ef.fact.fid
        if shared and any(fid == used for _, used in chosen):
            continue  # each pattern binds a different fact
        t, p = fast_truth(pattern, ef, bound)
        if t is _FALSE:
            continue
        bound[pattern.alias] = ef.fact
        chosen.append((pattern.alias, fid))
        _walk(
            fast,
            pick,
            candidates,
            out,
            i + 1,
            bound,
            chosen,
            min(truth, t),
            paths | p if p else paths,
        )
        chosen.pop()
        del bound[pattern.alias]
