"""The `needlewise` command: example cases, exit codes, located messages for bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from knowledge import DEFAULT_KNOWLEDGE
from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize(
    ("example", "decision"),
    [
        ("clean-client.yaml", "PROCEED"),
        ("anticoagulated.yaml", "REFER_FOR_CLEARANCE"),
        ("pregnant.yaml", "DEFER"),
        ("eczema-forearms.yaml", "PROCEED"),
        ("deep-cheeks.yaml", "PROCEED_WITH_MODIFICATIONS"),
    ],
)
def test_examples_give_their_decisions(
    example: str, decision: str, capsys: pytest.CaptureFixture[str]
):
    assert main(["assess", str(EXAMPLES / example), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["contract"] == "assessment/v1"
    assert out["decision"] == decision
    assert out["knowledge"]["name"] == "microneedling"
    assert len(out["knowledge"]["hash"]) == 64
    assert "not a diagnosis" in out["disclaimer"]


def test_text_report_puts_the_decision_first(capsys: pytest.CaptureFixture[str]):
    assert main(["assess", str(EXAMPLES / "anticoagulated.yaml"), "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("DECISION: REFER_FOR_CLEARANCE")
    assert "ANTICOAG_ANTIPLATELET" in out
    assert "\x1b[" not in out


def test_colour_is_used_when_asked(capsys: pytest.CaptureFixture[str]):
    assert main(["assess", str(EXAMPLES / "pregnant.yaml"), "--color", "always"]) == 0
    assert "\x1b[31;1mDECISION: DEFER" in capsys.readouterr().out


def test_a_case_test_file_can_be_assessed(capsys: pytest.CaptureFixture[str]):
    case = next((DEFAULT_KNOWLEDGE / "cases").glob("*.yaml"))
    assert main(["assess", str(case), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["contract"] == "assessment/v1"


def test_bad_case_is_located_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    case = tmp_path / "bad.yaml"
    case.write_text(
        "client:\n  age: 300\n  pregnent: false\nplan:\n  device: laser\n", encoding="utf-8"
    )
    assert main(["assess", str(case)]) == 2
    err = capsys.readouterr().err
    assert f"{case}:2:8: error case.implausible" in err
    assert f"{case}:3:3: error case.unknown_key: unknown key 'pregnent'" in err
    assert "did you mean 'pregnant'" in err
    assert f"{case}:5:11: error case.bad_value" in err


def test_case_with_yaml_syntax_error_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    case = tmp_path / "broken.yaml"
    case.write_text("client: {age: 30\nplan: x\n", encoding="utf-8")
    assert main(["assess", str(case)]) == 2
    assert "error yaml.syntax" in capsys.readouterr().err


def test_missing_case_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["assess", str(tmp_path / "nope.yaml")]) == 2
    assert "file.unreadable" in capsys.readouterr().err


def test_bad_knowledge_is_located_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    kb = tmp_path / "kb"
    shutil.copytree(DEFAULT_KNOWLEDGE, kb)
    rules = min((kb / "rules").glob("*.yaml"))
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("sources: [", "sourcez: [", 1), encoding="utf-8")
    line = next(i for i, row in enumerate(rules.read_text().splitlines(), 1) if "sourcez" in row)
    assert main(["assess", str(EXAMPLES / "clean-client.yaml"), "--knowledge", str(kb)]) == 2
    err = capsys.readouterr().err
    assert f"{rules}:{line}:" in err
    assert "schema.unknown_key: unknown key 'sourcez'" in err


def test_check_passes_on_the_shipped_knowledge(capsys: pytest.CaptureFixture[str]):
    assert main(["check"]) == 0
    assert "0 errors" in capsys.readouterr().out


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]):
    assert main(["assess"]) == 2
    assert "usage" in capsys.readouterr().err


def test_explain_finding_text_and_json(capsys: pytest.CaptureFixture[str]):
    case = str(EXAMPLES / "anticoagulated.yaml")
    assert main(["explain", case, "--finding", "ANTICOAG_ANTIPLATELET"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("HOW finding ANTICOAG_ANTIPLATELET")
    assert "'Eliquis' -> apixaban" in out
    assert main(["explain", case, "--finding", "ANTICOAG_ANTIPLATELET", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["target"] == "finding ANTICOAG_ANTIPLATELET"
    assert data["nodes"][0]["rule"]["sources"]


def test_explain_why_not_what_if_suggest_why_asked(capsys: pytest.CaptureFixture[str]):
    case = str(EXAMPLES / "deep-cheeks.yaml")
    assert main(["explain", case, "--why-not", "PREGNANCY"]) == 0
    assert "FAIL" in capsys.readouterr().out
    assert main(["explain", case, "--set", "plan.areas.cheeks.depth_mm=1.0"]) == 0
    assert "depth cheeks: exceeds_hard -> within" in capsys.readouterr().out
    assert main(["explain", case, "--suggest", "--format", "markdown"]) == 0
    assert "## SUGGESTIONS" in capsys.readouterr().out
    assert main(["explain", case, "--why-asked", "client.pregnant"]) == 0
    assert "contra.pregnancy" in capsys.readouterr().out


def test_explain_rejects_unknown_targets(capsys: pytest.CaptureFixture[str]):
    case = str(EXAMPLES / "clean-client.yaml")
    assert main(["explain", case, "--finding", "PREGNANCY"]) == 2
    assert "not raised" in capsys.readouterr().err
    assert main(["explain", case, "--why-not", "NOPE"]) == 2
    assert main(["explain", case, "--set", "nonsense"]) == 2
