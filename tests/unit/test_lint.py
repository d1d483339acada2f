"""The knowledge linter (engine/lint.py): one seeded mistake of each kind, located exactly.

Each test edits a copy of tests/fixtures/mini (conftest ``seed_mistakes``) and checks the code,
the file, the line and the column of what ``check`` reports.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import Problem
from engine.knowledge import load_knowledge
from engine.lint import LINT_CODES, SILENCEABLE, lint_knowledge

R = "rules/rules.yaml"
C = "catalogue.yaml"
D = "depth.yaml"
PREGNANCY_WHEN = "    when: [client: {pregnant: true}]\n"
PREGNANCY_SOURCES = "    rationale: Postpone as a precaution.\n    sources: [SEED, R5]\n"
ANTICOAG = "[medication: {is_a: anticoagulant, status: current}]"
ISO_DAYS = "stopped_days_ago: {lt: 180}"
NO_GAPS = (
    D,
    "adjustments:\n",
    (
        "  - {id: depth.rest, title: Rest, zones: [face, body], no_sourced_limit: true, "
        "rationale: r, sources: [R5]}\nadjustments:\n"
    ),
)
"""A row for every zone and indication, so that the mini table has no gaps."""


def rule(rule_id: str, when: str, then: str, *, sources: str = "[R5]", extra: str = "") -> str:
    """A rule appended to the mini rules file."""
    return (
        f"  - id: {rule_id}\n    title: {rule_id}\n    rationale: r\n    sources: {sources}\n"
        f"    when: {when}\n    then: {then}\n{extra}"
    )


def append(text: str) -> tuple[str, str, str]:
    """An edit that appends rules after the last mini rule."""
    last = "    then: {finding: STANDARD_AFTERCARE}\n"
    return (R, last, last + text)


def lint(root: Path, *codes: str) -> list[Problem]:
    problems = lint_knowledge(load_knowledge(root))
    return [p for p in problems if not codes or p.code in codes]


def where(problem: Problem, root: Path) -> tuple[str, str, int, int]:
    file = Path(problem.location.file).resolve().relative_to(root.resolve()).as_posix()
    return problem.code, file, problem.location.line, problem.location.column


def pos(root: Path, rel: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based line and column of the ``nth`` occurrence of ``needle`` in a file."""
    seen = 0
    for number, line in enumerate((root / rel).read_text(encoding="utf-8").splitlines(), 1):
        start = line.find(needle)
        while start >= 0:
            if seen == nth:
                return number, start + 1
            seen += 1
            start = line.find(needle, start + 1)
    raise AssertionError(needle)


def only(root: Path, code: str) -> Problem:
    found = lint(root, code)
    assert len(found) == 1, "\n".join(p.format() for p in lint(root))
    return found[0]


def test_every_code_has_a_severity_and_the_silenceable_ones_are_warnings():
    for code, (severity, meaning) in LINT_CODES.items():
        assert code.startswith("lint.")
        assert severity in {"error", "warning"}
        assert meaning
    assert {c for c in SILENCEABLE if c in LINT_CODES} <= {
        c for c, (s, _) in LINT_CODES.items() if s == "warning"
    }


def test_the_mini_knowledge_with_a_full_depth_table_is_clean(seed_mistakes):
    root = seed_mistakes(NO_GAPS)
    assert [p.code for p in lint(root)] == ["release.unreviewed"]


