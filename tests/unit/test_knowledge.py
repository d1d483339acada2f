"""Knowledge loading and validation (engine/knowledge.py): seeded mistakes, each located exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import KnowledgeError, Problem
from engine.knowledge import Knowledge, load_knowledge
from engine.logic import CareOut, FindingOut, LimitOut, StateOut

R = "rules/rules.yaml"
ANTICOAG_WHEN = "    when: [medication: {is_a: anticoagulant, status: current}]\n"
ANTICOAG_SOURCES = "    sources: [R5, C1]\n"


def _errors(root: Path) -> list[Problem]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    return list(info.value.errors)


def _where(problem: Problem, root: Path) -> tuple[str, str, int, int]:
    file = Path(problem.location.file).resolve().relative_to(root.resolve()).as_posix()
    return problem.code, file, problem.location.line, problem.location.column


def _only_error(root: Path) -> Problem:
    errors = _errors(root)
    assert len(errors) == 1, "\n".join(p.format() for p in errors)
    return errors[0]


# --- the mini knowledge ----------------------------------------------------------------------


def test_mini_knowledge_loads(mini_knowledge: Knowledge):
    assert mini_knowledge.name == "microneedling"
    assert mini_knowledge.version == "0.1.0"
    assert len(mini_knowledge.rules) == 14
    assert [r.origin for r in mini_knowledge.rules].count("rule") == 9
    assert [r.origin for r in mini_knowledge.rules].count("depth_limit") == 4
    assert [r.origin for r in mini_knowledge.rules].count("depth_adjustment") == 1
    assert set(mini_knowledge.rule_index) == {r.id for r in mini_knowledge.rules}
    assert len(mini_knowledge.checks) == 1


def test_mini_knowledge_warns_that_the_release_is_unreviewed(mini_knowledge: Knowledge):
    assert [(w.code, w.severity) for w in mini_knowledge.warnings] == [
        ("release.unreviewed", "warning")
    ]
    warning = mini_knowledge.warnings[0]
    assert Path(warning.location.file).name == "knowledge.yaml"
    assert warning.location.line == 2
    assert warning.hint


def test_mini_knowledge_outputs(mini_knowledge: Knowledge):
    index = mini_knowledge.rule_index
    assert isinstance(index["contra.pregnancy"].output, FindingOut)
    assert isinstance(index["state.immunosuppressed"].output, StateOut)
    assert isinstance(index["care.standard"].output, CareOut)
    assert isinstance(index["depth.cheeks"].output, LimitOut)
    wait = index["meds.isotretinoin.recent"].output
    assert isinstance(wait, FindingOut)
    assert (wait.wait_days, str(wait.wait_since)) == (180, "medication.stopped_days_ago")
    eczema = index["contra.eczema.in_area"].output
    assert isinstance(eczema, FindingOut)
    assert str(eczema.zone) == "area.zone"


def test_rule_locations_point_at_the_rule(mini_knowledge: Knowledge):
    location = mini_knowledge.rule_index["meds.anticoagulant"].location
    assert location.file.endswith(R)
    assert (location.line, location.column) == (8, 5)


def test_depth_adjustment_gets_an_area_pattern(mini_knowledge: Knowledge):
    rule = mini_knowledge.rule_index["depth.fitzpatrick"]
    assert [(p.kind, p.alias) for p in rule.patterns] == [("client", "client"), ("area", "area")]
    zones = rule.patterns[1].tests[0].value
    assert "cheeks" in zones
    assert "neck" not in zones  # 'face' stands for the face zones only


def test_mini_sites_and_terminology(mini_knowledge: Knowledge):
    assert mini_knowledge.sites["cheeks"] == ("cheeks",)
    assert mini_knowledge.sites["forearms"] == ("arms",)
    assert "perioral" in mini_knowledge.zones["cheeks"].near
    assert mini_knowledge.terminology.closure["apixaban"] == (
        "anticoagulant",
        "antithrombotic",
        "apixaban",
    )


def test_hash_is_stable_and_content_based(mini_knowledge: Knowledge, seed_mistakes):
    assert len(mini_knowledge.hash) == 64
    same = load_knowledge(seed_mistakes())
    assert same.hash == mini_knowledge.hash
    changed = load_knowledge(
        seed_mistakes(
            ("rules/rules.yaml", "rationale: Bleeding.", "rationale: Bleeds."), name="changed"
        )
    )
    assert changed.hash != mini_knowledge.hash


def test_missing_directory():
    with pytest.raises(KnowledgeError) as info:
        load_knowledge("/nonexistent/knowledge")
    assert [p.code for p in info.value.problems] == ["knowledge.not_found"]


# --- seeded mistakes: one per kind -----------------------------------------------------------

SEEDED = [
    pytest.param(
        (R, "    title: Anticoagulant\n", "    title: Anticoagulant: oral\n"),
        ("yaml.syntax", R, 9, 25),
        id="yaml-syntax",
    ),
    pytest.param(
        (R, "    rationale: Bleeding.\n", "    rationale: Bleeding.\n    sauces: [R5]\n"),
        ("schema.unknown_key", R, 11, 5),
        id="unknown-key",
    ),
    pytest.param(
        (R, ANTICOAG_SOURCES, "    sources: R5\n"),
        ("schema.invalid", R, 11, 14),
        id="wrong-type",
    ),
    pytest.param(
        (R, ANTICOAG_SOURCES, "    sources: [R5, C9]\n"),
        ("rule.unknown_source", R, 11, 19),
        id="unknown-source",
    ),
    pytest.param(
        (R, "  - id: meds.isotretinoin.recent\n", "  - id: meds.anticoagulant\n"),
        ("rule.duplicate_id", R, 14, 9),
        id="duplicate-rule-id",
    ),
    pytest.param(
        (R, "    then: {finding: ANTICOAG_ANTIPLATELET}\n", "    then: {finding: ANTICOAG}\n"),
        ("rule.unknown_code", R, 13, 21),
        id="unknown-finding-code",
    ),
    pytest.param(
        (R, "{code: ECZEMA_DERMATITIS_ACTIVE_IN_AREA}", "{code: ECZEMA_IN_AREA}"),
        ("rule.unknown_value", R, 46, 31),
        id="unknown-finding-code-in-pattern",
    ),
    pytest.param(
        (R, ANTICOAG_WHEN, "    when: [medicine: {is_a: anticoagulant, status: current}]\n"),
        ("rule.unknown_kind", R, 12, 12),
        id="unknown-fact-kind",
    ),
    pytest.param(
        (R, ANTICOAG_WHEN, "    when: [medication: {is_a: anticoagulant, state: current}]\n"),
        ("rule.unknown_field", R, 12, 46),
        id="unknown-field",
    ),
    pytest.param(
        (R, ANTICOAG_WHEN, "    when: [medication: {is_a: anticoagulants, status: current}]\n"),
        ("rule.unknown_term", R, 12, 31),
        id="unknown-term",
    ),
    pytest.param(
        (R, ANTICOAG_WHEN, "    when: [medication: {is_a: anticoagulant, status: ongoing}]\n"),
        ("rule.unknown_value", R, 12, 54),
        id="enum-value-not-allowed",
    ),
    pytest.param(
        (
            R,
            (
                "      - condition: {is_a: eczema_dermatitis, status: active, relation: in}\n"
                "      - area: {zone: {same_as: condition.zone}}\n"
            ),
            (
                "      - area: {zone: {same_as: condition.zone}}\n"
                "      - condition: {is_a: eczema_dermatitis, status: active, relation: in}\n"
            ),
        ),
        ("rule.unknown_alias", R, 37, 32),
        id="same_as-alias-bound-later",
    ),
    pytest.param(
        (R, "{zone: {same_as: condition.zone}}", "{zone: {same_as: cond.zone}}"),
        ("rule.unknown_alias", R, 38, 32),
        id="same_as-alias-never-bound",
    ),
    pytest.param(
        (R, "{zone: {same_as: condition.zone}}", "{zone: {same_as: condition.zone_id}}"),
        ("rule.unknown_field", R, 38, 32),
        id="same_as-unknown-field",
    ),
    pytest.param(
        (
            R,
            "    when: [client: {pregnant: true}]\n",
            "    when: [plan: {device_model: {gt: 3}}]\n",
        ),
        ("rule.bad_test", R, 6, 38),
        id="numeric-comparison-on-text",
    ),
    pytest.param(
        (R, ANTICOAG_SOURCES, "    sources: [K1]\n"),
        ("rule.consumer_only", R, 11, 14),
        id="consumer-only-sources",
    ),
    pytest.param(
        (
            R,
            "    when: [state: {name: immunosuppressed}]\n",
            "    when: [state: {name: immunocompromised}]\n",
        ),
        ("rule.state_never_derived", R, 30, 26),
        id="state-never-derived",
    ),
    pytest.param(
        (
            "terminology/all.yaml",
            "  - {id: methotrexate, kind: medication, is_a: [immunosuppressant]}\n",
            (
                "  - {id: methotrexate, kind: medication, brands: [Eliquis],"
                " is_a: [immunosuppressant]}\n"
            ),
        ),
        ("term.ambiguous", "terminology/all.yaml", 9, 5),
        id="synonym-of-two-terms",
    ),
    pytest.param(
        ("terminology/all.yaml", "is_a: [antithrombotic]", "is_a: [antithrombotics]"),
        ("term.unknown_class", "terminology/all.yaml", 3, 72),
        id="unknown-parent-class",
    ),
    pytest.param(
        ("depth.yaml", "zones: [neck]", "zones: [nek]"),
        ("depth.unknown_zone", "depth.yaml", 6, 43),
        id="depth-unknown-zone",
    ),
    pytest.param(
        ("sites.yaml", "covers: [thighs]", "covers: [thigh]"),
        ("sites.unknown_zone", "sites.yaml", 32, 38),
        id="site-covers-unknown-zone",
    ),
    pytest.param(
        ("consistency.yaml", "unanswer: [client.pregnant]", "unanswer: [client.pregnancy]"),
        ("consistency.unknown_field", "consistency.yaml", 5, 16),
        id="consistency-unknown-answer",
    ),
    pytest.param(
        (
            "catalogue.yaml",
            "level: absolute, action: defer, title: Pregnancy",
            "level: severe, action: defer, title: Pregnancy",
        ),
        ("schema.invalid", "catalogue.yaml", 2, 30),
        id="catalogue-level-not-allowed",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), SEEDED)
def test_seeded_mistake_is_located(seed_mistakes, edit, expected):
    root = seed_mistakes(edit)
    assert _where(_only_error(root), root) == expected


def test_unknown_key_hint_lists_the_allowed_keys(seed_mistakes):
    root = seed_mistakes(
        (R, "    rationale: Bleeding.\n", "    rationale: Bleeding.\n    sauces: [R5]\n")
    )
    problem = _only_error(root)
    assert problem.message == "unknown key 'sauces'"
    assert (
        problem.hint
        == "expected one of: id, title, rationale, sources, disputed, when, then, silence"
    )
    assert problem.location.path == ("rules", 1, "sauces")


def test_wrong_type_says_what_was_expected(seed_mistakes):
    problem = _only_error(seed_mistakes((R, ANTICOAG_SOURCES, "    sources: R5\n")))
    assert "valid list" in problem.message
    assert '"R5"' in problem.message


def test_unknown_kind_hint_lists_the_kinds(seed_mistakes):
    root = seed_mistakes(
        (R, ANTICOAG_WHEN, "    when: [medicine: {is_a: anticoagulant, status: current}]\n")
    )
    problem = _only_error(root)
    assert "'medicine'" in problem.message
    assert "medication" in problem.hint
    assert "finding, state" in problem.hint


def test_unknown_alias_hint_names_what_is_bound(seed_mistakes):
    root = seed_mistakes((R, "{zone: {same_as: condition.zone}}", "{zone: {same_as: cond.zone}}"))
    assert _only_error(root).hint == "names bound so far: condition"


def test_duplicate_id_names_the_first_use(seed_mistakes):
    root = seed_mistakes((R, "  - id: meds.isotretinoin.recent\n", "  - id: meds.anticoagulant\n"))
    problem = _only_error(root)
    assert problem.message.startswith("rule id 'meds.anticoagulant' is already used at ")
    assert problem.message.endswith("rules/rules.yaml:8:5")


def test_enum_hint_lists_the_values(seed_mistakes):
    root = seed_mistakes(
        (R, ANTICOAG_WHEN, "    when: [medication: {is_a: anticoagulant, status: ongoing}]\n")
    )
    assert _only_error(root).hint == "expected one of: current, stopped"


def test_missing_required_file(seed_mistakes):
    root = seed_mistakes(("policy.yaml", "", None))
    problem = _only_error(root)
    assert _where(problem, root) == ("knowledge.missing_file", "policy.yaml", 0, 0)
    assert str(problem.location).endswith("policy.yaml")  # no invented line


def test_missing_optional_file_is_fine(seed_mistakes):
    knowledge = load_knowledge(seed_mistakes(("consistency.yaml", "", None)))
    assert knowledge.checks == ()


def test_no_rule_files(seed_mistakes):
    root = seed_mistakes((R, "", None))
    assert _only_error(root).code == "knowledge.no_rules"


def test_seed_and_clinic_only_sources_warn_but_load(seed_mistakes):
    root = seed_mistakes((R, ANTICOAG_SOURCES, "    sources: [SEED, C1]\n"))
    knowledge = load_knowledge(root)
    weak = [w for w in knowledge.warnings if w.code == "rule.weak_sources"]
    assert len(weak) == 1
    assert weak[0].severity == "warning"
    assert _where(weak[0], root) == ("rule.weak_sources", R, 11, 14)
    assert "meds.anticoagulant" in weak[0].message


def test_a_reviewed_weak_source_warning_can_be_silenced(seed_mistakes):
    root = seed_mistakes(
        (
            R,
            ANTICOAG_SOURCES,
            (
                "    sources: [SEED, C1]\n"
                "    silence: [{warning: rule.weak_sources, reason: reviewed by the clinic lead}]\n"
            ),
        ),
    )
    knowledge = load_knowledge(root)
    assert [w.code for w in knowledge.warnings] == ["release.unreviewed"]
    assert knowledge.rule_index["meds.anticoagulant"].silenced == ("rule.weak_sources",)


def test_reviewed_release_has_no_warning(seed_mistakes):
    root = seed_mistakes(
        (
            "knowledge.yaml",
            "reviewed_by: null\nreviewed_on: null\n",
            "reviewed_by: Dr A. Reviewer\nreviewed_on: 2026-11-01\n",
        ),
    )
    assert load_knowledge(root).warnings == ()


def test_all_problems_are_reported_at_once(seed_mistakes):
    root = seed_mistakes(
        (R, ANTICOAG_SOURCES, "    sources: [R5, C9]\n"),
        (R, "status: stopped, stopped_days_ago", "status: halted, stopped_days_ago"),
        ("depth.yaml", "zones: [neck]", "zones: [nek]"),
    )
    errors = _errors(root)
    assert [_where(p, root) for p in errors] == [
        ("depth.unknown_zone", "depth.yaml", 6, 43),
        ("rule.unknown_source", R, 11, 19),
        ("rule.unknown_value", R, 18, 58),
    ]


def test_schema_problems_in_several_files_are_reported_at_once(seed_mistakes):
    root = seed_mistakes(
        (
            "catalogue.yaml",
            "level: absolute, action: defer, title: Pregnancy",
            "level: severe, action: defer, title: Pregnancy",
        ),
        (R, ANTICOAG_SOURCES, "    sources: R5\n"),
        (
            "sites.yaml",
            "Abdomen, region: body, exposed: false}",
            "Abdomen, region: body, hidden: true}",
        ),
    )
    assert sorted(_where(p, root)[:3] for p in _errors(root)) == [
        ("schema.invalid", "catalogue.yaml", 2),
        ("schema.invalid", R, 11),
        ("schema.unknown_key", "sites.yaml", 17),
    ]


def test_problems_are_sorted_by_file_and_line(seed_mistakes):
    root = seed_mistakes(
        (R, "{code: ECZEMA_DERMATITIS_ACTIVE_IN_AREA}", "{code: ECZEMA_IN_AREA}"),
        (R, ANTICOAG_SOURCES, "    sources: [R5, C9]\n"),
    )
    lines = [p.location.line for p in _errors(root)]
    assert lines == sorted(lines)


def test_format_is_file_line_col_severity_code_message(seed_mistakes):
    root = seed_mistakes((R, ANTICOAG_SOURCES, "    sources: [R5, C9]\n"))
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    text = info.value.format().replace(f"{root}/", "")
    assert text.splitlines() == [
        (
            "knowledge.yaml:2:1: warning release.unreviewed: knowledge release 0.1.0 has no "
            "reviewed_by/reviewed_on"
        ),
        "    hint: a clinician reviews each release and records their name and the date",
        "rules/rules.yaml:11:19: error rule.unknown_source: unknown source id 'C9'",
        "    hint: add it to sources.yaml or fix the id",
    ]


# --- bugs ------------------------------------------------------------------------------------


def test_a_broken_rule_does_not_cause_a_false_state_never_derived(seed_mistakes):
    root = seed_mistakes(
        (
            R,
            "{is_a: immunosuppressant, status: current}",
            "{is_a: immunosupressant, status: current}",
        ),
    )
    assert [p.code for p in _errors(root)] == ["rule.unknown_term"]


def test_unknown_field_with_several_operators_is_reported_once_at_the_field(seed_mistakes):
    root = seed_mistakes(
        (
            R,
            ANTICOAG_WHEN,
            "    when: [medication: {is_a: anticoagulant, days: {ge: 0, lt: 14}}]\n",
        ),
    )
    assert [_where(p, root) for p in _errors(root)] == [("rule.unknown_field", R, 12, 46)]


def test_bad_pattern_and_unknown_code_in_one_rule_are_both_reported(seed_mistakes):
    root = seed_mistakes(
        (R, ANTICOAG_WHEN, "    when: [medicine: {is_a: anticoagulant, status: current}]\n"),
        (R, "    then: {finding: ANTICOAG_ANTIPLATELET}\n", "    then: {finding: ANTICOAG}\n"),
    )
    assert [p.code for p in _errors(root)] == ["rule.unknown_kind", "rule.unknown_code"]


@pytest.mark.parametrize(
    "test",
    [
        pytest.param('{pregnant: "yes"}', id="text-on-boolean"),
        pytest.param('{age: "30"}', id="text-on-integer"),
        pytest.param("{pregnant: 1}", id="number-on-boolean"),
        pytest.param("{age: [true, false]}", id="booleans-on-integer"),
    ],
)
def test_a_value_of_the_wrong_type_is_reported(seed_mistakes, test: str):
    root = seed_mistakes(
        (R, "    when: [client: {pregnant: true}]\n", f"    when: [client: {test}]\n")
    )
    assert [_where(p, root)[1:3] for p in _errors(root)] == [(R, 6)]


@pytest.mark.parametrize("name", ["kind", "fid"])
def test_reserved_field_names_are_refused(seed_mistakes, name: str):
    root = seed_mistakes(
        (
            "vocabulary.yaml",
            "    site_field: site\n    fields:\n      name:\n",
            (
                f"    site_field: site\n    fields:\n      {name}:\n"
                "        type: text\n        optional: true\n      name:\n"
            ),
        ),
    )
    assert [_where(p, root)[1:3] for p in _errors(root)] == [("vocabulary.yaml", 98)]
