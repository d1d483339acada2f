"""Three-valued evaluation (engine/evaluate.py): Kleene truth, chaining, negation, unknown paths."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from engine.case import case_from_data
from engine.evaluate import EvalFact, Evaluation, Evaluator, Match, Truth, pattern_truth
from engine.evaluate import test_truth as truth_of
from engine.facts import Fact, build_facts
from engine.location import Location
from engine.logic import FindingOut, LogicRule, Output, StateOut
from engine.patterns import Pattern, Ref, parse_when
from engine.patterns import Test as FieldTest

if TYPE_CHECKING:
    from engine.knowledge import Knowledge

T, F, U = Truth.TRUE, Truth.FALSE, Truth.UNKNOWN
MISSING = object()
TODAY = dt.date(2026, 1, 15)


def _fact(fid: str = "f", kind: str = "client", **fields: Any) -> Fact:
    return Fact(
        fid=fid,
        kind=kind,
        fields={k: v for k, v in fields.items() if v is not MISSING},
        paths={k: f"{fid}.{k}" for k in fields},
        entry_path=fid,
    )


def _t(op: str, value: Any, field: str = "x") -> FieldTest:
    return FieldTest(field=field, op=op, value=value, path=())  # type: ignore[arg-type]


def _rule(rule_id: str, when: list[Any], output: Output | None = None) -> LogicRule:
    problems: list[Any] = []
    patterns = parse_when(when, ("when",), lambda *p: problems.append(p))
    assert problems == []
    assert patterns is not None
    return LogicRule(
        id=rule_id,
        title=rule_id,
        rationale="r",
        sources=("S",),
        disputed=None,
        patterns=patterns,
        output=output or FindingOut(code=rule_id.upper().replace(".", "_")),
        origin="rule",
        location=Location(file="t.yaml"),
    )


# --- Kleene truth of each operator -----------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "actual", "truth"),
    [
        (_t("eq", "active"), "active", T),
        (_t("eq", "active"), "stopped", F),
        (_t("eq", "active"), MISSING, U),
        (_t("eq", None), None, T),
        (_t("eq", 1), 1.0, T),
        (_t("ne", "none"), "inflammatory", T),
        (_t("ne", "none"), "none", F),
        (_t("ne", "none"), MISSING, U),  # a missing field is unknown, not "differs"
        (_t("ne", "none"), None, T),
        (_t("in", ("a", "b")), "b", T),
        (_t("in", ("a", "b")), "c", F),
        (_t("in", ("a", "b")), MISSING, U),
        (_t("not_in", ("none",)), "inflammatory", T),
        (_t("not_in", ("none",)), "none", F),
        (_t("not_in", ("none",)), MISSING, U),
        (_t("lt", 180), 179, T),
        (_t("lt", 180), 180, F),
        (_t("lt", 180), MISSING, U),
        (_t("le", 180), 180, T),
        (_t("le", 180), 180.5, F),
        (_t("gt", 4), 4.5, T),
        (_t("gt", 4), 4, F),
        (_t("ge", 4), 4, T),
        (_t("ge", 4), 3, F),
        (_t("ge", 4), MISSING, U),
        (_t("known", value=True), "x", T),
        (_t("known", value=True), None, T),  # an explicit null is an answer
        (_t("known", value=True), MISSING, F),
        (_t("known", value=False), MISSING, T),
        (_t("known", value=False), 0, F),
        (_t("is_a", ("anticoagulant",), "x"), ["anticoagulant", "apixaban"], T),
        (_t("is_a", ("antiplatelet", "apixaban"), "x"), ["anticoagulant", "apixaban"], T),
        (_t("is_a", ("antiplatelet",), "x"), ["anticoagulant", "apixaban"], F),
        (_t("is_a", ("anticoagulant",), "x"), MISSING, U),  # unrecognised entry: no is_a
        (_t("is_a", ("anticoagulant",), "x"), "anticoagulant", F),
    ],
)
def test_kleene_truth(test: FieldTest, actual: Any, truth: Truth):
    fact = _fact(x=actual)
    result, value, path = truth_of(test, fact, {})
    assert result is truth
    assert path == "f.x"
    assert value == (None if actual is MISSING else actual)


@pytest.mark.parametrize(
    ("test", "actual"),
    [
        (_t("eq", value=True), 1),
        (_t("eq", 1), True),
        (_t("eq", value=False), 0),
        (_t("eq", 0), False),
        (_t("in", (1, 2)), True),
        (_t("in", (True,)), 1),
    ],
)
def test_booleans_never_equal_numbers(test: FieldTest, actual: Any):
    assert truth_of(test, _fact(x=actual), {})[0] is F


def test_ne_of_a_boolean_and_a_number_is_true():
    assert truth_of(_t("ne", 1), _fact(x=True), {})[0] is T
    assert truth_of(_t("not_in", (0,)), _fact(x=False), {})[0] is T


@pytest.mark.parametrize("op", ["lt", "le", "gt", "ge"])
@pytest.mark.parametrize("actual", [None, "30", True, False, ["1"]])
def test_comparisons_only_hold_for_numbers(op: str, actual: Any):
    # None is an answer ("never"), so the test is decided: false, never unknown.
    assert truth_of(_t(op, 0), _fact(x=actual), {})[0] is F


def test_join_on_a_bound_fact():
    area = _fact("area", "area", zone="cheeks")
    test = _t("same_as", Ref("condition", "zone"), "zone")
    assert truth_of(test, area, {"condition": _fact("c", "condition", zone="cheeks")})[0] is T
    assert truth_of(test, area, {"condition": _fact("c", "condition", zone="neck")})[0] is F


def test_join_with_a_missing_referenced_field_is_unknown_with_its_path():
    area = _fact("area", "area", zone="cheeks")
    condition = _fact("c", "condition", zone=MISSING)
    result, actual, path = truth_of(
        _t("same_as", Ref("condition", "zone"), "zone"), area, {"condition": condition}
    )
    assert result is U
    assert actual == "cheeks"
    assert path == "c.zone"  # the answer that decides it is the condition's


def test_join_with_own_field_missing_is_unknown():
    area = _fact("area", "area", zone=MISSING)
    condition = _fact("c", "condition", zone="cheeks")
    result, _, path = truth_of(
        _t("same_as", Ref("condition", "zone"), "zone"), area, {"condition": condition}
    )
    assert (result, path) == (U, "area.zone")


def test_join_never_equates_a_boolean_and_a_number():
    test = _t("same_as", Ref("other", "x"))
    assert truth_of(test, _fact(x=True), {"other": _fact("o", x=1)})[0] is F


# --- patterns --------------------------------------------------------------------------------


def _pattern(spec: dict[str, Any]) -> Pattern:
    [pattern] = _rule("r.x", [{"client": spec}]).patterns
    return pattern


def test_pattern_is_the_and_of_its_tests():
    pattern = _pattern({"age": {"ge": 18}, "pregnant": True})
    certain = EvalFact(fact=_fact(age=30, pregnant=True), certain=True)
    assert pattern_truth(pattern, certain, {}) == (T, frozenset())
    assert pattern_truth(
        pattern, EvalFact(fact=_fact(age=10, pregnant=MISSING), certain=True), {}
    ) == (
        F,
        frozenset(),
    )  # FALSE wins over UNKNOWN
    truth, paths = pattern_truth(
        pattern, EvalFact(fact=_fact(age=30, pregnant=MISSING), certain=True), {}
    )
    assert (truth, paths) == (U, frozenset({"f.pregnant"}))


def test_pattern_on_a_possible_fact_is_at_most_unknown():
    pattern = _pattern({})
    possible = EvalFact(
        fact=_fact(), certain=False, unknown_paths=frozenset({"client.medications"})
    )
    assert pattern_truth(pattern, possible, {}) == (U, frozenset({"client.medications"}))


# --- the evaluator on hand-made rules --------------------------------------------------------


def _run(
    rules: list[LogicRule], facts: list[Fact], phantoms: list[Fact] | None = None
) -> Evaluation:
    return Evaluator(rules).run(facts, phantoms or [])


def _truths(evaluation: Evaluation) -> dict[str, Truth]:
    out: dict[str, Truth] = {}
    for match in evaluation.matches:
        out[match.rule_id] = max(out.get(match.rule_id, F), match.truth)
    return out


def test_each_pattern_binds_a_different_fact():
    rule = _rule("r.two", [{"medication": {}}, {"medication": {}, "as": "other"}])
    one = _run([rule], [_fact("m0", "medication")])
    assert one.matches == ()
    two = _run([rule], [_fact("m0", "medication"), _fact("m1", "medication")])
    assert sorted(m.bindings for m in two.matches) == [
        (("medication", "m0"), ("other", "m1")),
        (("medication", "m1"), ("other", "m0")),
    ]


def test_false_matches_are_not_listed():
    rule = _rule("r.adult", [{"client": {"age": {"ge": 18}}}])
    assert _run([rule], [_fact(age=10)]).matches == ()


def test_forward_chaining_through_a_state():
    rules = [
        _rule(
            "s.immuno",
            [{"medication": {"is_a": "immunosuppressant"}}],
            StateOut(name="immunosuppressed"),
        ),
        _rule("f.immuno", [{"state": {"name": "immunosuppressed"}}]),
    ]
    evaluation = _run(rules, [_fact("m0", "medication", is_a=["immunosuppressant"])])
    assert _truths(evaluation) == {"s.immuno": T, "f.immuno": T}
    assert evaluation.facts["state:immunosuppressed"].certain
    assert evaluation.true_firings() == {
        ("s.immuno", (("medication", "m0"),)),
        ("f.immuno", (("state", "state:immunosuppressed"),)),
    }


def test_an_unknown_premise_makes_a_possible_state_and_an_unknown_conclusion():
    rules = [
        _rule(
            "s.immuno",
            [{"medication": {"is_a": "immunosuppressant", "status": "current"}}],
            StateOut(name="immunosuppressed"),
        ),
        _rule("f.immuno", [{"state": {"name": "immunosuppressed"}}]),
    ]
    evaluation = _run(
        rules, [_fact("m0", "medication", is_a=["immunosuppressant"], status=MISSING)]
    )
    assert _truths(evaluation) == {"s.immuno": U, "f.immuno": U}
    state = evaluation.facts["state:immunosuppressed"]
    assert not state.certain
    assert state.unknown_paths == frozenset({"m0.status"})
    [match] = [m for m in evaluation.matches if m.rule_id == "f.immuno"]
    assert match.unknown_paths == frozenset({"m0.status"})  # the question travels down the chain
    assert evaluation.true_firings() == set()


def test_negation_of_an_absent_fact_is_true():
    rule = _rule("r.alone", [{"client": {}}, {"not": {"finding": {"code": "X"}}}])
    assert _truths(_run([rule], [_fact()])) == {"r.alone": T}


def test_negation_of_a_present_fact_is_false():
    rule = _rule("r.alone", [{"client": {}}, {"not": {"finding": {"code": "X"}}}])
    evaluation = _run([rule], [_fact(), _fact("finding:X", "finding", code="X")])
    assert evaluation.matches == ()


def test_negation_may_join_on_an_earlier_pattern():
    rule = _rule(
        "r.zone",
        [{"area": {}}, {"not": {"finding": {"code": "X", "zone": {"same_as": "area.zone"}}}}],
    )
    facts = [
        _fact("a1", "area", zone="cheeks"),
        _fact("a2", "area", zone="neck"),
        _fact("finding:X@cheeks", "finding", code="X", zone="cheeks"),
    ]
    assert [m.bindings for m in _run([rule], facts).matches] == [(("area", "a2"),)]


def test_negation_over_a_derived_finding():
    rules = [
        _rule("f.in", [{"condition": {"relation": "in"}}], FindingOut(code="IN")),
        _rule(
            "f.out",
            [{"condition": {}}, {"not": {"finding": {"code": "IN"}}}],
            FindingOut(code="OUT"),
        ),
    ]
    assert Evaluator(rules).strata == {"f.in": 0, "f.out": 1}
    inside = _run(rules, [_fact("c", "condition", relation="in")])
    assert _truths(inside) == {"f.in": T}
    outside = _run(rules, [_fact("c", "condition", relation="outside")])
    assert _truths(outside) == {"f.out": T}
    unknown = _run(rules, [_fact("c", "condition", relation=MISSING)])
    assert _truths(unknown) == {"f.in": U, "f.out": U}
    [match] = [m for m in unknown.matches if m.rule_id == "f.out"]
    assert match.unknown_paths == frozenset({"c.relation"})


def test_phantom_makes_list_rules_unknown_with_the_list_path():
    rule = _rule("r.med", [{"medication": {"is_a": "anticoagulant", "status": "current"}}])
    phantom = Fact(
        fid="medication[?]",
        kind="medication",
        fields={},
        entry_path="client.medications",
        paths={"is_a": "client.medications", "status": "client.medications"},
        phantom=True,
    )
    [match] = _run([rule], [], [phantom]).matches
    assert match == Match(
        rule_id="r.med",
        bindings=(("medication", "medication[?]"),),
        truth=U,
        unknown_paths=frozenset({"client.medications"}),
    )


def test_a_phantom_can_make_a_negation_unknown():
    rule = _rule("r.none", [{"client": {}}, {"not": {"medication": {"status": "current"}}}])
    phantom = Fact(
        fid="medication[?]",
        kind="medication",
        fields={},
        entry_path="client.medications",
        paths={"status": "client.medications"},
        phantom=True,
    )
    [match] = _run([rule], [_fact()], [phantom]).matches
    assert (match.truth, match.unknown_paths) == (U, frozenset({"client.medications"}))


# --- the evaluator on the mini knowledge -----------------------------------------------------


def _assess(knowledge: Knowledge, data: dict[str, Any]) -> Evaluation:
    facts = build_facts(knowledge, case_from_data(knowledge, data, today=TODAY))
    return Evaluator(knowledge.rules).run(facts.facts, facts.phantoms)


def _by_rule(evaluation: Evaluation) -> dict[str, list[Match]]:
    out: dict[str, list[Match]] = {}
    for match in evaluation.matches:
        out.setdefault(match.rule_id, []).append(match)
    return out


COMPLETE_CLIENT: dict[str, Any] = {
    "pregnant": False,
    "conditions": [],
    "medications": [],
}


def test_mini_forward_chaining_through_a_state(mini_knowledge: Knowledge):
    evaluation = _assess(
        mini_knowledge,
        {
            "client": {
                **COMPLETE_CLIENT,
                "medications": [{"name": "methotrexate", "status": "current"}],
            }
        },
    )
    matches = _by_rule(evaluation)
    assert [m.truth for m in matches["state.immunosuppressed"]] == [T]
    assert [m.truth for m in matches["contra.immunosuppression"]] == [T]
    assert evaluation.facts["finding:IMMUNOSUPPRESSION"].certain


def test_mini_negation_over_a_derived_finding(mini_knowledge: Knowledge):
    def run(site: str | None) -> dict[str, list[Match]]:
        condition: dict[str, Any] = {"name": "eczema", "status": "active"}
        if site is not None:
            condition["site"] = site
        return _by_rule(
            _assess(
                mini_knowledge,
                {
                    "client": {**COMPLETE_CLIENT, "conditions": [condition]},
                    "plan": {
                        "indication": "fine_lines",
                        "areas": [{"zone": "cheeks", "depth_mm": 1.0}],
                    },
                },
            ),
        )

    elsewhere = run("forearms")
    assert "contra.eczema.in_area" not in elsewhere
    assert [m.truth for m in elsewhere["caution.eczema.outside"]] == [T]

    in_area = run("cheeks")
    assert [m.truth for m in in_area["contra.eczema.in_area"]] == [T]
    assert "caution.eczema.outside" not in in_area

    unanswered = run(None)
    [in_match] = unanswered["contra.eczema.in_area"]
    [out_match] = unanswered["caution.eczema.outside"]
    assert (in_match.truth, out_match.truth) == (U, U)
    assert in_match.unknown_paths == frozenset({"client.conditions[0].site"})
    assert out_match.unknown_paths == frozenset({"client.conditions[0].site"})


def test_mini_unknown_status_carries_its_path(mini_knowledge: Knowledge):
    matches = _by_rule(
        _assess(
            mini_knowledge, {"client": {**COMPLETE_CLIENT, "medications": [{"name": "Eliquis"}]}}
        )
    )
    [match] = matches["meds.anticoagulant"]
    assert (match.truth, match.unknown_paths) == (U, frozenset({"client.medications[0].status"}))


def test_mini_unrecognised_medication_asks_for_its_name(mini_knowledge: Knowledge):
    matches = _by_rule(
        _assess(
            mini_knowledge,
            {
                "client": {
                    **COMPLETE_CLIENT,
                    "medications": [{"name": "Frobnicol", "status": "current"}],
                }
            },
        ),
    )
    [match] = matches["meds.anticoagulant"]
    assert (match.truth, match.unknown_paths) == (U, frozenset({"client.medications[0].name"}))


def test_mini_unanswered_medications_is_a_phantom(mini_knowledge: Knowledge):
    matches = _by_rule(_assess(mini_knowledge, {"client": {"pregnant": False, "conditions": []}}))
    for rule_id in ("meds.anticoagulant", "meds.isotretinoin.recent", "state.immunosuppressed"):
        [match] = matches[rule_id]
        assert match.bindings == (("medication", "medication[?]"),)
        assert (match.truth, match.unknown_paths) == (U, frozenset({"client.medications"}))
    [chained] = matches["contra.immunosuppression"]
    assert (chained.truth, chained.unknown_paths) == (U, frozenset({"client.medications"}))


def test_mini_day_window(mini_knowledge: Knowledge):
    def truth(days: int) -> list[Truth]:
        matches = _by_rule(
            _assess(
                mini_knowledge,
                {
                    "client": {
                        **COMPLETE_CLIENT,
                        "medications": [
                            {"name": "Roaccutane", "status": "stopped", "stopped_days_ago": days}
                        ],
                    }
                },
            ),
        )
        return [m.truth for m in matches.get("meds.isotretinoin.recent", [])]

    assert truth(179) == [T]
    assert truth(180) == []


def test_mini_depth_rows_match_planned_zones(mini_knowledge: Knowledge):
    matches = _by_rule(
        _assess(
            mini_knowledge,
            {
                "client": {**COMPLETE_CLIENT, "fitzpatrick": "V"},
                "plan": {
                    "indication": "fine_lines",
                    "areas": [{"zone": "cheeks"}, {"zone": "neck"}],
                },
            },
        ),
    )
    assert [m.bindings for m in matches["depth.cheeks"]] == [(("area", "area:cheeks"),)]
    assert [m.bindings for m in matches["depth.neck"]] == [(("area", "area:neck"),)]
    assert [m.bindings for m in matches["depth.fitzpatrick"]] == [
        (("client", "client"), ("area", "area:cheeks"))
    ]
    assert all(
        m.truth is T for ms in matches.values() for m in ms if m.rule_id.startswith("depth.")
    )


def test_mini_pregnancy_unanswered_is_unknown(mini_knowledge: Knowledge):
    matches = _by_rule(_assess(mini_knowledge, {"client": {"conditions": [], "medications": []}}))
    [match] = matches["contra.pregnancy"]
    assert (match.truth, match.unknown_paths) == (U, frozenset({"client.pregnant"}))


def test_unknown_paths_from_every_way_a_state_could_arise():
    rules = [
        _rule("s.by_medication", [{"medication": {"status": "current"}}], StateOut(name="s")),
        _rule("f.by_state", [{"state": {"name": "s"}}]),
        _rule("s.by_condition", [{"condition": {"status": "active"}}], StateOut(name="s")),
    ]
    facts = [_fact("m", "medication", status=MISSING), _fact("c", "condition", status=MISSING)]
    evaluation = _run(rules, facts)
    assert evaluation.facts["state:s"].unknown_paths == frozenset({"m.status", "c.status"})
    [match] = [m for m in evaluation.matches if m.rule_id == "f.by_state"]
    assert match.unknown_paths == frozenset({"m.status", "c.status"})


def test_unknown_paths_from_every_way_a_state_could_arise_in_rule_order():
    # The same rules with the user last: both paths arrive (the order-independent expectation).
    rules = [
        _rule("s.by_medication", [{"medication": {"status": "current"}}], StateOut(name="s")),
        _rule("s.by_condition", [{"condition": {"status": "active"}}], StateOut(name="s")),
        _rule("f.by_state", [{"state": {"name": "s"}}]),
    ]
    facts = [_fact("m", "medication", status=MISSING), _fact("c", "condition", status=MISSING)]
    [match] = [m for m in _run(rules, facts).matches if m.rule_id == "f.by_state"]
    assert match.unknown_paths == frozenset({"m.status", "c.status"})


def test_derived_facts_kept_between_runs_tell_true_from_one():
    # Evaluator._as_fact keeps derived facts by content; True == 1 == 1.0 in Python, not in JSON.
    evaluator = Evaluator([])
    made = [
        evaluator._as_fact({"fid": "d", "kind": "state", "v": v})  # noqa: SLF001
        for v in (True, 1, 1.0, True)
    ]
    assert [type(f.fields["v"]) for f in made] == [bool, int, float, bool]
    assert made[0] is made[3]


def test_a_rule_runs_again_when_a_later_rule_changes_what_it_reads():
    # The user comes first and reads a state that two later rules derive, one of them only
    # from a state the other derives: the schedule must still reach the fixpoint.
    rules = [
        _rule("f.by_b", [{"state": {"name": "b"}}]),
        _rule("b.by_a", [{"state": {"name": "a"}}], StateOut(name="b")),
        _rule("a.by_client", [{"client": {"x": "y"}}], StateOut(name="a")),
    ]
    assert _truths(_run(rules, [_fact(x="y")]))["f.by_b"] is T
    assert _truths(_run(rules, [_fact(x=MISSING)]))["f.by_b"] is U
