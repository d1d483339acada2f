"""Rule conditions (engine/patterns.py): each operator form parses to its Test; bad forms report."""

from __future__ import annotations

from typing import Any

import pytest

from engine.patterns import Pattern, Ref, parse_pattern, parse_ref, parse_when
from engine.patterns import Test as FieldTest

P = ("rules", 0, "when", 0)
"""Path of the pattern under test."""
B = (*P, "client")
"""Path of the pattern body (``client: {...}``)."""

Reported = list[tuple[str, str, tuple[str | int, ...]]]


def _sink(into: Reported):
    def report(code: str, message: str, path: tuple[str | int, ...]) -> None:
        into.append((code, message, path))

    return report


def _pattern(item: Any) -> Pattern:
    problems: Reported = []
    pattern = parse_pattern(item, P, _sink(problems))
    assert problems == []
    assert pattern is not None
    return pattern


def _problems(item: Any) -> Reported:
    problems: Reported = []
    assert parse_pattern(item, P, _sink(problems)) is None or problems
    return problems


def _codes_paths(problems: Reported) -> list[tuple[str, tuple[str | int, ...]]]:
    return [(code, path) for code, _, path in problems]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"status": "active"},
            [FieldTest(field="status", op="eq", value="active", path=(*B, "status"))],
            id="value",
        ),
        pytest.param(
            {"pregnant": True},
            [FieldTest(field="pregnant", op="eq", value=True, path=(*B, "pregnant"))],
            id="boolean-value",
        ),
        pytest.param(
            {"sex": None},
            [FieldTest(field="sex", op="eq", value=None, path=(*B, "sex"))],
            id="null-value",
        ),
        pytest.param(
            {"status": ["active", "uncontrolled"]},
            [
                FieldTest(
                    field="status", op="in", value=("active", "uncontrolled"), path=(*B, "status")
                )
            ],
            id="list",
        ),
        pytest.param(
            {"active_acne": {"in": ["inflammatory", "nodulocystic"]}},
            [
                FieldTest(
                    field="active_acne",
                    op="in",
                    value=("inflammatory", "nodulocystic"),
                    path=(*B, "active_acne", "in"),
                ),
            ],
            id="in",
        ),
        pytest.param(
            {"active_acne": {"not_in": ["none"]}},
            [
                FieldTest(
                    field="active_acne",
                    op="not_in",
                    value=("none",),
                    path=(*B, "active_acne", "not_in"),
                )
            ],
            id="not_in",
        ),
        pytest.param(
            {"sex": {"eq": "F"}},
            [FieldTest(field="sex", op="eq", value="F", path=(*B, "sex", "eq"))],
            id="eq",
        ),
        pytest.param(
            {"active_acne": {"ne": "none"}},
            [FieldTest(field="active_acne", op="ne", value="none", path=(*B, "active_acne", "ne"))],
            id="ne",
        ),
        pytest.param(
            {"age": {"lt": 22}},
            [FieldTest(field="age", op="lt", value=22, path=(*B, "age", "lt"))],
            id="lt",
        ),
        pytest.param(
            {"age": {"le": 21.5}},
            [FieldTest(field="age", op="le", value=21.5, path=(*B, "age", "le"))],
            id="le",
        ),
        pytest.param(
            {"age": {"gt": 65}},
            [FieldTest(field="age", op="gt", value=65, path=(*B, "age", "gt"))],
            id="gt",
        ),
        pytest.param(
            {"fitzpatrick": {"ge": 4}},
            [FieldTest(field="fitzpatrick", op="ge", value=4, path=(*B, "fitzpatrick", "ge"))],
            id="ge",
        ),
        pytest.param(
            {"days_ago": {"ge": 0, "lt": 14}},
            [
                FieldTest(field="days_ago", op="ge", value=0, path=(*B, "days_ago", "ge")),
                FieldTest(field="days_ago", op="lt", value=14, path=(*B, "days_ago", "lt")),
            ],
            id="several-keys",
        ),
        pytest.param(
            {"pregnant": {"known": False}},
            [FieldTest(field="pregnant", op="known", value=False, path=(*B, "pregnant", "known"))],
            id="known-false",
        ),
        pytest.param(
            {"pregnant": {"known": True}},
            [FieldTest(field="pregnant", op="known", value=True, path=(*B, "pregnant", "known"))],
            id="known-true",
        ),
        pytest.param(
            {"zone": {"same_as": "condition.zone"}},
            [
                FieldTest(
                    field="zone",
                    op="same_as",
                    value=Ref("condition", "zone"),
                    path=(*B, "zone", "same_as"),
                )
            ],
            id="same_as",
        ),
        pytest.param(
            {"is_a": "anticoagulant"},
            [FieldTest(field="is_a", op="is_a", value=("anticoagulant",), path=(*B, "is_a"))],
            id="is_a",
        ),
        pytest.param(
            {"is_a": ["anticoagulant", "antiplatelet"]},
            [
                FieldTest(
                    field="is_a",
                    op="is_a",
                    value=("anticoagulant", "antiplatelet"),
                    path=(*B, "is_a"),
                )
            ],
            id="is_a-list",
        ),
        pytest.param({}, [], id="any-fact"),
        pytest.param(None, [], id="any-fact-null-body"),
    ],
)
def test_operator_forms(spec: Any, expected: list[FieldTest]):
    pattern = _pattern({"client": spec})
    assert pattern == Pattern(
        kind="client", alias="client", negated=False, tests=tuple(expected), path=B
    )