# --- rules that can never fire ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "needle", "fragment"),
    [
        (ISO_DAYS, "stopped_days_ago: {lt: 5, gt: 10}", "{lt: 5", "{lt: 5, gt: 10} can never hold"),
        (ISO_DAYS, "stopped_days_ago: {gt: 3, lt: 4}", "{gt: 3", "{gt: 3, lt: 4} can never hold"),
        (
            PREGNANCY_WHEN,
            "    when: [client: {pregnant: true, age: {gt: 110}}]\n",
            "{gt: 110}",
            "answers lie between 10 and 110",
        ),
        (
            ANTICOAG,
            "[medication: {is_a: anticoagulant, status: {eq: current, ne: current}}]",
            "{eq: current",
            "medication.status",
        ),
        (
            ANTICOAG,
            "[medication: {is_a: anticoagulant, status: {not_in: [current, stopped]}}]",
            "{not_in",
            "not_in: ['current', 'stopped']",
        ),
        (
            PREGNANCY_WHEN,
            "    when: [client: {pregnant: {known: false, eq: true}}]\n",
            "{known: false",
            "client.pregnant",
        ),
        (
            PREGNANCY_WHEN,
            "    when: [client: {pregnant: true}, {client: {age: {gt: 20}}, as: other}]\n",
            "{age: {gt: 20}}",
            "patterns 'client' and 'other' must match two different ones",
        ),
        (
            "    when: [state: {name: immunosuppressed}]\n",
            (
                "    when: [state: {name: immunosuppressed}, "
                "finding: {code: DEPTH_EXCEEDS_AREA_MAX}]\n"
            ),
            "DEPTH_EXCEEDS_AREA_MAX",
            "no rule raises DEPTH_EXCEEDS_AREA_MAX",
        ),
    ],
    ids=[
        "interval",
        "no-integer",
        "vocabulary-range",
        "eq-ne",
        "enum-exhausted",
        "known-false-with-value",
        "two-client-facts",
        "finding-raised-after-the-run",
    ],
)
def test_a_rule_that_can_never_fire_is_an_error(seed_mistakes, old, new, needle, fragment):
    root = seed_mistakes(NO_GAPS, (R, old, new))
    problem = only(root, "lint.never_fires")
    assert problem.severity == "error"
    assert where(problem, root) == ("lint.never_fires", R, *pos(root, R, needle))
    assert fragment in problem.message
    assert problem.hint


def test_possible_conditions_are_not_reported(seed_mistakes):
    root = seed_mistakes(
        NO_GAPS,
        (R, ISO_DAYS, "stopped_days_ago: {gt: 3, lt: 5, ne: 7}"),
        (R, PREGNANCY_WHEN, "    when: [client: {pregnant: true, age: {ge: 110}}]\n"),
        (R, ANTICOAG, "[medication: {is_a: anticoagulant, status: {in: [current], ne: stopped}}]"),
    )
    assert lint(root, "lint.never_fires") == []


@pytest.mark.parametrize(
    ("new", "needle"),
    [
        ("      - not: {finding: {code: EYELID_ORBITAL_RIM}}\n", "EYELID_ORBITAL_RIM"),
        ("      - not: {condition: {status: {in: [active], ne: active}}}\n", "{in: [active]"),
    ],
    ids=["finding-never-a-fact", "contradiction"],
)
def test_an_absence_test_that_always_holds_is_a_warning(seed_mistakes, new, needle):
    old = "      - not: {finding: {code: ECZEMA_DERMATITIS_ACTIVE_IN_AREA}}\n"
    root = seed_mistakes(NO_GAPS, (R, old, new))
    problem = only(root, "lint.absence_always_holds")
    assert problem.severity == "warning"
    assert where(problem, root) == ("lint.absence_always_holds", R, *pos(root, R, needle))
    assert "caution.eczema.outside" in problem.message


# --- chaining -----------------------------------------------------------------------------------


def test_a_state_derived_but_never_used_is_a_warning(seed_mistakes):
    root = seed_mistakes(
        NO_GAPS, append(rule("state.lonely", "[client: {age: {lt: 25}}]", "{state: lonely}"))
    )
    problem = only(root, "lint.state_unused")
    assert where(problem, root) == ("lint.state_unused", R, *pos(root, R, "lonely}"))
    assert "state 'lonely' is derived by rule 'state.lonely'" in problem.message


def test_a_state_used_without_a_name_test_counts_as_using_every_state(seed_mistakes):
    root = seed_mistakes(
        NO_GAPS,
        append(
            rule("state.lonely", "[client: {age: {lt: 25}}]", "{state: lonely}")
            + rule("info.any_state", "[state: {}]", "{finding: STANDARD_AFTERCARE}")
        ),
    )
    assert lint(root, "lint.state_unused") == []


def test_a_chaining_cycle_is_a_warning_at_its_first_rule(seed_mistakes):
    root = seed_mistakes(
        NO_GAPS,
        append(
            rule("state.a.entry", "[client: {pregnant: true}]", "{state: a}")
            + rule("state.b.from_a", "[state: {name: a}]", "{state: b}")
            + rule("state.a.from_b", "[state: {name: b}]", "{state: a}")
            + rule("info.b", "[state: {name: b}]", "{finding: STANDARD_AFTERCARE}")
        ),
    )
    problem = only(root, "lint.cycle")
    assert where(problem, root) == ("lint.cycle", R, *pos(root, R, "id: state.b.from_a"))
    assert "state a -> state b -> state a" in problem.message
    assert "state.a.from_b" in problem.message
    assert "state.a.entry" not in problem.message


