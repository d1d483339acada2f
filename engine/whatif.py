"""WHAT IF and SUGGEST: re-assess with changed answers or plan, and show the difference.

Every suggestion is a plan change (never a change to the client's facts) and is verified by
re-assessing before it is offered.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from engine.assessment import Assessor
from engine.case import Case, case_from_data, resolve_site
from engine.errors import CaseError
from engine.knowledge import Knowledge
from engine.model import LEVEL_RANK
from engine.result import Assessment

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class ChangeError(ValueError):
    """A ``--set`` that cannot be applied (bad path or value)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One change to a case: set ``path`` to ``value`` (``unset``: make it unanswered)."""

    path: str
    value: Any = None
    unset: bool = False

    def __str__(self) -> str:
        """``path=value`` or ``path unanswered``."""
        return f"{self.path} unanswered" if self.unset else f"{self.path}={self.value!r}"


def parse_change(text: str) -> Change:
    """Parse ``path=value`` (value in YAML: ``false``, ``1.0``, ``[a, b]``) or ``path=~unset``."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        msg = f"expected PATH=VALUE, got '{text}'"
        raise ChangeError(msg)
    if raw.strip() == "~unset":
        return Change(path=path.strip(), unset=True)
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        msg = f"cannot read the value of '{text}': {exc}"
        raise ChangeError(msg) from exc
    return Change(path=path.strip(), value=value)


def apply_changes(knowledge: Knowledge, data: Any, changes: Sequence[Change]) -> Any:  # noqa: ANN401
    """A deep copy of case data with the changes applied (areas may be addressed by zone)."""
    out = copy.deepcopy(data) if data is not None else {}
    for change in changes:
        _apply(knowledge, out, change)
    return out


def _apply(knowledge: Knowledge, data: Any, change: Change) -> None:  # noqa: ANN401
    steps: list[str | int] = [
        m.group(1) if m.group(1) is not None else int(m.group(2))
        for m in _STEP.finditer(change.path)
    ]
    if not steps:
        msg = f"empty path in '{change}'"
        raise ChangeError(msg)
    node = data
    for i, step in enumerate(steps[:-1]):
        nxt = steps[i + 1]
        if isinstance(node, list) and isinstance(step, str):
            # plan.areas.cheeks: the area whose zone is (a synonym of) 'cheeks'
            zone = resolve_site(knowledge, step) or step
            found = next(
                (
                    a
                    for a in node
                    if isinstance(a, dict) and resolve_site(knowledge, str(a.get("zone"))) == zone
                ),
                None,
            )
            if found is None:
                found = {"zone": zone}
                node.append(found)
            node = found
            continue
        if isinstance(node, list) and isinstance(step, int):
            if step >= len(node):
                msg = f"'{change.path}': there is no entry {step}"
                raise ChangeError(msg)
            node = node[step]
            continue
        if not isinstance(node, dict):
            msg = f"'{change.path}': cannot step into {step!r}"
            raise ChangeError(msg)
        if node.get(step) is None:
            node[step] = [] if isinstance(nxt, int) or (step == "areas") else {}
        node = node[step]
    last = steps[-1]
    if isinstance(node, list) and isinstance(last, int):
        if change.unset:
            node.pop(last)
        else:
            node[last] = change.value
    elif isinstance(node, dict) and isinstance(last, str):
        if change.unset:
            node.pop(last, None)
        else:
            node[last] = change.value
    else:
        msg = f"'{change.path}': cannot set {last!r} here"
        raise ChangeError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingChange:
    """A finding that appeared, disappeared or changed."""

    code: str
    before: str | None
    """Level before (None: not raised)."""
    after: str | None
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DepthChange:
    """A zone whose depth verdict changed."""

    zone: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """What changed between two assessments of (versions of) a case."""

    decision: tuple[str, str] | None
    findings: tuple[FindingChange, ...]
    depth: tuple[DepthChange, ...]
    missing_added: tuple[str, ...]
    missing_removed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return not (
            self.decision
            or self.findings
            or self.depth
            or self.missing_added
            or self.missing_removed
        )


def _state(finding: Any) -> str:  # noqa: ANN401
    if finding.cleared is not None:
        return "cleared"
    if finding.overridden is not None:
        return "overridden"
    return ""