def test_tests_keep_the_order_of_the_fields():
    pattern = _pattern(
        {"medication": {"is_a": "x", "status": "stopped", "stopped_days_ago": {"lt": 180}}}
    )
    assert [(t.field, t.op) for t in pattern.tests] == [
        ("is_a", "is_a"),
        ("status", "eq"),
        ("stopped_days_ago", "lt"),
    ]


def test_as_names_the_pattern():
    pattern = _pattern({"medication": {"status": "current"}, "as": "blood_thinner"})
    assert (pattern.kind, pattern.alias, pattern.negated) == ("medication", "blood_thinner", False)


def test_not_negates_the_inner_pattern():
    pattern = _pattern({"not": {"finding": {"code": "X"}}})
    assert pattern.negated
    assert pattern.kind == "finding"
    assert pattern.alias == "not_finding"
    assert pattern.path == (*P, "not", "finding")
    assert pattern.tests == (
        FieldTest(field="code", op="eq", value="X", path=(*P, "not", "finding", "code")),
    )


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("condition.zone", Ref("condition", "zone")),
        ("med_2.stopped_days_ago", Ref("med_2", "stopped_days_ago")),
        ("zone", None),
        ("a.b.c", None),
        ("a.", None),
        (".b", None),
        ("a b.c", None),
    ],
)
def test_parse_ref(text: str, ref: Ref | None):
    assert parse_ref(text) == ref


def test_ref_renders_dotted():
    assert str(Ref("condition", "zone")) == "condition.zone"


# --- bad forms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "code", "path"),
    [
        pytest.param(
            {"age": {"below": 22}},
            "rule.unknown_operator",
            (*B, "age", "below"),
            id="unknown-operator",
        ),
        pytest.param(
            {"status": {"in": "active"}}, "rule.bad_test", (*B, "status", "in"), id="in-non-list"
        ),
        pytest.param({"status": {"in": []}}, "rule.bad_test", (*B, "status", "in"), id="in-empty"),
        pytest.param(
            {"status": {"not_in": [["a"]]}},
            "rule.bad_test",
            (*B, "status", "not_in"),
            id="not_in-nested",
        ),
        pytest.param(
            {"zone": {"same_as": "condition"}},
            "rule.bad_test",
            (*B, "zone", "same_as"),
            id="same_as-without-dot",
        ),
        pytest.param(
            {"zone": {"same_as": 3}},
            "rule.bad_test",
            (*B, "zone", "same_as"),
            id="same_as-non-text",
        ),
        pytest.param({"age": {"lt": "22"}}, "rule.bad_test", (*B, "age", "lt"), id="lt-text"),
        pytest.param({"age": {"ge": True}}, "rule.bad_test", (*B, "age", "ge"), id="ge-boolean"),
        pytest.param(
            {"pregnant": {"known": "yes"}},
            "rule.bad_test",
            (*B, "pregnant", "known"),
            id="known-text",
        ),
        pytest.param({"sex": {"eq": ["F"]}}, "rule.bad_test", (*B, "sex", "eq"), id="eq-list"),
        pytest.param({"status": []}, "rule.bad_test", (*B, "status"), id="empty-list"),
        pytest.param(
            {"status": [{"a": 1}]}, "rule.bad_test", (*B, "status"), id="list-of-mappings"
        ),
        pytest.param({"status": {}}, "rule.bad_test", (*B, "status"), id="empty-operators"),
        pytest.param({"is_a": []}, "rule.bad_test", (*B, "is_a"), id="is_a-empty"),
        pytest.param({"is_a": {"in": ["x"]}}, "rule.bad_test", (*B, "is_a"), id="is_a-operators"),
        pytest.param({"is_a": ["x", 3]}, "rule.bad_test", (*B, "is_a"), id="is_a-number"),
    ],
)
def test_bad_tests(spec: Any, code: str, path: tuple[str | int, ...]):
    problems: Reported = []
    pattern = parse_pattern({"client": spec}, P, _sink(problems))
    assert _codes_paths(problems) == [(code, path)]
    assert pattern is not None  # a bad test is dropped; the pattern is kept to check the rest
    assert pattern.tests == ()