def test_any_rule_of_a_cycle_may_silence_it(seed_mistakes):
    silence = "    silence: [{warning: lint.cycle, reason: reviewed and the loop is intended}]\n"
    root = seed_mistakes(
        NO_GAPS,
        append(
            rule("state.b.from_a", "[state: {name: a}]", "{state: b}")
            + rule("state.a.from_b", "[state: {name: b}]", "{state: a}", extra=silence)
        ),
    )
    assert lint(root, "lint.cycle", "lint.unused_silence") == []


# --- redundant rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "broad"),
    [
        ("[client: {pregnant: true, age: {ge: 18}}]", "contra.pregnancy"),
        ("[client: {pregnant: true}]", "contra.pregnancy"),
        ("[client: {pregnant: {eq: true, known: true}}]", "contra.pregnancy"),
    ],
    ids=["narrower", "identical", "equivalent-tests"],
)
def test_a_rule_implied_by_another_with_the_same_code_is_redundant(seed_mistakes, when, broad):
    root = seed_mistakes(
        NO_GAPS, append(rule("contra.pregnancy.again", when, "{finding: PREGNANCY}"))
    )
    problem = only(root, "lint.redundant_rule")
    assert where(problem, root) == (
        "lint.redundant_rule",
        R,
        *pos(root, R, "id: contra.pregnancy.again"),
    )
    assert f"rule '{broad}'" in problem.message


def test_redundancy_follows_classes_intervals_and_joins(seed_mistakes):
    root = seed_mistakes(
        NO_GAPS,
        append(
            rule(
                "meds.apixaban",
                "[medication: {is_a: apixaban, status: current, prescribed: true}]",
                "{finding: ANTICOAG_ANTIPLATELET}",
            )
            + rule(
                "meds.isotretinoin.very_recent",
                "[medication: {is_a: isotretinoin, status: stopped, stopped_days_ago: {le: 30}}]",
                "{finding: ISOTRETINOIN_WITHIN_6M, "
                "wait: {days: 180, since: medication.stopped_days_ago}}",
            )
            + rule(
                "contra.eczema.in_area.atopic",
                "[{condition: {is_a: atopic_dermatitis, status: active, relation: in}, as: c}, "
                "area: {zone: {same_as: c.zone}, depth_mm: {gt: 1}}]",
                "{finding: ECZEMA_DERMATITIS_ACTIVE_IN_AREA, zone: area.zone}",
            )
        ),
    )
    found = {p.message.split("'")[1] for p in lint(root, "lint.redundant_rule")}
    assert found == {
        "meds.apixaban",
        "meds.isotretinoin.very_recent",
        "contra.eczema.in_area.atopic",
    }


@pytest.mark.parametrize(
    ("when", "then"),
    [
        ("[client: {age: {ge: 18}}]", "{finding: PREGNANCY}"),
        ("[client: {pregnant: true}]", "{finding: PREGNANCY, advice: Refer to the midwife.}"),
        ("[client: {pregnant: [true, false]}]", "{finding: PREGNANCY}"),
    ],
    ids=["other-field", "other-advice", "broader"],
)
def test_rules_that_add_something_are_not_redundant(seed_mistakes, when, then):
    root = seed_mistakes(NO_GAPS, append(rule("contra.pregnancy.other", when, then)))
    found = lint(root, "lint.redundant_rule")
    assert all("'contra.pregnancy.other' is redundant" not in p.message for p in found)


def test_a_zoned_and_a_whole_treatment_finding_are_not_redundant(seed_mistakes):
    root = seed_mistakes(
        NO_GAPS,
        append(
            rule(
                "contra.eczema.whole",
                "[condition: {is_a: eczema_dermatitis, status: active, relation: in}, "
                "area: {zone: {same_as: condition.zone}}]",
                "{finding: ECZEMA_DERMATITIS_ACTIVE_IN_AREA}",
            )
        ),
    )
    assert lint(root, "lint.redundant_rule") == []


# --- sources, catalogue, depth table ------------------------------------------------------------


def test_an_absolute_finding_on_clinic_and_consumer_sources_is_a_warning(seed_mistakes):
    root = seed_mistakes(NO_GAPS, (R, PREGNANCY_SOURCES, PREGNANCY_SOURCES.replace("R5", "K1")))
    problem = only(root, "lint.weak_absolute")
    assert where(problem, root) == ("lint.weak_absolute", R, *pos(root, R, "[SEED, K1]"))
    assert "absolute finding PREGNANCY" in problem.message
    assert "K1 [consumer]" in problem.message


