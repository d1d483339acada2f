"""The knowledge editors' commands end to end: check, test (with coverage), diff, rules.

The first test runs the shipped knowledge's case tests through ``needlewise test``, so that
``make test`` (which runs pytest) runs them the way an editor does.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from knowledge import DEFAULT_KNOWLEDGE
from tui.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI_CASES = FIXTURES / "lint" / "mini-cases"
R = "rules/rules.yaml"


def output(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err


@pytest.fixture
def kb(seed_mistakes):
    """A mini knowledge copy with case tests, after the given edits."""

    def make(*edits, name="mini"):
        root = seed_mistakes(*edits, name=name)
        shutil.copytree(MINI_CASES, root / "cases")
        return root

    return make


# --- the shipped knowledge ----------------------------------------------------------------------


def test_the_shipped_knowledge_passes_its_case_tests(capsys):
    code = main(["test"])
    out = output(capsys)
    assert code == 0, out
    assert re.search(r"\d+ case\(s\): \d+ passed, 0 failed, 0 unusable", out)


def test_the_shipped_knowledge_has_no_check_errors(capsys):
    code = main(["check", str(DEFAULT_KNOWLEDGE)])
    out = output(capsys)
    assert code == 0, out
    assert "0 errors" in out.splitlines()[-1]


def test_coverage_of_the_shipped_knowledge_is_reported(capsys, tmp_path):
    report = tmp_path / "coverage.md"
    assert main(["test", "--coverage-report", str(report)]) == 0
    out = output(capsys)
    assert re.search(r"rules: +\d+/\d+ fired \(\d+\.\d%\)", out)
    assert "# Coverage of" in report.read_text(encoding="utf-8")


# --- check --------------------------------------------------------------------------------------


def where(out: str, root: Path, code: str) -> tuple[str, int, int]:
    """(file relative to root, line, column) of the first problem with this code."""
    for line in out.splitlines():
        match = re.match(r"(.+?):(\d+):(\d+): (?:error|warning) (\S+):", line)
        if match and match.group(4) == code:
            file = Path(match.group(1)).resolve().relative_to(root.resolve()).as_posix()
            return file, int(match.group(2)), int(match.group(3))
    msg = f"{code} not reported:\n{out}"
    raise AssertionError(msg)


def test_check_reports_lint_problems_with_a_hint_and_a_summary(kb, capsys):
    root = kb(
        (R, "stopped_days_ago: {lt: 180}", "stopped_days_ago: {lt: 5, gt: 10}"),
    )
    assert main(["check", str(root)]) == 1
    out = output(capsys)
    assert where(out, root, "lint.never_fires") == (R, 18, 85)
    assert "    hint: remove the contradictory test" in out
    assert where(out, root, "lint.depth_gap")[0] == "depth.yaml"
    assert re.search(r"; 1 error, \d+ warnings$", out.splitlines()[-1])


def test_warnings_pass_unless_strict(kb, capsys):
    root = kb()
    assert main(["check", str(root)]) == 0
    assert "release.unreviewed" in output(capsys)
    assert main(["check", str(root), "--strict"]) == 1


SEEDED = [
    pytest.param(
        (R, "    sources: [R5, C1]\n", "    sources: []\n"),
        ("schema.invalid", R, 11, 14),
        id="rule-without-sources",
    ),
    pytest.param(
        (R, "    sources: [R5, C1]\n", "    sources: [K1]\n"),
        ("rule.consumer_only", R, 11, 14),
        id="consumer-only-sources",
    ),
    pytest.param(
        (R, "when: [state: {name: immunosuppressed}]", "when: [state: {name: immunosupressed}]"),
        ("rule.state_never_derived", R, 30, 26),
        id="state-used-never-derived",
    ),
    pytest.param(
        (
            "terminology/all.yaml",
            "  - {id: methotrexate, kind: medication, is_a: [immunosuppressant]}\n",
            (
                "  - {id: methotrexate, kind: medication, brands: [Eliquis], "
                "is_a: [immunosuppressant]}\n"
            ),
        ),
        ("term.ambiguous", "terminology/all.yaml", 9, 5),
        id="synonym-of-two-concepts",
    ),
    pytest.param(
        (
            R,
            "    when: [area: {}]\n    then: {finding: STANDARD_AFTERCARE}\n",
            "    when: ["
            + ", ".join(f"{{area: {{}}, as: a{i}}}" for i in range(17))
            + "]\n    then: {finding: STANDARD_AFTERCARE}\n",
        ),
        ("durable.too_many_patterns", R, 54, 5),
        id="engine-limit",
    ),
    pytest.param(
        (
            R,
            (
                "      - not: {finding: {code: ECZEMA_DERMATITIS_ACTIVE_IN_AREA}}\n"
                "    then: {finding: ECZEMA_OUTSIDE_AREA}\n"
            ),
            (
                "      - not: {finding: {code: ECZEMA_OUTSIDE_AREA}}\n"
                "    then: {finding: ECZEMA_OUTSIDE_AREA}\n"
            ),
        ),
        ("rule.negation_cycle", R, 40, 5),
        id="cycle-through-not",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), SEEDED)
def test_check_reports_load_and_compile_errors_located(kb, capsys, edit, expected):
    root = kb(edit)
    assert main(["check", str(root)]) == 1
    code, file, line, column = expected
    out = output(capsys)
    assert where(out, root, code) == (file, line, column)
    assert "error" in out.splitlines()[-1]


def test_check_of_a_missing_directory_is_an_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope")]) == 1
    assert "knowledge.not_found" in output(capsys)


# --- test ---------------------------------------------------------------------------------------


def test_passing_cases_and_keyword_selection(kb, capsys):
    root = kb()
    assert main(["test", str(root)]) == 0
    out = output(capsys)
    assert "PASS a-pregnant: pregnant client, cheeks only" in out
    assert "2 case(s): 2 passed, 0 failed, 0 unusable" in out
    assert main(["test", str(root), "-k", "ECZEMA"]) == 0
    out = output(capsys)
    assert "a-pregnant" not in out
    assert "1 case(s): 1 passed" in out
    assert main(["test", str(root), "-k", "nothing-like-this"]) == 2


def test_a_failure_shows_the_case_the_difference_and_the_explanations(kb, capsys):
    root = kb()
    path = root / "cases" / "a-pregnant.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "  findings: {PREGNANCY: absolute}\n",
        "  findings: {PREGNANCY: absolute, ANTICOAG_ANTIPLATELET: relative}\n"
        "  absent: [STANDARD_AFTERCARE]\n",
    )
    path.write_text(text, encoding="utf-8")
    assert main(["test", str(root)]) == 1
    out = output(capsys)
    assert "FAIL a-pregnant: pregnant client, cheeks only" in out
    assert f"    case file: {path}" in out
    assert "    expected: decision DEFER; findings PREGNANCY (absolute)" in out
    assert "    came out: decision DEFER; provisional false; findings PREGNANCY" in out
    assert "      - finding ANTICOAG_ANTIPLATELET: expected, not raised" in out
    assert "    WHY NOT ANTICOAG_ANTIPLATELET" in out
    assert "rule meds.anticoagulant" in out
    assert "    HOW finding STANDARD_AFTERCARE" in out
    assert "rule info.aftercare" in out
    assert "PASS b-eczema-cheeks" in out
    assert "2 case(s): 1 passed, 1 failed, 0 unusable" in out


def test_a_wrong_decision_or_depth_is_explained_by_how(kb, capsys):
    root = kb()
    path = root / "cases" / "a-pregnant.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("decision: DEFER", "decision: PROCEED").replace(
        "depth: {cheeks: within}", "depth: {cheeks: above_soft}"
    )
    path.write_text(text, encoding="utf-8")
    assert main(["test", str(root), "-k", "pregnant"]) == 1
    out = output(capsys)
    assert "    HOW decision" in out
    assert "    HOW depth cheeks" in out


def test_an_unusable_case_file_exits_2(kb, capsys):
    root = kb()
    (root / "cases" / "c-bad.yaml").write_text("note: x\ncase: {client: {age: 300}}\n")
    assert main(["test", str(root)]) == 2
    out = output(capsys)
    assert "ERROR c-bad: unusable case file" in out
    assert "c-bad.yaml:2:" in out


def test_unusable_knowledge_or_no_cases_exit_2(seed_mistakes, tmp_path, capsys):
    assert main(["test", str(tmp_path / "nope")]) == 2
    assert main(["test", str(seed_mistakes())]) == 2
    assert "no case tests" in output(capsys)


def test_coverage_summary_reports_and_threshold(kb, capsys, tmp_path):
    root = kb()
    assert main(["test", str(root), "--coverage"]) == 0
    out = output(capsys)
    assert "  rules:      6/14 fired (42.9%)" in out
    assert "  conditions: 6/22 seen true and false (27.3%)" in out
    assert "  codes:      3/11 raised and not raised (27.3%)" in out
    assert "rules no case made fire (8):" in out
    assert re.search(r"rules\.yaml:8:5: meds\.anticoagulant \(rule\)", out)
    assert "codes every case raised (1): STANDARD_AFTERCARE" in out
    md, html = tmp_path / "c.md", tmp_path / "c.html"
    assert main(["test", str(root), "--coverage-report", str(md)]) == 0
    assert "| NO | meds.anticoagulant | rule |" in md.read_text(encoding="utf-8")
    assert main(["test", str(root), "--coverage-report", str(html)]) == 0
    assert "<td>meds.anticoagulant</td>" in html.read_text(encoding="utf-8")
    assert main(["test", str(root), "--fail-under", "40"]) == 0
    capsys.readouterr()
    assert main(["test", str(root), "--fail-under", "50"]) == 1
    assert "FAIL rule coverage 42.9% is below --fail-under 50%" in output(capsys)
    assert main(["test", str(root), "--coverage-report", str(tmp_path / "c.txt")]) == 2


# --- diff ---------------------------------------------------------------------------------------


def test_diff_exits_0_when_nothing_changes(kb, capsys):
    old, new = kb(name="old"), kb(name="new")
    assert main(["diff", str(old), str(new)]) == 0
    out = output(capsys)
    assert "knowledge: no rule or code changed" in out
    assert "2 case(s): 0 changed, 2 unchanged, 0 invalid under both versions" in out


def test_diff_lists_changes_with_their_causes(kb, capsys):
    old = kb(name="old")
    new = kb(
        (R, "    when: [client: {pregnant: true}]\n", "    when: [client: {age: {gt: 99}}]\n"),
        name="new",
    )
    assert main(["diff", str(old), str(new)]) == 1
    out = output(capsys)
    assert "knowledge: rules changed: contra.pregnancy" in out
    assert re.search(r"CHANGED  .*a-pregnant\.yaml\n    decision: DEFER -> PROCEED\n", out)
    assert "    - PREGNANCY (was absolute)" in out
    assert (
        "        caused by: contra.pregnancy (fired only in the old version), "
        "contra.pregnancy (rule changed)"
    ) in out
    assert re.search(r"same     .*b-eczema-cheeks\.yaml", out)


def test_diff_cases_glob_and_unusable_input(kb, tmp_path, capsys):
    old, new = kb(name="old"), kb(name="new")
    pattern = str(new / "cases" / "b-*.yaml")
    assert main(["diff", str(old), str(new), "--cases", pattern]) == 0
    assert "1 case(s)" in output(capsys)
    assert main(["diff", str(old), str(new), "--cases", str(tmp_path / "none-*.yaml")]) == 2
    assert main(["diff", str(old), str(tmp_path / "nope")]) == 2
    (new / "cases" / "c-bad.yaml").write_text("client: {age: 300}\n", encoding="utf-8")
    assert main(["diff", str(old), str(new)]) == 2
    assert "invalid under both versions" in output(capsys)


# --- rules --------------------------------------------------------------------------------------


def test_rules_lists_every_rule_with_sources_and_location(seed_mistakes, capsys):
    root = seed_mistakes()
    assert main(["rules", str(root)]) == 0
    out = output(capsys)
    assert "meds.anticoagulant -> finding ANTICOAG_ANTIPLATELET (relative, refer)" in out
    assert "    source R5 [regulator] SkinPen labeling" in out
    assert re.search(r"    at .*rules\.yaml:8:5", out)
    assert "state.immunosuppressed -> state immunosuppressed" in out
    assert "depth.cheeks -> depth: soft 1.5 mm, hard 2 mm" in out
    assert "depth.eyelid -> depth: do not treat (EYELID_ORBITAL_RIM)" in out
    assert "care.standard -> aftercare (1 item(s))" in out
    assert out.splitlines()[-1] == "14 rule(s)"


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (["--code", "PREGNANCY"], ["contra.pregnancy"]),
        (["--code", "EYELID_ORBITAL_RIM"], ["depth.eyelid"]),
        (["--search", "ECZEMA"], ["contra.eczema.in_area", "caution.eczema.outside"]),
        (["--search", "consumer page"], []),
        (["--search", "C1"], ["meds.anticoagulant"]),
        (["--code", "ECZEMA_OUTSIDE_AREA", "--search", "elsewhere"], ["caution.eczema.outside"]),
    ],
)
def test_rules_filters_by_code_and_text(seed_mistakes, capsys, args, ids):
    assert main(["rules", str(seed_mistakes()), *args]) == 0
    out = output(capsys)
    listed = [line.split(" -> ")[0] for line in out.splitlines() if " -> " in line]
    assert listed == ids
    assert out.splitlines()[-1] == f"{len(ids)} rule(s)"


def test_rules_with_an_unknown_code_exits_2(seed_mistakes, capsys):
    assert main(["rules", str(seed_mistakes()), "--code", "NOPE"]) == 2
    assert "'NOPE' is not a catalogue code" in output(capsys)