def test_unknown_operator_message_lists_the_operators():
    [(_, message, _)] = _problems({"client": {"age": {"below": 22}}})
    assert "'below'" in message
    assert "eq, ne, in, not_in, lt, le, gt, ge, known, same_as" in message


def test_good_tests_survive_beside_a_bad_one():
    problems: Reported = []
    pattern = parse_pattern({"client": {"age": {"ge": 18, "under": 30}}}, P, _sink(problems))
    assert _codes_paths(problems) == [("rule.unknown_operator", (*B, "age", "under"))]
    assert pattern is not None
    assert [t.op for t in pattern.tests] == ["ge"]


@pytest.mark.parametrize(
    ("item", "path"),
    [
        pytest.param({"client": {}, "plan": {}}, P, id="two-kinds"),
        pytest.param({"as": "x"}, P, id="no-kind"),
        pytest.param("client", P, id="not-a-mapping"),
        pytest.param(["client"], P, id="a-list"),
        pytest.param({"client": "adult"}, B, id="body-not-a-mapping"),
        pytest.param({"not": {"not": {"finding": {}}}}, P, id="nested-not"),
        pytest.param({"not": {"finding": {}}, "as": "x"}, P, id="not-beside-other-keys"),
        pytest.param({"not": "finding"}, (*P, "not"), id="not-of-text"),
        pytest.param({"client": {}, "as": "two words"}, (*P, "as"), id="bad-alias"),
        pytest.param({"client": {}, "as": 3}, (*P, "as"), id="alias-number"),
    ],
)
def test_bad_patterns(item: Any, path: tuple[str | int, ...]):
    problems: Reported = []
    assert parse_pattern(item, P, _sink(problems)) is None
    assert _codes_paths(problems) == [("rule.bad_pattern", path)]


def test_two_kinds_message_names_them():
    [(_, message, _)] = _problems({"client": {}, "plan": {}})
    assert "['client', 'plan']" in message


# --- when lists ------------------------------------------------------------------------------

W = ("rules", 3, "when")


def _when(items: list[Any]) -> tuple[tuple[Pattern, ...] | None, Reported]:
    problems: Reported = []
    return parse_when(items, W, _sink(problems)), problems


def test_when_list_parses_in_order():
    patterns, problems = _when(
        [
            {"condition": {"status": "active"}},
            {"area": {"zone": {"same_as": "condition.zone"}}},
            {"not": {"finding": {"code": "X"}}},
        ],
    )
    assert problems == []
    assert patterns is not None
    assert [(p.kind, p.alias, p.negated) for p in patterns] == [
        ("condition", "condition", False),
        ("area", "area", False),
        ("finding", "not2_finding", True),
    ]
    assert patterns[1].path == (*W, 1, "area")


def test_negated_patterns_get_unique_names():
    patterns, problems = _when(
        [{"client": {}}, {"not": {"finding": {"code": "X"}}}, {"not": {"finding": {"code": "Y"}}}],
    )
    assert problems == []
    assert patterns is not None
    assert [p.alias for p in patterns] == ["client", "not1_finding", "not2_finding"]


def test_only_negated_rule_is_refused():
    patterns, problems = _when([{"not": {"finding": {"code": "X"}}}])
    assert patterns is None
    assert _codes_paths(problems) == [("rule.bad_pattern", W)]
    assert "not 'not'" in problems[0][1]


def test_duplicate_alias_is_refused():
    patterns, problems = _when(
        [{"medication": {"status": "current"}}, {"medication": {"status": "stopped"}}]
    )
    assert patterns is None
    assert _codes_paths(problems) == [("rule.duplicate_alias", (*W, 1))]
    assert "'medication'" in problems[0][1]


def test_as_resolves_a_duplicate():
    patterns, problems = _when(
        [{"medication": {"status": "current"}}, {"medication": {"status": "stopped"}, "as": "old"}],
    )
    assert problems == []
    assert patterns is not None
    assert [p.alias for p in patterns] == ["medication", "old"]


def test_two_negations_of_one_kind_are_not_duplicates():
    patterns, problems = _when(
        [{"client": {}}, {"not": {"finding": {"code": "X"}}}, {"not": {"finding": {"code": "Y"}}}],
    )
    assert problems == []
    assert patterns is not None


def test_every_bad_pattern_of_a_when_list_is_reported():
    patterns, problems = _when(
        [{"client": {"age": {"below": 1}}}, {"plan": {}, "area": {}}, {"not": {"not": {"x": {}}}}],
    )
    assert patterns is None
    assert _codes_paths(problems) == [
        ("rule.unknown_operator", (*W, 0, "client", "age", "below")),
        ("rule.bad_pattern", (*W, 1)),
        ("rule.bad_pattern", (*W, 2)),
    ]
