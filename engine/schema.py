"""JSON Schemas of every knowledge file kind, generated from the typed model (engine/model.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from engine.casetest import DECISIONS, VERDICTS
from engine.knowledge import Knowledge
from engine.model import (
    CatalogueFile,
    ConsistencyFile,
    DepthFile,
    FieldSpec,
    Manifest,
    Policy,
    RuleFile,
    SitesFile,
    SourceFile,
    TerminologyFile,
    VocabularyFile,
)

SCHEMAS: dict[str, type[BaseModel]] = {
    "manifest": Manifest,
    "sources": SourceFile,
    "catalogue": CatalogueFile,
    "vocabulary": VocabularyFile,
    "sites": SitesFile,
    "terminology": TerminologyFile,
    "rules": RuleFile,
    "depth": DepthFile,
    "policy": Policy,
    "consistency": ConsistencyFile,
}
"""Schema name (``<name>.schema.json``) -> the model of that file kind."""


def schema_documents(knowledge: Knowledge | None = None) -> dict[str, str]:
    """File name -> schema text (stable formatting, so staleness is a plain text comparison).

    With ``knowledge``, the case and case-test schemas of its vocabulary are included.
    """
    out: dict[str, str] = {} if knowledge is None else knowledge_schema_documents(knowledge)
    for name, model in SCHEMAS.items():
        schema: dict[str, Any] = model.model_json_schema(by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"needlewise/{name}.schema.json"
        out[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_schemas(directory: Path, knowledge: Knowledge | None = None) -> list[Path]:
    """Write every schema into ``directory``; return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in schema_documents(knowledge).items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(directory: Path, knowledge: Knowledge | None = None) -> list[str]:
    """Names of schema files that are missing or differ from the model."""
    return [
        name
        for name, text in schema_documents(knowledge).items()
        if not (directory / name).is_file()
        or (directory / name).read_text(encoding="utf-8") != text
    ]


def _field_schema(knowledge: Knowledge, spec: FieldSpec) -> dict[str, Any]:
    schema: dict[str, Any]
    if spec.type == "boolean":
        schema = {"type": ["boolean", "null"]}
    elif spec.type in {"integer", "number"}:
        schema = {"type": [spec.type, "null"]}
        if spec.min is not None:
            schema["minimum"] = spec.min
        if spec.max is not None:
            schema["maximum"] = spec.max
        if spec.aliases:
            schema = {"anyOf": [schema, {"enum": sorted(spec.aliases)}]}
    elif spec.type == "enum":
        schema = {"enum": [*(spec.values or []), None]}
    elif spec.type == "term":
        names = sorted(t.id for t in knowledge.terminology.terms.values() if t.kind in spec.terms)
        schema = {"type": ["string", "null"], "examples": names}
    elif spec.type == "site":
        schema = {"type": ["string", "null"], "examples": sorted(knowledge.sites)}
    elif spec.type == "date":
        schema = {"type": ["string", "null"], "format": "date"}
    else:
        schema = {"type": ["string", "null"]}
    text = " ".join(part for part in (spec.question, spec.help) if part)
    if text:
        schema["description"] = text
    return schema


def case_schema(knowledge: Knowledge) -> dict[str, Any]:
    """JSON Schema of a case file for this knowledge's vocabulary (DESIGN.md section 3)."""
    objects: dict[str, dict[str, Any]] = {
        "client": {"type": "object", "properties": {}, "additionalProperties": False},
        "plan": {"type": "object", "properties": {}, "additionalProperties": False},
    }
    for spec in knowledge.vocabulary.specs.values():
        root, _, rest = spec.source.partition(".")
        props = objects[root]["properties"]
        fields = {n: _field_schema(knowledge, f) for n, f in spec.fields.items()}
        if spec.entries:
            entry: dict[str, Any] = {
                "type": "object",
                "properties": fields,
                "additionalProperties": False,
            }
            if spec.scalar_field is not None:
                entry = {"anyOf": [fields[spec.scalar_field], entry]}
            props[rest] = {"type": ["array", "null"], "items": entry, "description": spec.title}
        elif spec.scalar_field is not None:
            props[rest] = fields[spec.scalar_field]
        elif rest:
            props[rest] = {
                "type": ["object", "null"],
                "properties": fields,
                "additionalProperties": False,
                "description": spec.title,
            }
        else:
            props.update(fields)
    codes = sorted(knowledge.catalogue)
    record = {"code": {"enum": codes}, "by": {"type": "string"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"needlewise/{knowledge.name}/case.schema.json",
        "title": f"{knowledge.name} case file (v1)",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "consultation_date": {"type": "string", "format": "date"},
            "practitioner": {"type": ["object", "null"]},
            "client": objects["client"],
            "plan": objects["plan"],
            "clearances": {
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "properties": {
                        **record,
                        "date": {"type": "string", "format": "date"},
                        "note": {"type": "string"},
                    },
                    "required": ["code", "by"],
                    "additionalProperties": False,
                },
            },
            "overrides": {
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "properties": {**record, "reason": {"type": "string"}},
                    "required": ["code", "by", "reason"],
                    "additionalProperties": False,
                },
            },
        },
    }


def case_test_schema(knowledge: Knowledge) -> dict[str, Any]:
    """JSON Schema of a knowledge case test: note + case + expect."""
    codes = sorted(knowledge.catalogue)
    levels = ["absolute", "relative", "caution", "info"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"needlewise/{knowledge.name}/case-test.schema.json",
        "type": "object",
        "additionalProperties": False,
        "required": ["case", "expect"],
        "properties": {
            "note": {"type": "string"},
            "case": case_schema(knowledge),
            "expect": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "decision": {"enum": list(DECISIONS)},
                    "provisional": {"type": "boolean"},
                    "findings": {
                        "type": "object",
                        "propertyNames": {"enum": codes},
                        "additionalProperties": {"enum": [*levels, None]},
                    },
                    "absent": {"type": "array", "items": {"enum": codes}},
                    "depth": {
                        "type": "object",
                        "additionalProperties": {"enum": list(VERDICTS)},
                    },
                    "missing": {"type": "array", "items": {"type": "string"}},
                    "unrecognized": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    }


def knowledge_schema_documents(knowledge: Knowledge) -> dict[str, str]:
    """The case and case-test schemas of one knowledge base."""
    return {
        "case.schema.json": json.dumps(case_schema(knowledge), indent=2, sort_keys=True) + "\n",
        "case-test.schema.json": json.dumps(case_test_schema(knowledge), indent=2, sort_keys=True)
        + "\n",
    }
