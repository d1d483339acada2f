"""Stage 4: assess a case with compiled knowledge -> Assessment (with its justification graph)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.case import Case
from engine.compile import PHASE_KIND, CompiledKnowledge
from engine.errors import AssessmentError
from engine.evaluate import Evaluation, Evaluator, Truth
from engine.facts import FactSet, build_facts
from engine.conclude import conclude
from engine.logic import CareOut, FindingOut, LimitOut, LogicRule, StateOut
from engine.model import LEVEL_RANK, EffectItem
from engine.result import (
    Assessment,
    CareInstruction,
    ClearanceRecord,
    DepthVerdict,
    ExpectedEffect,
    FactNode,
    Finding,
    Inconsistency,
    Justification,
    KnowledgeStamp,
    MissingAnswer,
    OverrideRecord,
    Support,
    UnrecognizedEntry,
)
from engine.runtime import ENGINE_VERSION, RuleEngine, RunResult
from engine.strata import stratify


@dataclass(slots=True)
class Assessor:
    """Compiled knowledge plus its engine instance, reused across assessments."""

    compiled: CompiledKnowledge
    _engine: RuleEngine | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _evaluator: Evaluator | None = None

    @property
    def engine(self) -> RuleEngine:
        """The durable ruleset, registered on first use."""
        with self._lock:
            if self._engine is None:
                rules = self.compiled.knowledge.rule_index

                def action(rule_id: str, bindings: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
                    return conclude(rules[rule_id], bindings)

                self._engine = RuleEngine(
                    self.compiled.definition,
                    action,
                    phases=self.compiled.phases,
                    numeric_fields=self.compiled.numeric_fields,
                )
            return self._engine

    @property
    def evaluator(self) -> Evaluator:
        """The three-valued evaluator over the same rules."""
        if self._evaluator is None:
            knowledge = self.compiled.knowledge
            self._evaluator = Evaluator(knowledge.rules, stratify(knowledge.rules))
        return self._evaluator

    def close(self) -> None:
        """Free the durable ruleset (knowledge reload)."""
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None

    def assess(self, case: Case, *, verify: bool = True) -> Assessment:
        """Assess one case; ``verify`` cross-checks durable's firings against the evaluator."""
        return _assess(self, case, verify=verify)


def _inconsistencies(assessor: Assessor, case: Case, facts: FactSet) -> tuple[list[Inconsistency], frozenset[str]]:
    knowledge = assessor.compiled.knowledge
    found: list[Inconsistency] = []
    unanswer: set[str] = set()
    if not knowledge.checks:
        return found, frozenset()
    store_eval = Evaluator(
        [
            LogicRule(
                id=c.spec.id,
                title=c.spec.message,
                rationale=c.spec.message,
                sources=(),
                disputed=None,
                patterns=c.patterns,
                output=StateOut(name="inconsistent"),
                origin="rule",
                location=c.location,
            )
            for c in knowledge.checks
        ],
    )
    evaluation = store_eval.run(facts.facts, facts.phantoms)
    for check in knowledge.checks:
        if any(m.rule_id == check.spec.id and m.truth is Truth.TRUE for m in evaluation.matches):
            found.append(
                Inconsistency(fields=tuple(check.spec.unanswer), message=check.spec.message,
                              check=check.spec.id),
            )
            unanswer.update(check.spec.unanswer)
    del case
    return found, frozenset(unanswer)


