"""`needlewise records ...` end to end, with a temporary database and the mini knowledge."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import stat
from pathlib import Path

import pytest

from engine.records import RecordStore
from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
CASE = ROOT / "tests" / "fixtures" / "cases" / "mini-complete.yaml"
NAME = "Zoë Example"

Capture = pytest.CaptureFixture[str]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "records.sqlite3"


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A private copy of the mini knowledge (tests may change it after saving)."""
    root = tmp_path / "knowledge"
    shutil.copytree(MINI, root)
    return root


def run(capsys: Capture, *args: str) -> tuple[int, str, str]:
    code = main(["records", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def saved(db: Path, knowledge: Path, capsys: Capture) -> Path:
    """A database with client #1 and consultation #1."""
    code, out, _ = run(capsys, "add-client", NAME, "--dob", "1980-02-03", "--reference", "R-7",
                       "--db", str(db), "--by", "reception")  # fmt: skip
    assert (code, out) == (0, "added client #1\n")
    code, out, _ = run(capsys, "save", "1", str(CASE), "--practitioner", "J. Doe RN",
                       "--knowledge", str(knowledge), "--db", str(db))  # fmt: skip
    assert code == 0
    assert out == "saved consultation #1 for client #1: DEFER (provisional)\n"
    return db


def test_list_and_show(saved: Path, capsys: Capture):
    code, out, _ = run(capsys, "list", "--db", str(saved))
    assert code == 0
    assert out.splitlines()[0].split() == ["id", "name", "reference", "born", "consultations",
                                           "last", "saved"]  # fmt: skip
    assert "#1  Zoë Example  R-7" in out
    assert run(capsys, "list", "--db", str(saved), "--search", "ZOE")[1] == out
    assert run(capsys, "list", "--db", str(saved), "--search", "nobody")[1] == "no clients found\n"
    code, out, _ = run(capsys, "list", "--db", str(saved), "--format", "json")
    assert [c["name"] for c in json.loads(out)] == [NAME]
    code, out, _ = run(capsys, "show", "1", "--db", str(saved))
    assert code == 0
    assert out.startswith("client #1: Zoë Example\n  reference: R-7; born: 1980-02-03\n")
    assert "DEFER (provisional)" in out
    assert "microneedling 0.1.0" in out
    code, out, _ = run(capsys, "show", "1", "--db", str(saved), "--format", "json")
    data = json.loads(out)
    assert data["consultations"][0]["decision"] == "DEFER"
    assert "case" not in data["consultations"][0]


def test_the_database_path_comes_from_the_environment(
    saved: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("NEEDLEWISE_DB", str(saved))
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert NAME in out


def test_consultation_as_text_and_json(saved: Path, capsys: Capture):
    code, out, _ = run(capsys, "consultation", "1", "--db", str(saved))
    assert code == 0
    assert out.startswith("consultation #1 of client #1 (Zoë Example)\n")
    assert "# Consultation summary: Zoë Example" in out
    assert "`meds.anticoagulant` Anticoagulant" in out  # titles from the stored knowledge
    code, out, _ = run(capsys, "consultation", "1", "--db", str(saved), "--format", "json")
    data = json.loads(out)
    assert data["case"]["plan"]["areas"][0]["zone"] == "cheeks"
    assert data["assessment"]["contract"] == "assessment/v1"
    assert data["knowledge"]["name"] == "microneedling"
    assert data["corrected_by"] == []


def test_a_correction_is_saved_as_a_new_consultation(saved: Path, knowledge: Path, capsys: Capture):
    code, out, _ = run(capsys, "save", "1", str(CASE), "--practitioner", "J. Doe RN",
                       "--knowledge", str(knowledge), "--db", str(saved), "--corrects", "1",
                       "--note", "depth typo")  # fmt: skip
    assert (code, out) == (0, "saved consultation #2 for client #1: DEFER (provisional)\n")
    out = run(capsys, "consultation", "1", "--db", str(saved))[1]
    assert "corrected by: #2" in out
    out = run(capsys, "consultation", "2", "--db", str(saved))[1]
    assert "corrects consultation #1" in out
    assert "note: depth typo" in out


def test_export_writes_a_private_json_file(saved: Path, tmp_path: Path, capsys: Capture):
    out_file = tmp_path / "export.json"
    out_file.write_text("old", encoding="utf-8")
    out_file.chmod(0o644)
    code, out, err = run(capsys, "export", "1", "--db", str(saved), "--out", str(out_file))
    assert (code, out) == (0, "")
    assert "mode 0600" in err
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    data = json.loads(out_file.read_text(encoding="utf-8"))
    assert data["format"] == "needlewise-client-export/v1"
    assert data["client"]["name"] == NAME
    assert len(data["consultations"]) == 1
    fresh = tmp_path / "fresh.json"
    assert run(capsys, "export", "1", "--db", str(saved), "--out", str(fresh))[0] == 0
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    code, out, _ = run(capsys, "export", "1", "--db", str(saved), "--by", "DPO")
    assert json.loads(out)["audit"][-1] == json.loads(out)["audit"][-1] | {"actor": "DPO"}


@pytest.mark.parametrize(
    ("kind", "fmt", "expected"),
    [
        ("summary", "md", "# Consultation summary: Zoë Example"),
        ("summary", "html", "<h1>Consultation summary: Zoë Example</h1>"),
        ("handout", "md", "# Your microneedling treatment"),
        ("handout", "html", "Your practitioner&#x27;s advice comes first."),
    ],
)
def test_reports(kind: str, fmt: str, expected: str, saved: Path, tmp_path: Path, capsys: Capture):
    out_file = tmp_path / f"report.{fmt}"
    code, out, _ = run(capsys, "report", "1", "--kind", kind, "--format", fmt, "--db", str(saved),
                       "--out", str(out_file))  # fmt: skip
    assert (code, out) == (0, "")
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    text = out_file.read_text(encoding="utf-8")
    assert expected in text
    assert "microneedling 0.1.0 (hash " in text
    if fmt == "html":
        assert text.startswith("<!DOCTYPE html>")
        assert "@media print" in text
    code, out, _ = run(capsys, "report", "1", "--kind", kind, "--format", fmt, "--db", str(saved))
    assert out.rstrip("\n") == text.rstrip("\n")


def test_explain_re_assesses_with_the_stored_knowledge(
    saved: Path, knowledge: Path, capsys: Capture
):
    policy = knowledge / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert text.count("{action: defer, decision: DEFER}") == 1
    policy.write_text(
        text.replace("{action: defer, decision: DEFER}", "{action: defer, decision: DECLINE}"),
        encoding="utf-8",
    )
    assert main(["assess", str(CASE), "--knowledge", str(knowledge), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["decision"] == "DECLINE"  # the knowledge moved on

    code, out, _ = run(capsys, "explain", "1", "--db", str(saved))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("consultation #1 re-assessed with its own knowledge microneedling")
    assert lines[1] == "decision reproduced: DEFER (provisional)"
    assert "HOW decision" in out
    code, out, _ = run(capsys, "explain", "1", "--db", str(saved), "--finding",
                       "ANTICOAG_ANTIPLATELET")  # fmt: skip
    assert code == 0
    assert "rule meds.anticoagulant: Anticoagulant" in out
    assert "'Eliquis 5 mg' -> apixaban" in out
    code, out, _ = run(capsys, "explain", "1", "--db", str(saved), "--format", "json")
    data = json.loads(out)
    assert (data["reproduced"], data["differences"]) == (True, [])
    assert data["stored_decision"] == data["replayed_decision"] == "DEFER"
    code, out, _ = run(capsys, "explain", "1", "--db", str(saved), "--why-not", "PREGNANCY")
    assert code == 0
    code, _, err = run(capsys, "explain", "1", "--db", str(saved), "--finding", "PREGNANCY")
    assert code == 2
    assert "PREGNANCY was not raised" in err


def test_explain_exits_1_when_the_decision_is_not_reproduced(
    saved: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
):
    real = RecordStore.reassess

    def drifted(self: RecordStore, consultation_id: int, directory: Path):
        result = real(self, consultation_id, directory)
        stored = dataclasses.replace(result.consultation, decision="PROCEED")
        return dataclasses.replace(result, consultation=stored, differences=("decision",))

    monkeypatch.setattr(RecordStore, "reassess", drifted)
    code, out, _ = run(capsys, "explain", "1", "--db", str(saved))
    assert code == 1
    assert (
        "DECISION NOT REPRODUCED: stored PROCEED (provisional), re-assessed DEFER (provisional)"
        in out
    )
    assert "differs from the stored assessment in: decision" in out


def test_erase_with_yes(saved: Path, capsys: Capture):
    code, out, _ = run(capsys, "erase", "1", "--by", "DPO", "--reason", "client request",
                       "--yes", "--db", str(saved))  # fmt: skip
    assert code == 0
    assert out.startswith("erased client #1: identity and 1 consultation(s) blanked")
    assert run(capsys, "list", "--db", str(saved))[1] == "no clients found\n"
    out = run(capsys, "list", "--db", str(saved), "--include-erased")[1]
    assert "(erased client #1)" in out
    out = run(capsys, "show", "1", "--db", str(saved))[1]
    assert "erased " in out
    assert "by DPO: client request" in out
    assert "ERASED" in out
    out = run(capsys, "consultation", "1", "--db", str(saved))[1]
    assert "content erased" in out
    code, _, err = run(capsys, "report", "1", "--db", str(saved))
    assert code == 2
    assert "nothing to report" in err
    code, _, err = run(capsys, "erase", "1", "--by", "DPO", "--reason", "again", "--yes",
                       "--db", str(saved))  # fmt: skip
    assert code == 2
    assert "already erased" in err
    assert NAME.encode() not in saved.read_bytes()
    out = run(capsys, "audit", "--db", str(saved), "--client", "1")[1]
    assert "client.erased" in out
    assert NAME not in out


def test_erase_asks_for_confirmation(saved: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch):
    args = ("erase", "1", "--by", "DPO", "--reason", "request", "--db", str(saved))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, *args)
    assert code == 2
    assert "refusing to erase without --yes" in err

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("2\n"))
    code, _, err = run(capsys, *args)
    assert code == 2
    assert "not erased" in err
    assert NAME in run(capsys, "list", "--db", str(saved))[1]
    monkeypatch.setattr("sys.stdin", Terminal("1\n"))
    assert run(capsys, *args)[0] == 0
    assert run(capsys, "list", "--db", str(saved))[1] == "no clients found\n"


def test_audit(saved: Path, capsys: Capture):
    code, out, _ = run(capsys, "audit", "--db", str(saved))
    assert code == 0
    for action in ("schema.created", "client.added", "knowledge.stored", "consultation.saved"):
        assert action in out
    assert "reception" in out
    data = json.loads(run(capsys, "audit", "--db", str(saved), "--format", "json")[1])
    assert [e["action"] for e in data][-1] == "consultation.saved"


def test_unusable_input_exits_2(saved: Path, tmp_path: Path, knowledge: Path, capsys: Capture):
    code, _, err = run(capsys, "list", "--db", str(tmp_path / "missing.sqlite3"))
    assert code == 2
    assert "no records database" in err
    assert not (tmp_path / "missing.sqlite3").exists()  # a read never creates a database
    code, _, err = run(capsys, "show", "9", "--db", str(saved))
    assert (code, err) == (2, "needlewise records: no client #9\n")
    code, _, err = run(capsys, "consultation", "9", "--db", str(saved))
    assert (code, err) == (2, "needlewise records: no consultation #9\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("client:\n  age: 400\n", encoding="utf-8")
    code, _, err = run(capsys, "save", "1", str(bad), "--practitioner", "x",
                       "--knowledge", str(knowledge), "--db", str(saved))  # fmt: skip
    assert code == 2
    assert "bad.yaml:2:" in err
    assert "case.implausible" in err
    code, _, err = run(capsys, "add-client", "X", "--dob", "03/02/1980", "--db", str(saved))
    assert code == 2
    assert "expected a date YYYY-MM-DD" in err
    other = tmp_path / "notes.txt"
    other.write_text("not a database\n" * 300, encoding="utf-8")
    other.chmod(0o600)
    code, _, err = run(capsys, "list", "--db", str(other))
    assert code == 2
    assert "not a needlewise records database" in err
    code, _, _ = run(capsys)
    assert code == 2
