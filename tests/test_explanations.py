"""Explanations cross-checked against the assessment, on every knowledge case (issue 4 tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Assessor, case_from_data, compile_knowledge, load_knowledge
from engine.casetest import load_case_test
from engine.explain import (
    ExplainError,
    how_decision,
    how_depth,
    how_finding,
    iter_how,
    why_asked,
    why_not,
)
from engine.suggest import suggest
from engine.whatif import apply_changes, parse_change, shift_days, what_if
from knowledge import DEFAULT_KNOWLEDGE

KNOWLEDGE = load_knowledge(DEFAULT_KNOWLEDGE)
ASSESSOR = Assessor(compile_knowledge(KNOWLEDGE))
CASES = sorted((DEFAULT_KNOWLEDGE / "cases").glob("*.yaml"))


def _trace(path: Path):
    return ASSESSOR.trace(load_case_test(KNOWLEDGE, path).case)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_how_trees_only_use_facts_of_the_case_and_rules_that_fired(path: Path):
    trace = _trace(path)
    assessment = trace.assessment
    fired = {s.rule for s in assessment.justification.supports}
    known = set(assessment.justification.facts)
    for finding in assessment.findings:
        how = how_finding(KNOWLEDGE, assessment, finding.code)
        assert how.nodes, f"{finding.code} has no HOW"
        for node in iter_how(how):
            assert node.rule.id in fired
            assert node.rule.sources, f"rule {node.rule.id} cites no source"
            for _, fact in node.premises:
                assert fact.fid in known
                if not fact.derived_by and fact.kind not in {"finding", "state", "limit"}:
                    assert fact.answers or fact.origin or fact.kind in {"area", "plan", "client"}
    decision = how_decision(KNOWLEDGE, assessment)
    if assessment.decision != "NEEDS_ANSWERS":
        assert {p.target for p in decision.determined_by} == {
            f"finding {c}" for c in assessment.decided_by
        }


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_code_not_raised_has_a_failed_or_unknown_condition(path: Path):
    trace = _trace(path)
    raised = {f.code for f in trace.assessment.findings}
    for code in KNOWLEDGE.catalogue:
        why = why_not(KNOWLEDGE, trace.assessment, trace.evaluation, code)
        if code in raised:
            continue
        for rule in why.rules:
            if rule.rule.id.startswith("depth."):
                continue  # depth rows fire per zone; the verdict, not the row, raises the code
            assert not rule.fired, f"{rule.rule.id} fired but {code} was not raised"
            assert rule.failed + rule.unknown >= 1, f"{rule.rule.id}: every condition held"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_what_if_without_change_is_empty(path: Path):
    case = load_case_test(KNOWLEDGE, path).case
    assert what_if(ASSESSOR, case, []).difference.empty


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_suggestion_removes_what_it_claims(path: Path):
    case = load_case_test(KNOWLEDGE, path).case
    before = ASSESSOR.assess(case)
    for suggestion in suggest(ASSESSOR, case):
        if suggestion.kind == "wait":
            assert suggestion.wait_days
            data = shift_days(KNOWLEDGE, case.raw, suggestion.wait_days)
        else:
            data = apply_changes(KNOWLEDGE, case.raw, suggestion.changes)
        after = ASSESSOR.assess(case_from_data(KNOWLEDGE, data, today=case.consultation_date))
        old = before.finding(suggestion.code)
        new = after.finding(suggestion.code)
        assert old is not None
        if new is not None:
            if suggestion.zone:
                assert suggestion.zone not in new.zones
            else:
                assert new.level != old.level
        # Suggestions change the plan or the date, never the client's answers.
        assert all(c.path.startswith("plan.") for c in suggestion.changes)


def test_depth_suggestion_is_the_highest_depth_within_limits():
    case = case_from_data(
        KNOWLEDGE,
        {"client": {"fitzpatrick": 2}, "plan": {"areas": [{"zone": "cheeks", "depth_mm": 2.4}]}},
    )
    suggestions = [s for s in suggest(ASSESSOR, case) if s.kind == "depth"]
    assert suggestions
    verdict = ASSESSOR.assess(case).depth[0]
    assert suggestions[0].changes[0].value == verdict.soft_flag_mm


def test_what_if_shows_added_findings_and_decision_change():
    case = load_case_test(KNOWLEDGE, DEFAULT_KNOWLEDGE / "cases" / "01-clean-client.yaml").case
    result = what_if(ASSESSOR, case, [parse_change("client.pregnant=true")])
    assert result.difference.decision == ("PROCEED", "DEFER")
    assert any(c.code == "PREGNANCY" and c.before is None for c in result.difference.findings)


def test_why_asked_names_rules_and_open_codes():
    case = case_from_data(
        KNOWLEDGE, {"client": {"age": 30}, "plan": {"areas": [{"zone": "cheeks"}]}}
    )
    assessment = ASSESSOR.assess(case)
    asked = why_asked(KNOWLEDGE, assessment, "client.pregnant")
    assert any(r.code == "PREGNANCY" for r in asked.rules)
    assert "PREGNANCY" in asked.could_raise_now
    with pytest.raises(ExplainError):
        why_asked(KNOWLEDGE, assessment, "client.favourite_colour")


def test_how_of_depth_and_unknown_targets():
    case = load_case_test(KNOWLEDGE, DEFAULT_KNOWLEDGE / "cases" / "08-deep-cheeks.yaml").case
    assessment = ASSESSOR.assess(case)
    how = how_depth(KNOWLEDGE, assessment, "cheeks")
    assert "exceeds_hard" in how.summary
    assert how.nodes
    with pytest.raises(ExplainError):
        how_depth(KNOWLEDGE, assessment, "eyelid")
    with pytest.raises(ExplainError):
        how_finding(KNOWLEDGE, assessment, "PREGNANCY")