def _assess(assessor: Assessor, case: Case, *, verify: bool) -> Assessment:  # noqa: C901, PLR0912, PLR0915
    compiled = assessor.compiled
    knowledge = compiled.knowledge
    facts = build_facts(knowledge, case)
    inconsistencies, unanswer = _inconsistencies(assessor, case, facts)
    if unanswer:
        facts = build_facts(knowledge, case, unanswer)
    run = assessor.engine.run([f.engine_dict() for f in facts.facts])
    evaluation = assessor.evaluator.run(facts.facts, facts.phantoms)
    firings = [f for f in run.firings if not f.rule_id.startswith("$")]
    if verify:
        _cross_check(firings, evaluation)

    rules = knowledge.rule_index
    supports = tuple(
        Support(
            rule=f.rule_id,
            premises=tuple((a, fid) for a, fid in f.premises if not _is_gate(run, fid)),
            conclusions=tuple(f.conclusions),
            phase=f.phase,
        )
        for f in firings
    )
    nodes: dict[str, FactNode] = {
        f.fid: FactNode(fid=f.fid, kind=f.kind, fields=dict(f.fields), paths=dict(f.paths),
                        entry_path=f.entry_path, origin=f.origin)
        for f in facts.facts
    }
    for fid, fact in run.facts.items():
        if fid not in nodes and fact.get("kind") != PHASE_KIND:
            nodes[fid] = FactNode(
                fid=fid,
                kind=str(fact.get("kind")),
                fields={k: v for k, v in fact.items() if k not in {"fid", "kind"}},
                derived=True,
            )
    by_fid = {fid: dict(n.fields) | {"fid": fid} for fid, n in nodes.items()}

    # --- findings from rules --------------------------------------------------------------
    raised: dict[str, dict[str, Any]] = {}
    care: dict[str, list[CareInstruction]] = {"precare": [], "aftercare": []}
    effects: list[ExpectedEffect] = []
    limits: dict[str, list[tuple[LogicRule, str]]] = {}
    for support in supports:
        rule = rules[support.rule]
        bound = {alias: by_fid[fid] for alias, fid in support.premises if fid in by_fid}
        out = rule.output
        if isinstance(out, FindingOut):
            zone = bound.get(out.zone.alias, {}).get(out.zone.field) if out.zone else None
            wait = None
            if out.wait_days is not None and out.wait_since is not None:
                since = bound.get(out.wait_since.alias, {}).get(out.wait_since.field)
                if isinstance(since, (int, float)) and not isinstance(since, bool):
                    wait = case.consultation_date + dt.timedelta(days=out.wait_days - int(since))
            _add_finding(raised, out.code, rule, zone, wait, out.advice)
        elif isinstance(out, CareOut):
            for item in out.items:
                if isinstance(item, EffectItem):
                    effects.append(ExpectedEffect(band=item.band, text=item.text, rule=rule.id,
                                                  sources=rule.sources))
                else:
                    care[out.section].append(
                        CareInstruction(when=item.when, text=item.text, rule=rule.id,
                                        sources=rule.sources, disputed=rule.disputed),
                    )
        elif isinstance(out, LimitOut):
            zone = bound.get(out.area_alias, {}).get("zone")
            if zone is not None:
                limits.setdefault(str(zone), []).append((rule, support.conclusions[0]))

    # --- depth verdicts -------------------------------------------------------------------
    depth_verdicts, depth_supports = _depth(assessor, facts, limits, raised)
    supports = supports + depth_supports

    # --- missing answers ------------------------------------------------------------------
    missing = _missing(assessor, evaluation, facts, raised, depth_verdicts)

    # --- clearances, overrides, decision -------------------------------------------------
    policy = knowledge.policy
    findings: list[Finding] = []
    for code, info in raised.items():
        entry = knowledge.catalogue[code]
        cleared = next((c for c in case.clearances if c.code == code), None)
        overridden = next((o for o in case.overrides if o.code == code), None)
        clearance = None
        override = None
        if cleared is not None:
            if entry.level in policy.clearable_levels:
                clearance = ClearanceRecord(by=cleared.by, note=cleared.note,
                                            date=cleared.date.isoformat() if cleared.date else None)
            else:
                inconsistencies.append(Inconsistency(
                    fields=("clearances",),
                    message=f"clearance of {code} not applied: a {entry.level} finding cannot be cleared",
                    check="policy.clearable_levels"))
        if overridden is not None:
            if entry.level in policy.overridable_levels:
                override = OverrideRecord(by=overridden.by, reason=overridden.reason)
            else:
                inconsistencies.append(Inconsistency(
                    fields=("overrides",),
                    message=f"override of {code} not applied: a {entry.level} finding cannot be overridden",
                    check="policy.overridable_levels"))
        waits = [w for w in info["waits"] if w is not None]
        findings.append(
            Finding(
                code=code,
                level=entry.level,
                action=entry.action,
                title=entry.title,
                advice=info["advice"] or entry.advice,
                rule=info["rules"][0],
                rules=tuple(info["rules"]),
                sources=tuple(info["sources"]),
                zones=tuple(sorted(info["zones"])) if info["zoned_only"] else (),
                disputed="; ".join(info["disputed"]) or None,
                cleared=clearance,
                overridden=override,
                wait_until=max(waits).isoformat() if waits and info["all_waits"] else None,
            ),
        )
    findings.sort(key=lambda f: (LEVEL_RANK[f.level], f.code))
    decision, decided_by = _decide(assessor, findings)
    open_levels = {m.level for m in missing}
    provisional = bool(open_levels & set(policy.provisional_levels))
    if decision in policy.needs_answers_replaces and open_levels & set(policy.needs_answers_levels):
        decided_by = tuple(m.field for m in missing if m.level in policy.needs_answers_levels)
        decision = "NEEDS_ANSWERS"
    return Assessment(
        consultation_date=case.consultation_date,
        decision=decision,
        provisional=provisional,
        decided_by=decided_by,
        findings=tuple(findings),
        depth=tuple(depth_verdicts),
        missing=tuple(missing),
        unrecognized=tuple(UnrecognizedEntry(field=u.field, entry=u.entry) for u in facts.unrecognized),
        inconsistencies=tuple(inconsistencies),
        precare=tuple(care["precare"]),
        aftercare=tuple(care["aftercare"]),
        expected_effects=tuple(effects),
        knowledge=KnowledgeStamp(name=knowledge.name, version=knowledge.version, hash=knowledge.hash),
        engine=f"needlewise-engine/{ENGINE_VERSION}",
        disclaimer=knowledge.manifest.disclaimer.strip(),
        justification=Justification(facts=nodes, supports=supports),
    )


