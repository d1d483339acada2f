"""docs/seed-coverage.md maps every seed statement to the rules that encode it; keep it honest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import load_knowledge
from knowledge import DEFAULT_KNOWLEDGE

TABLE = Path(__file__).resolve().parent.parent / "docs" / "seed-coverage.md"
RULE_ID = re.compile(r"`([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)`")


def _rows() -> list[tuple[int, str, list[str]]]:
    """(line number, statement, rule ids) for every data row of the coverage table."""
    rows = []
    header_seen = False
    for number, line in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header_seen:
            header_seen = True  # the header row
            assert cells[-1].lower().startswith("rule"), (
                f"last column must be the rule ids: {cells}"
            )
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the separator row
        rows.append((number, cells[2] if len(cells) > 2 else line, RULE_ID.findall(cells[-1])))
    return rows


ROWS = _rows()
KNOWLEDGE = load_knowledge(DEFAULT_KNOWLEDGE)


def test_the_table_covers_the_seed():
    assert len(ROWS) >= 40, f"only {len(ROWS)} seed statements mapped"


@pytest.mark.parametrize(("line", "statement", "ids"), ROWS, ids=[f"line{r[0]}" for r in ROWS])
def test_every_row_names_existing_rules(line: int, statement: str, ids: list[str]):
    assert ids, f"{TABLE.name}:{line}: no rule id for {statement!r}"
    unknown = [i for i in ids if i not in KNOWLEDGE.rule_index]
    assert not unknown, f"{TABLE.name}:{line}: unknown rule ids {unknown}"


def test_seed_rules_cite_the_seed_or_a_stronger_source():
    """A rule said to encode a seed statement actually rests on sources (the seed or stronger)."""
    for _, _, ids in ROWS:
        for rule_id in ids:
            assert KNOWLEDGE.rule_index[rule_id].sources, rule_id
