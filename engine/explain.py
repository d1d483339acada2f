"""Stage 5: explanations from the engine's own justification data (DESIGN.md section 7).

HOW: the tree of firings behind a finding, a depth verdict or the decision, down to the intake
answers. WHY NOT: every condition of every rule that could have raised a code, with its status.
WHY ASKED: the rules and codes whose outcome depends on a question. All structured: the front
ends decide how it looks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from engine.evaluate import EvalFact, Evaluation, Truth, test_truth
from engine.facts import Fact
from engine.knowledge import Knowledge
from engine.logic import FindingOut, LimitOut, LogicRule
from engine.patterns import Pattern, Ref
from engine.result import Assessment, FactNode, Support

ConditionStatus = Literal["held", "failed", "unknown"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRef:
    """A source as cited by a rule."""

    id: str
    title: str
    tier: str
    address: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleRef:
    """A rule with what a reader needs to judge it."""

    id: str
    title: str
    rationale: str
    sources: tuple[SourceRef, ...]
    disputed: str | None
    location: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FactExplanation:
    """A fact in a HOW tree: an intake answer (with its mapping) or a derived fact."""

    fid: str
    kind: str
    summary: str
    answers: tuple[tuple[str, Any], ...]
    """(case path, value) of the answers this fact carries."""
    origin: tuple[str, ...]
    """How the answers were read (terminology mappings, defaults, sites)."""
    derived_by: tuple[HowNode, ...] = ()
    """For a derived fact: the firings that concluded it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HowNode:
    """One firing: a rule and the facts it matched."""

    rule: RuleRef
    conclusion: str
    premises: tuple[tuple[str, FactExplanation], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class How:
    """Why something was concluded."""

    target: str
    """``finding CODE``, ``depth ZONE`` or ``decision``."""
    summary: str
    nodes: tuple[HowNode, ...]
    determined_by: tuple[How, ...] = ()
    """For the decision: the HOW of each finding that determined it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """One condition of a rule, evaluated on the case (WHY NOT)."""

    pattern: str
    """The pattern's name (``medication``) or ``not medication`` for an absence test."""
    field: str
    op: str
    expected: Any
    actual: Any
    status: ConditionStatus
    path: str = ""
    fact: str = ""
    """The fact it was tested on (empty: no candidate fact)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleWhyNot:
    """How close one rule came to firing."""

    rule: RuleRef
    fired: bool
    conditions: tuple[Condition, ...]

    @property
    def failed(self) -> int:
        """Conditions that failed."""
        return sum(1 for c in self.conditions if c.status == "failed")

    @property
    def unknown(self) -> int:
        """Conditions that are unknown because a question is unanswered."""
        return sum(1 for c in self.conditions if c.status == "unknown")


@dataclass(frozen=True, slots=True, kw_only=True)
class WhyNot:
    """Why a code (or a rule) did not fire: each rule, nearest misses first."""

    target: str
    raised: bool
    rules: tuple[RuleWhyNot, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AskedRule:
    """A rule whose outcome depends on a question."""

    rule: RuleRef
    code: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WhyAsked:
    """Why a question is asked."""

    field: str
    question: str
    help: str
    rules: tuple[AskedRule, ...]
    could_raise_now: tuple[str, ...]
    """Codes its answer could still raise in this case (from ``missing``)."""


class ExplainError(ValueError):
    """The explanation asked for does not exist (unknown code, rule, zone or field)."""


def rule_ref(knowledge: Knowledge, rule_id: str) -> RuleRef:
    """A rule with its sources resolved."""
    rule = knowledge.rule_index[rule_id]
    sources = []
    for sid in rule.sources:
        src = knowledge.sources.get(sid)
        if src is not None:
            address = (src.address,) if isinstance(src.address, str) else tuple(src.address)
            sources.append(SourceRef(id=sid, title=src.title, tier=src.tier, address=address))
    return RuleRef(
        id=rule.id,
        title=rule.title,
        rationale=rule.rationale,
        sources=tuple(sources),
        disputed=rule.disputed,
        location=str(rule.location),
    )


class _HowBuilder:
    def __init__(self, knowledge: Knowledge, assessment: Assessment) -> None:
        self.k = knowledge
        self.graph = assessment.justification
        self.by_conclusion: dict[str, list[Support]] = {}
        for support in self.graph.supports:
            for fid in support.conclusions:
                self.by_conclusion.setdefault(fid, []).append(support)

    def fact(self, fid: str, seen: frozenset[str]) -> FactExplanation:
        node = self.graph.facts.get(fid)
        if node is None:
            return FactExplanation(fid=fid, kind="?", summary=fid, answers=(), origin=())
        derived: tuple[HowNode, ...] = ()
        if node.derived and fid not in seen:
            derived = tuple(
                self.node(s, fid, seen | {fid}) for s in self.by_conclusion.get(fid, ())
            )
        return FactExplanation(
            fid=fid,
            kind=node.kind,
            summary=describe(node),
            answers=tuple(
                (node.paths.get(name, node.entry_path), value)
                for name, value in node.fields.items()
                if name in node.paths
            ),
            origin=node.origin,
            derived_by=derived,
        )

    def node(self, support: Support, conclusion: str, seen: frozenset[str]) -> HowNode:
        return HowNode(
            rule=rule_ref(self.k, support.rule),
            conclusion=conclusion,
            premises=tuple((alias, self.fact(fid, seen)) for alias, fid in support.premises),
        )

    def conclusions(self, prefix: str) -> list[tuple[Support, str]]:
        return [
            (support, fid)
            for support in self.graph.supports
            for fid in support.conclusions
            if fid == prefix
            or fid.startswith((prefix + "@", prefix + ":"))
            or (prefix.endswith(":") and fid.startswith(prefix))
        ]


def describe(node: FactNode) -> str:
    """A one-line human description of a fact."""
    fields = dict(node.fields)
    if node.kind == "finding":
        zone = f" in {fields['zone']}" if fields.get("zone") else ""
        return f"finding {fields.get('code')}{zone}"
    if node.kind == "state":
        zone = f" in {fields['zone']}" if fields.get("zone") else ""
        return f"derived: {fields.get('name')}{zone}"
    if node.kind == "limit":
        return f"depth limit from {fields.get('rule')} for {fields.get('zone')}"
    shown = []
    for name, value in fields.items():
        if name in {"is_a", "entry"} or value is None:
            continue
        shown.append(f"{name}={value}")
    text = f"{node.kind} " + ", ".join(shown)
    mapped = [o for o in node.origin if "->" in o]
    return text + (f" ({'; '.join(mapped)})" if mapped else "")


def how_finding(knowledge: Knowledge, assessment: Assessment, code: str) -> How:
    """HOW a finding was raised: every firing behind it, down to the intake answers."""
    finding = assessment.finding(code)
    if finding is None:
        msg = f"{code} was not raised in this assessment (ask why-not instead)"
        raise ExplainError(msg)
    builder = _HowBuilder(knowledge, assessment)
    nodes = tuple(
        builder.node(support, fid, frozenset({fid}))
        for support, fid in builder.conclusions(f"finding:{code}")
    )
    status = ""
    if finding.cleared is not None:
        status = f"; cleared by {finding.cleared.by}"
    elif finding.overridden is not None:
        status = f"; overridden by {finding.overridden.by}: {finding.overridden.reason}"
    where = f" in {', '.join(finding.zones)}" if finding.zones else ""
    summary = f"{code} ({finding.level}, action {finding.action}){where}: {finding.title}{status}"
    return How(target=f"finding {code}", summary=summary, nodes=nodes)


def how_depth(knowledge: Knowledge, assessment: Assessment, zone: str) -> How:
    """HOW a zone's depth verdict was reached: the table rows and adjustments that matched."""
    verdict = next((d for d in assessment.depth if d.zone == zone), None)
    if verdict is None:
        msg = f"zone '{zone}' is not planned"
        raise ExplainError(msg)
    builder = _HowBuilder(knowledge, assessment)
    nodes = tuple(
        builder.node(support, fid, frozenset({fid}))
        for support, fid in builder.conclusions("limit:")
        if fid.endswith(f"@{zone}")
    )
    binding = ", ".join(verdict.binding) or "no table row"
    limits = f"soft {verdict.soft_flag_mm} mm, hard {verdict.hard_max_mm} mm"
    summary = (
        f"{zone}: planned {verdict.planned_mm} mm -> {verdict.verdict} ({limits}; "
        f"combined by the minimum; binding: {binding})"
    )
    return How(target=f"depth {zone}", summary=summary, nodes=nodes)


def how_decision(knowledge: Knowledge, assessment: Assessment) -> How:
    """HOW the decision was reached: the findings (or missing answers) that determined it."""
    if assessment.decision == "NEEDS_ANSWERS":
        summary = (
            "NEEDS_ANSWERS: these unanswered questions could raise an absolute or relative "
            f"finding: {', '.join(assessment.decided_by)}"
        )
        return How(target="decision", summary=summary, nodes=())
    parts = tuple(
        how_finding(knowledge, assessment, code)
        for code in assessment.decided_by
        if assessment.finding(code) is not None
    )
    reason = ", ".join(assessment.decided_by) or "no finding that needs action"
    summary = f"{assessment.decision}: the most severe action present comes from {reason}"
    if assessment.provisional:
        summary += " (provisional: questions are unanswered)"
    return How(target="decision", summary=summary, nodes=(), determined_by=parts)


def iter_how(how: How) -> Iterator[HowNode]:
    """Every node of a HOW tree, depth first."""
    stack: list[HowNode] = list(how.nodes)
    for part in how.determined_by:
        stack.extend(part.nodes)
    while stack:
        node = stack.pop()
        yield node
        for _, fact in node.premises:
            stack.extend(fact.derived_by)


# --- WHY NOT -----------------------------------------------------------------------------------

_MAX_COMBINATIONS = 400
_STATUS: dict[Truth, ConditionStatus] = {
    Truth.TRUE: "held",
    Truth.FALSE: "failed",
    Truth.UNKNOWN: "unknown",
}


def _pattern_conditions(
    pattern: Pattern,
    candidate: EvalFact | None,
    bound: Mapping[str, Fact],
) -> list[Condition]:
    label = pattern.alias
    if candidate is None:
        return [
            Condition(
                pattern=label,
                field="(entry)",
                op="exists",
                expected=pattern.kind,
                actual=None,
                status="failed",
            ),
        ]
    out: list[Condition] = []
    if not candidate.certain:
        path = next(iter(candidate.unknown_paths), "")
        out.append(
            Condition(
                pattern=label,
                field="(entry)",
                op="exists",
                expected=pattern.kind,
                actual="unknown",
                status="unknown",
                path=path,
                fact=candidate.fact.fid,
            ),
        )
    for test in pattern.tests:
        truth, actual, path = test_truth(test, candidate.fact, bound)
        expected = str(test.value) if isinstance(test.value, Ref) else test.value
        status = _STATUS[truth]
        out.append(
            Condition(
                pattern=label,
                field=test.field,
                op=test.op,
                expected=expected,
                actual=actual,
                status=status,
                path=path,
                fact=candidate.fact.fid,
            ),
        )
    return out


def _score(conditions: Sequence[Condition]) -> tuple[int, int]:
    failed = sum(1 for c in conditions if c.status == "failed")
    unknown = sum(1 for c in conditions if c.status == "unknown")
    return failed, unknown


def _negated(pattern: Pattern, evaluation: Evaluation, bound: Mapping[str, Fact]) -> Condition:
    worst = Truth.FALSE
    witness = ""
    for ef in evaluation.facts.values():
        if ef.fact.kind != pattern.kind:
            continue
        truth = Truth.TRUE if ef.certain else Truth.UNKNOWN
        for test in pattern.tests:
            result, _, _ = test_truth(test, ef.fact, bound)
            truth = min(truth, result)
        if truth > worst:
            worst, witness = truth, ef.fact.fid
    status = _STATUS[Truth(2 - worst)]
    tests = ", ".join(f"{t.field} {t.op} {t.value}" for t in pattern.tests)
    return Condition(
        pattern=f"not {pattern.kind}",
        field="(absence)",
        op="none",
        expected=tests,
        actual=witness or None,
        status=status,
        fact=witness,
    )


def why_not_rule(knowledge: Knowledge, evaluation: Evaluation, rule: LogicRule) -> RuleWhyNot:
    """The nearest miss of one rule: the fact combination with the fewest failed conditions."""
    positive = [p for p in rule.patterns if not p.negated]
    negative = [p for p in rule.patterns if p.negated]
    by_kind: dict[str, list[EvalFact]] = {}
    for ef in evaluation.facts.values():
        by_kind.setdefault(ef.fact.kind, []).append(ef)
    fired = any(m.rule_id == rule.id and m.truth is Truth.TRUE for m in evaluation.matches)
    best: list[Condition] | None = None
    tried = 0

    def walk(i: int, bound: dict[str, Fact], conds: list[Condition]) -> None:
        nonlocal best, tried
        if tried >= _MAX_COMBINATIONS:
            return
        if best is not None and _score(conds) > _score(best):
            return
        if i == len(positive):
            tried += 1
            total = conds + [_negated(p, evaluation, bound) for p in negative]
            if best is None or _score(total) < _score(best):
                best = total
            return
        pattern = positive[i]
        candidates = [
            ef
            for ef in by_kind.get(pattern.kind, ())
            if ef.fact.fid not in {f.fid for f in bound.values()}
        ]
        if not candidates:
            walk(i + 1, bound, conds + _pattern_conditions(pattern, None, bound))
            return
        for ef in candidates:
            bound[pattern.alias] = ef.fact
            walk(i + 1, bound, conds + _pattern_conditions(pattern, ef, bound))
            del bound[pattern.alias]

    walk(0, {}, [])
    return RuleWhyNot(rule=rule_ref(knowledge, rule.id), fired=fired, conditions=tuple(best or ()))


def rules_for_code(knowledge: Knowledge, code: str) -> list[LogicRule]:
    """Every rule that can raise ``code`` (depth rows for the depth-verdict codes)."""
    verdicts = knowledge.depth.verdict_findings
    depth_codes = {verdicts.above_soft, verdicts.exceeds_hard, verdicts.no_sourced_limit}

    def raises(rule: LogicRule) -> bool:
        out = rule.output
        if isinstance(out, FindingOut):
            return out.code == code
        if isinstance(out, LimitOut):
            return out.do_not_treat == code or (
                code in depth_codes and rule.origin == "depth_limit"
            )
        return False

    return [rule for rule in knowledge.rules if raises(rule)]


def why_not(
    knowledge: Knowledge,
    assessment: Assessment,
    evaluation: Evaluation,
    target: str,
) -> WhyNot:
    """WHY NOT for a catalogue code or a rule id: each rule's conditions, nearest misses first."""
    if target in knowledge.catalogue:
        rules = rules_for_code(knowledge, target)
        raised = assessment.finding(target) is not None
    elif target in knowledge.rule_index:
        rules = [knowledge.rule_index[target]]
        raised = any(s.rule == target for s in assessment.justification.supports)
    else:
        msg = f"'{target}' is neither a catalogue code nor a rule id"
        raise ExplainError(msg)
    explained = [why_not_rule(knowledge, evaluation, rule) for rule in rules]
    explained.sort(key=lambda r: (r.fired is False, r.failed, r.unknown, r.rule.id))
    return WhyNot(target=target, raised=raised, rules=tuple(explained))


# --- WHY ASKED ---------------------------------------------------------------------------------


def _generic(path: str) -> str:
    return re.sub(r"\[[^\]]*\]", "", path)


def why_asked(knowledge: Knowledge, assessment: Assessment, field: str) -> WhyAsked:
    """The rules and codes whose outcome depends on the question at ``field`` (a case path)."""
    generic = _generic(field)
    parent, _, name = generic.rpartition(".")
    targets: set[tuple[str, str]] = set()
    question = ""
    help_text = ""
    for kind, spec in knowledge.vocabulary.specs.items():
        if spec.source == generic:  # a whole list or object: every field of it
            targets.update((kind, f) for f in knowledge.vocabulary.fields_of(kind) or {})
            first = next(iter(spec.fields.values()))
            question, help_text = first.question or spec.title, first.help
        if spec.source != parent or name not in spec.fields:
            continue
        fspec = spec.fields[name]
        question, help_text = fspec.question, fspec.help
        targets.add((kind, name))
        if fspec.type == "term":
            targets.update({(kind, "is_a"), (kind, "intradermal")})
        if name == spec.site_field:
            targets.update({(kind, "zone"), (kind, "relation")})
    if not targets:
        msg = f"'{field}' is not a question of the vocabulary"
        raise ExplainError(msg)
    asked = []
    for rule in knowledge.rules:
        uses = any(
            (p.kind, t.field) in targets
            or (
                isinstance(t.value, Ref)
                and (_kind_of(rule, t.value.alias), t.value.field) in targets
            )
            for p in rule.patterns
            for t in p.tests
        ) or any(p.kind == kind and not p.tests for p in rule.patterns for kind, _ in targets)
        if uses:
            code = rule.output.code if isinstance(rule.output, FindingOut) else None
            asked.append(AskedRule(rule=rule_ref(knowledge, rule.id), code=code))
    now = sorted(
        {
            c
            for m in assessment.missing
            if _generic(m.field) == generic or m.field == field
            for c in m.could_raise
        },
    )
    return WhyAsked(
        field=field,
        question=question,
        help=help_text,
        rules=tuple(asked),
        could_raise_now=tuple(now),
    )


def _kind_of(rule: LogicRule, alias: str) -> str:
    return next((p.kind for p in rule.patterns if p.alias == alias), "")
