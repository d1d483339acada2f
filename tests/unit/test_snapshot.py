"""engine/snapshot.py: knowledge text by hash, restore with verification, replay."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from engine import Assessor, compile_knowledge, load_case, load_knowledge
from engine.knowledge import Knowledge
from engine.snapshot import (
    SnapshotError,
    differences,
    knowledge_files,
    replay,
    restore,
    snapshot_hash,
    verified_files,
    write_files,
)
from knowledge import DEFAULT_KNOWLEDGE

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MINI = FIXTURES / "mini"
MINI_CASE = FIXTURES / "cases" / "mini-complete.yaml"


def test_knowledge_files_are_every_yaml_by_relative_posix_path_sorted(tmp_path: Path):
    root = tmp_path / "k"
    shutil.copytree(MINI, root)
    (root / "README.txt").write_text("not knowledge", encoding="utf-8")
    files = knowledge_files(root)
    assert list(files) == sorted(files)
    assert "rules/rules.yaml" in files
    assert "terminology/all.yaml" in files
    assert "README.txt" not in files
    assert all(name.endswith(".yaml") for name in files)
    expected = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.yaml"))
    assert list(files) == expected


def test_knowledge_files_keep_exact_bytes(tmp_path: Path):
    root = tmp_path / "k"
    shutil.copytree(MINI, root)
    crlf = b"# windows line endings\r\nrules: []\r\n"
    (root / "rules" / "zz.yaml").write_bytes(crlf)
    files = knowledge_files(root)
    assert files["rules/zz.yaml"].encode("utf-8") == crlf
    out = write_files(files, tmp_path / "copy")
    assert (out / "rules" / "zz.yaml").read_bytes() == crlf


def test_snapshot_hash_is_stable_and_sensitive():
    files = {"a.yaml": "x: 1\n", "b/c.yaml": "y: 2\n"}
    assert snapshot_hash(files) == snapshot_hash(dict(reversed(files.items())))
    assert snapshot_hash(files) != snapshot_hash({**files, "a.yaml": "x: 2\n"})
    assert len(snapshot_hash(files)) == 64


@pytest.mark.parametrize("source", [MINI, DEFAULT_KNOWLEDGE], ids=["mini", "bundled"])
def test_restored_snapshot_loads_to_the_same_knowledge_hash(source: Path, tmp_path: Path):
    original = load_knowledge(source)
    files = knowledge_files(source)
    restored = restore(files, tmp_path, expected_hash=original.hash, name=original.name)
    assert restored.hash == original.hash
    assert restored.root.parent == tmp_path
    assert restored.root.name == f"{original.name}-{original.hash[:12]}"
    assert load_knowledge(restored.root).hash == original.hash


def test_restore_refuses_a_snapshot_that_does_not_give_the_expected_hash(tmp_path: Path):
    original = load_knowledge(MINI)
    files = knowledge_files(MINI)
    files["rules/rules.yaml"] = files["rules/rules.yaml"].replace(
        "rationale: Bleeding.", "rationale: Bleeding risk."
    )
    with pytest.raises(SnapshotError, match="does not reproduce"):
        restore(files, tmp_path, expected_hash=original.hash)


@pytest.mark.parametrize(
    "bad", ["../evil.yaml", "/etc/evil.yaml", "rules/../../x.yaml", "a\\b.yaml", "x.py", ""]
)
def test_restore_refuses_paths_that_escape(bad: str, tmp_path: Path):
    with pytest.raises(SnapshotError, match="unsafe path"):
        write_files({bad: "x: 1\n"}, tmp_path / "root")
    assert not (tmp_path / "evil.yaml").exists()


def test_restore_reuses_identical_content_and_refuses_other(tmp_path: Path):
    files = knowledge_files(MINI)
    first = write_files(files, tmp_path / "root")
    assert write_files(files, tmp_path / "root") == first
    other = {**files, "rules/extra.yaml": "rules: []\n"}
    with pytest.raises(SnapshotError, match="exists with other content"):
        write_files(other, tmp_path / "root")


def test_verified_files_refuse_a_knowledge_edited_since_it_was_loaded(tmp_path: Path):
    root = tmp_path / "k"
    shutil.copytree(MINI, root)
    knowledge = load_knowledge(root)
    assert verified_files(knowledge) == knowledge_files(root)
    rules = root / "rules" / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("title: Anticoagulant\n", "title: Blood\n"),
        encoding="utf-8",
    )
    with pytest.raises(SnapshotError, match="no longer match the loaded knowledge"):
        verified_files(knowledge)


def test_a_missing_directory_is_a_snapshot_error(tmp_path: Path):
    with pytest.raises(SnapshotError, match="not found"):
        knowledge_files(tmp_path / "nowhere")


def test_replay_reproduces_the_assessment(mini_knowledge: Knowledge):
    assessor = Assessor(compile_knowledge(mini_knowledge))
    case = load_case(mini_knowledge, MINI_CASE)
    original = assessor.assess(case)
    assessor.close()
    again = replay(mini_knowledge, case.raw, case.consultation_date)
    assert again.assessment.decision == original.decision
    assert differences(original.to_json(), again.assessment.to_json()) == ()


def test_replay_uses_the_stored_date_when_the_case_has_none(mini_knowledge: Knowledge):
    case = load_case(mini_knowledge, MINI_CASE)
    raw = {k: v for k, v in case.raw.items() if k != "consultation_date"}
    trace = replay(mini_knowledge, raw, dt.date(2025, 1, 2))
    assert trace.assessment.consultation_date == dt.date(2025, 1, 2)


def test_differences_name_the_parts_that_changed_and_ignore_the_engine():
    stored = {"decision": "DEFER", "engine": "a", "findings": [{"code": "X"}]}
    assert differences(stored, {**stored, "engine": "b"}) == ()
    changed = {**stored, "decision": "PROCEED", "findings": []}
    assert differences(stored, changed) == ("decision", "findings")
