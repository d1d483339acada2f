"""The decision policy (data in policy.yaml): clearances, overrides, and the decision."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from engine.case import Case
from engine.findings import FindingBook
from engine.knowledge import Knowledge
from engine.model import LEVEL_RANK
from engine.result import ClearanceRecord, Finding, Inconsistency, MissingAnswer, OverrideRecord


def apply_records(
    knowledge: Knowledge,
    book: FindingBook,
    case: Case,
) -> tuple[list[Finding], list[Inconsistency]]:
    """One Finding per raised code, with clearances/overrides the policy allows applied."""
    policy = knowledge.policy
    notes: list[Inconsistency] = []
    findings: list[Finding] = []
    for code, info in book.raised.items():
        entry = knowledge.catalogue[code]
        clearance = None
        override = None
        cleared = next((c for c in case.clearances if c.code == code), None)
        if cleared is not None:
            if entry.level in policy.clearable_levels:
                clearance = ClearanceRecord(
                    by=cleared.by,
                    note=cleared.note,
                    date=cleared.date.isoformat() if isinstance(cleared.date, dt.date) else None,
                )
            else:
                notes.append(_refused("clearances", code, entry.level, "cleared"))
        overridden = next((o for o in case.overrides if o.code == code), None)
        if overridden is not None:
            if entry.level in policy.overridable_levels:
                override = OverrideRecord(by=overridden.by, reason=overridden.reason)
            else:
                notes.append(_refused("overrides", code, entry.level, "overridden"))
        wait = info.wait_until
        findings.append(
            Finding(
                code=code,
                level=entry.level,
                action=entry.action,
                title=entry.title,
                advice=info.advice or entry.advice,
                rule=info.rules[0],
                rules=tuple(info.rules),
                sources=tuple(info.sources),
                zones=() if info.whole else tuple(sorted(info.zones)),
                disputed="; ".join(info.disputed) or None,
                cleared=clearance,
                overridden=override,
                wait_until=wait.isoformat() if wait else None,
            ),
        )
    findings.sort(key=lambda f: (LEVEL_RANK[f.level], f.code))
    return findings, notes


def _refused(field: str, code: str, level: str, verb: str) -> Inconsistency:
    return Inconsistency(
        fields=(field,),
        message=f"{code} is {level}: the policy does not let it be {verb}; not applied",
        check=f"policy.{field}",
    )


def decide(
    knowledge: Knowledge,
    findings: Sequence[Finding],
    missing: Sequence[MissingAnswer],
) -> tuple[str, bool, tuple[str, ...]]:
    """(decision, provisional, what decided it) from the counting findings and open questions."""
    policy = knowledge.policy
    counting = [f for f in findings if f.counts]
    decision: str = policy.no_findings
    decided_by: tuple[str, ...] = ()
    for rule in policy.actions:
        hits = tuple(f.code for f in counting if f.action == rule.action)
        if hits:
            decision, decided_by = rule.decision, hits
            break
    if decision == policy.no_findings:
        decided_by = ()  # counselling alone decides nothing
    open_levels = {m.level for m in missing}
    provisional = bool(open_levels & set(policy.provisional_levels))
    if decision in policy.needs_answers_replaces and open_levels & set(policy.needs_answers_levels):
        decided_by = tuple(m.field for m in missing if m.level in policy.needs_answers_levels)
        decision = "NEEDS_ANSWERS"
    return decision, provisional, decided_by
