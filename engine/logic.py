"""The uniform rule form every knowledge construct compiles from (rules, depth rows, checks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.location import Location
from engine.model import CareItem, EffectItem
from engine.patterns import Pattern, Ref


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingOut:
    """The rule raises a catalogue finding."""

    code: str
    zone: Ref | None = None
    wait_days: int | None = None
    wait_since: Ref | None = None
    advice: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StateOut:
    """The rule derives a state fact that other rules use."""

    name: str
    zone: Ref | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CareOut:
    """The rule contributes pre-care, aftercare or expected effects."""

    section: Literal["precare", "aftercare", "expected_effects"]
    items: tuple[CareItem | EffectItem, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitOut:
    """A depth-table row or adjustment: a limit for the matched area's zone."""

    area_alias: str
    soft_mm: float | None = None
    hard_mm: float | None = None
    recommended_mm: tuple[float, float] | None = None
    no_sourced_limit: bool = False
    do_not_treat: str | None = None


Output = FindingOut | StateOut | CareOut | LimitOut
Origin = Literal["rule", "depth_limit", "depth_adjustment"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogicRule:
    """A rule in the one form the compiler, the runtime and the evaluator share."""

    id: str
    title: str
    rationale: str
    sources: tuple[str, ...]
    disputed: str | None
    patterns: tuple[Pattern, ...]
    output: Output
    origin: Origin
    location: Location
    silenced: tuple[str, ...] = ()
    """Warning codes the authors have reviewed and accepted for this rule."""

    @property
    def derives(self) -> str:
        """The fact kind this rule concludes."""
        match self.output:
            case FindingOut():
                return "finding"
            case StateOut():
                return "state"
            case CareOut():
                return "care"
            case LimitOut():
                return "limit"
