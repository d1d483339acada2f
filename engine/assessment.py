"""Stage 4: assess a case with compiled knowledge -> Assessment (with its justification graph)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from engine.case import Case
from engine.compile import GATE_ALIAS, PHASE_KIND, CompiledKnowledge
from engine.conclude import conclude, fixed_conclusions
from engine.depth import LimitHit, depth_verdicts
from engine.errors import AssessmentError
from engine.evaluate import Evaluation, Evaluator, Truth
from engine.facts import FactSet, build_facts
from engine.findings import FindingBook
from engine.knowledge import Knowledge
from engine.logic import CareOut, FindingOut, LimitOut, LogicRule, StateOut
from engine.missing import missing_answers
from engine.model import EffectItem
from engine.policy import apply_records, decide
from engine.result import (
    Assessment,
    CareInstruction,
    ExpectedEffect,
    FactNode,
    Inconsistency,
    Justification,
    KnowledgeStamp,
    Support,
    UnrecognizedEntry,
)
from engine.runtime import ENGINE_VERSION, EngineRuntimeError, Firing, RuleEngine, RunResult
from engine.strata import stratify


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace:
    """An assessment with the facts and the three-valued evaluation it came from."""

    case: Case
    facts: FactSet
    evaluation: Evaluation
    assessment: Assessment


@dataclass(slots=True)
class Assessor:
    """Compiled knowledge plus its engine instance, reused across assessments (thread-safe)."""

    compiled: CompiledKnowledge
    _engine: RuleEngine | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _evaluator: Evaluator | None = None
    _checks: Evaluator | None = None
    _care: dict[str, tuple[CareEntry, ...]] = field(default_factory=dict)

    @property
    def knowledge(self) -> Knowledge:
        """The knowledge this assessor decides with."""
        return self.compiled.knowledge

    @property
    def engine(self) -> RuleEngine:
        """The durable ruleset, registered on first use."""
        with self._lock:
            if self._engine is None:
                rules = self.compiled.knowledge.rule_index

                def action(
                    rule_id: str,
                    bindings: Mapping[str, Mapping[str, Any]],
                ) -> list[dict[str, Any]]:
                    return conclude(rules[rule_id], bindings)

                fixed = {r.id: fixed_conclusions(r) for r in self.compiled.knowledge.rules}
                self._engine = RuleEngine(
                    self.compiled.definition,
                    action,
                    phases=self.compiled.phases,
                    numeric_fields=self.compiled.numeric_fields,
                    fixed={rule_id: f for rule_id, f in fixed.items() if f is not None},
                )
            return self._engine

    @property
    def evaluator(self) -> Evaluator:
        """The three-valued evaluator over the same rules."""
        if self._evaluator is None:
            rules = self.compiled.knowledge.rules
            self._evaluator = Evaluator(rules, stratify(rules))
        return self._evaluator

    @property
    def checks(self) -> Evaluator:
        """The consistency checks as an evaluator."""
        if self._checks is None:
            self._checks = Evaluator(
                [
                    LogicRule(
                        id=c.spec.id,
                        title=c.spec.message,
                        rationale=c.spec.message,
                        sources=(),
                        disputed=None,
                        patterns=c.patterns,
                        output=StateOut(name="inconsistent"),
                        origin="rule",
                        location=c.location,
                    )
                    for c in self.compiled.knowledge.checks
                ],
            )
        return self._checks

    def close(self) -> None:
        """Free the durable ruleset (before a knowledge reload)."""
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None

    def assess(self, case: Case, *, verify: bool = True) -> Assessment:
        """Assess one case; ``verify`` cross-checks durable's firings against the evaluator."""
        return self.trace(case, verify=verify).assessment

    def trace(self, case: Case, *, verify: bool = True) -> Trace:
        """Assess one case and keep the evaluation beside it (for WHY-NOT explanations)."""
        knowledge = self.compiled.knowledge
        facts = build_facts(knowledge, case)
        inconsistencies, unanswer = self._inconsistencies(facts)
        if unanswer:
            facts = build_facts(knowledge, case, unanswer)
        try:
            run = self.engine.run([f.engine_dict() for f in facts.facts])
        except EngineRuntimeError as exc:
            # A valid case must never reach this: it is an engine defect, reported as such.
            msg = f"the rule engine failed on a validated case: {exc}"
            raise AssessmentError(msg) from exc
        evaluation = self.evaluator.run(facts.facts, facts.phantoms)
        if verify:
            cross_check(run.firings, evaluation)
        assessment = _result(
            knowledge, case, facts, run, evaluation, inconsistencies, care=self._care
        )
        return Trace(case=case, facts=facts, evaluation=evaluation, assessment=assessment)

    def _inconsistencies(self, facts: FactSet) -> tuple[list[Inconsistency], frozenset[str]]:
        checks = self.compiled.knowledge.checks
        if not checks:
            return [], frozenset()
        evaluation = self.checks.run(facts.facts, facts.phantoms)
        held = {m.rule_id for m in evaluation.matches if m.truth is Truth.TRUE}
        found = [
            Inconsistency(fields=tuple(c.spec.unanswer), message=c.spec.message, check=c.spec.id)
            for c in checks
            if c.spec.id in held
        ]
        return found, frozenset(p for i in found for p in i.fields)


