"""Golden problem reports: seeded bad knowledges and their exact ``KnowledgeError.format()`` text.

Each ``tests/golden/problems/<name>.yaml`` lists textual edits to a copy of the mini knowledge;
``<name>.problems.txt`` holds the expected report with paths relative to the knowledge root.
Rewrite the reports with ``UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.errors import KnowledgeError
from engine.knowledge import load_knowledge

GOLDEN = Path(__file__).parents[1] / "golden" / "problems"
SEEDS = sorted(GOLDEN.glob("*.yaml"))


def _edits(seed: Path) -> list[tuple[str, str, str]]:
    spec: dict[str, Any] = yaml.safe_load(seed.read_text(encoding="utf-8"))
    return [(e["file"], e["replace"], e["with"]) for e in spec["edits"]]


def test_there_are_golden_problem_reports():
    assert [s.stem for s in SEEDS] == ["all-at-once", "references", "schema"]


@pytest.mark.parametrize("seed", SEEDS, ids=[s.stem for s in SEEDS])
def test_problem_report_matches_golden(seed: Path, seed_mistakes, golden):
    root = seed_mistakes(*_edits(seed), name=seed.stem)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    text = info.value.format().replace(f"{root}/", "").replace(f"{root.resolve()}/", "")
    assert str(root) not in text
    golden(seed.with_suffix(".problems.txt"), text + "\n")
