"""Depth verdicts: combine each planned zone's limits by the minimum and judge the planned depth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.facts import Fact
from engine.findings import FindingBook
from engine.logic import LimitOut, LogicRule
from engine.model import VerdictFindings
from engine.result import DepthVerdict, Support


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitHit:
    """A depth row or adjustment that fired for a zone, with the limit fact it derived."""

    rule: LogicRule
    out: LimitOut
    fid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """The combined limits of one zone and the rows that set them."""

    soft: float | None
    hard: float | None
    binding: tuple[LimitHit, ...]
    recommended: tuple[float, float] | None
    do_not_treat: tuple[LimitHit, ...]


def combine(hits: Sequence[LimitHit]) -> Limits:
    """Minimum of every soft and hard limit; the rows equal to a minimum are binding."""
    dnt = tuple(h for h in hits if h.out.do_not_treat)
    # Adjustments only lower a sourced limit: with no numbered table row there is no limit,
    # and the zone stays no_sourced_limit (never a number invented from an adjustment).
    sourced = any(
        h.rule.origin == "depth_limit" and (h.out.soft_mm is not None or h.out.hard_mm is not None)
        for h in hits
    )
    numbered = [h for h in hits if sourced]
    hard = min((h.out.hard_mm for h in numbered if h.out.hard_mm is not None), default=None)
    soft = min((h.out.soft_mm for h in numbered if h.out.soft_mm is not None), default=None)
    if hard is not None:
        soft = hard if soft is None else min(soft, hard)
    binding = tuple(
        h
        for h in numbered
        if (soft is not None and h.out.soft_mm == soft)
        or (hard is not None and h.out.hard_mm == hard)
    )
    recommended = None
    # The most specific row decides the recommended range (an indication-specific row before a
    # zone-wide one, a row for fewer zones before one for many), whatever the file order; on a
    # tie, the first row (min, like a stable sort, keeps the first of equals).
    ranged = [(h, h.out.recommended_mm) for h in numbered if h.out.recommended_mm is not None]
    if ranged:
        _, (low, high) = (
            min(ranged, key=lambda r: _specificity(r[0])) if len(ranged) > 1 else ranged[0]
        )
        cap = soft if soft is not None else high
        recommended = (min(low, cap), min(high, cap))
    return Limits(soft=soft, hard=hard, binding=binding, recommended=recommended, do_not_treat=dnt)


def _specificity(hit: LimitHit) -> tuple[int, int]:
    area = next((p for p in hit.rule.patterns if p.alias == hit.out.area_alias), None)
    tests = area.tests if area is not None else ()
    indication = any(t.field == "indication" for t in tests)
    zones = next(
        (len(t.value) for t in tests if t.field == "zone" and isinstance(t.value, tuple)), 99
    )
    return (0 if indication else 1, zones)


def judge(planned: float | None, limits: Limits) -> str:
    """The verdict for a planned depth against combined limits."""
    if limits.do_not_treat:
        return "do_not_treat"
    if limits.soft is None:
        return "no_sourced_limit"
    if planned is None:
        return "unknown"
    if planned <= limits.soft:
        return "within"
    if limits.hard is None or planned <= limits.hard:
        return "above_soft"
    return "exceeds_hard"


def depth_verdicts(
    areas: Sequence[Fact],
    hits_by_zone: Mapping[str, Sequence[LimitHit]],
    codes: VerdictFindings,
    book: FindingBook,
) -> tuple[list[DepthVerdict], list[Support]]:
    """A verdict per planned area; raises the verdict findings into ``book``."""
    verdicts: list[DepthVerdict] = []
    supports: list[Support] = []
    for area in areas:
        zone = str(area.fields.get("zone"))
        hits = list(hits_by_zone.get(zone, ()))
        planned = area.fields.get("depth_mm")
        planned_mm = float(planned) if isinstance(planned, (int, float)) else None
        limits = combine(hits)
        verdict = judge(planned_mm, limits)
        raising: tuple[LimitHit, ...] = ()
        code: str | None = None
        if verdict == "do_not_treat":
            raising = limits.do_not_treat
        elif verdict == "no_sourced_limit":
            raising, code = tuple(hits[:1]), codes.no_sourced_limit
        elif verdict == "above_soft":
            raising = tuple(h for h in limits.binding if h.out.soft_mm == limits.soft)[:1]
            code = codes.above_soft
        elif verdict == "exceeds_hard":
            raising = tuple(h for h in limits.binding if h.out.hard_mm == limits.hard)[:1]
            code = codes.exceeds_hard
        conclusions: list[str] = []
        for hit in raising:
            raised = hit.out.do_not_treat or code
            if raised:
                book.add(raised, hit.rule, zone=zone)
                conclusions.append(f"finding:{raised}@{zone}")
        binding = limits.do_not_treat or limits.binding or tuple(hits)
        if conclusions:
            supports.append(
                Support(
                    rule=raising[0].rule.id,
                    premises=(
                        ("area", area.fid),
                        *((f"limit{i}", h.fid) for i, h in enumerate(binding)),
                    ),
                    conclusions=tuple(conclusions),
                    phase=-1,
                ),
            )
        indication = area.fields.get("indication")
        verdicts.append(
            DepthVerdict(
                zone=zone,
                planned_mm=planned_mm,
                soft_flag_mm=limits.soft,
                hard_max_mm=limits.hard,
                verdict=verdict,
                recommended_mm=limits.recommended,
                binding=tuple(dict.fromkeys(h.rule.id for h in binding)),
                indication=None if indication is None else str(indication),
            ),
        )
    return verdicts, supports
