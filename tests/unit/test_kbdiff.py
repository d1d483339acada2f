"""The impact of a knowledge change (engine/kbdiff.py): two copies of the mini knowledge."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from engine import Assessor, compile_knowledge, load_knowledge
from engine.kbdiff import CaseDiff, KnowledgeDiff, default_cases, diff_knowledge, knowledge_delta

R = "rules/rules.yaml"
CASES = Path(__file__).resolve().parent.parent / "fixtures" / "lint" / "mini-cases"
TODAY = dt.date(2026, 11, 28)
BASE = """\
consultation_date: 2026-11-28
client:
  age: 30
  fitzpatrick: II
  pregnant: false
  breastfeeding: false
  keloid_history: false
  hsv_history: false
  active_acne: none
  conditions: []
  medications: {medications}
  allergies: []
  sun: {{sunburn_days_ago: null, tan_days_ago: null}}
  recent_procedures: []
  last_microneedling_days_ago: null
  pain_tolerance: normal
plan:
  indication: fine_lines
  device: automated_pen
  areas:
    - {{zone: cheeks, depth_mm: {depth}}}
  serums: [device-supplied hydrogel]
  anesthetic: LMX4
  sessions: 3
  interval_days: 28
"""


def case(path: Path, *, medications: str = "[]", depth: float = 1.0, extra: str = "") -> Path:
    path.write_text(BASE.format(medications=medications, depth=depth) + extra, encoding="utf-8")
    return path


@pytest.fixture
def versions(seed_mistakes) -> tuple[Path, Path]:
    old = seed_mistakes(name="old")
    new = seed_mistakes(
        # the isotretinoin window shrinks from 180 to 90 days
        (R, "stopped_days_ago: {lt: 180}", "stopped_days_ago: {lt: 90}"),
        # the cheek soft limit drops from 1.5 to 1.0 mm
        ("depth.yaml", "soft_mm: 1.5, hard_mm: 2.0", "soft_mm: 1.0, hard_mm: 2.0"),
        # a new code and a rule raising it for every planned area
        (
            "catalogue.yaml",
            "findings:\n",
            (
                "findings:\n  - {code: PATCH_TEST, level: caution, action: counsel, "
                "title: Patch test, description: d, advice: a}\n"
            ),
        ),
        (
            R,
            "rules:\n",
            (
                "rules:\n  - {id: caution.patch_test, title: Patch test, rationale: r, "
                "sources: [P1], when: [area: {}], then: {finding: PATCH_TEST}}\n"
            ),
        ),
        name="new",
    )
    return old, new


def run(old: Path, new: Path, paths: list[Path]) -> KnowledgeDiff:
    before = Assessor(compile_knowledge(load_knowledge(old)))
    after = Assessor(compile_knowledge(load_knowledge(new)))
    try:
        return diff_knowledge(before, after, paths, today=TODAY)
    finally:
        before.close()
        after.close()


def one(result: KnowledgeDiff, name: str) -> CaseDiff:
    return next(c for c in result.cases if Path(c.file).name == name)


def test_the_knowledge_delta_lists_rules_and_codes(versions):
    old, new = versions
    delta = knowledge_delta(load_knowledge(old), load_knowledge(new))
    assert delta.rules_added == ("caution.patch_test",)
    assert delta.rules_removed == ()
    assert set(delta.rules_changed) == {"meds.isotretinoin.recent", "depth.cheeks"}
    assert delta.codes_added == ("PATCH_TEST",)
    assert not delta.empty
    same = knowledge_delta(load_knowledge(old), load_knowledge(old))
    assert same.empty


def test_each_change_names_the_rules_that_caused_it(versions, tmp_path):
    old, new = versions
    iso = case(
        tmp_path / "iso.yaml",
        medications="[{name: Roaccutane, status: stopped, stopped_days_ago: 120}]",
        depth=1.2,
    )
    result = run(old, new, [iso])
    diff = one(result, "iso.yaml")
    assert diff.status == "changed"
    assert diff.decision == ("DEFER", "PROCEED_WITH_MODIFICATIONS")
    changes = {f.code: f for f in diff.findings}
    iso_change = changes["ISOTRETINOIN_WITHIN_6M"]
    assert (iso_change.before, iso_change.after) == ("relative", None)
    assert {(c.rule_id, c.kind) for c in iso_change.causes} == {
        ("meds.isotretinoin.recent", "fires_old"),
        ("meds.isotretinoin.recent", "changed"),
    }
    patch = changes["PATCH_TEST"]
    assert (patch.before, patch.after) == (None, "caution")
    assert [(c.rule_id, c.kind) for c in patch.causes] == [("caution.patch_test", "added")]
    soft = changes["DEPTH_ABOVE_SOFT_LIMIT"]
    assert soft.after == "caution"
    assert ("depth.cheeks", "changed") in {(c.rule_id, c.kind) for c in soft.causes}
    (depth,) = diff.depth
    assert (depth.zone, depth.before, depth.after) == ("cheeks", "within", "above_soft")
    assert depth.binding_after == ("depth.cheeks",)
    assert [(c.rule_id, c.kind) for c in depth.causes] == [("depth.cheeks", "changed")]
    assert result.changed


def test_an_unchanged_case_is_the_same(seed_mistakes, tmp_path):
    old = seed_mistakes(name="old")
    new = seed_mistakes((R, "    title: Pregnancy\n", "    title: Pregnant\n"), name="new")
    result = run(old, new, [case(tmp_path / "plain.yaml")])
    assert [c.status for c in result.cases] == ["same"]
    assert not result.changed
    assert result.knowledge.empty  # a title is text, not logic


def test_a_case_valid_under_one_version_only_is_reported(versions, tmp_path):
    old, new = versions
    cleared = case(
        tmp_path / "cleared.yaml",
        extra="clearances:\n  - {code: PATCH_TEST, by: Dr A, date: 2026-11-20}\n",
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("client: {age: 300}\n", encoding="utf-8")
    result = run(old, new, [cleared, broken])
    assert one(result, "cleared.yaml").status == "invalid_old"
    assert one(result, "cleared.yaml").problems[0].code == "case.unknown_code"
    assert one(result, "broken.yaml").status == "invalid_both"
    assert [Path(c.file).name for c in result.unusable] == ["broken.yaml"]


def test_case_tests_are_assessed_without_their_expectations(versions, tmp_path):
    old, new = versions
    test = tmp_path / "test.yaml"
    body = "\n".join("  " + line for line in BASE.format(medications="[]", depth=1.0).splitlines())
    test.write_text(f"note: n\ncase:\n{body}\nexpect:\n  findings: {{PATCH_TEST: caution}}\n")
    diff = one(run(old, new, [test]), "test.yaml")
    assert diff.status == "changed"  # valid under both: PATCH_TEST is only in the new catalogue
    assert [f.code for f in diff.findings] == ["PATCH_TEST"]


def test_default_cases_take_both_versions_once_by_file_name(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(CASES, old / "cases")
    (new / "cases").mkdir(parents=True)
    shutil.copy(CASES / "a-pregnant.yaml", new / "cases" / "a-pregnant.yaml")
    shutil.copy(CASES / "a-pregnant.yaml", new / "cases" / "c-new.yaml")
    assert default_cases(old, new) == [
        new / "cases" / "a-pregnant.yaml",
        old / "cases" / "b-eczema-cheeks.yaml",
        new / "cases" / "c-new.yaml",
    ]


def test_diff_reads_stored_consultations(tmp_path):
    """--db: stored consultations are assessed under both versions, erased ones skipped."""
    import shutil  # noqa: PLC0415

    from engine import Assessor, compile_knowledge, load_knowledge  # noqa: PLC0415
    from engine.case import case_from_data  # noqa: PLC0415
    from engine.kbdiff import diff_cases, stored_sources  # noqa: PLC0415
    from engine.records import RecordStore  # noqa: PLC0415
    from knowledge import DEFAULT_KNOWLEDGE  # noqa: PLC0415

    old_dir = tmp_path / "old"
    shutil.copytree(DEFAULT_KNOWLEDGE, old_dir)
    new_dir = tmp_path / "new"
    shutil.copytree(DEFAULT_KNOWLEDGE, new_dir)
    policy = new_dir / "policy.yaml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace(
            "{action: refer, decision: REFER_FOR_CLEARANCE}", "{action: refer, decision: DECLINE}"
        ),
        encoding="utf-8",
    )
    old = Assessor(compile_knowledge(load_knowledge(old_dir)))
    new = Assessor(compile_knowledge(load_knowledge(new_dir)))
    data = {
        "consultation_date": "2026-11-28",
        "client": {"medications": [{"name": "Eliquis", "status": "current"}]},
        "plan": {"areas": [{"zone": "cheeks", "depth_mm": 1.0}]},
    }
    with RecordStore(tmp_path / "r.sqlite3") as store:
        kept = store.add_client("A. Client")
        gone = store.add_client("B. Client")
        for client in (kept, gone):
            case = case_from_data(old.knowledge, data)
            store.save_consultation(
                client.id,
                case_data=data,
                assessment=old.assess(case),
                knowledge=old.knowledge,
                practitioner="J. Doe RN",
            )
        store.erase_client(gone.id, by="J. Doe RN", reason="erasure request")
        sources = stored_sources(store)
    assert len(sources) == 1
    result = diff_cases(old, new, sources)
    assert result.cases[0].decision == ("REFER_FOR_CLEARANCE", "DECLINE")
    old.close()
    new.close()