def _is_gate(run: RunResult, fid: str) -> bool:
    fact = run.facts.get(fid)
    return fact is not None and fact.get("kind") == PHASE_KIND


def _add_finding(
    raised: dict[str, dict[str, Any]],
    code: str,
    rule: LogicRule,
    zone: Any,  # noqa: ANN401
    wait: dt.date | None,
    advice: str | None,
) -> None:
    info = raised.setdefault(
        code,
        {"rules": [], "sources": [], "zones": set(), "zoned_only": True, "disputed": [],
         "waits": [], "all_waits": True, "advice": None},
    )
    if rule.id not in info["rules"]:
        info["rules"].append(rule.id)
    for source in rule.sources:
        if source not in info["sources"]:
            info["sources"].append(source)
    if zone:
        info["zones"].add(str(zone))
    else:
        info["zoned_only"] = False
    if rule.disputed and rule.disputed not in info["disputed"]:
        info["disputed"].append(rule.disputed)
    info["waits"].append(wait)
    if wait is None:
        info["all_waits"] = False
    if advice and info["advice"] is None:
        info["advice"] = advice


def _cross_check(firings: Sequence[Any], evaluation: Evaluation) -> None:
    fired = {
        (f.rule_id, tuple((a, fid) for a, fid in f.premises if not a.startswith("phase_gate")))
        for f in firings
    }
    expected = evaluation.true_firings()
    if fired != expected:
        extra = sorted(fired - expected)[:5]
        lacking = sorted(expected - fired)[:5]
        msg = (
            "rule engine and independent evaluator disagree: "
            f"fired but not expected {extra}; expected but not fired {lacking}"
        )
        raise AssessmentError(msg)


def _depth(
    assessor: Assessor,
    facts: FactSet,
    limits: Mapping[str, list[tuple[LogicRule, str]]],
    raised: dict[str, dict[str, Any]],
) -> tuple[list[DepthVerdict], tuple[Support, ...]]:
    knowledge = assessor.compiled.knowledge
    codes = knowledge.depth.verdict_findings
    verdicts: list[DepthVerdict] = []
    supports: list[Support] = []
    for fact in facts.facts:
        if fact.kind != "area":
            continue
        zone = str(fact.fields.get("zone"))
        rows = limits.get(zone, [])
        planned = fact.fields.get("depth_mm")
        planned_mm = float(planned) if isinstance(planned, (int, float)) else None
        softs = [(r.output.soft_mm, r, fid) for r, fid in rows
                 if isinstance(r.output, LimitOut) and r.output.soft_mm is not None]
        hards = [(r.output.hard_mm, r, fid) for r, fid in rows
                 if isinstance(r.output, LimitOut) and r.output.hard_mm is not None]
        dnt = [(r, fid) for r, fid in rows if isinstance(r.output, LimitOut) and r.output.do_not_treat]
        hard = min((h for h, _, _ in hards), default=None)
        soft = min((s for s, _, _ in softs), default=None)
        if soft is None and hard is not None:
            soft = hard
        if soft is not None and hard is not None:
            soft = min(soft, hard)
        binding_rows = [(r, fid) for s, r, fid in softs if s == soft] + [
            (r, fid) for h, r, fid in hards if h == hard
        ]
        recommended = None
        for r, _ in rows:
            out = r.output
            if isinstance(out, LimitOut) and out.recommended_mm is not None:
                low, high = out.recommended_mm
                cap = soft if soft is not None else high
                recommended = (min(low, cap), min(high, cap))
                break
        premises = [("area", fact.fid)]
        if dnt:
            verdict = "do_not_treat"
            binding_rows = dnt
            for r, _ in dnt:
                out = r.output
                if isinstance(out, LimitOut) and out.do_not_treat:
                    _add_finding(raised, out.do_not_treat, r, zone, None, None)
        elif soft is None:
            verdict = "no_sourced_limit"
            binding_rows = [(r, fid) for r, fid in rows]
            rule = binding_rows[0][0] if binding_rows else None
            if rule is not None:
                _add_finding(raised, codes.no_sourced_limit, rule, zone, None, None)
        elif planned_mm is None:
            verdict = "unknown"
        elif planned_mm <= soft:
            verdict = "within"
        elif hard is None or planned_mm <= hard:
            verdict = "above_soft"
            for r, _ in binding_rows[:1]:
                _add_finding(raised, codes.above_soft, r, zone, None, None)
        else:
            verdict = "exceeds_hard"
            hard_rows = [(r, fid) for h, r, fid in hards if h == hard]
            for r, _ in hard_rows[:1]:
                _add_finding(raised, codes.exceeds_hard, r, zone, None, None)
        binding_ids = tuple(dict.fromkeys(r.id for r, _ in binding_rows))
        if binding_rows and verdict not in {"within", "unknown"}:
            code = {
                "do_not_treat": None,
                "no_sourced_limit": codes.no_sourced_limit,
                "above_soft": codes.above_soft,
                "exceeds_hard": codes.exceeds_hard,
            }[verdict]
            conclusions = [f"finding:{code}@{zone}"] if code else []
            if verdict == "do_not_treat":
                conclusions = [
                    f"finding:{r.output.do_not_treat}@{zone}"
                    for r, _ in dnt if isinstance(r.output, LimitOut)
                ]
            supports.append(
                Support(
                    rule=binding_ids[0],
                    premises=(*premises, *((f"limit{i}", fid) for i, (_, fid) in enumerate(binding_rows))),
                    conclusions=tuple(conclusions),
                    phase=-1,
                ),
            )
        verdicts.append(
            DepthVerdict(
                zone=zone,
                planned_mm=planned_mm,
                soft_flag_mm=soft,
                hard_max_mm=hard,
                verdict=verdict,
                recommended_mm=recommended,
                binding=binding_ids,
                indication=str(fact.fields["indication"]) if "indication" in fact.fields else None,
            ),
        )
    return verdicts, tuple(supports)


