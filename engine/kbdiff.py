"""The impact of a knowledge change (``needlewise diff OLD NEW``): what a reviewer reads first.

Every case is assessed under both knowledge versions; for each case the decision, findings, depth
verdicts and questions that change are listed with the rules that caused each change: rules that
fired for that code in one version only, rules that exist in one version only, and rules whose
conditions or conclusion changed.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from engine.assessment import Assessor
from engine.case import Case, case_from_data
from engine.casetest import load_case_only
from engine.errors import CaseError, Problem
from engine.knowledge import Knowledge
from engine.logic import LogicRule, StateOut
from engine.records import RecordStore
from engine.result import Assessment, Finding
from engine.whatif import difference

CauseKind = Literal["added", "removed", "changed", "fires_new", "fires_old"]
CaseStatus = Literal["same", "changed", "invalid_old", "invalid_new", "invalid_both"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    """A rule behind a change."""

    rule_id: str
    kind: CauseKind
    """``added``/``removed``: the rule exists in one version only; ``changed``: its conditions
    or conclusion differ; ``fires_new``/``fires_old``: it fired in one version only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingDelta:
    """A finding added, removed or changed (level, cleared/overridden, zones)."""

    code: str
    before: str | None
    """Level in the old version (None: not raised)."""
    after: str | None
    note: str
    causes: tuple[Cause, ...]
    catalogue_changed: bool = False
    """The code's catalogue entry (level, action) differs between the versions."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DepthDelta:
    """A zone whose depth verdict changed."""

    zone: str
    before: str | None
    after: str | None
    binding_before: tuple[str, ...]
    binding_after: tuple[str, ...]
    causes: tuple[Cause, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseDiff:
    """One case under both versions."""

    file: str
    status: CaseStatus
    decision: tuple[str, str] | None = None
    provisional: tuple[bool, bool] | None = None
    findings: tuple[FindingDelta, ...] = ()
    depth: tuple[DepthDelta, ...] = ()
    missing_added: tuple[str, ...] = ()
    missing_removed: tuple[str, ...] = ()
    unrecognized_added: tuple[str, ...] = ()
    """Entries the new version no longer recognises."""
    unrecognized_removed: tuple[str, ...] = ()
    """Entries the new version recognises (e.g. a new synonym)."""
    problems: tuple[Problem, ...] = ()
    """Why the case is unusable under one or both versions."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KnowledgeDelta:
    """What changed in the knowledge itself, independent of the cases."""

    rules_added: tuple[str, ...]
    rules_removed: tuple[str, ...]
    rules_changed: tuple[str, ...]
    """Rules whose conditions or conclusion changed (text-only edits are not listed)."""
    codes_added: tuple[str, ...]
    codes_removed: tuple[str, ...]
    codes_changed: tuple[str, ...]
    """Codes whose level or action changed."""

    @property
    def empty(self) -> bool:
        """True when no rule or code changed."""
        return not any(
            (
                self.rules_added,
                self.rules_removed,
                self.rules_changed,
                self.codes_added,
                self.codes_removed,
                self.codes_changed,
            ),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class KnowledgeDiff:
    """The impact of a knowledge change on a set of cases."""

    old: str
    """``name version (hash prefix)`` of the old knowledge."""
    new: str
    knowledge: KnowledgeDelta
    cases: tuple[CaseDiff, ...]

    @property
    def changed(self) -> bool:
        """True when some case is assessed differently (or valid under one version only)."""
        return any(c.status != "same" for c in self.cases)

    @property
    def unusable(self) -> tuple[CaseDiff, ...]:
        """Cases invalid under both versions."""
        return tuple(c for c in self.cases if c.status == "invalid_both")


def signature(rule: LogicRule) -> tuple[Any, ...]:
    """A rule's logic (conditions and conclusion) without its text and positions."""
    patterns = tuple(
        (p.kind, p.alias, p.negated, tuple((t.field, t.op, t.value) for t in p.tests))
        for p in rule.patterns
    )
    return (rule.origin, patterns, rule.output)


def knowledge_delta(old: Knowledge, new: Knowledge) -> KnowledgeDelta:
    """Rules and codes added, removed or changed."""
    old_rules, new_rules = old.rule_index, new.rule_index
    shared = [r for r in new_rules if r in old_rules]
    return KnowledgeDelta(
        rules_added=tuple(r for r in new_rules if r not in old_rules),
        rules_removed=tuple(r for r in old_rules if r not in new_rules),
        rules_changed=tuple(
            r for r in shared if signature(old_rules[r]) != signature(new_rules[r])
        ),
        codes_added=tuple(c for c in new.catalogue if c not in old.catalogue),
        codes_removed=tuple(c for c in old.catalogue if c not in new.catalogue),
        codes_changed=tuple(
            c
            for c, entry in new.catalogue.items()
            if c in old.catalogue
            and (old.catalogue[c].level, old.catalogue[c].action) != (entry.level, entry.action)
        ),
    )


class _Causes:
    """Explains changes by the rules behind them."""

    def __init__(self, old: Knowledge, new: Knowledge, delta: KnowledgeDelta) -> None:
        self.old = old
        self.new = new
        self.changed = set(delta.rules_changed)
        self.codes_changed = set(delta.codes_changed)

    def of(self, before: Iterable[str], after: Iterable[str]) -> list[Cause]:
        old_set, new_set = set(before), set(after)
        causes: list[Cause] = []
        for rule_id in sorted(new_set - old_set):
            kind: CauseKind = "fires_new" if rule_id in self.old.rule_index else "added"
            causes.append(Cause(rule_id=rule_id, kind=kind))
        for rule_id in sorted(old_set - new_set):
            kind = "fires_old" if rule_id in self.new.rule_index else "removed"
            causes.append(Cause(rule_id=rule_id, kind=kind))
        causes.extend(
            Cause(rule_id=rule_id, kind="changed")
            for rule_id in sorted(old_set | new_set)
            if rule_id in self.changed
        )
        return causes

    def upstream(self, before: Assessment, after: Assessment) -> list[Cause]:
        """Rules deriving states that fired in one version only (a change further up a chain)."""
        fired_old = {s.rule for s in before.justification.supports}
        fired_new = {s.rule for s in after.justification.supports}

        def derives_state(rule_id: str) -> bool:
            rule = self.new.rule_index.get(rule_id) or self.old.rule_index.get(rule_id)
            return rule is not None and isinstance(rule.output, StateOut)

        return [
            c
            for c in self.of(fired_old, fired_new)
            if derives_state(c.rule_id) or c.kind == "changed"
        ]


def _finding_rules(finding: Finding | None) -> tuple[str, ...]:
    return () if finding is None else finding.rules


def case_diff(
    file: str,
    before: Assessment,
    after: Assessment,
    causes: _Causes,
) -> CaseDiff:
    """The difference of one case's two assessments, with causes."""
    diff = difference(before, after)
    findings = []
    for change in diff.findings:
        old_f, new_f = before.finding(change.code), after.finding(change.code)
        found = causes.of(_finding_rules(old_f), _finding_rules(new_f))
        catalogue_changed = change.code in causes.codes_changed
        if not found and not catalogue_changed:
            found = causes.upstream(before, after)
        findings.append(
            FindingDelta(
                code=change.code,
                before=change.before,
                after=change.after,
                note=change.note,
                causes=tuple(found),
                catalogue_changed=catalogue_changed,
            ),
        )
    old_depth = {d.zone: d for d in before.depth}
    new_depth = {d.zone: d for d in after.depth}
    depth = []
    for moved in diff.depth:
        was, now = old_depth.get(moved.zone), new_depth.get(moved.zone)
        bound_before = () if was is None else was.binding
        bound_after = () if now is None else now.binding
        depth.append(
            DepthDelta(
                zone=moved.zone,
                before=moved.before,
                after=moved.after,
                binding_before=bound_before,
                binding_after=bound_after,
                causes=tuple(causes.of(bound_before, bound_after)),
            ),
        )
    provisional = (
        None if before.provisional == after.provisional else (before.provisional, after.provisional)
    )
    old_unknown = {u.entry for u in before.unrecognized}
    new_unknown = {u.entry for u in after.unrecognized}
    unknown_added = tuple(sorted(new_unknown - old_unknown))
    unknown_removed = tuple(sorted(old_unknown - new_unknown))
    changed = not diff.empty or bool(provisional or unknown_added or unknown_removed)
    return CaseDiff(
        file=file,
        status="changed" if changed else "same",
        decision=diff.decision,
        provisional=provisional,
        findings=tuple(findings),
        depth=tuple(depth),
        missing_added=diff.missing_added,
        missing_removed=diff.missing_removed,
        unrecognized_added=unknown_added,
        unrecognized_removed=unknown_removed,
    )


def default_cases(old_root: Path, new_root: Path) -> list[Path]:
    """The new version's case files plus the old version's, one per file name (new wins)."""
    chosen: dict[str, Path] = {}
    for root in (old_root, new_root):
        for path in sorted((root / "cases").glob("*.yaml")):
            chosen[path.name] = path
    return [chosen[name] for name in sorted(chosen)]


def diff_knowledge(
    old: Assessor,
    new: Assessor,
    paths: Sequence[Path],
    *,
    today: dt.date | None = None,
) -> KnowledgeDiff:
    """Assess every case under both versions and explain what changed."""
    day = today or dt.date.today()  # noqa: DTZ011 - one calendar day for both versions
    sources = [(str(path), functools.partial(from_file, path=path, day=day)) for path in paths]
    return diff_cases(old, new, sources)


def from_file(knowledge: Knowledge, *, path: Path, day: dt.date) -> Case:
    """A case file (or a case test's ``case:``) as read by one knowledge version."""
    return load_case_only(knowledge, path, today=day)


CaseSource = tuple[str, Callable[[Knowledge], Case]]
"""(label, load the case under a knowledge version): a file or a stored consultation."""


def stored_sources(store: RecordStore) -> list[CaseSource]:
    """Every stored, not erased consultation, as decided on its own consultation date."""
    sources: list[CaseSource] = []
    for client in store.clients(include_erased=False):
        for record in store.consultations(client.id):
            if record.erased or not record.case_data:
                continue
            day = dt.date.fromisoformat(record.consultation_date)
            label = f"consultation {record.id} (client {client.id}, {record.consultation_date})"
            data = dict(record.case_data)

            def load(
                knowledge: Knowledge,
                data: dict[str, Any] = data,
                day: dt.date = day,
                label: str = label,
            ) -> Case:
                return case_from_data(knowledge, data, file=label, today=day)

            sources.append((label, load))
    return sources


def diff_cases(old: Assessor, new: Assessor, sources: Sequence[CaseSource]) -> KnowledgeDiff:
    """Assess every case source under both versions and explain what changed."""
    delta = knowledge_delta(old.knowledge, new.knowledge)
    causes = _Causes(old.knowledge, new.knowledge, delta)
    cases: list[CaseDiff] = []
    for file, load in sources:
        loaded: dict[str, Any] = {}
        problems: dict[str, tuple[Problem, ...]] = {}
        for label, assessor in (("old", old), ("new", new)):
            try:
                loaded[label] = load(assessor.knowledge)
            except CaseError as exc:
                problems[label] = exc.problems
        if len(problems) == 2:  # noqa: PLR2004 - both versions
            cases.append(
                CaseDiff(file=file, status="invalid_both", problems=problems["new"]),
            )
        elif problems:
            label = next(iter(problems))
            status: CaseStatus = "invalid_old" if label == "old" else "invalid_new"
            cases.append(CaseDiff(file=file, status=status, problems=problems[label]))
        else:
            before = old.assess(loaded["old"])
            after = new.assess(loaded["new"])
            cases.append(case_diff(file, before, after, causes))
    return KnowledgeDiff(
        old=_stamp(old.knowledge),
        new=_stamp(new.knowledge),
        knowledge=delta,
        cases=tuple(cases),
    )


def _stamp(knowledge: Knowledge) -> str:
    return f"{knowledge.name} {knowledge.version} ({knowledge.hash[:12]})"
