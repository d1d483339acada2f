"""needlewise engine: knowledge as data -> durable_rules -> assessment with justification.

The facade: ``load_knowledge``, ``compile_knowledge``, ``load_case``, ``Assessor`` and ``assess``.
"""

from __future__ import annotations

from engine.assessment import Assessor
from engine.case import Case, case_from_data, load_case, parse_case_text
from engine.compile import CompiledKnowledge, compile_knowledge
from engine.errors import (
    AssessmentError,
    CaseError,
    EngineError,
    InputError,
    KnowledgeError,
    Problem,
)
from engine.knowledge import Knowledge, load_knowledge
from engine.result import Assessment

__all__ = [
    "Assessment",
    "AssessmentError",
    "Assessor",
    "Case",
    "CaseError",
    "CompiledKnowledge",
    "EngineError",
    "InputError",
    "Knowledge",
    "KnowledgeError",
    "Problem",
    "assess",
    "case_from_data",
    "compile_knowledge",
    "load_case",
    "load_knowledge",
    "parse_case_text",
]


def assess(assessor: Assessor, case: Case) -> Assessment:
    """Assess one validated case with an assessor built on compiled knowledge."""
    return assessor.assess(case)