def _missing(
    assessor: Assessor,
    evaluation: Evaluation,
    facts: FactSet,
    raised: Mapping[str, Any],
    depth: Sequence[DepthVerdict],
) -> list[MissingAnswer]:
    knowledge = assessor.compiled.knowledge
    rules = knowledge.rule_index
    could: dict[str, set[str]] = {}
    for match in evaluation.matches:
        if match.truth is not Truth.UNKNOWN:
            continue
        rule = rules.get(match.rule_id)
        if rule is None:
            continue
        out = rule.output
        code: str | None = None
        if isinstance(out, FindingOut):
            code = out.code
        elif isinstance(out, LimitOut):
            code = knowledge.depth.verdict_findings.exceeds_hard
        if code is None:
            continue
        if isinstance(out, FindingOut):
            bound = {a: evaluation.facts[fid].fact.fields | {"fid": fid} for a, fid in match.bindings}
            derived = conclude(rule, bound)[0]["fid"]
            known = evaluation.facts.get(derived)
            if known is not None and known.certain:
                continue  # already raised: answering cannot raise it again
        if knowledge.catalogue[code].level == "info":
            continue
        for path in match.unknown_paths:
            could.setdefault(path, set()).add(code)
    area_paths = {f.fields.get("zone"): f.paths.get("depth_mm", f.entry_path)
                  for f in facts.facts if f.kind == "area"}
    for verdict in depth:
        if verdict.verdict == "unknown":
            path = area_paths.get(verdict.zone) or "plan.areas"
            could.setdefault(str(path), set()).update(
                {knowledge.depth.verdict_findings.exceeds_hard, knowledge.depth.verdict_findings.above_soft},
            )
    unrecognized = {u.field: u.entry for u in facts.unrecognized}
    out: list[MissingAnswer] = []
    for path, codes in could.items():
        ordered = sorted(codes, key=lambda c: (LEVEL_RANK[knowledge.catalogue[c].level], c))
        level = knowledge.catalogue[ordered[0]].level
        if path in unrecognized:
            question = f"'{unrecognized[path]}' was not recognised: what is it (generic name or class)?"
        else:
            question = _question(knowledge, path)
        out.append(MissingAnswer(field=path, question=question, could_raise=tuple(ordered), level=level))
    out.sort(key=lambda m: (LEVEL_RANK[m.level], m.field))
    return out


def _question(knowledge: Any, path: str) -> str:  # noqa: ANN401
    import re  # noqa: PLC0415

    generic = re.sub(r"\[[^\]]*\]", "", path)
    spec = knowledge.vocabulary.field_spec(generic)
    if spec is not None and spec.question:
        return str(spec.question)
    for fact_spec in knowledge.vocabulary.specs.values():
        if fact_spec.source == generic:
            first = next(iter(fact_spec.fields.values()))
            return str(first.question or fact_spec.title)
    return f"Please answer {path}"


def _decide(assessor: Assessor, findings: Sequence[Finding]) -> tuple[str, tuple[str, ...]]:
    policy = assessor.compiled.knowledge.policy
    counting = [f for f in findings if f.counts]
    for rule in policy.actions:
        hits = tuple(f.code for f in counting if f.action == rule.action)
        if hits:
            return rule.decision, hits
    return policy.no_findings, ()