def test_the_absolute_warning_replaces_the_generic_weak_source_warning(seed_mistakes):
    root = seed_mistakes(NO_GAPS, (R, PREGNANCY_SOURCES, PREGNANCY_SOURCES.replace("R5", "C1")))
    codes = [p.code for p in lint(root)]
    assert "lint.weak_absolute" in codes
    assert "rule.weak_sources" not in codes


def test_silencing_the_absolute_warning_leaves_the_generic_one(seed_mistakes):
    silenced = PREGNANCY_SOURCES.replace("R5", "C1") + (
        "    silence: [{warning: lint.weak_absolute, reason: precaution agreed by the panel}]\n"
    )
    root = seed_mistakes(NO_GAPS, (R, PREGNANCY_SOURCES, silenced))
    assert [p.code for p in lint(root) if p.code != "release.unreviewed"] == ["rule.weak_sources"]


def test_a_catalogue_code_no_rule_raises_is_a_warning(seed_mistakes):
    code = (
        "  - {code: BREASTFEEDING, level: absolute, action: defer, title: Breastfeeding, "
        "description: d, advice: a}\n"
    )
    first = "findings:\n"
    root = seed_mistakes(NO_GAPS, (C, first, first + code))
    problem = only(root, "lint.code_never_raised")
    assert where(problem, root) == ("lint.code_never_raised", C, *pos(root, C, "BREASTFEEDING"))


def test_depth_table_gaps_name_the_zone_and_the_indications(seed_mistakes):
    partial = (
        D,
        "adjustments:\n",
        (
            "  - {id: depth.rest, title: Rest, zones: [face, body], "
            "indications: [fine_lines, striae], no_sourced_limit: true, rationale: r, "
            "sources: [R5]}\nadjustments:\n"
        ),
    )
    root = seed_mistakes(partial)
    gaps = lint(root, "lint.depth_gap")
    assert {where(p, root) for p in gaps} == {("lint.depth_gap", D, 3, 3)}
    forehead = next(p for p in gaps if "zone 'forehead'" in p.message)
    assert "indication texture_pores, acne_scars_atrophic" in forehead.message
    assert "fine_lines" not in forehead.message
    assert not any("zone 'cheeks'" in p.message for p in gaps)  # a row without indications


def test_a_zone_without_any_row_is_a_gap_for_any_indication(seed_mistakes):
    root = seed_mistakes()
    gaps = lint(root, "lint.depth_gap")
    assert any("zone 'forehead' with any indication" in p.message for p in gaps)
    assert not any("zone 'eyelid'" in p.message for p in gaps)  # do_not_treat covers it


# --- silences -----------------------------------------------------------------------------------


def test_a_silence_that_silences_nothing_is_a_warning(seed_mistakes):
    silence = (
        "    sources: [R5, C1]\n"
        "    silence:\n"
        "      - {warning: rule.weak_sources, reason: reviewed by the clinic lead}\n"
        "      - {warning: lint.bogus, reason: reviewed by the clinic lead}\n"
    )
    root = seed_mistakes(NO_GAPS, (R, "    sources: [R5, C1]\n", silence))
    found = lint(root, "lint.unused_silence")
    assert [where(p, root) for p in found] == [
        ("lint.unused_silence", R, *pos(root, R, "{warning: rule.weak_sources")),
        ("lint.unused_silence", R, *pos(root, R, "{warning: lint.bogus")),
    ]
    assert "no such warning" in found[0].message
    assert "not a warning a rule can silence" in found[1].message
    assert "lint.state_unused" in found[1].hint


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("lint.state_unused", rule("state.lonely", "[client: {age: {lt: 25}}]", "{state: lonely}")),
        (
            "lint.redundant_rule",
            rule("contra.pregnancy.again", "[client: {pregnant: true}]", "{finding: PREGNANCY}"),
        ),
    ],
)
def test_rule_warnings_can_be_silenced_with_a_reason(seed_mistakes, code, text):
    silence = f"    silence: [{{warning: {code}, reason: reviewed and accepted by the lead}}]\n"
    root = seed_mistakes(NO_GAPS, append(text + silence))
    assert lint(root, code, "lint.unused_silence") == []


def test_a_weak_source_silence_on_seed_and_consumer_sources_is_used(seed_mistakes):
    silenced = (
        "    sources: [SEED, K1]\n"
        "    silence: [{warning: rule.weak_sources, reason: reviewed by the clinic lead}]\n"
    )
    root = seed_mistakes(NO_GAPS, (R, "    sources: [R5, C1]\n", silenced))
    assert [p.code for p in lint(root)] == ["release.unreviewed"]
