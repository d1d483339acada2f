"""Missing answers: unanswered questions whose answer could raise a finding above info."""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.conclude import finding_fid
from engine.evaluate import Evaluation, Truth
from engine.facts import FactSet
from engine.knowledge import Knowledge
from engine.logic import FindingOut, LimitOut
from engine.memo import ObjectMemo
from engine.model import LEVEL_RANK
from engine.result import DepthVerdict, MissingAnswer


def _could_raise(knowledge: Knowledge, evaluation: Evaluation) -> dict[str, set[str]]:
    """Case path -> codes that an answer there could raise (UNKNOWN matches only)."""
    could: dict[str, set[str]] = {}
    for match in evaluation.matches:
        if match.truth is not Truth.UNKNOWN:
            continue
        rule = knowledge.rule_index[match.rule_id]
        out = rule.output
        code: str | None = None
        if isinstance(out, FindingOut):
            zone = None
            if out.zone is not None:
                bound = dict(match.bindings).get(out.zone.alias)
                zone = evaluation.facts[bound].fact.fields.get(out.zone.field) if bound else None
            derived = evaluation.facts.get(finding_fid(out.code, zone))
            if derived is not None and derived.certain:
                continue  # already raised there: answering cannot raise it again
            code = out.code
        elif isinstance(out, LimitOut):
            area = dict(match.bindings).get(out.area_alias)
            planned = evaluation.facts[area].fact.fields.get("depth_mm") if area else None
            code = _limit_code(knowledge, out, planned)
        if code is None or knowledge.catalogue[code].level == "info":
            continue
        for path in match.unknown_paths:
            could.setdefault(path, set()).add(code)
    return could


def _limit_code(knowledge: Knowledge, out: LimitOut, planned: object) -> str | None:
    """The most severe code a depth row could raise if its unknown conditions held."""
    codes = knowledge.depth.verdict_findings
    if out.do_not_treat:
        return out.do_not_treat
    depth = planned if isinstance(planned, (int, float)) and not isinstance(planned, bool) else None
    if out.hard_mm is not None and (depth is None or depth > out.hard_mm):
        return codes.exceeds_hard
    if out.soft_mm is not None and (depth is None or depth > out.soft_mm):
        return codes.above_soft
    return None  # the planned depth is within whatever this row could set


def missing_answers(
    knowledge: Knowledge,
    evaluation: Evaluation,
    facts: FactSet,
    depth: Sequence[DepthVerdict],
) -> list[MissingAnswer]:
    """Every question that could raise a finding above info, most severe first."""
    could = _could_raise(knowledge, evaluation)
    codes = knowledge.depth.verdict_findings
    depth_paths = {
        f.fields.get("zone"): f.paths.get("depth_mm", f.entry_path)
        for f in facts.facts
        if f.kind == "area"
    }
    for verdict in depth:
        if verdict.verdict == "unknown":
            path = depth_paths.get(verdict.zone) or "plan.areas"
            could.setdefault(str(path), set()).update({codes.exceeds_hard, codes.above_soft})
    areas = [f for f in (*facts.facts, *facts.phantoms) if f.kind == "area"]
    if not areas:
        # No zone planned yet: every zone-specific finding and depth verdict is still open.
        do_not_treat = {
            r.do_not_treat for r in knowledge.depth.limits if r.do_not_treat is not None
        }
        could.setdefault("plan.areas", set()).update(
            {codes.exceeds_hard, codes.above_soft, *do_not_treat},
        )
    unrecognized = {u.field: u.entry for u in facts.unrecognized}
    out: list[MissingAnswer] = []
    for path, raised in could.items():
        ordered = sorted(raised, key=lambda c: (LEVEL_RANK[knowledge.catalogue[c].level], c))
        if path in unrecognized:
            question = (
                f"'{unrecognized[path]}' was not recognised: what is it (generic name or class)?"
            )
        else:
            question = question_for(knowledge, path)
        out.append(
            MissingAnswer(
                field=path,
                question=question,
                could_raise=tuple(ordered),
                level=knowledge.catalogue[ordered[0]].level,
            ),
        )
    out.sort(key=lambda m: (LEVEL_RANK[m.level], m.field))
    return out


_QUESTIONS = ObjectMemo()


def question_for(knowledge: Knowledge, path: str) -> str:
    """The vocabulary's question for a case path (``client.medications[0].name``); cached."""
    return _QUESTIONS.get(knowledge, path, lambda: _question(knowledge, path))


def _question(knowledge: Knowledge, path: str) -> str:
    generic = re.sub(r"\[[^\]]*\]", "", path)
    spec = knowledge.vocabulary.field_spec(generic)
    if spec is not None and spec.question:
        return spec.question
    for fact_spec in knowledge.vocabulary.specs.values():
        if fact_spec.source == generic:
            first = next(iter(fact_spec.fields.values()))
            return first.question or fact_spec.title
    return f"Please answer {path}"
