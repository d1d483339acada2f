"""Every knowledge case test (knowledge/**/cases/*.yaml) runs here, cross-checked by the oracle."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Assessor, compile_knowledge, load_knowledge
from engine.casetest import compare, load_case_test
from knowledge import KNOWLEDGE_ROOT

CASES = sorted(KNOWLEDGE_ROOT.glob("*/cases/*.yaml"))


@pytest.fixture(scope="module")
def assessors() -> dict[Path, Assessor]:
    built: dict[Path, Assessor] = {}
    for root in {path.parent.parent for path in CASES}:
        built[root] = Assessor(compile_knowledge(load_knowledge(root)))
    return built


def test_there_are_case_tests():
    assert CASES, "no knowledge case tests found"


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_case(path: Path, assessors: dict[Path, Assessor]):
    assessor = assessors[path.parent.parent]
    test = load_case_test(assessor.knowledge, path)
    result = assessor.assess(test.case, verify=True)
    failures = compare(test.expect, result)
    assert not failures, f"{test.note}\n  " + "\n  ".join(failures)
