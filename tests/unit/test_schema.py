"""The JSON Schemas in knowledge/schema/ are generated from the model and must not be stale."""

from __future__ import annotations

import json

from engine import load_knowledge
from engine.schema import SCHEMAS, schema_documents, stale_schemas
from knowledge import DEFAULT_KNOWLEDGE, KNOWLEDGE_ROOT


def test_schemas_are_up_to_date():
    stale = stale_schemas(KNOWLEDGE_ROOT / "schema", load_knowledge(DEFAULT_KNOWLEDGE))
    assert not stale, f"stale JSON Schemas {stale}: run `.venv/bin/needlewise schema` and commit"


def test_every_file_kind_has_a_schema():
    docs = schema_documents()
    assert set(docs) == {f"{name}.schema.json" for name in SCHEMAS}
    with_cases = schema_documents(load_knowledge(DEFAULT_KNOWLEDGE))
    case = json.loads(with_cases["case.schema.json"])
    assert "pregnant" in case["properties"]["client"]["properties"]
    assert case["properties"]["plan"]["properties"]["areas"]["type"] == ["array", "null"]
    rules = json.loads(docs["rules.schema.json"])
    assert "rules" in rules["properties"]


def test_modelines_point_at_existing_schemas():
    missing = []
    for path in KNOWLEDGE_ROOT.glob("*/**/*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[:1]
        if first and first[0].startswith("# yaml-language-server: $schema="):
            target = (path.parent / first[0].split("=", 1)[1]).resolve()
            if not target.is_file():
                missing.append(f"{path.relative_to(KNOWLEDGE_ROOT)} -> {target.name}")
    assert not missing, missing
