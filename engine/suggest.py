"""SUGGEST: the smallest plan changes that remove or lower a finding, each verified first.

Kinds: the highest depth within a zone's limits; dropping a zone; replacing or removing a
topical or the anaesthetic; a plan value past a rule's threshold (e.g. the session interval);
and, for time-limited findings, the date the wait ends. Client facts are never changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from engine.assessment import Assessor
from engine.case import Case, resolve_site
from engine.explain import rules_for_code
from engine.logic import FindingOut
from engine.result import Assessment, Finding
from engine.whatif import Change, Difference, apply_changes, difference, safe_reassess, shift_days

SuggestionKind = Literal["depth", "drop_zone", "replace", "remove", "plan_value", "wait"]
_TOPICAL_KINDS = ("serum", "anesthetic")


@dataclass(frozen=True, slots=True, kw_only=True)
class Suggestion:
    """A verified change and what it does."""

    code: str
    kind: SuggestionKind
    text: str
    changes: tuple[Change, ...]
    effect: Difference
    zone: str | None = None
    wait_days: int | None = None
    wait_until: str | None = None


def _removes(before: Assessment, after: Assessment, code: str, zone: str | None) -> bool:
    old = before.finding(code)
    new = after.finding(code)
    if old is None:
        return False
    if new is None:
        return True
    if zone is not None:
        return zone in old.zones and zone not in new.zones
    order = ("absolute", "relative", "caution", "info")
    return order.index(new.level) > order.index(old.level)


class _Suggester:
    def __init__(self, assessor: Assessor, case: Case, before: Assessment) -> None:
        self.assessor = assessor
        self.k = assessor.knowledge
        self.case = case
        self.before = before

    def verify(
        self,
        finding: Finding,
        changes: Sequence[Change],
        zone: str | None = None,
    ) -> tuple[Assessment, Difference] | None:
        try:
            data = apply_changes(self.k, self.case.raw, changes)
        except ValueError:
            return None
        after = safe_reassess(self.assessor, self.case, data, f"{self.case.file} (suggestion)")
        if after is None or not _removes(self.before, after, finding.code, zone):
            return None
        return after, difference(self.before, after)

    def depth(self) -> Iterator[Suggestion]:
        for verdict in self.before.depth:
            if (
                verdict.verdict not in {"above_soft", "exceeds_hard"}
                or verdict.soft_flag_mm is None
            ):
                continue
            target = verdict.soft_flag_mm
            codes = [
                f.code
                for f in self.before.findings
                if verdict.zone in f.zones and f.code.startswith("DEPTH_")
            ]
            change = Change(path=f"plan.areas.{verdict.zone}.depth_mm", value=target)
            for code in codes:
                finding = self.before.finding(code)
                checked = finding and self.verify(finding, [change], verdict.zone)
                if checked:
                    yield Suggestion(
                        code=code,
                        kind="depth",
                        zone=verdict.zone,
                        text=(
                            f"plan {verdict.zone} at {target:g} mm, the highest depth within "
                            f"its limits (planned {verdict.planned_mm:g} mm; "
                            f"binding: {', '.join(verdict.binding)})"
                        ),
                        changes=(change,),
                        effect=checked[1],
                    )

    def drop_zone(self, finding: Finding) -> Iterator[Suggestion]:
        areas = (self.case.raw or {}).get("plan", {}).get("areas") or []
        for zone in finding.zones:
            index = next(
                (
                    i
                    for i, a in enumerate(areas)
                    if isinstance(a, dict) and resolve_site(self.k, str(a.get("zone"))) == zone
                ),
                None,
            )
            if index is None or len(areas) < 2:  # noqa: PLR2004 - dropping the only zone is no plan
                continue
            change = Change(path=f"plan.areas[{index}]", unset=True)
            checked = self.verify(finding, [change], zone)
            if checked:
                yield Suggestion(
                    code=finding.code,
                    kind="drop_zone",
                    zone=zone,
                    text=f"leave {zone} out of the plan",
                    changes=(change,),
                    effect=checked[1],
                )

    def topicals(self, finding: Finding) -> Iterator[Suggestion]:
        rules = rules_for_code(self.k, finding.code)
        kinds = {p.kind for r in rules for p in r.patterns}
        plan = (self.case.raw or {}).get("plan", {}) or {}
        if "serum" in kinds:
            serums = list(plan.get("serums") or [])
            for i, serum in enumerate(serums):
                kept = serums[:i] + serums[i + 1 :]
                change = Change(path="plan.serums", value=kept)
                checked = self.verify(finding, [change])
                if checked:
                    yield Suggestion(
                        code=finding.code,
                        kind="remove",
                        text=f"do not apply '{serum}' during the session",
                        changes=(change,),
                        effect=checked[1],
                    )
        if "anesthetic" in kinds and plan.get("anesthetic"):
            for alternative in self._anesthetics(str(plan["anesthetic"])):
                change = Change(path="plan.anesthetic", value=alternative)
                checked = self.verify(finding, [change])
                if checked:
                    yield Suggestion(
                        code=finding.code,
                        kind="replace",
                        text=f"use {alternative} instead of {plan['anesthetic']}",
                        changes=(change,),
                        effect=checked[1],
                    )
                    return

    def _anesthetics(self, current: str) -> list[str]:
        match = self.k.terminology.lookup(current, ("substance",))
        now = match.term if match else current
        out = [
            term.id.replace("_", " ")
            for term in self.k.terminology.terms.values()
            if term.kind == "substance"
            and term.id != now
            and any(
                "anesthetic" in c or "anaesthetic" in c
                for c in self.k.terminology.closure.get(term.id, ())
            )
        ]
        return sorted(out)[:8]

    def plan_values(self, finding: Finding) -> Iterator[Suggestion]:
        for rule in rules_for_code(self.k, finding.code):
            if not isinstance(rule.output, FindingOut):
                continue
            for pattern in rule.patterns:
                if pattern.kind != "plan" or pattern.negated:
                    continue
                for test in pattern.tests:
                    value = _boundary(test.op, test.value)
                    if value is None:
                        continue
                    change = Change(path=f"plan.{test.field}", value=value)
                    checked = self.verify(finding, [change])
                    if checked:
                        yield Suggestion(
                            code=finding.code,
                            kind="plan_value",
                            text=f"set {test.field} to {value} (rule {rule.id} applies when "
                            f"{test.field} {test.op} {test.value})",
                            changes=(change,),
                            effect=checked[1],
                        )

    def wait(self, finding: Finding) -> Iterator[Suggestion]:
        if finding.wait_until is None:
            return
        until = dt.date.fromisoformat(finding.wait_until)
        days = (until - self.case.consultation_date).days
        if days <= 0:
            return
        data = shift_days(self.k, self.case.raw, days)
        after = safe_reassess(self.assessor, self.case, data, f"{self.case.file} (+{days} days)")
        if after is None or not _removes(self.before, after, finding.code, None):
            return
        yield Suggestion(
            code=finding.code,
            kind="wait",
            text=f"the wait ends in {days} days, on {until.isoformat()}: book the session then",
            changes=(),  # nothing in the plan changes: the calendar does (see wait_days)
            effect=difference(self.before, after),
            wait_days=days,
            wait_until=until.isoformat(),
        )


def _boundary(op: str, value: Any) -> float | int | None:  # noqa: ANN401
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    step = 1 if isinstance(value, int) else 0.1
    return {"lt": value, "le": value + step, "gt": value, "ge": value - step}.get(op)


def suggest(
    assessor: Assessor, case: Case, codes: Sequence[str] | None = None
) -> tuple[Suggestion, ...]:
    """Verified suggestions for the case's findings above info (or only for ``codes``)."""
    before = assessor.assess(case)
    suggester = _Suggester(assessor, case, before)
    wanted = set(codes) if codes else None
    out: list[Suggestion] = [s for s in suggester.depth() if wanted is None or s.code in wanted]
    for finding in before.findings:
        if finding.level == "info" or not finding.counts:
            continue
        if wanted is not None and finding.code not in wanted:
            continue
        if finding.code.startswith("DEPTH_"):
            continue
        out.extend(suggester.wait(finding))
        out.extend(suggester.plan_values(finding))
        out.extend(suggester.topicals(finding))
        out.extend(suggester.drop_zone(finding))
    return tuple(out)