def cross_check(firings: Sequence[Firing], evaluation: Evaluation) -> None:
    """Raise AssessmentError unless durable fired exactly the evaluator's TRUE matches."""
    fired = {(f.rule_id, _premises(f)) for f in firings}
    expected = evaluation.true_firings()
    if fired != expected:
        extra = sorted(fired - expected)[:5]
        lacking = sorted(expected - fired)[:5]
        msg = (
            "rule engine and independent evaluator disagree: "
            f"fired but not expected {extra}; expected but not fired {lacking}"
        )
        raise AssessmentError(msg)
    if len(fired) != len(firings):
        counts = Counter((f.rule_id, _premises(f)) for f in firings)
        twice = sorted(k for k, n in counts.items() if n > 1)[:5]
        msg = f"rule engine fired a rule more than once on the same facts: {twice}"
        raise AssessmentError(msg)


def _premises(firing: Firing) -> tuple[tuple[str, str], ...]:
    """A firing's premises without its phase gate (compile_rule puts a gate first)."""
    premises = firing.premises
    if premises and premises[0][0] == GATE_ALIAS:
        return premises[1:]
    return premises


class _GraphNodes(Mapping[str, FactNode]):
    """The graph's fact nodes, built on first use: most assessments are never explained."""

    __slots__ = ("_facts", "_nodes", "_registry")

    def __init__(self, facts: FactSet, registry: Mapping[str, Mapping[str, Any]]) -> None:
        self._facts = facts
        self._registry = registry
        self._nodes: dict[str, FactNode] | None = None

    def _built(self) -> dict[str, FactNode]:
        if self._nodes is None:
            self._nodes = _nodes(self._facts, self._registry)
        return self._nodes

    def __getitem__(self, fid: str) -> FactNode:
        return self._built()[fid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())

    def __repr__(self) -> str:
        return f"GraphNodes({self._built()!r})"


class _Supports(Sequence[Support]):
    """The graph's firings as supports, built on first use (like ``_GraphNodes``)."""

    __slots__ = ("_built", "_firings", "_more")

    def __init__(self, firings: Sequence[Firing], more: Sequence[Support]) -> None:
        self._firings = firings
        self._more = more
        self._built: tuple[Support, ...] | None = None

    def _all(self) -> tuple[Support, ...]:
        if self._built is None:
            self._built = (
                *(
                    Support(
                        rule=f.rule_id,
                        premises=_premises(f),
                        conclusions=f.conclusions,
                        phase=f.phase,
                    )
                    for f in self._firings
                ),
                *self._more,
            )
        return self._built

    @overload
    def __getitem__(self, index: int) -> Support: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Support, ...]: ...

    def __getitem__(self, index: int | slice) -> Support | tuple[Support, ...]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[Support]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return self._all() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Supports({self._all()!r})"


def _nodes(facts: FactSet, registry: Mapping[str, Mapping[str, Any]]) -> dict[str, FactNode]:
    nodes: dict[str, FactNode] = {
        # The case's facts are never changed after build_facts: the graph shares their maps.
        f.fid: FactNode(
            fid=f.fid,
            kind=f.kind,
            fields=f.fields,
            paths=f.paths,
            entry_path=f.entry_path,
            origin=f.origin,
        )
        for f in facts.facts
    }
    for fid, fact in registry.items():
        if fid not in nodes and fact.get("kind") != PHASE_KIND:
            nodes[fid] = FactNode(
                fid=fid,
                kind=str(fact.get("kind")),
                fields={k: v for k, v in fact.items() if k not in {"fid", "kind"}},
                derived=True,
            )
    return nodes


