"""Coverage of knowledge by its cases (engine/coverage.py) on the mini knowledge and two cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Assessor, patterns
from engine.casetest import load_case_test
from engine.coverage import CaseRun, Coverage, describe_test, measure

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "lint" / "mini-cases"


@pytest.fixture(scope="module")
def coverage(mini_compiled) -> Coverage:
    assessor = Assessor(mini_compiled)
    runs = []
    for path in sorted(CASES.glob("*.yaml")):
        test = load_case_test(assessor.knowledge, path)
        trace = assessor.trace(test.case)
        runs.append(
            CaseRun(name=path.stem, evaluation=trace.evaluation, assessment=trace.assessment)
        )
    assessor.close()
    return measure(assessor.knowledge, runs)


def test_rule_coverage_counts_every_rule_and_depth_row(coverage: Coverage):
    assert coverage.cases == ("a-pregnant", "b-eczema-cheeks")
    fired = {r.rule_id: r.fired_in for r in coverage.rules if r.covered}
    assert fired == {
        "contra.pregnancy": ("a-pregnant",),
        "contra.eczema.in_area": ("b-eczema-cheeks",),
        "care.standard": ("a-pregnant", "b-eczema-cheeks"),
        "info.aftercare": ("a-pregnant", "b-eczema-cheeks"),
        "depth.cheeks": ("a-pregnant", "b-eczema-cheeks"),
        "depth.neck": ("b-eczema-cheeks",),
    }
    assert len(coverage.rules) == 14
    assert coverage.rule_percent == pytest.approx(100 * 6 / 14)
    idle = next(r for r in coverage.rules if r.rule_id == "meds.anticoagulant")
    assert not idle.covered
    assert (idle.location.line, idle.location.column) == (8, 5)


def test_a_condition_is_covered_when_seen_true_and_false(coverage: Coverage):
    by_key = {(c.rule_id, c.condition): c for c in coverage.conditions}
    assert len(coverage.conditions) == 22
    pregnant = by_key["contra.pregnancy", "pregnant eq true"]
    assert (pregnant.true_in, pregnant.false_in) == (("a-pregnant",), ("b-eczema-cheeks",))
    assert pregnant.covered
    assert (pregnant.location.line, pregnant.location.column) == (6, 31)
    # Only true (one eczema entry, active): not covered.
    active = by_key["contra.eczema.in_area", 'status eq "active"']
    assert (active.true_in, active.false_in) == (("b-eczema-cheeks",), ())
    assert not active.covered
    # A join is tried against the facts that pass the other pattern's own tests.
    join = by_key["contra.eczema.in_area", "zone same_as condition.zone"]
    assert join.true_in == ("b-eczema-cheeks",)
    assert join.false_in == ("b-eczema-cheeks",)  # the neck is not where the eczema is
    # No medication in any case: never evaluated.
    anticoag = by_key["meds.anticoagulant", "is_a anticoagulant"]
    assert (anticoag.true_in, anticoag.false_in) == ((), ())
    absence = next(c for c in coverage.conditions if c.pattern == "not finding")
    assert absence.covered
    assert sum(c.covered for c in coverage.conditions) == 6
    assert coverage.condition_percent == pytest.approx(100 * 6 / 22)


def test_code_coverage_lists_raising_and_not_raising_cases(coverage: Coverage):
    codes = {c.code: c for c in coverage.codes}
    assert codes["PREGNANCY"].raised_in == ("a-pregnant",)
    assert codes["PREGNANCY"].not_raised_in == ("b-eczema-cheeks",)
    assert codes["PREGNANCY"].covered
    assert codes["STANDARD_AFTERCARE"].not_raised_in == ()
    assert not codes["STANDARD_AFTERCARE"].covered
    assert codes["EYELID_ORBITAL_RIM"].raised_in == ()
    covered = sorted(c.code for c in coverage.codes if c.covered)
    assert covered == ["ECZEMA_DERMATITIS_ACTIVE_IN_AREA", "NO_SOURCED_DEPTH_LIMIT", "PREGNANCY"]
    assert coverage.code_percent == pytest.approx(100 * 3 / 11)


def test_no_cases_cover_nothing_and_an_empty_knowledge_is_fully_covered(mini_knowledge):
    empty = measure(mini_knowledge, [])
    assert empty.rule_percent == 0
    assert all(not c.covered for c in empty.codes)
    assert Coverage(knowledge="x", cases=(), rules=(), conditions=(), codes=()).rule_percent == 100


def test_conditions_read_as_field_operator_value():
    def t(field, op, value):
        return patterns.Test(field=field, op=op, value=value, path=())

    assert describe_test(t("is_a", "is_a", ("a", "b"))) == "is_a a or b"
    assert describe_test(t("status", "in", ("x", "y"))) == 'status in ["x", "y"]'
    assert (
        describe_test(t("zone", "same_as", patterns.Ref("area", "zone")))
        == "zone same_as area.zone"
    )
    assert describe_test(t("days", "lt", 14)) == "days lt 14"
