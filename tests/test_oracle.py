"""Cross-check durable_rules against the independent evaluator on random cases.

``Assessor.assess(verify=True)`` raises AssessmentError when durable fired anything other than
exactly the evaluator's TRUE matches; these tests drive that check with generated cases.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings

from engine import Assessor, case_from_data, compile_knowledge, load_knowledge
from engine.evaluate import Evaluator, Truth
from engine.facts import build_facts
from knowledge import DEFAULT_KNOWLEDGE
from tests.strategies import cases

KNOWLEDGE = load_knowledge(DEFAULT_KNOWLEDGE)
ASSESSOR = Assessor(compile_knowledge(KNOWLEDGE))
TODAY = dt.date(2026, 11, 28)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases(KNOWLEDGE))
def test_durable_fires_exactly_what_the_evaluator_finds_true(data):
    case = case_from_data(KNOWLEDGE, data, today=TODAY)
    result = ASSESSOR.assess(case, verify=True)
    assert result.decision


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases(KNOWLEDGE))
def test_missing_answers_are_sound(data):
    """Every missing answer names an unanswered or unrecognised path and could raise > info."""
    case = case_from_data(KNOWLEDGE, data, today=TODAY)
    result = ASSESSOR.assess(case)
    raised = {f.code for f in result.findings}
    for missing in result.missing:
        assert missing.could_raise
        assert all(KNOWLEDGE.catalogue[c].level != "info" for c in missing.could_raise)
        assert missing.question
    # A decision is never PROCEED while an absolute/relative question is open.
    open_levels = {m.level for m in result.missing}
    if open_levels & {"absolute", "relative"}:
        assert result.provisional
        assert result.decision not in {"PROCEED", "PROCEED_WITH_MODIFICATIONS", "DECLINE_AREA"}
    del raised


def test_a_complete_case_has_no_missing_answers():
    from engine.casetest import load_case_test  # noqa: PLC0415

    test = load_case_test(KNOWLEDGE, DEFAULT_KNOWLEDGE / "cases" / "01-clean-client.yaml")
    result = ASSESSOR.assess(test.case)
    assert result.missing == ()
    assert not result.provisional


def test_a_mismatch_between_engine_and_evaluator_is_an_error(monkeypatch: pytest.MonkeyPatch):
    """The cross-check is live: a doctored evaluation makes the assessment fail loudly."""
    from engine import assessment  # noqa: PLC0415
    from engine.errors import AssessmentError  # noqa: PLC0415

    real = assessment.Evaluator.run

    def doctored(self, facts, phantoms=()):
        evaluation = real(self, facts, phantoms)
        kept = tuple(m for m in evaluation.matches if m.truth is not Truth.TRUE)
        return type(evaluation)(matches=kept, facts=evaluation.facts, strata=evaluation.strata)

    monkeypatch.setattr(assessment.Evaluator, "run", doctored)
    test_case = case_from_data(
        KNOWLEDGE,
        {"client": {"pregnant": True}, "plan": {"areas": [{"zone": "cheeks"}]}},
        today=TODAY,
    )
    fresh = Assessor(compile_knowledge(KNOWLEDGE))
    with pytest.raises(AssessmentError, match="disagree"):
        fresh.assess(test_case, verify=True)
    fresh.close()


def test_a_rule_fired_twice_on_the_same_facts_is_an_error():
    """The cross-check compares multisets: a repeated firing is not hidden by the set."""
    from engine import assessment  # noqa: PLC0415
    from engine.errors import AssessmentError  # noqa: PLC0415

    case = case_from_data(KNOWLEDGE, {"client": {"pregnant": True}}, today=TODAY)
    trace = ASSESSOR.trace(case)
    run = ASSESSOR.engine.run([f.engine_dict() for f in trace.facts.facts])
    assessment.cross_check(run.firings, trace.evaluation)  # as durable fired: agrees
    with pytest.raises(AssessmentError, match="more than once"):
        assessment.cross_check([*run.firings, run.firings[0]], trace.evaluation)


def test_knowledge_can_be_compiled_and_assessed_again_in_one_process():
    """Reload: a new ruleset for the same knowledge registers without 'already registered'."""
    case = case_from_data(KNOWLEDGE, {"client": {"pregnant": True}, "plan": {}}, today=TODAY)
    decisions = set()
    for _ in range(25):
        assessor = Assessor(compile_knowledge(load_knowledge(DEFAULT_KNOWLEDGE)))
        decisions.add(assessor.assess(case).decision)
        assessor.close()
    assert decisions == {"DEFER"}


def test_many_sequential_assessments_stay_under_the_session_cap():
    """durable caps live sessions at 1,024 per ruleset: each assessment must delete its own."""
    case = case_from_data(KNOWLEDGE, {"client": {"age": 40}, "plan": {}}, today=TODAY)
    for _ in range(1100):
        ASSESSOR.assess(case, verify=False)


def _stale_everywhere(evaluator: Evaluator) -> Evaluator:
    """The same evaluator, consumers first and re-running every rule after any change."""
    slow = Evaluator(evaluator.rules, evaluator.strata)
    slow._layers = [list(reversed(layer)) for layer in slow._layers]  # noqa: SLF001
    every = {k for wants in slow._wants for w in wants for k in w}  # noqa: SLF001
    slow._makes = [list(reversed(makes)) for makes in slow._makes]  # noqa: SLF001
    slow._wants = [[frozenset(every)] * len(w) for w in slow._wants]  # noqa: SLF001
    slow._readers = [  # noqa: SLF001
        dict.fromkeys(every, tuple(range(len(layer))))
        for layer in slow._layers  # noqa: SLF001
    ]
    return slow


SLOW = _stale_everywhere(ASSESSOR.evaluator)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases(KNOWLEDGE))
def test_running_each_rule_only_when_what_it_reads_changed_loses_nothing(data):
    """The semi-naive schedule (producers first, re-run on a change of a read key) reaches the
    same fixpoint as re-running every rule, in the opposite order, after every change."""
    facts = build_facts(KNOWLEDGE, case_from_data(KNOWLEDGE, data, today=TODAY))
    fast = ASSESSOR.evaluator.run(facts.facts, facts.phantoms)
    slow = SLOW.run(facts.facts, facts.phantoms)
    assert set(fast.matches) == set(slow.matches)
    assert {f: (e.certain, e.unknown_paths) for f, e in fast.facts.items()} == {
        f: (e.certain, e.unknown_paths) for f, e in slow.facts.items()
    }
