"""How much of the knowledge its case tests exercise (``needlewise test --coverage``).

Three measures, all taken from the assessments' own three-valued evaluations:

* **rules**: a rule (or depth-table row, or adjustment) is covered when some case made it fire;
* **conditions**: a condition (one test of one pattern) is covered when, across the cases, it
  was seen true on some candidate fact and false on another (``engine.evaluate.test_truth``);
  a join (``same_as``) is tried against the facts that pass the other pattern's own tests;
* **codes**: a catalogue code is covered when some case raises it and some case does not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.evaluate import EvalFact, Evaluation, Truth, test_truth
from engine.knowledge import Knowledge
from engine.lint import Positions
from engine.location import Location
from engine.logic import LogicRule
from engine.patterns import Pattern, Ref, Test
from engine.result import Assessment

_MAX_PARTNERS = 200
"""Facts tried on the other side of a join, per candidate (keeps large cases fast)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseRun:
    """One assessed case test: its name, the evaluation and the assessment."""

    name: str
    evaluation: Evaluation
    assessment: Assessment


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleCoverage:
    """Whether the cases made one rule fire."""

    rule_id: str
    title: str
    origin: str
    """``rule``, ``depth_limit`` or ``depth_adjustment``."""
    location: Location
    fired_in: tuple[str, ...]
    """Cases in which it fired."""

    @property
    def covered(self) -> bool:
        """Fired in at least one case."""
        return bool(self.fired_in)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionCoverage:
    """Whether one condition (a test of a pattern) was seen both true and false."""

    rule_id: str
    pattern: str
    """The pattern's name, or ``not <kind>`` for an absence test."""
    condition: str
    """The test, e.g. ``status in ['active', 'uncontrolled']``."""
    location: Location
    true_in: tuple[str, ...]
    false_in: tuple[str, ...]

    @property
    def covered(self) -> bool:
        """Seen true in some case and false in some case."""
        return bool(self.true_in and self.false_in)


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeCoverage:
    """Which cases raised a catalogue code and which did not."""

    code: str
    level: str
    raised_in: tuple[str, ...]
    not_raised_in: tuple[str, ...]

    @property
    def covered(self) -> bool:
        """Raised by some case and not raised by another."""
        return bool(self.raised_in and self.not_raised_in)


def _percent(done: int, total: int) -> float:
    return 100.0 if total == 0 else 100.0 * done / total


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """Coverage of one knowledge base by a set of cases."""

    knowledge: str
    """``name version`` of the knowledge."""
    cases: tuple[str, ...]
    rules: tuple[RuleCoverage, ...]
    conditions: tuple[ConditionCoverage, ...]
    codes: tuple[CodeCoverage, ...]

    @property
    def rule_percent(self) -> float:
        """Rules fired by some case, in percent (the ``--fail-under`` measure)."""
        return _percent(sum(r.covered for r in self.rules), len(self.rules))

    @property
    def condition_percent(self) -> float:
        """Conditions seen both true and false, in percent."""
        return _percent(sum(c.covered for c in self.conditions), len(self.conditions))

    @property
    def code_percent(self) -> float:
        """Codes raised by some case and not raised by another, in percent."""
        return _percent(sum(c.covered for c in self.codes), len(self.codes))


def describe_test(test: Test) -> str:
    """A condition in one line: ``field op value`` (values as in JSON)."""
    value = test.value
    if isinstance(value, Ref):
        return f"{test.field} {test.op} {value}"
    if test.op == "is_a":
        values = value if isinstance(value, tuple) else (value,)
        return f"is_a {' or '.join(str(v) for v in values)}"
    shown = json.dumps(list(value) if isinstance(value, tuple) else value)
    return f"{test.field} {test.op} {shown}"


def _by_kind(evaluation: Evaluation) -> dict[str, list[EvalFact]]:
    out: dict[str, list[EvalFact]] = {}
    for ef in evaluation.facts.values():
        if ef.certain:  # a possible fact (unanswered list, unknown premise) is never seen
            out.setdefault(ef.fact.kind, []).append(ef)
    return out


def _passes(pattern: Pattern, ef: EvalFact) -> bool:
    return all(
        test_truth(t, ef.fact, {})[0] is Truth.TRUE
        for t in pattern.tests
        if not isinstance(t.value, Ref)
    )


def _truths(
    rule: LogicRule,
    pattern: Pattern,
    test: Test,
    by_kind: Mapping[str, list[EvalFact]],
) -> set[Truth]:
    """Every truth value ``test`` takes on the case's candidate facts."""
    candidates = by_kind.get(pattern.kind, ())
    ref = test.value if isinstance(test.value, Ref) else None
    if ref is None:
        return {test_truth(test, ef.fact, {})[0] for ef in candidates}
    other = next((p for p in rule.patterns if p.alias == ref.alias and not p.negated), None)
    if other is None:
        return set()
    partners = [ef for ef in by_kind.get(other.kind, ()) if _passes(other, ef)][:_MAX_PARTNERS]
    return {
        test_truth(test, ef.fact, {ref.alias: partner.fact})[0]
        for ef in candidates
        for partner in partners
        if partner.fact.fid != ef.fact.fid
    }


def measure(knowledge: Knowledge, runs: Sequence[CaseRun]) -> Coverage:
    """Rule, condition and code coverage of ``knowledge`` by the assessed cases."""
    names = tuple(run.name for run in runs)
    fired: dict[str, list[str]] = {}
    true_in: dict[tuple[str, int, int], list[str]] = {}
    false_in: dict[tuple[str, int, int], list[str]] = {}
    for run in runs:
        for rule_id in {m.rule_id for m in run.evaluation.matches if m.truth is Truth.TRUE}:
            fired.setdefault(rule_id, []).append(run.name)
        by_kind = _by_kind(run.evaluation)
        for rule in knowledge.rules:
            for pi, pattern in enumerate(rule.patterns):
                for ti, test in enumerate(pattern.tests):
                    truths = _truths(rule, pattern, test, by_kind)
                    if Truth.TRUE in truths:
                        true_in.setdefault((rule.id, pi, ti), []).append(run.name)
                    if Truth.FALSE in truths:
                        false_in.setdefault((rule.id, pi, ti), []).append(run.name)
    positions = Positions()
    rules = tuple(
        RuleCoverage(
            rule_id=rule.id,
            title=rule.title,
            origin=rule.origin,
            location=rule.location,
            fired_in=tuple(fired.get(rule.id, ())),
        )
        for rule in knowledge.rules
    )
    conditions = tuple(
        ConditionCoverage(
            rule_id=rule.id,
            pattern=f"not {pattern.kind}" if pattern.negated else pattern.alias,
            condition=describe_test(test),
            location=positions.at(rule.location.file, test.path),
            true_in=tuple(true_in.get((rule.id, pi, ti), ())),
            false_in=tuple(false_in.get((rule.id, pi, ti), ())),
        )
        for rule in knowledge.rules
        for pi, pattern in enumerate(rule.patterns)
        for ti, test in enumerate(pattern.tests)
    )
    codes = tuple(
        CodeCoverage(
            code=code,
            level=entry.level,
            raised_in=tuple(r.name for r in runs if r.assessment.finding(code) is not None),
            not_raised_in=tuple(r.name for r in runs if r.assessment.finding(code) is None),
        )
        for code, entry in knowledge.catalogue.items()
    )
    return Coverage(
        knowledge=f"{knowledge.name} {knowledge.version}",
        cases=names,
        rules=rules,
        conditions=conditions,
        codes=codes,
    )