def difference(before: Assessment, after: Assessment) -> Difference:
    """Findings added/removed/changed level, decision change, depth verdict changes."""
    old = {f.code: f for f in before.findings}
    new = {f.code: f for f in after.findings}
    changes: list[FindingChange] = []
    for code in sorted(old.keys() | new.keys()):
        a, b = old.get(code), new.get(code)
        if a is None or b is None:
            changes.append(
                FindingChange(
                    code=code,
                    before=None if a is None else a.level,
                    after=None if b is None else b.level,
                ),
            )
        elif a.level != b.level or _state(a) != _state(b) or a.zones != b.zones:
            note = (
                f"{_state(a) or 'counts'} -> {_state(b) or 'counts'}"
                if _state(a) != _state(b)
                else ""
            )
            if a.zones != b.zones:
                note = (note + "; " if note else "") + f"zones {list(a.zones)} -> {list(b.zones)}"
            changes.append(FindingChange(code=code, before=a.level, after=b.level, note=note))
    changes.sort(key=lambda c: (LEVEL_RANK[c.after or c.before or "info"], c.code))
    depth_old = {d.zone: d.verdict for d in before.depth}
    depth_new = {d.zone: d.verdict for d in after.depth}
    depth = tuple(
        DepthChange(zone=z, before=depth_old.get(z), after=depth_new.get(z))
        for z in sorted(depth_old.keys() | depth_new.keys())
        if depth_old.get(z) != depth_new.get(z)
    )
    missing_old = {m.field for m in before.missing}
    missing_new = {m.field for m in after.missing}
    decision = None if before.decision == after.decision else (before.decision, after.decision)
    return Difference(
        decision=decision,
        findings=tuple(changes),
        depth=depth,
        missing_added=tuple(sorted(missing_new - missing_old)),
        missing_removed=tuple(sorted(missing_old - missing_new)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIf:
    """A re-assessment with changes, and its difference from the original."""

    changes: tuple[Change, ...]
    before: Assessment
    after: Assessment
    difference: Difference


def what_if(assessor: Assessor, case: Case, changes: Sequence[Change]) -> WhatIf:
    """Re-assess ``case`` with ``changes`` applied (raises CaseError for an invalid result)."""
    knowledge = assessor.knowledge
    before = assessor.assess(case)
    data = apply_changes(knowledge, case.raw, changes)
    changed = case_from_data(
        knowledge, data, file=f"{case.file} (what if)", today=case.consultation_date
    )
    after = assessor.assess(changed)
    return WhatIf(
        changes=tuple(changes), before=before, after=after, difference=difference(before, after)
    )


def shift_days(knowledge: Knowledge, data: Any, days: int) -> Any:  # noqa: ANN401
    """The case as it will be ``days`` later: the date moves and every "days ago" count grows."""
    out = copy.deepcopy(data)
    date = out.get("consultation_date")
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    if isinstance(date, dt.date):
        out["consultation_date"] = (date + dt.timedelta(days=days)).isoformat()
    counters = {
        (spec.source, name)
        for spec in knowledge.vocabulary.specs.values()
        for name, fspec in spec.fields.items()
        if fspec.unit == "days" and name.endswith("days_ago")
    }
    for source, name in counters:
        for holder in _holders(out, source):
            value = holder.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                holder[name] = value + days
    return out


def _holders(data: Any, source: str) -> list[dict[str, Any]]:  # noqa: ANN401
    node: Any = data
    for part in source.split("."):
        if not isinstance(node, dict) or part not in node:
            return []
        node = node[part]
    if isinstance(node, dict):
        return [node]
    if isinstance(node, list):
        return [e for e in node if isinstance(e, dict)]
    return []


def safe_reassess(assessor: Assessor, case: Case, data: Any, label: str) -> Assessment | None:  # noqa: ANN401
    """Assess changed data; None when the change makes the case invalid."""
    try:
        changed = case_from_data(assessor.knowledge, data, file=label, today=case.consultation_date)
    except CaseError:
        return None
    return assessor.assess(changed)


def parse_date(text: str) -> dt.date:
    """An ISO date for ``--on``."""
    return dt.date.fromisoformat(text)


def findings_by_code(assessment: Assessment) -> Mapping[str, Any]:
    """Code -> finding."""
    return {f.code: f for f in assessment.findings}
