"""What a firing produces: the same function serves the durable run and the evaluator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.logic import CareOut, FindingOut, LimitOut, LogicRule, StateOut
from engine.patterns import Ref


def _value(bindings: Mapping[str, Mapping[str, Any]], ref: Ref | None) -> Any:  # noqa: ANN401
    if ref is None:
        return None
    fact = bindings.get(ref.alias)
    return None if fact is None else fact.get(ref.field)


def finding_fid(code: str, zone: object) -> str:
    """The fact id of a finding raised for the whole treatment or for one zone."""
    return f"finding:{code}@{zone}" if zone else f"finding:{code}"


def conclude(rule: LogicRule, bindings: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The derived fact(s) of one firing of ``rule`` with these bound facts."""
    out = rule.output
    match out:
        case FindingOut():
            zone = _value(bindings, out.zone)
            fid = finding_fid(out.code, zone)
            fact: dict[str, Any] = {"fid": fid, "kind": "finding", "code": out.code}
            if zone:
                fact["zone"] = zone
            return [fact]
        case StateOut():
            zone = _value(bindings, out.zone)
            fid = f"state:{out.name}" + (f"@{zone}" if zone else "")
            fact = {"fid": fid, "kind": "state", "name": out.name}
            if zone:
                fact["zone"] = zone
            return [fact]
        case CareOut():
            return [{"fid": f"care:{rule.id}", "kind": "care", "rule": rule.id}]
        case LimitOut():
            zone = _value(bindings, Ref(out.area_alias, "zone"))
            return [
                {"fid": f"limit:{rule.id}@{zone}", "kind": "limit", "rule": rule.id, "zone": zone}
            ]


def fixed_conclusions(rule: LogicRule) -> list[dict[str, Any]] | None:
    """The rule's conclusions when they do not depend on the bound facts (else None).

    Care, and findings or states without a zone, conclude the same fact however they match:
    the runtime and the evaluator prepare those once.
    """
    out = rule.output
    if isinstance(out, CareOut) or (isinstance(out, FindingOut | StateOut) and out.zone is None):
        return conclude(rule, {})
    return None