def _result(
    knowledge: Knowledge,
    case: Case,
    facts: FactSet,
    run: RunResult,
    evaluation: Evaluation,
    inconsistencies: list[Inconsistency],
    *,
    care: dict[str, tuple[CareEntry, ...]] | None = None,
) -> Assessment:
    """The assessment from a run and its evaluation; ``care`` caches each rule's care entries."""
    if care is None:
        care = {}
    answered = {f.fid: f.fields for f in facts.facts}
    registry = run.facts
    book = FindingBook()
    precare: list[CareInstruction] = []
    aftercare: list[CareInstruction] = []
    effects: list[ExpectedEffect] = []
    cared: set[str] = set()  # care rules whose entries are in
    hits: dict[str, list[LimitHit]] = {}

    def bound(firing: Firing) -> dict[str, Mapping[str, Any]]:
        return {
            alias: answered[fid] if fid in answered else registry[fid]
            for alias, fid in firing.premises
            if fid in answered or fid in registry
        }

    for firing in run.firings:
        rule = knowledge.rule_index[firing.rule_id]
        out = rule.output
        if isinstance(out, FindingOut):
            premises = bound(firing)
            zone = premises[out.zone.alias].get(out.zone.field) if out.zone else None
            wait = _wait(case, out, premises)
            book.add(out.code, rule, zone=zone, wait=wait, advice=out.advice)
        elif isinstance(out, LimitOut):
            zone = bound(firing)[out.area_alias].get("zone")
            hits.setdefault(str(zone), []).append(
                LimitHit(rule=rule, out=out, fid=firing.conclusions[0])
            )
        elif isinstance(out, CareOut):
            if rule.id in cared:
                continue  # one set of instructions, however many areas or entries matched
            cared.add(rule.id)
            entries = care.get(rule.id)
            if entries is None:
                entries = care[rule.id] = _care_entries(rule, out)
            for section, entry in entries:
                if isinstance(entry, ExpectedEffect):
                    effects.append(entry)
                else:
                    (precare if section == "precare" else aftercare).append(entry)
    areas = [f for f in facts.facts if f.kind == "area"]
    verdicts, depth_supports = depth_verdicts(areas, hits, knowledge.depth.verdict_findings, book)
    missing = missing_answers(knowledge, evaluation, facts, verdicts)
    findings, refused = apply_records(knowledge, book, case)
    decision, provisional, decided_by = decide(knowledge, findings, missing)
    return Assessment(
        consultation_date=case.consultation_date,
        decision=decision,
        provisional=provisional,
        decided_by=decided_by,
        findings=tuple(findings),
        depth=tuple(verdicts),
        missing=tuple(missing),
        unrecognized=tuple(
            UnrecognizedEntry(field=u.field, entry=u.entry) for u in facts.unrecognized
        ),
        inconsistencies=(*inconsistencies, *refused),
        precare=tuple(precare),
        aftercare=tuple(aftercare),
        expected_effects=tuple(effects),
        knowledge=KnowledgeStamp(
            name=knowledge.name, version=knowledge.version, hash=knowledge.hash
        ),
        engine=f"durable-rules {ENGINE_VERSION}",
        disclaimer=knowledge.manifest.disclaimer.strip(),
        justification=Justification(
            facts=_GraphNodes(facts, registry), supports=_Supports(run.firings, depth_supports)
        ),
    )


CareEntry = tuple[str, CareInstruction | ExpectedEffect]
"""(section, instruction or expected effect): what a care rule contributes, the same each time."""


def _care_entries(rule: LogicRule, out: CareOut) -> tuple[CareEntry, ...]:
    entries: list[CareEntry] = []
    texts: set[str] = set()
    for item in out.items:
        if item.text in texts:
            continue  # the same text twice in one rule is one instruction
        texts.add(item.text)
        if isinstance(item, EffectItem):
            effect = ExpectedEffect(
                band=item.band, text=item.text, rule=rule.id, sources=rule.sources
            )
            entries.append((out.section, effect))
        else:
            instruction = CareInstruction(
                when=item.when,
                text=item.text,
                rule=rule.id,
                sources=rule.sources,
                disputed=rule.disputed,
            )
            entries.append((out.section, instruction))
    return tuple(entries)


def _wait(case: Case, out: FindingOut, bound: Mapping[str, Mapping[str, Any]]) -> dt.date | None:
    if out.wait_days is None or out.wait_since is None:
        return None
    since = bound.get(out.wait_since.alias, {}).get(out.wait_since.field)
    if isinstance(since, bool) or not isinstance(since, (int, float)):
        return None
    return case.consultation_date + dt.timedelta(days=out.wait_days - int(since))
