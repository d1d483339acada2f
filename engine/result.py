"""Assessment result types (DESIGN.md section 4, ``assessment/v1``) and their JSON form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

CONTRACT = "assessment/v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearanceRecord:
    """A clearance applied to a finding."""

    by: str
    date: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OverrideRecord:
    """A practitioner override applied to a finding."""

    by: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One finding per code, zones merged."""

    code: str
    level: str
    action: str
    title: str
    advice: str
    rule: str
    """The first rule that raised it."""
    rules: tuple[str, ...]
    sources: tuple[str, ...]
    zones: tuple[str, ...] = ()
    """Zones it applies to (empty: the whole treatment)."""
    disputed: str | None = None
    cleared: ClearanceRecord | None = None
    overridden: OverrideRecord | None = None
    wait_until: str | None = None
    """ISO date when a time-limited finding lapses."""

    @property
    def counts(self) -> bool:
        """Whether it still drives the decision (not cleared, not overridden)."""
        return self.cleared is None and self.overridden is None


@dataclass(frozen=True, slots=True, kw_only=True)
class DepthVerdict:
    """Planned depth against the combined limits of one zone."""

    zone: str
    planned_mm: float | None
    soft_flag_mm: float | None
    hard_max_mm: float | None
    verdict: str
    """within | above_soft | exceeds_hard | do_not_treat | no_sourced_limit | unknown."""
    recommended_mm: tuple[float, float] | None
    binding: tuple[str, ...]
    """Rules (table rows, adjustments) that set the limits."""
    indication: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingAnswer:
    """An unanswered question that could raise a finding above info."""

    field: str
    question: str
    could_raise: tuple[str, ...]
    level: str
    """The most severe level it could raise."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnrecognizedEntry:
    """An entry the terminology does not know."""

    field: str
    entry: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Inconsistency:
    """Answers that contradict each other."""

    fields: tuple[str, ...]
    message: str
    check: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CareInstruction:
    """A pre-care or aftercare instruction."""

    when: str
    text: str
    rule: str
    sources: tuple[str, ...]
    disputed: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectedEffect:
    """An expected side effect for a depth band."""

    band: str
    text: str
    rule: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FactNode:
    """A fact in the justification graph."""

    fid: str
    kind: str
    fields: Mapping[str, Any]
    paths: Mapping[str, str] = field(default_factory=dict)
    entry_path: str = ""
    origin: tuple[str, ...] = ()
    derived: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Support:
    """One firing: a rule, the facts it matched, the facts it produced."""

    rule: str
    premises: tuple[tuple[str, str], ...]
    conclusions: tuple[str, ...]
    phase: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Justification:
    """The justification graph of one assessment."""

    facts: Mapping[str, FactNode]
    supports: Sequence[Support]

    def supports_of(self, fid: str) -> tuple[Support, ...]:
        """Firings that concluded ``fid``."""
        return tuple(s for s in self.supports if fid in s.conclusions)


@dataclass(frozen=True, slots=True, kw_only=True)
class KnowledgeStamp:
    """Which knowledge decided."""

    name: str
    version: str
    hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """The output contract ``assessment/v1``."""

    consultation_date: dt.date
    decision: str
    provisional: bool
    decided_by: tuple[str, ...]
    """Finding codes that determined the decision (or the missing fields, for NEEDS_ANSWERS)."""
    findings: tuple[Finding, ...]
    depth: tuple[DepthVerdict, ...]
    missing: tuple[MissingAnswer, ...]
    unrecognized: tuple[UnrecognizedEntry, ...]
    inconsistencies: tuple[Inconsistency, ...]
    precare: tuple[CareInstruction, ...]
    aftercare: tuple[CareInstruction, ...]
    expected_effects: tuple[ExpectedEffect, ...]
    knowledge: KnowledgeStamp
    engine: str
    disclaimer: str
    justification: Justification
    contract: str = CONTRACT

    def finding(self, code: str) -> Finding | None:
        """The finding with this code, if raised."""
        return next((f for f in self.findings if f.code == code), None)

    def to_json(self, *, justification: bool = True) -> dict[str, Any]:
        """The JSON object of the contract."""
        data = {
            "contract": self.contract,
            "consultation_date": self.consultation_date.isoformat(),
            "disclaimer": self.disclaimer,
            "decision": self.decision,
            "provisional": self.provisional,
            "decided_by": list(self.decided_by),
            "findings": [_clean(asdict(f)) for f in self.findings],
            "depth": [_clean(asdict(d)) for d in self.depth],
            "missing": [asdict(m) for m in self.missing],
            "unrecognized": [asdict(u) for u in self.unrecognized],
            "inconsistencies": [asdict(i) for i in self.inconsistencies],
            "precare": [_clean(asdict(c)) for c in self.precare],
            "aftercare": [_clean(asdict(c)) for c in self.aftercare],
            "expected_effects": [asdict(e) for e in self.expected_effects],
            "knowledge": asdict(self.knowledge),
            "engine": self.engine,
        }
        if justification:
            data["justification"] = {
                "facts": {k: _clean(asdict(v)) for k, v in self.justification.facts.items()},
                "supports": [asdict(s) for s in self.justification.supports],
            }
        return _jsonable(data)  # type: ignore[no-any-return]


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, (), [], {}) or k in _KEEP}


_KEEP = frozenset({"planned_mm", "soft_flag_mm", "hard_max_mm", "recommended_mm", "zones"})


def _jsonable(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
